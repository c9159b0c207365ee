package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// receiver is a local HTTP endpoint standing in for a webhook consumer,
// Slack or PagerDuty. It records every request, counts deliveries per
// idempotency key, and can be "down" (answering 503, or refusing to
// connect once closed).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret []byte
	down   atomic.Bool
	check  func(r *http.Request, body []byte) int // extra checks; returns a status or 0

	mu     sync.Mutex
	byKey  map[string]int
	bodies [][]byte
	total  int
	bad    []string
}

func newReceiver(t testing.TB, secret []byte) *receiver {
	r := &receiver{t: t, secret: secret, byKey: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || !json.Valid(body) {
		r.bad = append(r.bad, "not a JSON POST: "+string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if r.secret != nil && !Verify(r.secret, req.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute) {
		r.bad = append(r.bad, "bad signature "+req.Header.Get(HeaderSignature))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.check != nil {
		if code := r.check(req, body); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	key := req.Header.Get(HeaderIdempotency)
	r.byKey[key]++
	r.total++
	r.bodies = append(r.bodies, body)
	w.WriteHeader(http.StatusAccepted)
}

func (r *receiver) snapshot() (byKey map[string]int, total int, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byKey = make(map[string]int, len(r.byKey))
	for k, v := range r.byKey {
		byKey[k] = v
	}
	return byKey, r.total, append([]string(nil), r.bad...)
}
