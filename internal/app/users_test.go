package app

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// authConfig is a configuration with only a store (SQLite in a temporary
// directory, or PostgreSQL in a fresh schema).
func authConfig(t *testing.T, dsn string) *config.Config {
	t.Helper()
	c := config.Defaults()
	c.Backend.Sim.State = filepath.Join(t.TempDir(), "sim-state.json")
	c.Store = dsn
	return &c
}

func openAt(t *testing.T, c *config.Config, actor string, ck *clock) *App {
	t.Helper()
	a, err := New(Options{Config: c, Actor: actor, Now: ck.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

const pw = "correct horse battery staple"

// forEachStore runs fn against SQLite, and PostgreSQL when
// ORGGUARD_TEST_POSTGRES is set.
func forEachStore(t *testing.T, fn func(t *testing.T, c *config.Config)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, authConfig(t, filepath.Join(t.TempDir(), "orgguard.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, authConfig(t, storetest.PostgresSchemaURL(t, "og_app"))) })
}

func auditActions(t *testing.T, a *App) []string {
	t.Helper()
	st, err := a.Store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, err := audit.Verify(context.Background(), st)
	if err != nil || !r.Intact() {
		t.Fatalf("audit.Verify = %+v, %v; want an intact chain", r, err)
	}
	es, err := st.ListAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" "+e.Subject)
	}
	return out
}

func TestUsersAndTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		ck := &clock{t: weekdayNoon}
		a := openAt(t, c, "root-operator", ck)
		admin, err := a.AddUser(ctx, NewUser{Name: "Alice", Role: auth.RoleAdmin, Password: pw})
		if err != nil {
			t.Fatalf("AddUser = %v", err)
		}
		if admin.PasswordHash == "" || !strings.HasPrefix(admin.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("stored hash %q, want argon2id with the configured parameters", admin.PasswordHash)
		}
		if _, err := a.AddUser(ctx, NewUser{Name: "bob", Role: auth.RoleOperator, Password: pw, Email: " Bob@Example.com "}); err != nil {
			t.Fatal(err)
		}
		t.Run("refusals are bad input", func(t *testing.T) {
			for name, u := range map[string]NewUser{
				"the same name in another case": {Name: "ALICE", Role: auth.RoleViewer, Password: pw},
				"a look-alike name":             {Name: "аlice", Role: auth.RoleViewer, Password: pw},
				"a short password":              {Name: "carol", Role: auth.RoleViewer, Password: "short"},
				"an unknown role":               {Name: "carol", Role: "root", Password: pw},
				"an e-mail already used":        {Name: "carol", Role: auth.RoleViewer, Password: pw, Email: "bob@example.com"},
				"a bad e-mail":                  {Name: "carol", Role: auth.RoleViewer, Password: pw, Email: "carol"},
				"no password and no e-mail":     {Name: "carol", Role: auth.RoleViewer, NoPassword: true},
				"an invisible character":        {Name: "car\u200bol", Role: auth.RoleViewer, Password: pw},
			} {
				if _, err := a.AddUser(ctx, u); !errors.Is(err, ErrBadInput) {
					t.Errorf("AddUser(%s) = %v, want ErrBadInput", name, err)
				}
			}
		})
		t.Run("the last enabled admin stays one", func(t *testing.T) {
			if _, err := a.SetRole(ctx, "alice", auth.RoleViewer); !errors.Is(err, ErrLastAdmin) || !errors.Is(err, ErrRefused) {
				t.Errorf("SetRole(last admin, viewer) = %v, want ErrLastAdmin", err)
			}
			if _, err := a.DisableUser(ctx, "alice"); !errors.Is(err, ErrLastAdmin) {
				t.Errorf("DisableUser(last admin) = %v, want ErrLastAdmin", err)
			}
			if u, err := a.SetRole(ctx, "bob", auth.RoleAdmin); err != nil || u.Role != "admin" {
				t.Fatalf("SetRole(bob, admin) = %+v, %v", u, err)
			}
			if u, err := a.SetRole(ctx, "alice", auth.RoleApprover); err != nil || u.Role != "approver" {
				t.Errorf("SetRole(alice, approver) with bob an admin = %+v, %v", u, err)
			}
			if _, err := a.SetRole(ctx, "nobody", auth.RoleViewer); !errors.Is(err, ErrBadInput) {
				t.Errorf("SetRole(nobody) = %v, want ErrBadInput", err)
			}
		})
		t.Run("a token never exceeds its owner's role", func(t *testing.T) {
			if _, err := a.CreateToken(ctx, TokenRequest{Name: "ci", Owner: "alice", Role: auth.RoleAdmin}); !errors.Is(err, ErrBadInput) {
				t.Errorf("CreateToken(admin for an approver) = %v, want ErrBadInput", err)
			}
			nt, err := a.CreateToken(ctx, TokenRequest{Name: "ci", Owner: "ALICE", ExpiresIn: 90 * 24 * time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(nt.Secret, "ogt_") || nt.Token.Role != "approver" || nt.Token.Owner != "Alice" || !nt.Token.ExpiresAt.Equal(weekdayNoon.Add(90*24*time.Hour)) {
				t.Errorf("CreateToken = %+v", nt)
			}
			p, err := a.TokenPrincipal(ctx, nt.Secret)
			want := auth.Principal{Name: "Alice", Role: auth.RoleApprover, Method: auth.MethodToken, TokenID: nt.Token.ID}
			if err != nil || p != want {
				t.Errorf("TokenPrincipal = %+v, %v; want %+v", p, err, want)
			}
			// The owner is demoted: the token follows.
			if _, err := a.SetRole(ctx, "alice", auth.RoleViewer); err != nil {
				t.Fatal(err)
			}
			if p, _ := a.TokenPrincipal(ctx, nt.Secret); p.Role != auth.RoleViewer {
				t.Errorf("after demoting the owner the token acts as %s, want viewer", p.Role)
			}
			ck.add(90 * 24 * time.Hour)
			if _, err := a.TokenPrincipal(ctx, nt.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("an expired token = %v, want ErrUnauthenticated", err)
			}
			ck.add(-90 * 24 * time.Hour)
			if _, err := a.RevokeToken(ctx, nt.Token.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.TokenPrincipal(ctx, nt.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("a revoked token = %v, want ErrUnauthenticated", err)
			}
			if _, err := a.RevokeToken(ctx, nt.Token.ID); !errors.Is(err, ErrBadInput) {
				t.Errorf("revoking twice = %v, want ErrBadInput", err)
			}
			for _, bad := range []string{"", "ogt_short", "Bearer " + nt.Secret, strings.Replace(nt.Secret, "ogt_", "ogs_", 1)} {
				if _, err := a.TokenPrincipal(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) || !errors.Is(err, ErrRefused) {
					t.Errorf("TokenPrincipal(%q) = %v, want ErrUnauthenticated", bad, err)
				}
			}
			ts, err := a.ListTokens(ctx, "", true)
			if err != nil || len(ts) != 1 || ts[0].RevokedBy != "root-operator" {
				t.Errorf("ListTokens = %+v, %v", ts, err)
			}
		})
		t.Run("a disabled user's tokens are refused until enabled", func(t *testing.T) {
			nt, err := a.CreateToken(ctx, TokenRequest{Name: "deploy", Owner: "bob", Role: auth.RoleOperator})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.SetRole(ctx, "alice", auth.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			if _, err := a.DisableUser(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.TokenPrincipal(ctx, nt.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("token of a disabled user = %v, want ErrUnauthenticated", err)
			}
			if _, err := a.CreateToken(ctx, TokenRequest{Name: "more", Owner: "bob"}); !errors.Is(err, ErrBadInput) {
				t.Errorf("CreateToken for a disabled user = %v, want ErrBadInput", err)
			}
			if _, err := a.EnableUser(ctx, "bob"); err != nil {
				t.Fatal(err)
			}
			if p, err := a.TokenPrincipal(ctx, nt.Secret); err != nil || p.Role != auth.RoleOperator {
				t.Errorf("token after enabling = %+v, %v", p, err)
			}
		})
		t.Run("every change is in the audit log", func(t *testing.T) {
			got := auditActions(t, a)
			for _, w := range []string{"user.added Alice", "user.added bob", "user.role-set bob", "user.role-set Alice", "token.created", "token.revoked",
				"user.disabled bob", "user.enabled bob"} {
				if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, w) }) {
					t.Errorf("the audit log has no %q entry: %q", w, got)
				}
			}
			users, err := a.ListUsers(ctx)
			if err != nil || len(users) != 2 {
				t.Errorf("ListUsers = %+v, %v", users, err)
			}
		})
	})
}

func TestLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *config.Config) {
		ctx := context.Background()
		ck := &clock{t: weekdayNoon}
		a := openAt(t, c, "setup", ck)
		if _, err := a.AddUser(ctx, NewUser{Name: "alice", Role: auth.RoleOperator, Password: pw}); err != nil {
			t.Fatal(err)
		}
		res, err := a.Login(ctx, "Alice", pw, "192.0.2.10:53211")
		if err != nil {
			t.Fatalf("Login = %v", err)
		}
		want := auth.Principal{Name: "alice", Role: auth.RoleOperator, Method: auth.MethodPassword}
		if res.Principal != want || !strings.HasPrefix(res.SessionID, "ogs_") || res.Session.ClientIP != "192.0.2.10" ||
			!res.Session.ExpiresAt.Equal(weekdayNoon.Add(12*time.Hour)) {
			t.Errorf("Login = %+v", res)
		}
		t.Run("the session identifies the user until idle or past its lifetime", func(t *testing.T) {
			p, err := a.SessionPrincipal(ctx, res.SessionID)
			if err != nil || p.Name != "alice" || p.Method != auth.MethodSession || p.SessionLogin != auth.MethodPassword {
				t.Errorf("SessionPrincipal = %+v, %v", p, err)
			}
			// Requests every 20 minutes keep it alive until its absolute end.
			for range 40 {
				ck.add(20 * time.Minute)
				if _, err := a.SessionPrincipal(ctx, res.SessionID); err != nil {
					break
				}
			}
			if got := ck.now().Sub(weekdayNoon); got != 12*time.Hour {
				t.Errorf("the session ended %s after the login, want exactly 12h", got)
			}
			ck.set(weekdayNoon)
			r2, err := a.Login(ctx, "alice", pw, "")
			if err != nil {
				t.Fatal(err)
			}
			ck.add(30 * time.Minute)
			if _, err := a.SessionPrincipal(ctx, r2.SessionID); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "without a request") {
				t.Errorf("SessionPrincipal after 30 idle minutes = %v, want ErrUnauthenticated (idle)", err)
			}
		})
		t.Run("logout, a password change and disabling end sessions", func(t *testing.T) {
			ck.set(weekdayNoon.Add(24 * time.Hour))
			login := func() string {
				r, err := a.Login(ctx, "alice", pw, "")
				if err != nil {
					t.Fatal(err)
				}
				return r.SessionID
			}
			s1 := login()
			if err := a.Logout(ctx, s1); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SessionPrincipal(ctx, s1); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("after logout = %v", err)
			}
			if err := a.Logout(ctx, s1); err != nil {
				t.Errorf("a second logout = %v, want nil", err)
			}
			s2, s3 := login(), login()
			if _, err := a.SetPassword(ctx, "alice", pw+"!"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{s2, s3} {
				if _, err := a.SessionPrincipal(ctx, s); !errors.Is(err, auth.ErrUnauthenticated) {
					t.Errorf("a session after a password reset = %v, want ErrUnauthenticated", err)
				}
			}
			if _, err := a.Login(ctx, "alice", pw, ""); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("the old password = %v", err)
			}
			r, err := a.Login(ctx, "alice", pw+"!", "")
			if err != nil {
				t.Fatal(err)
			}
			// The user changes their own password through the server.
			self, err := a.AsPrincipal(r.Principal, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := self.ChangePassword(ctx, "wrong", pw); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("ChangePassword with a wrong current password = %v", err)
			}
			if err := self.ChangePassword(ctx, pw+"!", pw); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SessionPrincipal(ctx, r.SessionID); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("the session after changing one's password = %v", err)
			}
			s4 := login()
			if _, err := a.SetRole(ctx, "alice", auth.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			if _, err := a.AddUser(ctx, NewUser{Name: "root", Role: auth.RoleAdmin, Password: pw}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.DisableUser(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := a.SessionPrincipal(ctx, s4); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("a session of a disabled user = %v", err)
			}
			if _, err := a.Login(ctx, "alice", pw, ""); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Errorf("a disabled user's login = %v, want ErrUnauthenticated", err)
			}
			if _, err := a.EnableUser(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("five failures lock the name, known or not, doubling", func(t *testing.T) {
			for _, name := range []string{"alice", "nobody"} {
				ck.set(weekdayNoon.Add(48 * time.Hour))
				for i := range 5 {
					_, err := a.Login(ctx, name, "wrong password", "")
					if i < 4 && (!errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrLocked)) {
						t.Fatalf("%s failure %d = %v, want ErrUnauthenticated", name, i+1, err)
					}
					if i == 4 && !errors.Is(err, auth.ErrLocked) {
						t.Fatalf("%s failure 5 = %v, want ErrLocked", name, err)
					}
				}
				// Even the right password is refused while locked.
				_, err := a.Login(ctx, name, pw, "")
				var le *auth.LockedError
				if !errors.As(err, &le) || !le.Until.Equal(ck.now().Add(15*time.Minute)) {
					t.Errorf("%s while locked = %v, want locked until +15m", name, err)
				}
				ck.add(15 * time.Minute)
				for range 5 {
					_, err = a.Login(ctx, name, "wrong again", "")
				}
				if !errors.As(err, &le) || !le.Until.Equal(ck.now().Add(30*time.Minute)) {
					t.Errorf("%s second lockout = %v, want 30 minutes", name, err)
				}
			}
			ck.add(30 * time.Minute)
			if _, err := a.Login(ctx, "alice", pw, ""); err != nil {
				t.Errorf("after the lockout = %v, want a login", err)
			}
			// The login cleared the doubling: the next lockout is 15 minutes.
			var err error
			for range 5 {
				_, err = a.Login(ctx, "alice", "wrong", "")
			}
			var le *auth.LockedError
			if !errors.As(err, &le) || !le.Until.Equal(ck.now().Add(15*time.Minute)) {
				t.Errorf("lockout after a successful login = %v, want 15 minutes again", err)
			}
		})
		t.Run("one address trying many names is locked", func(t *testing.T) {
			ck.set(weekdayNoon.Add(72 * time.Hour))
			var err error
			for i := range 20 {
				_, err = a.Login(ctx, "user"+string(rune('a'+i)), "guess", "198.51.100.7")
			}
			var le *auth.LockedError
			if !errors.As(err, &le) || le.Scope != auth.LockIP {
				t.Fatalf("the 20th failure from one address = %v, want the address locked", err)
			}
			if _, err := a.Login(ctx, "root", pw, "198.51.100.7"); !errors.Is(err, auth.ErrLocked) {
				t.Errorf("a right password from the locked address = %v, want ErrLocked", err)
			}
			if _, err := a.Login(ctx, "root", pw, "198.51.100.8"); err != nil {
				t.Errorf("another address = %v, want a login", err)
			}
		})
		t.Run("failures and lockouts are audited", func(t *testing.T) {
			got := strings.Join(auditActions(t, a), "\n")
			for _, w := range []string{"login.failed alice", "login.failed nobody", "login.locked alice", "login.locked nobody",
				"login.locked 198.51.100.7", "login.succeeded alice", "session.ended session-", "user.password-set alice", "user.password-changed alice"} {
				if !strings.Contains(got, w) {
					t.Errorf("the audit log has no %q entry", w)
				}
			}
		})
	})
}

