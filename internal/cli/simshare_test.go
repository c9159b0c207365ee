package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// startSimServe runs `orgguard sim serve` in process with args and returns
// its endpoint; the server stops at the end of the test.
func startSimServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- Run(ctx, append([]string{"sim", "serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...), strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("sim serve did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("sim serve printed no endpoint: %v (stderr: %s)", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return strings.TrimSpace(line)
}

// orgCall sends one AWS JSON 1.1 request and decodes the answer.
func orgCall(t *testing.T, endpoint, op string, in any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s = %d %v", op, resp.StatusCode, out)
	}
	return out
}

// The bug of issue 18: with `sim serve` running on the CLI's state file,
// an apply through the CLI was wiped by the server's next write. Now both
// write under the state file's lock and re-read what the other wrote.
func TestSimServeAndTheCLIShareOneState(t *testing.T) {
	c, dir := applyWorld(t)
	before := fingerprintOf(t, c) // creates the configured simulated organization
	endpoint := startSimServe(t, c)
	state := filepath.Join(dir, "sim-state.json")

	roots := orgCall(t, endpoint, "ListRoots", map[string]any{})
	rootID := roots["Roots"].([]any)[0].(map[string]any)["Id"].(string)
	orgCall(t, endpoint, "CreateOrganizationalUnit", map[string]any{"ParentId": rootID, "Name": "made-by-the-server-before"})

	planFile := filepath.Join(dir, "q.json")
	for _, args := range [][]string{
		{"plan", "quarantine", c, "--account", "beacon-retail-analytics", "--out", planFile},
		{"approve", c, planFile, "--by", "bob"},
		{"apply", c, planFile},
	} {
		if code, out, stderr := orgRun(t, args...); code != 0 {
			t.Fatalf("orgguard %s exited %d\n%s\n%s", strings.Join(args, " "), code, out, stderr)
		}
	}
	applied, err := org.ReadSnapshotFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if applied.Fingerprint == before {
		t.Fatal("the apply changed nothing in the state file")
	}
	if !hasOU(applied, "made-by-the-server-before") {
		t.Error("the CLI's apply lost the OU the server created before it")
	}

	// The server's next write must keep what the CLI applied.
	orgCall(t, endpoint, "CreateOrganizationalUnit", map[string]any{"ParentId": rootID, "Name": "made-by-the-server-after"})
	final, err := org.ReadSnapshotFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if !hasOU(final, "made-by-the-server-after") {
		t.Fatal("the server's write is not in the state file")
	}
	parents := map[string]string{}
	for _, a := range final.Accounts {
		parents[a.ID] = a.ParentID
	}
	for _, a := range applied.Accounts {
		if parents[a.ID] != a.ParentID {
			t.Errorf("account %s (%s) is in %s after the server's write, want %s as the apply left it", a.ID, a.Name, parents[a.ID], a.ParentID)
		}
	}
	attached := map[org.Attachment]bool{}
	for _, at := range final.Attachments {
		attached[at] = true
	}
	for _, at := range applied.Attachments {
		if !attached[at] {
			t.Errorf("attachment %v made by the apply was lost by the server's write", at)
		}
	}
	// And the server reads what the CLI applied.
	acct := ""
	for _, a := range applied.Accounts {
		if a.Name == "beacon-retail-analytics" {
			acct = a.ID
		}
	}
	got := orgCall(t, endpoint, "ListParents", map[string]any{"ChildId": acct})
	if p := got["Parents"].([]any)[0].(map[string]any)["Id"]; p != parents[acct] {
		t.Errorf("the server says %s is in %v, the state file says %s", acct, p, parents[acct])
	}
	if _, err := os.Stat(state + ".lock"); err != nil {
		t.Errorf("no lock file next to the state: %v", err)
	}
}

func hasOU(s *org.Snapshot, name string) bool {
	for _, u := range s.OUs {
		if u.Name == name {
			return true
		}
	}
	return false
}

func TestSimServeListensOnLoopbackOnly(t *testing.T) {
	state := generated(t, 10, "2")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"every interface is refused", []string{"--listen", ":0"}, "--allow-remote"},
		{"a non-loopback address is refused", []string{"--listen", "0.0.0.0:0"}, "not a loopback address"},
		{"an IPv6 any address is refused", []string{"--listen", "[::]:0"}, "not a loopback address"},
		{"a page cache below 1 MiB is refused", []string{"--page-cache-mib", "0"}, "--page-cache-mib"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := orgRun(t, append([]string{"sim", "serve", "--state", state}, tc.args...)...)
			if code != ExitBadInput || !strings.Contains(errOut, tc.want) {
				t.Errorf("sim serve %v = %d, %q; want exit 2 mentioning %s", tc.args, code, errOut, tc.want)
			}
		})
	}
	t.Run("a foreign Host header is refused, the listen address is served", func(t *testing.T) {
		endpoint := startSimServe(t, "--state", state)
		for _, tc := range []struct {
			host string
			want int
		}{
			{strings.TrimPrefix(endpoint, "http://"), http.StatusOK},
			{"localhost:4566", http.StatusOK},
			{"evil.example.com:4566", http.StatusForbidden},
		} {
			req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader("{}"))
			req.Host = tc.host
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.ListRoots")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("ListRoots with Host %s = %d, want %d", tc.host, resp.StatusCode, tc.want)
			}
		}
	})
}
