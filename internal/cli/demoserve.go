package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/config"
)

// demoUsers are the people of the demo, as users of the dashboard.
var demoUsers = []struct {
	name string
	role auth.Role
	does string
}{
	{"alice", auth.RoleOperator, "plans and applies"},
	{"bob", auth.RoleApprover, "approves"},
	{"carol", auth.RoleViewer, "only looks"},
}

// demoServe gives the demo's people passwords and serves the day's store
// (`orgguard serve`) until the command's context ends.
func demoServe(cmd *cobra.Command, e *env, cfgPath, listen string) error {
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return withCode(ExitInternal, err)
	}
	admin, err := app.New(app.Options{Config: cfg, Actor: "demo"})
	if err != nil {
		return withCode(ExitInternal, err)
	}
	defer admin.Close()
	fmt.Fprintf(e.stdout, "\n── The day's record stays up: the status page and the team dashboard. Sign in as:\n\n")
	for _, u := range demoUsers {
		pw := demoPassword()
		if _, err := admin.AddUser(cmd.Context(), app.NewUser{Name: u.name, Role: u.role, Password: pw}); err != nil {
			return withCode(ExitInternal, fmt.Errorf("adding the demo user %s: %w", u.name, err))
		}
		fmt.Fprintf(e.stdout, "  %-6s %-9s password %s   (%s)\n", u.name, u.role, pw, u.does)
	}
	if err := admin.Close(); err != nil {
		return withCode(ExitInternal, err)
	}
	fmt.Fprintf(e.stdout, "\nPublic status page at /, the dashboard at /team/ (Ctrl-C stops):\n\n")
	code, err := demoRun(cmd, e, []string{"serve", "--config=" + cfgPath, "--listen", listen, "--log-level", "warn"})
	if err != nil {
		return withCode(ExitInternal, err)
	}
	if code != ExitOK {
		return withCode(code, nil)
	}
	return nil
}

// demoPassword is a fresh random password (128 bits, URL-safe).
func demoPassword() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
