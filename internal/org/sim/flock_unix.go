//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package sim

import (
	"errors"
	"os"
	"syscall"
)

// fileLocking reports whether lockFile really excludes other processes.
const fileLocking = true

// tryLock takes an exclusive advisory lock (flock(2)) on f without
// blocking; it reports false when another open file description holds it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}
