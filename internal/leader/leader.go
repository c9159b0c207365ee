// Package leader elects one leader among orgguard replicas that share one
// store, through a lease row held in the database (store.Leases): the
// leader runs the duties only one process may run at a time — the
// watcher, the notice clock and the outbox sender — and every write it
// makes as leader carries the lease's epoch as a fence (store.Fenced), so
// a replica that lost the lease while it was paused writes nothing when it
// wakes.
//
// An Elector campaigns (tries to acquire the lease every Period, or as
// soon as the holder's lease expires), renews every RenewEvery, and steps
// down — cancels the context its duties run under — as soon as it cannot
// be sure it still holds the lease: when a renewal is refused, or when no
// renewal has been confirmed by Margin before the lease could expire. The
// deadline is measured on the local monotonic clock from the moment the
// last confirmed renewal was sent (the database stamped it later, so the
// lease lasts at least that long), so it holds whatever the wall clocks
// of the replicas and the database say.
package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Defaults: with a 15 s lease renewed every 5 s and a campaign every 2 s,
// a replica that dies is replaced within 17 s (the rest of its lease and
// one campaign period), well within the 30 s team mode promises.
const (
	DefaultName   = "orgguard-leader"
	DefaultTTL    = 15 * time.Second
	DefaultPeriod = 2 * time.Second
)

// ErrStepDown, wrapped in the error the duties return, gives up the
// leadership (the lease is released) and campaigns again after a period;
// any other error from the duties ends Run. Duties refused by the fence
// (store.ErrFenced) step down too.
var ErrStepDown = errors.New("stepping down")

// ErrNotLeader: this replica does not hold the lease (or can no longer be
// sure it does).
var ErrNotLeader = errors.New("not the leader")

// Leases is what the elector needs of the store.
type Leases interface {
	AcquireLease(ctx context.Context, r store.LeaseRequest) (store.Lease, error)
	RenewLease(ctx context.Context, f store.Fence, ttl time.Duration) (store.Lease, error)
	ReleaseLease(ctx context.Context, f store.Fence) error
}

// Clock is the elector's local clock. Its readings are compared only with
// each other (Go's monotonic readings with the real clock).
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Duties run while this replica leads, under a context that is cancelled
// the moment it stops leading; the fence must go with every write they
// make as leader (store.Store.Fenced).
type Duties func(ctx context.Context, fence store.Fence) error

// Options shape an Elector.
type Options struct {
	Store Leases
	// Name is the lease's name; "" = DefaultName.
	Name string
	// Holder names this replica in the lease; "" = HolderID().
	Holder string
	// TTL is the lease's lifetime without a renewal; 0 = DefaultTTL.
	TTL time.Duration
	// Period is how often a follower tries to acquire the lease (it also
	// tries as soon as the holder's lease expires); 0 = DefaultPeriod.
	Period time.Duration
	// RenewEvery is how often the leader renews; 0 = TTL/3.
	RenewEvery time.Duration
	// Margin is how long before the lease could expire the leader stops
	// acting when no renewal was confirmed; 0 = TTL/5.
	Margin time.Duration
	// ReleaseTimeout bounds the release when stepping down; 0 = 5 s.
	ReleaseTimeout time.Duration
	// AcquireTimeout bounds each attempt to acquire the lease; 0 =
	// TTL − RenewEvery − Margin (a lease won later than that would leave
	// less than one renewal period before the leader must step down).
	// Without a bound, an attempt on a connection the database never
	// answers (a server stopping or restarting, a dropped network; the
	// driver has no connect timeout) would wedge the follower's campaign.
	AcquireTimeout time.Duration
	Clock          Clock // nil: the real clock
	Log            *slog.Logger
}

// Status is what an Elector reports (for /readyz and /healthz).
type Status struct {
	// Leader is true while this replica leads (and is sure it does).
	Leader bool `json:"leader"`
	// Epoch is the tenure this replica holds when leading, else the
	// newest epoch it has seen held (0: none yet).
	Epoch int64 `json:"epoch"`
	// Holder is this replica's name in the lease.
	Holder string `json:"holder"`
	// LeaderHolder is who leads, as last seen ("" = nobody known).
	LeaderHolder string `json:"leader_holder,omitempty"`
	// Since is when this replica became leader or follower.
	Since time.Time `json:"since,omitzero"`
	// Contact is when the store last answered the elector (a held lease
	// counts); Tick is when the elector's loop last ran.
	Contact time.Time `json:"contact,omitzero"`
	Tick    time.Time `json:"tick,omitzero"`
	// Elections counts the tenures this replica has held.
	Elections int `json:"elections"`
	// LastError is the store's last error, if the last contact failed.
	LastError string `json:"last_error,omitempty"`
}

// Elector campaigns for one lease. Run it once; Status and Leading may be
// called from any goroutine.
type Elector struct {
	o Options

	mu       sync.Mutex
	st       Status
	deadline time.Time // local: stop acting at this reading of the clock
}

