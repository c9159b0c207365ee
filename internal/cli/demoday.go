package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/store"
)

// The 2023 accident's clock, from its postmortem: the deny-all on Root
// was noticed about 12 minutes later, by a customer's phone call; access
// came back after 25 minutes; the first public notice went out after 36.
const (
	accidentDetected = 12 * time.Minute
	accidentNotice   = 36 * time.Minute
	accidentRecover  = 25 * time.Minute
)

// demoWatchInterval is the watcher's polling interval in the demo (the
// default is 10 s); the event intake detects the change before any poll.
const demoWatchInterval = 5 * time.Second

// dayClock is the measured clock of the demo's out-of-band day, written to
// timeline.json in the demo directory.
type dayClock struct {
	Incident string `json:"incident"`
	// Seconds from the change (the impact start) to each mark.
	Detected     float64  `json:"detected_s"`
	Notice       float64  `json:"first_notice_s"`
	Recovered    float64  `json:"recovered_s"`
	Resolved     float64  `json:"resolved_s"`
	DraftsAtOpen []string `json:"drafts_at_detection"`
	Webhook      []string `json:"webhook_kinds"`
	Accounts     int      `json:"accounts"`
	Customers    int      `json:"customers"`
	Postmortems  []string `json:"postmortems"`
}

const demoDenyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// demoDay plays the out-of-band day on the demo's organization, served
// over the AWS wire protocol: a console user attaches the deny-all to
// Root, the watcher detects, tells, remediates; the notice is published,
// the incident resolved, the postmortem written. first is the number of
// its first scene.
func demoDay(ctx context.Context, e *env, dir string, first int) (dayClock, error) {
	var clk dayClock
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scene := first
	say := func(s string) {
		fmt.Fprintf(e.stdout, "\n── %d. %s\n\n", scene, s)
		scene++
	}
	intakeSecret, hookSecret := demoSecret(), demoSecret()
	getenv := func(k string) string {
		switch k {
		case "ORGGUARD_INTAKE_SECRET":
			return intakeSecret
		case "ORGGUARD_WEBHOOK_SECRET":
			return hookSecret
		}
		return ""
	}
	intake, err := demoFreeAddr()
	if err != nil {
		return clk, err
	}
	hook, err := startDemoReceiver(ctx, []byte(hookSecret))
	if err != nil {
		return clk, err
	}

	say("Later that day, out of band. The same organization is served over the AWS Organizations API\n" +
		"(what `orgguard sim serve --events-to` runs), posting an EventBridge event for each write to the watcher.\n" +
		"orgguard watch runs on it as on AWS (backend.type aws, the loopback endpoint), with the event intake,\n" +
		"a deny-all rule with remediate: true, the notice clock, and a webhook channel to a receiver on 127.0.0.1:")
	srv, err := app.ServeSim(ctx, app.ServeSimOptions{State: filepath.Join(dir, "sim-state.json"), Listen: "127.0.0.1:0",
		EventsTo: "http://" + intake + "/", EventsSecret: intakeSecret})
	if err != nil {
		return clk, fmt.Errorf("serving the simulated organization: %w", err)
	}
	defer srv.Close()
	cfgPath := filepath.Join(dir, "orgguard-watch.yaml")
	// The watch rules are pinned with the guardrails (a remediate rule acts
	// on a standing approval): the demo's first configuration carries the
	// same ones, so the first plan pinned them.
	cfgText := fmt.Sprintf(`backend:
  type: aws
  aws:
    endpoint: %s
store: %s
identity:
  user: alice
watch:
  interval: %s
  sweepPeriod: 1m
%s  intake:
    secretEnv: ORGGUARD_INTAKE_SECRET
  customers:
    ouParent: /Customers
notify:
  channels:
    - {name: ops-hook, type: webhook, url: %s, secret: env:ORGGUARD_WEBHOOK_SECRET}
  incidentChannels: [ops-hook]
  poll: 100ms
`, srv.Endpoint, strconv.Quote(filepath.Join(dir, "orgguard.db")), demoWatchInterval, demoWatchRules, hook.url)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return clk, err
	}
	fmt.Fprintf(e.stdout, "$ orgguard sim serve --listen 127.0.0.1:0 --events-to http://%s/ --events-secret …\n%s\n", intake, srv.Endpoint)
	fmt.Fprintf(e.stdout, "$ orgguard watch --config orgguard-watch.yaml --listen %s --notify\n", intake)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return clk, err
	}
	watcher, err := app.New(app.Options{Config: cfg, Actor: "watcher", Getenv: getenv})
	if err != nil {
		return clk, err
	}
	defer watcher.Close()
	logs := &demoLog{}
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- watcher.Watch(ctx, app.WatchOptions{Listen: intake, Log: slog.New(logs), Getenv: getenv, Notify: true})
	}()
	for _, msg := range []string{"baseline read", "event intake listening"} {
		if err := logs.wait(ctx, msg, 30*time.Second, watchDone); err != nil {
			return clk, err
		}
	}
	fmt.Fprintf(e.stdout, "watching: baseline read, event intake listening on %s, polling every %s\n", intake, demoWatchInterval)

	say("17:15. Someone in the console means to quarantine three accounts and attaches the deny-all SCP to Root.\n" +
		"No orgguard in the way: it goes straight to the API (the AWS SDK for Go, the AttachPolicy call\n" +
		"`aws organizations attach-policy` makes):")
	alice, err := app.New(app.Options{Config: cfg, Actor: "alice", Getenv: getenv})
	if err != nil {
		return clk, err
	}
	defer alice.Close()
	cu, err := app.NewConsoleUser(ctx, srv.Endpoint)
	if err != nil {
		return clk, err
	}
	changed := time.Now()
	pid, root, err := cu.AttachToRoot(ctx, "DenyEverything", demoDenyAll)
	if err != nil {
		return clk, fmt.Errorf("attaching the deny-all to Root through the API: %w", err)
	}
	fmt.Fprintf(e.stdout, "$ aws organizations attach-policy --policy-id %s --target-id %s\n(done at %s)\n", pid, root, changed.Format("15:04:05.000"))

	svc, err := alice.Incidents(ctx, false)
	if err != nil {
		return clk, err
	}
	var in store.Incident
	if err := demoPoll(ctx, 30*time.Second, "a critical incident", watchDone, func() (bool, error) {
		ins, err := svc.Store.ListIncidents(ctx, store.IncidentFilter{})
		for _, x := range ins {
			if x.Severity == store.SevCritical {
				in = x
				return true, nil
			}
		}
		return false, err
	}); err != nil {
		return clk, err
	}
	drafts, err := svc.Store.NoticeDrafts(ctx, in.ID)
	if err != nil {
		return clk, err
	}
	for _, d := range drafts {
		clk.DraftsAtOpen = append(clk.DraftsAtOpen, d.Lang)
	}
	clk.Incident, clk.Accounts, clk.Customers = in.ID, len(in.Accounts), len(in.Customers)
	say("The watcher detects it and opens a critical incident with its blast radius and the affected customers;\n" +
		"the Japanese and English notice drafts are written in the same transaction:")
	fmt.Fprintf(e.stdout, "incident %s  %s  %s\n", in.ID, in.Severity, in.Title)
	fmt.Fprintf(e.stdout, "blast radius: %d accounts of %d customers (%s)\n", len(in.Accounts), len(in.Customers), demoFirst(in.Customers, 4))
	for _, d := range drafts {
		fmt.Fprintf(e.stdout, "\nnotice draft [%s] %s\n%s\n", d.Lang, d.Title, demoHead(d.Body, 4))
	}
	m, err := hook.wait(ctx, notify.KindIncidentOpened, 15*time.Second)
	if err != nil {
		return clk, err
	}
	fmt.Fprintf(e.stdout, "\nwebhook receiver on 127.0.0.1 got %s (signature verified): %s\n", m.Kind, m.Title)

	say("The rule's remediation detaches the SCP through the checked apply path (a plan, its verdict, the lock,\n" +
		"the journal, health checks and probes before and after):")
	if err := demoPoll(ctx, 60*time.Second, "the incident mitigated", watchDone, func() (bool, error) {
		x, err := svc.Store.Incident(ctx, in.ID)
		in = x
		return err == nil && !x.MitigatedAt.IsZero(), err
	}); err != nil {
		return clk, err
	}
	still, err := cu.Attached(ctx, pid, root)
	if err != nil {
		return clk, err
	}
	if still {
		return clk, errors.New("the incident is mitigated but the deny-all is still attached to Root")
	}
	tl, err := svc.Store.IncidentTimeline(ctx, in.ID)
	if err != nil {
		return clk, err
	}
	for _, ev := range tl {
		fmt.Fprintf(e.stdout, "%s  %-18s %s\n", ev.At.Local().Format("15:04:05.000"), ev.Kind, demoHead(ev.Message, 1))
	}
	fmt.Fprintf(e.stdout, "ListPoliciesForTarget(%s): %s no longer attached\n", root, pid)

	say("alice reads the drafts and publishes them; then, access restored, she resolves the incident:")
	fmt.Fprintf(e.stdout, "$ orgguard notice publish %s --by alice\n", in.ID)
	pub, err := alice.PublishNotice(ctx, in.ID, nil)
	if err != nil {
		return clk, err
	}
	for _, n := range pub {
		fmt.Fprintf(e.stdout, "published [%s] #%d %s\n", n.Lang, n.Seq, n.Title)
	}
	fmt.Fprintf(e.stdout, "$ orgguard incident resolve %s --by alice\n", in.ID)
	if in, err = svc.Resolve(ctx, in.ID, "alice", "deny-all detached by the remediation; probes pass"); err != nil {
		return clk, err
	}
	fmt.Fprintf(e.stdout, "incident %s %s\n", in.ID, in.State)
	if _, err := hook.wait(ctx, notify.KindIncidentResolved, 15*time.Second); err != nil {
		return clk, err
	}
	clk.Webhook = hook.kinds()
	fmt.Fprintf(e.stdout, "webhook receiver: %s\n", strings.Join(clk.Webhook, ", "))

	in, err = svc.Store.Incident(ctx, in.ID)
	if err != nil {
		return clk, err
	}
	c := incident.ClockOf(in)
	secs := func(d *time.Duration) float64 {
		if d == nil {
			return -1
		}
		return d.Seconds()
	}
	clk.Detected, clk.Notice, clk.Recovered, clk.Resolved = secs(c.TTD), secs(c.TTN), secs(c.TTM), secs(c.TTR)
	say("The day's clock, from the incident record (impact start = the change), next to the accident's:")
	demoTimeline(e.stdout, in, clk)

	say("The postmortem, written from the record (ja and en):")
	for _, lang := range []string{"ja", "en"} {
		pm, err := alice.Postmortem(ctx, in.ID, lang)
		if err != nil {
			return clk, err
		}
		p := filepath.Join(dir, "postmortem."+lang+".md")
		if err := os.WriteFile(p, []byte(pm), 0o644); err != nil {
			return clk, err
		}
		clk.Postmortems = append(clk.Postmortems, p)
		fmt.Fprintf(e.stdout, "%s:\n%s\n…\n\n", p, demoHead(pm, 8))
	}
	b, _ := json.MarshalIndent(clk, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "timeline.json"), append(b, '\n'), 0o644); err != nil {
		return clk, err
	}
	cancel()
	if err := <-watchDone; err != nil {
		return clk, fmt.Errorf("the watcher: %w", err)
	}
	return clk, nil
}

