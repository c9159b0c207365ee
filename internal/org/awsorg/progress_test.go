package awsorg

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestProgressDrawsABarOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	p := &progress{w: &buf, tty: true, now: func() time.Time { return now }, last: now}
	p.parentQueued()
	p.parentQueued()
	p.accountsRead(20) // within 100ms of the last draw: not drawn
	now = now.Add(time.Second)
	p.parentDone()
	now = now.Add(50 * time.Millisecond)
	p.parentDone() // too soon again
	if n := strings.Count(buf.String(), "\r"); n != 1 {
		t.Errorf("progress drew %d times in 150ms, want 1 (at most every 100ms): %q", n, buf.String())
	}
	p.done(nil)
	out := buf.String()
	for _, want := range []string{"\r\x1b[K", "[===============               ] 20 accounts, 1/2 OUs", "[==============================] 20 accounts, 2/2 OUs\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress on a terminal = %q, want it to contain %q", out, want)
		}
	}
}

func TestProgressEndsTheLineOnError(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, now: time.Now, last: time.Now()}
	p.done(errors.New("boom"))
	if buf.String() != "\n" {
		t.Errorf("progress after an error = %q, want a newline ending the bar", buf.String())
	}
	var nilProgress *progress
	nilProgress.accountsRead(3) // a nil progress is silent, not a panic
	nilProgress.done(nil)
}

func TestBackoffStaysWithinItsCeiling(t *testing.T) {
	j := jitterBackoff{base: 100 * time.Millisecond, max: time.Second}
	for attempt := 0; attempt < 70; attempt++ {
		ceil := time.Second
		if attempt <= 4 {
			ceil = 100 * time.Millisecond << max(attempt-1, 0)
		}
		for range 50 {
			d, err := j.BackoffDelay(attempt, nil)
			if err != nil || d < 0 || d >= ceil {
				t.Fatalf("BackoffDelay(%d) = %v, %v; want within [0, %v)", attempt, d, err, ceil)
			}
		}
	}
}
