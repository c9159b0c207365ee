// Package awsprobe implements probe.Prober against real AWS. For each
// check it assumes the probe role in the check's account (from the
// caller's credentials: the management account or a delegated
// administrator) and makes the cheap read call that corresponds to the
// check's action (iam:ListRoles with MaxItems 1, ec2:DescribeRegions,
// s3:ListAllMyBuckets through ListBuckets, sts:AssumeRole by assuming the
// probe role again, ...). Success is observed as allowed; an
// authorization error is observed as denied when it comes from the
// organization's policies (or names no policy type), and is an error when
// it comes from the probe's own setup (the probe role's policies, a VPC
// endpoint policy); any other error means the
// check could not be made and is never OK.
//
// Actions without a read call fall back to the IAM policy simulator
// (SimulatePrincipalPolicy on the probe role, with an allow-all policy
// added so that only the role's own denials, its permissions boundary and
// the organization's SCPs can deny). The simulator evaluates SCPs but not
// RCPs, and a simulation that returns no organizations decision did not
// evaluate SCPs: such a result is reported but never OK. See
// docs/probes-aws.md.
//
// IAM, STS and Organizations are called through their SDK clients; EC2
// and S3, for which orgguard carries no SDK module, through one signed
// request each (the SDK's SigV4 signer and retryer).
package awsprobe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgguard/orgguard/internal/awsconfig"
	"github.com/orgguard/orgguard/internal/probe"
)

// Defaults for Options.
const (
	DefaultRegion          = awsconfig.DefaultRegion
	DefaultSessionName     = "orgguard-probe"
	DefaultSessionDuration = 15 * time.Minute // the shortest STS allows
	DefaultConcurrency     = 4
	DefaultCallTimeout     = 30 * time.Second
	DefaultMaxAttempts     = 5
	DefaultMaxBackoff      = 5 * time.Second
)

// Options configure a Prober. The zero value uses the default credential
// chain and profile, region us-east-1 and role probe.DefaultRole.
type Options struct {
	Profile string // shared config profile; "" = AWS_PROFILE or "default"
	Region  string // "" = from the shared config, else DefaultRegion
	// EndpointURL, when set, is the base URL of every service (STS, IAM,
	// Organizations, EC2, S3): for tests and proxies. With a loopback
	// address and no Profile, static dummy credentials are used.
	EndpointURL string

	// RoleName is the probe role in every account:
	// arn:<partition>:iam::<account>:role/<RoleName>. It may include a path
	// ("probes/OrgGuardProbe"). Default probe.DefaultRole. A check whose
	// Principal is set names the role to assume instead.
	RoleName   string
	ExternalID string // sts:ExternalId the probe role's trust policy requires; "" = none
	// SessionName is the role session name; default DefaultSessionName.
	SessionName string
	// SessionDuration of the assumed role; default (and minimum)
	// DefaultSessionDuration.
	SessionDuration time.Duration

	// Concurrency is how many accounts are probed at once (within one
	// account, checks run one after another); default DefaultConcurrency.
	Concurrency int
	// CallTimeout bounds each AWS call including its retries; default
	// DefaultCallTimeout.
	CallTimeout time.Duration
	// MaxAttempts per call including the first (throttling and 5xx are
	// retried with jittered exponential backoff up to MaxBackoff).
	MaxAttempts int
	MaxBackoff  time.Duration

	// NoSimulation turns the IAM policy simulator fallback off: checks of
	// actions without a read call then fail with ErrNoReadCall.
	NoSimulation bool
}

// ErrNoReadCall is reported for a check whose action has no read call when
// the simulator fallback is off.
var ErrNoReadCall = errors.New("no read call observes this action")

// Prober answers probe checks against real AWS. It is safe for concurrent
// use; credentials are assumed afresh in each Probe call and cached for
// its duration only.
type Prober struct {
	cfg    aws.Config
	opts   Options
	sts    *sts.Client // the caller's STS client
	signer *v4.Signer
}

