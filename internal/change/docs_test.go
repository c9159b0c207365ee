package change_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// docExample is one fenced YAML block of a documentation page.
type docExample struct {
	line int // line of the opening fence, 1-based
	text string
}

var fence = regexp.MustCompile("(?m)^```([a-z]*)[ \t]*$")

// yamlExamples returns the ```yaml blocks of a Markdown file.
func yamlExamples(t *testing.T, path string) []docExample {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	src := string(b)
	var out []docExample
	locs := fence.FindAllStringSubmatchIndex(src, -1)
	for i := 0; i+1 < len(locs); i += 2 {
		open, close := locs[i], locs[i+1]
		lang := src[open[2]:open[3]]
		if src[close[2]:close[3]] != "" {
			t.Fatalf("%s: unbalanced code fences near line %d", path, strings.Count(src[:close[0]], "\n")+1)
		}
		if lang != "yaml" {
			continue
		}
		out = append(out, docExample{line: strings.Count(src[:open[0]], "\n") + 1, text: src[open[1]+1 : close[0]]})
	}
	return out
}

// defaultOrg is the organization the documentation's examples name: the
// default simulated organization (1,000 accounts, seed 1).
var defaultOrg = sync.OnceValues(func() (*org.Snapshot, error) {
	return generate.Organization(generate.Options{Accounts: 1000, Seed: 1})
})

// policyFileKey finds `file:` entries so the test can provide the files.
var policyFileKey = regexp.MustCompile(`(?m)^\s*file:\s*(\S+)\s*$`)

// A policy document good for both kinds (an RCP needs a Principal).
const examplePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// TestChangeFileDocumentationExamplesParseAndPlan keeps docs/change-files.md
// honest: every YAML example is a valid change file, and plans against the
// default simulated organization the page says its names come from.
func TestChangeFileDocumentationExamplesParseAndPlan(t *testing.T) {
	const doc = "../../docs/change-files.md"
	examples := yamlExamples(t, doc)
	if len(examples) < 12 {
		t.Fatalf("%s has %d YAML examples, want one per operation and more (at least 12)", doc, len(examples))
	}
	base, err := defaultOrg()
	if err != nil {
		t.Fatalf("generate.Organization: %v", err)
	}
	seen := map[change.Op]bool{}
	for _, ex := range examples {
		t.Run("the example at line "+strconv.Itoa(ex.line)+" is a change file that plans", func(t *testing.T) {
			dir := t.TempDir()
			for _, m := range policyFileKey.FindAllStringSubmatch(ex.text, -1) {
				p := filepath.Join(dir, m[1])
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(examplePolicy), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			name := filepath.Join(dir, "change.yaml")
			f, err := change.ParseFile([]byte(ex.text), name)
			if err != nil {
				t.Fatalf("ParseFile(example at %s:%d) = %v", doc, ex.line, err)
			}
			if len(f.Operations) == 0 {
				t.Fatalf("example at %s:%d has no operations", doc, ex.line)
			}
			for _, op := range f.Operations {
				seen[op.Op] = true
			}
			if slices.ContainsFunc(f.Operations, func(o change.Operation) bool { return o.Op == change.OpRelease }) {
				return // needs an organization with accounts in quarantine; the page says so
			}
			start := base
			for _, op := range f.Operations {
				if op.Op == change.OpEnablePolicyType {
					// The page says this example plans on an organization
					// where the type is not enabled yet: make one.
					p, err := (&change.Planner{}).Plan(context.Background(), start,
						[]change.Operation{{Op: change.OpDisablePolicyType, Type: op.Type}})
					if err != nil {
						t.Fatalf("disabling %s first: %v", op.Type, err)
					}
					start = p.After
				}
			}
			p, err := (&change.Planner{}).Plan(context.Background(), start, f.Operations)
			if err != nil {
				t.Fatalf("planning the example at %s:%d: %v", doc, ex.line, err)
			}
			if len(p.Steps) == 0 {
				t.Errorf("the example at %s:%d planned no steps", doc, ex.line)
			}
			for _, s := range p.Steps {
				if len(s.Inverse) == 0 {
					t.Errorf("step %q has no inverse", s.Summary)
				}
			}
		})
	}
	for _, op := range change.Ops() {
		if !seen[op] {
			t.Errorf("%s has no YAML example of op %q", doc, op)
		}
	}
}

// TestChangeFileDocumentationErrorsMatchTheParser checks that the error
// lines the page shows are what ParseFile says for the same input.
func TestChangeFileDocumentationErrorsMatchTheParser(t *testing.T) {
	b, err := os.ReadFile("../../docs/change-files.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	tests := []struct {
		name, input string
	}{
		{"a misspelt field is named with its position", "changes:\n  - op: attach-policy\n    polcy: x\n"},
		{"an unknown op lists the known ones", "changes:\n  - op: frob\n"},
		{"a count that is not a number is located", "expect:\n  count: many\nchanges:\n  - op: frob\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := change.ParseFile([]byte(tt.input), "change.yaml")
			if err == nil {
				t.Fatalf("ParseFile(%q) = nil error, want one", tt.input)
			}
			if line := "orgguard: " + err.Error(); !strings.Contains(doc, line) {
				t.Errorf("docs/change-files.md does not show the error %q", line)
			}
		})
	}
}
