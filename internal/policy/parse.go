package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/jsonpos"
)

// Parse parses a policy document and checks its structure: JSON syntax,
// element names and types, Version, empty or missing required elements and
// duplicate Sids. It returns an *Error holding every finding when any is an
// error; warnings alone come back in Document-less form through Validate.
// src says where data sits (file, line, column, JSON path prefix).
func Parse(data []byte, src Source) (*Document, error) {
	v, err := jsonpos.Parse(data)
	if err != nil {
		var se *jsonpos.SyntaxError
		if errors.As(err, &se) {
			m := mapper{src: src}
			return nil, &Error{Findings: []Finding{{
				Pos:      m.pos(se.Pos, ""),
				Severity: SeverityError,
				Code:     "json-syntax",
				Message:  "malformed JSON: " + se.Msg,
			}}}
		}
		return nil, fmt.Errorf("parsing policy JSON: %w", err)
	}
	d, err := ParseValue(v, data, src)
	if d != nil {
		d.Size = utf8.RuneCount(data)
	}
	return d, err
}

// ParseValue parses a policy held in v, a value parsed by jsonpos from data
// (typically a bigger file embedding the policy). Positions are those of v
// within data, shifted by src.Line/src.Col, with src.Path prefixed to JSON
// paths. The Size of an embedded policy counts its characters without the
// white space outside strings, since the layout belongs to the outer file.
func ParseValue(v *jsonpos.Value, data []byte, src Source) (*Document, error) {
	p := &parser{m: mapper{src: src}}
	d := p.document(v)
	if raw := v.Raw(data); raw != nil {
		d.Size = compactSize(raw)
	}
	if HasErrors(p.findings) {
		return nil, &Error{Findings: p.findings}
	}
	d.warnings = p.findings
	return d, nil
}

// compactSize counts the runes of a JSON text without white space outside
// strings.
func compactSize(raw []byte) int {
	n := 0
	inStr, esc := false, false
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		i += size
		switch {
		case inStr:
			n++
			if esc {
				esc = false
			} else if r == '\\' {
				esc = true
			} else if r == '"' {
				inStr = false
			}
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
		default:
			n++
			if r == '"' {
				inStr = true
			}
		}
	}
	return n
}

// mapper turns jsonpos positions into policy positions.
type mapper struct{ src Source }

func (m mapper) pos(p jsonpos.Pos, path string) Pos {
	line, col := p.Line, p.Col
	if m.src.Line > 0 {
		if line == 1 && m.src.Col > 0 {
			col += m.src.Col - 1
		}
		line += m.src.Line - 1
	}
	full := path
	if m.src.Path != "" {
		switch {
		case path == "":
			full = m.src.Path
		case path[0] == '[':
			full = m.src.Path + path
		default:
			full = m.src.Path + "." + path
		}
	}
	return Pos{File: m.src.File, Line: line, Col: col, Path: full}
}

type parser struct {
	m        mapper
	findings []Finding
}