var _ probe.Prober = (*Prober)(nil)

// New loads the AWS configuration and returns a Prober. It makes no AWS
// call.
func New(ctx context.Context, o Options) (*Prober, error) {
	if o.RoleName == "" {
		o.RoleName = probe.DefaultRole
	}
	o.RoleName = strings.Trim(o.RoleName, "/")
	if o.RoleName == "" || strings.ContainsAny(o.RoleName, " :*?") {
		return nil, fmt.Errorf("reading the probe role name %q: want a role name, optionally with a path", o.RoleName)
	}
	if o.SessionName == "" {
		o.SessionName = DefaultSessionName
	}
	if o.SessionDuration < DefaultSessionDuration {
		o.SessionDuration = DefaultSessionDuration
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{
		Profile:     o.Profile,
		Region:      o.Region,
		EndpointURL: o.EndpointURL,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = o.MaxAttempts
				so.MaxBackoff = o.MaxBackoff
				// Probes are few and short: throttling must slow them
				// down, never exhaust a client-side retry quota.
				so.RateLimiter = ratelimit.None
			})
		},
		LoopbackKey: "orgguard-probe-test",
	})
	if err != nil {
		return nil, err
	}
	p := &Prober{cfg: cfg, opts: o, signer: v4.NewSigner()}
	p.sts = sts.NewFromConfig(cfg, func(so *sts.Options) { p.endpointOption(so) })
	return p, nil
}

func (p *Prober) endpointOption(o any) {
	if p.opts.EndpointURL == "" {
		return
	}
	switch o := o.(type) {
	case *sts.Options:
		o.BaseEndpoint = aws.String(p.opts.EndpointURL)
	case *iam.Options:
		o.BaseEndpoint = aws.String(p.opts.EndpointURL)
	case *organizations.Options:
		o.BaseEndpoint = aws.String(p.opts.EndpointURL)
	}
}

// RoleARN is the probe role's ARN in account.
func (p *Prober) RoleARN(account string) string {
	return "arn:" + partition(p.cfg.Region) + ":iam::" + account + ":role/" + p.opts.RoleName
}

