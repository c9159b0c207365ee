package conformance

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/orgguard/orgguard/internal/decode"
	"github.com/orgguard/orgguard/internal/jsonpos"
	"github.com/orgguard/orgguard/internal/policy"
	"github.com/orgguard/orgguard/internal/source"
)

// Error is one problem in a case file, with its place: file, line, column
// and JSON path (for example cases[3].scps[0][1].Statement[0].Effect),
// formatted "file:line:col: path: message". Its Err is ErrMalformed.
type Error = source.Error

// ErrMalformed is matched (errors.Is) by every *Error and ErrorList, so that
// callers can tell malformed input from I/O errors.
var ErrMalformed = errors.New("malformed case file")

// ErrorList is every problem found in one case file, in file order, one
// per line.
type ErrorList = source.Errors

// maxErrors bounds how many problems one file reports, so that a hostile or
// badly broken file cannot produce unbounded output.
const maxErrors = 100

// LoadFile reads and parses the case file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading case file: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a case file held in data; name is the file name used in
// positions. Every policy is parsed, validated for its kind and compiled;
// every request is prepared with policy.NewRequestContext. It returns an
// ErrorList holding every problem found when the file is malformed.
func Parse(data []byte, name string) (*File, error) {
	l := &loader{file: name, data: data}
	f := l.file0()
	if len(l.errs) > 0 {
		return nil, l.errs
	}
	return f, nil
}

// LoadFileKeepGoing reads and parses the case file at path like
// ParseKeepGoing.
func LoadFileKeepGoing(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading case file: %w", err)
	}
	return ParseKeepGoing(data, path)
}

// ParseKeepGoing parses a case file like Parse but does not give up on the
// first invalid case: the returned File holds every valid case in Cases,
// every invalid one (with its problems) in Invalid, and the problems found
// outside any case in Problems. It fails (with an ErrorList) only when the
// file cannot be read as a list of cases at all: malformed JSON, a top
// level that is not an object, a "cases" field that is missing or not a
// list.
func ParseKeepGoing(data []byte, name string) (*File, error) {
	l := &loader{file: name, data: data, keepGoing: true}
	f := l.file0()
	if f == nil {
		return nil, l.errs
	}
	return f, nil
}

// InvalidCase is a case ParseKeepGoing could not load.
type InvalidCase struct {
	Index  int        // position in the file's cases list
	Name   string     // the case's name, when it could be read
	Pos    policy.Pos // where the case object starts
	Errors ErrorList  // its problems (possibly cut short: a file reports at most 100)
}

type loader struct {
	file      string
	data      []byte
	errs      ErrorList
	n         int  // problems found, including those not kept beyond maxErrors
	keepGoing bool // ParseKeepGoing: record invalid cases and go on
}

// add records problems, keeping at most maxErrors of them.
func (l *loader) add(errs ...*Error) {
	for _, e := range errs {
		l.n++
		if len(l.errs) < maxErrors {
			l.errs = append(l.errs, e)
		}
	}
}

func (l *loader) pos(p jsonpos.Pos, path string) policy.Pos {
	return policy.Pos{File: l.file, Line: p.Line, Col: p.Col, Path: path}
}

func (l *loader) errorf(p jsonpos.Pos, path, format string, args ...any) {
	l.add(&Error{Pos: l.pos(p, path), Msg: fmt.Sprintf(format, args...), Err: ErrMalformed})
}

// json is the strict JSON decoding of this file.
func (l *loader) json() decode.JSON { return decode.JSON{File: l.file, Err: ErrMalformed} }

// typeError reports that v at path should have been of the wanted type.
func (l *loader) typeError(v *jsonpos.Value, path, want string) {
	l.errorf(v.Pos, path, "want %s, got %s", want, v.Kind)
}

