package org

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeSnapshotFast decodes a snapshot document into s without
// reflection, for documents shaped as orgguard writes them: every key
// spelled exactly as its field's tag, no key twice in one object, no null,
// no negative or fractional numbers, no surrogate escapes, valid UTF-8.
// It reports false for anything else — every malformed document and every
// unknown field among them — and the caller then decodes data with
// encoding/json (DisallowUnknownFields), which accepts or refuses it and
// words and places the error as before. When it reports true, s holds
// exactly what encoding/json would have decoded (TestFastDecoderAgrees and
// FuzzFastDecoder hold it to that).
//
// The service lists (serviceAccess, delegatedAdministrators,
// resourcePolicy, createAccountStatuses, handshakes), small and rare, are
// only delimited here and decoded by encoding/json.
func decodeSnapshotFast(data []byte, s *Snapshot) bool {
	d := snapDecoder{b: data}
	d.snapshot(s)
	d.ws()
	return !d.bad && d.i == len(d.b)
}

// snapDecoder reads a JSON document from b at i. Where it gives up it sets
// bad, and every method returns at once from then on.
type snapDecoder struct {
	b   []byte
	i   int
	bad bool
	buf []byte // scratch for unescaping strings
	// seen holds the values that repeat across a snapshot (parents,
	// statuses, types, tags, attachments' policies), so that each is one
	// string however often it appears.
	seen map[string]string
}

func (d *snapDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\n', '\t', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat consumes c if it is next (white space skipped).
func (d *snapDecoder) eat(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// member moves to the next member of an object, n counting the members
// read so far (0 before the opening brace), and returns its key with the
// decoder at the value. It returns false at the end of the object, or
// when giving up. Keys come as they are in the document: a key with an
// escape or a non-ASCII byte gives up (encoding/json would unescape it and
// match it case-insensitively).
func (d *snapDecoder) member(n *int) ([]byte, bool) {
	if d.bad {
		return nil, false
	}
	if *n == 0 {
		if !d.eat('{') {
			d.bad = true
			return nil, false
		}
		if d.eat('}') {
			return nil, false
		}
	} else {
		if d.eat('}') {
			return nil, false
		}
		if !d.eat(',') {
			d.bad = true
			return nil, false
		}
	}
	*n++
	if !d.eat('"') {
		d.bad = true
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) && d.b[d.i] != '"' {
		if c := d.b[d.i]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			d.bad = true
			return nil, false
		}
		d.i++
	}
	if d.i >= len(d.b) {
		d.bad = true
		return nil, false
	}
	key := d.b[start:d.i]
	d.i++
	if !d.eat(':') {
		d.bad = true
		return nil, false
	}
	d.ws()
	return key, true
}

// elem moves to the next element of an array, n counting the elements
// read so far (0 before the opening bracket). It returns false at the end
// of the array, or when giving up.
func (d *snapDecoder) elem(n *int) bool {
	if d.bad {
		return false
	}
	if *n == 0 {
		if !d.eat('[') {
			d.bad = true
			return false
		}
		if d.eat(']') {
			return false
		}
	} else {
		if d.eat(']') {
			return false
		}
		if !d.eat(',') {
			d.bad = true
			return false
		}
	}
	*n++
	d.ws()
	return true
}

// list collects the elements of a long array in blocks and makes them one
// slice of the right length at the end: appending to one slice of 10,000
// accounts would copy it again and again as it grows, allocating several
// times its final size.
type list[T any] struct {
	blocks [][]T
	cur    []T
	n      int
}

// next returns a pointer to a new zero element.
func (l *list[T]) next() *T {
	if len(l.cur) == cap(l.cur) {
		if l.cur != nil {
			l.blocks = append(l.blocks, l.cur)
		}
		l.cur = make([]T, 0, min(16<<len(l.blocks), 1024))
	}
	var zero T
	l.cur = append(l.cur, zero)
	l.n++
	return &l.cur[len(l.cur)-1]
}

// slice returns the elements, in order: an empty slice, not nil, when
// there are none (as encoding/json decodes []).
func (l *list[T]) slice() []T {
	if len(l.blocks) == 0 && l.cur != nil {
		return l.cur[:len(l.cur):len(l.cur)]
	}
	out := make([]T, 0, l.n)
	for _, b := range l.blocks {
		out = append(out, b...)
	}
	return append(out, l.cur...)
}

// once records field bit in seen; a field named twice in one object
// gives up (encoding/json would decode both, into the same field).
func (d *snapDecoder) once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		d.bad = true
		return false
	}
	*seen |= bit
	return true
}

