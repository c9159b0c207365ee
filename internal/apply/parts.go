package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/sim"
)

// Parts re-reads single parts of the organization. With Options.Parts set,
// a health check re-reads only what the plan touches — the SCPs and RCPs
// attached to each target it names, the parent of each account and OU, each
// policy, the root's policy types — and takes everything else from the
// expected state, instead of reading the whole organization before and
// after every step (thousands of calls on a large organization). The probes
// still observe the live organization. Not-found answers are errors
// matching org.ErrNotFound.
type Parts interface {
	AttachedPolicies(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error)
	Parent(ctx context.Context, childID string) (string, error)
	Policy(ctx context.Context, policyID string) (org.Policy, error)
	OU(ctx context.Context, ouID string) (org.OU, error)
	Root(ctx context.Context) (org.Root, error)
}

// SimParts reads parts of a simulated organization.
type SimParts struct{ Org *sim.Org }

// AttachedPolicies lists the policies of type t attached to a target.
func (p SimParts) AttachedPolicies(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error) {
	return p.Org.ListPoliciesForTarget(ctx, targetID, t)
}

// Parent returns the parent of an account or OU.
func (p SimParts) Parent(ctx context.Context, childID string) (string, error) {
	ps, err := p.Org.ListParents(ctx, childID)
	if err != nil {
		return "", err
	}
	if len(ps) != 1 {
		return "", fmt.Errorf("%s has %d parents", childID, len(ps))
	}
	return ps[0].ID, nil
}

// Policy describes a policy.
func (p SimParts) Policy(ctx context.Context, policyID string) (org.Policy, error) {
	return p.Org.DescribePolicy(ctx, policyID)
}

// OU describes an OU, with its parent.
func (p SimParts) OU(ctx context.Context, ouID string) (org.OU, error) {
	u, err := p.Org.DescribeOrganizationalUnit(ctx, ouID)
	if err != nil {
		return u, err
	}
	u.ParentID, err = p.Parent(ctx, ouID)
	return u, err
}

// Root returns the root.
func (p SimParts) Root(ctx context.Context) (org.Root, error) {
	rs, err := p.Org.ListRoots(ctx)
	if err != nil {
		return org.Root{}, err
	}
	if len(rs) != 1 {
		return org.Root{}, fmt.Errorf("the organization has %d roots", len(rs))
	}
	return rs[0], nil
}

// evaluatedTypes are the policy types whose attachments a partial read
// re-reads; other types are carried from the expected state.
var evaluatedTypes = []org.PolicyType{org.ServiceControlPolicy, org.ResourceControlPolicy}

// readParts returns expected with every touched part replaced by what
// parts reads from the live organization.
func readParts(ctx context.Context, parts Parts, expected *org.Snapshot, touch map[string]bool) (*org.Snapshot, error) {
	parts = prefetch(ctx, parts, expected, touch)
	c := expected.Clone()
	root, err := parts.Root(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the root: %w", err)
	}
	c.Root.PolicyTypes = slices.Clone(root.PolicyTypes)
	ids := make([]string, 0, len(touch))
	for id := range touch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	policy := func(id string) int {
		return slices.IndexFunc(c.Policies, func(p org.Policy) bool { return p.ID == id })
	}
	dropAttachments := func(keep func(org.Attachment) bool) {
		c.Attachments = slices.DeleteFunc(c.Attachments, func(a org.Attachment) bool { return !keep(a) })
	}
	evaluated := func(policyID string) bool {
		i := policy(policyID)
		return i < 0 || slices.Contains(evaluatedTypes, c.Policies[i].Type)
	}
	readAttachments := func(target string) error {
		dropAttachments(func(a org.Attachment) bool { return a.TargetID != target || !evaluated(a.PolicyID) })
		for _, t := range evaluatedTypes {
			if !root.PolicyTypeEnabled(t) {
				continue
			}
			ps, err := parts.AttachedPolicies(ctx, target, t)
			if err != nil {
				return fmt.Errorf("reading the policies attached to %s: %w", target, err)
			}
			for _, p := range ps {
				if i := policy(p.ID); i < 0 {
					full, err := parts.Policy(ctx, p.ID)
					if err != nil {
						return fmt.Errorf("reading policy %s: %w", p.ID, err)
					}
					c.Policies = append(c.Policies, full)
				}
				c.Attachments = append(c.Attachments, org.Attachment{PolicyID: p.ID, TargetID: target})
			}
		}
		return nil
	}
	for _, id := range ids {
		switch {
		case id == c.Root.ID:
			if err := readAttachments(id); err != nil {
				return nil, err
			}
		case org.IsOUID(id):
			u, err := parts.OU(ctx, id)
			i := slices.IndexFunc(c.OUs, func(o org.OU) bool { return o.ID == id })
			switch {
			case errors.Is(err, org.ErrNotFound):
				if i >= 0 {
					c.OUs = slices.Delete(c.OUs, i, i+1)
				}
				dropAttachments(func(a org.Attachment) bool { return a.TargetID != id })
				continue
			case err != nil:
				return nil, fmt.Errorf("reading OU %s: %w", id, err)
			case i >= 0:
				c.OUs[i].Name, c.OUs[i].ParentID = u.Name, u.ParentID
			default:
				c.OUs = append(c.OUs, u)
			}
			if err := readAttachments(id); err != nil {
				return nil, err
			}
		case org.IsAccountID(id):
			i := slices.IndexFunc(c.Accounts, func(a org.Account) bool { return a.ID == id })
			if i < 0 {
				continue // accounts are never created or deleted by a plan
			}
			parent, err := parts.Parent(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("reading the parent of account %s: %w", id, err)
			}
			c.Accounts[i].ParentID = parent
			if err := readAttachments(id); err != nil {
				return nil, err
			}
		case org.IsPolicyID(id):
			p, err := parts.Policy(ctx, id)
			i := policy(id)
			switch {
			case errors.Is(err, org.ErrNotFound):
				if i >= 0 {
					c.Policies = slices.Delete(c.Policies, i, i+1)
				}
				dropAttachments(func(a org.Attachment) bool { return a.PolicyID != id })
			case err != nil:
				return nil, fmt.Errorf("reading policy %s: %w", id, err)
			case i >= 0:
				c.Policies[i] = p
			default:
				c.Policies = append(c.Policies, p)
			}
		}
	}
	c.Fingerprint = ""
	c.Normalize()
	return c, nil
}

