package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// The child process of TestKill9: it applies the plan in $ORGGUARD_KILL_DIR
// and, at journal point $ORGGUARD_KILL_AT, writes a marker file and waits
// to be killed.
const (
	killDirEnv = "ORGGUARD_KILL_DIR"
	killAtEnv  = "ORGGUARD_KILL_AT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		os.Exit(killChild(dir))
	}
	os.Exit(m.Run())
}

func killChild(dir string) int {
	at, _ := strconv.Atoi(os.Getenv(killAtEnv))
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, filepath.Join(dir, "orgguard.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	o, err := sim.Open(sim.Options{StatePath: filepath.Join(dir, "sim-state.json")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	f, err := plan.Read(filepath.Join(dir, "plan.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	g, _ := guard.Compile(guard.Default())
	pinned, err := review.Current(ctx, st)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	cat, err := catOnce()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	an, err := impact.NewAnalyzer(cat, impact.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	planner := &plan.Planner{Guard: g, Analyzer: an, Quarantine: testQuarantine()}
	ev := probe.NewEvaluator(nil)
	e := New(Options{Store: st, Backend: o, Planner: planner, Pinned: pinned, Prober: &probe.Engine{Reader: o, Eval: ev}, Evaluator: ev,
		Actor: "alice", LockTTL: 2 * time.Second, Now: func() time.Time { return weekdayNoon },
		Crash: func(n int, _ string) error {
			if n == at {
				_ = os.WriteFile(filepath.Join(dir, "reached"), []byte(strconv.Itoa(n)), 0o644)
				time.Sleep(time.Minute) // killed here
			}
			return nil
		}})
	if _, err := e.Apply(ctx, Request{Plan: f}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestKill9: a real process applying a plan is killed with SIGKILL in the
// middle; recovery in another process (here: the test) brings the
// organization to exactly the state before or after.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	for _, at := range []int{4, 9, 14, 22} {
		t.Run(fmt.Sprintf("a process killed at journal point %d is recovered to before or after", at), func(t *testing.T) {
			w := newWorld(t, 30, nil)
			f := w.plan("alice", w.quarantineOps(2))
			w.approve(f, "bob", "carol")
			if err := f.Write(filepath.Join(w.dir, "plan.json")); err != nil {
				t.Fatal(err)
			}
			w.st.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), killDirEnv+"="+w.dir, killAtEnv+"="+strconv.Itoa(at))
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(w.dir, "reached")
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the child never reached point %d", at)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(os.Kill); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()

			ctx := context.Background()
			st, err := sqlstore.Open(ctx, filepath.Join(w.dir, "orgguard.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			o, err := sim.Open(sim.Options{StatePath: filepath.Join(w.dir, "sim-state.json")})
			if err != nil {
				t.Fatal(err)
			}
			opts := w.options("ops")
			opts.Store, opts.Backend, opts.Now = st, o, time.Now
			opts.Prober = &probe.Engine{Reader: o, Eval: opts.Evaluator}
			opts.Sleep = nil // wait for the dead child's lock for real
			start := time.Now()
			recs, err := New(opts).Recover(ctx)
			if err != nil {
				t.Fatalf("Recover = %v", err)
			}
			if len(recs) != 1 || !recs[0].Verified {
				t.Fatalf("Recover = %+v", recs)
			}
			if waited := time.Since(start); waited > 10*time.Second {
				t.Errorf("recovery waited %s for the dead child's lock", waited)
			}
			snap, _ := o.Snapshot(ctx)
			fp := org.ComputeFingerprint(snap)
			switch recs[0].State {
			case Before:
				if fp != f.BaseFingerprint {
					t.Errorf("settled before, but not at the base fingerprint")
				}
			case After:
				if fp == f.BaseFingerprint {
					t.Errorf("settled after, but at the base")
				}
			}
			b, _ := json.Marshal(recs[0])
			t.Logf("%s", b)
		})
	}
}

// TestApplyThroughAWSBackend: the AWS backend path against the simulated
// organization served over the Organizations wire protocol, with injected
// throttling, conflicts and latency: the apply succeeds (the SDK retries),
// and a failed check rolls back through the same path.
func TestApplyThroughAWSBackend(t *testing.T) {
	for _, tt := range []struct {
		name      string
		failProbe int
		want      Outcome
	}{
		{name: "a quarantine applies through throttling and latency", want: Applied},
		{name: "a failing probe rolls back through throttling and latency", failProbe: 7, want: RolledBack},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
			for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
				t.Setenv(v, "")
			}
			w := newWorld(t, 25, nil)
			srv := httptest.NewServer(simserver.New(w.org, simserver.Options{Latency: 2 * time.Millisecond,
				ThrottleRate: 0.15, ConflictRate: 0.1, FaultSeed: 7}))
			defer srv.Close()
			b, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: srv.URL, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 20})
			if err != nil {
				t.Fatal(err)
			}
			f := w.planOn(b, "alice", w.quarantineOps(2))
			w.approve(f, "bob", "carol")
			o := w.options("alice")
			o.Backend = b
			o.Prober = &probe.Engine{Reader: b, Eval: o.Evaluator}
			if tt.failProbe > 0 {
				o.Prober = &failingProber{inner: o.Prober, failAt: tt.failProbe}
			}
			rep, err := New(o).Apply(context.Background(), Request{Plan: f})
			if tt.want == Applied && err != nil {
				t.Fatalf("Apply = %v", err)
			}
			if tt.want != Applied && !errors.Is(err, ErrFailed) {
				t.Fatalf("Apply = %v, want ErrFailed", err)
			}
			if rep.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s", rep.Outcome, tt.want)
			}
			snap, err := b.Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			fp := org.ComputeFingerprint(snap)
			if tt.want == RolledBack && fp != f.BaseFingerprint {
				t.Errorf("rolled back, but not at the base fingerprint")
			}
			if tt.want == Applied && fp == f.BaseFingerprint {
				t.Errorf("applied, but the organization did not change")
			}
			checkJournalRequestIDs(t, w.st, rep.ChangeID, tt.want == RolledBack)
		})
	}
}

