//go:build unix

package apply

import (
	"errors"
	"syscall"
)

// processAlive reports whether process pid may still run on this host
// (anything but "no such process" counts as alive).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || !errors.Is(err, syscall.ESRCH)
}
