package awsprobe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/probe/awsprobe"
)

// isolateAWSConfig keeps the developer's ~/.aws and AWS_* variables out of
// the tests.
func isolateAWSConfig(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM"} {
		tb.Setenv(v, "")
	}
}

// newProber serves f on 127.0.0.1 and returns a Prober pointed at it.
func newProber(tb testing.TB, f *fakeAWS, o awsprobe.Options) *awsprobe.Prober {
	tb.Helper()
	isolateAWSConfig(tb)
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	o.EndpointURL = srv.URL
	if o.MaxBackoff == 0 {
		o.MaxBackoff = time.Millisecond
	}
	p, err := awsprobe.New(context.Background(), o)
	if err != nil {
		tb.Fatalf("awsprobe.New: %v", err)
	}
	return p
}

const (
	acctA = "222222222222"
	acctB = "333333333333"
)

func role(acct string) string { return "arn:aws:iam::" + acct + ":role/OrgGuardProbe" }

func check(acct, action string, expect probe.Expect) probe.Check {
	return probe.Check{AccountID: acct, Principal: role(acct), Action: action, Resource: "*", Expect: expect, Why: "test"}
}

// want is what a test expects of one result.
type want struct {
	Observed  probe.Expect
	OK        bool
	DetailHas []string // substrings of Detail
	ErrHas    []string // substrings of Err; none means Err must be empty
}

func compare(t *testing.T, got []probe.Result, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("Probe returned %d results, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		r := got[i]
		if r.Observed != w.Observed || r.OK != w.OK {
			t.Errorf("result %d (%s): observed %q ok %v, want %q ok %v; detail %q err %q", i, r.Check, r.Observed, r.OK, w.Observed, w.OK, r.Detail, r.Err)
		}
		for _, s := range w.DetailHas {
			if !strings.Contains(r.Detail, s) {
				t.Errorf("result %d (%s): Detail = %q, want it to contain %q", i, r.Check, r.Detail, s)
			}
		}
		if len(w.ErrHas) == 0 && r.Err != "" {
			t.Errorf("result %d (%s): Err = %q, want none", i, r.Check, r.Err)
		}
		for _, s := range w.ErrHas {
			if !strings.Contains(r.Err, s) {
				t.Errorf("result %d (%s): Err = %q, want it to contain %q", i, r.Check, r.Err, s)
			}
		}
		if r.Err != "" && r.OK {
			t.Errorf("result %d (%s): OK with an error %q", i, r.Check, r.Err)
		}
	}
}

