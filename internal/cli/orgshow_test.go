package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOrgShowGolden pins the rendering of `org show` (run with -update to
// rewrite testdata/org/*.golden after an intended change).
func TestOrgShowGolden(t *testing.T) {
	snap := generated(t, 40, "2")
	tests := []struct {
		name, golden string
		args         []string
	}{
		{"the full tree", "show-full.golden", []string{"org", "show", "--snapshot", snap}},
		{"OUs only, two levels", "show-depth2.golden", []string{"org", "show", "--snapshot", snap, "--depth", "2", "--accounts=false"}},
		{"the JSON tree of one OU", "show-security.json.golden", []string{"org", "show", "--snapshot", snap, "/Security", "--json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			path := filepath.Join("testdata", "org", tt.golden)
			if updateGolden() {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(stdout, string(want)); diff != "" {
				t.Errorf("%v (-got +want):\n%s", tt.args, diff)
			}
		})
	}
}
