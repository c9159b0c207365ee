package simserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// pageReq is the paging part of a list request.
type pageReq struct {
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// Reasons of InvalidInputException used by the pager.
// https://docs.aws.amazon.com/organizations/latest/APIReference/API_InvalidInputException.html
const (
	reasonInvalidNextToken = "INVALID_NEXT_TOKEN"
	reasonMaxValueExceeded = "MAX_VALUE_EXCEEDED"
	reasonMinValueExceeded = "MIN_VALUE_EXCEEDED"
)

// page returns the items to answer with and the NextToken for the rest
// (nil on the last page). load reads the whole list.
//
// A token is bound to the operation and the request's other parameters
// (scope) and signed with the server's key, so a token from another
// listing, a forged or a truncated one is an InvalidInputException. It
// names a cursor: the list read for the first page is kept for a few
// minutes and later pages are cut from it, so paging through n items costs
// O(n), not O(n²/page), and the pages of one listing are consistent. When
// the cursor has expired the list is read again.
func page[T any](s *Server, op, scope string, p pageReq, load func() ([]T, error)) ([]T, *string, error) {
	size := s.opts.PageSize
	if p.MaxResults != nil {
		switch m := *p.MaxResults; {
		case m < 1:
			return nil, nil, apiErr(org.CodeInvalidInput, reasonMinValueExceeded, "MaxResults must be at least 1, got %d", m)
		case m > MaxPageSize:
			return nil, nil, apiErr(org.CodeInvalidInput, reasonMaxValueExceeded, "MaxResults must be at most %d, got %d", MaxPageSize, m)
		case m < size:
			size = m
		}
	}
	var (
		offset int
		cursor uint64
		items  []T
		cached bool
	)
	if p.NextToken != nil {
		var ok bool
		offset, cursor, ok = s.parseToken(op, scope, *p.NextToken)
		if !ok {
			return nil, nil, apiErr(org.CodeInvalidInput, reasonInvalidNextToken, "The NextToken is not valid for %s", op)
		}
		items, cached = s.cursors.get(cursor).([]T)
	}
	if !cached {
		var err error
		if items, err = load(); err != nil {
			return nil, nil, err
		}
	}
	if offset > len(items) {
		return nil, nil, apiErr(org.CodeInvalidInput, reasonInvalidNextToken, "The NextToken is not valid for %s", op)
	}
	end := min(offset+size, len(items))
	out := items[offset:end]
	if out == nil {
		out = []T{}
	}
	if end == len(items) {
		return out, nil, nil
	}
	if !cached {
		cursor = s.cursors.put(items)
	}
	tok := s.makeToken(op, scope, end, cursor)
	return out, &tok, nil
}

func (s *Server) tokenMAC(op, scope string, offset int, cursor uint64) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(op))
	m.Write([]byte{0})
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(strconv.Itoa(offset)))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatUint(cursor, 10)))
	return m.Sum(nil)[:16]
}

func (s *Server) makeToken(op, scope string, offset int, cursor uint64) string {
	buf := binary.AppendUvarint(nil, uint64(offset))
	buf = binary.AppendUvarint(buf, cursor)
	buf = append(buf, s.tokenMAC(op, scope, offset, cursor)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (s *Server) parseToken(op, scope, tok string) (offset int, cursor uint64, ok bool) {
	if len(tok) > 64 {
		return 0, 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, false
	}
	off, n := binary.Uvarint(raw)
	if n <= 0 || off > 1<<31 {
		return 0, 0, false
	}
	cur, m := binary.Uvarint(raw[n:])
	if m <= 0 || len(raw)-n-m != 16 {
		return 0, 0, false
	}
	if !hmac.Equal(raw[n+m:], s.tokenMAC(op, scope, int(off), cur)) {
		return 0, 0, false
	}
	return int(off), cur, true
}

// cursorTTL is how long the list behind a NextToken is kept.
const cursorTTL = 5 * time.Minute

// maxCursors bounds the lists kept at once; the oldest go first.
const maxCursors = 512

// cursors keeps the lists behind outstanding NextTokens.
type cursors struct {
	mu      sync.Mutex
	now     func() time.Time
	next    uint64
	entries map[uint64]cursorEntry
	order   []uint64 // insertion order, for eviction
}

type cursorEntry struct {
	items   any
	expires time.Time
}

func newCursors(now func() time.Time) *cursors {
	return &cursors{now: now, entries: map[uint64]cursorEntry{}}
}

func (c *cursors) put(items any) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := c.next
	c.entries[id] = cursorEntry{items: items, expires: c.now().Add(cursorTTL)}
	c.order = append(c.order, id)
	for len(c.order) > maxCursors {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
	return id
}

func (c *cursors) get(id uint64) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil
	}
	if c.now().After(e.expires) {
		delete(c.entries, id)
		return nil
	}
	return e.items
}
