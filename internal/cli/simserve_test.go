package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSimServeRejectsBadFlags(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	if code, _, errOut := orgRun(t, "sim", "generate", "--accounts", "10", "--out", state); code != ExitOK {
		t.Fatalf("sim generate = %d: %s", code, errOut)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"a throttle rate above 1", []string{"--state", state, "--throttle-rate", "1.5"}, "--throttle-rate"},
		{"a negative conflict rate", []string{"--state", state, "--conflict-rate", "-0.1"}, "--conflict-rate"},
		{"a page size above 20", []string{"--state", state, "--page-size", "50"}, "--page-size"},
		{"an unknown log level", []string{"--state", state, "--log-level", "loud"}, "--log-level"},
		{"a missing state file", []string{"--state", filepath.Join(t.TempDir(), "none.json")}, "sim generate"},
		{"an address that cannot be parsed", []string{"--state", state, "--listen", "not-an-address"}, "cannot listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := orgRun(t, append([]string{"sim", "serve"}, tc.args...)...)
			if code != ExitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("sim serve %v = %d, %q; want exit 2 mentioning %s", tc.args, code, errOut, tc.want)
			}
		})
	}
}

func TestSimServeServesUntilCancelled(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	if code, _, errOut := orgRun(t, "sim", "generate", "--accounts", "10", "--out", state); code != ExitOK {
		t.Fatalf("sim generate = %d: %s", code, errOut)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"sim", "serve", "--listen", "127.0.0.1:0", "--state", state, "--log-level", "error"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the endpoint: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	endpoint := strings.TrimSpace(line)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("sim serve printed %q, want http://127.0.0.1:PORT", endpoint)
	}
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.ListRoots")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ListRoots: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"Roots"`) {
		t.Errorf("ListRoots = %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("sim serve after cancel exited %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim serve did not stop after its context was cancelled")
	}
}
