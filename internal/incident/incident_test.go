package incident_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/incident"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// clock is a settable clock shared by the service and the store, so that
// every milestone is on the same time line.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)

func newService(t *testing.T) (*incident.Service, *clock) {
	t.Helper()
	c := &clock{t: t0}
	st, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "orgguard.db"), sqlstore.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &incident.Service{Store: st, Now: c.Now}, c
}

func open(t *testing.T, s *incident.Service, spec incident.Spec) (store.Incident, bool) {
	t.Helper()
	var in store.Incident
	var created bool
	err := s.Store.WithTx(context.Background(), func(tx store.Tx) error {
		var err error
		in, created, err = s.Open(context.Background(), tx, spec)
		return err
	})
	if err != nil {
		t.Fatalf("Open(%+v) = %v", spec, err)
	}
	return in, created
}

func kinds(t *testing.T, s *incident.Service, id string) []string {
	t.Helper()
	tl, err := s.Store.IncidentTimeline(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range tl {
		out = append(out, ev.Kind)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	s, c := newService(t)
	impact := t0.Add(-90 * time.Second)
	in, created := open(t, s, incident.Spec{Title: "deny-all on Root", Severity: store.SevCritical, Source: store.SourceDrift,
		By: "orgguard-watch", Rule: "deny-all", DedupKey: "drift:k1", ImpactStartedAt: impact, DetectedAt: t0,
		Accounts: []string{"222222222222", "111111111111"}, Customers: []string{"Acme"}})
	if !created || in.State != store.IncidentInvestigating || in.Severity != store.SevCritical {
		t.Fatalf("Open = %+v, created %v; want a new investigating critical incident", in, created)
	}
	if got := kinds(t, s, in.ID); !slices.Equal(got, []string{incident.KindImpactStart, incident.KindDetected}) {
		t.Errorf("timeline after Open = %v, want impact-start, detected", got)
	}

	t.Run("the same dedup key returns the first incident and writes nothing", func(t *testing.T) {
		again, created := open(t, s, incident.Spec{Title: "again", Severity: store.SevCritical, DedupKey: "drift:k1"})
		if created || again.ID != in.ID {
			t.Errorf("Open(same key) = %s, created %v; want %s, false", again.ID, created, in.ID)
		}
		if n := len(kinds(t, s, in.ID)); n != 2 {
			t.Errorf("%d timeline entries after a duplicate open, want 2", n)
		}
	})

	c.Advance(2 * time.Minute)
	if _, err := s.Acknowledge(ctx, in.ID, "alice", ""); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if _, err := s.Acknowledge(ctx, in.ID, "bob", "taking over"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Note(ctx, in.ID, "alice", "deny-all attached by a pipeline"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if _, err := s.SetState(ctx, in.ID, store.IncidentIdentified, "alice", "the pipeline's role"); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	err := s.Store.WithTx(ctx, func(tx store.Tx) error {
		_, err := s.Mitigated(ctx, tx, in.ID, "orgguard-watch", "detached", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Store.Incident(ctx, in.ID)
	if got.State != store.IncidentMonitoring {
		t.Errorf("state after Mitigated = %s, want monitoring (identified moves on)", got.State)
	}
	c.Advance(10 * time.Minute)
	if _, err := s.Resolve(ctx, in.ID, "alice", "pipeline fixed"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Store.Incident(ctx, in.ID)
	want := []string{incident.KindImpactStart, incident.KindDetected, incident.KindAcknowledged, incident.KindAcknowledged,
		incident.KindNote, incident.KindState, incident.KindMitigated, incident.KindResolved}
	if k := kinds(t, s, in.ID); !slices.Equal(k, want) {
		t.Errorf("timeline = %v, want %v", k, want)
	}

	t.Run("the clock measures every milestone from the impact start", func(t *testing.T) {
		cl := incident.ClockOf(got)
		for _, m := range []struct {
			name string
			d    *time.Duration
			want time.Duration
		}{
			{"TTD", cl.TTD, 90 * time.Second},
			{"TTA", cl.TTA, 90*time.Second + 2*time.Minute}, // the first acknowledgement counts
			{"TTM", cl.TTM, 90*time.Second + 5*time.Minute},
			{"TTR", cl.TTR, 90*time.Second + 15*time.Minute},
		} {
			if m.d == nil || *m.d != m.want {
				t.Errorf("%s = %v, want %v", m.name, m.d, m.want)
			}
		}
	})

	t.Run("a resolved incident is no longer active", func(t *testing.T) {
		if got.State != store.IncidentResolved || got.State.Active() || got.ResolvedAt.IsZero() {
			t.Errorf("incident %+v, want resolved with a resolution time", got)
		}
	})
}

func TestBadRequestsAreInvalid(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	in, _ := open(t, s, incident.Spec{Title: "x", Severity: store.SevMinor})
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"an unknown severity", func() error {
			return s.Store.WithTx(ctx, func(tx store.Tx) error {
				_, _, err := s.Open(ctx, tx, incident.Spec{Title: "x", Severity: "apocalyptic"})
				return err
			})
		}},
		{"an empty title", func() error {
			return s.Store.WithTx(ctx, func(tx store.Tx) error {
				_, _, err := s.Open(ctx, tx, incident.Spec{Title: "  ", Severity: store.SevMinor})
				return err
			})
		}},
		{"an empty note", func() error { _, err := s.Note(ctx, in.ID, "alice", " \n"); return err }},
		{"an unknown state", func() error { _, err := s.SetState(ctx, in.ID, "closed-ish", "alice", ""); return err }},
	} {
		t.Run(tc.name+" is refused as invalid", func(t *testing.T) {
			if err := tc.err(); !errors.Is(err, incident.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	t.Run("an unknown incident is not found", func(t *testing.T) {
		if _, err := s.Acknowledge(ctx, "incident-nope", "alice", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Acknowledge(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestImpactWindowIsStated(t *testing.T) {
	s, _ := newService(t)
	in, _ := open(t, s, incident.Spec{Title: "found by a poll", Severity: store.SevCritical,
		ImpactStartedAt: t0.Add(-10 * time.Second), ImpactWindow: t0})
	tl, _ := s.Store.IncidentTimeline(context.Background(), in.ID)
	if len(tl) == 0 || tl[0].Kind != incident.KindImpactStart || !strings.Contains(tl[0].Message, "between") {
		t.Errorf("timeline = %+v, want an impact start stated as a window", tl)
	}
}

func TestClockWithoutImpactStart(t *testing.T) {
	in := store.Incident{OpenedAt: t0, DetectedAt: t0, AcknowledgedAt: t0.Add(time.Minute)}
	c := incident.ClockOf(in)
	if c.TTD == nil || *c.TTD != 0 || c.TTA == nil || *c.TTA != time.Minute || c.TTM != nil || c.TTR != nil {
		t.Errorf("ClockOf = %+v, want TTD 0 and TTA 1m from detection, no TTM or TTR", c)
	}
}

func TestSummarize(t *testing.T) {
	var ins []store.Incident
	for i := 1; i <= 10; i++ {
		start := t0.Add(time.Duration(i) * time.Hour)
		in := store.Incident{State: store.IncidentResolved, ImpactStartedAt: start, DetectedAt: start.Add(time.Duration(i) * time.Second),
			ResolvedAt: start.Add(time.Duration(i) * time.Minute)}
		if i == 10 {
			in.State, in.ResolvedAt = store.IncidentInvestigating, time.Time{}
		}
		ins = append(ins, in)
	}
	s := incident.Summarize(ins)
	if s.Incidents != 10 || s.Open != 1 {
		t.Errorf("Summarize: %d incidents, %d open; want 10, 1", s.Incidents, s.Open)
	}
	if s.TTD.N != 10 || s.TTD.Max != 10*time.Second || s.TTD.Median != 6*time.Second || s.TTD.Mean != 5500*time.Millisecond {
		t.Errorf("TTD = %+v, want n 10, max 10s, median 6s, mean 5.5s", s.TTD)
	}
	if s.TTR.N != 9 || s.TTR.Max != 9*time.Minute || s.TTA.N != 0 {
		t.Errorf("TTR = %+v, TTA = %+v; want 9 resolutions up to 9m and no acknowledgement", s.TTR, s.TTA)
	}
	if got := incident.Summarize(nil); got.Incidents != 0 || got.TTD.N != 0 {
		t.Errorf("Summarize(nil) = %+v", got)
	}
}

// customersOrg:
//
//	Root
//	├── Customers (ou-cust)
//	│   ├── Acme (ou-acme)
//	│   │   ├── acme-prod (100000000001)
//	│   │   └── Team (ou-acteam)
//	│   │       └── acme-dev (100000000002)
//	│   └── Globex (ou-globex)
//	│       └── globex-prod (100000000003, tag customer=Globex Corp)
//	├── Infra (ou-infra)
//	│   └── shared (100000000004, tag customer=Initech)
//	└── loose (100000000005)
func customersOrg(t *testing.T) *org.Index {
	t.Helper()
	s := &org.Snapshot{
		FormatVersion: org.FormatVersion,
		Organization:  org.Organization{ID: "o-test", FeatureSet: "ALL", ManagementAccountID: "100000000000"},
		Root:          org.Root{ID: "r-ab12", Name: "Root"},
		OUs: []org.OU{
			{ID: "ou-ab12-cust0001", Name: "Customers", ParentID: "r-ab12"},
			{ID: "ou-ab12-acme0001", Name: "Acme", ParentID: "ou-ab12-cust0001"},
			{ID: "ou-ab12-acteam01", Name: "Team", ParentID: "ou-ab12-acme0001"},
			{ID: "ou-ab12-globex01", Name: "Globex", ParentID: "ou-ab12-cust0001"},
			{ID: "ou-ab12-infra001", Name: "Infra", ParentID: "r-ab12"},
		},
		Accounts: []org.Account{
			{ID: "100000000000", Name: "management", ParentID: "r-ab12", Status: org.AccountActive},
			{ID: "100000000001", Name: "acme-prod", ParentID: "ou-ab12-acme0001", Status: org.AccountActive},
			{ID: "100000000002", Name: "acme-dev", ParentID: "ou-ab12-acteam01", Status: org.AccountActive},
			{ID: "100000000003", Name: "globex-prod", ParentID: "ou-ab12-globex01", Status: org.AccountActive, Tags: map[string]string{"customer": "Globex Corp"}},
			{ID: "100000000004", Name: "shared", ParentID: "ou-ab12-infra001", Status: org.AccountActive, Tags: map[string]string{"customer": "Initech"}},
			{ID: "100000000005", Name: "loose", ParentID: "r-ab12", Status: org.AccountActive},
		},
	}
	s.Normalize()
	x, err := org.NewIndex(s)
	if err != nil {
		t.Fatalf("NewIndex: %v", err)
	}
	return x
}

func TestCustomers(t *testing.T) {
	x := customersOrg(t)
	all := []string{"100000000001", "100000000002", "100000000003", "100000000004", "100000000005", "999999999999"}
	for _, tc := range []struct {
		name string
		m    incident.Mapping
		want []string
		by   map[string][]string
	}{
		{"no mapping maps nothing", incident.Mapping{}, nil, nil},
		{"the OU under /Customers names the customer, at any depth below it", incident.Mapping{OUParent: "/Customers"},
			[]string{"Acme", "Globex"}, map[string][]string{"Acme": {"100000000001", "100000000002"}, "Globex": {"100000000003"}}},
		{"the parent may be given by ID", incident.Mapping{OUParent: "ou-ab12-cust0001"},
			[]string{"Acme", "Globex"}, map[string][]string{"Acme": {"100000000001", "100000000002"}, "Globex": {"100000000003"}}},
		{"a tag maps the tagged accounts", incident.Mapping{Tag: "customer"},
			[]string{"Globex Corp", "Initech"}, map[string][]string{"Globex Corp": {"100000000003"}, "Initech": {"100000000004"}}},
		{"the tag wins over the OU", incident.Mapping{Tag: "customer", OUParent: "/Customers"},
			[]string{"Acme", "Globex Corp", "Initech"}, map[string][]string{"Acme": {"100000000001", "100000000002"}, "Globex Corp": {"100000000003"}, "Initech": {"100000000004"}}},
		{"a parent that does not exist maps nothing", incident.Mapping{OUParent: "/Nope"}, []string{}, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, by := tc.m.Customers(x, all)
			if !slices.Equal(names, tc.want) || len(by) != len(tc.by) {
				t.Fatalf("Customers = %v, %v; want %v, %v", names, by, tc.want, tc.by)
			}
			for c, ids := range tc.by {
				if !slices.Equal(by[c], ids) {
					t.Errorf("accounts of %s = %v, want %v", c, by[c], ids)
				}
			}
		})
	}
	t.Run("a parent that is neither a path nor an OU ID is invalid", func(t *testing.T) {
		if err := (incident.Mapping{OUParent: "Customers"}).Validate(); err == nil {
			t.Error("Validate(Customers) = nil, want an error")
		}
		if err := (incident.Mapping{OUParent: "/Customers"}).Validate(); err != nil {
			t.Errorf("Validate(/Customers) = %v", err)
		}
	})
}
