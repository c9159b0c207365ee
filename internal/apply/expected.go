package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
)

// expectation is the organization as it should be at each point of a
// change: states[0] is the base, states[i] the state after the i-th step
// run (in execution order). The states use the IDs a simulated copy gave
// the created objects; bind maps the plan's references to those IDs.
type expectation struct {
	states []*org.Snapshot
	bind   change.Bindings
}

// replay runs steps on a simulated copy of base. The copy draws IDs from
// the same seeded source the planner uses, so the created IDs are the ones
// behind the plan's afterFingerprint.
func replay(ctx context.Context, base *org.Snapshot, steps []change.Planned) (*expectation, error) {
	so, err := change.Replica(base)
	if err != nil {
		return nil, fmt.Errorf("computing the expected states: %w", err)
	}
	ex := &expectation{states: []*org.Snapshot{base}, bind: change.Bindings{}}
	for i, s := range steps {
		if _, err := change.Run(ctx, so, s.Step, ex.bind); err != nil {
			return nil, fmt.Errorf("computing the expected state after step %d: %w", i+1, err)
		}
		snap, err := so.Snapshot(ctx)
		if err != nil {
			return nil, fmt.Errorf("computing the expected state after step %d: %w", i+1, err)
		}
		ex.states = append(ex.states, snap)
	}
	return ex, nil
}

// idMap maps the simulated copy's IDs of created objects to the live ones
// (for the references live has bound so far).
func idMap(sim, live change.Bindings) map[string]string {
	m := map[string]string{}
	for k, v := range sim {
		if lv, ok := live[k]; ok && lv != v {
			m[v] = lv
		}
	}
	return m
}

// invert returns m with keys and values swapped.
func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// translate returns a copy of s with the IDs in m replaced (in IDs, parent
// IDs, attachments and ARNs).
func translate(s *org.Snapshot, m map[string]string) *org.Snapshot {
	if len(m) == 0 {
		return s
	}
	c := s.Clone()
	id := func(v string) string {
		if n, ok := m[v]; ok {
			return n
		}
		return v
	}
	arn := func(a string) string {
		for o, n := range m {
			if strings.HasSuffix(a, "/"+o) {
				return strings.TrimSuffix(a, o) + n
			}
		}
		return a
	}
	for i := range c.OUs {
		u := &c.OUs[i]
		u.ID, u.ParentID, u.ARN = id(u.ID), id(u.ParentID), arn(u.ARN)
	}
	for i := range c.Accounts {
		c.Accounts[i].ParentID = id(c.Accounts[i].ParentID)
	}
	for i := range c.Policies {
		p := &c.Policies[i]
		p.ID, p.ARN = id(p.ID), arn(p.ARN)
	}
	for i := range c.Attachments {
		a := &c.Attachments[i]
		a.PolicyID, a.TargetID = id(a.PolicyID), id(a.TargetID)
	}
	c.Fingerprint = ""
	c.Normalize()
	return c
}

// touched returns the IDs (in live terms) of the nodes and policies the
// steps name, resolving references through b; unbound references (objects
// not created yet) are left out.
func touched(steps []change.Planned, b change.Bindings) map[string]bool {
	out := map[string]bool{}
	for _, s := range steps {
		for _, st := range append([]change.Step{s.Step}, s.Inverse...) {
			r, err := st.Resolve(b)
			if err != nil {
				// Resolve stops at the first unbound reference; take the
				// fields one by one.
				for _, f := range []string{st.PolicyID, st.TargetID, st.AccountID, st.SourceParentID, st.DestinationParentID, st.ParentID, st.OUID, st.RootID} {
					if v, err := (change.Step{PolicyID: f}).Resolve(b); err == nil && v.PolicyID != "" {
						out[v.PolicyID] = true
					}
				}
				continue
			}
			for _, f := range []string{r.PolicyID, r.TargetID, r.AccountID, r.SourceParentID, r.DestinationParentID, r.ParentID, r.OUID, r.RootID} {
				if f != "" {
					out[f] = true
				}
			}
		}
		if s.Ref != "" {
			if v, ok := b[change.RefPrefix+s.Ref]; ok {
				out[v] = true
			}
		}
	}
	return out
}

// drift compares the touched part of live with expected (already in live
// IDs) and describes each difference.
func drift(expected, live *org.Snapshot, touch map[string]bool) ([]string, error) {
	ex, err := org.NewIndex(expected)
	if err != nil {
		return nil, fmt.Errorf("indexing the expected state: %w", err)
	}
	lx, err := org.NewIndex(live)
	if err != nil {
		return nil, fmt.Errorf("indexing the live organization: %w", err)
	}
	var out []string
	for _, c := range org.Diff(ex, lx) {
		relevant := touch[c.ID] || touch[c.Target]
		switch c.Kind {
		case org.PolicyTypeEnabledChange, org.PolicyTypeDisabledChange:
			relevant = true
		case org.OUAdded, org.PolicyAdded:
			// An object the plan creates, found under another ID: the
			// expected one is missing too and is reported as removed.
			relevant = relevant || touchedName(ex, lx, c)
		}
		if relevant {
			out = append(out, describeDrift(c))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// touchedName reports whether an added OU or policy has the name of one the
// expected state has and live lacks (a created object bound to another ID).
func touchedName(ex, lx *org.Index, c org.Change) bool {
	_ = lx
	for _, p := range ex.Snapshot().Policies {
		if p.Name == c.Name {
			return true
		}
	}
	for _, u := range ex.Snapshot().OUs {
		if u.Name == c.Name {
			return true
		}
	}
	return false
}

// describeDrift says what the live organization has that was not expected.
func describeDrift(c org.Change) string {
	switch c.Kind {
	case org.AttachmentAdded:
		return fmt.Sprintf("policy %s (%s) is attached to %s %s but should not be at this point", c.Name, c.ID, c.TargetName, c.Target)
	case org.AttachmentRemoved:
		return fmt.Sprintf("policy %s (%s) should be attached to %s %s but is not", c.Name, c.ID, c.TargetName, c.Target)
	case org.AccountMoved:
		return fmt.Sprintf("account %s (%s) should be in %s but is in %s", c.Name, c.ID, c.From, c.To)
	case org.PolicyContentChanged:
		return fmt.Sprintf("policy %s (%s) does not have the expected content (expected %s, found %s)", c.Name, c.ID, c.From, c.To)
	case org.PolicyRemoved:
		return fmt.Sprintf("policy %s (%s) should exist but does not", c.Name, c.ID)
	case org.PolicyAdded:
		return fmt.Sprintf("policy %s (%s) exists but should not at this point", c.Name, c.ID)
	case org.OURemoved:
		return fmt.Sprintf("OU %s (%s) should exist at %s but does not", c.Name, c.ID, c.From)
	case org.OUAdded:
		return fmt.Sprintf("OU %s (%s) exists at %s but should not at this point", c.Name, c.ID, c.To)
	case org.PolicyTypeEnabledChange:
		return fmt.Sprintf("policy type %s is enabled but should not be", c.ID)
	case org.PolicyTypeDisabledChange:
		return fmt.Sprintf("policy type %s should be enabled but is not", c.ID)
	}
	return "expected → live: " + c.String()
}
