// Package atomicfile replaces files so that a crash leaves either the old
// or the new content, never a mix, and cleans up after writes that were
// interrupted. The simulator's state file, snapshot files and plan files
// are written through it.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TempSuffix marks the temporary files Write creates; a file
// named "<name>" + TempSuffix + "*" next to <name> is a leftover of an
// interrupted write and may be removed.
const TempSuffix = ".tmp-"

// Write replaces path with data so that a crash leaves either the
// old or the new content, never a mix: it writes a temporary file in the
// same directory, syncs it, renames it over path and syncs the directory.
func Write(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+TempSuffix+"*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory of %s: %w", path, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory of %s: %w", path, err)
	}
	return nil
}

// RemoveStale removes temporary files left next to path by
// Write calls that were interrupted. It returns the names removed.
func RemoveStale(path string) ([]string, error) {
	matches, err := filepath.Glob(globEscape(path) + TempSuffix + "*")
	if err != nil {
		return nil, fmt.Errorf("looking for leftover temporary files of %s: %w", path, err)
	}
	var removed []string
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("removing leftover temporary file: %w", err)
		}
		removed = append(removed, m)
	}
	return removed, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(s)
}