func TestProbe(t *testing.T) {
	allowed := func(detail ...string) want {
		return want{Observed: probe.Allowed, OK: true, DetailHas: append([]string{"request id req-"}, detail...)}
	}
	tests := []struct {
		name   string
		setup  func(f *fakeAWS)
		opts   awsprobe.Options
		checks []probe.Check
		want   []want
	}{
		{
			name: "every read call succeeds in a healthy account",
			checks: []probe.Check{
				check(acctA, "sts:AssumeRole", probe.Allowed),
				check(acctA, "iam:ListRoles", probe.Allowed),
				check(acctA, "IAM:ListAccountAliases", probe.Allowed), // actions are case-insensitive
				check(acctA, "ec2:DescribeRegions", probe.Allowed),
				check(acctA, "s3:ListAllMyBuckets", probe.Allowed),
				check(acctA, "organizations:DescribeOrganization", probe.Allowed),
			},
			want: []want{allowed("AssumeRole"), allowed("ListRoles"), allowed("ListAccountAliases"),
				allowed("DescribeRegions"), allowed("ListBuckets"), allowed("DescribeOrganization")},
		},
		{
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
			name:  "a denial by an SCP is observed as denied, with the policy and the request id",
			setup: func(f *fakeAWS) { f.deny[acctA+" iam:ListRoles"] = "scp" },
			checks: []probe.Check{
				check(acctA, "iam:ListRoles", probe.Denied),
				check(acctA, "iam:ListAccountAliases", probe.Allowed),
			},
			want: []want{
				{Observed: probe.Denied, OK: true, DetailHas: []string{"AccessDenied", "service control policy", "p-quarantine", "request id req-"}},
				allowed(),
			},
		},
		{
			name:   "an SCP denial of an action that must keep working fails the check",
			setup:  func(f *fakeAWS) { f.deny[acctA+" iam:ListRoles"] = "scp" },
			checks: []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed)},
			want:   []want{{Observed: probe.Denied, OK: false, DetailHas: []string{"service control policy"}}},
		},
		{
			name: "each service's denial code is recognised: UnauthorizedOperation, AccessDenied, AccessDeniedException",
			setup: func(f *fakeAWS) {
				f.deny[acctA+" ec2:DescribeRegions"] = "scp"
				f.deny[acctA+" s3:ListAllMyBuckets"] = "plain"
				f.deny[acctA+" organizations:DescribeOrganization"] = "scp"
				f.deny[acctA+" sts:AssumeRole"] = "scp" // the chained AssumeRole only: the management account's is not denied
			},
			checks: []probe.Check{
				check(acctA, "ec2:DescribeRegions", probe.Denied),
				check(acctA, "s3:ListAllMyBuckets", probe.Denied),
				check(acctA, "organizations:DescribeOrganization", probe.Denied),
				check(acctA, "sts:AssumeRole", probe.Denied),
			},
			want: []want{
				{Observed: probe.Denied, OK: true, DetailHas: []string{"UnauthorizedOperation", "service control policy", "request id req-"}},
				{Observed: probe.Denied, OK: true, DetailHas: []string{"AccessDenied", "names no SCP or RCP", "request id req-"}},
				{Observed: probe.Denied, OK: true, DetailHas: []string{"AccessDeniedException", "service control policy", "request id req-"}},
				{Observed: probe.Denied, OK: true, DetailHas: []string{"AssumeRole", "service control policy"}},
			},
		},
		{
			name:   "a denial by an RCP is observed as denied",
			setup:  func(f *fakeAWS) { f.deny[acctA+" s3:ListAllMyBuckets"] = "rcp" },
			checks: []probe.Check{check(acctA, "s3:ListAllMyBuckets", probe.Denied)},
			want:   []want{{Observed: probe.Denied, OK: true, DetailHas: []string{"resource control policy"}}},
		},
		{
			name: "a denial by the probe's own setup is an error, not an observation",
			setup: func(f *fakeAWS) {
				f.deny[acctA+" iam:ListRoles"] = "identity"
				f.deny[acctA+" sts:AssumeRole"] = "trust"
				f.deny[acctA+" ec2:DescribeRegions"] = "vpce"
			},
			checks: []probe.Check{check(acctA, "iam:ListRoles", probe.Denied), check(acctA, "sts:AssumeRole", probe.Allowed), check(acctA, "ec2:DescribeRegions", probe.Denied)},
			want: []want{
				{ErrHas: []string{"probe role's own identity-based policy", "request id req-"}},
				{ErrHas: []string{"probe role's own resource-based policy"}},
				{ErrHas: []string{"vpc endpoint policy", "network path", "request id req-"}},
			},
		},
		{
			name: "a missing probe role makes every check of its account an error, other accounts unharmed",
			setup: func(f *fakeAWS) {
				delete(f.roles, role(acctB))
			},
			checks: []probe.Check{
				check(acctB, "iam:ListRoles", probe.Allowed),
				check(acctA, "iam:ListRoles", probe.Allowed),
				check(acctB, "iam:ListRoles", probe.Denied),
			},
			want: []want{
				{ErrHas: []string{"assuming the probe role arn:aws:iam::333333333333:role/OrgGuardProbe", "AccessDenied", "RequestID: req-"}},
				allowed(),
				{ErrHas: []string{"assuming the probe role"}},
			},
		},
		{
			name:   "the external id is passed when configured",
			setup:  func(f *fakeAWS) { f.externalID = "orgguard-ext-1" },
			opts:   awsprobe.Options{ExternalID: "orgguard-ext-1"},
			checks: []probe.Check{check(acctA, "sts:AssumeRole", probe.Allowed)},
			want:   []want{allowed()},
		},
		{
			name:   "a wrong external id cannot assume the role",
			setup:  func(f *fakeAWS) { f.externalID = "orgguard-ext-1" },
			opts:   awsprobe.Options{ExternalID: "wrong"},
			checks: []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed)},
			want:   []want{{ErrHas: []string{"assuming the probe role"}}},
		},
		{
			name: "throttling of every service is retried",
			setup: func(f *fakeAWS) {
				f.throttle["management sts:AssumeRole"] = 2
				for _, a := range []string{"sts:AssumeRole", "iam:ListRoles", "ec2:DescribeRegions", "s3:ListAllMyBuckets", "organizations:DescribeOrganization"} {
					f.throttle[acctA+" "+a] = 2
				}
			},
			checks: []probe.Check{
				check(acctA, "sts:AssumeRole", probe.Allowed),
				check(acctA, "iam:ListRoles", probe.Allowed),
				check(acctA, "ec2:DescribeRegions", probe.Allowed),
				check(acctA, "s3:ListAllMyBuckets", probe.Allowed),
				check(acctA, "organizations:DescribeOrganization", probe.Allowed),
			},
			want: []want{allowed(), allowed(), allowed(), allowed(), allowed()},
		},
		{
			name: "throttling beyond the attempts is an error, never OK",
			setup: func(f *fakeAWS) {
				f.throttle[acctA+" iam:ListRoles"] = 100
				f.throttle[acctA+" ec2:DescribeRegions"] = 100
			},
			opts:   awsprobe.Options{MaxAttempts: 3},
			checks: []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed), check(acctA, "ec2:DescribeRegions", probe.Allowed)},
			want:   []want{{ErrHas: []string{"Throttling"}}, {ErrHas: []string{"RequestLimitExceeded"}}},
		},
		{
			// https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
			name: "actions without a read call are simulated, SCPs included",
			setup: func(f *fakeAWS) {
				f.sim[acctA+" ec2:TerminateInstances"] = "scp-deny"
			},
			checks: []probe.Check{check(acctA, "ec2:RunInstances", probe.Allowed), check(acctA, "ec2:TerminateInstances", probe.Denied)},
			want: []want{
				{Observed: probe.Allowed, OK: true, DetailHas: []string{"simulated", "not RCPs", "request id req-"}},
				{Observed: probe.Denied, OK: true, DetailHas: []string{"explicitDeny by the SCPs", "simulated"}},
			},
		},
		{
			name:   "a simulation without an organizations decision did not observe SCPs and is never OK",
			setup:  func(f *fakeAWS) { f.sim[acctA+" ec2:RunInstances"] = "no-org" },
			checks: []probe.Check{check(acctA, "ec2:RunInstances", probe.Allowed)},
			want:   []want{{Observed: probe.Allowed, OK: false, DetailHas: []string{"SCPs were not observed"}}},
		},
		{
			name:   "a simulated denial by the probe role's permissions boundary is an error",
			setup:  func(f *fakeAWS) { f.sim[acctA+" ec2:RunInstances"] = "boundary-deny" },
			checks: []probe.Check{check(acctA, "ec2:RunInstances", probe.Denied)},
			want:   []want{{ErrHas: []string{"permissions boundary"}}},
		},
		{
			name:   "the simulator call itself denied by an SCP is an error",
			setup:  func(f *fakeAWS) { f.deny[acctA+" iam:SimulatePrincipalPolicy"] = "scp" },
			checks: []probe.Check{check(acctA, "ec2:RunInstances", probe.Denied)},
			want:   []want{{ErrHas: []string{"simulator could not be asked", "AccessDenied"}}},
		},
		{
			name:   "with the simulator off an action without a read call is an error",
			opts:   awsprobe.Options{NoSimulation: true},
			checks: []probe.Check{check(acctA, "ec2:RunInstances", probe.Allowed)},
			want:   []want{{ErrHas: []string{awsprobe.ErrNoReadCall.Error()}}},
		},
		{
			name: "principals that are not a role in the check's account are refused",
			checks: []probe.Check{
				{AccountID: acctA, Principal: "arn:aws:iam::" + acctB + ":role/OrgGuardProbe", Action: "iam:ListRoles", Expect: probe.Allowed},
				{AccountID: acctA, Principal: "arn:aws:iam::" + acctA + ":user/alice", Action: "iam:ListRoles", Expect: probe.Allowed},
				{AccountID: "12345", Action: "iam:ListRoles", Expect: probe.Allowed},
				{AccountID: acctA, Action: "iam:ListRoles", Expect: probe.Allowed}, // no principal: the configured role
			},
			want: []want{
				{ErrHas: []string{"not a role in that account"}},
				{ErrHas: []string{"not a role in that account"}},
				{ErrHas: []string{"not 12 digits"}},
				allowed(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.roles[role(acctA)] = true
			f.roles[role(acctB)] = true
			if tt.setup != nil {
				tt.setup(f)
			}
			p := newProber(t, f, tt.opts)
			got, err := p.Probe(context.Background(), tt.checks)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			compare(t, got, tt.want)
			for i, r := range got {
				if diff := cmp.Diff(r.Check, tt.checks[i]); diff != "" {
					t.Errorf("result %d carries another check (-got +want):\n%s", i, diff)
				}
			}
		})
	}
}