// HolderID returns a name for this process: host, pid and a random part
// (a restarted process with a reused pid is another holder).
func HolderID() string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// New returns an Elector.
func New(o Options) (*Elector, error) {
	if o.Store == nil {
		return nil, errors.New("creating an elector: a store is required")
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.Holder == "" {
		o.Holder = HolderID()
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.Period == 0 {
		o.Period = DefaultPeriod
	}
	if o.RenewEvery == 0 {
		o.RenewEvery = o.TTL / 3
	}
	if o.Margin == 0 {
		o.Margin = o.TTL / 5
	}
	if o.ReleaseTimeout == 0 {
		o.ReleaseTimeout = 5 * time.Second
	}
	if o.AcquireTimeout == 0 {
		o.AcquireTimeout = o.TTL - o.RenewEvery - o.Margin
	}
	switch {
	case o.TTL < 10*time.Millisecond:
		return nil, fmt.Errorf("creating an elector: lease TTL %v is below 10ms", o.TTL)
	case o.Period <= 0:
		return nil, fmt.Errorf("creating an elector: campaign period %v is not positive", o.Period)
	case o.Margin <= 0 || o.RenewEvery <= 0 || o.RenewEvery+o.Margin >= o.TTL:
		return nil, fmt.Errorf("creating an elector: renewing every %v with a safety margin of %v does not fit a lease of %v", o.RenewEvery, o.Margin, o.TTL)
	case o.AcquireTimeout <= 0:
		return nil, fmt.Errorf("creating an elector: acquire timeout %v is not positive", o.AcquireTimeout)
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	e := &Elector{o: o}
	e.st.Holder = o.Holder
	return e, nil
}

// TTL returns the lease's lifetime.
func (e *Elector) TTL() time.Duration { return e.o.TTL }

// Status returns the elector's state.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.st
	st.Leader = st.Leader && e.o.Clock.Now().Before(e.deadline)
	return st
}

// Leading returns nil while this replica leads and its lease is surely
// unexpired (by the local clock, with the margin), else ErrNotLeader. The
// duties call it right before an action outside the store (sending a
// message), which the fence cannot guard.
func (e *Elector) Leading() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.st.Leader || !e.o.Clock.Now().Before(e.deadline) {
		return ErrNotLeader
	}
	return nil
}

func (e *Elector) update(f func(st *Status)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.st)
	e.st.Tick = e.o.Clock.Now()
}

// contact records how the store last answered.
func (e *Elector) contact(err error) {
	e.update(func(st *Status) {
		if err == nil || errors.Is(err, store.ErrLeaseHeld) || errors.Is(err, store.ErrFenced) {
			st.Contact, st.LastError = e.o.Clock.Now(), ""
			return
		}
		st.LastError = err.Error()
	})
}

// Run campaigns until ctx ends, running duties during each tenure. It
// returns nil when ctx ends (after the duties returned and the lease was
// released), or the duties' error when it is neither ErrStepDown nor
// store.ErrFenced.
func (e *Elector) Run(ctx context.Context, duties Duties) error {
	log := e.o.Log.With("lease", e.o.Name, "holder", e.o.Holder)
	log.Info("campaigning for leadership", "ttl", e.o.TTL, "period", e.o.Period, "renew_every", e.o.RenewEvery, "margin", e.o.Margin)
	following := int64(-1)
	e.update(func(st *Status) { st.Since = e.o.Clock.Now() })
	for ctx.Err() == nil {
		sent := e.o.Clock.Now()
		actx, acancel := context.WithTimeout(ctx, e.o.AcquireTimeout)
		l, err := e.o.Store.AcquireLease(actx, store.LeaseRequest{Name: e.o.Name, Holder: e.o.Holder, TTL: e.o.TTL})
		acancel()
		e.contact(err)
		wait := e.o.Period
		var held *store.LeaseHeldError
		switch {
		case err == nil:
			if err := e.lead(ctx, log, l, sent, duties); err != nil {
				return err
			}
			following = -1
		case errors.As(err, &held):
			cur := held.Current
			e.update(func(st *Status) { st.Epoch, st.LeaderHolder = cur.Epoch, cur.Holder })
			if cur.Epoch != following {
				following = cur.Epoch
				e.update(func(st *Status) { st.Since = e.o.Clock.Now() })
				log.Info("following", "leader", cur.Holder, "epoch", cur.Epoch)
			}
			// Try again as soon as the holder's lease could have run out.
			if left := cur.ExpiresAt.Sub(cur.At); left >= 0 && left < wait {
				wait = left + time.Millisecond
			}
		case ctx.Err() != nil:
			return nil
		default:
			log.Warn("campaigning: the store did not answer; trying again", "err", err, "in", wait)
		}
		select {
		case <-ctx.Done():
		case <-e.o.Clock.After(wait):
		}
	}
	return nil
}

