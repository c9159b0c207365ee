package change

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/org"
)

// expand turns one operation into steps, adding each to the plan.
func (st *planState) expand(op Operation) error {
	x, err := st.index()
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return &InputError{Operation: op, Err: fmt.Errorf(format, args...)}
	}
	switch op.Op {
	case OpAttachPolicy, OpDetachPolicy:
		p, err := st.policy(x, op)
		if err != nil {
			return err
		}
		t, err := st.node(x, op, "target", op.Target)
		if err != nil {
			return err
		}
		label := policyLabel(x, p.ID, p.ID)
		if r, err := st.bind.resolve(p.ID); err == nil {
			label = policyLabel(x, r, p.ID)
		}
		if op.Op == OpAttachPolicy {
			return st.add(op, Step{Kind: AttachPolicy, PolicyID: p.ID, TargetID: t.ID,
				Summary: fmt.Sprintf("attach %s to %s", label, st.describe(x, t.ID))})
		}
		return st.add(op, Step{Kind: DetachPolicy, PolicyID: p.ID, TargetID: t.ID,
			Summary: fmt.Sprintf("detach %s from %s", label, st.describe(x, t.ID))})

	case OpCreatePolicy:
		t, err := policyType(op)
		if err != nil {
			return err
		}
		if op.Name == "" || op.Content == "" {
			return fail("needs a name and the policy content")
		}
		if err := st.checkContent(op, op.Name, t, op.Content); err != nil {
			return err
		}
		return st.add(op, Step{Kind: CreatePolicy, Ref: "policy-" + op.Name, Name: op.Name, Description: op.Description,
			PolicyType: t, Content: op.Content, Summary: fmt.Sprintf("create %s %s", t.Short(), op.Name)})

	case OpUpdatePolicy:
		p, err := st.policy(x, op)
		if err != nil {
			return err
		}
		if op.Content == "" {
			return fail("needs the new policy content")
		}
		if err := st.checkContent(op, p.Name, p.Type, op.Content); err != nil {
			return err
		}
		name, desc := p.Name, p.Description
		if op.Name != "" {
			name = op.Name
		}
		if op.Description != "" {
			desc = op.Description
		}
		return st.add(op, Step{Kind: UpdatePolicy, PolicyID: p.ID, Name: name, Description: desc, Content: op.Content,
			Summary: fmt.Sprintf("update the content of %s %s (%s)", p.Type.Short(), p.Name, p.ID)})

	case OpDeletePolicy:
		p, err := st.policy(x, op)
		if err != nil {
			return err
		}
		// AWS refuses to delete an attached policy: detach it everywhere first.
		for _, t := range x.TargetsOf(p.ID) {
			if err := st.add(op, Step{Kind: DetachPolicy, PolicyID: p.ID, TargetID: t,
				Summary: fmt.Sprintf("detach %s %s (%s) from %s", p.Type.Short(), p.Name, p.ID, st.describe(x, t))}); err != nil {
				return err
			}
		}
		return st.add(op, Step{Kind: DeletePolicy, PolicyID: p.ID,
			Summary: fmt.Sprintf("delete %s %s (%s)", p.Type.Short(), p.Name, p.ID)})

	case OpCreateOU:
		parent, err := st.node(x, op, "parent", op.Parent)
		if err != nil {
			return err
		}
		if parent.Kind == org.KindAccount {
			return fail("parent %s is an account; an OU's parent is the root or an OU", st.describe(x, parent.ID))
		}
		if op.Name == "" {
			return fail("needs a name")
		}
		return st.add(op, Step{Kind: CreateOU, Ref: "ou-" + op.Name, ParentID: parent.ID, Name: op.Name,
			Summary: fmt.Sprintf("create OU %s under %s", op.Name, st.describe(x, parent.ID))})

	case OpMoveAccount:
		to, err := st.node(x, op, "to", op.To)
		if err != nil {
			return err
		}
		if len(op.Accounts) == 0 {
			return fail("needs at least one account")
		}
		for _, a := range op.Accounts {
			acct, err := st.account(x, op, a)
			if err != nil {
				return err
			}
			if err := st.move(x, op, acct, to.ID); err != nil {
				return err
			}
		}
		return nil

	case OpEnablePolicyType, OpDisablePolicyType:
		t, err := policyType(op)
		if err != nil {
			return err
		}
		root := x.Snapshot().Root.ID
		if op.Op == OpEnablePolicyType {
			return st.add(op, Step{Kind: EnablePolicyType, RootID: root, PolicyType: t,
				Summary: fmt.Sprintf("enable %ss at the root %s", t.Short(), root)})
		}
		return st.add(op, Step{Kind: DisablePolicyType, RootID: root, PolicyType: t,
			Summary: fmt.Sprintf("disable %ss at the root %s (detaches every %s)", t.Short(), root, t.Short())})

	case OpQuarantine:
		return st.quarantine(x, op)

	case OpRelease:
		return st.release(x, op)
	}
	return fail("unknown operation (known: %s)", opList())
}