func TestProbeAssumesOncePerAccountAndRetriesThrottling(t *testing.T) {
	f := newFake(t)
	f.roles[role(acctA)], f.roles[role(acctB)] = true, true
	f.throttle[acctA+" iam:ListRoles"] = 2
	p := newProber(t, f, awsprobe.Options{})
	var checks []probe.Check
	for _, acct := range []string{acctA, acctB} {
		for _, a := range probe.DefaultActions() {
			checks = append(checks, check(acct, a, probe.Allowed))
		}
	}
	got, err := p.Probe(context.Background(), checks)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if failed := probe.Failed(got); len(failed) != 0 {
		t.Fatalf("Probe: failed checks %v", failed)
	}
	_, calls := f.stats()
	count := map[string]int{}
	for _, c := range calls {
		count[c]++
	}
	wantCounts := map[string]int{
		"management sts:AssumeRole": 2, // once per account, cached for the Probe call
		acctA + " iam:ListRoles":    3, // two throttled attempts, then success
		acctB + " iam:ListRoles":    1,
		acctA + " sts:AssumeRole":   1, // the chained probe
	}
	for k, n := range wantCounts {
		if count[k] != n {
			t.Errorf("calls of %q = %d, want %d (all calls: %v)", k, count[k], n, calls)
		}
	}
	// A second Probe call assumes the roles again: credentials live for one call.
	if _, err := p.Probe(context.Background(), checks[:1]); err != nil {
		t.Fatalf("Probe: %v", err)
	}
	n := 0
	_, calls = f.stats()
	for _, c := range calls {
		if c == "management sts:AssumeRole" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("management AssumeRole calls after a second Probe = %d, want 3", n)
	}
}

