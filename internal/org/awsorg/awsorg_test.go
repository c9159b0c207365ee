package awsorg_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// stack is the simulated organization served over HTTP on 127.0.0.1 and an
// awsorg.Backend talking to it through the real SDK.
type stack struct {
	sim     *sim.Org
	backend *awsorg.Backend
	url     string
}

// isolateAWSConfig keeps the developer's ~/.aws and AWS_* variables out of
// the tests.
func isolateAWSConfig(tb testing.TB) {
	tb.Helper()
	dir := tb.TempDir()
	tb.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		tb.Setenv(v, "")
	}
}

func generated(tb testing.TB, accounts int, seed uint64) *org.Snapshot {
	tb.Helper()
	s, err := generate.Organization(generate.Options{Accounts: accounts, Seed: seed})
	if err != nil {
		tb.Fatalf("generate.Organization(%d): %v", accounts, err)
	}
	return s
}

func newStack(tb testing.TB, snap *org.Snapshot, so simserver.Options, bo awsorg.Options) *stack {
	tb.Helper()
	isolateAWSConfig(tb)
	o, err := sim.New(snap, sim.Options{})
	if err != nil {
		tb.Fatalf("sim.New: %v", err)
	}
	srv := httptest.NewServer(simserver.New(o, so))
	tb.Cleanup(srv.Close)
	bo.EndpointURL = srv.URL
	if bo.MaxBackoff == 0 {
		bo.MaxBackoff = 5 * time.Millisecond
	}
	b, err := awsorg.New(context.Background(), bo)
	if err != nil {
		tb.Fatalf("awsorg.New: %v", err)
	}
	return &stack{sim: o, backend: b, url: srv.URL}
}

func simSnapshot(tb testing.TB, o *sim.Org) *org.Snapshot {
	tb.Helper()
	s, err := o.Snapshot(context.Background())
	if err != nil {
		tb.Fatalf("sim Snapshot: %v", err)
	}
	return s
}

func withoutTags(s *org.Snapshot) *org.Snapshot {
	c := s.Clone()
	c.Root.Tags = nil
	for i := range c.OUs {
		c.OUs[i].Tags = nil
	}
	for i := range c.Accounts {
		c.Accounts[i].Tags = nil
	}
	for i := range c.Policies {
		c.Policies[i].Tags = nil
	}
	return c
}

// content compares snapshots on what the fingerprint covers.
func content(s *org.Snapshot) *org.Snapshot {
	c := s.Clone()
	c.TakenAt, c.Source, c.Fingerprint = time.Time{}, "", ""
	c.Normalize()
	return c
}

func TestSnapshotEqualsTheSimulatorsOwn(t *testing.T) {
	big, small := generated(t, 400, 7), generated(t, 120, 8)
	for _, tc := range []struct {
		name     string
		snap     *org.Snapshot
		readTags bool
		pageSize int
	}{
		{"with tags and full pages", big, true, 0},
		{"without tags and full pages", big, false, 0},
		{"with tags and pages of three items", small, true, 3},
		{"without tags and pages of one item", small, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := tc.snap
			st := newStack(t, snap, simserver.Options{PageSize: tc.pageSize}, awsorg.Options{ReadTags: tc.readTags, Concurrency: 6})
			got, stats, err := st.backend.ReadSnapshot(context.Background())
			if err != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			want := simSnapshot(t, st.sim)
			if !tc.readTags {
				want = withoutTags(want)
			}
			if diff := cmp.Diff(content(got), content(want)); diff != "" {
				t.Fatalf("snapshot over HTTP differs from the simulator's (-got +want):\n%s", diff)
			}
			if g, w := got.Fingerprint, org.ComputeFingerprint(want); g != w {
				t.Errorf("fingerprint = %s, want %s", g, w)
			}
			if tc.pageSize == 1 && stats.Calls["ListAccountsForParent"] < len(got.Accounts) {
				t.Errorf("with pages of one account, ListAccountsForParent calls = %d, want at least %d (one per account)", stats.Calls["ListAccountsForParent"], len(got.Accounts))
			}
		})
	}
}

// expectedCalls is the number of calls ReadSnapshot must make with pages of
// size page (without tags): see the table in its doc comment.
func expectedCalls(s *org.Snapshot, page int) map[string]int {
	pages := func(n int) int {
		if n == 0 {
			return 1
		}
		return (n + page - 1) / page
	}
	ous, accts := map[string]int{s.Root.ID: 0}, map[string]int{s.Root.ID: 0}
	for _, u := range s.OUs {
		ous[u.ID] += 0
		accts[u.ID] += 0
		ous[u.ParentID]++
	}
	for _, a := range s.Accounts {
		accts[a.ParentID]++
	}
	want := map[string]int{"DescribeOrganization": 1, "ListRoots": 1}
	for _, n := range ous {
		want["ListOrganizationalUnitsForParent"] += pages(n)
	}
	for _, n := range accts {
		want["ListAccountsForParent"] += pages(n)
	}
	byType, targets := map[org.PolicyType]int{org.ServiceControlPolicy: 0, org.ResourceControlPolicy: 0}, map[string]int{}
	for _, p := range s.Policies {
		byType[p.Type]++
		targets[p.ID] += 0
	}
	for _, at := range s.Attachments {
		targets[at.PolicyID]++
	}
	for _, n := range byType {
		want["ListPolicies"] += pages(n)
	}
	want["DescribePolicy"] = len(s.Policies)
	for _, n := range targets {
		want["ListTargetsForPolicy"] += pages(n)
	}
	return want
}

