package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if code := Run(ctx, []string{"demo", "--dir", dir, "--accounts", "300"}, strings.NewReader(""), &out, &errb); code != ExitOK {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	t.Logf("demo took %s", time.Since(start).Round(10*time.Millisecond))
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
