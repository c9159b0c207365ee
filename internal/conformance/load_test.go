package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/policy"
)

// validCase is a minimal well-formed case; tests splice broken fields in.
const validCase = `{
  "name": "c1",
  "expect": "Allowed",
  "principal": "arn:aws:iam::111111111111:user/alice",
  "action": "s3:GetObject",
  "resource": "arn:aws:s3:::bucket1/key.txt",
  "identityPolicies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
}`

func TestParseReportsPositionAndPath(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // substring of the error, with line:col and path
	}{
		{
			name: "malformed JSON names the line and column",
			data: "{\"cases\": [\n  {\"name\": }\n]}",
			want: "bad.json:2:12: malformed JSON",
		},
		{
			name: "the top level must be an object",
			data: `[1, 2]`,
			want: "bad.json:1:1: want case file (an object), got array",
		},
		{
			name: "a missing cases list is reported",
			data: `{"description": "x"}`,
			want: `bad.json:1:1: case file has no "cases" field`,
		},
		{
			name: "an unknown top-level field is an error",
			data: `{"cases": [], "cases2": []}`,
			want: `bad.json:1:15: cases2: unknown field "cases2" in case file`,
		},
		{
			name: "cases must be a list",
			data: `{"cases": {}}`,
			want: "bad.json:1:11: cases: want a list of cases, got object",
		},
		{
			name: "an unknown field in a case is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "expected": "Allowed",`, 1) + "]}",
			want: `bad.json:3:17: cases[0].expected: unknown field "expected" in case`,
		},
		{
			name: "a field in the wrong case gets a hint",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"action"`, `"Action"`, 1) + "]}",
			want: `cases[0].Action: unknown field "Action" in case (did you mean "action"?)`,
		},
		{
			name: "a missing required field is reported at the case",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"action": "s3:GetObject",`, ``, 1) + "]}",
			want: `bad.json:2:1: cases[0]: case has no "action" field`,
		},
		{
			name: "an unknown decision is reported at its value",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"expect": "Allowed"`, `"expect": "Allow"`, 1) + "]}",
			want: `bad.json:4:13: cases[0].expect: unknown decision "Allow"`,
		},
		{
			name: "a context value must be a string or a list of strings",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "context": {"aws:SecureTransport": true},`, 1) + "]}",
			want: `bad.json:3:52: cases[0].context.aws:SecureTransport: want a string or a list of strings, got boolean`,
		},
		{
			name: "a context key given twice in different case is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "context": {"aws:a": "x", "AWS:A": "y"},`, 1) + "]}",
			want: `cases[0].context.AWS:A: context key "AWS:A" given twice`,
		},
		{
			name: "a bad resource account is reported",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "resourceAccount": "1234",`, 1) + "]}",
			want: `cases[0].resourceAccount: account ID "1234" is not 12 digits`,
		},
		{
			name: "duplicate case names are reported",
			data: "{\"cases\": [\n" + validCase + ",\n" + validCase + "]}",
			want: `cases[1].name: duplicate case name "c1" (first at cases[0])`,
		},
		{
			name: "a duplicate key in a case is reported",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "name": "c2",`, 1) + "]}",
			want: `cases[0].name: duplicate key "name"`,
		},
		{
			name: "an SCP level must be a list or {id, policies}",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "scps": ["x"],`, 1) + "]}",
			want: `cases[0].scps[0]: want a level (a list of policies or {"id", "policies"}), got string`,
		},
		{
			name: "an unknown field in a level object is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "scps": [{"id": "r-1", "policy": []}],`, 1) + "]}",
			want: `cases[0].scps[0]: level has no "policies" field`,
		},
		{
			name: "a resource policy cannot be a list",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "resourcePolicy": [],`, 1) + "]}",
			want: `cases[0].resourcePolicy: want one policy`,
		},
		{
			name: "an unknown field in a named policy is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "sessionPolicy": {"name": "s", "policy": {}, "kind": "x"},`, 1) + "]}",
			want: `cases[0].sessionPolicy.kind: unknown field "kind" in named policy`,
		},
		{
			name: "an unknown organization field is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"name": "c1",`, `"name": "c1", "organization": {"id": "o-1", "master": "1"},`, 1) + "]}",
			want: `cases[0].organization.master: unknown field "master" in organization`,
		},
		{
			name: "a request the engine cannot prepare points at the field",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"action": "s3:GetObject"`, `"action": "GetObject"`, 1) + "]}",
			want: `bad.json:6:13: cases[0].action: `,
		},
		{
			name: "an empty principal is an error",
			data: "{\"cases\": [\n" + strings.Replace(validCase, `"principal": "arn:aws:iam::111111111111:user/alice"`, `"principal": ""`, 1) + "]}",
			want: `bad.json:5:16: cases[0].principal: principal is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data), "bad.json")
			if err == nil {
				t.Fatalf("Parse(%q) = nil error, want one containing %q", tt.data, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse error %v does not match ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error =\n%v\nwant it to contain\n%s", err, tt.want)
			}
		})
	}
}

