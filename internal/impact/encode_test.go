package impact

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
)

func marshalAccount(t testing.TB, a *AccountImpact) string {
	t.Helper()
	want, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("json.Marshal(%+v): %v", a, err)
	}
	return string(want)
}

func appendAccount(t testing.TB, a *AccountImpact) string {
	t.Helper()
	got, err := a.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatalf("AppendJSON(%+v): %v", a, err)
	}
	s, ok := strings.CutPrefix(string(got), "prefix")
	if !ok {
		t.Fatalf("AppendJSON did not append: %q", got)
	}
	return s
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	full := AccountImpact{ID: "111122223333", Name: "acme-prod", Path: "/Customers/Acme/acme-prod",
		Counts: Counts{NewlyDenied: 3775, NewlyConditional: 2, NewlyAllowed: 3, PartlyRestored: 4},
		SCP:    Counts{NewlyDenied: 3775, NewlyConditional: 1}, RCP: Counts{NewlyAllowed: 7, PartlyRestored: 9},
		CriticalLost: []CriticalLoss{{Pattern: "sts:AssumeRole", Count: 1, All: true}, {Pattern: "iam:*", Count: 2, Actions: []string{"iam:CreateUser", "iam:DeleteUser"}}},
		ServicesLost: []string{"s3", "ec2"}, DeniedEverything: true, NewlyDeniedShare: 0.17089180624717065, Group: 12, Presence: "member"}
	tests := []struct {
		name string
		a    AccountImpact
	}{
		{"a zero account", AccountImpact{}},
		{"every field set", full},
		{"no critical loss: an empty list is [], nil is null", func() AccountImpact { a := full; a.CriticalLost = []CriticalLoss{}; return a }()},
		{"empty lists are omitted", func() AccountImpact {
			a := full
			a.ServicesLost = []string{}
			a.CriticalLost = []CriticalLoss{{Pattern: "x", Actions: []string{}}}
			return a
		}()},
		{"HTML characters, quotes, control characters and non-ASCII text", AccountImpact{ID: "<id>", Name: `a "b" & c\d` + "\t\n\x01\x7f", Path: "/Kunden/Müller GmbH/\u2028\u2029/日本", Presence: "added"}},
		{"invalid UTF-8", AccountImpact{Name: "bad\xff\xfe"}},
		{"a tiny share is written with an exponent", AccountImpact{NewlyDeniedShare: 1e-7}},
		{"the smallest share", AccountImpact{NewlyDeniedShare: 5e-324}},
		{"a share of one", AccountImpact{NewlyDeniedShare: 1}},
		{"a huge share", AccountImpact{NewlyDeniedShare: 1e21}},
		{"a share just under the exponent form", AccountImpact{NewlyDeniedShare: 123456789012345678901.0}},
		{"negative zero and negative numbers", AccountImpact{NewlyDeniedShare: math.Copysign(0, -1), Group: -1, Counts: Counts{NewlyDenied: -5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := appendAccount(t, &tt.a), marshalAccount(t, &tt.a); got != want {
				t.Errorf("AppendJSON = %s\nwant (encoding/json) %s", got, want)
			}
		})
	}
}

func TestAppendJSONOfAComputedReport(t *testing.T) {
	cat := testCatalog(t)
	before := smallOrg()
	after := apply(before,
		addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", ouDev),
		addPolicy("p-noassume", org.ServiceControlPolicy,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sts:AssumeRole","iam:CreateUser"],"Resource":"*"}]}`),
		attach("p-noassume", ouSandbox))
	im, err := Compute(before, after, cat, Options{Critical: []string{"sts:AssumeRole", "iam:*"}})
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}
	if len(im.Accounts) == 0 {
		t.Fatal("no affected accounts to encode")
	}
	for i := range im.Accounts {
		a := &im.Accounts[i]
		if got, want := appendAccount(t, a), marshalAccount(t, a); got != want {
			t.Errorf("AppendJSON(%s) = %s\nwant (encoding/json) %s", a.ID, got, want)
		}
	}
}

func TestAppendJSONRefusesWhatJSONCannotHold(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		a := AccountImpact{NewlyDeniedShare: f}
		if _, err := a.AppendJSON(nil); err == nil {
			t.Errorf("AppendJSON with share %v succeeded, want an error", f)
		}
		if _, err := json.Marshal(&a); err == nil {
			t.Errorf("json.Marshal with share %v succeeded; AppendJSON no longer agrees", f)
		}
	}
}

// jsonFields lists the JSON member names of struct type t as
// encoding/json sees them: embedded structs without a tag flattened,
// "name,omitempty" options kept.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("json")
		if f.Anonymous && !ok {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		out = append(out, tag)
	}
	return out
}

// TestAppendJSONKnowsEveryField fails when a field is added to the types
// AppendJSON writes by hand: teach AppendJSON the field, then this list.
func TestAppendJSONKnowsEveryField(t *testing.T) {
	for _, tt := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[AccountImpact](), []string{"id", "name", "path", "newlyDenied", "newlyConditional", "newlyAllowed", "partlyRestored",
			"scp", "rcp", "criticalLost", "servicesLost,omitempty", "deniedEverything,omitempty", "newlyDeniedShare", "group", "presence"}},
		{reflect.TypeFor[Counts](), []string{"newlyDenied", "newlyConditional", "newlyAllowed", "partlyRestored"}},
		{reflect.TypeFor[CriticalLoss](), []string{"pattern", "count", "actions,omitempty", "all"}},
	} {
		if got := jsonFields(tt.typ); !slices.Equal(got, tt.want) {
			t.Errorf("%s has JSON fields %q; AppendJSON writes %q", tt.typ, got, tt.want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("111122223333", "acme", "/a/acme", "iam:*", "s3", 3775, 1, 0.17, true, true)
	f.Add("<&>", "\x00\u2028", "\xff", "", "", -1, 0, 1e-7, false, false)
	f.Fuzz(func(t *testing.T, id, name, path, pattern, service string, n, group int, share float64, all, everything bool) {
		a := AccountImpact{ID: id, Name: name, Path: path, Counts: Counts{NewlyDenied: n, PartlyRestored: group},
			SCP: Counts{NewlyConditional: n}, RCP: Counts{NewlyAllowed: group},
			CriticalLost: []CriticalLoss{{Pattern: pattern, Count: n, All: all}, {Pattern: service, Actions: []string{pattern, service}}},
			ServicesLost: []string{service}, DeniedEverything: everything, NewlyDeniedShare: share, Group: group, Presence: name}
		want, werr := json.Marshal(&a)
		got, gerr := a.AppendJSON(nil)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("AppendJSON error %v, json.Marshal error %v", gerr, werr)
		}
		if werr == nil && string(got) != string(want) {
			t.Fatalf("AppendJSON = %s\nwant (encoding/json) %s", got, want)
		}
	})
}