// demoTimeline prints the day's clock beside the accident's.
func demoTimeline(w io.Writer, in store.Incident, c dayClock) {
	start := in.ImpactStartedAt
	if start.IsZero() {
		start = in.DetectedAt
	}
	row := func(what string, s float64, accident string) {
		v := "—"
		if s >= 0 {
			v = fmt.Sprintf("%.1f s", s)
		}
		fmt.Fprintf(w, "  %-44s %10s   %s\n", what, v, accident)
	}
	fmt.Fprintf(w, "  %-44s %10s   %s\n", "", "today", "2023 accident")
	row("change: deny-all on Root ("+start.Local().Format("15:04:05")+")", 0, "17:15")
	row("→ detected, critical incident opened", c.Detected, fmt.Sprintf("~%d min, by a customer's phone call", int(accidentDetected.Minutes())))
	row("→ notice drafts (ja, en)", c.Detected, "—")
	row("→ first notice published", c.Notice, fmt.Sprintf("%d min", int(accidentNotice.Minutes())))
	row("→ recovered: SCP detached, probes pass", c.Recovered, fmt.Sprintf("%d min", int(accidentRecover.Minutes())))
	row("→ resolved", c.Resolved, "—")
	fmt.Fprintf(w, "\nCompressed waits: the watcher polls every %s (default 10 s), though the event detected the change first;\n"+
		"alice publishes the drafts as soon as they appear (a person reads them first: the deadline is 10 min);\n"+
		"she resolves the incident right after the probes pass, without a monitoring period.\n"+
		"The impact start is the event's time, to the second as CloudTrail records it, so \"detected\" may read up to 1 s long.\n", demoWatchInterval)
}

