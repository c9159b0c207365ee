package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTerraformPlanWithoutOrganizationsChanges checks that an unrelated
// Terraform plan passes a pull-request check: exit 0, "nothing to plan".
func TestTerraformPlanWithoutOrganizationsChanges(t *testing.T) {
	tf := filepath.Join(t.TempDir(), "tfplan.json")
	body := `{"format_version":"1.2","terraform_version":"1.9.0","resource_changes":[
	  {"address":"aws_s3_bucket.logs","mode":"managed","type":"aws_s3_bucket","name":"logs","provider_name":"registry.terraform.io/hashicorp/aws",
	   "change":{"actions":["create"],"before":null,"after":{"bucket":"logs"},"after_unknown":{}}}]}`
	if err := os.WriteFile(tf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := generated(t, 20, "1")
	for _, format := range []string{"text", "markdown", "json"} {
		t.Run(format, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, "plan", "--terraform-plan", tf, "--snapshot", snap, "--format", format)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr: %s", code, stderr)
			}
			want := map[string]string{"text": "Nothing to plan", "markdown": "nothing to plan", "json": `"nothingToPlan":true`}[format]
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout %q does not say %q", stdout, want)
			}
		})
	}
	t.Run("a real Organizations change is still planned", func(t *testing.T) {
		code, stdout, stderr := orgRun(t, "plan", "--terraform-plan", filepath.Join("..", "change", "testdata", "tfplan-deny-s3.json"), "--snapshot", generated(t, 40, "1"))
		if code != ExitOK && code != ExitRefused {
			t.Fatalf("exit %d; stderr: %s", code, stderr)
		}
		if !strings.Contains(stdout, "Blast radius") {
			t.Errorf("no plan printed:\n%s", stdout)
		}
	})
}
