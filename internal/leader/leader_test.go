package leader

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// fakeClock is a manual clock: After fires when Advance passes its time.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// advanceUntil moves the fake clock in small steps, letting the
// goroutines run between steps, until cond holds; it fails after limit of
// fake time.
func advanceUntil(t *testing.T, c *fakeClock, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	const step = 50 * time.Millisecond
	start := c.Now()
	for !cond() {
		if c.Now().Sub(start) > limit {
			t.Fatalf("%s: not within %v (fake time)", what, limit)
		}
		c.Advance(step)
		time.Sleep(2 * time.Millisecond)
	}
	return c.Now().Sub(start)
}

// switchable is a store whose lease calls can be cut (a crashed or
// partitioned replica: every call fails) or held (a paused replica: every
// call waits until let go).
type switchable struct {
	Leases
	cut  atomic.Bool
	mu   sync.Mutex
	hold chan struct{} // non-nil: calls wait for it to close
}

var errCut = errors.New("connection refused (cut by the test)")

func (s *switchable) gate(ctx context.Context) error {
	s.mu.Lock()
	h := s.hold
	s.mu.Unlock()
	if h != nil {
		select {
		case <-h:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.cut.Load() {
		return errCut
	}
	return nil
}

func (s *switchable) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	if err := s.gate(ctx); err != nil {
		return store.Lease{}, err
	}
	return s.Leases.AcquireLease(ctx, r)
}

func (s *switchable) RenewLease(ctx context.Context, f store.Fence, ttl time.Duration) (store.Lease, error) {
	if err := s.gate(ctx); err != nil {
		return store.Lease{}, err
	}
	return s.Leases.RenewLease(ctx, f, ttl)
}

func (s *switchable) ReleaseLease(ctx context.Context, f store.Fence) error {
	if err := s.gate(ctx); err != nil {
		return err
	}
	return s.Leases.ReleaseLease(ctx, f)
}

// replica is one elector under test with the record of its tenures.
type replica struct {
	name   string
	e      *Elector
	sw     *switchable
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, with err
	err    error

	mu      sync.Mutex
	started []time.Time // when each tenure's duties began (the replica's clock)
	stopped []time.Time // when each tenure's context was cancelled
	fences  []store.Fence
}

func startReplica(t *testing.T, name string, st store.Store, c Clock, o Options, duties func(ctx context.Context, f store.Fence) error) *replica {
	t.Helper()
	r := &replica{name: name, sw: &switchable{Leases: st}, done: make(chan struct{})}
	o.Store, o.Holder, o.Clock = r.sw, name, c
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.err = e.Run(ctx, func(ctx context.Context, f store.Fence) error {
			r.mu.Lock()
			r.started, r.fences = append(r.started, c.Now()), append(r.fences, f)
			r.mu.Unlock()
			var err error
			if duties != nil {
				err = duties(ctx, f)
			} else {
				<-ctx.Done()
			}
			r.mu.Lock()
			r.stopped = append(r.stopped, c.Now())
			r.mu.Unlock()
			return err
		})
	}()
	t.Cleanup(func() {
		r.sw.cut.Store(false)
		r.sw.mu.Lock()
		if r.sw.hold != nil {
			close(r.sw.hold)
			r.sw.hold = nil
		}
		r.sw.mu.Unlock()
		cancel()
		<-r.done
	})
	return r
}

// kill stops the replica as SIGKILL would: no renewal, no release.
func (r *replica) kill() {
	r.sw.cut.Store(true)
	r.cancel()
	<-r.done
}

func (r *replica) tenures() (started, stopped []time.Time, fences []store.Fence) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.started...), append([]time.Time(nil), r.stopped...), append([]store.Fence(nil), r.fences...)
}

func leaders(rs ...*replica) []*replica {
	var out []*replica
	for _, r := range rs {
		if r.e.Status().Leader {
			out = append(out, r)
		}
	}
	return out
}