func TestProbeBoundsConcurrencyAcrossAccounts(t *testing.T) {
	tests := []struct {
		name        string
		concurrency int
		accounts    int
	}{
		{"one account at a time when concurrency is 1", 1, 4},
		{"at most three accounts at once when concurrency is 3", 3, 12},
		{"no more workers than accounts", 16, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.latency = 15 * time.Millisecond
			var checks []probe.Check
			for i := range tt.accounts {
				acct := strings.Repeat("4", 10) + string(rune('0'+i/10)) + string(rune('0'+i%10))
				f.roles[role(acct)] = true
				checks = append(checks, check(acct, "iam:ListRoles", probe.Allowed), check(acct, "s3:ListAllMyBuckets", probe.Allowed))
			}
			p := newProber(t, f, awsprobe.Options{Concurrency: tt.concurrency})
			got, err := p.Probe(context.Background(), checks)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if failed := probe.Failed(got); len(failed) != 0 {
				t.Fatalf("Probe: failed checks %v", failed)
			}
			limit := min(tt.concurrency, tt.accounts)
			most, _ := f.stats()
			if most > limit {
				t.Errorf("at most %d requests in flight at once, want at most %d", most, limit)
			}
			if limit > 1 && most < 2 {
				t.Errorf("at most %d requests in flight at once, want accounts probed in parallel", most)
			}
		})
	}
}

