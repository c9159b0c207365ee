package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/store"
)

func TestTokenCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "orgguard.db")
	st := []string{"--store", db}
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return runIn(t, stdin, append(args, st...)...)
	}
	if code, _, stderr := run(testPassword+"\n", "user", "add", "ci-bot", "--role", "operator", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	code, stdout, stderr := run("", "token", "create", "--name", "ci-deploy", "--user", "CI-bot", "--expires", "90d")
	if code != 0 {
		t.Fatalf("token create exited %d: %s", code, stderr)
	}
	secret := strings.TrimSpace(stdout)
	if !strings.HasPrefix(secret, "ogt_") || strings.Count(stdout, "\n") != 1 || !strings.Contains(stderr, "shown once") {
		t.Fatalf("token create: stdout %q (want the token alone), stderr %q", stdout, stderr)
	}
	t.Run("the token printed authenticates as its owner", func(t *testing.T) {
		c := config.Defaults()
		c.Store = db
		a, err := app.New(app.Options{Config: &c, Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		p, err := a.TokenPrincipal(t.Context(), secret)
		if err != nil || p.Name != "ci-bot" || p.Role != auth.RoleOperator {
			t.Errorf("TokenPrincipal = %+v, %v; want ci-bot as operator", p, err)
		}
	})
	var id string
	t.Run("the list shows a hint, never the token", func(t *testing.T) {
		code, stdout, _ := run("", "token", "list", "--json")
		var ts []store.APIToken
		if code != 0 || json.Unmarshal([]byte(stdout), &ts) != nil || len(ts) != 1 {
			t.Fatalf("token list --json = %d %q", code, stdout)
		}
		id = ts[0].ID
		if strings.Contains(stdout, secret) || strings.Contains(stdout, auth.HashSecret(secret)) || ts[0].Hint != secret[:8]+"…" {
			t.Errorf("token list --json shows the secret or its hash:\n%s", stdout)
		}
		if d := ts[0].ExpiresAt.Sub(ts[0].CreatedAt); d != 90*24*time.Hour {
			t.Errorf("the token expires %s after its creation, want 90 days", d)
		}
		_, text, _ := run("", "token", "list")
		if !strings.Contains(text, "ci-deploy") || !strings.Contains(text, "active") || strings.Contains(text, secret) {
			t.Errorf("token list:\n%s", text)
		}
	})
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     string // in stdout or stderr
	}{
		{"a role above the owner's is refused", []string{"token", "create", "--name", "x", "--user", "ci-bot", "--role", "admin"}, ExitBadInput, "never exceeds its owner's role"},
		{"the same name twice is refused", []string{"token", "create", "--name", "ci-deploy", "--user", "ci-bot"}, ExitBadInput, "already exists"},
		{"an unknown owner is refused", []string{"token", "create", "--name", "x", "--user", "nobody"}, ExitBadInput, "not found"},
		{"a bad expiry is refused", []string{"token", "create", "--name", "x", "--user", "ci-bot", "--expires", "soon"}, ExitBadInput, "--expires"},
		{"a name is required", []string{"token", "create", "--user", "ci-bot"}, ExitBadInput, "name"},
		{"--json shows the secret once", []string{"token", "create", "--name", "json", "--user", "ci-bot", "--json"}, 0, `"secret": "ogt_`},
		{"a token is revoked", []string{"token", "revoke", "ID"}, 0, "Revoked API token"},
		{"twice is bad input", []string{"token", "revoke", "ID"}, ExitBadInput, "revoked"},
		{"an unknown token is bad input", []string{"token", "revoke", "tok-0000000000000000"}, ExitBadInput, "token list"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			args := append([]string(nil), s.args...)
			for i, a := range args {
				if a == "ID" {
					args[i] = id
				}
			}
			code, stdout, stderr := run("", args...)
			if code != s.wantCode || !strings.Contains(stdout+stderr, s.want) {
				t.Errorf("orgguard %s = exit %d\nstdout: %s\nstderr: %s\nwant exit %d and %q", strings.Join(args, " "), code, stdout, stderr, s.wantCode, s.want)
			}
		})
	}
	_, text, _ := run("", "token", "list", "--all")
	if !strings.Contains(text, "revoked") {
		t.Errorf("token list --all does not show the revoked token:\n%s", text)
	}
}

func TestParseExpiry(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 0},
		{in: "never", want: 0},
		{in: "90d", want: 90 * 24 * time.Hour},
		{in: "2w", want: 14 * 24 * time.Hour},
		{in: "36h", want: 36 * time.Hour},
		{in: "3650d", want: 3650 * 24 * time.Hour},
		{in: "3651d", bad: true},
		{in: "521w", want: 521 * 7 * 24 * time.Hour},
		{in: "522w", bad: true},
		{in: "600w", bad: true},
		{in: "-1d", bad: true},
		{in: "+5d", bad: true},
		{in: "d", bad: true},
		{in: "1.5d", bad: true},
		{in: "-5m", bad: true},
		{in: "soon", bad: true},
		{in: "99999999999999999999d", bad: true},
	}
	for _, tt := range tests {
		got, err := parseExpiry(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseExpiry(%q) = %s, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseExpiry(%q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"90d", "2w", "36h", "never", "", "-1d", "1e9d", "9223372036854775807w"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseExpiry(s)
		if err == nil && (d < 0 || d > maxExpiryDays*24*time.Hour) {
			t.Fatalf("parseExpiry(%q) = %s, outside 0..%d days", s, d, maxExpiryDays)
		}
	})
}