// demoPoll calls cond every 50 ms until it holds, limit passes, or the
// watcher stops.
func demoPoll(ctx context.Context, limit time.Duration, what string, watchDone <-chan error, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not within %s (last error: %v)", what, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-watchDone:
			return fmt.Errorf("waiting for %s: the watcher stopped: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoLog is a slog handler that keeps the watcher's messages, so the demo
// can wait for "baseline read".
type demoLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *demoLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *demoLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelInfo {
		l.msgs = append(l.msgs, r.Message)
	}
	return nil
}
func (l *demoLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *demoLog) WithGroup(string) slog.Handler      { return l }

func (l *demoLog) has(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if m == msg {
			return true
		}
	}
	return false
}

func (l *demoLog) wait(ctx context.Context, msg string, limit time.Duration, watchDone <-chan error) error {
	return demoPoll(ctx, limit, "the watcher's "+strconv.Quote(msg), watchDone, func() (bool, error) { return l.has(msg), nil })
}

// demoReceiver is the webhook receiver the demo starts on 127.0.0.1: it
// checks each message's signature and keeps its kind and title.
type demoReceiver struct {
	url    string
	secret []byte
	mu     sync.Mutex
	got    []demoHookMessage
}

type demoHookMessage struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

func startDemoReceiver(ctx context.Context, secret []byte) (*demoReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the webhook receiver: %w", err)
	}
	r := &demoReceiver{url: "http://" + ln.Addr().String() + "/hook", secret: secret}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", r.serve)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	return r, nil
}

