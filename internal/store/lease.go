package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Leases are named leadership leases held through the store: at most one
// holder per name at a time, for a time-to-live measured by the DATABASE's
// clock (PostgreSQL's clock_timestamp(); the store's clock on SQLite, whose
// single writer is one process), never by the replicas' clocks. Each new
// holder gets the next epoch, so an epoch names one uninterrupted tenure:
// a lease that lapsed, was released or was taken over is never renewed
// again, and its epoch never comes back.
//
// A holder proves its tenure to the store with a Fence (its name and
// epoch): Store.Fenced returns a view whose every write transaction checks,
// in the transaction, that the fence's epoch is current and unexpired.
type Leases interface {
	// AcquireLease takes the named lease for r.Holder for r.TTL when nobody
	// holds it or its holder's lease has expired, with the next epoch
	// (1 for the first holder). When it is held and unexpired — by anyone,
	// r.Holder included — the result is a *LeaseHeldError (errors.Is
	// ErrLeaseHeld) with the current record.
	AcquireLease(ctx context.Context, r LeaseRequest) (Lease, error)
	// RenewLease extends the lease f names by ttl from the database's now,
	// when f.Epoch is current and unexpired; otherwise the result is a
	// *FencedError (errors.Is ErrFenced): an expired lease is not renewed,
	// even when nobody took it over — its holder must acquire it again and
	// gets a new epoch.
	RenewLease(ctx context.Context, f Fence, ttl time.Duration) (Lease, error)
	// ReleaseLease ends the tenure f names at once (the lease expires now
	// and the epoch is kept, so that it never repeats). Releasing a tenure
	// that is already over is a *FencedError.
	ReleaseLease(ctx context.Context, f Fence) error
	// Lease returns the named lease's record, expired or not, with the
	// database's clock reading in At; ErrNotFound when it was never held.
	Lease(ctx context.Context, name string) (Lease, error)
}

// LeaseRequest asks for a lease.
type LeaseRequest struct {
	Name   string
	Holder string // who asks: unique per process (host, pid, a random part)
	TTL    time.Duration
}

// Lease is a lease's record. Every time in it is the database's.
type Lease struct {
	Name       string    `json:"name"`
	Holder     string    `json:"holder"` // "" once released
	Epoch      int64     `json:"epoch"`
	AcquiredAt time.Time `json:"acquired_at"`
	RenewedAt  time.Time `json:"renewed_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	// At is the database's clock when the record was written or read.
	At time.Time `json:"at"`
	// TakenOverFrom names the holder whose expired lease AcquireLease took
	// over ("" when the lease was free or released).
	TakenOverFrom string `json:"taken_over_from,omitempty"`
}

// Fence returns the fence of this tenure.
func (l Lease) Fence() Fence { return Fence{Name: l.Name, Epoch: l.Epoch} }

// Live reports whether the lease was unexpired at l.At.
func (l Lease) Live() bool { return l.Holder != "" && l.At.Before(l.ExpiresAt) }

// Fence names one tenure of a lease: the writes made under it are refused
// (ErrFenced) once that tenure is over.
type Fence struct {
	Name  string `json:"name"`
	Epoch int64  `json:"epoch"`
}

func (f Fence) String() string { return fmt.Sprintf("lease %q epoch %d", f.Name, f.Epoch) }

// ErrLeaseHeld: someone holds the lease and it has not expired.
var ErrLeaseHeld = errors.New("lease held")

// ErrFenced: the write was made under a lease tenure that is over (the
// lease expired, was released or was taken over by a newer epoch). The
// write was not made.
var ErrFenced = errors.New("fenced: the lease tenure is over")

// LeaseHeldError says who holds a lease the caller asked for.
type LeaseHeldError struct{ Current Lease }

func (e *LeaseHeldError) Error() string {
	c := e.Current
	return fmt.Sprintf("lease %q is held by %s (epoch %d) until %s unless renewed", c.Name, c.Holder, c.Epoch,
		c.ExpiresAt.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrLeaseHeld) true.
func (e *LeaseHeldError) Is(target error) bool { return target == ErrLeaseHeld }

// FencedError says why a tenure is over: Current is the lease as the
// database has it (zero when it was never held).
type FencedError struct {
	Fence   Fence
	Current Lease
}

func (e *FencedError) Error() string {
	c := e.Current
	switch {
	case c.Epoch == 0:
		return fmt.Sprintf("%v: %s is not held", ErrFenced, e.Fence)
	case c.Epoch != e.Fence.Epoch && c.Holder != "":
		return fmt.Sprintf("%v: %s was taken over; epoch %d is held by %s", ErrFenced, e.Fence, c.Epoch, c.Holder)
	case c.Epoch != e.Fence.Epoch:
		return fmt.Sprintf("%v: %s is over; epoch %d was released since", ErrFenced, e.Fence, c.Epoch)
	case c.Holder == "":
		return fmt.Sprintf("%v: %s was released", ErrFenced, e.Fence)
	}
	return fmt.Sprintf("%v: %s expired at %s (database time %s)", ErrFenced, e.Fence,
		c.ExpiresAt.UTC().Format(time.RFC3339Nano), c.At.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrFenced) true.
func (e *FencedError) Is(target error) bool { return target == ErrFenced }
