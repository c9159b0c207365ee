package plan_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/plan"
)

const planFormatDoc = "../../docs/plan-format.md"

// documentedFields returns the JSON paths in the first column of the field
// table of docs/plan-format.md ("impact.accounts[].criticalLost[].pattern").
func documentedFields(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(planFormatDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## Fields\n")
	if start < 0 {
		t.Fatalf("%s has no \"## Fields\" section", planFormatDoc)
	}
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z\\[\\].]+)` \\|")
	var out []string
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		out = append(out, m[1])
	}
	if len(out) < 40 {
		t.Fatalf("%s: found %d documented fields, want the whole plan (at least 40)", planFormatDoc, len(out))
	}
	return out
}

// jsonPaths adds to into every path in v: object keys joined by ".", list
// elements as "[]".
func jsonPaths(v any, prefix string, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			into[p] = true
			jsonPaths(c, p, into)
		}
	case []any:
		for _, c := range x {
			jsonPaths(c, prefix+"[]", into)
		}
	}
}

func newPlanner(t *testing.T) *plan.Planner {
	t.Helper()
	g, err := guard.Compile(guard.Default())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &plan.Planner{Guard: g, Analyzer: an, Quarantine: change.DefaultQuarantine()}
}

// samplePlans are plans that between them fill every field of the format:
// a quarantine with a description, intent and an override; a new policy on
// Root that loses some critical actions and a whole service, with effective
// overrides; and a policy type disabled at the root.
func samplePlans(t *testing.T) []*plan.File {
	t.Helper()
	base, err := generate.Organization(generate.Options{Accounts: 120, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	two := 2
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPlanner(t)
	var accounts []string
	for _, a := range base.Accounts {
		if a.ID != base.Organization.ManagementAccountID && len(accounts) < 2 {
			accounts = append(accounts, a.Name)
		}
	}
	x, err := org.NewIndex(base)
	if err != nil {
		t.Fatal(err)
	}
	suspended := ""
	for _, a := range base.Accounts {
		if strings.HasPrefix(x.PathString(a.ID), "/Suspended/") {
			suspended = a.ID
		}
	}
	reqs := []plan.Request{
		{
			Operations:  []change.Operation{{Op: change.OpQuarantine, Accounts: accounts}},
			Description: "quarantine two accounts (incident 7)",
			Intent:      &change.Intent{Accounts: accounts, Count: &two},
			Overrides:   []change.Override{{Rule: "window", Reason: "incident 7 is ongoing"}},
		},
		{
			Operations: []change.Operation{
				{Op: change.OpCreatePolicy, Name: "deny-s3-and-iam-users", Type: "SCP",
					Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:*","iam:CreateUser"],"Resource":"*"}]}`},
				{Op: change.OpAttachPolicy, Policy: "ref:policy-deny-s3-and-iam-users", Target: "Root"},
			},
			Overrides: []change.Override{{Rule: "protected-target", Reason: "CAB-1"}, {Rule: "threshold", Reason: "CAB-1"}},
		},
		{Operations: []change.Operation{{Op: change.OpDisablePolicyType, Type: "RCP"}}},
		// ec2 becomes conditional in /Infrastructure; an account leaving the
		// deny-all of /Suspended for it has ec2 partly restored.
		{Operations: []change.Operation{
			{Op: change.OpCreatePolicy, Name: "ec2-in-eu-only", Type: "SCP",
				Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`},
			{Op: change.OpAttachPolicy, Policy: "ref:policy-ec2-in-eu-only", Target: "/Infrastructure"},
			// A typo: planned, with a warning naming s3:GetObject.
			{Op: change.OpCreatePolicy, Name: "deny-typo", Type: "SCP",
				Content: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObjekt","Resource":"*"}]}`},
			{Op: change.OpMoveAccount, Accounts: []string{suspended}, To: "/Infrastructure"},
		}},
		{Operations: []change.Operation{{Op: change.OpDisablePolicyType, Type: "RCP"}},
			BaseRead: &plan.BaseRead{Kind: plan.BaseStored, TakenAt: now.Add(-time.Hour), AgeSeconds: 3600,
				Verified: []string{base.Root.ID}, APICalls: 3, Why: "sample"}},
	}
	var out []*plan.File
	for i, r := range reqs {
		r.Author, r.Source, r.Now = "alice", "cli", now
		res, err := p.Make(context.Background(), base, r)
		if err != nil {
			t.Fatalf("planning sample %d: %v", i, err)
		}
		out = append(out, res.File)
	}
	return out
}