func (r *demoReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "reading the body", http.StatusBadRequest)
		return
	}
	if !notify.Verify(r.secret, req.Header.Get("X-Orgguard-Signature"), body, time.Now(), 5*time.Minute) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var m demoHookMessage
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *demoReceiver) wait(ctx context.Context, kind string, limit time.Duration) (demoHookMessage, error) {
	var out demoHookMessage
	err := demoPoll(ctx, limit, "the webhook message "+kind, nil, func() (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, m := range r.got {
			if m.Kind == kind {
				out = m
				return true, nil
			}
		}
		return false, nil
	})
	return out, err
}

func (r *demoReceiver) kinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.got {
		out = append(out, m.Kind)
	}
	return out
}

func demoSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// demoFreeAddr returns a free loopback address for the watcher's intake
// (the simulator must know where to post before the watcher listens).
func demoFreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// demoHead returns the first n lines of s.
func demoHead(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func demoFirst(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", and %d more", len(names)-n)
}

// demoWatchRules are the demo's watch rules (the watch: section's rules,
// indented under it), in both of its configurations: they are pinned with
// the guardrails when the first plan is saved.
const demoWatchRules = `  rules:
    - {name: deny-all, when: deny-all, accounts: 3, share: 0.9, severity: critical, remediate: true}
    - {name: root-or-protected, when: protected-target, severity: critical}
    - {name: any-change, when: any-change, severity: minor}
`
