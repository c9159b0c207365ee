package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// The end-to-end tests run orgguard as real processes: this test binary
// re-executes itself with mainEnv set, and then it is orgguard (main()),
// so no separate build is needed.
const mainEnv = "ORGGUARD_E2E_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// proc is an orgguard process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *syncBuffer // stderr
	out  *syncBuffer // stdout
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// isolatedEnv is the environment of the child processes: no AWS
// configuration of the machine leaks in, dummy credentials (the simulator
// checks no signature).
func isolatedEnv(t testing.TB, extra ...string) []string {
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, mainEnv+"=") || strings.HasPrefix(kv, "ORGGUARD_SERVER=") ||
			strings.HasPrefix(kv, "ORGGUARD_TOKEN=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, mainEnv+"=1", "XDG_CONFIG_HOME="+filepath.Join(dir, "xdg"), // no `orgguard login` of the developer's
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	return append(env, extra...)
}

// start runs orgguard with args; the process is killed when the test ends.
func start(t testing.TB, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: &syncBuffer{}, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s stderr (last 4 KiB):\n%s", name, tail(p.log.String(), 4096))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// waitLog waits until the process's stderr contains s.
func (p *proc) waitLog(t testing.TB, s string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(p.log.String(), s) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before logging %q:\n%s", p.name, s, tail(p.log.String(), 4096))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s", p.name, s, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback address nobody listens on (yet).
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// world is a simulated organization served by `orgguard sim serve` and the
// files the watcher runs with.
type world struct {
	dir, state, config, db string
	endpoint               string
	intake                 string // the watcher's --listen address, "" = none
	sim                    *proc
	env                    []string
	outside                *awsorg.Backend // someone outside orgguard, with the AWS SDK
}

const intakeSecret = "e2e-secret-0123456789"

type worldOptions struct {
	accounts  int
	intake    bool // sim serve --events-to the watcher's intake
	remediate bool // the deny-all rule remediates
	interval  time.Duration
	sweep     time.Duration
	budget    int  // watch.callBudget; 0 = 100000 (no limit in practice)
	listen    bool // the watcher has an intake, but sim serve posts no events
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{dir: dir, state: filepath.Join(dir, "sim-state.json"), config: filepath.Join(dir, "orgguard.yaml"), db: filepath.Join(dir, "orgguard.db")}
	w.env = isolatedEnv(t, "ORGGUARD_INTAKE_SECRET="+intakeSecret)
	gen := exec.Command(os.Args[0], "sim", "generate", "--accounts", fmt.Sprint(o.accounts), "--seed", "8", "--out", w.state)
	gen.Env = w.env
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("sim generate: %v\n%s", err, out)
	}
	args := []string{"sim", "serve", "--listen", "127.0.0.1:0", "--state", w.state, "--log-level", "warn"}
	if o.intake {
		w.intake = freePort(t)
		args = append(args, "--events-to", "http://"+w.intake+"/", "--events-secret", intakeSecret)
	}
	if o.listen && !o.intake {
		w.intake = freePort(t)
	}
	w.sim = start(t, "sim serve", w.env, args...)
	deadline := time.Now().Add(30 * time.Second)
	for w.endpoint == "" {
		if line, _, ok := strings.Cut(w.sim.out.String(), "\n"); ok {
			w.endpoint = strings.TrimSpace(line)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim serve printed no endpoint:\n%s", w.sim.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	budget := o.budget
	if budget == 0 {
		budget = 100000
	}
	remediate := ""
	if o.remediate {
		remediate = "\n      remediate: true"
	}
	cfg := fmt.Sprintf(`backend:
  type: aws
  aws:
    endpoint: %s
store: %s
identity:
  user: ops
watch:
  interval: %s
  sweepPeriod: %s
  callBudget: %d
  rules:
    - name: deny-all
      when: deny-all
      accounts: 3
      share: 0.9
      severity: critical%s
    - {name: root-or-protected, when: protected-target, severity: critical}
    - {name: any-change, when: any-change, severity: minor}
  intake:
    secretEnv: ORGGUARD_INTAKE_SECRET
  customers:
    ouParent: /Customers
`, w.endpoint, w.db, o.interval, o.sweep, budget, remediate)
	if err := os.WriteFile(w.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	b, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: w.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	w.outside = b
	return w
}

// watch starts `orgguard watch` on the world.
func (w *world) watch(t testing.TB, extra ...string) *proc {
	t.Helper()
	args := []string{"watch", "--config", w.config, "--log-level", "info"}
	if w.intake != "" {
		args = append(args, "--listen", w.intake)
	}
	return start(t, "watch", w.env, append(args, extra...)...)
}

// ready waits for the watcher's baseline (and its intake, when it has one).
func (w *world) ready(t testing.TB, p *proc) {
	t.Helper()
	p.waitLog(t, `msg="baseline read"`, 60*time.Second)
	if w.intake != "" {
		p.waitLog(t, `msg="event intake listening"`, 10*time.Second)
	}
}

// store opens the watcher's store (SQLite in WAL mode: the test reads while
// the watcher writes).
func (w *world) store(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), w.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func incidents(t testing.TB, st store.Store) []store.Incident {
	t.Helper()
	ins, err := st.ListIncidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ins
}

const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// attachDenyAll creates a deny-all SCP and attaches it to Root with the
// AWS SDK, and returns when AttachPolicy returned.
func (w *world) attachDenyAll(t testing.TB) (policyID, rootID string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	p, err := w.outside.CreatePolicy(ctx, org.PolicySpec{Name: "DenyEverything", Description: "deny all", Content: denyAll, Type: org.ServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	root, err := w.outside.Parts(nil).Root(ctx)
	if err != nil {
		t.Fatalf("ListRoots: %v", err)
	}
	if err := w.outside.AttachPolicy(ctx, p.ID, root.ID); err != nil {
		t.Fatal(err)
	}
	return p.ID, root.ID, time.Now()
}

// attached reports whether policyID is attached to target, read with the SDK.
func (w *world) attached(t testing.TB, policyID, target string) bool {
	t.Helper()
	ps, err := w.outside.Parts(nil).Attached(context.Background(), target, org.ServiceControlPolicy)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p == policyID {
			return true
		}
	}
	return false
}

// waitFor polls cond every 25 ms until it holds or limit passes, and
// returns how long it took.
func waitFor(t testing.TB, from time.Time, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(from) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(from)
}

var errNoIncident = errors.New("no incident")

// critical returns the one critical incident, or errNoIncident.
func critical(t testing.TB, st store.Store) (store.Incident, error) {
	ins := incidents(t, st)
	for _, in := range ins {
		if in.Severity == store.SevCritical {
			return in, nil
		}
	}
	return store.Incident{}, errNoIncident
}

// readLine returns the first line of r holding s (for logs).
func readLine(s, contains string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	last := ""
	for sc.Scan() {
		if strings.Contains(sc.Text(), contains) {
			last = sc.Text()
		}
	}
	return last
}
