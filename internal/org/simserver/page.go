package simserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"reflect"
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
// the cursor has expired or was dropped to stay within the cache's bytes
// (cursor 0: never kept), the list is read again.
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
		cursor = s.cursors.put(items, sizeOf(items))
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

// DefaultPageCacheTTL is how long the list behind a NextToken is kept.
const DefaultPageCacheTTL = 5 * time.Minute

// DefaultPageCacheBytes bounds the (estimated) memory of the lists kept
// behind outstanding NextTokens.
const DefaultPageCacheBytes = 64 << 20

// cursors keeps the lists behind outstanding NextTokens, bounded by their
// estimated size in bytes and by age: a list expires ttl after it was
// read, the oldest lists are dropped first when a new one would exceed
// maxBytes, and a list larger than maxBytes on its own is not kept at all
// (its later pages are then cut from a fresh read). Count does not matter:
// a thousand small lists cost less than one of 10,000 accounts.
type cursors struct {
	mu       sync.Mutex
	now      func() time.Time
	ttl      time.Duration
	maxBytes int64

	next    uint64
	bytes   int64
	entries map[uint64]cursorEntry
	order   []uint64 // insertion order = expiry order (one TTL for all)
}

type cursorEntry struct {
	items   any
	size    int64
	expires time.Time
}

func newCursors(now func() time.Time, maxBytes int64, ttl time.Duration) *cursors {
	return &cursors{now: now, ttl: ttl, maxBytes: maxBytes, entries: map[uint64]cursorEntry{}}
}

// put keeps items (of estimated size bytes) and returns its cursor, or 0
// when it is too large to keep.
func (c *cursors) put(items any, size int64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked(c.now(), 0)
	if size > c.maxBytes {
		return 0
	}
	c.evictLocked(c.now(), size)
	c.next++
	id := c.next
	c.entries[id] = cursorEntry{items: items, size: size, expires: c.now().Add(c.ttl)}
	c.order = append(c.order, id)
	c.bytes += size
	return id
}

// evictLocked drops expired lists, then the oldest until room bytes more
// fit under the bound.
func (c *cursors) evictLocked(now time.Time, room int64) {
	for len(c.order) > 0 {
		id := c.order[0]
		e, ok := c.entries[id]
		if ok && !now.After(e.expires) && c.bytes+room <= c.maxBytes {
			break
		}
		c.order[0] = 0
		c.order = c.order[1:]
		if ok {
			delete(c.entries, id)
			c.bytes -= e.size
		}
	}
	if len(c.order) == 0 {
		c.order = nil // let the backing array go
	}
}

func (c *cursors) get(id uint64) any {
	if id == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil
	}
	if c.now().After(e.expires) {
		c.evictLocked(c.now(), 0)
		return nil
	}
	return e.items
}

// stats returns the number of lists kept and their estimated bytes.
func (c *cursors) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// PageCacheStats returns how many listings the server keeps for their
// next pages and their estimated size in bytes.
func (s *Server) PageCacheStats() (lists int, bytes int64) { return s.cursors.stats() }

// sizeOf estimates the bytes v occupies in memory: its own size plus
// what its strings, slices and maps point to. Pointers and interfaces
// are not followed (time.Time's location is shared).
func sizeOf(v any) int64 {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return 0
	}
	return int64(rv.Type().Size()) + indirectSize(rv)
}

func indirectSize(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		if hasIndirect(v.Type().Elem()) {
			for i := range v.Len() {
				n += indirectSize(v.Index(i))
			}
		}
		return n
	case reflect.Array:
		var n int64
		if hasIndirect(v.Type().Elem()) {
			for i := range v.Len() {
				n += indirectSize(v.Index(i))
			}
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += indirectSize(v.Field(i))
		}
		return n
	case reflect.Map:
		const bucketOverhead = 16 // per entry, roughly
		t := v.Type()
		n := int64(v.Len()) * (int64(t.Key().Size()) + int64(t.Elem().Size()) + bucketOverhead)
		it := v.MapRange()
		for it.Next() {
			n += indirectSize(it.Key()) + indirectSize(it.Value())
		}
		return n
	}
	return 0
}

// hasIndirect reports whether values of t can point to more memory that
// sizeOf counts.
func hasIndirect(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return true
	case reflect.Array:
		return hasIndirect(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasIndirect(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
