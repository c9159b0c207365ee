// Package webtest drives a headless Chromium from tests, for the pages of
// internal/web: navigate, read text, click, fill and submit forms, wait
// for text to appear (a page updated by an event stream), and save
// screenshots as test artifacts.
//
// Start skips the test when Chromium is missing, except under CI=true,
// where it fails (CI installs Debian's chromium package; see
// scripts/test-env.sh). ORGGUARD_CHROMIUM names another binary.
// Screenshots go to $ORGGUARD_ARTIFACTS when it is set, else to the
// test's temporary directory; their paths are logged.
package webtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Timeout bounds each action (a navigation, a query, a wait).
const Timeout = 15 * time.Second

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// Start starts Chromium with a fresh profile and stops it when the test
// ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := os.Getenv("ORGGUARD_CHROMIUM")
	if path == "" {
		path = DefaultChromium
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("webtest: no browser at %s (%v); CI installs Debian's chromium package (scripts/test-env.sh)", path, err)
		}
		t.Skipf("webtest: no browser at %s; install Debian's chromium package to run the browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("webtest: chromedp: "+format, args...)
	}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &Browser{t: t, ctx: ctx}
	// Subscribe to the console before the first page loads; starting
	// the browser here makes a failure to start fail this call.
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("webtest: starting %s: %v", path, err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// do runs steps with the action timeout, failing the test on error.
func (b *Browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("webtest: %s: %v", what, err)
	}
}

// Navigate opens url and waits for the page to load.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("opening "+url, chromedp.Navigate(url))
}

// Location returns the current page's URL.
func (b *Browser) Location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("webtest: reading the location: %v", err)
	}
	return loc
}

// Text returns the visible text of the first element matching the CSS
// selector, waiting for it to be visible.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
	if err != nil {
		b.t.Fatalf("webtest: reading the text of %s: %v", selector, err)
	}
	return text
}

// Attr returns an attribute of the first element matching selector ("" when
// it has none).
func (b *Browser) Attr(selector, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(selector), name, chromedp.NodeReady))
	if err != nil {
		b.t.Fatalf("webtest: reading %s of %s: %v", name, selector, err)
	}
	return v.Value
}

// WaitText waits until the text of the first element matching selector
// contains want: after a click that navigates, or on a page the server
// updates through an event stream. It keeps asking across navigations.
func (b *Browser) WaitText(selector, want string) {
	b.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.textContent.includes(%s); })()`,
		strconv.Quote(selector), strconv.Quote(want))
	deadline := time.Now().Add(Timeout)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("webtest: %s did not say %q within %v (last error: %v)", selector, want, Timeout, last)
}

// Click clicks the first element matching selector, once it is visible.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.do("clicking "+selector, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible))
}

// Fill replaces the value of the form field matching selector by typing
// value into it.
func (b *Browser) Fill(selector, value string) {
	b.t.Helper()
	b.do("filling "+selector, chromedp.Clear(chromedp.CSS(selector), chromedp.NodeVisible), chromedp.SendKeys(chromedp.CSS(selector), value, chromedp.NodeVisible))
}

// Submit submits the form of the element matching selector.
func (b *Browser) Submit(selector string) {
	b.t.Helper()
	b.do("submitting "+selector, chromedp.Submit(chromedp.CSS(selector), chromedp.NodeVisible))
}

// Screenshot saves a full-page PNG named after the test and name, and
// returns (and logs) its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("webtest: taking screenshot %s: %v", name, err)
	}
	dir := os.Getenv("ORGGUARD_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("webtest: making the artifact directory: %v", err)
	}
	path := filepath.Join(dir, fileName(b.t.Name()+"-"+name)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("webtest: saving screenshot %s: %v", name, err)
	}
	b.t.Logf("webtest: screenshot %s", path)
	return path
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func fileName(s string) string { return unsafeName.ReplaceAllString(s, "_") }

// Console returns what pages wrote to the console so far: console API
// calls, uncaught exceptions and browser log entries (a Content Security
// Policy violation is an "error" entry).
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// ConsoleErrors returns the console's errors and exceptions as text.
func (b *Browser) ConsoleErrors() []string {
	var out []string
	for _, m := range b.Console() {
		if m.IsException() || m.Type == "error" || m.Type == "assert" {
			text := m.String()
			if m.URL != "" {
				text += " (" + m.URL + ")"
			}
			out = append(out, text)
		}
	}
	return out
}
