package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	os.WriteFile(small, []byte("12345"), 0o644)
	os.WriteFile(big, []byte(strings.Repeat("x", 2<<20+1)), 0o644)
	t.Run("a file within the limit is read whole", func(t *testing.T) {
		b, err := Read(small, 5, "change file")
		if err != nil || string(b) != "12345" {
			t.Fatalf("Read(small, 5) = %q, %v", b, err)
		}
	})
	t.Run("a file over the limit is refused naming the limit", func(t *testing.T) {
		_, err := Read(big, 2<<20, "change file")
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "a change file is at most 2 MiB") {
			t.Fatalf("Read(big) = %v, want ErrTooLarge naming 2 MiB", err)
		}
	})
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := Read(filepath.Join(dir, "nope"), 10, "change file"); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Read(nope) = %v, want ErrNotExist", err)
		}
	})
}
