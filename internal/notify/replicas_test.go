package notify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// TestTwoSendersOnOnePostgreSQL runs two senders, each with its own
// connection pool as two replicas would, over one PostgreSQL outbox, and
// enqueues every message twice (from both "replicas"): the keys hold, the
// leases keep the senders apart, and each message arrives exactly once.
func TestTwoSendersOnOnePostgreSQL(t *testing.T) {
	u := storetest.PostgresSchemaURL(t, "og_notify")
	ctx := context.Background()
	var stores []*sqlstore.Store
	for range 2 {
		s, err := sqlstore.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	rcv := newReceiver(t, []byte("k"))
	const n = 200
	for _, s := range stores {
		enqueue(t, s, "hook", "replica", n)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for i, s := range stores {
		snd := &Sender{Store: s, Owner: fmt.Sprintf("replica-%d", i), Retry: fastRetry(), Lease: 10 * time.Second, Poll: 5 * time.Millisecond,
			Channels: map[string]Channel{"hook": &Webhook{ChannelName: "hook", URL: rcv.srv.URL, Secret: []byte("k"), Client: newClient(), InFlight: 4}}}
		go snd.Run(runCtx)
	}
	waitSent(t, stores[0], 60*time.Second)
	byKey, total, bad := rcv.snapshot()
	if len(bad) > 0 || len(byKey) != n || total != n {
		t.Errorf("%d keys, %d deliveries (bad %v); want %d, each once", len(byKey), total, bad, n)
	}
	ms, _ := stores[1].ListMessages(ctx, store.OutboxFilter{})
	owners := map[string]int{}
	for _, m := range ms {
		owners[m.LeaseOwner]++
	}
	t.Logf("%d messages, sent by %v", len(ms), owners)
}
