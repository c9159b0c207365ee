package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// updateGolden reports whether -update was given: golden-file tests then
// rewrite their files under testdata/.
var updateGolden = func() func() bool {
	p := flag.Bool("update", false, "rewrite the golden files under testdata/")
	return func() bool { return *p }
}()

func evalFixture(name string) string { return filepath.Join("testdata", "eval", name) }

func TestEvalExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // substring
		wantStderr string // substring
	}{
		{"all cases passing exits 0", []string{"eval", evalFixture("pass.json")}, ExitOK, "2 passed, 0 failed\n", ""},
		{"a failing case exits 1", []string{"eval", evalFixture("mixed.json")}, ExitFailure, "2 passed, 1 failed\n", ""},
		{"a malformed case exits 2 with its place and the other files still run", []string{"eval", evalFixture("pass.json"), evalFixture("malformed.json")}, ExitBadInput, "2 passed, 0 failed, 1 errors\n",
			"malformed.json:4:64: cases[0].scps[0][0].Statement[0].Effect: "},
		{"an invalid case is counted and the other cases of its file run", []string{"eval", evalFixture("invalid.json")}, ExitBadInput, "1 passed, 1 failed, 1 errors\n",
			"invalid.json:20:65: cases[1].scps[0][0].Statement[0].Effect: "},
		{"an unusable file counts as one error", []string{"eval", evalFixture("pass.json"), evalFixture("full.json")}, ExitBadInput, "2 passed, 0 failed, 1 errors\n", "full.json:"},
		{"an unreadable file exits 2", []string{"eval", evalFixture("no-such-file.json")}, ExitBadInput, "0 passed, 0 failed, 1 errors\n", "no-such-file.json"},
		{"no file exits 2", []string{"eval"}, ExitBadInput, "", "at least one case file"},
		{"an unknown flag exits 2", []string{"eval", "--bogus", evalFixture("pass.json")}, ExitBadInput, "", "unknown flag"},
		{"json output of a passing run exits 0", []string{"eval", "--json", evalFixture("pass.json")}, ExitOK, `"passed": 2`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("orgguard %v exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("orgguard %v stdout =\n%s\nwant it to contain %q", tt.args, stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("orgguard %v stderr =\n%s\nwant it to contain %q", tt.args, stderr, tt.wantStderr)
			}
		})
	}
}