func (p *parser) errorf(at Pos, code, format string, args ...any) {
	p.findings = append(p.findings, Finding{Pos: at, Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(at Pos, code, format string, args ...any) {
	p.findings = append(p.findings, Finding{Pos: at, Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func indexPath(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

// members returns the members of an object, reporting unknown and duplicate
// keys. known maps the exact element names to accept.
func (p *parser) members(v *jsonpos.Value, path string, known []string, what string) map[string]jsonpos.Member {
	out := make(map[string]jsonpos.Member, len(v.Members))
	for _, mem := range v.Members {
		kp := p.m.pos(mem.KeyPos, joinPath(path, mem.Key))
		ok := false
		for _, k := range known {
			if k == mem.Key {
				ok = true
				break
			}
		}
		if !ok {
			hint := ""
			for _, k := range known {
				if strings.EqualFold(k, mem.Key) {
					hint = fmt.Sprintf(" (element names are case-sensitive: did you mean %q?)", k)
				}
			}
			p.errorf(kp, "unknown-element", "unknown element %q in %s%s; want one of %s", mem.Key, what, hint, strings.Join(known, ", "))
			continue
		}
		if _, dup := out[mem.Key]; dup {
			p.errorf(kp, "duplicate-element", "element %q appears more than once in %s", mem.Key, what)
			continue
		}
		out[mem.Key] = mem
	}
	return out
}

var (
	documentElements  = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

func (p *parser) document(v *jsonpos.Value) *Document {
	d := &Document{Pos: p.m.pos(v.Pos, "")}
	if v.Kind != jsonpos.Object {
		p.errorf(d.Pos, "wrong-type", "a policy must be a JSON object, got %s", v.Kind)
		return d
	}
	mem := p.members(v, "", documentElements, "the policy")
	if m, ok := mem["Version"]; ok {
		d.HasVersion = true
		d.versionPos = p.m.pos(m.Value.Pos, "Version")
		if m.Value.Kind != jsonpos.String {
			p.errorf(d.versionPos, "wrong-type", "Version must be a string, got %s", m.Value.Kind)
		} else {
			d.Version = m.Value.Str
			if d.Version != Version2012 && d.Version != Version2008 {
				p.errorf(d.versionPos, "bad-version", "Version %q is not a policy language version; want %q (or the old %q)", d.Version, Version2012, Version2008)
			}
		}
	} else {
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
		p.warnf(d.Pos, "missing-version", "no Version: AWS applies version %s rules, in which policy variables such as ${aws:username} are literal text; add \"Version\": %q", Version2008, Version2012)
	}
	if m, ok := mem["Id"]; ok {
		d.HasID = true
		d.idPos = p.m.pos(m.Value.Pos, "Id")
		if m.Value.Kind != jsonpos.String {
			p.errorf(d.idPos, "wrong-type", "Id must be a string, got %s", m.Value.Kind)
		} else {
			d.ID = m.Value.Str
		}
	}
	m, ok := mem["Statement"]
	if !ok {
		p.errorf(d.Pos, "missing-element", "the policy has no Statement")
		return d
	}
	d.statementPos = p.m.pos(m.Value.Pos, "Statement")
	switch m.Value.Kind {
	case jsonpos.Object:
		d.statementIsObject = true
		d.Statements = append(d.Statements, p.statement(m.Value, "Statement", 0))
	case jsonpos.Array:
		if len(m.Value.Elems) == 0 {
			p.errorf(d.statementPos, "empty-element", "Statement is an empty array; a policy needs at least one statement")
		}
		for i, e := range m.Value.Elems {
			d.Statements = append(d.Statements, p.statement(e, indexPath("Statement", i), i))
		}
	default:
		p.errorf(d.statementPos, "wrong-type", "Statement must be an object or an array of objects, got %s", m.Value.Kind)
	}
	// Duplicate Sids.
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html
	seen := make(map[string]int)
	for _, s := range d.Statements {
		if !s.HasSid || s.Sid == "" {
			continue
		}
		if first, dup := seen[s.Sid]; dup {
			p.errorf(s.sidPos, "duplicate-sid", "Sid %q is already used by Statement[%d]; Sids must be unique within a policy", s.Sid, first)
			continue
		}
		seen[s.Sid] = s.Index
	}
	return d
}

func (p *parser) statement(v *jsonpos.Value, path string, idx int) *Statement {
	s := &Statement{Index: idx, Pos: p.m.pos(v.Pos, path)}
	if v.Kind != jsonpos.Object {
		p.errorf(s.Pos, "wrong-type", "a statement must be an object, got %s", v.Kind)
		return s
	}
	mem := p.members(v, path, statementElements, "a statement")
	if m, ok := mem["Sid"]; ok {
		s.HasSid = true
		s.sidPos = p.m.pos(m.Value.Pos, joinPath(path, "Sid"))
		if m.Value.Kind != jsonpos.String {
			p.errorf(s.sidPos, "wrong-type", "Sid must be a string, got %s", m.Value.Kind)
		} else {
			s.Sid = m.Value.Str
		}
	}
	if m, ok := mem["Effect"]; ok {
		s.effectPos = p.m.pos(m.Value.Pos, joinPath(path, "Effect"))
		switch {
		case m.Value.Kind != jsonpos.String:
			p.errorf(s.effectPos, "wrong-type", "Effect must be the string \"Allow\" or \"Deny\", got %s", m.Value.Kind)
		case m.Value.Str == "Allow":
			s.Effect = Allow
		case m.Value.Str == "Deny":
			s.Effect = Deny
		default:
			p.errorf(s.effectPos, "bad-effect", "Effect %q is neither \"Allow\" nor \"Deny\" (case-sensitive)", m.Value.Str)
		}
	} else {
		p.errorf(s.Pos, "missing-element", "the statement has no Effect")
	}

	// Principal / NotPrincipal
	pm, hasP := mem["Principal"]
	npm, hasNP := mem["NotPrincipal"]
	switch {
	case hasP && hasNP:
		p.errorf(p.m.pos(npm.KeyPos, joinPath(path, "NotPrincipal")), "conflicting-elements", "a statement cannot have both Principal and NotPrincipal")
	case hasP:
		s.principalPos = p.m.pos(pm.Value.Pos, joinPath(path, "Principal"))
		s.Principal = p.principal(pm.Value, joinPath(path, "Principal"), "Principal")
	case hasNP:
		s.NotPrincipal = true
		s.principalPos = p.m.pos(npm.Value.Pos, joinPath(path, "NotPrincipal"))
		s.Principal = p.principal(npm.Value, joinPath(path, "NotPrincipal"), "NotPrincipal")
	}

	// Action / NotAction
	am, hasA := mem["Action"]
	nam, hasNA := mem["NotAction"]
	switch {
	case hasA && hasNA:
		p.errorf(p.m.pos(nam.KeyPos, joinPath(path, "NotAction")), "conflicting-elements", "a statement cannot have both Action and NotAction")
	case hasA:
		s.HasAction = true
		s.actionPos = p.m.pos(am.Value.Pos, joinPath(path, "Action"))
		s.Actions = p.stringList(am.Value, joinPath(path, "Action"), "Action")
	case hasNA:
		s.HasAction, s.NotAction = true, true
		s.actionPos = p.m.pos(nam.Value.Pos, joinPath(path, "NotAction"))
		s.Actions = p.stringList(nam.Value, joinPath(path, "NotAction"), "NotAction")
	default:
		p.errorf(s.Pos, "missing-element", "the statement has neither Action nor NotAction")
	}

	// Resource / NotResource (required or not depends on the kind: Validate)
	rm, hasR := mem["Resource"]
	nrm, hasNR := mem["NotResource"]
	switch {
	case hasR && hasNR:
		p.errorf(p.m.pos(nrm.KeyPos, joinPath(path, "NotResource")), "conflicting-elements", "a statement cannot have both Resource and NotResource")
	case hasR:
		s.HasResource = true
		s.resourcePos = p.m.pos(rm.Value.Pos, joinPath(path, "Resource"))
		s.Resources = p.stringList(rm.Value, joinPath(path, "Resource"), "Resource")
	case hasNR:
		s.HasResource, s.NotResource = true, true
		s.resourcePos = p.m.pos(nrm.Value.Pos, joinPath(path, "NotResource"))
		s.Resources = p.stringList(nrm.Value, joinPath(path, "NotResource"), "NotResource")
	}

	if m, ok := mem["Condition"]; ok {
		s.conditionPos = p.m.pos(m.Value.Pos, joinPath(path, "Condition"))
		s.Conditions = p.conditions(m.Value, joinPath(path, "Condition"))
	}
	return s
}

// stringList parses a string or a non-empty array of strings.
func (p *parser) stringList(v *jsonpos.Value, path, what string) []Value {
	switch v.Kind {
	case jsonpos.String:
		if v.Str == "" {
			p.errorf(p.m.pos(v.Pos, path), "empty-element", "%s is an empty string", what)
		}
		return []Value{{S: v.Str, Pos: p.m.pos(v.Pos, path)}}
	case jsonpos.Array:
		if len(v.Elems) == 0 {
			p.errorf(p.m.pos(v.Pos, path), "empty-element", "%s is an empty array", what)
			return nil
		}
		out := make([]Value, 0, len(v.Elems))
		for i, e := range v.Elems {
			ep := p.m.pos(e.Pos, indexPath(path, i))
			if e.Kind != jsonpos.String {
				p.errorf(ep, "wrong-type", "%s entries must be strings, got %s", what, e.Kind)
				continue
			}
			if e.Str == "" {
				p.errorf(ep, "empty-element", "%s entry is an empty string", what)
			}
			out = append(out, Value{S: e.Str, Pos: ep})
		}
		return out
	default:
		p.errorf(p.m.pos(v.Pos, path), "wrong-type", "%s must be a string or an array of strings, got %s", what, v.Kind)
		return nil
	}
}

var principalTypes = []string{"AWS", "Service", "Federated", "CanonicalUser"}

func (p *parser) principal(v *jsonpos.Value, path, what string) *Principal {
	pr := &Principal{Pos: p.m.pos(v.Pos, path)}
	switch v.Kind {
	case jsonpos.String:
		if v.Str != "*" {
			p.errorf(pr.Pos, "bad-principal", "%s given as a string must be \"*\"; name principals in an object such as {\"AWS\": %q}", what, v.Str)
			return pr
		}
		pr.Any = true
		return pr
	case jsonpos.Object:
	default:
		p.errorf(pr.Pos, "wrong-type", "%s must be \"*\" or an object such as {\"AWS\": [...]}, got %s", what, v.Kind)
		return pr
	}
	if len(v.Members) == 0 {
		p.errorf(pr.Pos, "empty-element", "%s is an empty object", what)
		return pr
	}
	mem := p.members(v, path, principalTypes, what)
	for _, t := range principalTypes {
		m, ok := mem[t]
		if !ok {
			continue
		}
		for _, val := range p.stringList(m.Value, joinPath(path, t), what+"."+t) {
			pr.Entries = append(pr.Entries, PrincipalEntry{Type: t, Value: val.S, Pos: val.Pos})
		}
	}
	return pr
}

func (p *parser) conditions(v *jsonpos.Value, path string) []*Condition {
	if v.Kind != jsonpos.Object {
		p.errorf(p.m.pos(v.Pos, path), "wrong-type", "Condition must be an object of operator blocks, got %s", v.Kind)
		return nil
	}
	if len(v.Members) == 0 {
		p.errorf(p.m.pos(v.Pos, path), "empty-element", "Condition is an empty object")
	}
	var out []*Condition
	seenOps := make(map[string]bool)
	for _, om := range v.Members {
		opPath := joinPath(path, om.Key)
		c := &Condition{Operator: om.Key, Pos: p.m.pos(om.KeyPos, opPath)}
		if seenOps[om.Key] {
			p.errorf(c.Pos, "duplicate-element", "condition operator %q appears more than once in the same Condition", om.Key)
			continue
		}
		seenOps[om.Key] = true
		if om.Value.Kind != jsonpos.Object {
			p.errorf(p.m.pos(om.Value.Pos, opPath), "wrong-type", "condition operator %q must map to an object of keys, got %s", om.Key, om.Value.Kind)
			continue
		}
		if len(om.Value.Members) == 0 {
			p.errorf(p.m.pos(om.Value.Pos, opPath), "empty-element", "condition operator %q has no keys", om.Key)
		}
		seenKeys := make(map[string]bool)
		for _, km := range om.Value.Members {
			kPath := joinPath(opPath, km.Key)
			ck := &ConditionKey{Key: km.Key, Pos: p.m.pos(km.KeyPos, kPath)}
			lk := strings.ToLower(km.Key)
			if seenKeys[lk] {
				p.errorf(ck.Pos, "duplicate-element", "condition key %q appears more than once under %q (keys are case-insensitive)", km.Key, om.Key)
				continue
			}
			seenKeys[lk] = true
			if km.Key == "" {
				p.errorf(ck.Pos, "empty-element", "empty condition key under %q", om.Key)
			}
			add := func(e *jsonpos.Value, ep string) {
				pos := p.m.pos(e.Pos, ep)
				switch e.Kind {
				case jsonpos.String:
					ck.Values = append(ck.Values, Value{S: e.Str, Pos: pos})
				case jsonpos.Number:
					ck.Values = append(ck.Values, Value{S: e.Num, Pos: pos})
				case jsonpos.Bool:
					ck.Values = append(ck.Values, Value{S: strconv.FormatBool(e.Bool), Pos: pos})
				default:
					p.errorf(pos, "wrong-type", "condition values must be strings, numbers or booleans, got %s", e.Kind)
					return
				}
				ck.ValueKinds = append(ck.ValueKinds, e.Kind.String())
			}
			if km.Value.Kind == jsonpos.Array {
				if len(km.Value.Elems) == 0 {
					p.errorf(p.m.pos(km.Value.Pos, kPath), "empty-element", "condition key %q has an empty list of values", km.Key)
				}
				for i, e := range km.Value.Elems {
					add(e, indexPath(kPath, i))
				}
			} else {
				add(km.Value, kPath)
			}
			c.Keys = append(c.Keys, ck)
		}
		out = append(out, c)
	}
	return out
}
