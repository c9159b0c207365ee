package impact

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
)

// ErrUnsupportedFloat is returned by AppendJSON for a NaN or infinite
// share, which JSON cannot hold (encoding/json refuses it too).
var ErrUnsupportedFloat = errors.New("NaN or infinite number")

// AppendJSON appends the JSON encoding of a to dst: byte for byte what
// encoding/json's Marshal writes for it (HTML characters escaped, fields
// in declaration order, omitempty honoured), without reflection and
// without allocating for the plain ASCII text that IDs, names and paths
// are. A plan of a deny-all on 10,000 accounts holds 8 MB of these, which
// its hash covers; TestAppendJSONMatchesMarshal and FuzzAppendJSON hold
// it to encoding/json, and TestAppendJSONKnowsEveryField fails when a
// field is added to AccountImpact, Counts or CriticalLoss without
// teaching it here.
func (a *AccountImpact) AppendJSON(dst []byte) ([]byte, error) {
	if math.IsNaN(a.NewlyDeniedShare) || math.IsInf(a.NewlyDeniedShare, 0) {
		return dst, ErrUnsupportedFloat
	}
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, a.ID)
	dst = append(dst, `,"name":`...)
	dst = appendString(dst, a.Name)
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, a.Path)
	dst = append(dst, ',')
	dst = a.Counts.appendFields(dst)
	dst = append(dst, `,"scp":{`...)
	dst = a.SCP.appendFields(dst)
	dst = append(dst, `},"rcp":{`...)
	dst = a.RCP.appendFields(dst)
	dst = append(dst, `},"criticalLost":`...)
	if a.CriticalLost == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range a.CriticalLost {
			if i > 0 {
				dst = append(dst, ',')
			}
			c := &a.CriticalLost[i]
			dst = append(dst, `{"pattern":`...)
			dst = appendString(dst, c.Pattern)
			dst = append(dst, `,"count":`...)
			dst = strconv.AppendInt(dst, int64(c.Count), 10)
			if len(c.Actions) > 0 {
				dst = append(dst, `,"actions":`...)
				dst = appendStrings(dst, c.Actions)
			}
			dst = append(dst, `,"all":`...)
			dst = strconv.AppendBool(dst, c.All)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if len(a.ServicesLost) > 0 {
		dst = append(dst, `,"servicesLost":`...)
		dst = appendStrings(dst, a.ServicesLost)
	}
	if a.DeniedEverything {
		dst = append(dst, `,"deniedEverything":true`...)
	}
	dst = append(dst, `,"newlyDeniedShare":`...)
	dst = appendFloat(dst, a.NewlyDeniedShare)
	dst = append(dst, `,"group":`...)
	dst = strconv.AppendInt(dst, int64(a.Group), 10)
	dst = append(dst, `,"presence":`...)
	dst = appendString(dst, a.Presence)
	return append(dst, '}'), nil
}

// appendFields appends c's members without the braces.
func (c *Counts) appendFields(dst []byte) []byte {
	dst = append(dst, `"newlyDenied":`...)
	dst = strconv.AppendInt(dst, int64(c.NewlyDenied), 10)
	dst = append(dst, `,"newlyConditional":`...)
	dst = strconv.AppendInt(dst, int64(c.NewlyConditional), 10)
	dst = append(dst, `,"newlyAllowed":`...)
	dst = strconv.AppendInt(dst, int64(c.NewlyAllowed), 10)
	dst = append(dst, `,"partlyRestored":`...)
	return strconv.AppendInt(dst, int64(c.PartlyRestored), 10)
}

func appendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// appendString appends s as a JSON string. Printable ASCII other than the
// quote, the backslash and <, > and & is copied; a string with anything
// else is left to encoding/json, which knows its escapes (control
// characters, HTML characters, U+2028 and U+2029, invalid UTF-8).
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always encodes
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// appendFloat appends f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form only below 1e-6 or from
// 1e21 on, with a two-digit negative exponent shortened (1e-07 → 1e-7).
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
