package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/plan"
)

// fakeSTS serves the simulated organization over the Organizations wire
// protocol and answers STS GetCallerIdentity itself with the ARN in
// caller (an empty caller answers AccessDenied), counting the calls.
type fakeSTS struct {
	mu     sync.Mutex
	caller string
	calls  int
	next   http.Handler
}

func (f *fakeSTS) set(arn string) { f.mu.Lock(); f.caller = arn; f.mu.Unlock() }

func (f *fakeSTS) count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls }

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.next.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	f.calls++
	caller := f.caller
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	if form.Get("Action") != "GetCallerIdentity" || caller == "" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no credentials</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`)
		return
	}
	fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>%s</Arn><UserId>AROAEXAMPLE:alice</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, caller)
}

// awsWorld is an App configuration on backend.type aws whose endpoint
// serves a simulated organization and a fake STS.
func awsWorld(t *testing.T) (config.Config, *fakeSTS, string) {
	t.Helper()
	isolateAWSConfig(t)
	snap, err := generate.Organization(generate.Options{Accounts: 30, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.New(snap, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSTS{next: simserver.New(o, simserver.Options{})}
	hs := httptest.NewServer(f)
	t.Cleanup(hs.Close)
	cfg := config.Defaults()
	cfg.Backend.Type = config.BackendAWS
	cfg.Backend.AWS.Endpoint = hs.URL
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	cfg.Quarantine.BreakGlassPrincipals = nil
	// A member account outside Suspended (whose deny-all would leave the
	// quarantine nothing to change).
	x := org.MustIndex(snap)
	var target string
	for _, a := range snap.Accounts {
		if a.ID != snap.Organization.ManagementAccountID && !strings.Contains(x.PathString(a.ID), "Suspended") {
			target = a.Name
			break
		}
	}
	return cfg, f, target
}

func newApp(t *testing.T, cfg config.Config, by string, notices io.Writer) *app.App {
	t.Helper()
	a, err := app.New(app.Options{Config: &cfg, Actor: by, Notices: notices})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func quarantineOf(account string, save bool) app.PlanRequest {
	return app.PlanRequest{Request: plan.Request{Operations: []change.Operation{{Op: change.OpQuarantine, Accounts: []string{account}}}, Source: "test"}, Save: save}
}

// TestTheActorOnAWSIsTheCallersIdentity: with backend.type aws and no
// --by or identity.user, plans and approvals record the caller's ARN, as
// STS GetCallerIdentity gives it, asked once and only when needed.
func TestTheActorOnAWSIsTheCallersIdentity(t *testing.T) {
	ctx := t.Context()
	cfg, sts, target := awsWorld(t)
	const alice = "arn:aws:sts::123456789012:assumed-role/Ops/alice"
	const bob = "arn:aws:sts::123456789012:assumed-role/Ops/bob@example.com"
	sts.set(alice)

	a := newApp(t, cfg, "", nil)
	if _, err := a.Guardrails(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Snapshot(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n := sts.count(); n != 0 || a.Actor() != "" {
		t.Fatalf("after commands that record nobody: %d STS calls, actor %q; want none yet", n, a.Actor())
	}
	res, err := a.Plan(ctx, quarantineOf(target, true))
	if err != nil {
		t.Fatalf("Plan = %v", err)
	}
	if res.File.Author != alice || a.Actor() != alice {
		t.Errorf("plan author %q, Actor() %q; want the caller's ARN %q", res.File.Author, a.Actor(), alice)
	}
	if _, err := a.Plan(ctx, quarantineOf(target, false)); err != nil {
		t.Fatal(err)
	}
	if n := sts.count(); n != 1 {
		t.Errorf("STS was asked %d times, want once", n)
	}

	t.Run("the author's own ARN cannot approve, another caller's can", func(t *testing.T) {
		if _, err := newApp(t, cfg, "", nil).Approve(ctx, res.File.ID, ""); !errors.Is(err, app.ErrRefused) {
			t.Errorf("Approve as the author's ARN = %v, want ErrRefused", err)
		}
		sts.set(bob)
		ap, err := newApp(t, cfg, "", nil).Approve(ctx, res.File.ID, "")
		if err != nil {
			t.Fatalf("Approve as bob = %v", err)
		}
		if ap.Approval.Approver != bob {
			t.Errorf("approver %q, want %q", ap.Approval.Approver, bob)
		}
	})
	t.Run("--by wins over the AWS identity", func(t *testing.T) {
		before := sts.count()
		a := newApp(t, cfg, "carol", nil)
		res, err := a.Plan(ctx, quarantineOf(target, true))
		if err != nil || res.File.Author != "carol" || sts.count() != before {
			t.Errorf("Plan --by carol: author %q, %v, %d STS calls; want carol and no call", res.File.Author, err, sts.count()-before)
		}
	})
	t.Run("identity.user wins too", func(t *testing.T) {
		c := cfg
		c.Identity.User = "dave"
		if got, err := newApp(t, c, "", nil).ResolveActor(ctx); got != "dave" || err != nil {
			t.Errorf("ResolveActor = %q, %v; want dave", got, err)
		}
	})
	t.Run("without an answer from STS nothing is recorded", func(t *testing.T) {
		sts.set("")
		_, err := newApp(t, cfg, "", nil).Plan(ctx, quarantineOf(target, true))
		if !errors.Is(err, app.ErrNoAWSIdentity) || !strings.Contains(err.Error(), "identity.user") {
			t.Errorf("Plan --out = %v, want ErrNoAWSIdentity naming identity.user", err)
		}
		var notices bytes.Buffer
		res, err := newApp(t, cfg, "", &notices).Plan(ctx, quarantineOf(target, false))
		if err != nil || res.File.Author == "" || !strings.Contains(notices.String(), "cannot be saved") {
			t.Errorf("a plan only shown = %v (author %q, notice %q); want it made with the OS user as author", err, res.File.Author, notices.String())
		}
	})
}

// TestTheSimulatorAnswersWhoTheCallerIs: against `orgguard sim serve` (the
// simulator's own STS), the caller is a user of the simulated management
// account named after the access key.
func TestTheSimulatorAnswersWhoTheCallerIs(t *testing.T) {
	isolateAWSConfig(t)
	snap, err := generate.Organization(generate.Options{Accounts: 5, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	o, err := sim.New(snap, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(simserver.New(o, simserver.Options{}))
	t.Cleanup(hs.Close)
	cfg := config.Defaults()
	cfg.Backend.Type = config.BackendAWS
	cfg.Backend.AWS.Endpoint = hs.URL
	cfg.Store = filepath.Join(t.TempDir(), "orgguard.db")
	got, err := newApp(t, cfg, "", nil).ResolveActor(t.Context())
	if want := "arn:aws:iam::" + snap.Organization.ManagementAccountID + ":user/orgguard-sim"; got != want || err != nil {
		t.Errorf("ResolveActor = %q, %v; want %q", got, err, want)
	}
}
