package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/store"
)

// runIn runs orgguard with stdin as standard input.
func runIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const testPassword = "correct horse battery staple"

func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "orgguard.db")
	st := []string{"--store", db, "--by", "root"}
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		return runIn(t, stdin, append(args, st...)...)
	}
	steps := []struct {
		name     string
		stdin    string
		args     []string
		wantCode int
		want     string // in stdout
		wantErr  string // in stderr
	}{
		{"the first admin is added with a password on standard input", testPassword + "\n", []string{"user", "add", "Alice", "--role", "admin", "--password-stdin"}, 0, "Added user Alice (admin).", ""},
		{"a password is never read from a pipe without --password-stdin", testPassword + "\n", []string{"user", "add", "bob", "--role", "viewer"}, ExitBadInput, "", "--password-stdin"},
		{"a short password is refused", "short\n", []string{"user", "add", "bob", "--role", "viewer", "--password-stdin"}, ExitBadInput, "", "at least 12"},
		{"an empty standard input is refused", "", []string{"user", "add", "bob", "--role", "viewer", "--password-stdin"}, ExitBadInput, "", "no password"},
		{"the role is required", testPassword + "\n", []string{"user", "add", "bob", "--password-stdin"}, ExitBadInput, "", "role"},
		{"an unknown role is refused", testPassword + "\n", []string{"user", "add", "bob", "--role", "root", "--password-stdin"}, ExitBadInput, "", "unknown role"},
		{"a name taken in another case is refused", testPassword + "\n", []string{"user", "add", "alice", "--role", "viewer", "--password-stdin"}, ExitBadInput, "", "already exists"},
		{"an OIDC-only user has an e-mail and no password", "", []string{"user", "add", "bob", "--role", "approver", "--email", "Bob@Example.com", "--no-password"}, 0, "Added user bob (approver).", ""},
		{"a role is changed", "", []string{"user", "role", "bob", "operator"}, 0, "bob is now operator.", ""},
		{"the last admin keeps the role", "", []string{"user", "role", "alice", "viewer"}, ExitRefused, "", "last enabled admin"},
		{"the last admin is not disabled", "", []string{"user", "disable", "alice"}, ExitRefused, "", "last enabled admin"},
		{"a password is reset", testPassword + "!\n", []string{"user", "passwd", "alice", "--password-stdin"}, 0, "Set the password of Alice", ""},
		{"a user is disabled", "", []string{"user", "disable", "bob"}, 0, "Disabled bob", ""},
		{"and enabled", "", []string{"user", "enable", "bob"}, 0, "Enabled bob.", ""},
		{"an e-mail address is set", "", []string{"user", "email", "alice", "alice@example.com"}, 0, `"alice@example.com"`, ""},
		{"an unknown user is bad input", "", []string{"user", "disable", "nobody"}, ExitBadInput, "", "user list"},
		{"the list shows roles, states and logins", "", []string{"user", "list"}, 0, "Alice  admin     enabled  password, oidc", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, stdout, stderr := run(s.stdin, s.args...)
			if code != s.wantCode {
				t.Fatalf("orgguard %s exited %d, want %d\nstdout: %s\nstderr: %s", strings.Join(s.args, " "), code, s.wantCode, stdout, stderr)
			}
			if !strings.Contains(stdout, s.want) || !strings.Contains(stderr, s.wantErr) {
				t.Errorf("orgguard %s:\nstdout %q, want %q in it\nstderr %q, want %q in it", strings.Join(s.args, " "), stdout, s.want, stderr, s.wantErr)
			}
		})
	}
	t.Run("the JSON list never holds a password hash", func(t *testing.T) {
		code, stdout, stderr := run("", "user", "list", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var us []store.User
		if err := json.Unmarshal([]byte(stdout), &us); err != nil || len(us) != 2 {
			t.Fatalf("user list --json = %q (%v), want two users", stdout, err)
		}
		if strings.Contains(stdout, "argon2id") || strings.Contains(stdout, "asswordHash") {
			t.Errorf("user list --json shows a password hash:\n%s", stdout)
		}
		if us[1].Name != "bob" || us[1].Email != "bob@example.com" || us[1].Role != "operator" {
			t.Errorf("bob = %+v", us[1])
		}
	})
	t.Run("every change is in the audit log and the chain verifies", func(t *testing.T) {
		if code, _, stderr := runIn(t, "", "audit", "verify", "--store", db); code != 0 {
			t.Fatalf("audit verify exited %d: %s", code, stderr)
		}
		_, stdout, _ := runIn(t, "", "audit", "list", "--json", "--store", db)
		for _, w := range []string{"user.added", "user.role-set", "user.password-set", "user.disabled", "user.enabled", "user.email-set"} {
			if !strings.Contains(stdout, `"`+w+`"`) {
				t.Errorf("audit list has no %s", w)
			}
		}
		if !strings.Contains(stdout, `"actor": "root"`) {
			t.Errorf("the audit entries are not by --by root:\n%.1000s", stdout)
		}
	})
}
