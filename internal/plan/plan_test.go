package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org/generate"
)

func testPlanner(t testing.TB) *Planner {
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
	return &Planner{Guard: g, Analyzer: an, Quarantine: change.DefaultQuarantine()}
}

func makePlan(t testing.TB, accounts int, ops ...change.Operation) *Result {
	t.Helper()
	base, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r, err := testPlanner(t).Make(context.Background(), base, Request{Operations: ops, Author: "alice", Source: "cli",
		Now: time.Date(2026, 12, 7, 8, 15, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPlanFileRoundTripAndTampering(t *testing.T) {
	r := makePlan(t, 80, change.Operation{Op: change.OpAttachPolicy, Policy: "deny-marketplace", Target: "/Infrastructure"})
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := r.File.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got.PlanHash != r.File.PlanHash || got.ID != r.File.ID {
		t.Errorf("read back hash %s id %s, want %s %s", got.PlanHash, got.ID, r.File.PlanHash, r.File.ID)
	}
	data, _ := os.ReadFile(path)
	tests := []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"a changed author is detected", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"author": "alice"`), []byte(`"author": "mallory"`), 1)
		}, ErrTampered},
		{"a changed verdict is detected", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"verdict": "needs-approvals"`), []byte(`"verdict": "allowed"`), 1)
		}, ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := tt.edit(bytes.Clone(data))
			if bytes.Equal(edited, data) {
				t.Fatal("the edit changed nothing")
			}
			_, err := Parse(edited, "plan.json")
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(edited) error = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("unknown fields and other versions are refused", func(t *testing.T) {
		for _, bad := range []string{`{"formatVersion":1,"bogus":1}`, `{"formatVersion":2}`, `[]`, ``} {
			if _, err := Parse([]byte(bad), "x.json"); err == nil {
				t.Errorf("Parse(%q) succeeded", bad)
			}
		}
	})
}

func TestSealedEncodingMatchesAFreshEncoding(t *testing.T) {
	r := makePlan(t, 80, change.Operation{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"})
	fast, err := r.File.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c := *r.File
	c.raw, c.enc = nil, nil
	slow, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fast, slow) {
		t.Error("the spliced encoding differs from json.Marshal of the sealed plan")
	}
	if !strings.Contains(string(fast), r.File.PlanHash) {
		t.Error("the encoding does not carry the plan hash")
	}
}

// TestHashIsOfJSONMarshal holds the streamed encoding (see encoding) to
// what the hash was defined over: the SHA-256 of json.Marshal's encoding
// of the plan with planHash empty; and the written plan to json.Marshal's
// encoding with the hash in place.
func TestHashIsOfJSONMarshal(t *testing.T) {
	denyAll := makePlan(t, 80, change.Operation{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"}).File
	tests := []struct {
		name string
		edit func(f *File)
	}{
		{"a deny-all on Root", func(*File) {}},
		{"no affected accounts: an empty list", func(f *File) { f.Impact.Accounts = []impact.AccountImpact{} }},
		{"no accounts: a nil list", func(f *File) { f.Impact.Accounts = nil }},
		{"another accounts list that is null", func(f *File) {
			f.Impact.Groups = append(slices.Clone(f.Impact.Groups), impact.Group{})
		}},
		{"text that needs escaping in an account", func(f *File) {
			f.Impact.Accounts = slices.Clone(f.Impact.Accounts)
			f.Impact.Accounts[0].Name = "<Müller & \"Söhne\">\u2028"
		}},
		{"a description naming the accounts list", func(f *File) { f.Description = `"accounts":null` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := *denyAll
			f.raw, f.enc, f.PlanHash = nil, nil, ""
			tt.edit(&f)
			if err := f.Seal(); err != nil {
				t.Fatal(err)
			}
			c := f
			c.raw, c.enc, c.PlanHash = nil, nil, ""
			unhashed, err := json.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			if want := digest.Of(unhashed); f.PlanHash != want {
				t.Errorf("PlanHash = %s, want %s (json.Marshal's)", f.PlanHash, want)
			}
			if h, err := f.Hash(); err != nil || h != f.PlanHash {
				t.Errorf("Hash() = %s, %v; want %s", h, err, f.PlanHash)
			}
			c.PlanHash = f.PlanHash
			want, err := json.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			var streamed bytes.Buffer
			if err := f.WriteCompact(&streamed); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(streamed.Bytes(), want) {
				t.Error("WriteCompact differs from json.Marshal of the sealed plan")
			}
			got, err := f.MarshalCompact()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Error("MarshalCompact differs from json.Marshal of the sealed plan")
			}
		})
	}
	t.Run("a share JSON cannot hold is refused as json.Marshal refuses it", func(t *testing.T) {
		f := *denyAll
		f.raw, f.enc = nil, nil
		f.Impact.Accounts = slices.Clone(f.Impact.Accounts)
		f.Impact.Accounts[1].NewlyDeniedShare = math.NaN()
		_, want := json.Marshal(&f)
		err := f.Seal()
		if err == nil || want == nil || !strings.Contains(err.Error(), want.Error()) {
			t.Errorf("Seal() = %v, want an error with %v", err, want)
		}
	})
}

func FuzzParse(f *testing.F) {
	r := makePlan(f, 40, change.Operation{Op: change.OpAttachPolicy, Policy: "deny-marketplace", Target: "/Infrastructure"})
	b, err := r.File.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"formatVersion":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.json")
		if err == nil && p.Verify() != nil {
			t.Fatal("Parse accepted a plan that does not verify")
		}
	})
}

// BenchmarkPlan10k plans a deny-all on Root of a 10,000-account generated
// organization: steps on a simulated copy, the blast radius over the whole
// catalog, the verdict and the sealed plan file.
func BenchmarkPlan10k(b *testing.B) {
	base, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := testPlanner(b)
	req := Request{Operations: []change.Operation{{Op: change.OpAttachPolicy, Policy: "deny-all", Target: "Root"}},
		Author: "alice", Now: time.Date(2026, 12, 7, 8, 15, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Make(context.Background(), base, req); err != nil {
			b.Fatal(err)
		}
	}
}
