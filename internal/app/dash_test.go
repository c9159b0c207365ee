package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

func TestTreeDrawsTheOrganizationAndABlastRadius(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	alice := open(t, c, "alice")
	tree, err := alice.OrgTree(ctx)
	if err != nil {
		t.Fatalf("OrgTree = %v", err)
	}
	base, err := alice.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if tree.Accounts != len(base.Accounts)-1 || tree.Root.Members != tree.Accounts || tree.OUs != len(base.OUs) {
		t.Errorf("tree: %d member accounts (root %d), %d OUs; want %d, %d", tree.Accounts, tree.Root.Members, tree.OUs, len(base.Accounts)-1, len(base.OUs))
	}
	seen := 0
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		seen++
		sum := 0
		for _, o := range n.OUs {
			walk(o)
			sum += o.Members
		}
		for _, a := range n.Accounts {
			seen++
			sum += a.Members
		}
		if n.Members != sum {
			t.Errorf("%s: %d members, its children hold %d", n.Path, n.Members, sum)
		}
	}
	walk(tree.Root)
	if want := 1 + len(base.OUs) + len(base.Accounts); seen != want {
		t.Errorf("the tree holds %d nodes, want %d", seen, want)
	}

	var targets []string
	for _, a := range base.Accounts {
		if a.ID != base.Organization.ManagementAccountID && len(targets) < 3 {
			targets = append(targets, a.ID)
		}
	}
	res, err := alice.Plan(ctx, quarantine(targets...))
	if err != nil {
		t.Fatal(err)
	}
	d, err := alice.PlanDetail(ctx, res.File.ID, true)
	if err != nil {
		t.Fatalf("PlanDetail = %v", err)
	}
	tr := d.Tree
	if tr.Impact == nil || tr.Impact.Losing != 3 || tr.Root.Losing != 3 || tr.Root.Affected != res.File.Impact.AccountsAffected {
		t.Fatalf("overlay: impact %+v, root losing %d affected %d; want 3 losing", tr.Impact, tr.Root.Losing, tr.Root.Affected)
	}
	for _, id := range targets {
		n, ok := tr.Node(id)
		if !ok || n.Impact == nil || !n.Target {
			t.Errorf("account %s: %+v, want it affected and a target", id, n)
		}
		// Every ancestor counts it.
		for p := n; p != nil; {
			if p.Losing == 0 {
				t.Errorf("%s is above %s but counts no account losing access", p.Path, id)
			}
			parent := (*TreeNode)(nil)
			nd, _ := tr.index.Node(p.ID)
			if nd.ParentID != "" {
				parent, _ = tr.Node(nd.ParentID)
			}
			p = parent
		}
	}
	if len(tr.Impact.Elsewhere) == 0 || tr.Impact.Elsewhere[0].Path != "/Quarantine" {
		t.Errorf("the quarantine OU the plan creates is not listed apart: %+v", tr.Impact.Elsewhere)
	}
	if _, err := alice.PlanDetail(ctx, "plan-nope", false); !errors.Is(err, ErrBadInput) {
		t.Errorf("PlanDetail of an unknown plan = %v, want ErrBadInput", err)
	}
}

func TestStartApplyReturnsTheChangeAndTheJournalTellsItsProgress(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	alice, bob := open(t, c, "alice"), open(t, c, "bob")
	base, err := alice.Snapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := alice.Plan(ctx, quarantine(base.Accounts[1].Name))
	if err != nil {
		t.Fatal(err)
	}
	id := res.File.ID
	t.Run("a refused apply returns the refusal and starts nothing", func(t *testing.T) {
		if _, err := alice.StartApply(ctx, ctx, ApplyRequest{Ref: id}); !errors.Is(err, ErrRefused) {
			t.Fatalf("StartApply before approval = %v, want ErrRefused", err)
		}
		if cs, _ := alice.Changes(ctx, store.ChangeFilter{PlanID: id}); len(cs) != 0 {
			t.Errorf("a refused apply recorded changes: %+v", cs)
		}
	})
	if _, err := bob.Approve(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	started, err := alice.StartApply(ctx, context.Background(), ApplyRequest{Ref: id})
	if err != nil || started.ChangeID == "" {
		t.Fatalf("StartApply = %+v, %v", started, err)
	}
	select {
	case d := <-started.Done:
		if d.Err != nil || d.Result.Report.ChangeID != started.ChangeID {
			t.Fatalf("the apply ended with %+v, %v; want change %s applied", d.Result, d.Err, started.ChangeID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the apply did not end within 30 s")
	}
	p, err := bob.ChangeProgress(ctx, started.ChangeID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done() || p.Change.State != store.ChangeApplied || p.Report == nil || p.Report.Outcome != "applied" {
		t.Errorf("progress: %s, report %+v; want applied", p.Change.State, p.Report)
	}
	if len(p.Journal) != 2*len(res.File.Steps) || len(p.Steps) != len(res.File.Steps) {
		t.Errorf("journal of %d entries and %d steps, want an intent and a done for each of %d steps", len(p.Journal), len(p.Steps), len(res.File.Steps))
	}
	for _, l := range p.Journal {
		if l.Summary == "" || (l.Phase != store.PhaseIntent && l.Phase != store.PhaseDone) {
			t.Errorf("journal line %+v: want a summary, intent or done", l)
		}
	}
	if p.Version() == "" || p.Version() == (ChangeProgress{Change: store.Change{State: store.ChangeRunning}}).Version() {
		t.Errorf("Version() = %q does not tell a finished change from a new one", p.Version())
	}
}

func TestAuditLogPagesNewestFirstAndVerifies(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	a := open(t, c, "alice")
	if p, err := a.AuditLog(ctx, 0, 10); err != nil || len(p.Entries) != 0 {
		t.Fatalf("AuditLog without a store = %+v, %v; want nothing", p, err)
	}
	st, err := a.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if _, err := st.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "test", Subject: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	var seqs []int64
	before := int64(0)
	for pages := 0; ; pages++ {
		p, err := a.AuditLog(ctx, before, 10)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Verify.Intact() || p.Verify.Entries != 25 {
			t.Errorf("verification: %+v, want 25 entries intact", p.Verify)
		}
		for _, e := range p.Entries {
			seqs = append(seqs, e.Seq)
		}
		if p.Older == 0 {
			break
		}
		before = p.Older
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seqs) != 25 || seqs[0] != 25 || seqs[24] != 1 {
		t.Errorf("paged sequence numbers %v, want 25 down to 1", seqs)
	}
}
