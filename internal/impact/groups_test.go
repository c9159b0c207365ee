package impact

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/org"
)

func denyDoc(actions string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":` + actions + `,"Resource":"*"}]}`
}

func TestGroupsFoldTheActionsOfEachChange(t *testing.T) {
	cat := testCatalog(t)
	n := func(p string) int { return cat.Expand(p).Count() }
	tests := []struct {
		name       string
		changes    []change
		wantGroups [][]string // account IDs per group
		wantDenied [][]Fold   // DeniedActions per group
	}{
		{
			name:       "a deny of every s3 Get action folds to s3:Get*",
			changes:    []change{addPolicy("p-x", org.ServiceControlPolicy, denyDoc(`"s3:Get*"`)), attach("p-x", ouDev)},
			wantGroups: [][]string{{devA}},
			wantDenied: [][]Fold{{{Pattern: "s3:Get*", Count: n("s3:Get*")}}},
		},
		{
			name:       "a deny of a whole service folds to service:*",
			changes:    []change{addPolicy("p-x", org.ServiceControlPolicy, denyDoc(`"s3:*"`)), attach("p-x", ouDev)},
			wantGroups: [][]string{{devA}},
			wantDenied: [][]Fold{{{Pattern: "s3:*", Count: n("s3:*")}}},
		},
		{
			name:       "a deny of sts:* folds to sts:* although sts:GetCallerIdentity stays allowed",
			changes:    []change{addPolicy("p-x", org.ServiceControlPolicy, denyDoc(`"sts:*"`)), attach("p-x", ouDev)},
			wantGroups: [][]string{{devA}},
			wantDenied: [][]Fold{{{Pattern: "sts:*", Count: n("sts:*") - 1}}},
		},
		{
			name: "single actions stay themselves, largest entries first",
			changes: []change{addPolicy("p-x", org.ServiceControlPolicy, denyDoc(`["s3:GetObject","ec2:*"]`)),
				attach("p-x", ouDev)},
			wantGroups: [][]string{{devA}},
			wantDenied: [][]Fold{{{Pattern: "ec2:*", Count: n("ec2:*")}, {Pattern: "s3:GetObject", Count: 1}}},
		},
		{
			name: "accounts with the same change form one group, largest group first",
			changes: []change{addPolicy("p-x", org.ServiceControlPolicy, denyDoc(`"s3:*"`)), attach("p-x", ouProd),
				addPolicy("p-y", org.ServiceControlPolicy, denyDoc(`"ec2:*"`)), attach("p-y", ouDev)},
			wantGroups: [][]string{{prodB, prodA}, {devA}}, // report order: by path
			wantDenied: [][]Fold{{{Pattern: "s3:*", Count: n("s3:*")}}, {{Pattern: "ec2:*", Count: n("ec2:*")}}},
		},
		{
			name: "a deny-all is *",
			changes: []change{addPolicy("p-x", org.ServiceControlPolicy, denyAll), attach("p-x", ouDev),
				attach("p-x", ouSandbox)},
			wantGroups: [][]string{{devA, sandboxA}},
			wantDenied: [][]Fold{{{Pattern: "*", Count: cat.Len() - 1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			im, err := Compute(smallOrg(), apply(smallOrg(), tt.changes...), cat, Options{})
			if err != nil {
				t.Fatalf("Compute() = %v", err)
			}
			var gotGroups [][]string
			var gotDenied [][]Fold
			for _, g := range im.Groups {
				gotGroups = append(gotGroups, g.Accounts)
				gotDenied = append(gotDenied, g.DeniedActions)
			}
			if diff := cmp.Diff(tt.wantGroups, gotGroups); diff != "" {
				t.Errorf("group accounts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDenied, gotDenied); diff != "" {
				t.Errorf("denied actions (-want +got):\n%s", diff)
			}
			for _, a := range im.Accounts {
				g := im.Groups[a.Group]
				if !slices.Contains(g.Accounts, a.ID) || g.Counts != a.Counts {
					t.Errorf("account %s: group %d is %v with %+v, want it to hold the account with %+v", a.ID, a.Group, g.Accounts, g.Counts, a.Counts)
				}
			}
		})
	}
}

func TestFoldedPatternsMatchExactlyTheirActions(t *testing.T) {
	cat := testCatalog(t)
	an, err := NewAnalyzer(cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Every s3 action but s3:GetObject: every other s3 word folds, the
	// Get word does not, and every pattern shown expands to exactly what
	// it counts.
	set := fromSet(cat.Expand("s3:*"), cat.Len())
	i, _ := cat.Lookup("s3:GetObject")
	set[i>>6] &^= 1 << (uint(i) & 63)
	folds := an.fold(set, nil)
	total, sawGetAcl := 0, false
	for _, f := range folds {
		total += f.Count
		switch f.Pattern {
		case "s3:*", "*", "s3:Get*", "s3:GetObject":
			t.Errorf("fold %q, but s3:GetObject is not in the set", f.Pattern)
		case "s3:GetObjectAcl":
			sawGetAcl = true
		}
		if got := cat.Expand(f.Pattern).Count(); got != f.Count {
			t.Errorf("fold %s counts %d, but the pattern matches %d actions", f.Pattern, f.Count, got)
		}
	}
	if !sawGetAcl {
		t.Errorf("s3:GetObjectAcl not listed on its own: %v", folds)
	}
	if want := set.count(); total != want {
		t.Errorf("folds count %d actions, want %d", total, want)
	}
}

func TestADenyOfAlmostEverythingIsShownAsItsComplement(t *testing.T) {
	cat := testCatalog(t)
	im, err := Compute(smallOrg(), apply(smallOrg(),
		addPolicy("p-x", org.ServiceControlPolicy,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"s3:GetObject","Resource":"*"}]}`),
		attach("p-x", ouDev)), cat, Options{})
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}
	g := im.Groups[0]
	want := &Complement{AlreadyDenied: []Fold{}, NotDenied: []Fold{{Pattern: "s3:GetObject", Count: 1}}}
	if diff := cmp.Diff(want, g.DeniedExcept); diff != "" {
		t.Errorf("DeniedExcept (-want +got):\n%s", diff)
	}
	if len(g.DeniedActions) != 0 {
		t.Errorf("DeniedActions = %d entries, want none (the complement says it)", len(g.DeniedActions))
	}
}

func TestUndoingADenyAllIsAGain(t *testing.T) {
	cat := testCatalog(t)
	// dev-a sits under a deny-all; the undo leaves a conditional deny on
	// s3: s3 goes from denied to conditional (partly restored), the rest
	// from denied to allowed. Nothing is newly denied or conditional.
	condS3 := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",` +
		`"Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	before := apply(smallOrg(), addPolicy("p-cond", org.ServiceControlPolicy, condS3), attach("p-cond", ouDev),
		addPolicy("p-all", org.ServiceControlPolicy, denyAll), attach("p-all", ouDev))
	after := apply(before, detach("p-all", ouDev))
	im, err := Compute(before, after, cat, Options{})
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}
	if len(im.Accounts) != 1 {
		t.Fatalf("affected accounts = %d, want 1", len(im.Accounts))
	}
	a := im.Accounts[0]
	s3 := cat.Expand("s3:*").Count()
	want := Counts{NewlyAllowed: cat.Len() - 1 - s3, PartlyRestored: s3}
	if a.Counts != want {
		t.Errorf("counts = %+v, want %+v", a.Counts, want)
	}
	g := im.Groups[a.Group]
	if diff := cmp.Diff([]Fold{{Pattern: "s3:*", Count: s3}}, g.PartlyRestoredActions); diff != "" {
		t.Errorf("partly restored (-want +got):\n%s", diff)
	}
	if len(g.DeniedActions) != 0 || len(g.ConditionalActions) != 0 {
		t.Errorf("denied %v, conditional %v, want none", g.DeniedActions, g.ConditionalActions)
	}
}

func TestNodesCountAccountsBeforeAndAfter(t *testing.T) {
	cat := testCatalog(t)
	deleteOU := func(id string) change {
		return func(s *org.Snapshot) {
			s.OUs = slices.DeleteFunc(s.OUs, func(o org.OU) bool { return o.ID == id })
			s.Attachments = slices.DeleteFunc(s.Attachments, func(a org.Attachment) bool { return a.TargetID == id })
		}
	}
	tests := []struct {
		name string
		more []change
		want NodeImpact
	}{
		{
			name: "an OU emptied by the change counts its accounts before",
			want: NodeImpact{ID: ouDev, Name: "Dev", Path: "/Dev", Kind: "ou", AccountsAffected: 1, AccountsTotal: 0, AccountsBefore: 1},
		},
		{
			name: "an OU deleted by the change is marked removed",
			more: []change{deleteOU(ouDev)},
			want: NodeImpact{ID: ouDev, Name: "Dev", Path: "/Dev", Kind: "ou", AccountsAffected: 1, AccountsBefore: 1, Removed: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := apply(smallOrg(), addPolicy("p-all", org.ServiceControlPolicy, denyAll), attach("p-all", ouDev))
			after := apply(before, append([]change{moveAccount(devA, ouSandbox)}, tt.more...)...)
			im, err := Compute(before, after, cat, Options{})
			if err != nil {
				t.Fatalf("Compute() = %v", err)
			}
			i := slices.IndexFunc(im.Nodes, func(n NodeImpact) bool { return n.ID == ouDev })
			if i < 0 {
				t.Fatalf("node %s not reported: %+v", ouDev, im.Nodes)
			}
			if diff := cmp.Diff(tt.want, im.Nodes[i]); diff != "" {
				t.Errorf("node (-want +got):\n%s", diff)
			}
		})
	}
}
