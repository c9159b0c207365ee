package policy

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports checks that the engine stays pure: it must not depend on the
// AWS SDK or on net/http (design notes §2).
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || strings.HasPrefix(dep, "github.com/aws/") {
			t.Errorf("internal/policy depends on %s", dep)
		}
	}
}
