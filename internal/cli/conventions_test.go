package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// TestCLIConventions checks issue 17, item 5: version, completion,
// logging, colour, environment variables and machine output.
func TestCLIConventions(t *testing.T) {
	snap := generated(t, 20, "1")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string // in stdout
		wantErr  []string // in stderr
		notOut   []string // not in stdout
	}{
		{name: "--version prints the version", args: []string{"--version"}, want: []string{"orgguard "}},
		{name: "version --json has the module version and Go version", args: []string{"version", "--json"}, want: []string{`"version":`, `"goVersion":`}},
		{name: "completion bash", args: []string{"completion", "bash"}, want: []string{"bash completion V2 for orgguard"}},
		{name: "completion zsh", args: []string{"completion", "zsh"}, want: []string{"#compdef orgguard"}},
		{name: "completion fish", args: []string{"completion", "fish"}, want: []string{"complete -c orgguard"}},
		{name: "completion powershell", args: []string{"completion", "powershell"}, want: []string{"Register-ArgumentCompleter"}},
		{name: "completion of an unknown shell is bad input", args: []string{"completion", "tcsh"}, wantCode: ExitBadInput},
		{name: "-v logs to stderr", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap, "-v"},
			wantErr: []string{"level=INFO", "msg=planned"}},
		{name: "--debug logs in detail", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap, "--debug"},
			wantErr: []string{"level=DEBUG", `msg="plan detail"`}},
		{name: "without -v nothing is logged", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap},
			want: []string{"Blast radius"}},
		{name: "--color always colours a pipe", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap, "--color", "always"},
			want: []string{"\x1b[1m"}},
		{name: "--color never", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap, "--color=never"},
			notOut: []string{"\x1b["}},
		{name: "a bad --color is bad input", args: []string{"version", "--color", "sometimes"}, wantCode: ExitBadInput, wantErr: []string{"auto, always or never"}},
		{name: "plan --json is --format json", args: []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap, "--json"},
			want: []string{`"planHash":"sha256:`}},
		{name: "ORGGUARD_CONFIG names the configuration", env: map[string]string{"ORGGUARD_CONFIG": "/nonexistent/orgguard.yaml"},
			args:     []string{"plan", "attach-policy", "--policy", "deny-marketplace", "--target", "/Infrastructure", "--snapshot", snap},
			wantCode: ExitBadInput, wantErr: []string{"/nonexistent/orgguard.yaml"}},
		{name: "ORGGUARD_STORE names the store", env: map[string]string{"ORGGUARD_STORE": filepath.Join(t.TempDir(), "env.db")},
			args: []string{"audit", "verify"}, wantCode: ExitBadInput, wantErr: []string{"env.db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, stdout, stderr := orgRun(t, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("orgguard %s exited %d, want %d\nstderr: %s", strings.Join(tt.args, " "), code, tt.wantCode, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout does not contain %q:\n%.2000s", w, stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%.2000s", w, stderr)
				}
			}
			for _, w := range tt.notOut {
				if strings.Contains(stdout, w) {
					t.Errorf("stdout contains %q", w)
				}
			}
			if tt.wantErr == nil && strings.Contains(stderr, "level=") {
				t.Errorf("logged without -v:\n%s", stderr)
			}
		})
	}
}

// TestJSONKeysAreCamelCase checks the machine output of commands for
// camelCase keys (issue 17, item 5).
func TestJSONKeysAreCamelCase(t *testing.T) {
	snap := generated(t, 20, "1")
	cfg := tempStoreConfig(t)
	for _, args := range [][]string{
		{"version", "--json"},
		{"plan", "quarantine", "--account", "cicd", "--snapshot", snap, "--json", "--config", cfg, "--out", filepath.Join(t.TempDir(), "q.json")},
		{"org", "show", "--snapshot", snap, "--json"},
		{"plans", "--json", "--config", cfg},
		{"audit", "list", "--json", "--config", cfg},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := orgRun(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var v any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			checkCamel(t, v, "")
		})
	}
}

func checkCamel(t *testing.T, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			// Free-form maps: tags, audit details, condition keys.
			if strings.HasSuffix(path, ".tags") || strings.HasSuffix(path, ".detail") {
				continue
			}
			if k == "" || strings.ContainsAny(k, "_- ") || !unicode.IsLower(rune(k[0])) {
				t.Errorf("key %q at %s is not camelCase", k, path)
			}
			checkCamel(t, c, path+"."+k)
		}
	case []any:
		for _, c := range x {
			checkCamel(t, c, path+"[]")
		}
	}
}

func TestMain(m *testing.M) {
	// The tests decide colour and configuration themselves.
	for _, k := range []string{"NO_COLOR", "ORGGUARD_CONFIG", "ORGGUARD_STORE", "ORGGUARD_SERVER", "ORGGUARD_TOKEN"} {
		os.Unsetenv(k)
	}
	// Nor does a developer's `orgguard login` send them to a server.
	dir, err := os.MkdirTemp("", "orgguard-cli-test-config-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
