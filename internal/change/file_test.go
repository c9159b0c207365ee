package change

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
)

func TestParseFileReadsOperationsIntentAndOverrides(t *testing.T) {
	f, err := ReadFile("testdata/change-deny-s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Operations) != 2 || f.Operations[0].Op != OpCreatePolicy || f.Operations[1].Op != OpAttachPolicy {
		t.Fatalf("operations = %+v", f.Operations)
	}
	if !strings.Contains(f.Operations[0].Content, `"s3:*"`) {
		t.Errorf("policy content not read from file: %q", f.Operations[0].Content)
	}
	if got, want := f.Operations[1].Origin, "testdata/change-deny-s3.yaml:7:5"; got != want {
		t.Errorf("Origin = %q, want %q", got, want)
	}
	if len(f.Overrides) != 1 || f.Overrides[0].Rule != "window" {
		t.Errorf("overrides = %+v", f.Overrides)
	}
	q, err := ReadFile("testdata/change-quarantine.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if q.Expect == nil || q.Expect.Count == nil || *q.Expect.Count != 2 {
		t.Errorf("expect = %+v, want count 2", q.Expect)
	}
	base := testOrg(t, 60)
	plan, err := (&Planner{}).Plan(context.Background(), base, q.Operations)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Quarantined) != 2 {
		t.Errorf("quarantined = %v, want 2 accounts", plan.Quarantined)
	}
}

func TestParseFileErrorsPointAtTheirPlace(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"an unknown top-level key", "changes:\n  - op: quarantine\n    accounts: [a]\nbogus: 1\n", "x.yaml:4:1: unknown key \"bogus\""},
		{"an unknown operation key", "changes:\n  - op: attach-policy\n    polcy: p\n", "x.yaml:3:5: changes[0]: unknown key \"polcy\""},
		{"an unknown operation", "changes:\n  - op: detonate\n", "x.yaml:2:5: changes[0]: unknown op \"detonate\""},
		{"a missing op", "changes:\n  - target: Root\n", "x.yaml:2:5: changes[0]: missing op"},
		{"no changes", "description: x\n", "x.yaml:1:1: missing changes: list"},
		{"an empty changes list", "changes: []\n", "x.yaml:1:10: changes: want a non-empty list"},
		{"a wrong type", "changes:\n  - op: quarantine\n    accounts: {a: 1}\n", "x.yaml:3:15:"},
		{"a YAML syntax error", "changes:\n  - op: [\n", "x.yaml:"},
		{"a count of the wrong type", "expect:\n  count: three\nchanges:\n  - op: quarantine\n", "x.yaml:2:10:"},
		{"an override without reason", "overrides:\n  - rule: window\nchanges:\n  - op: quarantine\n", "overrides[0]: an override needs a rule and a reason"},
		{"content and file together", "changes:\n  - op: create-policy\n    content: '{}'\n    file: a.json\n", "give content or file, not both"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1:1: want a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFile([]byte(tt.content), "x.yaml")
			if err == nil {
				t.Fatal("ParseFile succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseFile error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestTerraformPlanBecomesOrderedOperations(t *testing.T) {
	r, err := ReadTerraformPlan("testdata/tfplan-deny-s3.json")
	if err != nil {
		t.Fatal(err)
	}
	var ops []Op
	for _, o := range r.Operations {
		ops = append(ops, o.Op)
	}
	if want := []Op{OpCreatePolicy, OpAttachPolicy, OpMoveAccount}; !slices.Equal(ops, want) {
		t.Fatalf("ops = %v, want %v", ops, want)
	}
	if got := r.Operations[1].Policy; got != "ref:policy-deny-s3" {
		t.Errorf("attachment policy = %q, want the reference to the created policy", got)
	}
	base := testOrg(t, 60)
	plan, err := (&Planner{}).Plan(context.Background(), base, r.Operations)
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(plan.After)
	var denyS3 string
	for _, p := range plan.After.Policies {
		if p.Name == "deny-s3" {
			denyS3 = p.ID
		}
	}
	if !slices.Contains(x.TargetsOf(denyS3), "ou-q47j-8bdmrdd0") {
		t.Errorf("deny-s3 is not attached to the Sandbox OU after the plan")
	}
	if n, _ := x.Node("946704473385"); n.ParentID != "ou-q47j-4u5fevgt" {
		t.Errorf("backup account parent = %s, want ou-q47j-4u5fevgt", n.ParentID)
	}
}

func TestTerraformPlanErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"not JSON", "{", "not terraform plan JSON"},
		{"JSON but not a plan", `{"a":1}`, "no format_version"},
		{"a future format", `{"format_version":"2.0"}`, "not supported"},
		{"an unresolvable unknown", `{"format_version":"1.2","resource_changes":[{"address":"aws_organizations_policy_attachment.a","mode":"managed","type":"aws_organizations_policy_attachment","change":{"actions":["create"],"after":{"target_id":"r-ab12"}}}]}`, "policy_id is unknown until apply"},
		{"an OU deletion", `{"format_version":"1.2","resource_changes":[{"address":"aws_organizations_organizational_unit.a","mode":"managed","type":"aws_organizations_organizational_unit","change":{"actions":["delete"],"before":{"id":"ou-ab12-abcdefgh"}}}]}`, "deleting an OU is not planned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "plan.json")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadTerraformPlan(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadTerraformPlan error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	for _, p := range []string{"testdata/change-deny-s3.yaml", "testdata/change-quarantine.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("changes:\n  - op: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseFile(data, "fuzz.yaml")
	})
}