func TestProbeHonoursTheContext(t *testing.T) {
	f := newFake(t)
	f.roles[role(acctA)] = true
	f.latency = 500 * time.Millisecond
	p := newProber(t, f, awsprobe.Options{CallTimeout: 50 * time.Millisecond, MaxAttempts: 1})
	start := time.Now()
	got, err := p.Probe(context.Background(), []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed)})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if got[0].Err == "" || got[0].OK {
		t.Errorf("a call past its timeout: result %+v, want an error", got[0])
	}
	if d := time.Since(start); d > 400*time.Millisecond {
		t.Errorf("Probe took %v with a 50ms call timeout", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Probe(ctx, []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe(cancelled context) error = %v, want context.Canceled", err)
	}
}

func TestEveryReadCallIsAllowedAndDeniedThroughItsService(t *testing.T) {
	actions := awsprobe.ReadCallActions()
	if len(actions) < len(probe.DefaultActions()) {
		t.Fatalf("ReadCallActions() = %v, want at least the default actions", actions)
	}
	for _, a := range probe.DefaultActions() {
		found := false
		for _, b := range actions {
			found = found || strings.EqualFold(a, b)
		}
		if !found {
			t.Errorf("default action %s has no read call", a)
		}
	}
	for _, denied := range []bool{false, true} {
		f := newFake(t)
		f.roles[role(acctA)] = true
		var checks []probe.Check
		var wants []want
		for _, a := range actions {
			expect, w := probe.Allowed, want{Observed: probe.Allowed, OK: true, DetailHas: []string{"succeeded", "request id req-"}}
			if denied {
				// The fake's services name actions in their own case.
				for _, name := range []string{"sts:AssumeRole", "iam:ListRoles", "iam:ListUsers", "iam:ListAccountAliases", "iam:GetAccountSummary",
					"ec2:DescribeRegions", "s3:ListAllMyBuckets", "organizations:DescribeOrganization"} {
					if strings.EqualFold(name, a) {
						f.deny[acctA+" "+name] = "scp"
					}
				}
				expect, w = probe.Denied, want{Observed: probe.Denied, OK: true, DetailHas: []string{"service control policy", "request id req-"}}
			}
			checks = append(checks, check(acctA, a, expect))
			wants = append(wants, w)
		}
		p := newProber(t, f, awsprobe.Options{})
		got, err := p.Probe(context.Background(), checks)
		if err != nil {
			t.Fatalf("Probe: %v", err)
		}
		compare(t, got, wants)
		_, calls := f.stats()
		for _, c := range calls {
			if strings.Contains(c, "SimulatePrincipalPolicy") {
				t.Errorf("a read-call action went to the simulator: %v", calls)
			}
		}
	}
}

func TestProbeOfNoChecks(t *testing.T) {
	p := newProber(t, newFake(t), awsprobe.Options{})
	got, err := p.Probe(context.Background(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("Probe(no checks) = %v, %v, want no results and no error", got, err)
	}
}

// BenchmarkProbe probes 20 accounts × the default actions against the fake
// on 127.0.0.1 (no added latency): the cost of the prober and the SDK per
// check, without AWS's latency.
func BenchmarkProbe(b *testing.B) {
	f := newFake(b)
	var checks []probe.Check
	for i := range 20 {
		acct := fmt.Sprintf("5555555555%02d", i)
		f.roles[role(acct)] = true
		for _, a := range probe.DefaultActions() {
			checks = append(checks, check(acct, a, probe.Allowed))
		}
	}
	p := newProber(b, f, awsprobe.Options{})
	b.ReportAllocs()
	for b.Loop() {
		got, err := p.Probe(context.Background(), checks)
		if err != nil {
			b.Fatal(err)
		}
		if failed := probe.Failed(got); len(failed) != 0 {
			b.Fatalf("failed checks: %v", failed)
		}
	}
	b.ReportMetric(float64(len(checks)), "checks/op")
}

func TestNewRefusesBadOptions(t *testing.T) {
	isolateAWSConfig(t)
	for _, o := range []awsprobe.Options{
		{EndpointURL: "ftp://127.0.0.1"},
		{EndpointURL: "http://"},
		{RoleName: "bad name"},
		{RoleName: "arn:aws:iam::1:role/x"},
	} {
		if _, err := awsprobe.New(context.Background(), o); err == nil {
			t.Errorf("New(%+v) = nil error, want one", o)
		}
	}
}

func TestProbeAssumesThePrincipalInTheConfiguredPartition(t *testing.T) {
	f := newFake(t)
	f.roles["arn:aws-cn:iam::"+acctA+":role/OrgGuardProbe"] = true
	p := newProber(t, f, awsprobe.Options{Region: "cn-north-1"})
	got, err := p.Probe(context.Background(), []probe.Check{check(acctA, "iam:ListRoles", probe.Allowed)}) // the check names arn:aws:...
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	compare(t, got, []want{{Observed: probe.Allowed, OK: true}})
}

func TestRoleARN(t *testing.T) {
	isolateAWSConfig(t)
	tests := []struct {
		region, role, want string
	}{
		{"us-east-1", "", "arn:aws:iam::222222222222:role/OrgGuardProbe"},
		{"eu-west-1", "/probes/Probe/", "arn:aws:iam::222222222222:role/probes/Probe"},
		{"cn-north-1", "P", "arn:aws-cn:iam::222222222222:role/P"},
		{"us-gov-west-1", "P", "arn:aws-us-gov:iam::222222222222:role/P"},
	}
	for _, tt := range tests {
		p, err := awsprobe.New(context.Background(), awsprobe.Options{Region: tt.region, RoleName: tt.role, EndpointURL: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if got := p.RoleARN(acctA); got != tt.want {
			t.Errorf("RoleARN(%q) in %s = %q, want %q", tt.role, tt.region, got, tt.want)
		}
	}
}
