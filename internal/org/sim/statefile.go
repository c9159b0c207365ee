package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// One state file, one writer at a time.
//
// Several processes may open the same state file: `orgguard sim serve` and
// the CLI with the simulated backend, say. Each keeps the organization in
// memory, so without care the last to write would silently overwrite what
// the others wrote. Every change therefore runs under an exclusive advisory
// lock (flock(2)) on "<state>.lock", and before changing anything the
// writer re-reads the state file if it changed on disk since this Org last
// read or wrote it. Reads re-read a changed file too (without the lock:
// saves are atomic renames, so a reader always sees a whole file). A writer
// that cannot get the lock within Options.LockTimeout gets a
// ConcurrentModificationException naming the lock file; it never writes
// without it.

// DefaultLockTimeout is how long a change waits for another process's
// change to the same state file to finish.
const DefaultLockTimeout = 10 * time.Second

// ErrStateLocked is returned (wrapped) by Open and OpenOrCreate when the
// state file stays locked by another process for longer than the lock
// timeout. Changes report the same condition as an *org.APIError with code
// ConcurrentModificationException.
var ErrStateLocked = errors.New("the state file is locked by another process")

// LockPath returns the lock file that serialises the writers of the state
// file statePath.
func LockPath(statePath string) string { return statePath + ".lock" }

// lockState takes the lock of the state file statePath, waiting up to
// timeout (or until ctx is done) while another process holds it. Closing
// the returned file releases the lock.
func lockState(ctx context.Context, statePath string, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(LockPath(statePath), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking the state file %s: %w", statePath, err)
	}
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking the state file %s: %w", statePath, err)
		}
		if ok {
			return f, nil
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, fmt.Errorf("locking the state file %s: %w (%s held for more than %v)", statePath, ErrStateLocked, LockPath(statePath), timeout)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("locking the state file %s: %w", statePath, ctx.Err())
		case <-t.C:
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

func lockTimeoutOf(opts Options) time.Duration {
	if opts.LockTimeout > 0 {
		return opts.LockTimeout
	}
	return DefaultLockTimeout
}

// lockWrite takes o.mu for a change and, when the Org has a state file,
// that file's lock; then it re-reads the state if another process changed
// it. unlockWrite undoes it.
func (o *Org) lockWrite(ctx context.Context) error {
	o.mu.Lock()
	if o.opts.StatePath == "" {
		return nil
	}
	f, err := lockState(ctx, o.opts.StatePath, lockTimeoutOf(o.opts))
	if err != nil {
		o.mu.Unlock()
		if errors.Is(err, ErrStateLocked) {
			return &org.APIError{Code: org.CodeConcurrentModification, Message: "AWS Organizations can't complete your request because it conflicts with another attempt to modify the same entity: " + err.Error()}
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return &org.APIError{Code: org.CodeService, Message: err.Error()}
	}
	o.lockFile = f
	if err := o.refreshLocked(); err != nil {
		o.unlockWrite()
		return err
	}
	return nil
}

func (o *Org) unlockWrite() {
	if o.lockFile != nil {
		o.lockFile.Close() // releases the flock
		o.lockFile = nil
	}
	o.mu.Unlock()
}

// lockRead takes o.mu for reading, after re-reading the state file if
// another process changed it.
func (o *Org) lockRead(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.opts.StatePath != "" {
		o.mu.RLock()
		seen := o.seen
		o.mu.RUnlock()
		if fi, err := os.Stat(o.opts.StatePath); err == nil && !sameVersion(seen, fi) {
			o.mu.Lock()
			err := o.refreshLocked()
			o.mu.Unlock()
			if err != nil {
				return err
			}
		}
	}
	o.mu.RLock()
	return nil
}

// sameVersion reports whether two stats describe the same version of the
// state file. Saves replace the file by renaming a new one over it, so a
// new version is a new file; size and modification time (in nanoseconds)
// tell it apart from an old inode number reused.
func sameVersion(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// refreshLocked re-reads the state file when it is not the version this
// Org last read or wrote. A missing file keeps the organization in memory
// (the next change writes it again); an unreadable one is a
// ServiceException and leaves memory as it was. o.mu held for writing.
func (o *Org) refreshLocked() error {
	fi, err := os.Stat(o.opts.StatePath)
	if errors.Is(err, os.ErrNotExist) || (err == nil && sameVersion(o.seen, fi)) {
		return nil
	}
	s, fi, err := readState(o.opts.StatePath)
	if err != nil {
		return &org.APIError{Code: org.CodeService, Message: "the state file changed on disk and cannot be read: " + err.Error()}
	}
	o.reset(s, true) // s was just read: nobody else has it
	o.seen = fi
	return nil
}

// readState reads and parses the state file, returning the stat of the
// very file read.
func readState(path string) (*org.Snapshot, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	s, err := org.ParseSnapshot(data, path)
	if err != nil {
		return nil, nil, fmt.Errorf("state file is corrupt: %w", err)
	}
	return s, fi, nil
}