// TestParsePolicyErrorsKeepTheirPlace checks that an error inside an
// embedded policy names the case file, the line and column inside it, and
// the full JSON path from the file's root.
func TestParsePolicyErrorsKeepTheirPlace(t *testing.T) {
	data := `{"cases": [
 {"name": "ok", "expect": "Allowed", "principal": "arn:aws:iam::111111111111:user/a",
  "action": "s3:GetObject", "resource": "*"},
 {"name": "bad", "expect": "Allowed", "principal": "arn:aws:iam::111111111111:user/a",
  "action": "s3:GetObject", "resource": "*",
  "scps": [[], [
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    {"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}
  ]]}
]}`
	_, err := Parse([]byte(data), "cases.json")
	if err == nil {
		t.Fatal("Parse of a case with a bad Effect = nil error")
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("Parse error %T %v is not a non-empty ErrorList", err, err)
	}
	got := list[0].Pos
	want := policy.Pos{File: "cases.json", Line: 8, Col: 56, Path: "cases[1].scps[1][1].Statement[0].Effect"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("position of the bad Effect (-want +got):\n%s\nerror: %v", diff, err)
	}
	if !strings.HasPrefix(err.Error(), "cases.json:8:56: cases[1].scps[1][1].Statement[0].Effect: ") {
		t.Errorf("error text = %q, want it to start with file:line:col: path", err.Error())
	}
}

func TestParseNamedPolicyAndLevelPaths(t *testing.T) {
	data := `{"cases": [{"name": "n", "expect": "Allowed", "principal": "arn:aws:iam::111111111111:user/a",
  "action": "s3:GetObject", "resource": "*",
  "rcps": [{"id": "r-1", "policies": [{"name": "DenyAll", "policy":
    {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Bogus": 1}]}}]}]}]}`
	_, err := Parse([]byte(data), "f.json")
	if err == nil {
		t.Fatal("Parse of an RCP with an unknown element = nil error")
	}
	if want := "cases[0].rcps[0].policies[0].policy.Statement[0].Bogus"; !strings.Contains(err.Error(), want) {
		t.Errorf("Parse error = %v, want the path %s", err, want)
	}
	if !strings.Contains(err.Error(), "f.json:4:") {
		t.Errorf("Parse error = %v, want line 4 of f.json", err)
	}
}

func TestParseChecksPolicyKind(t *testing.T) {
	// A Principal element is not allowed in an identity-based policy.
	data := `{"cases": [{"name": "k", "expect": "Allowed", "principal": "arn:aws:iam::111111111111:user/a",
  "action": "s3:GetObject", "resource": "*",
  "identityPolicies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}]}]}`
	_, err := Parse([]byte(data), "k.json")
	if err == nil {
		t.Fatal("Parse of an identity policy with a Principal = nil error")
	}
	if !strings.Contains(err.Error(), "cases[0].identityPolicies[0]") {
		t.Errorf("Parse error = %v, want it to point into cases[0].identityPolicies[0]", err)
	}
}

