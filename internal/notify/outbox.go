package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// Enqueue writes m to the outbox, in tx, once for every channel that c
// routes its kind and severity to, under the idempotency key
// base+"@"+channel. Enqueueing the same base again adds nothing: the
// decision to send can be retried safely. It returns how many messages
// were new.
func Enqueue(ctx context.Context, tx store.Tx, c Config, base string, m Message) (int, error) {
	return EnqueueTo(ctx, tx, c.Route(m.Kind, m.Severity), base, m)
}

// EnqueueTo is Enqueue to the named channels.
func EnqueueTo(ctx context.Context, tx store.Tx, channels []string, base string, m Message) (int, error) {
	if len(channels) == 0 {
		return 0, nil
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("encoding message %s: %w", base, err)
	}
	n := 0
	for _, ch := range channels {
		_, created, err := tx.EnqueueMessage(ctx, store.OutboxMessage{Key: base + "@" + ch, Channel: ch, Kind: m.Kind, IncidentID: m.IncidentID, Payload: payload})
		if err != nil {
			return n, err
		}
		if created {
			n++
		}
	}
	return n, nil
}

// Sender delivers the outbox: one worker per channel claims that channel's
// due messages under a lease, sends them (Channel.Parallel at a time) and
// records the outcome. A transient failure makes the message due again
// after Retry's backoff and pauses its channel as long; other channels go
// on. Run it on one process at a time per store for the fewest repeats
// (the leader in team mode); two senders never hold one message at once.
type Sender struct {
	Store    store.Store
	Channels map[string]Channel
	// Owner names this sender in leases (unique per process).
	Owner string
	Retry Retry
	Lease time.Duration
	Poll  time.Duration
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger
	// Jitter returns a number in [0, 1); nil: math/rand/v2.
	Jitter func() float64
	// OnSent, when set, is called after each delivery is recorded (tests
	// and measurements).
	OnSent func(m store.OutboxMessage)
	// Leading, when set, is asked right before each delivery whether
	// this sender may still send (in team mode: the elector's Leading,
	// true while this replica surely holds the leader lease). On an error
	// the message is not sent and stays with its claim, whose lease runs
	// out for the next leader. The store fences the claims themselves;
	// this check narrows the one window the store cannot see, between a
	// claim and its send, to the instant between the check and the
	// request — which the message's idempotency key covers at the
	// receiver.
	Leading func() error

	wakeOnce sync.Once
	wake     chan struct{}
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Sender) wakeCh() chan struct{} {
	s.wakeOnce.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

// Wake makes idle workers look for messages now.
func (s *Sender) Wake() {
	select {
	case s.wakeCh() <- struct{}{}:
	default:
	}
}

// Backoff returns the wait before retry number attempt (1, 2, ...).
func (r Retry) Backoff(attempt int, jitter float64) time.Duration {
	d := r.Initial
	for i := 1; i < attempt && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return time.Duration(float64(d) * (0.8 + 0.4*jitter))
}

// Run delivers until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, ch := range s.Channels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, ch)
		}()
	}
	wg.Wait()
	return nil
}

func (s *Sender) check() error {
	if s.Store == nil || s.Owner == "" || s.Lease <= 0 || s.Retry.Initial <= 0 || s.Retry.MaxAttempts < 1 {
		return errors.New("starting the outbox sender: store, owner, lease and retry are required")
	}
	return nil
}

func (s *Sender) worker(ctx context.Context, ch Channel) {
	poll := s.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	fails := 0
	for ctx.Err() == nil {
		n, failed, err := s.round(ctx, ch)
		wait := time.Duration(0)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log().Warn("outbox: reading the store failed; retrying", "channel", ch.Name(), "err", err)
			}
			wait = poll
		case failed:
			fails++
			wait = s.Retry.Backoff(fails, s.jitter())
		case n == 0:
			fails = 0
			wait = poll
		default:
			fails = 0
		}
		if wait == 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-s.wakeCh():
			if failed {
				<-t.C // a channel that is down keeps its pause
			}
		}
		t.Stop()
	}
}

// markSentRetry is the pause between attempts to record a message sent.
const markSentRetry = 100 * time.Millisecond

