package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

func openStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "orgguard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// enqueue puts n messages for channel in the outbox, keys <prefix>-<i>.
func enqueue(t testing.TB, s store.Store, channel, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 500 {
		err := s.WithTx(ctx, func(tx store.Tx) error {
			for i := lo; i < min(lo+500, n); i++ {
				m := Message{Kind: KindIncidentOpened, IncidentID: "incident-1", Title: fmt.Sprint("message ", i), Text: "text"}
				if _, err := EnqueueTo(ctx, tx, []string{channel}, fmt.Sprintf("%s-%d", prefix, i), m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func fastRetry() Retry {
	return Retry{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, MaxAttempts: 1000}
}

// waitSent waits until no message of the store is pending.
func waitSent(t testing.TB, s store.Store, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p, err := s.ListMessages(context.Background(), store.OutboxFilter{State: store.OutboxPending, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages still pending after %v (first: %+v)", within, p[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSenderDeliversEachMessageOnceAndIsolatesChannels(t *testing.T) {
	s := openStore(t)
	up := newReceiver(t, []byte("k"))
	down := newReceiver(t, nil)
	down.down.Store(true)
	enqueue(t, s, "up", "u", 50)
	enqueue(t, s, "down", "d", 5)
	snd := &Sender{Store: s, Owner: "test", Retry: fastRetry(), Lease: 5 * time.Second, Poll: 10 * time.Millisecond, Channels: map[string]Channel{
		"up":   &Webhook{ChannelName: "up", URL: up.srv.URL, Secret: []byte("k"), Client: up.srv.Client(), InFlight: 4},
		"down": &Webhook{ChannelName: "down", URL: down.srv.URL, Client: down.srv.Client(), InFlight: 4},
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- snd.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, total, _ := up.snapshot(); total == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the working channel did not get its 50 messages while the other was down")
		}
		time.Sleep(10 * time.Millisecond)
	}
	pend, _ := s.ListMessages(t.Context(), store.OutboxFilter{Channel: "down", State: store.OutboxPending})
	if len(pend) != 5 || pend[0].Attempts == 0 || pend[0].LastError == "" {
		t.Errorf("the down channel's messages = %+v, want 5 pending with attempts and an error", pend)
	}
	down.down.Store(false)
	waitSent(t, s, 10*time.Second)
	cancel()
	<-done
	for _, r := range []*receiver{up, down} {
		byKey, total, bad := r.snapshot()
		if len(bad) > 0 {
			t.Errorf("receiver refused: %v", bad)
		}
		for k, n := range byKey {
			if n != 1 {
				t.Errorf("%s arrived %d times", k, n)
			}
		}
		if total != len(byKey) {
			t.Errorf("%d deliveries of %d keys", total, len(byKey))
		}
	}
}

func TestPermanentFailuresDieAndRetriesStop(t *testing.T) {
	s := openStore(t)
	rcv := newReceiver(t, nil)
	rcv.check = func(*http.Request, []byte) int { return http.StatusBadRequest }
	enqueue(t, s, "hook", "x", 3)
	snd := &Sender{Store: s, Owner: "test", Retry: fastRetry(), Lease: time.Second, Channels: map[string]Channel{
		"hook": &Webhook{ChannelName: "hook", URL: rcv.srv.URL, Client: rcv.srv.Client()},
	}}
	if _, err := snd.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	dead, _ := s.ListMessages(t.Context(), store.OutboxFilter{State: store.OutboxDead})
	if len(dead) != 3 || dead[0].Attempts != 1 {
		t.Errorf("dead messages = %+v, want all 3 after one attempt", dead)
	}
}

// TestReceiverOutage: the receiver answers 503 for the first half of the
// outage and is gone (connections refused) for the second, then comes back
// on the same address; every message arrives exactly once.
// ORGGUARD_OUTAGE sets the outage (default 2s; the documented run uses 30s).
func TestReceiverOutage(t *testing.T) {
	outage := 2 * time.Second
	if v := os.Getenv("ORGGUARD_OUTAGE"); v != "" {
		var err error
		if outage, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	s := openStore(t)
	rcv := newReceiver(t, []byte("k"))
	addr := rcv.srv.Listener.Addr().String()
	rcv.down.Store(true)
	const n = 300
	enqueue(t, s, "hook", "o", n)
	snd := &Sender{Store: s, Owner: "test", Retry: Retry{Initial: 100 * time.Millisecond, Max: time.Second, MaxAttempts: 1000}, Lease: 5 * time.Second, Poll: 10 * time.Millisecond,
		Channels: map[string]Channel{"hook": &Webhook{ChannelName: "hook", URL: rcv.srv.URL, Secret: []byte("k"), Client: newClient(), InFlight: 8}}}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go snd.Run(ctx)
	time.Sleep(outage / 2)
	rcv.srv.Close() // now connections are refused
	time.Sleep(outage / 2)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	back := httptest.NewUnstartedServer(http.HandlerFunc(rcv.serve))
	back.Listener.Close()
	back.Listener = ln
	rcv.down.Store(false)
	back.Start()
	t.Cleanup(back.Close)
	up := time.Now()
	waitSent(t, s, 60*time.Second)
	t.Logf("outage %v: all %d messages delivered %v after the receiver came back", outage, n, time.Since(up).Round(time.Millisecond))
	byKey, total, bad := rcv.snapshot()
	if len(bad) > 0 || len(byKey) != n || total != n {
		t.Errorf("after the outage: %d keys, %d deliveries, bad %v; want %d keys exactly once", len(byKey), total, bad, n)
	}
	failed, _ := s.ListMessages(t.Context(), store.OutboxFilter{State: store.OutboxSent, Limit: 1})
	if len(failed) == 0 || failed[0].Attempts < 2 {
		t.Errorf("the first message = %+v, want it sent after failed attempts", failed)
	}
}

// BenchmarkOutboxThroughput measures messages per second from the
// outbox (SQLite, synchronous=FULL) to a local webhook receiver.
func BenchmarkOutboxThroughput(b *testing.B) {
	s := openStore(b)
	rcv := newReceiver(b, []byte("k"))
	const batch = 1000
	var sent atomic.Int64
	snd := &Sender{Store: s, Owner: "bench", Retry: fastRetry(), Lease: 30 * time.Second, Poll: 5 * time.Millisecond,
		Channels: map[string]Channel{"hook": &Webhook{ChannelName: "hook", URL: rcv.srv.URL, Secret: []byte("k"), Client: rcv.srv.Client(), InFlight: 8}},
		OnSent:   func(store.OutboxMessage) { sent.Add(1) }}
	var elapsed time.Duration
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		enqueue(b, s, "hook", fmt.Sprint("b", round), batch)
		round++
		b.StartTimer()
		start := time.Now()
		for {
			if _, err := snd.Drain(context.Background()); err != nil {
				b.Fatal(err)
			}
			p, _ := s.ListMessages(context.Background(), store.OutboxFilter{State: store.OutboxPending, Limit: 1})
			if len(p) == 0 {
				break
			}
		}
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(sent.Load())/elapsed.Seconds(), "msgs/s")
	_, total, _ := rcv.snapshot()
	if total != int(sent.Load()) {
		b.Fatalf("receiver got %d, sender recorded %d", total, sent.Load())
	}
}

func newClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

// flakyMarks fails the first fails calls to MarkSent, as a database
// restarting under the sender does.
type flakyMarks struct {
	store.Store
	fails atomic.Int32
	calls atomic.Int32
}

func (f *flakyMarks) MarkSent(ctx context.Context, id int64, at time.Time) error {
	f.calls.Add(1)
	if f.fails.Add(-1) >= 0 {
		return fmt.Errorf("marking message %d sent: connection refused (the database is restarting)", id)
	}
	return f.Store.MarkSent(ctx, id, at)
}

// TestASentMessageIsRecordedOnceTheStoreIsBack: when recording a
// delivery fails for a moment (PostgreSQL restarting), the sender tries
// again while the message's claim lasts instead of leaving it to be sent
// a second time after the claim runs out.
func TestASentMessageIsRecordedOnceTheStoreIsBack(t *testing.T) {
	s := openStore(t)
	f := &flakyMarks{Store: s}
	f.fails.Store(3)
	r := newReceiver(t, nil)
	enqueue(t, s, "hook", "m", 1)
	snd := &Sender{Store: f, Owner: "test", Retry: fastRetry(), Lease: 2 * time.Second, Poll: 10 * time.Millisecond, Channels: map[string]Channel{
		"hook": &Webhook{ChannelName: "hook", URL: r.srv.URL, Client: r.srv.Client(), InFlight: 1},
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- snd.Run(ctx) }()
	waitSent(t, s, 10*time.Second)
	time.Sleep(2500 * time.Millisecond) // past the claim: nothing may be sent again
	cancel()
	<-done
	if byKey, total, _ := r.snapshot(); total != 1 || len(byKey) != 1 {
		t.Errorf("%d deliveries of %d keys, want the one message once", total, len(byKey))
	}
	if got := f.calls.Load(); got != 4 {
		t.Errorf("MarkSent called %d times, want 4 (3 failures, then recorded)", got)
	}
}
