package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownActionsAndInvalidPoliciesAgree checks issue 17, item 2: an
// action the catalog does not know is a warning naming the nearest catalog
// actions in policy validate, plan and simulate; and policy validate and
// plan agree that an SCP without Resource is an error.
func TestUnknownActionsAndInvalidPoliciesAgree(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := write("typo.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObjekt","Resource":"*"}]}`)
	noResource := write("no-resource.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject"}]}`)
	snap := generated(t, 40, "1")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout or stderr
	}{
		{"policy validate warns about a typo, naming the nearest action", []string{"policy", "validate", "--kind", "scp", typo},
			ExitOK, `typo.json:1:64: warning: action "s3:GetObjekt" is not in catalog dated`},
		{"the warning suggests s3:GetObject", []string{"policy", "validate", "--kind", "scp", typo}, ExitOK, "did you mean s3:GetObject"},
		{"plan warns about the same typo and still plans", []string{"plan", "create-policy", "--name", "deny-typo", "--file", typo, "--snapshot", snap},
			ExitOK, "did you mean s3:GetObject"},
		{"simulate warns about an unknown requested action", []string{"simulate", "--principal", "arn:aws:iam::111122223333:role/r",
			"--action", "s3:GetObjekt", "--resource", "*", "--identity-policy", typo}, ExitOK, "--action: action \"s3:GetObjekt\" is not in catalog"},
		{"simulate warns about an unknown action in a policy", []string{"simulate", "--principal", "arn:aws:iam::111122223333:role/r",
			"--action", "s3:GetObject", "--resource", "*", "--identity-policy", typo}, ExitOK, "typo.json:1:64: warning"},
		{"policy validate: an SCP without Resource is an error", []string{"policy", "validate", "--kind", "scp", noResource},
			ExitFailure, "missing-resource"},
		{"plan: the same SCP is bad input, with the same finding", []string{"plan", "create-policy", "--name", "no-resource", "--file", noResource, "--snapshot", snap},
			ExitBadInput, "missing-resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("orgguard %s exited %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("orgguard %s does not say %q\nstdout:\n%s\nstderr:\n%s", strings.Join(tt.args, " "), tt.want, stdout, stderr)
			}
		})
	}
}
