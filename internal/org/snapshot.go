package org

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/atomicfile"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/inputfile"
)

// ErrInvalidSnapshot is matched (errors.Is) by every error that reports a
// malformed or inconsistent snapshot.
var ErrInvalidSnapshot = errors.New("invalid snapshot")

// Problem is one thing wrong with a snapshot, at a JSON path such as
// "accounts[3].parentId".
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// SnapshotError reports what is wrong with a snapshot, and where: the file,
// the line and column for JSON syntax errors, the JSON path otherwise.
type SnapshotError struct {
	File     string // may be empty
	Line     int    // 0 when not known
	Col      int
	Problems []Problem
}

func (e *SnapshotError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	}
	const show = 10
	for i, p := range e.Problems {
		if i == show {
			fmt.Fprintf(&b, "; and %d more problems", len(e.Problems)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidSnapshot) true.
func (e *SnapshotError) Is(target error) bool { return target == ErrInvalidSnapshot }

// Validate checks the referential integrity of s: the format version, that
// IDs are unique and of the right kind, that every parent exists and the
// tree has no cycles, that attachments name existing policies and targets,
// and that the management account is a member. It returns a *SnapshotError
// listing every problem, or nil.
func Validate(s *Snapshot) error {
	var ps []Problem
	add := func(path, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if s.FormatVersion != FormatVersion {
		add("formatVersion", "unsupported format version %d (this orgguard reads %d)", s.FormatVersion, FormatVersion)
	}
	kinds := make(map[string]NodeKind, 1+len(s.OUs)+len(s.Accounts))
	// Paths are formatted only for problems: a valid snapshot of 10,000
	// accounts is validated several times per command.
	seen := make(map[string]elemPath, 1+len(s.OUs)+len(s.Accounts)+len(s.Policies))
	claim := func(id string, at elemPath) bool {
		if prev, ok := seen[id]; ok {
			add(at.field("id"), "ID %s is already used at %s", id, prev.field("id"))
			return false
		}
		seen[id] = at
		return true
	}
	switch {
	case s.Root.ID == "":
		add("root.id", "missing")
	case !strings.HasPrefix(s.Root.ID, "r-"):
		add("root.id", "%q is not a root ID (r-...)", s.Root.ID)
	default:
		claim(s.Root.ID, elemPath{list: "root", i: -1})
		kinds[s.Root.ID] = KindRoot
	}
	for i, t := range s.Root.PolicyTypes {
		if t.Type == "" {
			add(fmt.Sprintf("root.policyTypes[%d].type", i), "missing")
		}
	}
	for i, o := range s.OUs {
		at := elemPath{list: "organizationalUnits", i: i}
		switch {
		case o.ID == "":
			add(at.field("id"), "missing")
		case !strings.HasPrefix(o.ID, "ou-"):
			add(at.field("id"), "%q is not an OU ID (ou-...)", o.ID)
		case claim(o.ID, at):
			kinds[o.ID] = KindOU
		}
		if o.Name == "" {
			add(at.field("name"), "missing")
		}
	}
	for i, a := range s.Accounts {
		at := elemPath{list: "accounts", i: i}
		switch {
		case a.ID == "":
			add(at.field("id"), "missing")
		case !IsAccountID(a.ID):
			add(at.field("id"), "%q is not a 12-digit account ID", a.ID)
		case claim(a.ID, at):
			kinds[a.ID] = KindAccount
		}
	}
	pols := make(map[string]bool, len(s.Policies))
	for i, p := range s.Policies {
		at := elemPath{list: "policies", i: i}
		switch {
		case p.ID == "":
			add(at.field("id"), "missing")
		case !strings.HasPrefix(p.ID, "p-"):
			add(at.field("id"), "%q is not a policy ID (p-...)", p.ID)
		case claim(p.ID, at):
			pols[p.ID] = true
		}
		if p.Type == "" {
			add(at.field("type"), "missing")
		}
	}
	isParent := func(id string) bool { k := kinds[id]; return k == KindRoot || k == KindOU }
	ouParent := make(map[string]string, len(s.OUs))
	for i, o := range s.OUs {
		switch {
		case o.ParentID == "":
			add(elemPath{list: "organizationalUnits", i: i}.field("parentId"), "missing")
		case !isParent(o.ParentID):
			add(elemPath{list: "organizationalUnits", i: i}.field("parentId"), "OU %s has parent %s, which is not the root or an OU in the snapshot", o.ID, o.ParentID)
		default:
			ouParent[o.ID] = o.ParentID
		}
	}
	// Cycles: follow parents from each OU; a walk longer than the number of
	// OUs, or one that returns to its start, is a cycle.
	reported := map[string]bool{}
	for i, o := range s.OUs {
		cur, steps := o.ParentID, 0
		for kinds[cur] == KindOU && steps <= len(s.OUs) {
			if cur == o.ID {
				break
			}
			cur = ouParent[cur]
			steps++
		}
		if cur == o.ID && !reported[o.ID] {
			reported[o.ID] = true
			add(fmt.Sprintf("organizationalUnits[%d].parentId", i), "OU %s is its own ancestor (a cycle through parentId)", o.ID)
		}
	}
	for i, a := range s.Accounts {
		switch {
		case a.ParentID == "":
			add(elemPath{list: "accounts", i: i}.field("parentId"), "missing")
		case !isParent(a.ParentID):
			add(elemPath{list: "accounts", i: i}.field("parentId"), "account %s has parent %s, which is not the root or an OU in the snapshot", a.ID, a.ParentID)
		}
	}
	if m := s.Organization.ManagementAccountID; m != "" && kinds[m] != KindAccount {
		add("organization.managementAccountId", "management account %s is not among the accounts", m)
	}
	dup := make(map[Attachment]int, len(s.Attachments))
	for i, at := range s.Attachments {
		where := elemPath{list: "attachments", i: i}
		if !pols[at.PolicyID] {
			add(where.field("policyId"), "no policy with ID %q", at.PolicyID)
		}
		if kinds[at.TargetID] == 0 {
			add(where.field("targetId"), "no root, OU or account with ID %q", at.TargetID)
		}
		if j, ok := dup[at]; ok {
			add(where.String(), "duplicate of attachments[%d]", j)
		} else {
			dup[at] = i
		}
	}
	if len(ps) > 0 {
		return &SnapshotError{Problems: ps}
	}
	return nil
}

// elemPath is a JSON path to one element of a snapshot list
// ("accounts[3]"), or to the root ("root", i < 0), formatted only when a
// problem is reported.
type elemPath struct {
	list string
	i    int
}

func (p elemPath) String() string {
	if p.i < 0 {
		return p.list
	}
	return p.list + "[" + strconv.Itoa(p.i) + "]"
}

func (p elemPath) field(name string) string { return p.String() + "." + name }

// ComputeFingerprint returns "sha256:" and the hex SHA-256 of the canonical
// encoding of s (described in docs/snapshot-format.md): every list in ID
// order, tags by key, times in UTC, and without TakenAt, Source and
// Fingerprint. Two snapshots of an unchanged organization have the same
// fingerprint whenever and however they were taken.
func ComputeFingerprint(s *Snapshot) string {
	if !s.isNormalized() {
		s = s.Clone()
		s.Normalize()
	}
	h := sha256.New()
	e := canonicalWriter{w: h, buf: make([]byte, 0, canonicalChunk+4<<10)}
	e.str("orgguard-snapshot-v1")
	o := s.Organization
	e.str(o.ID, o.ARN, o.FeatureSet, o.ManagementAccountID, o.ManagementAccountARN, o.ManagementAccountEmail)
	r := s.Root
	e.str(r.ID, r.ARN, r.Name)
	e.num(len(r.PolicyTypes))
	for _, t := range r.PolicyTypes {
		e.str(string(t.Type), t.Status)
	}
	e.tags(r.Tags)
	e.num(len(s.OUs))
	for _, u := range s.OUs {
		e.str(u.ID, u.ARN, u.Name, u.ParentID)
		e.tags(u.Tags)
	}
	e.num(len(s.Accounts))
	for _, a := range s.Accounts {
		e.str(a.ID, a.ARN, a.Name, a.Email, a.Status, a.ParentID)
		if a.JoinedAt.IsZero() {
			e.str("")
		} else {
			e.stamp = a.JoinedAt.UTC().AppendFormat(e.stamp[:0], time.RFC3339Nano)
			e.bytes(e.stamp)
		}
		e.tags(a.Tags)
	}
	e.num(len(s.Policies))
	for _, p := range s.Policies {
		e.str(p.ID, p.ARN, p.Name, p.Description, string(p.Type), strconv.FormatBool(p.AWSManaged), p.Content)
		e.tags(p.Tags)
	}
	e.num(len(s.Attachments))
	for _, a := range s.Attachments {
		e.str(a.PolicyID, a.TargetID)
	}
	e.flush()
	return digest.Format(h.Sum(nil))
}

// canonicalWriter writes length-prefixed fields: a decimal length, a
// colon, the bytes. It collects them in buf and hands the hash large
// chunks (a 10,000-account snapshot is ~100,000 fields).
type canonicalWriter struct {
	w     io.Writer
	buf   []byte
	keys  []string
	stamp []byte
}

func (c *canonicalWriter) bytes(b []byte) {
	c.buf = strconv.AppendInt(c.buf, int64(len(b)), 10)
	c.buf = append(c.buf, ':')
	c.buf = append(c.buf, b...)
	if len(c.buf) >= canonicalChunk {
		c.flush()
	}
}

const canonicalChunk = 64 << 10

func (c *canonicalWriter) str(ss ...string) {
	for _, s := range ss {
		c.buf = strconv.AppendInt(c.buf, int64(len(s)), 10)
		c.buf = append(c.buf, ':')
		c.buf = append(c.buf, s...)
		if len(c.buf) >= canonicalChunk {
			c.flush()
		}
	}
}

// flush writes what is buffered to the hash.
func (c *canonicalWriter) flush() {
	c.w.Write(c.buf)
	c.buf = c.buf[:0]
}

func (c *canonicalWriter) num(n int) { c.str(strconv.Itoa(n)) }

func (c *canonicalWriter) tags(m map[string]string) {
	c.num(len(m))
	keys := c.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.str(k, m[k])
	}
	clear(keys)
	c.keys = keys[:0]
}

// MarshalSnapshot normalizes s, sets its format version and fingerprint,
// and returns its indented JSON encoding followed by a newline.
func MarshalSnapshot(s *Snapshot) ([]byte, error) {
	s.Normalize()
	s.FormatVersion = FormatVersion
	s.Fingerprint = ComputeFingerprint(s)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding the snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// MarshalSnapshotCompact is MarshalSnapshot without indentation, for
// machine-only files such as the simulator's state.
func MarshalSnapshotCompact(s *Snapshot) ([]byte, error) {
	s.Normalize()
	s.FormatVersion = FormatVersion
	s.Fingerprint = ComputeFingerprint(s)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding the snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// ParseSnapshot decodes and validates a snapshot. name (a file name, or ""
// ) is used in error messages. Unknown fields are errors. A fingerprint in
// the document must match its content; an empty one is computed.
func ParseSnapshot(data []byte, name string) (*Snapshot, error) {
	var s Snapshot
	if !decodeSnapshotFast(data, &s) {
		// Anything the fast decoder does not take — every malformed
		// document among them — is decoded, or refused with its position,
		// by encoding/json.
		s = Snapshot{}
		if err := decodeSnapshotStrict(data, name, &s); err != nil {
			return nil, err
		}
	}
	if s.FormatVersion == 0 {
		return nil, &SnapshotError{File: name, Problems: []Problem{{Path: "formatVersion", Msg: "missing: not an orgguard snapshot"}}}
	}
	// The fingerprint does not depend on the lists' order (it normalizes
	// a copy of a snapshot that is not in order), so it is computed while
	// Validate checks the snapshot as it was written (its problems name
	// elements by their place in the file); both only read it.
	fingerprint := make(chan string, 1)
	go func() { fingerprint <- ComputeFingerprint(&s) }()
	err := Validate(&s)
	fp := <-fingerprint
	if err != nil {
		var se *SnapshotError
		if errors.As(err, &se) {
			se.File = name
		}
		return nil, err
	}
	s.Normalize()
	if s.Fingerprint != "" && s.Fingerprint != fp {
		return nil, &SnapshotError{File: name, Problems: []Problem{{Path: "fingerprint",
			Msg: fmt.Sprintf("%s does not match the content (%s); the file was edited — remove the fingerprint field to accept the edit", s.Fingerprint, fp)}}}
	}
	s.Fingerprint = fp
	return &s, nil
}

// decodeSnapshotStrict decodes data into s with encoding/json, refusing
// unknown fields and trailing data, and reports problems as a
// *SnapshotError with a line and column.
func decodeSnapshotStrict(data []byte, name string, s *Snapshot) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		// A different format version explains unknown fields best.
		if verr := versionError(data, name); verr != nil {
			return verr
		}
		return jsonError(data, name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := lineCol(data, dec.InputOffset())
		return &SnapshotError{File: name, Line: line, Col: col, Problems: []Problem{{Msg: "unexpected data after the snapshot object"}}}
	}
	return nil
}

// versionError reports an unsupported or missing format version, or nil.
func versionError(data []byte, name string) error {
	var head struct {
		FormatVersion *int `json:"formatVersion"`
	}
	if json.Unmarshal(data, &head) != nil {
		return nil
	}
	if head.FormatVersion == nil {
		return &SnapshotError{File: name, Problems: []Problem{{Path: "formatVersion", Msg: "missing: not an orgguard snapshot"}}}
	}
	if *head.FormatVersion != FormatVersion {
		return &SnapshotError{File: name, Problems: []Problem{{Path: "formatVersion", Msg: fmt.Sprintf("unsupported format version %d (this orgguard reads %d)", *head.FormatVersion, FormatVersion)}}}
	}
	return nil
}

// jsonError turns an encoding/json error into a *SnapshotError with a line
// and column.
func jsonError(data []byte, name string, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, max(syn.Offset-1, 0))
		return &SnapshotError{File: name, Line: line, Col: col, Problems: []Problem{{Msg: "malformed JSON: " + syn.Error()}}}
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		return &SnapshotError{File: name, Line: line, Col: col, Problems: []Problem{{Path: typ.Field, Msg: fmt.Sprintf("expected %s, found JSON %s", typ.Type, typ.Value)}}}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		line, col := lineCol(data, int64(len(data)))
		return &SnapshotError{File: name, Line: line, Col: col, Problems: []Problem{{Msg: "truncated JSON (unexpected end of data)"}}}
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return &SnapshotError{File: name, Problems: []Problem{{Msg: msg}}}
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line := 1 + bytes.Count(before, []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// ReadSnapshotFile reads and validates a snapshot file.
func ReadSnapshotFile(path string) (*Snapshot, error) {
	data, err := inputfile.Read(path, inputfile.Snapshot, "snapshot")
	if err != nil {
		return nil, err
	}
	return ParseSnapshot(data, path)
}

// WriteSnapshotFile writes s to path atomically (see atomicfile.Write).
func WriteSnapshotFile(path string, s *Snapshot) error {
	data, err := MarshalSnapshot(s)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, data, 0o644)
}

// utc is used by Normalize.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