// TestEvalGolden pins the human output of eval: one line per failing and
// skipped case, then the summary. Run with -update to rewrite.
func TestEvalGolden(t *testing.T) {
	for _, name := range []string{"mixed", "pass", "invalid"} {
		t.Run(name+" output matches its golden file", func(t *testing.T) {
			_, stdout, stderr := orgRun(t, "eval", evalFixture(name+".json"))
			golden := evalFixture(name + ".golden")
			if updateGolden() {
				if err := os.WriteFile(golden, []byte(stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if diff := cmp.Diff(string(want), stdout); diff != "" {
				t.Errorf("eval %s output (-want +got):\n%s\nstderr: %s", name, diff, stderr)
			}
		})
	}
}

func TestEvalJSON(t *testing.T) {
	code, stdout, _ := orgRun(t, "eval", "--json", evalFixture("mixed.json"))
	if code != ExitFailure {
		t.Errorf("eval --json mixed.json exit = %d, want %d", code, ExitFailure)
	}
	var got struct {
		Files []struct {
			Path  string
			Cases []struct {
				Name, Status, Expect, Got, Reason, Doc string
			}
		}
		Summary struct{ Passed, Failed, Skipped, Errors int }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("eval --json output is not JSON: %v\n%s", err, stdout)
	}
	if got.Summary.Passed != 2 || got.Summary.Failed != 1 || got.Summary.Skipped != 0 || got.Summary.Errors != 0 {
		t.Errorf("summary = %+v, want 2 passed, 1 failed", got.Summary)
	}
	if len(got.Files) != 1 || len(got.Files[0].Cases) != 3 {
		t.Fatalf("files = %+v, want one file with 3 cases", got.Files)
	}
	c := got.Files[0].Cases[1]
	if c.Name != "fails-on-purpose" || c.Status != "failed" || c.Got != "ImplicitlyDenied" || c.Expect != "Allowed" {
		t.Errorf("failing case = %+v, want fails-on-purpose failed, got ImplicitlyDenied, expect Allowed", c)
	}
	if s := got.Files[0].Cases[2]; s.Status != "passed" || s.Got != "ExplicitlyDenied" {
		t.Errorf("VPC endpoint case = %+v, want passed with ExplicitlyDenied", s)
	}
}

func TestEvalJSONListsErrors(t *testing.T) {
	code, stdout, _ := orgRun(t, "eval", "--json", evalFixture("invalid.json"))
	if code != ExitBadInput {
		t.Errorf("eval --json invalid.json exit = %d, want %d", code, ExitBadInput)
	}
	var got struct {
		Errors  []string
		Summary struct{ Passed, Failed, Errors int }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("eval --json output is not JSON: %v\n%s", err, stdout)
	}
	if got.Summary.Errors != 1 || got.Summary.Passed != 1 || got.Summary.Failed != 1 {
		t.Errorf("summary = %+v, want 1 passed, 1 failed, 1 errors", got.Summary)
	}
	if len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "invalid.json:20:65: cases[1].scps[0][0].Statement[0].Effect") {
		t.Errorf("errors = %q, want the place of the invalid case", got.Errors)
	}
}

// TestEvalReferenceCases runs the shared reference cases and the
// project's own corpus when they are present, as the Makefile does.
func TestEvalCorpusLoads(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cases", "*.json"))
	if len(files) == 0 {
		t.Skip("no corpus under testdata/cases")
	}
	for _, f := range files {
		code, _, stderr := orgRun(t, append([]string{"eval"}, f)...)
		if code == ExitBadInput || code == ExitInternal {
			t.Errorf("eval %s exit = %d (the corpus must load):\n%s", f, code, stderr)
		}
	}
}

func TestSimulateExitCodes(t *testing.T) {
	full := evalFixture("full.json")
	denyS3 := evalFixture("scp-ok.json")
	base := []string{"simulate", "--principal", "arn:aws:iam::111111111111:user/alice", "--action", "s3:GetObject",
		"--resource", "arn:aws:s3:::bucket1/key.txt", "--identity-policy", full}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"an allowed request exits 0", base, ExitOK, "decision: Allowed", ""},
		{"a denied request also exits 0", append(append([]string{}, base...), "--scp-level", full, "--scp-level", full+","+denyS3), ExitOK, "decision: ExplicitlyDenied", ""},
		{"no identity policy is an implicit deny", []string{"simulate", "--principal", "arn:aws:iam::111111111111:user/alice", "--action", "s3:GetObject"}, ExitOK, "decision: ImplicitlyDenied", ""},
		{"context flags are accepted", append(append([]string{}, base...), "--context", "aws:TagKeys=a", "--context", "aws:TagKeys=b", "--context", "aws:SecureTransport=true"), ExitOK, "decision: Allowed", ""},
		{"json output", append(append([]string{}, base...), "--json"), ExitOK, `"decision": "Allowed"`, ""},
		{"a case file", []string{"simulate", "--case", evalFixture("mixed.json")}, ExitOK, "case fails-on-purpose (expect Allowed)\ndecision: ImplicitlyDenied", ""},
		{"one case of a file", []string{"simulate", "--case", evalFixture("mixed.json"), "--name", "passes"}, ExitOK, "decision: ExplicitlyDenied", ""},
		{"an unknown case name exits 2", []string{"simulate", "--case", evalFixture("mixed.json"), "--name", "nope"}, ExitBadInput, "", `no case named "nope"`},
		{"a malformed case file exits 2", []string{"simulate", "--case", evalFixture("malformed.json")}, ExitBadInput, "", "malformed.json:4:64"},
		{"a policy of the wrong kind exits 2", append(append([]string{}, base...), "--scp-level", evalFixture("scp-with-principal.json")), ExitBadInput, "", "scp-with-principal.json:"},
		{"a missing policy file exits 2", append(append([]string{}, base...), "--boundary", evalFixture("nope.json")), ExitBadInput, "", "nope.json"},
		{"a missing principal exits 2", []string{"simulate", "--action", "s3:GetObject"}, ExitBadInput, "", "--principal"},
		{"a bad context flag exits 2", append(append([]string{}, base...), "--context", "novalue"), ExitBadInput, "", "key=value"},
		{"a VPC endpoint policy decides and is named", append(append([]string{}, base...), "--vpc-endpoint-policy", evalFixture("vpce-deny-get.json")), ExitOK,
			`decision: ExplicitlyDenied` + "\n" + `ExplicitlyDenied by vpc-endpoint policy "` + evalFixture("vpce-deny-get.json") + `"`, ""},
		{"an unknown endpoint type exits 2", append(append([]string{}, base...), "--vpc-endpoint-type", "tunnel"), ExitBadInput, "", "--vpc-endpoint-type"},
		{"a KMS key without key policy is warned about and noted", []string{"simulate", "--principal", "arn:aws:iam::111111111111:user/alice", "--action", "kms:Decrypt",
			"--resource", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", "--identity-policy", full}, ExitOK,
			"note: no key policy given: assumed AWS's default key policy", "warning: arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab is a KMS key"},
		{"a key policy that grants nothing denies", []string{"simulate", "--principal", "arn:aws:iam::111111111111:user/alice", "--action", "kms:Decrypt",
			"--resource", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", "--identity-policy", full, "--resource-policy-grants-nothing"}, ExitOK,
			"decision: ImplicitlyDenied", ""},
		{"two boundaries exit 2", append(append([]string{}, base...), "--boundary", full, "--boundary", full), ExitBadInput, "", "one managed policy"},
		{"sts:GetCallerIdentity is allowed under a deny-all", []string{"simulate", "--principal", "arn:aws:iam::111111111111:user/alice", "--action", "sts:GetCallerIdentity",
			"--scp-level", full + "," + denyS3}, ExitOK, "decision: Allowed\nAllowed: sts:GetCallerIdentity needs no permissions", ""},
		{"--case with request flags exits 2", []string{"simulate", "--case", evalFixture("mixed.json"), "--action", "s3:GetObject"}, ExitBadInput, "", "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("orgguard %v exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("orgguard %v stdout =\n%s\nwant it to contain %q", tt.args, stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("orgguard %v stderr =\n%s\nwant it to contain %q", tt.args, stderr, tt.wantStderr)
			}
		})
	}
}

func TestParseContext(t *testing.T) {
	got, err := parseContext([]string{"aws:TagKeys=a", "AWS:tagkeys=b", "aws:SourceIp=203.0.113.1", "k=v=w"})
	if err != nil {
		t.Fatalf("parseContext = %v", err)
	}
	want := map[string][]string{"aws:TagKeys": {"a", "b"}, "aws:SourceIp": {"203.0.113.1"}, "k": {"v=w"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseContext (-want +got):\n%s", diff)
	}
}

func TestPolicyValidateExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"a valid SCP exits 0", []string{"policy", "validate", "--kind", "scp", evalFixture("scp-ok.json")}, ExitOK, "scp-ok.json: ok (scp policy)", ""},
		{"a Principal in an SCP is an error with its place", []string{"policy", "validate", "--kind", "scp", evalFixture("scp-with-principal.json")}, ExitFailure, "(at Statement[0].Principal)", ""},
		{"the same document is a valid RCP statement shape", []string{"policy", "validate", "--kind", "resource", evalFixture("scp-with-principal.json")}, ExitOK, "", ""},
		{"an error in one of several files exits 1", []string{"policy", "validate", "--kind", "scp", evalFixture("scp-ok.json"), evalFixture("scp-with-principal.json")}, ExitFailure, "scp-ok.json: ok", ""},
		{"json output", []string{"policy", "validate", "--kind", "scp", "--json", evalFixture("scp-with-principal.json")}, ExitFailure, `"severity": "error"`, ""},
		{"an unreadable file exits 2", []string{"policy", "validate", "--kind", "scp", evalFixture("nope.json")}, ExitBadInput, "", "nope.json"},
		{"an unknown kind exits 2", []string{"policy", "validate", "--kind", "iam", evalFixture("scp-ok.json")}, ExitBadInput, "", "unknown policy kind"},
		{"a missing kind exits 2", []string{"policy", "validate", evalFixture("scp-ok.json")}, ExitBadInput, "", "--kind"},
		{"no file exits 2", []string{"policy", "validate", "--kind", "scp"}, ExitBadInput, "", "at least one policy file"},
		{"malformed JSON is an error finding", []string{"policy", "validate", "--kind", "identity", evalFixture("malformed.json")}, ExitFailure, "malformed.json:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != tt.wantCode {
				t.Errorf("orgguard %v exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("orgguard %v stdout =\n%s\nwant it to contain %q", tt.args, stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("orgguard %v stderr =\n%s\nwant it to contain %q", tt.args, stderr, tt.wantStderr)
			}
		})
	}
}