// awsRequestID matches the UUIDs the wire server sends as x-amzn-RequestId.
var awsRequestID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkJournalRequestIDs checks that each step the change ran, and each
// inverse its rollback ran (when undone), is journaled as done with the AWS
// request ID of its call, and that intents carry none.
func checkJournalRequestIDs(t *testing.T, st store.Store, changeID string, undone bool) {
	t.Helper()
	entries, err := st.Journal(context.Background(), changeID)
	if err != nil {
		t.Fatalf("Journal(%q) = %v", changeID, err)
	}
	seen := map[string]int64{}
	var done, rolledBack int
	for _, en := range entries {
		var d journalDetail
		if err := json.Unmarshal(en.Detail, &d); err != nil {
			t.Fatalf("journal entry %d: %v", en.Seq, err)
		}
		ran := en.Phase == store.PhaseDone || (en.Phase == store.PhaseRolledBack && d.Note == "") // a note: skipped, already in effect
		if !ran {
			if en.Phase == store.PhaseIntent && en.RequestID != "" {
				t.Errorf("journal entry %d (%s %s) has request ID %q before the call", en.Seq, en.Phase, d.Summary, en.RequestID)
			}
			continue
		}
		if en.Phase == store.PhaseDone {
			done++
		} else {
			rolledBack++
		}
		if !awsRequestID.MatchString(en.RequestID) {
			t.Errorf("journal entry %d (%s %s) has request ID %q, want the call's", en.Seq, en.Phase, d.Summary, en.RequestID)
		}
		if prev, ok := seen[en.RequestID]; ok {
			t.Errorf("journal entries %d and %d have the same request ID %s", prev, en.Seq, en.RequestID)
		}
		seen[en.RequestID] = en.Seq
	}
	if done == 0 {
		t.Errorf("the journal of change %s has no done entries", changeID)
	}
	if undone && rolledBack == 0 {
		t.Errorf("the journal of change %s has no rolled-back entries of inverses that ran", changeID)
	}
}