// TestUnknownUsersTakeAsLong: a login for a name nobody has does the work
// of a wrong password (a dummy hash), so timing does not tell them apart.
func TestUnknownUsersTakeAsLong(t *testing.T) {
	ctx := context.Background()
	c := authConfig(t, filepath.Join(t.TempDir(), "orgguard.db"))
	c.Auth.Lockout.Threshold = 100
	ck := &clock{t: weekdayNoon}
	a := openAt(t, c, "setup", ck)
	if _, err := a.AddUser(ctx, NewUser{Name: "alice", Role: auth.RoleViewer, Password: pw}); err != nil {
		t.Fatal(err)
	}
	// The two are measured in turn, so that load on the machine (other
	// packages' tests in parallel) weighs on both alike; a dummy hash
	// missing would make the unknown user's login a hundred times faster,
	// so a factor of five tells a leak from noise.
	login := func(name string) time.Duration {
		start := time.Now()
		_, err := a.Login(ctx, name, "wrong password", "")
		d := time.Since(start)
		if !errors.Is(err, auth.ErrUnauthenticated) || err.Error() != auth.ErrUnauthenticated.Error() {
			t.Fatalf("Login(%s) = %v, want exactly the uniform error", name, err)
		}
		return d
	}
	var ks, us []time.Duration
	for range 7 {
		ks = append(ks, login("alice"))
		us = append(us, login("nobody"))
	}
	median := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	known, unknown := median(ks), median(us)
	t.Logf("median failed login: known user %s, unknown user %s", known, unknown)
	if unknown < known/5 || known < unknown/5 {
		t.Errorf("a failed login takes %s for a known user and %s for an unknown one: timing tells them apart", known, unknown)
	}
}

