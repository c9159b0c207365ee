package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// MaxVerifyCalls bounds the partial reads that verify a stored snapshot
// before a plan is made on it. A change that reaches further (an SCP on
// the root reaches every account) is planned on a whole read instead,
// which is then cheaper or not much dearer.
const MaxVerifyCalls = 400

// rememberSnapshot stores a whole read of the organization (content-
// addressed) and records it as the latest read of its source, so that the
// next plan can start from it.
func rememberSnapshot(ctx context.Context, st store.Store, s *org.Snapshot) error {
	if err := review.PutBase(ctx, st, s); err != nil {
		return err
	}
	return st.SetLatestSnapshot(ctx, s.Source, s.Fingerprint, s.TakenAt)
}

// planOnAWS plans r on the AWS backend: on the latest stored whole read
// when the parts the change touches and those deciding its blast radius
// read back unchanged, else on a new whole read (which is stored for the
// next plan). refresh forces the whole read. The plan records which
// (plan.BaseRead).
func (a *App) planOnAWS(ctx context.Context, b *awsorg.Backend, st store.Store, planner *plan.Planner, r PlanRequest) (*plan.Result, *org.Snapshot, error) {
	why := "--refresh"
	if !r.Refresh {
		res, base, reason, err := a.planOnStored(ctx, b, st, planner, r)
		if err != nil || res != nil {
			return res, base, err
		}
		why = reason
	}
	before, start := b.Calls(), time.Now()
	base, err := b.Snapshot(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the organization: %w", err)
	}
	used := b.Calls().Sub(before, time.Since(start))
	if st != nil {
		if err := rememberSnapshot(ctx, st, base); err != nil {
			return nil, nil, fmt.Errorf("storing the organization's snapshot: %w", err)
		}
	}
	r.BaseRead = &plan.BaseRead{Kind: plan.BaseFullRead, TakenAt: base.TakenAt, APICalls: used.Total(), Why: why}
	res, err := planner.Make(ctx, base, r.Request)
	return res, base, err
}

// planOnStored plans on the latest stored read when it verifies; a nil
// result with a reason means a whole read is needed.
func (a *App) planOnStored(ctx context.Context, b *awsorg.Backend, st store.Store, planner *plan.Planner, r PlanRequest) (*plan.Result, *org.Snapshot, string, error) {
	if st == nil {
		return nil, nil, "no store to keep snapshots in", nil
	}
	fp, takenAt, err := st.LatestSnapshot(ctx, b.Source())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "no earlier read of this organization is stored", nil
	}
	if err != nil {
		return nil, nil, "", err
	}
	base, err := review.Base(ctx, st, fp)
	if err != nil {
		return nil, nil, "", fmt.Errorf("reading the stored snapshot: %w", err)
	}
	res, err := planner.Make(ctx, base, r.Request)
	if err != nil {
		// The stored read may be what makes the change fail to plan (a
		// name taken since): decide on a whole read.
		return nil, nil, "the change does not plan on the stored snapshot (" + err.Error() + ")", nil
	}
	touch, children, cost := verifySet(base, res)
	if cost > MaxVerifyCalls {
		return nil, nil, fmt.Sprintf("verifying the stored snapshot would take about %d calls: the change reaches too much of the organization", cost), nil
	}
	before := b.Calls()
	live, err := apply.ReadParts(ctx, b, base, touch)
	if err != nil {
		return nil, nil, "", fmt.Errorf("verifying the stored snapshot: %w", err)
	}
	changed := org.ComputeFingerprint(live) != base.Fingerprint
	x := org.MustIndex(base)
	for _, p := range children {
		if changed {
			break
		}
		ous, accts, err := b.Children(ctx, p)
		if err != nil {
			return nil, nil, "", fmt.Errorf("verifying the stored snapshot: %w", err)
		}
		changed = !sameChildren(x, p, ous, accts)
	}
	used := b.Calls().Sub(before, 0)
	if changed {
		return nil, nil, fmt.Sprintf("the stored snapshot of %s is out of date in the parts the change touches", takenAt.UTC().Format(time.RFC3339)), nil
	}
	verified := make([]string, 0, len(touch)+len(children))
	for id := range touch {
		verified = append(verified, id)
	}
	slices.Sort(verified)
	for _, p := range children {
		verified = append(verified, "children:"+p)
	}
	// The plan made on the stored base is the plan; it records how its
	// base was verified (review.Verify carries BaseRead over when it
	// derives the plan again, so the hash stays that of a derivation).
	res.File.BaseRead = &plan.BaseRead{Kind: plan.BaseStored, TakenAt: takenAt, AgeSeconds: int64(r.Now.Sub(takenAt) / time.Second),
		Verified: verified, APICalls: used.Total()}
	res.File.ID = "" // derived from the base read too (plan.File.Seal)
	if err := res.File.Seal(); err != nil {
		return nil, nil, "", err
	}
	return res, base, "", nil
}

// verifySet names what decides a change planned on base: every node and
// policy its steps name and the ancestors of those nodes (the policies
// attached along the way reach the accounts beneath), and each target's
// subtree — its OUs and accounts with their attachments, and the children
// of each of its OUs, so that an account moved in since is seen. cost
// estimates the calls. A name taken since the read (an OU or policy the
// plan creates) is not looked for: the step would fail and roll back, and
// apply's stale-plan check, a whole read, refuses such a plan first.
func verifySet(base *org.Snapshot, res *plan.Result) (touch map[string]bool, children []string, cost int) {
	x := org.MustIndex(base)
	touch = apply.Touched(res.File.Steps)
	withPath := func(id string) {
		path, err := x.Path(id)
		if err != nil {
			return
		}
		for _, n := range path {
			touch[n.ID] = true
		}
	}
	for id := range maps.Clone(touch) {
		withPath(id)
	}
	for _, t := range res.File.Targets {
		n, ok := x.Node(t.ID)
		if !ok || n.Kind == org.KindAccount {
			continue
		}
		withPath(t.ID)
		children = append(children, t.ID)
		for _, u := range x.OUsUnder(t.ID) {
			touch[u.ID] = true
			children = append(children, u.ID)
		}
		for _, a := range x.AccountsUnder(t.ID) {
			touch[a.ID] = true
		}
	}
	slices.Sort(children)
	children = slices.Compact(children)
	cost = 1 // the root
	for id := range touch {
		n, ok := x.Node(id)
		switch {
		case org.IsPolicyID(id):
			cost++
		case ok && n.Kind == org.KindOU:
			cost += 4
		case ok:
			cost += 3
		}
	}
	for _, p := range children {
		cost += 2 + len(x.Children(p))/20
	}
	return touch, children, cost
}

// sameChildren reports whether the children read under parent are those
// of the stored snapshot.
func sameChildren(x *org.Index, parent string, ous []org.OU, accts []org.Account) bool {
	var got []string
	for _, u := range ous {
		got = append(got, u.ID+"\x00"+u.Name)
	}
	for _, a := range accts {
		got = append(got, a.ID+"\x00"+a.Name)
	}
	var want []string
	for _, c := range x.Children(parent) {
		want = append(want, c.ID+"\x00"+c.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	return slices.Equal(got, want)
}
