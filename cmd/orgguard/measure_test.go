package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// TestWatchSteadyCost measures the watcher on a large organization (10,000
// accounts unless ORGGUARD_E2E_ACCOUNTS says otherwise) with the default
// interval (10 s), sweep period (30 min) and call budget (600 calls per
// minute): the steady polling cost in Organizations calls per minute (the
// watcher's own count, pages and retries included), the calls of one
// cheap-tier read, the time to catch a change by polling (a deny-all on
// Root, no event) and through the intake (an account moved deep in the
// tree, with its event posted), and the watcher's peak resident memory.
// It runs for ORGGUARD_MEASURE_DURATION (default 3m) and only when
// ORGGUARD_MEASURE=1:
//
//	ORGGUARD_MEASURE=1 go test ./cmd/orgguard -run TestWatchSteadyCost -v -timeout 30m
func TestWatchSteadyCost(t *testing.T) {
	if os.Getenv("ORGGUARD_MEASURE") != "1" {
		t.Skip("a measurement: set ORGGUARD_MEASURE=1 (see docs/watch.md)")
	}
	n := 10000
	if os.Getenv("ORGGUARD_E2E_ACCOUNTS") != "" {
		n = e2eAccounts(t)
	}
	dur := 3 * time.Minute
	if v := os.Getenv("ORGGUARD_MEASURE_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		dur = d
	}
	w := newWorld(t, worldOptions{accounts: n, listen: true, interval: 10 * time.Second, sweep: 30 * time.Minute, budget: 600})
	st := w.store(t)
	started := time.Now()
	p := w.watch(t)
	w.ready(t, p)
	baseline := time.Since(started)
	t.Logf("MEASURE accounts=%d baseline (full read at start)=%s", n, baseline.Round(100*time.Millisecond))

	// Steady state: the watcher logs its call rate every minute.
	time.Sleep(dur)
	line := readLine(p.log.String(), `msg=watching calls_per_minute=`)
	if line == "" {
		t.Fatalf("no per-minute report in %s:\n%s", dur, tail(p.log.String(), 2000))
	}
	field := func(name string) string {
		m := regexp.MustCompile(`\b` + name + `=("[^"]*"|\S+)`).FindStringSubmatch(line)
		if m == nil {
			return "?"
		}
		return strings.Trim(m[1], `"`)
	}
	rate, _ := strconv.ParseFloat(field("calls_per_minute"), 64)
	t.Logf("MEASURE accounts=%d steady calls_per_minute=%s budget=%s interval=%s cheap_tier_calls_per_read=%s cheap_tier_read=%s sweep=%q last_sweep_calls=%s last_sweep_duration=%s",
		n, field("calls_per_minute"), field("budget"), field("interval"), field("fast_calls"), field("fast_duration"), field("sweep"),
		field("last_sweep_calls"), field("last_sweep_duration"))
	if rate > 600*1.05 {
		t.Errorf("steady rate %.0f calls per minute, over the budget of 600", rate)
	}
	memLine := func() string {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
		if err != nil {
			return "unavailable: " + err.Error()
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") || strings.HasPrefix(l, "VmRSS:") {
				out = append(out, strings.Join(strings.Fields(l), " "))
			}
		}
		return strings.Join(out, ", ")
	}

	// The event tier: an account moved between two deep OUs, its event
	// posted to the intake (as EventBridge would).
	ctx := context.Background()
	snap, err := w.outside.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	x := org.MustIndex(snap)
	var acct org.Account
	var dest string
	for _, a := range snap.Accounts {
		if x.Depth(a.ParentID) >= 2 && a.ID != snap.Organization.ManagementAccountID {
			acct = a
			break
		}
	}
	for _, u := range snap.OUs {
		if x.Depth(u.ID) >= 2 && u.ID != acct.ParentID {
			dest = u.ID
			break
		}
	}
	head, _ := st.AuditHead(ctx)
	if err := w.outside.MoveAccount(ctx, acct.ID, acct.ParentID, dest); err != nil {
		t.Fatal(err)
	}
	moved := time.Now()
	ev, _ := watch.EncodeEvent("measure-move", "MoveAccount", moved, "arn:aws:iam::111111111111:user/mallory", "111111111111",
		map[string]any{"accountId": acct.ID, "sourceParentId": acct.ParentID, "destinationParentId": dest}, "req-move")
	w.post(t, ev)
	took := waitFor(t, moved, 60*time.Second, "the move recorded as drift", func() bool {
		es, err := st.ListAudit(ctx, store.AuditQuery{AfterSeq: head.Seq})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Action == "watch.drift" && bytes.Contains(e.Detail, []byte(acct.ID)) {
				return true
			}
		}
		return false
	})
	t.Logf("MEASURE accounts=%d event tier: deep account move + event -> drift recorded=%s", n, took.Round(10*time.Millisecond))

	// The cheap tier: a deny-all on Root, no event: the next poll.
	_, _, at := w.attachDenyAll(t)
	took = waitFor(t, at, 60*time.Second, "a critical incident by polling", func() bool {
		_, err := critical(t, st)
		return err == nil
	})
	t.Logf("MEASURE accounts=%d cheap tier: deny-all on Root (no event) -> critical incident=%s", n, took.Round(10*time.Millisecond))
	mem := memLine()
	t.Logf("MEASURE accounts=%d watcher memory after %s: %s", n, time.Since(started).Round(time.Second), mem)
	if m := regexp.MustCompile(`VmHWM: (\d+) kB`).FindStringSubmatch(mem); m != nil {
		if kb, _ := strconv.Atoi(m[1]); kb > 300<<10 {
			t.Errorf("peak resident memory %d MiB, over 300 MiB", kb>>10)
		}
	}
	if line := readLine(p.log.String(), `msg="sweep done"`); line != "" {
		t.Logf("MEASURE accounts=%d %s", n, line)
	}
}
