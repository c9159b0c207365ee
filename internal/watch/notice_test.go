package watch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// TestDriftIncidentGetsItsNoticeDraftsAtOnce: the watcher opens the
// incident and its ja and en drafts, and the first message to the incident
// channel, in one transaction (watch.Options.OnOpen); the public drafts
// count accounts and customers and name no policy, root or account ID.
func TestDriftIncidentGetsItsNoticeDraftsAtOnce(t *testing.T) {
	r := newRig(t, 200, simserver.Options{})
	ts, err := notice.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	nc := notify.DefaultConfig()
	nc.IncidentChannels = []string{"ops"}
	ns := &notice.Service{Store: r.st, Config: notice.DefaultConfig(), Notify: nc, Templates: ts}
	w, err := watch.New(watch.Options{Config: r.config(), Reader: r.backend.Parts(nil), Store: r.st, Analyzer: r.an,
		Baseline: r.backend.Snapshot, OnOpen: ns.OnOpen})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the first read", func() bool { return w.Stats().FastReads > 0 })
	pid, root := r.attachDenyAll(t)
	waitFor(t, "an incident", func() bool { return len(r.incidents(t)) > 0 }, w)
	in := r.incidents(t)[0]
	ds, err := r.st.NoticeDrafts(context.Background(), in.ID)
	if err != nil || len(ds) != 2 {
		t.Fatalf("drafts of the drift incident = %+v, %v; want ja and en stored with it", ds, err)
	}
	for _, d := range ds {
		if lag := d.UpdatedAt.Sub(in.OpenedAt); lag < 0 || lag > time.Second {
			t.Errorf("the %s draft was stored %v after the incident opened, want under 1s", d.Lang, lag)
		}
		for _, id := range append([]string{pid, root}, in.Accounts[:3]...) {
			if strings.Contains(d.Title+d.Body, id) {
				t.Errorf("the %s draft names %s:\n%s\n%s", d.Lang, id, d.Title, d.Body)
			}
		}
	}
	ms, err := r.st.ListMessages(context.Background(), store.OutboxFilter{IncidentID: in.ID})
	if err != nil || len(ms) != 1 || ms[0].Key != notify.KindIncidentOpened+":"+in.ID+"@ops" {
		t.Errorf("outbox of the incident = %+v, %v; want the opening told to ops", ms, err)
	}
	t.Logf("impact start → incident opened with its drafts: %v", in.OpenedAt.Sub(in.ImpactStartedAt).Round(time.Millisecond))
}
