package probe

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/policy"
)

// adminPolicy is the probe role's identity policy: it may do everything, so
// that a denial can only come from the organization's SCPs and RCPs.
const adminPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// Evaluator evaluates checks with the policy engine against a snapshot. It
// compiles each policy document once and is safe for concurrent use.
type Evaluator struct {
	// RCPServices reports whether a service supports RCPs (the catalog's
	// list); nil means the engine's built-in fallback list.
	RCPServices func(service string) bool

	mu       sync.Mutex
	compiled map[[32]byte]*policy.Policy
	admin    *policy.Policy
}

// NewEvaluator returns an Evaluator.
func NewEvaluator(rcpServices func(string) bool) *Evaluator {
	return &Evaluator{RCPServices: rcpServices, compiled: map[[32]byte]*policy.Policy{}}
}

func (e *Evaluator) compile(kind policy.Kind, name, content string) (*policy.Policy, error) {
	key := sha256.Sum256([]byte(kind.String() + "\x00" + content))
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.compiled == nil {
		e.compiled = map[[32]byte]*policy.Policy{}
	}
	if p, ok := e.compiled[key]; ok {
		return p, nil
	}
	p, _, err := policy.Load([]byte(content), policy.Source{File: name}, kind, name)
	if err != nil {
		return nil, fmt.Errorf("compiling policy %s: %w", name, err)
	}
	e.compiled[key] = p
	return p, nil
}

func (e *Evaluator) chain(x *org.Index, account string, t org.PolicyType, kind policy.Kind) ([]policy.Level, error) {
	levels, err := x.EffectiveChain(account, t)
	if errors.Is(err, org.ErrPolicyTypeNotEnabled) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]policy.Level, len(levels))
	for i, l := range levels {
		out[i].ID = l.NodeID
		for _, p := range l.Policies {
			cp, err := e.compile(kind, p.ID, p.Content)
			if err != nil {
				return nil, err
			}
			out[i].Policies = append(out[i].Policies, cp)
		}
	}
	return out, nil
}

// Evaluate answers c in the organization x: the outcome and an
// explanation. It ignores c.Expect.
func (e *Evaluator) Evaluate(x *org.Index, c Check) (Expect, string, error) {
	if _, ok := x.Account(c.AccountID); !ok {
		return "", "", fmt.Errorf("account %s is not in the organization", c.AccountID)
	}
	e.mu.Lock()
	if e.admin == nil {
		p, _, err := policy.Load([]byte(adminPolicy), policy.Source{File: "probe-role"}, policy.KindIdentity, "probe-role")
		if err != nil {
			e.mu.Unlock()
			return "", "", fmt.Errorf("compiling the probe role's policy: %w", err)
		}
		e.admin = p
	}
	admin := e.admin
	e.mu.Unlock()
	s := x.Snapshot()
	set := &policy.PolicySet{Identity: []*policy.Policy{admin}, RCPServices: e.RCPServices,
		Org: &policy.Org{ID: s.Organization.ID, ManagementAccount: s.Organization.ManagementAccountID}}
	var err error
	if set.SCPs, err = e.chain(x, c.AccountID, org.ServiceControlPolicy, policy.KindSCP); err != nil {
		return "", "", err
	}
	if set.RCPs, err = e.chain(x, c.AccountID, org.ResourceControlPolicy, policy.KindRCP); err != nil {
		return "", "", err
	}
	res := c.Resource
	if res == "" {
		res = "*"
	}
	// A probe calls AWS over HTTPS, as every SDK does.
	rc, err := policy.NewRequestContext(policy.Request{Principal: c.Principal, Action: c.Action, Resource: res,
		ResourceAccount: c.AccountID, Context: map[string][]string{"aws:SecureTransport": {"true"}}}, set.Org)
	if err != nil {
		return "", "", err
	}
	r := policy.Evaluate(rc, set)
	if r.Decision == policy.Allowed {
		return Allowed, "allowed", nil
	}
	return Denied, explain(r), nil
}

// explain summarises an engine result on one line.
func explain(r policy.Result) string {
	ex := r.Explain()
	s := r.Decision.String()
	if ex.DecidedBy != "" {
		s += " by " + ex.DecidedBy
	}
	if ex.LevelID != "" {
		s += " at " + ex.LevelID
	}
	if ex.Reason != "" {
		s += " (" + ex.Reason + ")"
	}
	return strings.TrimSpace(s)
}

// Engine is a Prober for the simulated organization: it reads the live
// state from Reader at each Probe call and evaluates every check with the
// policy engine on it.
type Engine struct {
	Reader org.Reader
	Eval   *Evaluator
}

// Probe answers the checks on the organization's current state.
func (p *Engine) Probe(ctx context.Context, checks []Check) ([]Result, error) {
	s, err := p.Reader.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("probing: reading the organization: %w", err)
	}
	return p.ProbeState(ctx, s, checks)
}

// ProbeState answers the checks on state s.
func (p *Engine) ProbeState(_ context.Context, s *org.Snapshot, checks []Check) ([]Result, error) {
	x, err := org.NewIndex(s)
	if err != nil {
		return nil, fmt.Errorf("probing: %w", err)
	}
	ev := p.Eval
	if ev == nil {
		ev = NewEvaluator(nil)
	}
	out := make([]Result, len(checks))
	for i, c := range checks {
		out[i].Check = c
		got, detail, err := ev.Evaluate(x, c)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		out[i].Observed, out[i].Detail = got, detail
		out[i].OK = got == c.Expect
	}
	return out, nil
}

// StateProber is a Prober that can answer checks on a state of the
// organization given to it, instead of reading the whole organization
// itself: the apply engine passes the state its partial read assembled
// (the parts the plan touches read live, the rest as expected).
type StateProber interface {
	Prober
	ProbeState(ctx context.Context, s *org.Snapshot, checks []Check) ([]Result, error)
}

var _ StateProber = (*Engine)(nil)
