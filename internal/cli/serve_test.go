package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
	for path, want := range map[string]string{"/healthz": `"ok"`, "/readyz": `"ready"`, "/": "All systems operational"} {
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