func (st *planState) move(x *org.Index, op Operation, acct org.Node, to string) error {
	if acct.ParentID == to {
		return &InputError{Operation: op, Err: fmt.Errorf("%s is already in %s", st.describe(x, acct.ID), st.describe(x, to))}
	}
	return st.add(op, Step{Kind: MoveAccount, AccountID: acct.ID, SourceParentID: acct.ParentID, DestinationParentID: to,
		Summary: fmt.Sprintf("move %s from %s to %s", st.describe(x, acct.ID), st.describe(x, acct.ParentID), st.describe(x, to))})
}

// quarantine isolates accounts the standard way: ensure the quarantine OU
// and its deny-all SCP, attach the SCP to the OU while it is still empty,
// then move the accounts in, recording where each came from.
func (st *planState) quarantine(x *org.Index, op Operation) error {
	if len(op.Accounts) == 0 {
		return &InputError{Operation: op, Err: errors.New("needs at least one account")}
	}
	var accts []org.Node
	for _, a := range op.Accounts {
		n, err := st.account(x, op, a)
		if err != nil {
			return err
		}
		if x.IsManagementAccount(n.ID) {
			return &InputError{Operation: op, Err: fmt.Errorf("%s is the management account: SCPs never apply to it, so a quarantine cannot restrict it", st.describe(x, n.ID))}
		}
		if slices.ContainsFunc(accts, func(o org.Node) bool { return o.ID == n.ID }) {
			return &InputError{Operation: op, Err: fmt.Errorf("%s is named twice", st.describe(x, n.ID))}
		}
		accts = append(accts, n)
	}
	snap := x.Snapshot()
	if !snap.Root.PolicyTypeEnabled(org.ServiceControlPolicy) {
		return &InputError{Operation: op, Err: errors.New("service control policies are not enabled at the root; a quarantine needs them (plan enable-policy-type --type SCP first)")}
	}
	ouID := ""
	for _, c := range x.Children(snap.Root.ID) {
		if c.Kind == org.KindOU && strings.EqualFold(c.Name, st.q.OUName) {
			ouID = c.ID
		}
	}
	if ouID == "" {
		if err := st.add(op, Step{Kind: CreateOU, Ref: quarantineOURef, ParentID: snap.Root.ID, Name: st.q.OUName,
			Summary: fmt.Sprintf("create the quarantine OU %s under the root", st.q.OUName)}); err != nil {
			return err
		}
		ouID = RefPrefix + quarantineOURef
	}
	st.quarantineOU = ouID
	polID := ""
	for _, p := range snap.Policies {
		if p.Type == org.ServiceControlPolicy && p.Name == st.q.PolicyName {
			polID = p.ID
		}
	}
	if polID == "" {
		if err := st.add(op, Step{Kind: CreatePolicy, Ref: quarantineSCPRef, Name: st.q.PolicyName,
			Description: "orgguard quarantine: deny everything except the break-glass principals",
			PolicyType:  org.ServiceControlPolicy, Content: st.q.PolicyContent(),
			Summary: fmt.Sprintf("create the quarantine SCP %s (deny all except %s)", st.q.PolicyName, strings.Join(st.q.BreakGlassPrincipals, ", "))}); err != nil {
			return err
		}
		polID = RefPrefix + quarantineSCPRef
	}
	attached := !strings.HasPrefix(ouID, RefPrefix) && slices.Contains(x.TargetsOf(polID), ouID)
	if !attached {
		if err := st.add(op, Step{Kind: AttachPolicy, PolicyID: polID, TargetID: ouID,
			Summary: fmt.Sprintf("attach the quarantine SCP %s to the quarantine OU %s (still empty)", st.q.PolicyName, st.q.OUName)}); err != nil {
			return err
		}
	}
	for _, a := range accts {
		if a.ParentID == ouID {
			return &InputError{Operation: op, Err: fmt.Errorf("%s is already in quarantine", st.describe(x, a.ID))}
		}
		if err := st.add(op, Step{Kind: MoveAccount, AccountID: a.ID, SourceParentID: a.ParentID, DestinationParentID: ouID,
			Summary: fmt.Sprintf("move %s from %s into quarantine", st.describe(x, a.ID), st.describe(x, a.ParentID))}); err != nil {
			return err
		}
		st.quarantined = append(st.quarantined, a.ID)
	}
	return nil
}