func FuzzParseTerraformPlan(f *testing.F) {
	b, err := os.ReadFile("testdata/tfplan-deny-s3.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseTerraformPlan(data, "fuzz.json")
	})
}

func TestTerraformEdgeCases(t *testing.T) {
	base := testOrg(t, 60)
	plan := func(rcs string, config string) (*TerraformResult, error) {
		return ParseTerraformPlan([]byte(`{"format_version":"1.2","resource_changes":[`+rcs+`],"configuration":{"root_module":{"resources":[`+config+`]}}}`), "tf.json")
	}
	t.Run("a move into an OU the same plan creates is planned through the OU's reference", func(t *testing.T) {
		r, err := plan(`{"address":"aws_organizations_organizational_unit.new","mode":"managed","type":"aws_organizations_organizational_unit","change":{"actions":["create"],"after":{"name":"New","parent_id":"r-q47j"}}},
			{"address":"aws_organizations_account.backup","mode":"managed","type":"aws_organizations_account","change":{"actions":["update"],"before":{"id":"946704473385","parent_id":"ou-q47j-xb17yjo2"},"after":{"id":"946704473385"},"after_unknown":{"parent_id":true}}}`,
			`{"address":"aws_organizations_account.backup","type":"aws_organizations_account","expressions":{"parent_id":{"references":["aws_organizations_organizational_unit.new.id","aws_organizations_organizational_unit.new"]}}}`)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Operations) != 2 || r.Operations[1].Op != OpMoveAccount || r.Operations[1].To != "ref:ou-New" {
			t.Fatalf("operations = %+v, want create-ou then a move to ref:ou-New", r.Operations)
		}
		p, err := (&Planner{}).Plan(context.Background(), base, r.Operations)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := p.AfterIndex.Node("946704473385"); p.AfterIndex.PathString(n.ParentID) != "/New" {
			t.Errorf("account parent after the plan = %s, want /New", p.AfterIndex.PathString(n.ParentID))
		}
	})
	t.Run("policies of other types are skipped", func(t *testing.T) {
		r, err := plan(`{"address":"aws_organizations_policy.tags","mode":"managed","type":"aws_organizations_policy","change":{"actions":["create"],"after":{"name":"tags","type":"TAG_POLICY","content":"{}"}}}`, ``)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Operations) != 0 || len(r.Ignored) != 1 {
			t.Errorf("operations %+v, ignored %v: want none planned and one ignored", r.Operations, r.Ignored)
		}
	})
	t.Run("replacing an attachment with the same policy and target is skipped", func(t *testing.T) {
		r, err := plan(`{"address":"aws_organizations_policy_attachment.a","mode":"managed","type":"aws_organizations_policy_attachment","change":{"actions":["delete","create"],"before":{"policy_id":"p-i9z4jrzt","target_id":"ou-q47j-8bdmrdd0"},"after":{"policy_id":"p-i9z4jrzt","target_id":"ou-q47j-8bdmrdd0"}}}`, ``)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Operations) != 0 || len(r.Ignored) != 1 {
			t.Errorf("operations %+v, ignored %v: want none planned and one ignored", r.Operations, r.Ignored)
		}
	})
	t.Run("a quarantine and a release of the same account in one change", func(t *testing.T) {
		a := firstAccountUnder(t, base, "/Infrastructure")
		_, err := (&Planner{}).Plan(context.Background(), base, []Operation{
			{Op: OpQuarantine, Accounts: []string{a.ID}},
			{Op: OpRelease, Accounts: []string{a.ID}, To: "/Infrastructure"},
		})
		if err != nil {
			t.Errorf("Plan(quarantine, release) = %v, want success", err)
		}
	})
}