// Probe answers checks, one Result per Check in order. Accounts are
// probed concurrently (at most Options.Concurrency at a time), the checks
// of one account in order with the probe role assumed once. It returns an
// error only for a cancelled context before any check ran.
func (p *Prober) Probe(ctx context.Context, checks []probe.Check) ([]probe.Result, error) {
	out := make([]probe.Result, len(checks))
	var order []string
	byAccount := map[string][]int{}
	for i, c := range checks {
		out[i].Check = c
		if _, ok := byAccount[c.AccountID]; !ok {
			order = append(order, c.AccountID)
		}
		byAccount[c.AccountID] = append(byAccount[c.AccountID], i)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("probing: %w", err)
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range min(p.opts.Concurrency, len(order)) {
		wg.Go(func() {
			for acct := range work {
				p.probeAccount(ctx, acct, byAccount[acct], checks, out)
			}
		})
	}
	for _, acct := range order {
		work <- acct
	}
	close(work)
	wg.Wait()
	return out, nil
}

// probeAccount answers the checks at indexes idx, all in account acct,
// writing out[idx]. Sessions are cached per role for this call only.
func (p *Prober) probeAccount(ctx context.Context, acct string, idx []int, checks []probe.Check, out []probe.Result) {
	sessions := map[string]*session{}
	for _, i := range idx {
		c := checks[i]
		if err := ctx.Err(); err != nil {
			out[i].Err = "probing cancelled: " + err.Error()
			continue
		}
		role, err := p.roleFor(c)
		if err != nil {
			out[i].Err = err.Error()
			continue
		}
		s, ok := sessions[role]
		if !ok {
			s = p.assume(ctx, role)
			sessions[role] = s
		}
		if s.err != nil {
			out[i].Err = s.err.Error()
			continue
		}
		out[i] = p.check(ctx, s, c)
	}
}

// roleFor is the role c is answered as: c.Principal when set (it must be
// a role in c's account), else the configured probe role.
func (p *Prober) roleFor(c probe.Check) (string, error) {
	if !validAccountID(c.AccountID) {
		return "", fmt.Errorf("checking %s: account id %q is not 12 digits", c.Action, c.AccountID)
	}
	if c.Principal == "" {
		return p.RoleARN(c.AccountID), nil
	}
	// arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
	parts := strings.SplitN(c.Principal, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] != c.AccountID ||
		!strings.HasPrefix(parts[5], "role/") || len(parts[5]) == len("role/") {
		return "", fmt.Errorf("checking %s in %s: principal %q is not a role in that account; probes act only as a role they can assume",
			c.Action, c.AccountID, c.Principal)
	}
	// Checks built from the organization's model name the role in the
	// commercial partition; the role lives in the configured one.
	if part := partition(p.cfg.Region); parts[1] != part && (parts[1] == "aws" || parts[1] == "aws-cn" || parts[1] == "aws-us-gov") {
		parts[1] = part
	}
	return strings.Join(parts, ":"), nil
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// check answers one check with session s.
func (p *Prober) check(ctx context.Context, s *session, c probe.Check) probe.Result {
	r := probe.Result{Check: c}
	rc, ok := readCalls[strings.ToLower(c.Action)]
	if !ok {
		if p.opts.NoSimulation {
			r.Err = fmt.Sprintf("checking %s in %s: %v and the policy simulator is off", c.Action, c.AccountID, ErrNoReadCall)
			return r
		}
		return p.simulate(ctx, s, c)
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.CallTimeout)
	defer cancel()
	id, err := rc.call(cctx, p, s)
	return observe(r, rc.name, id, err)
}

// observe fills r from the outcome of the read call named name.
func observe(r probe.Result, name, requestID string, err error) probe.Result {
	if err == nil {
		r.Observed = probe.Allowed
		r.Detail = name + " succeeded" + requestSuffix(requestID)
		r.OK = r.Observed == r.Check.Expect
		return r
	}
	if requestID == "" {
		requestID = requestIDOf(err)
	}
	code, msg := errorCode(err)
	v, typ := Classify(code, msg)
	switch v {
	case DeniedByOrganization:
		r.Observed = probe.Denied
		r.Detail = name + ": " + code
		if typ != "" {
			r.Detail += ", denied by a " + typ
		} else {
			r.Detail += " (the message names no SCP or RCP: " + shorten(msg) + ")"
		}
		if arn := policyARNIn(msg); arn != "" {
			r.Detail += " " + arn
		}
		r.Detail += requestSuffix(requestID)
		r.OK = r.Observed == r.Check.Expect
	case DeniedByProbeSetup:
		fix := "fix the probe role so that it allows " + r.Check.Action
		if typ == "vpc endpoint policy" {
			fix = "let orgguard's network path reach " + r.Check.Action
		} else {
			typ = "probe role's own " + typ
		}
		r.Err = fmt.Sprintf("%s in %s: %s by the %s, not by the organization: %s (see docs/probes-aws.md)%s",
			name, r.Check.AccountID, code, typ, fix, requestSuffix(requestID))
	default:
		r.Err = fmt.Sprintf("%s in %s: %v%s", name, r.Check.AccountID, err, errRequestSuffix(err, requestID))
	}
	return r
}

// requestSuffix names the request id for a report, "" when there is none.
func requestSuffix(id string) string {
	if id == "" {
		return ""
	}
	return " (request id " + id + ")"
}

func shorten(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// errRequestSuffix is requestSuffix unless err's text already names the
// request id (SDK errors do).
func errRequestSuffix(err error, id string) string {
	if id != "" && strings.Contains(err.Error(), id) {
		return ""
	}
	return requestSuffix(id)
}