// ReadParts returns expected with every part named in touch (IDs of the
// root, OUs, accounts and policies) replaced by what parts reads from the
// live organization, as a health check does: the root's policy types and
// attachments, an OU's name, parent and attachments, an account's parent
// and attachments, a policy's content. Planning uses it to verify a stored
// snapshot before planning on it.
func ReadParts(ctx context.Context, parts Parts, expected *org.Snapshot, touch map[string]bool) (*org.Snapshot, error) {
	return readParts(ctx, parts, expected, touch)
}

// Touched returns the IDs the steps (and their inverses) name: policies,
// targets, accounts, parents, OUs, the root. References to objects the
// steps create are left out.
func Touched(steps []change.Planned) map[string]bool {
	out := touched(steps, change.Bindings{})
	for id := range out {
		if strings.HasPrefix(id, change.RefPrefix) {
			delete(out, id)
		}
	}
	return out
}

// partsConcurrency is how many partial reads a round makes at once.
const partsConcurrency = 8

// prefetched answers Parts calls from reads made ahead, concurrently, and
// passes anything else through: a round's few dozen calls then take the
// time of a few instead of all of them one after the other.
type prefetched struct {
	Parts
	root     partAnswer[org.Root]
	attached map[string]partAnswer[[]org.Policy] // targetID + "\x00" + type
	parents  map[string]partAnswer[string]
	policies map[string]partAnswer[org.Policy]
	ous      map[string]partAnswer[org.OU]
}

type partAnswer[T any] struct {
	v   T
	err error
}

// prefetch reads, at most partsConcurrency at a time, every part readParts
// will ask for touch: the root first (its policy types say which
// attachments to read), then the rest at once. Accounts not in expected
// are not read (readParts skips them).
func prefetch(ctx context.Context, parts Parts, expected *org.Snapshot, touch map[string]bool) *prefetched {
	p := &prefetched{Parts: parts, attached: map[string]partAnswer[[]org.Policy]{}, parents: map[string]partAnswer[string]{},
		policies: map[string]partAnswer[org.Policy]{}, ous: map[string]partAnswer[org.OU]{}}
	root, err := parts.Root(ctx)
	p.root = partAnswer[org.Root]{root, err}
	if err != nil {
		return p
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, partsConcurrency)
	do := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return // the lookups fall through and see the context
			}
			defer func() { <-sem }()
			f()
		}()
	}
	attached := func(id string) {
		for _, t := range evaluatedTypes {
			if !root.PolicyTypeEnabled(t) {
				continue
			}
			do(func() {
				v, err := parts.AttachedPolicies(ctx, id, t)
				mu.Lock()
				p.attached[id+"\x00"+string(t)] = partAnswer[[]org.Policy]{v, err}
				mu.Unlock()
			})
		}
	}
	for id := range touch {
		switch {
		case org.IsOUID(id):
			do(func() {
				v, err := parts.OU(ctx, id)
				mu.Lock()
				p.ous[id] = partAnswer[org.OU]{v, err}
				mu.Unlock()
			})
			attached(id)
		case org.IsAccountID(id):
			if !slices.ContainsFunc(expected.Accounts, func(a org.Account) bool { return a.ID == id }) {
				continue
			}
			do(func() {
				v, err := parts.Parent(ctx, id)
				mu.Lock()
				p.parents[id] = partAnswer[string]{v, err}
				mu.Unlock()
			})
			attached(id)
		case org.IsPolicyID(id):
			do(func() {
				v, err := parts.Policy(ctx, id)
				mu.Lock()
				p.policies[id] = partAnswer[org.Policy]{v, err}
				mu.Unlock()
			})
		default: // the root
			attached(id)
		}
	}
	wg.Wait()
	return p
}

func (p *prefetched) Root(context.Context) (org.Root, error) { return p.root.v, p.root.err }

func (p *prefetched) AttachedPolicies(ctx context.Context, targetID string, t org.PolicyType) ([]org.Policy, error) {
	if a, ok := p.attached[targetID+"\x00"+string(t)]; ok {
		return a.v, a.err
	}
	return p.Parts.AttachedPolicies(ctx, targetID, t)
}

func (p *prefetched) Parent(ctx context.Context, childID string) (string, error) {
	if a, ok := p.parents[childID]; ok {
		return a.v, a.err
	}
	return p.Parts.Parent(ctx, childID)
}

func (p *prefetched) Policy(ctx context.Context, policyID string) (org.Policy, error) {
	if a, ok := p.policies[policyID]; ok {
		return a.v, a.err
	}
	return p.Parts.Policy(ctx, policyID)
}

func (p *prefetched) OU(ctx context.Context, ouID string) (org.OU, error) {
	if a, ok := p.ous[ouID]; ok {
		return a.v, a.err
	}
	return p.Parts.OU(ctx, ouID)
}
