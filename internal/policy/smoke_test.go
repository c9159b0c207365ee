package policy

import (
	"fmt"
	"os"
	"testing"

	"github.com/orgguard/orgguard/internal/jsonpos"
)

// caseFile decodes the conformance case format (the policy engine issue)
// with just enough code to run the reference cases here, independently of
// the loader of the eval command.
type caseLoader struct {
	t    testing.TB
	file string
	data []byte
}

func (l *caseLoader) policy(v *jsonpos.Value, path string, k Kind) *Policy {
	l.t.Helper()
	name := path
	doc := v
	if v.Get("policy") != nil && v.Get("Statement") == nil {
		if n := v.Get("name"); n != nil {
			name = n.Str
		}
		doc = v.Get("policy")
		path += ".policy"
	}
	d, err := ParseValue(doc, l.data, Source{File: l.file, Path: path})
	if err != nil {
		l.t.Fatalf("%s: %v", path, err)
	}
	if fs := d.Validate(k); HasErrors(fs) {
		l.t.Fatalf("%s: invalid %v policy: %v", path, k, (&Error{Findings: fs}).Error())
	}
	p, err := Compile(d, name)
	if err != nil {
		l.t.Fatalf("%s: %v", path, err)
	}
	return p.WithKind(k)
}

func (l *caseLoader) policies(v *jsonpos.Value, path string, k Kind) []*Policy {
	if v == nil || v.Kind == jsonpos.Null {
		return nil
	}
	if v.Kind == jsonpos.Array {
		out := []*Policy{}
		for i, e := range v.Elems {
			out = append(out, l.policy(e, fmt.Sprintf("%s[%d]", path, i), k))
		}
		return out
	}
	return []*Policy{l.policy(v, path, k)}
}

func (l *caseLoader) levels(v *jsonpos.Value, path string, k Kind) []Level {
	if v == nil {
		return nil
	}
	var out []Level
	for i, e := range v.Elems {
		lp := fmt.Sprintf("%s[%d]", path, i)
		if e.Kind == jsonpos.Object {
			id := ""
			if x := e.Get("id"); x != nil {
				id = x.Str
			}
			out = append(out, Level{ID: id, Policies: l.policies(e.Get("policies"), lp+".policies", k)})
			continue
		}
		out = append(out, Level{Policies: l.policies(e, lp, k)})
	}
	return out
}

type conformanceCase struct {
	name   string
	expect Decision
	req    Request
	org    *Org
	set    PolicySet
}

func loadCases(t testing.TB, file string) []conformanceCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	root, err := jsonpos.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	l := &caseLoader{t: t, file: file, data: data}
	var out []conformanceCase
	for i, c := range root.Get("cases").Elems {
		path := fmt.Sprintf("cases[%d]", i)
		str := func(k string) string {
			if v := c.Get(k); v != nil {
				return v.Str
			}
			return ""
		}
		exp, err := ParseDecision(str("expect"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cc := conformanceCase{name: str("name"), expect: exp}
		cc.req = Request{Principal: str("principal"), Action: str("action"), Resource: str("resource"), ResourceAccount: str("resourceAccount"), Context: map[string][]string{}}
		if ctx := c.Get("context"); ctx != nil {
			for _, m := range ctx.Members {
				if m.Value.Kind == jsonpos.Array {
					vs := []string{}
					for _, e := range m.Value.Elems {
						vs = append(vs, e.Str)
					}
					cc.req.Context[m.Key] = vs
				} else {
					cc.req.Context[m.Key] = []string{m.Value.Str}
				}
			}
		}
		if o := c.Get("organization"); o != nil && o.Kind == jsonpos.Object {
			cc.org = &Org{}
			if v := o.Get("id"); v != nil {
				cc.org.ID = v.Str
			}
			if v := o.Get("managementAccount"); v != nil {
				cc.org.ManagementAccount = v.Str
			}
		}
		cc.set.Identity = l.policies(c.Get("identityPolicies"), path+".identityPolicies", KindIdentity)
		cc.set.Boundary = l.policies(c.Get("permissionBoundary"), path+".permissionBoundary", KindBoundary)
		cc.set.Session = l.policies(c.Get("sessionPolicy"), path+".sessionPolicy", KindSession)
		if v := c.Get("resourcePolicy"); v != nil && v.Kind != jsonpos.Null {
			cc.set.Resource = l.policy(v, path+".resourcePolicy", ResourcePolicyKind(cc.req.Action))
		}
		cc.set.SCPs = l.levels(c.Get("scps"), path+".scps", KindSCP)
		cc.set.RCPs = l.levels(c.Get("rcps"), path+".rcps", KindRCP)
		cc.set.Org = cc.org
		out = append(out, cc)
	}
	return out
}

func runCases(t *testing.T, file string) {
	for _, c := range loadCases(t, file) {
		t.Run(c.name, func(t *testing.T) {
			rc, err := NewRequestContext(c.req, c.org)
			if err != nil {
				t.Fatalf("NewRequestContext: %v", err)
			}
			res := Evaluate(rc, &c.set)
			if res.Decision != c.expect {
				t.Errorf("Evaluate(%s) = %v, want %v\n%s", c.name, res.Decision, c.expect, res.Explain())
			}
			if ex := res.Explain(); ex.Decision != res.Decision {
				t.Errorf("Explain().Decision = %v, want %v", ex.Decision, res.Decision)
			}
		})
	}
}

// TestSmokeCases runs the 24 reference cases whose expected decisions follow
// the AWS documentation.
func TestSmokeCases(t *testing.T) {
	const file = "../../../shared/cases/smoke.json"
	if _, err := os.Stat(file); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("reference cases must run in CI: %v", err)
		}
		t.Skipf("reference cases not available: %v", err)
	}
	runCases(t, file)
}