// release moves quarantined accounts back to a parent.
func (st *planState) release(x *org.Index, op Operation) error {
	if len(op.Accounts) == 0 {
		return &InputError{Operation: op, Err: errors.New("needs at least one account")}
	}
	if op.To == "" {
		return &InputError{Operation: op, Err: errors.New("needs the destination (--to): where the accounts go back to")}
	}
	to, err := st.node(x, op, "to", op.To)
	if err != nil {
		return err
	}
	for _, a := range op.Accounts {
		n, err := st.account(x, op, a)
		if err != nil {
			return err
		}
		parentID := n.ParentID
		if r, err := st.bind.resolve(parentID); err == nil {
			parentID = r
		}
		parent, _ := x.Node(parentID)
		if parent.Kind != org.KindOU || !strings.EqualFold(parent.Name, st.q.OUName) {
			return &InputError{Operation: op, Err: fmt.Errorf("%s is not in the quarantine OU %s", st.describe(x, n.ID), st.q.OUName)}
		}
		if err := st.move(x, op, n, to.ID); err != nil {
			return err
		}
		// The guardrails judge a release against the quarantine OU the
		// accounts leave: record it, as a quarantine does.
		if st.quarantineOU == "" {
			st.quarantineOU = parentID
		}
		st.quarantined = append(st.quarantined, n.ID)
	}
	return nil
}

func (st *planState) node(x *org.Index, op Operation, field, ref string) (org.Node, error) {
	if strings.TrimSpace(ref) == "" {
		return org.Node{}, &InputError{Operation: op, Err: fmt.Errorf("needs a %s", field)}
	}
	if strings.HasPrefix(ref, RefPrefix) {
		id, err := st.bind.resolve(ref)
		if err != nil {
			return org.Node{}, &InputError{Operation: op, Err: fmt.Errorf("%s: %w", field, err)}
		}
		ref = id
	}
	n, err := x.Resolve(ref)
	if err != nil {
		return org.Node{}, &InputError{Operation: op, Err: fmt.Errorf("%s: %w", field, err)}
	}
	n.ID = st.refOf(n.ID)
	n.ParentID = st.refOf(n.ParentID)
	return n, nil
}

// refOf returns the reference of an object this plan creates ("ref:..."),
// or id itself for objects that exist already: steps must name created
// objects by reference, since their real IDs are known only at apply.
func (st *planState) refOf(id string) string {
	for k, v := range st.bind {
		if v == id && strings.HasPrefix(k, RefPrefix) {
			return k
		}
	}
	return id
}

func (st *planState) account(x *org.Index, op Operation, ref string) (org.Node, error) {
	n, err := st.node(x, op, "account", ref)
	if err != nil {
		return n, err
	}
	if n.Kind != org.KindAccount {
		return n, &InputError{Operation: op, Err: fmt.Errorf("%q is %s, not an account", ref, st.describe(x, n.ID))}
	}
	return n, nil
}

// policy resolves op.Policy by ID or by name.
func (st *planState) policy(x *org.Index, op Operation) (org.Policy, error) {
	ref := strings.TrimSpace(op.Policy)
	if ref == "" {
		return org.Policy{}, &InputError{Operation: op, Err: errors.New("needs a policy (ID or name)")}
	}
	if strings.HasPrefix(ref, RefPrefix) {
		id, err := st.bind.resolve(ref)
		if err != nil {
			return org.Policy{}, &InputError{Operation: op, Err: err}
		}
		ref = id
	}
	p, err := ResolvePolicy(x.Snapshot(), ref, op)
	p.ID = st.refOf(p.ID)
	return p, err
}

// ErrUnknownPolicy is returned when no policy has the given ID or name.
var ErrUnknownPolicy = errors.New("unknown policy")

// ResolvePolicy finds a policy by ID, or by name (case-sensitive first,
// then case-insensitive); an ambiguous or unknown name is an *InputError
// listing the candidates.
func ResolvePolicy(s *org.Snapshot, ref string, op Operation) (org.Policy, error) {
	var exact, fold []org.Policy
	for _, p := range s.Policies {
		if p.ID == ref {
			return p, nil
		}
		if p.Name == ref {
			exact = append(exact, p)
		} else if strings.EqualFold(p.Name, ref) {
			fold = append(fold, p)
		}
	}
	cands := exact
	if len(cands) == 0 {
		cands = fold
	}
	switch len(cands) {
	case 1:
		return cands[0], nil
	case 0:
		return org.Policy{}, &InputError{Operation: op, Err: fmt.Errorf("policy %q: no policy with that ID or name: %w", ref, ErrUnknownPolicy)}
	}
	names := make([]string, len(cands))
	for i, p := range cands {
		names[i] = fmt.Sprintf("%s (%s, %s)", p.Name, p.ID, p.Type.Short())
	}
	return org.Policy{}, &InputError{Operation: op, Err: fmt.Errorf("policy %q is ambiguous: %s", ref, strings.Join(names, "; "))}
}

func policyType(op Operation) (org.PolicyType, error) {
	if op.Type == "" {
		return org.ServiceControlPolicy, nil
	}
	t, ok := org.ParsePolicyType(op.Type)
	if !ok {
		return "", &InputError{Operation: op, Err: fmt.Errorf("unknown policy type %q (want SCP or RCP)", op.Type)}
	}
	return t, nil
}

func opList() string {
	ops := Ops()
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, ", ")
}

// describe names a node for people, following references to the objects
// this plan creates.
func (st *planState) describe(x *org.Index, id string) string {
	if r, err := st.bind.resolve(id); err == nil {
		id = r
	}
	return x.Describe(id)
}
