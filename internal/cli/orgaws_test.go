package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// TestOrgSnapshotThroughTheAWSBackend configures backend.type aws with the
// simulator's wire server as endpoint: the snapshot read through the SDK
// matches the simulated organization.
func TestOrgSnapshotThroughTheAWSBackend(t *testing.T) {
	s, err := generate.Organization(generate.Options{Accounts: 60, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o, err := sim.New(s, sim.Options{StatePath: filepath.Join(dir, "sim.json")})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(simserver.New(o, simserver.Options{}))
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_PROFILE", "")
	cfg := filepath.Join(dir, "orgguard.yaml")
	if err := os.WriteFile(cfg, []byte("backend:\n  type: aws\n  aws:\n    endpoint: "+srv.URL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "aws.json")
	code, stdout, stderr := orgRun(t, "org", "snapshot", "--config", cfg, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("org snapshot through the AWS backend = %d: %s", code, stderr)
	}
	var sum struct {
		Accounts int
		APICalls int `json:"apiCalls"`
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Accounts != 60 || sum.APICalls == 0 {
		t.Errorf("summary = %q (%v), want 60 accounts and a call count", stdout, err)
	}
	got, err := org.ReadSnapshotFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Tags are not read by default; everything else must agree.
	want := s.Clone()
	for i := range want.Accounts {
		want.Accounts[i].Tags = nil
	}
	if changes := org.Diff(org.MustIndex(want), org.MustIndex(got)); len(changes) != 0 {
		t.Errorf("the AWS backend's snapshot differs from the simulated organization: %v", changes)
	}
	if fp := org.ComputeFingerprint(want); got.Fingerprint != fp {
		t.Errorf("fingerprint through the AWS backend = %s, want %s (a field is lost on the way)", got.Fingerprint, fp)
	}
}
