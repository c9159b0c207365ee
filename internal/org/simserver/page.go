package simserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"

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

// page returns the slice of items to answer with and the NextToken for the
// rest ("" on the last page). A token is bound to the operation and to the
// request's other parameters (scope) and signed, so a token from another
// listing, a forged or a truncated one is an InvalidInputException.
func page[T any](s *Server, op, scope string, p pageReq, items []T) ([]T, *string, error) {
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
	offset := 0
	if p.NextToken != nil {
		off, ok := s.parseToken(op, scope, *p.NextToken)
		if !ok || off > len(items) {
			return nil, nil, apiErr(org.CodeInvalidInput, reasonInvalidNextToken, "The NextToken is not valid for %s", op)
		}
		offset = off
	}
	end := min(offset+size, len(items))
	out := items[offset:end]
	if out == nil {
		out = []T{}
	}
	if end == len(items) {
		return out, nil, nil
	}
	tok := s.makeToken(op, scope, end)
	return out, &tok, nil
}

func (s *Server) tokenMAC(op, scope string, offset int) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(op))
	m.Write([]byte{0})
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(strconv.Itoa(offset)))
	return m.Sum(nil)[:16]
}

func (s *Server) makeToken(op, scope string, offset int) string {
	buf := binary.AppendUvarint(nil, uint64(offset))
	buf = append(buf, s.tokenMAC(op, scope, offset)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func (s *Server) parseToken(op, scope, tok string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) > 32 {
		return 0, false
	}
	off, n := binary.Uvarint(raw)
	if n <= 0 || off > 1<<31 || len(raw)-n != 16 {
		return 0, false
	}
	if !hmac.Equal(raw[n:], s.tokenMAC(op, scope, int(off))) {
		return 0, false
	}
	return int(off), true
}
