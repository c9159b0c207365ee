package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/impact"
)

// encoding is a plan's compact JSON — json.Marshal's bytes — kept in
// three parts: head and tail are json.Marshal's encoding of the file
// without its blast radius's accounts, split where that list's null
// stands, and the accounts (nearly all of a large plan: 8 MB of a 9 MB
// deny-all on 10,000 accounts) are written between them by
// impact.AccountImpact.AppendJSON, which writes what json.Marshal would.
// So a plan is hashed by streaming it into the hash, and written by
// streaming it to its reader, without a copy of it in memory.
type encoding struct {
	head, tail []byte
	accounts   []impact.AccountImpact // written between head and tail, unless whole
	whole      bool                   // tail is the whole encoding
}

// hashSuffix ends the encoding hashed: PlanHash is the last field, empty.
const hashSuffix = `"planHash":""}`

// accountsNull is how the accounts' list is written when it is nil.
const accountsNull = `"accounts":null`

// encodeUnhashed encodes f with PlanHash empty.
func (f *File) encodeUnhashed() (encoding, error) {
	c := *f
	c.PlanHash = ""
	c.enc = nil
	accounts := c.Impact.Accounts
	c.Impact.Accounts = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return encoding{}, fmt.Errorf("encoding the plan: %w", err)
	}
	if accounts == nil {
		return encoding{tail: b, whole: true}, nil
	}
	// The accounts' null is the one place the list is written, unless
	// another "accounts" of the plan is null too (a group's, say); then,
	// and when an account cannot be written (a NaN share), json.Marshal
	// encodes the whole plan, or says why not.
	at := bytes.Index(b, []byte(accountsNull))
	if at < 0 || bytes.Contains(b[at+1:], []byte(accountsNull)) || !writable(accounts) {
		c.Impact.Accounts = accounts
		if b, err = json.Marshal(&c); err != nil {
			return encoding{}, fmt.Errorf("encoding the plan: %w", err)
		}
		return encoding{tail: b, whole: true}, nil
	}
	at += len(accountsNull) - len("null")
	return encoding{head: b[:at], tail: b[at+len("null"):], accounts: accounts}, nil
}

// writable reports whether every account can be written: JSON holds no
// NaN or infinite share (json.Marshal says so in its own words).
func writable(accounts []impact.AccountImpact) bool {
	for i := range accounts {
		if f := accounts[i].NewlyDeniedShare; math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// chunk is how much of the accounts' encoding is collected before it is
// handed on.
const chunk = 64 << 10

// writeTo writes the encoding to w, the accounts in chunks, with
// planHash's value set to hash (empty for the bytes hashed).
func (e *encoding) writeTo(w io.Writer, hash string) error {
	tail := e.tail
	if hash != "" {
		t, ok := bytes.CutSuffix(tail, []byte(hashSuffix))
		if !ok {
			return fmt.Errorf("encoding the plan: planHash is not its last field")
		}
		tail = t
	}
	if !e.whole {
		if _, err := w.Write(e.head); err != nil {
			return err
		}
		buf := make([]byte, 0, chunk+4<<10)
		buf = append(buf, '[')
		for i := range e.accounts {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = e.accounts[i].AppendJSON(buf); err != nil {
				return fmt.Errorf("encoding the plan: %w", err)
			}
			if len(buf) >= chunk {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
		buf = append(buf, ']')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if _, err := w.Write(tail); err != nil {
		return err
	}
	if hash != "" {
		if _, err := io.WriteString(w, `"planHash":"`+hash+`"}`); err != nil {
			return err
		}
	}
	return nil
}

// appendTo appends the encoding with planHash set to hash to dst.
func (e *encoding) appendTo(dst []byte, hash string) ([]byte, error) {
	if !e.whole && len(e.accounts) > 0 {
		// Room for the whole plan at once, from the first accounts' size.
		sample, n := []byte(nil), min(len(e.accounts), 64)
		for i := range n {
			sample, _ = e.accounts[i].AppendJSON(sample)
		}
		want := len(e.head) + len(e.tail) + len(hash) + len(sample)*len(e.accounts)/n*9/8 + len(e.accounts) + 2
		dst = slices.Grow(dst, want)
	}
	w := appender{b: dst}
	err := e.writeTo(&w, hash)
	return w.b, err
}

// appender is an io.Writer appending to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// hash is the digest of the encoding with PlanHash empty.
func (e *encoding) hash() (string, error) {
	h := sha256.New()
	if err := e.writeTo(h, ""); err != nil {
		return "", err
	}
	return digest.Format(h.Sum(nil)), nil
}
