package apply

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/probe"
)

// awsOptions points the engine at the world's organization served over
// the AWS wire protocol on 127.0.0.1, through the SDK backend, with partial
// reads for the health checks — as the application layer does on AWS.
func (w *world) awsOptions(actor string, so simserver.Options, wrap func(http.Handler) http.Handler) (Options, *awsorg.Backend) {
	w.t.Helper()
	dir := w.t.TempDir()
	w.t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	w.t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		w.t.Setenv(v, "")
	}
	var h http.Handler = simserver.New(w.org, so)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	w.t.Cleanup(srv.Close)
	b, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: srv.URL, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		w.t.Fatal(err)
	}
	o := w.options(actor)
	o.Backend, o.Parts = b, b
	o.Prober = &probe.Engine{Reader: b, Eval: o.Evaluator}
	return o, b
}

// afterAsPlanned reports whether the organization is the plan's
// after-state once created objects carry the IDs planning gave them.
func (w *world) afterAsPlanned(r org.Reader, rep *Report, want string) bool {
	w.t.Helper()
	live, err := r.Snapshot(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return org.ComputeFingerprint(translate(live, invert(idMap(rep.PlanBindings, rep.Bindings)))) == want
}

func TestAnApplyOnAWSAt30PercentThrottlingEndsAsWithout(t *testing.T) {
	for _, rate := range []float64{0, 0.3} {
		t.Run(map[float64]string{0: "without throttling", 0.3: "with 30% of requests throttled"}[rate], func(t *testing.T) {
			w := newWorld(t, 200, nil)
			o, b := w.awsOptions("alice", simserver.Options{ThrottleRate: rate, FaultSeed: 3}, nil)
			f := w.planOn(b, "alice", w.quarantineOps(3))
			w.approve(f, "bob", "carol")
			rep, err := New(o).Apply(context.Background(), Request{Plan: f})
			if err != nil || rep == nil || rep.Outcome != Applied {
				t.Fatalf("Apply = %v (report %+v), want applied", err, rep)
			}
			if !w.afterAsPlanned(b, rep, f.AfterFingerprint) {
				t.Errorf("the organization after the apply is not the plan's after-state")
			}
			if rep.Calls == nil || (rate > 0 && rep.Calls.Throttles == 0) {
				t.Errorf("report calls = %v, want them counted (throttles among them at %v)", rep.Calls, rate)
			}
			for _, c := range rep.Checks {
				if c.APICalls == 0 || c.APICalls >= 40 {
					t.Errorf("round %q: %d API calls, want a partial read (1..39)", c.When, c.APICalls)
				}
			}
		})
	}
}

func TestARoundThatCannotCompleteStopsAndRollsBack(t *testing.T) {
	w := newWorld(t, 200, nil)
	// After the first write, every ListPoliciesForTarget — what a round's
	// partial read needs, and a rollback does not — is throttled.
	var wrote atomic.Bool
	wrap := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			op := r.Header.Get("X-Amz-Target")
			if wrote.Load() && strings.HasSuffix(op, ".ListPoliciesForTarget") {
				rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
				rw.WriteHeader(http.StatusBadRequest)
				_, _ = rw.Write([]byte(`{"__type":"TooManyRequestsException","Message":"Rate exceeded"}`))
				return
			}
			if strings.HasSuffix(op, ".CreateOrganizationalUnit") {
				defer wrote.Store(true)
			}
			next.ServeHTTP(rw, r)
		})
	}
	o, b := w.awsOptions("alice", simserver.Options{}, wrap)
	o.RoundTimeout = 2 * time.Second
	f := w.planOn(b, "alice", w.quarantineOps(3))
	w.approve(f, "bob", "carol")
	rep, err := New(o).Apply(context.Background(), Request{Plan: f})
	if !errors.Is(err, ErrFailed) || rep == nil || rep.Outcome != RolledBack || rep.Rollback == nil || !rep.Rollback.Verified {
		t.Fatalf("Apply = %v (report %+v), want a verified rollback", err, rep)
	}
	if !strings.Contains(rep.Failure, "health check after step 1") {
		t.Errorf("failure = %q, want the health check after step 1", rep.Failure)
	}
	if after, err := b.Snapshot(context.Background()); err != nil || after.Fingerprint != f.BaseFingerprint {
		fp := ""
		if after != nil {
			fp = after.Fingerprint
		}
		t.Errorf("fingerprint after the rollback = %s, want the base %s", fp, f.BaseFingerprint)
	}
}