// TestPlanFormatDocumentsEveryFieldOfARealPlan checks docs/plan-format.md
// against plans the pipeline makes, both ways: every field the table names
// is in a marshalled plan, and every field of a marshalled plan (except the
// operations, documented in change-files.md, and the guard verdict,
// documented in guardrails.md) is in the table.
func TestPlanFormatDocumentsEveryFieldOfARealPlan(t *testing.T) {
	documented := documentedFields(t)
	present := map[string]bool{}
	for _, f := range samplePlans(t) {
		b, err := f.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		jsonPaths(v, "", present)
	}
	for _, d := range documented {
		// delete-ou appears only in inverses (and rollback plans).
		if !present[d] && !present[strings.Replace(d, "steps[].", "steps[].inverse[].", 1)] {
			t.Errorf("docs/plan-format.md documents %q, which no marshalled plan has", d)
		}
	}
	for p := range present {
		if strings.HasPrefix(p, "operations[].") || strings.HasPrefix(p, "guard.") {
			continue
		}
		// Inverse steps have the fields of a step, as the page says.
		if !slices.Contains(documented, p) && !slices.Contains(documented, strings.Replace(p, "steps[].inverse[].", "steps[].", 1)) {
			t.Errorf("a marshalled plan has the field %q, which docs/plan-format.md does not document", p)
		}
	}
}

// TestPlanHashIsTheDocumentedRecipe checks the recipe of docs/plan-format.md:
// the SHA-256 of the compact JSON with planHash empty, which is the written
// file with the hash blanked and whitespace removed.
func TestPlanHashIsTheDocumentedRecipe(t *testing.T) {
	for i, f := range samplePlans(t) {
		path := filepath.Join(t.TempDir(), "plan.json")
		if err := f.Write(path); err != nil {
			t.Fatal(err)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blanked := bytes.Replace(text, []byte(`"planHash": "`+f.PlanHash+`"`), []byte(`"planHash": ""`), 1)
		if bytes.Equal(blanked, text) {
			t.Fatalf("plan %d: the written file does not hold \"planHash\": %q", i, f.PlanHash)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, blanked); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(compact.Bytes())
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != f.PlanHash {
			t.Errorf("plan %d: sha256 of the compact JSON with planHash empty = %s, want planHash %s", i, got, f.PlanHash)
		}
		if !bytes.HasSuffix(bytes.TrimSpace(text), []byte(`"planHash": "`+f.PlanHash+"\"\n}")) {
			t.Errorf("plan %d: planHash is not the last field, as the page says", i)
		}
		// The page says an edit of even one number is caught.
		edited := bytes.Replace(text, []byte(`"formatVersion": 1,`), []byte(`"formatVersion": 1 ,`), 1)
		if _, err := plan.Parse(edited, "plan.json"); err != nil {
			t.Errorf("plan %d: Parse refused a whitespace-only change: %v", i, err)
		}
		edited = bytes.Replace(text, []byte(`"requiredApprovals": `), []byte(`"requiredApprovals": 9`), 1)
		if _, err := plan.Parse(edited, "plan.json"); err == nil {
			t.Errorf("plan %d: Parse accepted a plan whose requiredApprovals was edited", i)
		}
	}
}

// TestPlanFormatExampleIsAPlan checks that the page's example, once its
// elisions are dropped, decodes into the real type without unknown fields.
func TestPlanFormatExampleIsAPlan(t *testing.T) {
	b, err := os.ReadFile(planFormatDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```json\n")
	if start < 0 {
		t.Fatalf("%s has no JSON example", planFormatDoc)
	}
	body := doc[start+len("```json\n"):]
	body = body[:strings.Index(body, "```")]
	// Drop the "…" elisions: whole lines, list items and values.
	body = regexp.MustCompile(`(?m)^\s*…,?\n`).ReplaceAllString(body, "")
	body = strings.ReplaceAll(body, `"sha256:…"`, `"sha256:x"`)
	body = strings.ReplaceAll(body, `[…]`, `[]`)
	body = regexp.MustCompile(`,(\s*[\]}])`).ReplaceAllString(body, "$1")
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var f plan.File
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("decoding the example of %s: %v\n%s", planFormatDoc, err, body)
	}
	if f.FormatVersion != plan.FormatVersion || f.Verdict != guard.NeedsApprovals || len(f.Steps) == 0 || f.Impact.AccountsAffected != 3 {
		t.Errorf("example decoded to formatVersion %d, verdict %q, %d steps, %d accounts affected; want %d, needs-approvals, some, 3",
			f.FormatVersion, f.Verdict, len(f.Steps), f.Impact.AccountsAffected, plan.FormatVersion)
	}
}

// TestExampleConfigurationLoadsAndShowsTheDefaults checks that
// orgguard.example.yaml loads with config.Load, that its values are the
// defaults (as its header says), and that it names every key.
func TestExampleConfigurationLoadsAndShowsTheDefaults(t *testing.T) {
	const example = "../../orgguard.example.yaml"
	if _, err := config.Load(example); err != nil {
		t.Fatalf("config.Load(%q) = %v", example, err)
	}
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Parse(data, "orgguard.example.yaml")
	if err != nil {
		t.Fatalf("config.Parse(example) = %v", err)
	}
	want := config.Defaults()
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("orgguard.example.yaml differs from config.Defaults() (-defaults +example):\n%s", diff)
	}
	text := string(data)
	for _, k := range config.Keys() {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !regexp.MustCompile(`(?m)^[ \t]*#?[ \t]*` + regexp.QuoteMeta(leaf) + `:`).MatchString(text) {
			t.Errorf("orgguard.example.yaml does not show the key %s", k)
		}
	}
}