func openSQLite(t *testing.T, c *fakeClock) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "orgguard.db"), sqlstore.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestElectorOnTheInjectedClock runs electors over one SQLite store whose
// clock is the electors' fake clock, so that leases expire exactly when
// the test says.
func TestElectorOnTheInjectedClock(t *testing.T) {
	o := Options{TTL: 15 * time.Second, Period: 2 * time.Second}

	t.Run("two electors elect exactly one leader, which keeps its epoch", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		a := startReplica(t, "a", st, c, o, nil)
		b := startReplica(t, "b", st, c, o, nil)
		advanceUntil(t, c, 5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		l := leaders(a, b)[0]
		epoch := l.e.Status().Epoch
		for range 60 {
			c.Advance(time.Second)
			time.Sleep(2 * time.Millisecond)
			if ls := leaders(a, b); len(ls) != 1 || ls[0] != l {
				t.Fatalf("at %v: leaders %v, want only %s", c.Now(), names(ls), l.name)
			}
		}
		if got := l.e.Status(); got.Epoch != epoch || got.Elections != 1 {
			t.Errorf("after a minute the leader reports %+v, want epoch %d from its one election", got, epoch)
		}
		follower := a
		if l == a {
			follower = b
		}
		if st := follower.e.Status(); st.Leader || st.LeaderHolder != l.name || st.Epoch != epoch {
			t.Errorf("follower status %+v, want following %s at epoch %d", st, l.name, epoch)
		}
		if err := follower.e.Leading(); !errors.Is(err, ErrNotLeader) {
			t.Errorf("follower Leading() = %v, want ErrNotLeader", err)
		}
	})

	t.Run("a killed leader is replaced within TTL plus a period, with the next epoch", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		a := startReplica(t, "a", st, c, o, nil)
		b := startReplica(t, "b", st, c, o, nil)
		advanceUntil(t, c, 5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		// Let a renewal or two happen at an arbitrary phase.
		c.Advance(7 * time.Second)
		time.Sleep(20 * time.Millisecond)
		old := leaders(a, b)[0]
		other := a
		if old == a {
			other = b
		}
		epoch := old.e.Status().Epoch
		old.kill()
		took := advanceUntil(t, c, time.Minute, "the other replica leading", func() bool { return other.e.Status().Leader })
		if limit := o.TTL + o.Period; took > limit {
			t.Errorf("failover took %v of fake time, want at most TTL+period = %v", took, limit)
		}
		if got := other.e.Status().Epoch; got != epoch+1 {
			t.Errorf("new leader's epoch %d, want %d", got, epoch+1)
		}
		t.Logf("failover after a kill: %v (TTL %v, period %v)", took, o.TTL, o.Period)
	})

	t.Run("a leader cut off from the store stops acting before its lease could expire", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		a := startReplica(t, "a", st, c, o, nil)
		b := startReplica(t, "b", st, c, o, nil)
		advanceUntil(t, c, 5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		c.Advance(3 * time.Second)
		time.Sleep(20 * time.Millisecond)
		old := leaders(a, b)[0]
		other := a
		if old == a {
			other = b
		}
		old.sw.cut.Store(true) // partitioned: its renewals fail, it keeps running
		advanceUntil(t, c, time.Minute, "the other replica leading", func() bool { return other.e.Status().Leader })
		_, oldStopped, _ := old.tenures()
		newStarted, _, _ := other.tenures()
		if len(oldStopped) != 1 || len(newStarted) != 1 {
			t.Fatalf("old leader stopped %d times, new leader started %d times; want 1 and 1", len(oldStopped), len(newStarted))
		}
		if gap := newStarted[0].Sub(oldStopped[0]); gap < o.TTL/5 {
			t.Errorf("old leader stopped at %v, new one started at %v: a gap of %v, want at least the margin %v",
				oldStopped[0].Format(time.TimeOnly), newStarted[0].Format(time.TimeOnly), gap, o.TTL/5)
		}
		if err := old.e.Leading(); !errors.Is(err, ErrNotLeader) {
			t.Errorf("cut-off leader Leading() = %v, want ErrNotLeader", err)
		}
	})

	t.Run("a paused leader finds its writes fenced when it wakes", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		wake := make(chan struct{})
		wrote := make(chan error, 1)
		var paused atomic.Bool
		duties := func(ctx context.Context, f store.Fence) error {
			if !paused.CompareAndSwap(false, true) {
				<-ctx.Done()
				return nil
			}
			// The first leader "pauses" here (ignoring its context, as a
			// stopped process would), then writes as leader.
			<-wake
			wrote <- st.Fenced(f).SaveWatchState(context.Background(), store.WatchState{Name: "default", Fingerprint: "sha256:stale", Body: []byte{1}})
			return nil
		}
		a := startReplica(t, "a", st, c, o, duties)
		b := startReplica(t, "b", st, c, o, duties)
		advanceUntil(t, c, 5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		old := leaders(a, b)[0]
		other := a
		if old == a {
			other = b
		}
		// Its elector is paused too: its renewals wait.
		old.sw.mu.Lock()
		old.sw.hold = make(chan struct{})
		old.sw.mu.Unlock()
		advanceUntil(t, c, time.Minute, "the other replica leading", func() bool { return other.e.Status().Leader })
		close(wake)
		if err := <-wrote; !errors.Is(err, store.ErrFenced) {
			t.Errorf("the paused leader's write after the take-over = %v, want ErrFenced", err)
		}
		if _, err := st.WatchState(context.Background(), "default"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("watch state after the fenced write: %v, want none written", err)
		}
	})

	t.Run("stopping releases the lease so that another replica leads at its next try", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		a := startReplica(t, "a", st, c, o, nil)
		b := startReplica(t, "b", st, c, o, nil)
		advanceUntil(t, c, 5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		old := leaders(a, b)[0]
		other := a
		if old == a {
			other = b
		}
		old.cancel()
		<-old.done
		if old.err != nil {
			t.Errorf("Run after its context ended = %v, want nil", old.err)
		}
		took := advanceUntil(t, c, time.Minute, "the other replica leading", func() bool { return other.e.Status().Leader })
		if took > o.Period+time.Second {
			t.Errorf("failover after a release took %v, want within a period (%v)", took, o.Period)
		}
	})

	t.Run("duties that fail for good end Run; duties that step down campaign again", func(t *testing.T) {
		c := newFakeClock()
		st := openSQLite(t, c)
		bad := errors.New("bad configuration")
		var calls atomic.Int32
		r := startReplica(t, "a", st, c, o, func(ctx context.Context, f store.Fence) error {
			if calls.Add(1) == 1 {
				return fmt.Errorf("starting the watcher: %w", ErrStepDown)
			}
			return bad
		})
		advanceUntil(t, c, time.Minute, "Run ending", func() bool {
			select {
			case <-r.done:
				return true
			default:
				return false
			}
		})
		err := r.err
		if !errors.Is(err, bad) || calls.Load() != 2 {
			t.Errorf("Run = %v after %d tenures, want the bad configuration after 2", err, calls.Load())
		}
	})
}

