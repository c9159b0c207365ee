package awsorg

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// progress reports a snapshot read: accounts read, and parents (root and
// OUs) whose accounts have been listed out of those found so far — the
// total number of accounts is not known until the walk ends. On a terminal
// it redraws one line with a bar at most ten times a second; on anything
// else it writes a plain line every few seconds and one at the end.
type progress struct {
	w    io.Writer
	tty  bool
	now  func() time.Time
	mu   sync.Mutex
	last time.Time

	accounts, parents, parentsDone int
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		return nil
	}
	p := &progress{w: w, now: time.Now}
	if f, ok := w.(*os.File); ok {
		p.tty = isatty.IsTerminal(f.Fd())
	}
	p.last = p.now()
	return p
}

func (p *progress) accountsRead(n int) { p.update(func() { p.accounts += n }) }
func (p *progress) parentQueued()      { p.update(func() { p.parents++ }) }
func (p *progress) parentDone()        { p.update(func() { p.parentsDone++ }) }

func (p *progress) update(f func()) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now := p.now(); now.Sub(p.last) >= every {
		p.last = now
		p.draw(false)
	}
}

func (p *progress) draw(final bool) {
	if !p.tty {
		fmt.Fprintf(p.w, "reading organization: %d accounts, %d/%d OUs and root listed\n", p.accounts, p.parentsDone, p.parents)
		return
	}
	const width = 30
	filled := 0
	if p.parents > 0 {
		filled = width * p.parentsDone / p.parents
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '='
		}
	}
	fmt.Fprintf(p.w, "\r\x1b[Kreading organization [%s] %d accounts, %d/%d OUs", bar, p.accounts, p.parentsDone, p.parents)
	if final {
		fmt.Fprintln(p.w)
	}
}

func (p *progress) done(err error) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil && p.tty {
		fmt.Fprintln(p.w)
		return
	}
	if err == nil {
		p.draw(true)
	}
}