func TestParseAppliesKindRules(t *testing.T) {
	head := `{"cases": [{"name": "k", "expect": "Allowed", "principal": "arn:aws:iam::111111111111:user/a", "action": "s3:GetObject", "resource": %q, `
	tests := []struct {
		name     string
		resource string
		field    string
		want     string
	}{
		{"an RCP may not allow", "*", `"rcps": [[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}]]`, "cases[0].rcps[0][0].Statement[0]"},
		{"an SCP may not name a principal", "*", `"scps": [[{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}]]`, "cases[0].scps[0][0].Statement[0].Principal"},
		{"a resource policy needs a principal", "*", `"resourcePolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`, "cases[0].resourcePolicy.Statement[0]"},
		{"a trust policy for a role resource takes no Resource", "arn:aws:iam::111111111111:role/R", `"resourcePolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole", "Resource": "*"}]}`, "cases[0].resourcePolicy.Statement[0]"},
		{"a boundary takes no principal", "*", `"permissionBoundary": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}`, "cases[0].permissionBoundary.Statement[0].Principal"},
		{"a session policy in a list keeps its index", "*", `"sessionPolicy": [{"Version": "2012-10-17", "Statement": []}, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}]`, "cases[0].sessionPolicy[1].Statement[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fmt.Sprintf(head, tt.resource) + tt.field + "}]}"
			_, err := Parse([]byte(data), "kinds.json")
			if err == nil {
				t.Fatalf("Parse(%s) = nil error, want one at %s", data, tt.want)
			}
			if !strings.Contains(err.Error(), "kinds.json:1:") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want kinds.json:1:col and the path %s", err, tt.want)
			}
		})
	}
}

func TestParseValidFile(t *testing.T) {
	data := `{"description": "d", "cases": [
  {"name": "a", "description": "x", "doc": "https://docs.aws.amazon.com/x.html", "expect": "ExplicitlyDenied",
   "principal": "arn:aws:iam::111111111111:role/Dev", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
   "resourceAccount": "111111111111", "context": {"aws:TagKeys": ["a", "b"], "aws:SecureTransport": "true"},
   "identityPolicies": [{"name": "all", "policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}}],
   "permissionBoundary": null, "sessionPolicy": null, "resourcePolicy": null,
   "scps": [{"id": "r-1", "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]},
            [{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}]],
   "rcps": [[]],
   "organization": {"id": "o-abc", "managementAccount": "123456789012"}},
  {"name": "b", "expect": "Allowed", "principal": "anonymous", "action": "s3:GetObject", "resource": "*",
   "vpcEndpointPolicies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}]}
]}`
	f, err := Parse([]byte(data), "ok.json")
	if err != nil {
		t.Fatalf("Parse(valid file) = %v", err)
	}
	if len(f.Cases) != 2 {
		t.Fatalf("Parse(valid file) has %d cases, want 2", len(f.Cases))
	}
	a := f.Cases[0]
	if a.Expect != policy.ExplicitlyDenied {
		t.Errorf("case a Expect = %v, want ExplicitlyDenied", a.Expect)
	}
	wantCtx := map[string][]string{"aws:TagKeys": {"a", "b"}, "aws:SecureTransport": {"true"}}
	if diff := cmp.Diff(wantCtx, a.Request.Context); diff != "" {
		t.Errorf("case a context (-want +got):\n%s", diff)
	}
	if len(a.Set.SCPs) != 2 || a.Set.SCPs[0].ID != "r-1" || len(a.Set.SCPs[1].Policies) != 1 {
		t.Errorf("case a SCP chain = %+v, want 2 levels, the first with id r-1", a.Set.SCPs)
	}
	if len(a.Set.RCPs) != 1 || a.Set.RCPs[0].Policies == nil || len(a.Set.RCPs[0].Policies) != 0 {
		t.Errorf("case a RCP chain = %+v, want one empty level", a.Set.RCPs)
	}
	if a.Set.Boundary != nil || a.Set.Session != nil || a.Set.Resource != nil {
		t.Errorf("case a: null boundary/session/resource policies should be nil, got %+v", a.Set)
	}
	if a.Set.Identity[0].Name() != "all" {
		t.Errorf("named identity policy Name() = %q, want all", a.Set.Identity[0].Name())
	}
	if a.Org == nil || a.Org.ManagementAccount != "123456789012" {
		t.Errorf("case a Org = %+v, want the management account", a.Org)
	}
	if a.Pos.Line != 2 || a.Pos.Path != "cases[0]" {
		t.Errorf("case a Pos = %+v, want line 2 and path cases[0]", a.Pos)
	}
	b := f.Cases[1]
	if b.Skip != "" || len(b.Set.VPCEndpoints) != 1 || b.Set.VPCEndpoints[0].Gateway {
		t.Errorf("case with vpcEndpointPolicies: Skip %q, endpoints %+v, want one interface endpoint and no skip", b.Skip, b.Set.VPCEndpoints)
	}
	if r := Run(b, Options{}); r.Status == Skipped {
		t.Errorf("Run(vpce case) = %v %q, want it evaluated", r.Status, r.Reason)
	}
}

