package simserver_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org/simserver"
)

// A bounded load test on 127.0.0.1: clients that start ListAccounts
// listings and never page further (each first page leaves a list in the
// page cache) must not grow the server's memory past the cache's bound.
// It sends a fixed number of requests and stops after a fixed time
// whichever comes first. ORGGUARD_LOAD_ACCOUNTS, _REQUESTS and _CACHE_MIB
// change its size (see docs/simulator.md for measurements).
func TestLoadPagingCacheKeepsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv("ORGGUARD_LOAD_" + name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	accounts, requests, cacheMiB := env("ACCOUNTS", 2000), env("REQUESTS", 300), env("CACHE_MIB", 4)
	const clients, deadline = 4, 60 * time.Second

	o, _ := newSim(t, accounts)
	srv := simserver.New(o, simserver.Options{PageCacheBytes: int64(cacheMiB) << 20})
	ts := httptest.NewServer(srv) // 127.0.0.1
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	var sent atomic.Int64
	stop := time.Now().Add(deadline)
	round := func(n int) {
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for sent.Add(1) <= int64(n) && time.Now().Before(stop) {
					req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(`{"MaxResults": 20}`))
					req.Header.Set("Content-Type", simserver.ContentType)
					req.Header.Set("X-Amz-Target", simserver.TargetPrefix+"ListAccounts")
					resp, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("ListAccounts = %d", resp.StatusCode)
						return
					}
				}
				sent.Add(-1)
			})
		}
		wg.Wait()
	}
	base := heap()
	var samples []string
	var peak uint64
	for step := 1; step <= 6; step++ {
		round(requests * step / 6)
		h := heap()
		peak = max(peak, h)
		lists, bytes := srv.PageCacheStats()
		samples = append(samples, fmt.Sprintf("%d requests: heap %.1f MiB, cache %d lists %.1f MiB", min(sent.Load(), int64(requests)), mib(h), lists, mib(uint64(bytes))))
		if bytes > int64(cacheMiB)<<20 {
			t.Errorf("the page cache holds %d bytes, over its bound of %d MiB", bytes, cacheMiB)
		}
	}
	t.Logf("%d accounts, %d clients, cache bound %d MiB, heap before %.1f MiB:\n  %s", accounts, clients, cacheMiB, mib(base), strings.Join(samples, "\n  "))
	// Flat: beyond the bound itself, the heap may grow by transient
	// buffers only, not with the number of requests.
	if limit := base + uint64(cacheMiB)<<20*2 + 16<<20; peak > limit {
		t.Errorf("heap peaked at %.1f MiB, over %.1f MiB (baseline + twice the cache bound + 16 MiB)", mib(peak), mib(limit))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
