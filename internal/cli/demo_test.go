package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `orgguard demo` end to end — the refused deny-all, the
// approved quarantine and its rollback, then the out-of-band day on the
// served simulator — and checks the measured clock it writes to
// timeline.json: detected within 15 s, the notice drafts there at
// detection, recovered within 60 s, and the postmortem files written.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	aws := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(aws, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(aws, "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		t.Setenv(v, "")
	}
	dir := t.TempDir()
	var out, errb syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"demo", "--dir", dir, "--accounts", "300", "--serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), &out, &errb)
	}()
	url := demoWaitServing(t, ctx, &out, done)
	t.Logf("demo took %s to serve", time.Since(start).Round(10*time.Millisecond))
	demoCheckServed(t, url, out.String())
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c dayClock
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	t.Logf("clock: %s", b)
	if c.Detected < 0 || c.Detected > 15 {
		t.Errorf("detected %.1f s after the change, want ≤ 15 s", c.Detected)
	}
	if !slices.Contains(c.DraftsAtOpen, "ja") || !slices.Contains(c.DraftsAtOpen, "en") {
		t.Errorf("notice drafts at detection %v, want ja and en", c.DraftsAtOpen)
	}
	if c.Recovered < 0 || c.Recovered > 60 {
		t.Errorf("recovered %.1f s after the change, want ≤ 60 s", c.Recovered)
	}
	if c.Notice < 0 || c.Resolved < c.Recovered {
		t.Errorf("first notice %.1f s, resolved %.1f s (recovered %.1f s): want a notice and resolution after recovery", c.Notice, c.Resolved, c.Recovered)
	}
	if c.Accounts == 0 || c.Customers == 0 {
		t.Errorf("incident with %d accounts and %d customers, want its blast radius", c.Accounts, c.Customers)
	}
	for _, k := range []string{"incident.opened", "notice.published", "incident.resolved"} {
		if !slices.Contains(c.Webhook, k) {
			t.Errorf("webhook got %v, want %s among them", c.Webhook, k)
		}
	}
	for _, lang := range []string{"ja", "en"} {
		pm, err := os.ReadFile(filepath.Join(dir, "postmortem."+lang+".md"))
		if err != nil || !strings.Contains(string(pm), c.Incident) {
			t.Errorf("postmortem.%s.md: %v; want it to name %s", lang, err, c.Incident)
		}
	}
	for _, want := range []string{"refuse", "2023 accident", "~12 min, by a customer's phone call", "Compressed waits"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// demoWaitServing waits for `demo --serve` to print the URL it serves on.
func demoWaitServing(t *testing.T, ctx context.Context, out *syncBuffer, done <-chan int) string {
	t.Helper()
	re := regexp.MustCompile(`serving on (http://\S+)`)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("demo exited %d before serving:\n%s", code, out.String())
		case <-ctx.Done():
			t.Fatalf("demo did not serve: %v\n%s", ctx.Err(), out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoCheckServed checks what `demo --serve` serves: the public status page
// with the day's incident resolved, and the dashboard to a demo user signed
// in with the printed password.
func demoCheckServed(t *testing.T, base, out string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/incidents.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"status":"resolved"`) && !strings.Contains(string(body), `"status": "resolved"`) {
		t.Errorf("GET /api/v2/incidents.json = %d %s; want the day's incident, resolved", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`alice\s+operator\s+password (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo --serve printed no password for alice:\n%s", out)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", base+"/signin", strings.NewReader(neturl.Values{"name": {"alice"}, "password": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/team/plans")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `class="user">alice<`) || !strings.Contains(string(body), "plan-") {
		t.Errorf("GET /team/plans signed in as alice = %d; want the day's plans:\n%.2000s", resp.StatusCode, body)
	}
}