// str reads a string.
func (d *snapDecoder) str(out *string) {
	if d.bad || d.i >= len(d.b) || d.b[d.i] != '"' {
		d.bad = true
		return
	}
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			raw := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(raw) {
				d.bad = true // encoding/json replaces invalid bytes
				return
			}
			*out = string(raw)
			return
		case c == '\\':
			d.escaped(start, out)
			return
		case c < 0x20:
			d.bad = true
			return
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	d.bad = true
}

// shared reads a string that many elements repeat: it is stored once.
func (d *snapDecoder) shared(out *string) {
	if d.bad || d.i >= len(d.b) || d.b[d.i] != '"' {
		d.bad = true
		return
	}
	end := d.i + 1
	for end < len(d.b) {
		c := d.b[end]
		if c == '"' {
			break
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			d.str(out) // escapes and non-ASCII text: not worth sharing
			return
		}
		end++
	}
	if end >= len(d.b) {
		d.bad = true
		return
	}
	raw := d.b[d.i+1 : end]
	d.i = end + 1
	if v, ok := d.seen[string(raw)]; ok {
		*out = v
		return
	}
	if d.seen == nil {
		d.seen = make(map[string]string)
	}
	v := string(raw)
	d.seen[v] = v
	*out = v
}

// escaped finishes a string that has an escape at d.i; the string's
// content began at start.
func (d *snapDecoder) escaped(start int, out *string) {
	buf := append(d.buf[:0], d.b[start:d.i]...)
	defer func() { d.buf = buf[:0] }()
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(buf) {
				d.bad = true
				return
			}
			*out = string(buf)
			return
		case c < 0x20:
			d.bad = true
			return
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			d.bad = true
			return
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.b[d.i:])
			if !ok || (r >= 0xD800 && r < 0xE000) {
				d.bad = true // surrogates: encoding/json pairs or replaces them
				return
			}
			buf = utf8.AppendRune(buf, r)
			d.i += 4
		default:
			d.bad = true
			return
		}
	}
	d.bad = true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, h := range b[:4] {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | rune(h-'0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | rune(h-'a'+10)
		case h >= 'A' && h <= 'F':
			r = r<<4 | rune(h-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// integer reads a non-negative integer without fraction or exponent.
func (d *snapDecoder) integer(out *int) {
	if d.bad {
		return
	}
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	digits := d.b[start:d.i]
	if len(digits) == 0 || (len(digits) > 1 && digits[0] == '0') {
		d.bad = true
		return
	}
	if d.i < len(d.b) {
		if c := d.b[d.i]; c == '.' || c == 'e' || c == 'E' {
			d.bad = true
			return
		}
	}
	n, err := strconv.Atoi(string(digits))
	if err != nil {
		d.bad = true
		return
	}
	*out = n
}

func (d *snapDecoder) boolean(out *bool) {
	switch {
	case d.bad:
	case bytes.HasPrefix(d.b[d.i:], []byte("true")):
		*out = true
		d.i += 4
	case bytes.HasPrefix(d.b[d.i:], []byte("false")):
		*out = false
		d.i += 5
	default:
		d.bad = true
	}
}

// time reads a string and hands it, quotes included, to
// time.Time.UnmarshalJSON, as encoding/json does.
func (d *snapDecoder) time(out *time.Time) {
	if d.bad || d.i >= len(d.b) || d.b[d.i] != '"' {
		d.bad = true
		return
	}
	start := d.i
	d.i++
	for d.i < len(d.b) && d.b[d.i] != '"' {
		if c := d.b[d.i]; c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			d.bad = true
			return
		}
		d.i++
	}
	if d.i >= len(d.b) {
		d.bad = true
		return
	}
	d.i++
	if out.UnmarshalJSON(d.b[start:d.i]) != nil {
		d.bad = true
	}
}

// tags reads a map of strings. As with encoding/json, a key given twice
// keeps its last value, and {} is an empty map, not nil.
func (d *snapDecoder) tags(out *map[string]string) {
	m := make(map[string]string)
	for n := 0; ; {
		if d.bad || d.i >= len(d.b) {
			d.bad = true
			return
		}
		// Tag keys are data: they may hold escapes, so they are read as
		// strings, not as field names.
		if n == 0 {
			if !d.eat('{') {
				d.bad = true
				return
			}
			if d.eat('}') {
				break
			}
		} else {
			if d.eat('}') {
				break
			}
			if !d.eat(',') {
				d.bad = true
				return
			}
		}
		n++
		var k, v string
		d.ws()
		d.shared(&k)
		if d.bad || !d.eat(':') {
			d.bad = true
			return
		}
		d.ws()
		d.shared(&v)
		m[k] = v
	}
	*out = m
}

// skip moves past one value, checking only that its strings and brackets
// close; standard hands the bytes skipped to encoding/json, which checks
// the rest.
func (d *snapDecoder) skip() {
	depth := 0
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch c {
		case '"':
			d.i++
			for d.i < len(d.b) && d.b[d.i] != '"' {
				if d.b[d.i] == '\\' {
					d.i++
				}
				d.i++
			}
			if d.i >= len(d.b) {
				d.bad = true
				return
			}
			d.i++
		case '{', '[':
			depth++
			d.i++
		case '}', ']':
			if depth == 0 {
				return // the end of the enclosing value
			}
			depth--
			d.i++
		case ',', ' ', '\n', '\t', '\r':
			if depth == 0 {
				return
			}
			d.i++
		default:
			d.i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return
		}
	}
	if depth != 0 {
		d.bad = true
	}
}

// standard decodes the next value with a strict encoding/json decoder into
// v, a pointer to a zero value, as the decoder of the whole document would.
func (d *snapDecoder) standard(v any) {
	if d.bad || d.i >= len(d.b) || d.b[d.i] == 'n' {
		d.bad = true // null too: not worth matching encoding/json's rules for
		return
	}
	start := d.i
	d.skip()
	if d.bad {
		return
	}
	raw := d.b[start:d.i]
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(v) != nil || dec.InputOffset() != int64(len(raw)) {
		d.bad = true
	}
}

func (d *snapDecoder) snapshot(s *Snapshot) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "formatVersion":
			if d.once(&seen, 1<<0) {
				d.integer(&s.FormatVersion)
			}
		case "takenAt":
			if d.once(&seen, 1<<1) {
				d.time(&s.TakenAt)
			}
		case "source":
			if d.once(&seen, 1<<2) {
				d.str(&s.Source)
			}
		case "fingerprint":
			if d.once(&seen, 1<<3) {
				d.str(&s.Fingerprint)
			}
		case "organization":
			if d.once(&seen, 1<<4) {
				d.organization(&s.Organization)
			}
		case "root":
			if d.once(&seen, 1<<5) {
				d.root(&s.Root)
			}
		case "organizationalUnits":
			if d.once(&seen, 1<<6) {
				var l list[OU]
				for n := 0; d.elem(&n); {
					d.ou(l.next())
				}
				s.OUs = l.slice()
			}
		case "accounts":
			if d.once(&seen, 1<<7) {
				var l list[Account]
				for n := 0; d.elem(&n); {
					d.account(l.next())
				}
				s.Accounts = l.slice()
			}
		case "policies":
			if d.once(&seen, 1<<8) {
				var l list[Policy]
				for n := 0; d.elem(&n); {
					d.policy(l.next())
				}
				s.Policies = l.slice()
			}
		case "attachments":
			if d.once(&seen, 1<<9) {
				var l list[Attachment]
				for n := 0; d.elem(&n); {
					d.attachment(l.next())
				}
				s.Attachments = l.slice()
			}
		case "serviceAccess":
			if d.once(&seen, 1<<10) {
				d.standard(&s.ServiceAccess)
			}
		case "delegatedAdministrators":
			if d.once(&seen, 1<<11) {
				d.standard(&s.DelegatedAdministrators)
			}
		case "resourcePolicy":
			if d.once(&seen, 1<<12) {
				d.standard(&s.ResourcePolicy)
			}
		case "createAccountStatuses":
			if d.once(&seen, 1<<13) {
				d.standard(&s.CreateAccountStatuses)
			}
		case "handshakes":
			if d.once(&seen, 1<<14) {
				d.standard(&s.Handshakes)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) organization(o *Organization) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			if d.once(&seen, 1<<0) {
				d.str(&o.ID)
			}
		case "arn":
			if d.once(&seen, 1<<1) {
				d.str(&o.ARN)
			}
		case "featureSet":
			if d.once(&seen, 1<<2) {
				d.str(&o.FeatureSet)
			}
		case "managementAccountId":
			if d.once(&seen, 1<<3) {
				d.str(&o.ManagementAccountID)
			}
		case "managementAccountArn":
			if d.once(&seen, 1<<4) {
				d.str(&o.ManagementAccountARN)
			}
		case "managementAccountEmail":
			if d.once(&seen, 1<<5) {
				d.str(&o.ManagementAccountEmail)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) root(r *Root) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			if d.once(&seen, 1<<0) {
				d.str(&r.ID)
			}
		case "arn":
			if d.once(&seen, 1<<1) {
				d.str(&r.ARN)
			}
		case "name":
			if d.once(&seen, 1<<2) {
				d.str(&r.Name)
			}
		case "policyTypes":
			if d.once(&seen, 1<<3) {
				r.PolicyTypes = []PolicyTypeStatus{}
				for n := 0; d.elem(&n); {
					r.PolicyTypes = append(r.PolicyTypes, PolicyTypeStatus{})
					d.policyType(&r.PolicyTypes[len(r.PolicyTypes)-1])
				}
			}
		case "tags":
			if d.once(&seen, 1<<4) {
				d.tags(&r.Tags)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) policyType(t *PolicyTypeStatus) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "type":
			if d.once(&seen, 1<<0) {
				d.str((*string)(&t.Type))
			}
		case "status":
			if d.once(&seen, 1<<1) {
				d.str(&t.Status)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) ou(o *OU) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			if d.once(&seen, 1<<0) {
				d.str(&o.ID)
			}
		case "arn":
			if d.once(&seen, 1<<1) {
				d.str(&o.ARN)
			}
		case "name":
			if d.once(&seen, 1<<2) {
				d.str(&o.Name)
			}
		case "parentId":
			if d.once(&seen, 1<<3) {
				d.shared(&o.ParentID)
			}
		case "tags":
			if d.once(&seen, 1<<4) {
				d.tags(&o.Tags)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) account(a *Account) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			if d.once(&seen, 1<<0) {
				d.str(&a.ID)
			}
		case "arn":
			if d.once(&seen, 1<<1) {
				d.str(&a.ARN)
			}
		case "name":
			if d.once(&seen, 1<<2) {
				d.str(&a.Name)
			}
		case "email":
			if d.once(&seen, 1<<3) {
				d.str(&a.Email)
			}
		case "status":
			if d.once(&seen, 1<<4) {
				d.shared(&a.Status)
			}
		case "parentId":
			if d.once(&seen, 1<<5) {
				d.shared(&a.ParentID)
			}
		case "joinedAt":
			if d.once(&seen, 1<<6) {
				d.time(&a.JoinedAt)
			}
		case "tags":
			if d.once(&seen, 1<<7) {
				d.tags(&a.Tags)
			}
		case "closedAt":
			if d.once(&seen, 1<<8) {
				d.time(&a.ClosedAt)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) policy(p *Policy) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "id":
			if d.once(&seen, 1<<0) {
				d.str(&p.ID)
			}
		case "arn":
			if d.once(&seen, 1<<1) {
				d.str(&p.ARN)
			}
		case "name":
			if d.once(&seen, 1<<2) {
				d.str(&p.Name)
			}
		case "description":
			if d.once(&seen, 1<<3) {
				d.str(&p.Description)
			}
		case "type":
			if d.once(&seen, 1<<4) {
				d.shared((*string)(&p.Type))
			}
		case "awsManaged":
			if d.once(&seen, 1<<5) {
				d.boolean(&p.AWSManaged)
			}
		case "content":
			if d.once(&seen, 1<<6) {
				d.str(&p.Content)
			}
		case "tags":
			if d.once(&seen, 1<<7) {
				d.tags(&p.Tags)
			}
		default:
			d.bad = true
		}
	}
}

func (d *snapDecoder) attachment(a *Attachment) {
	var seen uint32
	for n := 0; ; {
		k, ok := d.member(&n)
		if !ok {
			return
		}
		switch string(k) {
		case "policyId":
			if d.once(&seen, 1<<0) {
				d.shared(&a.PolicyID)
			}
		case "targetId":
			if d.once(&seen, 1<<1) {
				d.str(&a.TargetID) // a target has a few attachments: not worth sharing
			}
		default:
			d.bad = true
		}
	}
}