// markSent records m sent. The message has left: when the store does not
// answer (a database restarting, a dropped connection) it tries again
// until m's claim runs out, so that a short outage does not make the next
// claim send it a second time. A fenced store (this replica no longer
// leads) is not retried: the next leader re-sends the message, with the
// same idempotency key.
func (s *Sender) markSent(ctx context.Context, m store.OutboxMessage, at, until time.Time) error {
	// The claim's remaining time, counted on the real clock from now.
	stop := time.Now().Add(until.Sub(s.now()))
	for tries := 1; ; tries++ {
		err := s.Store.MarkSent(ctx, m.ID, at)
		if err == nil {
			if tries > 1 {
				s.log().Info("outbox: recorded the message sent after the store came back", "key", m.Key, "tries", tries)
			}
			return nil
		}
		if errors.Is(err, store.ErrFenced) || errors.Is(err, store.ErrInvalid) || !time.Now().Add(markSentRetry).Before(stop) {
			return err
		}
		if tries == 1 {
			s.log().Warn("outbox: recording a sent message failed; retrying while its claim lasts", "key", m.Key, "err", err)
		}
		time.Sleep(markSentRetry)
	}
}

func (s *Sender) jitter() float64 {
	if s.Jitter != nil {
		return s.Jitter()
	}
	return rand.Float64()
}

// Drain sends every message that is due now, channel by channel, until
// none is left or a channel fails (its messages wait for their retry). It
// returns how many were sent.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	total := 0
	for _, ch := range s.Channels {
		for {
			n, failed, err := s.round(ctx, ch)
			total += n
			if err != nil {
				return total, err
			}
			if failed || n == 0 {
				break
			}
		}
	}
	return total, nil
}

// round claims one batch of ch's due messages and delivers it. It returns
// how many were handled and whether a transient failure happened.
func (s *Sender) round(ctx context.Context, ch Channel) (int, bool, error) {
	par := max(ch.Parallel(), 1)
	limit := par * 4
	if par == 1 {
		limit = 1 // in order: the next message waits until this one is through
	}
	now := s.now()
	msgs, err := s.Store.ClaimMessages(ctx, store.ClaimRequest{Channel: ch.Name(), Owner: s.Owner, Now: now, Until: now.Add(s.Lease), Limit: limit})
	if err != nil || len(msgs) == 0 {
		return 0, false, err
	}
	// Outcomes are recorded even when ctx ends during the send: a message
	// that left must be marked sent.
	rec := context.WithoutCancel(ctx)
	var mu sync.Mutex
	var failed bool
	var firstErr error
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	until := now.Add(s.Lease)
	for _, m := range msgs {
		sem <- struct{}{}
		if s.Leading != nil && s.Leading() != nil {
			<-sem
			continue
		}
		if !s.now().Before(until) {
			// The lease ran out while earlier messages were slow: another
			// sender may hold this one now. Leave it to the lease.
			<-sem
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			transient, err := s.deliver(ctx, rec, ch, m, until)
			mu.Lock()
			defer mu.Unlock()
			failed = failed || transient
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return len(msgs), failed, firstErr
}

// deliver sends m once and records the outcome; transient reports a
// failure worth retrying; err is a store error. until is when m's claim
// runs out.
func (s *Sender) deliver(ctx, rec context.Context, ch Channel, m store.OutboxMessage, until time.Time) (transient bool, err error) {
	d, derr := DecodeDelivery(m.Key, m.Attempts, m.Payload)
	if derr == nil && s.Leading != nil {
		if err := s.Leading(); err != nil {
			return false, nil // not sent: the claim's lease hands it on
		}
	}
	if derr == nil {
		derr = ch.Send(ctx, d)
	}
	now := s.now()
	switch {
	case derr == nil:
		if err := s.markSent(rec, m, now, until); err != nil {
			return false, err
		}
		if s.OnSent != nil {
			m.State, m.SentAt = store.OutboxSent, now
			s.OnSent(m)
		}
		return false, nil
	case ctx.Err() != nil:
		// Stopping: leave the message to its lease (it may have left).
		return false, nil
	case errors.Is(derr, ErrPermanent) || m.Attempts >= s.Retry.MaxAttempts:
		s.log().Error("outbox: message dead", "channel", ch.Name(), "key", m.Key, "attempts", m.Attempts, "err", derr.Error())
		return false, s.Store.MarkFailed(rec, m.ID, s.Owner, now, derr.Error(), true)
	}
	next := now.Add(s.Retry.Backoff(m.Attempts, s.jitter()))
	s.log().Warn("outbox: delivery failed; will retry", "channel", ch.Name(), "key", m.Key, "attempt", m.Attempts, "next", next, "err", derr.Error())
	return true, s.Store.MarkFailed(rec, m.ID, s.Owner, next, derr.Error(), false)
}