// caseFile wraps case objects into a case file.
func caseFile(cases ...string) []byte {
	return []byte("{\"cases\": [\n" + strings.Join(cases, ",\n") + "\n]}")
}

// withField returns validCase with extra fields spliced in after its name.
func withField(name, fields string) string {
	return strings.Replace(validCase, `"name": "c1",`, `"name": "`+name+`", `+fields+`,`, 1)
}

func TestParseCaseFields(t *testing.T) {
	boundary := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`
	vpce := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}`
	tests := []struct {
		name   string
		fields string
		check  func(*Case) string // returns what is wrong, or ""
	}{
		{"an empty boundary list means no boundary", `"permissionBoundary": []`, func(c *Case) string {
			if c.Set.Boundary != nil {
				return fmt.Sprintf("Boundary = %v, want nil", c.Set.Boundary)
			}
			return ""
		}},
		{"an empty session policy list means no session policy", `"sessionPolicy": []`, func(c *Case) string {
			if c.Set.Session != nil {
				return fmt.Sprintf("Session = %v, want nil", c.Set.Session)
			}
			return ""
		}},
		{"a one-element boundary list is the boundary", `"permissionBoundary": [` + boundary + `]`, func(c *Case) string {
			if len(c.Set.Boundary) != 1 {
				return fmt.Sprintf("Boundary has %d policies, want 1", len(c.Set.Boundary))
			}
			return ""
		}},
		{"grants-nothing marks a resource policy that grants nothing", `"resourcePolicy": "grants-nothing"`, func(c *Case) string {
			if !c.Set.ResourceGrantsNothing || c.Set.Resource != nil {
				return fmt.Sprintf("ResourceGrantsNothing = %v, Resource = %v, want true and nil", c.Set.ResourceGrantsNothing, c.Set.Resource)
			}
			return ""
		}},
		{"a gateway endpoint keeps its id and type", `"vpcEndpointPolicies": [{"id": "vpce-1", "type": "gateway", "name": "gw", "policy": ` + vpce + `}]`, func(c *Case) string {
			if len(c.Set.VPCEndpoints) != 1 {
				return fmt.Sprintf("VPCEndpoints = %+v, want one", c.Set.VPCEndpoints)
			}
			e := c.Set.VPCEndpoints[0]
			if e.ID != "vpce-1" || !e.Gateway || e.Policy.Name() != "gw" {
				return fmt.Sprintf("endpoint = %+v (policy %q), want vpce-1, gateway, policy gw", e, e.Policy.Name())
			}
			return ""
		}},
		{"one endpoint policy without a list is accepted", `"vpcEndpointPolicies": ` + vpce, func(c *Case) string {
			if len(c.Set.VPCEndpoints) != 1 || c.Set.VPCEndpoints[0].Gateway {
				return fmt.Sprintf("VPCEndpoints = %+v, want one interface endpoint", c.Set.VPCEndpoints)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(caseFile(withField("x", tt.fields)), "fields.json")
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if msg := tt.check(f.Cases[0]); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestParseRejectsBadNewFields(t *testing.T) {
	p := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}`
	tests := []struct {
		name, fields, want string
	}{
		{"two boundaries are an error", `"permissionBoundary": [` + p + `, ` + p + `]`, "cases[0].permissionBoundary[1]: a permissions boundary is one managed policy"},
		{"an unknown resource policy word is an error", `"resourcePolicy": "nothing"`, `cases[0].resourcePolicy: want a policy, "grants-nothing" or null`},
		{"an endpoint policy needs a Principal", `"vpcEndpointPolicies": [` + p + `]`, "a statement of a VPC endpoint policy needs a Principal"},
		{"an unknown endpoint type is an error", `"vpcEndpointPolicies": [{"type": "tunnel", "policy": ` + p + `}]`, `cases[0].vpcEndpointPolicies[0].type: unknown VPC endpoint type "tunnel"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(caseFile(withField("x", tt.fields)), "bad.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseWarnsAboutAKMSKeyWithoutKeyPolicy(t *testing.T) {
	key := `"resource": "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"`
	kms := func(name, extra string) string {
		c := strings.Replace(withField(name, extra), `"resource": "arn:aws:s3:::bucket1/key.txt"`, key, 1)
		return strings.Replace(c, `"action": "s3:GetObject"`, `"action": "kms:Decrypt"`, 1)
	}
	tests := []struct {
		name, cases string
		warnings    int
	}{
		{"a key without key policy is warned about", kms("k", `"doc": "d"`), 1},
		{"grants-nothing is not warned about", kms("k", `"resourcePolicy": "grants-nothing"`), 0},
		{"an alias is not a key", strings.Replace(kms("k", `"doc": "d"`), "key/1234abcd-12ab-34cd-56ef-1234567890ab", "alias/app", 1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(caseFile(tt.cases), "kms.json")
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if len(f.Warnings) != tt.warnings {
				t.Errorf("Parse warnings = %v, want %d", f.Warnings, tt.warnings)
			}
			for _, w := range f.Warnings {
				if !strings.Contains(w.Error(), "kms.json:") || !strings.Contains(w.Error(), "warning: ") || w.Pos.Path != "cases[0].resource" {
					t.Errorf("warning %q, want kms.json:line:col, cases[0].resource and \"warning: \"", w)
				}
			}
		})
	}
}

func TestParseKeepGoingLoadsTheValidCases(t *testing.T) {
	bad := strings.Replace(withField("bad", `"doc": "d"`), `"Effect": "Allow"`, `"Effect": "allow"`, 1)
	data := caseFile(withField("good1", `"doc": "d"`), bad, withField("good2", `"doc": "d"`), withField("good1", `"doc": "dup"`))
	f, err := ParseKeepGoing(data, "mixed.json")
	if err != nil {
		t.Fatalf("ParseKeepGoing = %v", err)
	}
	var names []string
	for _, c := range f.Cases {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"good1", "good2"}, names); diff != "" {
		t.Errorf("valid cases (-want +got):\n%s", diff)
	}
	if len(f.Invalid) != 2 || f.Invalid[0].Name != "bad" || f.Invalid[0].Index != 1 || f.Invalid[1].Index != 3 {
		t.Fatalf("Invalid = %+v, want cases 1 (bad) and 3 (duplicate name)", f.Invalid)
	}
	if got := f.Invalid[0].Errors.Error(); !strings.Contains(got, "mixed.json:") || !strings.Contains(got, "cases[1].identityPolicies[0].Statement[0].Effect") {
		t.Errorf("invalid case errors = %q, want file:line:col and the JSON path", got)
	}
	if _, err := Parse(data, "mixed.json"); err == nil {
		t.Error("Parse of a file with an invalid case succeeded, want an error")
	}
}

func TestParseKeepGoingFailsOnUnusableFiles(t *testing.T) {
	for _, data := range []string{`{"cases": [`, `[1]`, `{"cases": {}}`, `{"description": "x"}`} {
		if f, err := ParseKeepGoing([]byte(data), "bad.json"); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseKeepGoing(%q) = %v, %v, want an ErrMalformed error", data, f, err)
		}
	}
	f, err := ParseKeepGoing([]byte(`{"cases": [], "extra": 1}`), "bad.json")
	if err != nil || len(f.Problems) != 1 {
		t.Errorf("ParseKeepGoing(unknown top-level field) = %v, %v, want the file with one problem", f, err)
	}
}

func TestLoadFileUnreadable(t *testing.T) {
	_, err := LoadFile(filepath.Join(t.TempDir(), "missing.json"))
	if err == nil || errors.Is(err, ErrMalformed) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v, want a not-exist error that is not ErrMalformed", err)
	}
}

func TestSummaryString(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{Passed: 3}, "3 passed, 0 failed"},
		{Summary{Passed: 3, Failed: 1}, "3 passed, 1 failed"},
		{Summary{Passed: 3, Failed: 1, Skipped: 2}, "3 passed, 1 failed, 2 skipped"},
		{Summary{Passed: 3, Failed: 1, Errors: 2}, "3 passed, 1 failed, 2 errors"},
		{Summary{Passed: 3, Skipped: 1, Errors: 1}, "3 passed, 0 failed, 1 skipped, 1 errors"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.s, got, tt.want)
		}
	}
}
