package store

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrNotFound: the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a record with the same key exists (a plan ID, an
	// approval of the same plan by the same approver).
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the record is no longer in the state the caller expected.
	ErrConflict = errors.New("state conflict")
	// ErrInvalid: the caller passed a record the store refuses to keep
	// (empty key, unknown state, malformed JSON).
	ErrInvalid = errors.New("invalid record")
	// ErrLockHeld: someone else holds an unexpired lock.
	ErrLockHeld = errors.New("lock held")
	// ErrLockLost: the caller's lock token no longer holds the lock.
	ErrLockLost = errors.New("lock lost")
)

// LockHeldError says who holds a lock the caller wanted.
type LockHeldError struct {
	Name       string
	Holder     string
	AcquiredAt time.Time
	ExpiresAt  time.Time
}

func (e *LockHeldError) Error() string {
	return fmt.Sprintf("lock %q is held by %s since %s (until %s unless renewed)", e.Name, e.Holder,
		e.AcquiredAt.UTC().Format(time.RFC3339), e.ExpiresAt.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLockHeld) true.
func (e *LockHeldError) Is(target error) bool { return target == ErrLockHeld }

// StateConflictError says a record was not in the state the caller expected.
type StateConflictError struct {
	Kind    string // "plan", "change"
	ID      string
	Want    string // the state the caller expected
	Current string // the state the record is in
}

func (e *StateConflictError) Error() string {
	return fmt.Sprintf("%s %s is %s, not %s", e.Kind, e.ID, e.Current, e.Want)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *StateConflictError) Is(target error) bool { return target == ErrConflict }
