// Package audit holds the logic of orgguard's hash-chained audit log: the
// canonical encoding an entry's hash is computed over, and verification of
// a stored chain. Storage of the entries is package store's.
//
// An entry's hash is the hex SHA-256 of its canonical encoding, which covers
// every field, the previous entry's hash included. Changing any field of any
// entry, deleting or reordering entries therefore breaks the chain at that
// entry; deleting entries at the end is caught by comparing the chain's end
// with the store's head checkpoint.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/store"
)

// TimeLayout is how an entry's time enters its hash: UTC, microseconds
// (the precision both SQLite and PostgreSQL keep).
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// encodingVersion starts every canonical encoding so that a future change
// of the encoding cannot collide with this one.
const encodingVersion = "orgguard-audit/1\n"

// Canonical returns the canonical encoding of e that its hash covers:
// a version line, then each field as its byte length, a colon, the bytes
// and a newline, in a fixed order (seq, at, actor, action, subject, detail,
// prev_hash). Length prefixes make the encoding unambiguous whatever the
// fields contain. e.Hash itself is not part of it.
func Canonical(e store.AuditEntry) []byte {
	var b bytes.Buffer
	b.WriteString(encodingVersion)
	field := func(v string) {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	field(strconv.FormatInt(e.Seq, 10))
	field(e.At.UTC().Format(TimeLayout))
	field(e.Actor)
	field(e.Action)
	field(e.Subject)
	field(string(e.Detail))
	field(e.PrevHash)
	return b.Bytes()
}

// Hash returns the hex SHA-256 of e's canonical encoding.
func Hash(e store.AuditEntry) string {
	sum := sha256.Sum256(Canonical(e))
	return hex.EncodeToString(sum[:])
}

// Seal fills in e.Hash from the rest of e, after normalising e.At to
// microseconds in UTC, and returns it.
func Seal(e store.AuditEntry) store.AuditEntry {
	e.At = e.At.UTC().Truncate(time.Microsecond)
	e.Hash = Hash(e)
	return e
}

// CanonicalJSON returns raw re-encoded compactly with object keys sorted
// and numbers kept as written, so that semantically equal details hash the
// same whatever their formatting. Empty input gives nil.
func CanonicalJSON(raw []byte) ([]byte, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decoding audit detail: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding audit detail: data after the first JSON value at offset %d", dec.InputOffset())
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding audit detail: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

// Source is what Verify reads: the store's audit entries and head.
type Source interface {
	ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
	AuditHead(ctx context.Context) (store.AuditHead, error)
}

// Anchor is a head recorded outside the store (a ticket, a log shipper, a
// printout): Verify checks that the chain still contains entry Seq with
// exactly this hash, which catches even a rewrite of the whole chain and
// its head checkpoint.
type Anchor struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// ParseAnchor parses "SEQ:HASH" as printed by `orgguard audit verify`.
func ParseAnchor(s string) (Anchor, error) {
	seqText, hash, ok := bytes.Cut([]byte(s), []byte(":"))
	if !ok {
		return Anchor{}, fmt.Errorf("parsing anchor %q: want SEQ:HASH", s)
	}
	seq, err := strconv.ParseInt(string(seqText), 10, 64)
	if err != nil || seq < 1 {
		return Anchor{}, fmt.Errorf("parsing anchor %q: sequence number %q is not a positive integer", s, seqText)
	}
	if len(hash) != sha256.Size*2 {
		return Anchor{}, fmt.Errorf("parsing anchor %q: hash has %d characters, want %d hex digits", s, len(hash), sha256.Size*2)
	}
	if _, err := hex.DecodeString(string(hash)); err != nil {
		return Anchor{}, fmt.Errorf("parsing anchor %q: hash is not hexadecimal", s)
	}
	return Anchor{Seq: seq, Hash: string(bytes.ToLower(hash))}, nil
}

// String formats a as ParseAnchor reads it.
func (a Anchor) String() string { return strconv.FormatInt(a.Seq, 10) + ":" + a.Hash }

// Break is where and why a chain is broken.
type Break struct {
	Seq    int64  `json:"seq"`    // the first sequence number that does not verify
	Reason string `json:"reason"` // what is wrong there
}

// Report is the outcome of Verify.
type Report struct {
	Entries int64           `json:"entries"`         // entries read
	Last    Anchor          `json:"last"`            // the last entry that verified
	Head    store.AuditHead `json:"head"`            // the store's checkpoint
	Break   *Break          `json:"break,omitempty"` // nil when the chain is intact
}

// Intact reports whether the chain verified.
func (r Report) Intact() bool { return r.Break == nil }

// pageSize is how many entries Verify reads at a time.
const pageSize = 1000

// Verify reads the whole chain from src in sequence order and recomputes it:
// sequence numbers must run 1, 2, 3 ... without gaps, each entry's PrevHash
// must be the previous entry's Hash, each Hash must be the hash of the entry,
// and the last entry must match the head checkpoint. The first violation is
// reported as r.Break; the error is only for failures to read. Anchors, if
// given, must each be found in the chain with the same hash.
func Verify(ctx context.Context, src Source, anchors ...Anchor) (Report, error) {
	var r Report
	head, err := src.AuditHead(ctx)
	if err != nil {
		return r, fmt.Errorf("reading the audit head: %w", err)
	}
	r.Head = head
	want := map[int64]string{}
	for _, a := range anchors {
		want[a.Seq] = a.Hash
	}
	brk := func(seq int64, format string, args ...any) (Report, error) {
		r.Break = &Break{Seq: seq, Reason: fmt.Sprintf(format, args...)}
		return r, nil
	}
	var after int64
	prev := ""
	for {
		page, err := src.ListAudit(ctx, store.AuditQuery{AfterSeq: after, Limit: pageSize})
		if err != nil {
			return r, fmt.Errorf("reading audit entries after %d: %w", after, err)
		}
		for _, e := range page {
			next := r.Last.Seq + 1
			switch {
			case e.Unreadable != "":
				return brk(e.Seq, "entry %d was altered: %s", e.Seq, e.Unreadable)
			case e.Seq != next:
				return brk(next, "entry %d is missing (the next stored entry is %d)", next, e.Seq)
			case e.PrevHash != prev:
				return brk(e.Seq, "entry %d does not follow entry %d: its prev_hash is %s, entry %d's hash is %s",
					e.Seq, next-1, short(e.PrevHash), next-1, short(prev))
			}
			if got := Hash(e); got != e.Hash {
				return brk(e.Seq, "entry %d was altered: its content hashes to %s, the stored hash is %s",
					e.Seq, short(got), short(e.Hash))
			}
			if h, ok := want[e.Seq]; ok && h != e.Hash {
				return brk(e.Seq, "entry %d differs from the anchor: anchored hash %s, stored hash %s",
					e.Seq, short(h), short(e.Hash))
			}
			delete(want, e.Seq)
			r.Entries++
			r.Last = Anchor{Seq: e.Seq, Hash: e.Hash}
			prev = e.Hash
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}
	switch {
	case head.Seq < 0:
		return brk(r.Last.Seq+1, "the head checkpoint is missing: entries after %d may have been deleted", r.Last.Seq)
	case head.Seq > r.Last.Seq:
		return brk(r.Last.Seq+1, "entries %d to %d are missing: the head checkpoint is at entry %d but the chain ends at %d",
			r.Last.Seq+1, head.Seq, head.Seq, r.Last.Seq)
	case head.Seq < r.Last.Seq:
		return brk(head.Seq+1, "entry %d is beyond the head checkpoint (entry %d): entries were added outside the store or the head was rewound",
			head.Seq+1, head.Seq)
	case head.Hash != r.Last.Hash:
		return brk(head.Seq, "entry %d does not match the head checkpoint: head hash %s, entry hash %s",
			head.Seq, short(head.Hash), short(r.Last.Hash))
	}
	if len(want) > 0 {
		missing := int64(-1)
		for seq := range want {
			if missing < 0 || seq < missing {
				missing = seq
			}
		}
		return brk(missing, "anchored entry %d is missing: the chain ends at %d", missing, r.Last.Seq)
	}
	return r, nil
}

// short abbreviates a hash for chain-break messages: digest.Short with an
// ellipsis when it cut something, and `""` for the empty prev_hash of the
// first entry.
func short(h string) string {
	if h == "" {
		return `""`
	}
	if s := digest.Short(h); s != h {
		return s + "…"
	}
	return h
}
