package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store/storetest"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeAnswersUntilStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	store := filepath.Join(t.TempDir(), "orgguard.db")
	// A user to sign in as, with the command line, before the server runs.
	var out, errOut bytes.Buffer
	if c := Run(ctx, []string{"user", "add", "alice", "--role", "operator", "--password-stdin", "--store", store},
		strings.NewReader("correct horse battery staple\n"), &out, &errOut); c != ExitOK {
		t.Fatalf("user add exited %d: %s", c, errOut.String())
	}
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--json", "--store", store, "--log-level", "warn"},
			strings.NewReader(""), &stdout, &stderr)
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out struct{ URL string }
		if line, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			if err := json.Unmarshal([]byte(line), &out); err != nil {
				t.Fatalf("stdout %q is not JSON: %v", line, err)
			}
			url = out.URL
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d before listening\nstderr: %s", c, stderr.String())
		default:
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("serve printed URL %q, want http://127.0.0.1:PORT\nstderr: %s", url, stderr.String())
	}
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/": "All systems operational", "/signin": `name="password"`} {
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %.300s, want 200 with %s", path, res.StatusCode, body, want)
		}
	}
	// The dashboard's sign-in is wired: alice's password starts a session.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(url+"/signin", map[string][]string{"name": {"alice"}, "password": {"correct horse battery staple"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) == 0 {
		t.Errorf("signing in = %d with cookies %v, want 303 and the session cookie", res.StatusCode, res.Cookies())
	}
	cancel()
	select {
	case c := <-code:
		if c != ExitOK {
			t.Errorf("serve exited %d after its context ended, want 0\nstderr: %s", c, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"a listen address without a port", []string{"serve", "--listen", "localhost"}, "--listen: must be host:port"},
		{"a certificate without its key", []string{"serve", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"}, "go together"},
		{"an unknown log level", []string{"serve", "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--store", filepath.Join(t.TempDir(), "orgguard.db"))
			code, _, stderr := orgRun(t, args...)
			if code != ExitBadInput || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("orgguard %s = %d %q, want %d with %q", strings.Join(args, " "), code, stderr, ExitBadInput, tt.wantErr)
			}
		})
	}
}

// startServe runs `orgguard serve --listen 127.0.0.1:0 --json` with args
// until the test ends and returns its URL.
func startServe(t *testing.T, args ...string) (url string, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	stderr = &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--json", "--log-level", "info"}, args...),
			strings.NewReader(""), &stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case c := <-code:
			if c != ExitOK {
				t.Errorf("serve exited %d after its context ended, want 0\nstderr: %s", c, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var out struct{ URL string }
		if line, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			if err := json.Unmarshal([]byte(line), &out); err != nil {
				t.Fatalf("stdout %q is not JSON: %v", line, err)
			}
			return out.URL, stderr
		}
	}
	t.Fatalf("serve printed no URL\nstderr: %s", stderr.String())
	return "", nil
}

func TestServeHealthProbe(t *testing.T) {
	url, _ := startServe(t, "--store", filepath.Join(t.TempDir(), "orgguard.db"))
	addr := strings.TrimPrefix(url, "http://")
	code, stdout, stderr := orgRun(t, "serve", "--health", "--listen", addr)
	if code != ExitOK || !strings.Contains(stdout, `"status":"ok"`) {
		t.Errorf("serve --health on a running server = %d %q %q, want 0 with status ok", code, stdout, stderr)
	}
	nobody := strings.Replace(addr, addr[strings.LastIndex(addr, ":")+1:], "1", 1) // port 1: nothing listens
	if code, _, stderr := orgRun(t, "serve", "--health", "--listen", nobody); code != ExitFailure {
		t.Errorf("serve --health with nothing listening = %d %q, want %d", code, stderr, ExitFailure)
	}
}

// TestServeTeamReportsLeadership runs two team replicas on one PostgreSQL
// schema: one says it leads, the other follows, both at the same epoch.
func TestServeTeamReportsLeadership(t *testing.T) {
	dsn := storetest.PostgresSchemaURL(t, "og_serve_team")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orgguard.yaml")
	if err := os.WriteFile(cfg, []byte("backend:\n  type: sim\n  sim: {state: "+filepath.Join(dir, "sim.json")+", accounts: 20}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for range 2 {
		u, _ := startServe(t, "--team", "--config", cfg, "--store", dsn, "--lease-ttl", "2s", "--campaign-period", "200ms")
		urls = append(urls, u)
	}
	type body struct {
		Status string `json:"status"`
		Leader *bool  `json:"leader"`
		Epoch  *int64 `json:"epoch"`
	}
	get := func(u string) body {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b body
		if err := json.NewDecoder(res.Body).Decode(&b); err != nil || b.Leader == nil || b.Epoch == nil {
			t.Fatalf("GET %s: %v, body %+v; want leader and epoch", u, err, b)
		}
		return b
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		a, b := get(urls[0]+"/healthz"), get(urls[1]+"/readyz")
		if *a.Leader != *b.Leader && *a.Epoch == *b.Epoch && *a.Epoch > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz %+v / readyz %+v: want one leader and one follower at the same epoch", a, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, stdout, _ := orgRun(t, "serve", "--health", "--listen", strings.TrimPrefix(urls[0], "http://"))
	if code != ExitOK || !strings.Contains(stdout, `"leader":`) {
		t.Errorf("serve --health on a team replica = %d %q, want 0 with the leadership", code, stdout)
	}
}