// members checks that v is an object, has no duplicate keys and only known
// keys, and returns its members by name. required keys that are missing
// are reported at the object's position.
func (l *loader) members(v *jsonpos.Value, path, what string, known, required []string) (map[string]*jsonpos.Value, bool) {
	m, errs, ok := l.json().Object(v, path, what, known, required)
	l.add(errs...)
	return m, ok
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

func indexPath(base string, i int) string { return base + "[" + strconv.Itoa(i) + "]" }

var fileKeys = []string{"cases", "description"}

func (l *loader) file0() *File {
	root, err := l.json().Parse(l.data)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			l.add(se)
		}
		return nil
	}
	m, ok := l.members(root, "", "case file", fileKeys, []string{"cases"})
	if !ok {
		return nil
	}
	f := &File{Path: l.file}
	if d := m["description"]; d != nil {
		f.Description = l.str(d, "description")
	}
	cs := m["cases"]
	if cs == nil {
		if l.keepGoing {
			return nil
		}
		return f
	}
	if cs.Kind != jsonpos.Array {
		l.typeError(cs, "cases", "a list of cases")
		if l.keepGoing {
			return nil
		}
		return f
	}
	f.Problems = append(f.Problems, l.errs...)
	seen := make(map[string]string)
	for i, cv := range cs.Elems {
		path := indexPath("cases", i)
		before, kept := l.n, len(l.errs)
		c := l.caseValue(cv, path, i, f)
		if c != nil {
			if prev, dup := seen[c.Name]; dup {
				l.errorf(cv.Pos, path+".name", "duplicate case name %q (first at %s)", c.Name, prev)
			} else {
				seen[c.Name] = path
			}
		}
		if l.n > before {
			inv := InvalidCase{Index: i, Pos: l.pos(cv.Pos, path), Errors: append(ErrorList(nil), l.errs[kept:]...)}
			if nv := cv.Get("name"); nv != nil && nv.Kind == jsonpos.String {
				inv.Name = nv.Str
			}
			f.Invalid = append(f.Invalid, inv)
			continue
		}
		f.Cases = append(f.Cases, c)
	}
	return f
}

// str returns v's text, reporting an error when it is not a string.
func (l *loader) str(v *jsonpos.Value, path string) string {
	if v.Kind != jsonpos.String {
		l.typeError(v, path, "a string")
		return ""
	}
	return v.Str
}

