package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// The public status is served from memory. A statusCache holds the
// current model of the page (app.PublicPage) and, per model, each
// response rendered from it (the page, its fragment, the feed, each JSON
// document, in each language) the first time one is asked for. Requests
// never read the store themselves: at most once per refresh interval one
// of them asks the application layer for the status's version (three
// small reads); only when the version moved is the model read again, and
// the responses rendered again, once each. Other requests meanwhile do not
// make checks of their own (a single flight): they are answered with the
// status as it was before the check (or, at start-up, wait for it), and
// requests within the interval are answered without waiting at all.

// statusSource reads the public status: the application layer, or a
// fake in tests.
type statusSource interface {
	PublicStatusVersion(ctx context.Context) (string, error)
	PublicStatus(ctx context.Context) (app.PublicPage, error)
}

// statusRefresh is how long a checked status is served before the
// version is checked again.
const statusRefresh = time.Second

// statusReadTimeout bounds one check and rebuild, which runs on behalf of
// every request waiting for it and so is not cancelled with the one that
// started it.
const statusReadTimeout = 10 * time.Second

type statusCache struct {
	src     statusSource
	refresh time.Duration // 0: check on every request
	now     func() time.Time
	log     *slog.Logger

	cur    atomic.Pointer[statusSnapshot]
	mu     sync.Mutex
	flight *statusFlight // the check in progress, if any
}

// statusFlight is one check in progress; done closes when it ends.
type statusFlight struct {
	done chan struct{}
	snap *statusSnapshot
	err  error
}

func newStatusCache(src statusSource, refresh time.Duration, log *slog.Logger) *statusCache {
	return &statusCache{src: src, refresh: refresh, now: time.Now, log: log}
}

// statusSnapshot is one model of the page and what was rendered from it.
type statusSnapshot struct {
	page    app.PublicPage
	checked time.Time // when its version was last found current
	outputs *statusOutputs
}

// statusOutputs are the responses rendered from one model, shared by the
// snapshots of the same version.
type statusOutputs struct {
	mu sync.Mutex
	m  map[outputKey]*statusOutput
}

// outputKey names one response: its kind ("page", "fragment", "feed",
// "api/summary", ...), language and path.
type outputKey struct {
	kind, lang, path string
}

// statusOutput is one rendered response.
type statusOutput struct {
	once sync.Once
	body []byte
	etag string
	err  error
}

// get returns the current snapshot, checking the version first when the
// interval has passed (one check at a time; the others wait for it).
func (c *statusCache) get(ctx context.Context) (*statusSnapshot, error) {
	if s := c.cur.Load(); s != nil && c.fresh(s) {
		return s, nil
	}
	c.mu.Lock()
	if s := c.cur.Load(); s != nil && c.fresh(s) {
		c.mu.Unlock()
		return s, nil
	}
	f := c.flight
	leader := f == nil
	if leader {
		f = &statusFlight{done: make(chan struct{})}
		c.flight = f
	}
	c.mu.Unlock()
	if !leader {
		// Another request is checking: answer with the status as it was
		// a moment ago rather than wait (there is none at start-up).
		if s := c.cur.Load(); s != nil {
			return s, nil
		}
	}
	if leader {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusReadTimeout)
		f.snap, f.err = c.check(rctx, c.cur.Load())
		cancel()
		c.mu.Lock()
		if f.err == nil {
			c.cur.Store(f.snap)
		}
		c.flight = nil
		c.mu.Unlock()
		close(f.done)
	}
	select {
	case <-f.done:
		return f.snap, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *statusCache) fresh(s *statusSnapshot) bool {
	return c.refresh > 0 && c.now().Sub(s.checked) < c.refresh
}

// check reads the version and, when it moved, the model. When the store
// cannot be read and a model is known, that model is served on (the
// failure is logged, and retried after the interval) rather than
// failing the page.
func (c *statusCache) check(ctx context.Context, old *statusSnapshot) (*statusSnapshot, error) {
	now := c.now()
	stale := func(err error) (*statusSnapshot, error) {
		if old == nil {
			return nil, err
		}
		c.log.WarnContext(ctx, "reading the public status; serving the last one read", "version", old.page.Version, "err", err)
		return &statusSnapshot{page: old.page, checked: now, outputs: old.outputs}, nil
	}
	v, err := c.src.PublicStatusVersion(ctx)
	if err != nil {
		return stale(fmt.Errorf("reading the public status's version: %w", err))
	}
	if old != nil && v == old.page.Version {
		return &statusSnapshot{page: old.page, checked: now, outputs: old.outputs}, nil
	}
	page, err := c.src.PublicStatus(ctx)
	if err != nil {
		return stale(fmt.Errorf("reading the public status: %w", err))
	}
	return &statusSnapshot{page: page, checked: now, outputs: &statusOutputs{m: map[outputKey]*statusOutput{}}}, nil
}

// output returns the response k of the snapshot, rendering it with render
// the first time. Concurrent first requests render it once.
func (s *statusSnapshot) output(k outputKey, render func() ([]byte, error)) *statusOutput {
	s.outputs.mu.Lock()
	o, ok := s.outputs.m[k]
	if !ok {
		o = &statusOutput{}
		s.outputs.m[k] = o
	}
	s.outputs.mu.Unlock()
	o.once.Do(func() {
		o.body, o.err = render()
		sum := sha256.Sum256(o.body)
		o.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
	return o
}