func TestSnapshotMakesTheMinimumNumberOfCalls(t *testing.T) {
	snap := generated(t, 800, 3)
	st := newStack(t, snap, simserver.Options{}, awsorg.Options{})
	_, stats, err := st.backend.ReadSnapshot(context.Background())
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	want := expectedCalls(simSnapshot(t, st.sim), simserver.MaxPageSize)
	if diff := cmp.Diff(stats.Calls, want); diff != "" {
		t.Errorf("calls per operation (-got +want):\n%s", diff)
	}
	if stats.Retries() != 0 {
		t.Errorf("Retries() = %d without injected faults, want 0", stats.Retries())
	}
	// Far fewer calls than accounts: nothing is read per account.
	if n := stats.TotalCalls(); n >= len(snap.Accounts) {
		t.Errorf("TotalCalls() = %d for %d accounts, want fewer calls than accounts", n, len(snap.Accounts))
	}
	if got := st.backend.LastStats(); got.TotalCalls() != stats.TotalCalls() {
		t.Errorf("LastStats().TotalCalls() = %d, want %d", got.TotalCalls(), stats.TotalCalls())
	}
	t.Logf("%d accounts: %s", len(snap.Accounts), stats)
}

func TestSnapshotRetriesThrottlingToSuccess(t *testing.T) {
	snap := generated(t, 200, 11)
	st := newStack(t, snap, simserver.Options{ThrottleRate: 0.3, FaultSeed: 42}, awsorg.Options{})
	got, stats, err := st.backend.ReadSnapshot(context.Background())
	if err != nil {
		t.Fatalf("ReadSnapshot with 30%% throttling: %v", err)
	}
	if g, w := got.Fingerprint, org.ComputeFingerprint(withoutTags(simSnapshot(t, st.sim))); g != w {
		t.Errorf("fingerprint = %s, want %s", g, w)
	}
	if stats.Retries() == 0 {
		t.Errorf("Retries() = 0 with 30%% of requests throttled, want some")
	}
	t.Logf("%s", stats)
}

func TestThrottlingGivesUpWhenTheContextEnds(t *testing.T) {
	snap := generated(t, 20, 1)
	st := newStack(t, snap, simserver.Options{ThrottleRate: 1}, awsorg.Options{MaxBackoff: 50 * time.Millisecond, MaxAttempts: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.backend.Snapshot(ctx)
	if err == nil {
		t.Fatal("Snapshot with every request throttled succeeded, want an error")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Snapshot returned after %v, want soon after the 300ms deadline", d)
	}
}

func TestThrottlingExhaustsAttempts(t *testing.T) {
	snap := generated(t, 20, 1)
	st := newStack(t, snap, simserver.Options{ThrottleRate: 1}, awsorg.Options{MaxAttempts: 3})
	err := st.backend.AttachPolicy(context.Background(), org.FullAWSAccessID, snap.Root.ID)
	var ae *org.APIError
	if !errors.As(err, &ae) || ae.Code != org.CodeTooManyRequests {
		t.Fatalf("AttachPolicy with every request throttled = %v, want TooManyRequestsException", err)
	}
	if !errors.Is(err, org.ErrThrottled) || ae.RequestID == "" {
		t.Errorf("error %v: want errors.Is ErrThrottled and a request ID", err)
	}
}

func TestProgressIsPlainOffATerminal(t *testing.T) {
	snap := generated(t, 50, 2)
	var buf bytes.Buffer
	st := newStack(t, snap, simserver.Options{}, awsorg.Options{Progress: &buf})
	if _, err := st.backend.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	out := buf.String()
	if strings.Contains(out, "\r") || strings.Contains(out, "\x1b[") {
		t.Errorf("progress to a buffer = %q, want no terminal control characters", out)
	}
	if !strings.Contains(out, "50 accounts") {
		t.Errorf("progress = %q, want the final count of 50 accounts", out)
	}
}

func TestNewRejectsABadEndpoint(t *testing.T) {
	isolateAWSConfig(t)
	for _, u := range []string{"127.0.0.1:4566", "ftp://x", "http://"} {
		if _, err := awsorg.New(context.Background(), awsorg.Options{EndpointURL: u}); err == nil {
			t.Errorf("New(EndpointURL %q) = nil error, want one", u)
		}
	}
}