func names(rs []*replica) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.name)
	}
	return out
}

func TestNewRefusesLeasesThatCannotWork(t *testing.T) {
	st := &switchable{}
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no store", Options{}},
		{"renewing too late", Options{Store: st, TTL: time.Second, RenewEvery: 900 * time.Millisecond}},
		{"a tiny TTL", Options{Store: st, TTL: time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Errorf("New(%+v) = nil error, want a refusal", tc.o)
			}
		})
	}
}

// TestElectorsOnPostgreSQL runs electors as replicas do — each with its
// own connection pool — over one PostgreSQL schema on real time (the
// database's clock decides the lease).
func TestElectorsOnPostgreSQL(t *testing.T) {
	u := storetest.PostgresSchemaURL(t, "og_leader")
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	o := Options{TTL: time.Second, Period: 100 * time.Millisecond}
	waitUntil := func(limit time.Duration, what string, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > limit {
				t.Fatalf("%s: not within %v", what, limit)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return time.Since(start)
	}

	t.Run("three replicas, one leader; kills are replaced within TTL plus a period", func(t *testing.T) {
		rs := []*replica{}
		for i := range 3 {
			rs = append(rs, startReplica(t, fmt.Sprintf("r%d", i), open(), realClock{}, o, nil))
		}
		waitUntil(5*time.Second, "a leader", func() bool { return len(leaders(rs...)) == 1 })
		live := rs
		var epoch int64
		for kill := range 2 {
			time.Sleep(time.Duration(200+kill*150) * time.Millisecond)
			ls := leaders(live...)
			if len(ls) != 1 {
				t.Fatalf("leaders %v, want exactly one", names(ls))
			}
			old := ls[0]
			epoch = old.e.Status().Epoch
			killed := time.Now()
			old.kill()
			var rest []*replica
			for _, r := range live {
				if r != old {
					rest = append(rest, r)
				}
			}
			live = rest
			took := waitUntil(5*time.Second, "a new leader", func() bool { return len(leaders(live...)) == 1 })
			if limit := o.TTL + o.Period + 300*time.Millisecond; took > limit {
				t.Errorf("kill %d: failover took %v, want within TTL+period (+300ms of scheduling) = %v", kill+1, took, limit)
			}
			if got := leaders(live...)[0].e.Status().Epoch; got != epoch+1 {
				t.Errorf("kill %d: new epoch %d, want %d", kill+1, got, epoch+1)
			}
			t.Logf("kill %d at %s: failover %v", kill+1, killed.Format(time.StampMilli), took.Round(time.Millisecond))
		}
	})

	t.Run("a paused leader whose lease expired finds its writes fenced", func(t *testing.T) {
		st := open()
		wake := make(chan struct{})
		wrote := make(chan error, 1)
		var first atomic.Bool
		duties := func(ctx context.Context, f store.Fence) error {
			if !first.CompareAndSwap(false, true) {
				<-ctx.Done()
				return nil
			}
			<-wake
			_, err := st.Fenced(f).OpenIncident(context.Background(), store.Incident{Title: "stale", Severity: store.SevCritical})
			wrote <- err
			return nil
		}
		a := startReplica(t, "a", open(), realClock{}, o, duties)
		b := startReplica(t, "b", open(), realClock{}, o, duties)
		waitUntil(5*time.Second, "a leader", func() bool { return len(leaders(a, b)) == 1 })
		old := leaders(a, b)[0]
		other := a
		if old == a {
			other = b
		}
		old.sw.mu.Lock()
		old.sw.hold = make(chan struct{})
		old.sw.mu.Unlock()
		waitUntil(5*time.Second, "the other replica leading", func() bool { return other.e.Status().Leader })
		close(wake)
		if err := <-wrote; !errors.Is(err, store.ErrFenced) {
			t.Errorf("the paused leader's write = %v, want ErrFenced", err)
		}
		if ins, _ := st.ListIncidents(context.Background(), store.IncidentFilter{}); len(ins) != 0 {
			t.Errorf("%d incidents after the fenced write, want 0", len(ins))
		}
	})
}

// TestAnAcquireTheStoreNeverAnswersIsCutShort: a follower's attempt to
// acquire the lease on a database that accepts the connection and never
// answers (a server stopping or restarting; pgx has no connect timeout)
// gives up after the acquire timeout and campaigns again, instead of
// wedging the campaign until the database comes back.
func TestAnAcquireTheStoreNeverAnswersIsCutShort(t *testing.T) {
	c := newFakeClock()
	st := openSQLite(t, c)
	var calls atomic.Int32
	counting := &countingLeases{Leases: st, calls: &calls}
	sw := &switchable{Leases: counting, hold: make(chan struct{})}
	// Real time: the bound is a context deadline.
	e, err := New(Options{Store: sw, Holder: "a", TTL: 300 * time.Millisecond, Period: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.o.AcquireTimeout, 300*time.Millisecond-100*time.Millisecond-60*time.Millisecond; got != want {
		t.Errorf("default AcquireTimeout = %v, want TTL - RenewEvery - Margin = %v", got, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, func(ctx context.Context, _ store.Fence) error { <-ctx.Done(); return nil })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}()
	waitReal(t, 3*time.Second, "a failed attempt recorded while the store hangs", func() bool {
		return e.Status().LastError != ""
	})
	if st := e.Status(); st.Leader || !strings.Contains(st.LastError, context.DeadlineExceeded.Error()) {
		t.Errorf("Status while the store hangs = %+v, want a follower whose last attempt ran out of time", st)
	}
	// The store answers again: the very next attempt wins.
	sw.mu.Lock()
	close(sw.hold)
	sw.hold = nil
	sw.mu.Unlock()
	waitReal(t, 3*time.Second, "leading once the store answers", func() bool { return e.Leading() == nil })
	if calls.Load() != 1 {
		t.Errorf("%d acquisitions reached the store, want 1 (the hung ones never did)", calls.Load())
	}
}

// countingLeases counts the acquisitions that reach the store.
type countingLeases struct {
	Leases
	calls *atomic.Int32
}

func (c *countingLeases) AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error) {
	c.calls.Add(1)
	return c.Leases.AcquireLease(ctx, r)
}

func waitReal(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