func TestRehashOnLogin(t *testing.T) {
	ctx := context.Background()
	c := authConfig(t, filepath.Join(t.TempDir(), "orgguard.db"))
	ck := &clock{t: weekdayNoon}
	a := openAt(t, c, "setup", ck)
	u, err := a.AddUser(ctx, NewUser{Name: "alice", Role: auth.RoleViewer, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	stronger := *c
	stronger.Auth.Password.Iterations = 3
	stronger.Auth.Password.MinLength = 40 // a stricter policy does not lock out older passwords
	ck.add(time.Hour)
	b := openAt(t, &stronger, "setup", ck)
	if _, err := b.Login(ctx, "alice", pw, ""); err != nil {
		t.Fatalf("Login = %v", err)
	}
	st, _ := b.Store(ctx)
	after, err := st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(after.PasswordHash, "$argon2id$v=19$m=19456,t=3,p=1$") || !after.PasswordChangedAt.Equal(u.PasswordChangedAt) {
		t.Errorf("after a login under t=3 the hash is %q (changed at %v), want t=3 and the change time kept (%v)", after.PasswordHash, after.PasswordChangedAt, u.PasswordChangedAt)
	}
	if _, err := b.Login(ctx, "alice", pw, ""); err != nil {
		t.Errorf("Login with the rehashed password = %v", err)
	}
}

// TestPrincipalsAreHeldToTheirRole: a view made with AsPrincipal refuses
// what its role does not allow, before doing anything.
func TestPrincipalsAreHeldToTheirRole(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	a := open(t, c, "setup")
	as := func(role auth.Role) *App {
		v, err := a.AsPrincipal(auth.Principal{Name: "p-" + string(role), Role: role, Method: auth.MethodSession}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		role auth.Role
		call func(v *App) error
	}{
		{"a viewer cannot plan", auth.RoleViewer, func(v *App) error { _, err := v.Plan(ctx, quarantine("x")); return err }},
		{"an operator cannot approve", auth.RoleOperator, func(v *App) error { _, err := v.Approve(ctx, "plan-x", ""); return err }},
		{"a viewer cannot apply", auth.RoleViewer, func(v *App) error { _, err := v.Apply(ctx, ApplyRequest{Ref: "plan-x"}); return err }},
		{"an approver cannot change the guardrails", auth.RoleApprover, func(v *App) error { _, err := v.PlanGuardrails(ctx, "x"); return err }},
		{"an approver cannot add users", auth.RoleApprover, func(v *App) error {
			_, err := v.AddUser(ctx, NewUser{Name: "x", Role: auth.RoleAdmin, Password: pw})
			return err
		}},
		{"an operator cannot make tokens", auth.RoleOperator, func(v *App) error {
			_, err := v.CreateToken(ctx, TokenRequest{Name: "x", Owner: "p-operator"})
			return err
		}},
		{"a viewer cannot publish notices", auth.RoleViewer, func(v *App) error { _, err := v.PublishNotice(ctx, "incident-x", nil); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(as(tt.role))
			var fe *auth.ForbiddenError
			if !errors.As(err, &fe) || !errors.Is(err, ErrRefused) || fe.Principal != "p-"+string(tt.role) {
				t.Errorf("= %v, want a ForbiddenError for p-%s", err, tt.role)
			}
		})
	}
	t.Run("an admin may add users, as itself in the audit log", func(t *testing.T) {
		v := as(auth.RoleAdmin)
		if _, err := v.AddUser(ctx, NewUser{Name: "dave", Role: auth.RoleViewer, Password: pw}); err != nil {
			t.Fatal(err)
		}
		if got := auditActions(t, v); !slices.Contains(got, "user.added dave") {
			t.Errorf("audit = %q", got)
		}
		st, _ := v.Store(ctx)
		es, _ := st.ListAudit(ctx, store.AuditQuery{Newest: true, Limit: 1})
		if len(es) != 1 || es[0].Actor != "p-admin" {
			t.Errorf("the last audit entry = %+v, want it by p-admin", es)
		}
	})
	t.Run("a principal with no role is refused", func(t *testing.T) {
		if _, err := a.AsPrincipal(auth.Principal{Name: "x"}, nil); !errors.Is(err, ErrBadInput) {
			t.Errorf("AsPrincipal(no role) = %v", err)
		}
	})
}
