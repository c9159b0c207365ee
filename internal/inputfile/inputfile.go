// Package inputfile reads the files people hand to orgguard — change
// files, policy documents, Terraform plans, snapshots, plan files,
// configuration, case files — with a size limit per kind, so that a
// mistaken or hostile 100 MB (or endless) file is refused at once instead
// of being read into memory and stored whole.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// The limits per kind of input, in bytes.
const (
	// Policy documents: AWS's largest policy kind (a managed IAM policy)
	// is 6,144 characters, an SCP 5,120; the margin allows whitespace.
	Policy = 1 << 20
	// ChangeFile: a YAML change file (policies inline or referenced).
	ChangeFile = 1 << 20
	// Config: orgguard.yaml.
	Config = 1 << 20
	// Cases: a conformance case file.
	Cases = 64 << 20
	// TerraformPlan: `terraform show -json` of a large plan.
	TerraformPlan = 256 << 20
	// Snapshot: an organization snapshot (10,000 accounts are about 7 MB).
	Snapshot = 1 << 30
)

// ErrTooLarge marks a file over its limit (errors.Is).
var ErrTooLarge = errors.New("file too large")

// Read reads the file at path, refusing one larger than limit bytes; what
// names the kind of file in the message ("change file").
func Read(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	defer f.Close()
	// A regular file says its size: read it into a buffer of that size
	// (and room for the read that sees the end), made by one allocation
	// that is not cleared first — a 7 MB snapshot was copied many times
	// when the buffer grew from 512 bytes, and bytes.Buffer.Grow clears
	// the memory the read then overwrites (first touches of fresh memory
	// are a large part of a short command's time).
	n := 512
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Size() <= limit {
		n = int(fi.Size()) + 512
	}
	data := make([]byte, 0, n)
	for {
		m, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+m]
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("%s: %w: a %s is at most %s", path, ErrTooLarge, what, size(limit))
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", what, path, err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grows the buffer
		}
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