type renewal struct {
	sent time.Time
	l    store.Lease
	err  error
}

// lead runs one tenure: the duties under a context cancelled when the
// tenure ends, and the renewals. It returns a fatal error of the duties,
// else nil (the tenure is over: ctx ended, the lease was lost or the
// duties stepped down).
func (e *Elector) lead(ctx context.Context, log *slog.Logger, l store.Lease, sent time.Time, duties Duties) error {
	c := e.o.Clock
	fence := l.Fence()
	log = log.With("epoch", l.Epoch)
	e.mu.Lock()
	e.deadline = sent.Add(e.o.TTL - e.o.Margin)
	e.st.Leader, e.st.Epoch, e.st.LeaderHolder, e.st.Since = true, l.Epoch, e.o.Holder, c.Now()
	e.st.Elections++
	e.mu.Unlock()
	if l.TakenOverFrom != "" {
		log.Info("leader elected: took over an expired lease", "from", l.TakenOverFrom)
	} else {
		log.Info("leader elected")
	}

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- duties(lctx, fence) }()

	renewCtx := context.WithoutCancel(ctx)
	results := make(chan renewal, 1)
	renewAt := sent.Add(e.o.RenewEvery)
	inflight := false
	stopping := false
	var dutiesErr error
	dutiesDone := false
	release := true
	reason := ""
loop:
	for {
		e.update(func(*Status) {})
		e.mu.Lock()
		deadline := e.deadline
		e.mu.Unlock()
		var renewC <-chan time.Time
		if !inflight {
			renewC = c.After(max(renewAt.Sub(c.Now()), 0))
		}
		ctxDone := ctx.Done()
		if stopping {
			ctxDone = nil
		}
		select {
		case <-ctxDone:
			// Shutting down: the duties finish what they are doing (a
			// remediation in flight) under a lease still renewed.
			stopping = true
			cancel()
			log.Info("stopping: waiting for the leader duties to finish")
		case dutiesErr = <-done:
			dutiesDone = true
			reason = "the duties ended"
			if dutiesErr != nil && !stopping {
				reason = "the duties failed: " + dutiesErr.Error()
			}
			break loop
		case <-c.After(max(deadline.Sub(c.Now()), 0)):
			reason = fmt.Sprintf("no renewal confirmed within %v of the last one sent; the lease may expire in %v", e.o.TTL-e.o.Margin, e.o.Margin)
			break loop
		case <-renewC:
			inflight = true
			s := c.Now()
			rctx, rcancel := context.WithTimeout(renewCtx, max(deadline.Sub(s), time.Millisecond))
			go func() {
				defer rcancel()
				nl, err := e.o.Store.RenewLease(rctx, fence, e.o.TTL)
				results <- renewal{s, nl, err}
			}()
		case r := <-results:
			inflight = false
			e.contact(r.err)
			switch {
			case r.err == nil:
				e.mu.Lock()
				if d := r.sent.Add(e.o.TTL - e.o.Margin); d.After(e.deadline) {
					e.deadline = d
				}
				e.mu.Unlock()
				renewAt = r.sent.Add(e.o.RenewEvery)
			case errors.Is(r.err, store.ErrFenced):
				reason = "the renewal was refused: " + r.err.Error()
				release = false
				break loop
			default:
				retry := max(e.o.RenewEvery/5, time.Millisecond)
				log.Warn("renewing the lease failed; retrying", "err", r.err, "in", retry)
				renewAt = c.Now().Add(retry)
			}
		}
	}
	// Stop acting first: nothing may run as leader past this point.
	e.mu.Lock()
	e.st.Leader, e.deadline, e.st.Since = false, time.Time{}, c.Now()
	e.mu.Unlock()
	cancel()
	if stopping {
		log.Info("leadership given up: shutting down")
	} else {
		log.Warn("leadership lost", "reason", reason)
	}
	if !dutiesDone {
		dutiesErr = <-done
	}
	if release {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.ReleaseTimeout)
		err := e.o.Store.ReleaseLease(rctx, fence)
		rcancel()
		switch {
		case err == nil:
			log.Info("lease released")
		case errors.Is(err, store.ErrFenced):
		default:
			log.Warn("releasing the lease failed; it expires by itself", "err", err)
		}
	}
	if stopping || !dutiesDone {
		return nil // shut down, or lost: what the duties said after that is moot
	}
	// The duties ended by themselves while this replica led.
	if dutiesErr != nil && !errors.Is(dutiesErr, ErrStepDown) && !errors.Is(dutiesErr, store.ErrFenced) && !errors.Is(dutiesErr, context.Canceled) {
		return fmt.Errorf("leading (%s epoch %d): %w", e.o.Name, l.Epoch, dutiesErr)
	}
	// Not at once: a replica whose duties fail should not win the lease
	// straight back.
	select {
	case <-ctx.Done():
	case <-c.After(e.o.Period):
	}
	return nil
}