var caseKeys = []string{
	"name", "description", "doc", "expect",
	"principal", "action", "resource", "resourceAccount", "context",
	"identityPolicies", "permissionBoundary", "sessionPolicy", "resourcePolicy",
	"scps", "rcps", "organization", "vpcEndpointPolicies",
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// roleARN matches the ARN of an IAM role; a case whose resource is a role
// has its resourcePolicy validated as a role trust policy.
var roleARN = regexp.MustCompile(`^arn:[^:]+:iam::[0-9]{12}:role/`)

// resourcePolicyKind returns the kind the resource-based policy of a
// request on resource is validated as: a role trust policy for an IAM role,
// a resource-based policy otherwise.
func resourcePolicyKind(resource string) policy.Kind {
	if roleARN.MatchString(resource) {
		return policy.KindTrust
	}
	return policy.KindResource
}

func (l *loader) caseValue(v *jsonpos.Value, path string, index int, f *File) *Case {
	before := l.n
	m, ok := l.members(v, path, "case", caseKeys, []string{"name", "principal", "action", "resource", "expect"})
	if !ok {
		return nil
	}
	c := &Case{Index: index, Pos: l.pos(v.Pos, path)}
	if x := m["name"]; x != nil {
		c.Name = l.str(x, path+".name")
		if x.Kind == jsonpos.String && strings.TrimSpace(c.Name) == "" {
			l.errorf(x.Pos, path+".name", "case name is empty")
		}
	}
	if x := m["description"]; x != nil {
		c.Description = l.str(x, path+".description")
	}
	if x := m["doc"]; x != nil {
		c.Doc = l.str(x, path+".doc")
	}
	if x := m["expect"]; x != nil {
		s := l.str(x, path+".expect")
		if x.Kind == jsonpos.String {
			d, err := policy.ParseDecision(s)
			if err != nil {
				l.errorf(x.Pos, path+".expect", "unknown decision %q (want Allowed, ImplicitlyDenied or ExplicitlyDenied)", s)
			}
			c.Expect = d
		}
	}
	req := policy.Request{}
	if x := m["principal"]; x != nil {
		req.Principal = l.nonEmpty(x, path+".principal", "principal")
	}
	if x := m["action"]; x != nil {
		req.Action = l.nonEmpty(x, path+".action", "action")
	}
	if x := m["resource"]; x != nil {
		req.Resource = l.nonEmpty(x, path+".resource", "resource")
	}
	if x := m["resourceAccount"]; x != nil {
		req.ResourceAccount = l.str(x, path+".resourceAccount")
		if x.Kind == jsonpos.String && req.ResourceAccount != "" && !accountRE.MatchString(req.ResourceAccount) {
			l.errorf(x.Pos, path+".resourceAccount", "account ID %q is not 12 digits", req.ResourceAccount)
		}
	}
	if x := m["context"]; x != nil {
		req.Context = l.context(x, path+".context")
	}
	c.Request = req

	set := &policy.PolicySet{}
	if x := m["identityPolicies"]; x != nil && x.Kind != jsonpos.Null {
		set.Identity = l.policyList(x, path+".identityPolicies", policy.KindIdentity, false)
	}
	if x := m["permissionBoundary"]; x != nil {
		// A boundary is one managed policy: a list may hold at most one.
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
		if x.Kind == jsonpos.Array && len(x.Elems) > 1 {
			l.errorf(x.Elems[1].Pos, path+".permissionBoundary[1]", "a permissions boundary is one managed policy: give at most one (got %d)", len(x.Elems))
		}
		set.Boundary = l.policyOrList(x, path+".permissionBoundary", policy.KindBoundary)
	}
	if x := m["sessionPolicy"]; x != nil {
		set.Session = l.policyOrList(x, path+".sessionPolicy", policy.KindSession)
	}
	if x := m["resourcePolicy"]; x != nil && x.Kind != jsonpos.Null {
		switch x.Kind {
		case jsonpos.Array:
			l.typeError(x, path+".resourcePolicy", "one policy (a document or {\"name\", \"policy\"}), \"grants-nothing\" or null")
		case jsonpos.String:
			if x.Str != GrantsNothing {
				l.errorf(x.Pos, path+".resourcePolicy", "want a policy, %q or null, got the string %q", GrantsNothing, x.Str)
			}
			set.ResourceGrantsNothing = true
		default:
			set.Resource = l.policy(x, path+".resourcePolicy", resourcePolicyKind(req.Resource))
		}
	}
	if x := m["scps"]; x != nil {
		set.SCPs = l.levels(x, path+".scps", policy.KindSCP)
	}
	if x := m["rcps"]; x != nil {
		set.RCPs = l.levels(x, path+".rcps", policy.KindRCP)
	}
	if x := m["organization"]; x != nil && x.Kind != jsonpos.Null {
		c.Org = l.organization(x, path+".organization")
		set.Org = c.Org
	}
	if x := m["vpcEndpointPolicies"]; x != nil && x.Kind != jsonpos.Null {
		vp := path + ".vpcEndpointPolicies"
		if x.Kind == jsonpos.Array {
			for i, e := range x.Elems {
				if ep, ok := l.endpoint(e, indexPath(vp, i)); ok {
					set.VPCEndpoints = append(set.VPCEndpoints, ep)
				}
			}
		} else if ep, ok := l.endpoint(x, vp); ok {
			set.VPCEndpoints = append(set.VPCEndpoints, ep)
		}
		for _, ep := range set.VPCEndpoints {
			c.VPCEndpointPolicies = append(c.VPCEndpointPolicies, ep.Policy)
		}
	}
	c.Set = set
	if l.n == before && set.Resource == nil && !set.ResourceGrantsNothing && policy.IsKMSKey(req.Resource) && !policy.NoPermissionsRequired(req.Action) {
		at, atPath := v.Pos, path
		if x := m["resource"]; x != nil {
			at, atPath = x.Pos, path+".resource"
		}
		f.Warnings = append(f.Warnings, &Error{Pos: l.pos(at, atPath),
			Msg: fmt.Sprintf("warning: case %q is a request on a KMS key without a key policy: AWS's default key policy is assumed (give \"resourcePolicy\", or %q for a key policy that allows no one)", c.Name, GrantsNothing)})
	}
	if l.n > before {
		return nil
	}
	rc, err := policy.NewRequestContext(req, c.Org)
	if err != nil {
		at, atPath := v.Pos, path
		if field := requestField(err.Error()); field != "" && m[field] != nil {
			at, atPath = m[field].Pos, path+"."+field
		}
		l.errorf(at, atPath, "%v", err)
		return nil
	}
	c.rc = rc
	return c
}

// requestField guesses which case field a request error is about, from the
// words of the engine's message, so that the error points at that field.
func requestField(msg string) string {
	msg = strings.ToLower(msg)
	for _, f := range []struct{ word, field string }{
		{"resource account", "resourceAccount"},
		{"context", "context"},
		{"action", "action"},
		{"resource", "resource"},
		{"principal", "principal"},
	} {
		if strings.Contains(msg, f.word) {
			return f.field
		}
	}
	return ""
}

func (l *loader) nonEmpty(v *jsonpos.Value, path, what string) string {
	s := l.str(v, path)
	if v.Kind == jsonpos.String && strings.TrimSpace(s) == "" {
		l.errorf(v.Pos, path, "%s is empty", what)
	}
	return s
}

// context reads {"key": "value" | ["v1", "v2"]}.
func (l *loader) context(v *jsonpos.Value, path string) map[string][]string {
	if v.Kind == jsonpos.Null {
		return nil
	}
	if v.Kind != jsonpos.Object {
		l.typeError(v, path, "an object of context keys")
		return nil
	}
	ctx := make(map[string][]string, len(v.Members))
	lower := make(map[string]string, len(v.Members))
	for _, mem := range v.Members {
		kp := joinPath(path, mem.Key)
		if strings.TrimSpace(mem.Key) == "" {
			l.errorf(mem.KeyPos, kp, "context key is empty")
			continue
		}
		if prev, dup := lower[strings.ToLower(mem.Key)]; dup {
			l.errorf(mem.KeyPos, kp, "context key %q given twice (context keys are case-insensitive; first as %q)", mem.Key, prev)
			continue
		}
		lower[strings.ToLower(mem.Key)] = mem.Key
		switch mem.Value.Kind {
		case jsonpos.String:
			ctx[mem.Key] = []string{mem.Value.Str}
		case jsonpos.Array:
			vals := make([]string, 0, len(mem.Value.Elems))
			for i, e := range mem.Value.Elems {
				if e.Kind != jsonpos.String {
					l.typeError(e, indexPath(kp, i), "a string")
					continue
				}
				vals = append(vals, e.Str)
			}
			ctx[mem.Key] = vals
		default:
			l.typeError(mem.Value, kp, "a string or a list of strings")
		}
	}
	return ctx
}

// GrantsNothing is the value of "resourcePolicy" that says the resource
// has a resource-based policy that grants nothing (for a KMS key: a key
// policy that allows no one), as opposed to an unknown one.
const GrantsNothing = "grants-nothing"

// endpoint reads one VPC endpoint: a policy document, {"name", "policy"},
// or {"id", "type", "name", "policy"} where type is "interface" (the
// default) or "gateway".
func (l *loader) endpoint(v *jsonpos.Value, path string) (policy.VPCEndpoint, bool) {
	var ep policy.VPCEndpoint
	if v.Kind == jsonpos.Object && (v.Get("id") != nil || v.Get("type") != nil) {
		m, ok := l.members(v, path, "VPC endpoint", []string{"id", "type", "name", "policy"}, []string{"policy"})
		if !ok {
			return ep, false
		}
		if x := m["id"]; x != nil {
			ep.ID = l.str(x, path+".id")
		}
		if x := m["type"]; x != nil {
			switch t := l.str(x, path+".type"); t {
			case "interface":
			case "gateway":
				ep.Gateway = true
			default:
				if x.Kind == jsonpos.String {
					l.errorf(x.Pos, path+".type", "unknown VPC endpoint type %q (want \"interface\" or \"gateway\")", t)
				}
			}
		}
		doc := m["policy"]
		if doc == nil {
			return ep, false
		}
		name := path
		if n := m["name"]; n != nil {
			name = l.nonEmpty(n, path+".name", "policy name")
		}
		ep.Policy = l.document(doc, path+".policy", name, policy.KindVPCEndpoint)
		return ep, ep.Policy != nil
	}
	ep.Policy = l.policy(v, path, policy.KindVPCEndpoint)
	return ep, ep.Policy != nil
}

// policyOrList reads a document, a {"name", "policy"} object, a list of
// them, or null. Null and an empty list both mean no such policy (nil).
func (l *loader) policyOrList(v *jsonpos.Value, path string, k policy.Kind) []*policy.Policy {
	switch v.Kind {
	case jsonpos.Null:
		return nil
	case jsonpos.Array:
		if len(v.Elems) == 0 {
			return nil
		}
		return l.policyList(v, path, k, true)
	default:
		if p := l.policy(v, path, k); p != nil {
			return []*policy.Policy{p}
		}
		return nil
	}
}

// policyList reads a list of policies. nonNil asks for a non-nil slice even
// when the list is empty (an empty SCP level is a level without policies).
func (l *loader) policyList(v *jsonpos.Value, path string, k policy.Kind, nonNil bool) []*policy.Policy {
	if v.Kind != jsonpos.Array {
		l.typeError(v, path, "a list of policies")
		return nil
	}
	var out []*policy.Policy
	if nonNil {
		out = make([]*policy.Policy, 0, len(v.Elems))
	}
	for i, e := range v.Elems {
		if p := l.policy(e, indexPath(path, i), k); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// policy reads a policy document or {"name": ..., "policy": document},
// parses it with positions, validates it for kind k and compiles it.
func (l *loader) policy(v *jsonpos.Value, path string, k policy.Kind) *policy.Policy {
	if v.Kind != jsonpos.Object {
		l.typeError(v, path, "a policy document or {\"name\", \"policy\"}")
		return nil
	}
	name := path
	doc := v
	docPath := path
	if v.Get("policy") != nil {
		m, ok := l.members(v, path, "named policy", []string{"name", "policy"}, []string{"policy"})
		if !ok {
			return nil
		}
		if n := m["name"]; n != nil {
			name = l.nonEmpty(n, path+".name", "policy name")
		}
		doc = m["policy"]
		docPath = path + ".policy"
		if doc == nil {
			return nil
		}
	}
	return l.document(doc, docPath, name, k)
}

// document parses the policy document doc, validates it for kind k and
// compiles it under name.
func (l *loader) document(doc *jsonpos.Value, docPath, name string, k policy.Kind) *policy.Policy {
	if doc.Kind != jsonpos.Object {
		l.typeError(doc, docPath, "a policy document")
		return nil
	}
	src := policy.Source{File: l.file, Path: docPath}
	d, err := policy.ParseValue(doc, l.data, src)
	if err != nil {
		l.policyError(doc, docPath, err)
		return nil
	}
	if fs := d.Validate(k); policy.HasErrors(fs) {
		l.policyError(doc, docPath, &policy.Error{Findings: fs})
		return nil
	}
	p, err := policy.Compile(d, name)
	if err != nil {
		l.policyError(doc, docPath, err)
		return nil
	}
	return p
}

// policyError turns a policy error into case-file errors, one per error
// finding, keeping the positions the policy package computed.
func (l *loader) policyError(doc *jsonpos.Value, path string, err error) {
	var pe *policy.Error
	if errors.As(err, &pe) {
		n := 0
		for _, f := range pe.Findings {
			if f.Severity != policy.SeverityError {
				continue
			}
			n++
			l.add(&Error{Pos: f.Pos, Msg: f.Message, Err: ErrMalformed})
		}
		if n > 0 {
			return
		}
	}
	l.errorf(doc.Pos, path, "%v", err)
}

// levels reads an SCP or RCP chain: a list of levels, each a list of
// policies or {"id", "policies"}.
func (l *loader) levels(v *jsonpos.Value, path string, k policy.Kind) []policy.Level {
	if v.Kind == jsonpos.Null {
		return nil
	}
	if v.Kind != jsonpos.Array {
		l.typeError(v, path, "a list of levels (root first)")
		return nil
	}
	out := make([]policy.Level, 0, len(v.Elems))
	for i, e := range v.Elems {
		lp := indexPath(path, i)
		switch e.Kind {
		case jsonpos.Array:
			out = append(out, policy.Level{Policies: l.policyList(e, lp, k, true)})
		case jsonpos.Object:
			m, ok := l.members(e, lp, "level", []string{"id", "policies"}, []string{"policies"})
			if !ok {
				continue
			}
			lv := policy.Level{Policies: []*policy.Policy{}}
			if id := m["id"]; id != nil {
				lv.ID = l.str(id, lp+".id")
			}
			if ps := m["policies"]; ps != nil {
				lv.Policies = l.policyList(ps, lp+".policies", k, true)
			}
			out = append(out, lv)
		default:
			l.typeError(e, lp, "a level (a list of policies or {\"id\", \"policies\"})")
		}
	}
	return out
}

func (l *loader) organization(v *jsonpos.Value, path string) *policy.Org {
	m, ok := l.members(v, path, "organization", []string{"id", "managementAccount"}, nil)
	if !ok {
		return nil
	}
	o := &policy.Org{}
	if x := m["id"]; x != nil {
		o.ID = l.str(x, path+".id")
	}
	if x := m["managementAccount"]; x != nil {
		o.ManagementAccount = l.str(x, path+".managementAccount")
		if x.Kind == jsonpos.String && o.ManagementAccount != "" && !accountRE.MatchString(o.ManagementAccount) {
			l.errorf(x.Pos, path+".managementAccount", "account ID %q is not 12 digits", o.ManagementAccount)
		}
	}
	return o
}
