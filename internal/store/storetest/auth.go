package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/store"
)

func ptr[T any](v T) *T { return &v }

func testUsers(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 123456789, time.UTC)
	alice := must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "Alice", Email: "Alice@Example.com", PasswordHash: "$argon2id$x", Role: "operator", CreatedAt: t0}))
	want := store.User{Name: "Alice", Email: "alice@example.com", PasswordHash: "$argon2id$x", Role: "operator",
		CreatedAt: t0.Truncate(time.Microsecond), UpdatedAt: t0.Truncate(time.Microsecond), PasswordChangedAt: t0.Truncate(time.Microsecond)}
	if diff := cmp.Diff(want, alice); diff != "" {
		t.Errorf("CreateUser (-want +got):\n%s", diff)
	}
	t.Run("a user is found by any form of the name and by e-mail", func(t *testing.T) {
		for _, name := range []string{"Alice", "alice", "ALICE", "аlice" /* Cyrillic а */, "ａｌｉｃｅ"} {
			got, err := s.User(ctx, name)
			if err != nil || !cmp.Equal(got, alice) {
				t.Errorf("User(%q) = %+v, %v; want alice", name, got, err)
			}
		}
		got, err := s.UserByEmail(ctx, "ALICE@example.COM")
		if err != nil || got.Name != "Alice" {
			t.Errorf("UserByEmail = %+v, %v; want alice", got, err)
		}
		_, err = s.User(ctx, "bob")
		wantErr(t, `User("bob")`, err, store.ErrNotFound)
		_, err = s.UserByEmail(ctx, "")
		wantErr(t, `UserByEmail("")`, err, store.ErrNotFound)
	})
	t.Run("a second user with the same name key or e-mail is refused", func(t *testing.T) {
		for _, u := range []store.User{
			{Name: "alice", Role: "viewer"},
			{Name: "аlice", Role: "viewer"}, // a Cyrillic а
			{Name: "bob", Email: "ALICE@example.com", Role: "viewer"},
		} {
			_, err := s.CreateUser(ctx, u)
			wantErr(t, fmt.Sprintf("CreateUser(%q, %q)", u.Name, u.Email), err, store.ErrAlreadyExists)
		}
	})
	t.Run("bad users are refused", func(t *testing.T) {
		for name, u := range map[string]store.User{
			"no name":       {Role: "viewer"},
			"unknown role":  {Name: "x", Role: "root"},
			"no role":       {Name: "y"},
			"a NUL byte":    {Name: "a\x00b", Role: "viewer"},
			"too long name": {Name: string(make([]byte, 3000)), Role: "viewer"},
		} {
			_, err := s.CreateUser(ctx, u)
			wantErr(t, "CreateUser("+name+")", err, store.ErrInvalid)
		}
	})
	t.Run("updates change only what they name", func(t *testing.T) {
		got := must[store.User](t, "UpdateUser")(s.UpdateUser(ctx, "alice", store.UserUpdate{Role: ptr("admin")}))
		if got.Role != "admin" || got.PasswordHash != alice.PasswordHash || !got.PasswordChangedAt.Equal(alice.PasswordChangedAt) || got.Disabled {
			t.Errorf("UpdateUser(role) = %+v", got)
		}
		got = must[store.User](t, "UpdateUser")(s.UpdateUser(ctx, "alice", store.UserUpdate{PasswordHash: ptr("$argon2id$y"), Disabled: ptr(true)}))
		if got.PasswordHash != "$argon2id$y" || !got.Disabled || !got.PasswordChangedAt.After(alice.PasswordChangedAt) || got.Role != "admin" {
			t.Errorf("UpdateUser(password, disabled) = %+v", got)
		}
		changed := got.PasswordChangedAt
		got = must[store.User](t, "UpdateUser")(s.UpdateUser(ctx, "alice", store.UserUpdate{PasswordHash: ptr("$argon2id$z"), Rehashed: true}))
		if got.PasswordHash != "$argon2id$z" || !got.PasswordChangedAt.Equal(changed) {
			t.Errorf("UpdateUser(rehashed) = %+v, want the new hash and PasswordChangedAt kept at %v", got, changed)
		}
		got = must[store.User](t, "UpdateUser")(s.UpdateUser(ctx, "alice", store.UserUpdate{Disabled: ptr(false), Email: ptr("A@Example.org")}))
		if got.Disabled || got.Email != "a@example.org" {
			t.Errorf("UpdateUser(enable, e-mail) = %+v", got)
		}
		_, err := s.UpdateUser(ctx, "nobody", store.UserUpdate{Role: ptr("viewer")})
		wantErr(t, "UpdateUser(nobody)", err, store.ErrNotFound)
		_, err = s.UpdateUser(ctx, "alice", store.UserUpdate{Role: ptr("root")})
		wantErr(t, "UpdateUser(role root)", err, store.ErrInvalid)
	})
	t.Run("listing is by name key", func(t *testing.T) {
		must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "carol", Role: "viewer"}))
		must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "Bob", Role: "approver"}))
		var names []string
		for _, u := range must[[]store.User](t, "ListUsers")(s.ListUsers(ctx)) {
			names = append(names, u.Name)
		}
		if diff := cmp.Diff([]string{"Alice", "Bob", "carol"}, names); diff != "" {
			t.Errorf("ListUsers (-want +got):\n%s", diff)
		}
	})
	t.Run("two replicas adding the same user: one wins", func(t *testing.T) {
		errs := race(8, func(i int) error {
			_, err := s.CreateUser(ctx, store.User{Name: "Dave", Role: "viewer"})
			return err
		})
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrAlreadyExists):
				t.Errorf("CreateUser race: %v", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of 8 racing CreateUser calls succeeded, want 1", won)
		}
	})
}

func testTokens(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "Alice", Role: "admin"}))
	tok := must[store.APIToken](t, "CreateToken")(s.CreateToken(ctx, store.APIToken{Hash: "h1", Hint: "ogt_AbCd…", Name: "ci", Owner: "alice",
		Role: "operator", CreatedAt: t0, CreatedBy: "Alice", ExpiresAt: t0.Add(90 * 24 * time.Hour)}))
	if tok.ID == "" || tok.Owner != "Alice" || !tok.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) {
		t.Errorf("CreateToken = %+v, want an ID and the owner's name as stored", tok)
	}
	t.Run("a token is found by ID and by hash", func(t *testing.T) {
		if got := must[store.APIToken](t, "Token")(s.Token(ctx, tok.ID)); !cmp.Equal(got, tok) {
			t.Errorf("Token (-want +got):\n%s", cmp.Diff(tok, got))
		}
		if got := must[store.APIToken](t, "TokenByHash")(s.TokenByHash(ctx, "h1")); got.ID != tok.ID {
			t.Errorf("TokenByHash = %+v", got)
		}
		_, err := s.TokenByHash(ctx, "nope")
		wantErr(t, "TokenByHash(nope)", err, store.ErrNotFound)
	})
	t.Run("bad tokens are refused", func(t *testing.T) {
		_, err := s.CreateToken(ctx, store.APIToken{Hash: "h2", Name: "x", Owner: "nobody", Role: "viewer"})
		wantErr(t, "CreateToken(unknown owner)", err, store.ErrNotFound)
		_, err = s.CreateToken(ctx, store.APIToken{Hash: "h3", Name: "ci", Owner: "ALICE", Role: "viewer"})
		wantErr(t, "CreateToken(same active name)", err, store.ErrAlreadyExists)
		_, err = s.CreateToken(ctx, store.APIToken{Hash: "h1", Name: "other", Owner: "alice", Role: "viewer"})
		wantErr(t, "CreateToken(same hash)", err, store.ErrAlreadyExists)
		_, err = s.CreateToken(ctx, store.APIToken{Hash: "h4", Name: "y", Owner: "alice", Role: "god"})
		wantErr(t, "CreateToken(unknown role)", err, store.ErrInvalid)
		_, err = s.CreateToken(ctx, store.APIToken{Name: "z", Owner: "alice", Role: "viewer"})
		wantErr(t, "CreateToken(no hash)", err, store.ErrInvalid)
	})
	t.Run("use is recorded, never backwards", func(t *testing.T) {
		for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(30 * time.Minute)} {
			if err := s.TouchToken(ctx, tok.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		if got := must[store.APIToken](t, "Token")(s.Token(ctx, tok.ID)); !got.LastUsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("LastUsedAt = %v, want %v", got.LastUsedAt, t0.Add(time.Hour))
		}
	})
	t.Run("revoking once; the name is free again", func(t *testing.T) {
		got := must[store.APIToken](t, "RevokeToken")(s.RevokeToken(ctx, tok.ID, "Alice", t0.Add(2*time.Hour)))
		if !got.RevokedAt.Equal(t0.Add(2*time.Hour)) || got.RevokedBy != "Alice" {
			t.Errorf("RevokeToken = %+v", got)
		}
		_, err := s.RevokeToken(ctx, tok.ID, "Alice", time.Time{})
		wantErr(t, "RevokeToken(again)", err, store.ErrConflict)
		_, err = s.RevokeToken(ctx, "tok-none", "Alice", time.Time{})
		wantErr(t, "RevokeToken(none)", err, store.ErrNotFound)
		must[store.APIToken](t, "CreateToken")(s.CreateToken(ctx, store.APIToken{Hash: "h5", Name: "ci", Owner: "alice", Role: "viewer", CreatedAt: t0.Add(3 * time.Hour)}))
	})
	t.Run("listing is newest first, active unless asked", func(t *testing.T) {
		must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "bob", Role: "viewer"}))
		must[store.APIToken](t, "CreateToken")(s.CreateToken(ctx, store.APIToken{Hash: "h6", Name: "laptop", Owner: "bob", Role: "viewer", CreatedAt: t0.Add(4 * time.Hour)}))
		names := func(ts []store.APIToken) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t.Owner+"/"+t.Name)
			}
			return out
		}
		got := names(must[[]store.APIToken](t, "ListTokens")(s.ListTokens(ctx, store.TokenFilter{})))
		if diff := cmp.Diff([]string{"bob/laptop", "Alice/ci"}, got); diff != "" {
			t.Errorf("ListTokens (-want +got):\n%s", diff)
		}
		got = names(must[[]store.APIToken](t, "ListTokens")(s.ListTokens(ctx, store.TokenFilter{Owner: "ALICE", IncludeRevoked: true})))
		if diff := cmp.Diff([]string{"Alice/ci", "Alice/ci"}, got); diff != "" {
			t.Errorf("ListTokens(alice, revoked too) (-want +got):\n%s", diff)
		}
	})
}

func testSessions(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	must[store.User](t, "CreateUser")(s.CreateUser(ctx, store.User{Name: "Alice", Role: "viewer"}))
	sess := func(hash string, at time.Time) store.Session {
		return must[store.Session](t, "CreateSession")(s.CreateSession(ctx, store.Session{Hash: hash, User: "alice", Method: "password",
			ClientIP: "192.0.2.1", CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour)}))
	}
	a := sess("s1", t0)
	if a.User != "Alice" || !a.LastSeenAt.Equal(t0) {
		t.Errorf("CreateSession = %+v, want the user's stored name and LastSeenAt = CreatedAt", a)
	}
	if got := must[store.Session](t, "SessionByHash")(s.SessionByHash(ctx, "s1")); !cmp.Equal(got, a) {
		t.Errorf("SessionByHash (-want +got):\n%s", cmp.Diff(a, got))
	}
	t.Run("bad sessions are refused", func(t *testing.T) {
		_, err := s.CreateSession(ctx, store.Session{Hash: "x", User: "nobody", Method: "password", ExpiresAt: t0})
		wantErr(t, "CreateSession(unknown user)", err, store.ErrNotFound)
		_, err = s.CreateSession(ctx, store.Session{Hash: "x", User: "alice", Method: "token", ExpiresAt: t0})
		wantErr(t, "CreateSession(method token)", err, store.ErrInvalid)
		_, err = s.CreateSession(ctx, store.Session{Hash: "x", User: "alice", Method: "oidc"})
		wantErr(t, "CreateSession(no expiry)", err, store.ErrInvalid)
		_, err = s.CreateSession(ctx, store.Session{Hash: "s1", User: "alice", Method: "oidc", ExpiresAt: t0})
		wantErr(t, "CreateSession(same hash)", err, store.ErrAlreadyExists)
	})
	t.Run("touching moves the last-seen time forward only", func(t *testing.T) {
		for _, at := range []time.Time{t0.Add(10 * time.Minute), t0.Add(5 * time.Minute)} {
			if err := s.TouchSession(ctx, "s1", at); err != nil {
				t.Fatal(err)
			}
		}
		if got := must[store.Session](t, "SessionByHash")(s.SessionByHash(ctx, "s1")); !got.LastSeenAt.Equal(t0.Add(10 * time.Minute)) {
			t.Errorf("LastSeenAt = %v, want %v", got.LastSeenAt, t0.Add(10*time.Minute))
		}
	})
	t.Run("a user's live sessions are listed and ended together", func(t *testing.T) {
		sess("s2", t0.Add(time.Hour))
		sess("s3", t0.Add(-13*time.Hour)) // already past its end at t0
		live := must[[]store.Session](t, "ListSessions")(s.ListSessions(ctx, "ALICE", t0.Add(time.Hour)))
		if len(live) != 2 || live[0].Hash != "s2" || live[1].Hash != "s1" {
			t.Errorf("ListSessions = %+v, want s2 then s1", live)
		}
		if err := s.RevokeSession(ctx, "s1", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSession(ctx, "s1", t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := must[store.Session](t, "SessionByHash")(s.SessionByHash(ctx, "s1")); !got.RevokedAt.Equal(t0.Add(2 * time.Hour)) {
			t.Errorf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, t0.Add(2*time.Hour))
		}
		wantErr(t, "RevokeSession(none)", s.RevokeSession(ctx, "none", t0), store.ErrNotFound)
		n := must[int](t, "RevokeUserSessions")(s.RevokeUserSessions(ctx, "alice", t0.Add(4*time.Hour)))
		if n != 2 { // s2 and s3: s1 was revoked already
			t.Errorf("RevokeUserSessions ended %d sessions, want 2", n)
		}
		if live := must[[]store.Session](t, "ListSessions")(s.ListSessions(ctx, "alice", t0.Add(time.Hour))); len(live) != 0 {
			t.Errorf("ListSessions after revoking all = %+v, want none", live)
		}
		n = must[int](t, "DeleteSessions")(s.DeleteSessions(ctx, t0.Add(13*time.Hour+time.Minute)))
		if n != 3 {
			t.Errorf("DeleteSessions removed %d, want 3", n)
		}
	})
}

func testLogins(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.RecordLoginFailure(ctx, "user", "alice", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordLoginFailure(ctx, "ip", "192.0.2.1", t0); err != nil {
		t.Fatal(err)
	}
	count := func(scope, subject string, since time.Time) int {
		return must[int](t, "CountLoginFailures")(s.CountLoginFailures(ctx, scope, subject, since))
	}
	if n := count("user", "alice", t0.Add(time.Minute)); n != 2 {
		t.Errorf("CountLoginFailures(alice since +1m) = %d, want 2", n)
	}
	if n := count("ip", "192.0.2.1", t0); n != 1 {
		t.Errorf("CountLoginFailures(ip) = %d, want 1", n)
	}
	wantErr(t, "RecordLoginFailure(unknown scope)", s.RecordLoginFailure(ctx, "planet", "earth", t0), store.ErrInvalid)
	wantErr(t, "RecordLoginFailure(no subject)", s.RecordLoginFailure(ctx, "user", "", t0), store.ErrInvalid)

	t.Run("a lock counts its lockouts until forgotten", func(t *testing.T) {
		_, err := s.LoginLock(ctx, "user", "alice")
		wantErr(t, "LoginLock(before)", err, store.ErrNotFound)
		l := must[store.LoginLock](t, "LockLogin")(s.LockLogin(ctx, "user", "alice", t0.Add(15*time.Minute)))
		if l.Lockouts != 1 || !l.Until.Equal(t0.Add(15*time.Minute)) {
			t.Errorf("LockLogin = %+v, want one lockout until +15m", l)
		}
		l = must[store.LoginLock](t, "LockLogin")(s.LockLogin(ctx, "user", "alice", t0.Add(time.Hour)))
		if l.Lockouts != 2 || !l.Until.Equal(t0.Add(time.Hour)) {
			t.Errorf("second LockLogin = %+v, want two lockouts until +1h", l)
		}
		if got := must[store.LoginLock](t, "LoginLock")(s.LoginLock(ctx, "user", "alice")); !cmp.Equal(got, l) {
			t.Errorf("LoginLock (-want +got):\n%s", cmp.Diff(l, got))
		}
		if err := s.DeleteLoginLock(ctx, "user", "alice"); err != nil {
			t.Fatal(err)
		}
		_, err = s.LoginLock(ctx, "user", "alice")
		wantErr(t, "LoginLock(after delete)", err, store.ErrNotFound)
	})
	t.Run("failures are forgotten per subject and pruned by age", func(t *testing.T) {
		if err := s.DeleteLoginFailures(ctx, "user", "alice"); err != nil {
			t.Fatal(err)
		}
		if n := count("user", "alice", time.Time{}); n != 0 {
			t.Errorf("after DeleteLoginFailures: %d failures, want 0", n)
		}
		if err := s.RecordLoginFailure(ctx, "ip", "192.0.2.1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := must[int](t, "PruneLoginFailures")(s.PruneLoginFailures(ctx, t0.Add(time.Minute))); n != 1 {
			t.Errorf("PruneLoginFailures removed %d, want 1", n)
		}
		if n := count("ip", "192.0.2.1", time.Time{}); n != 1 {
			t.Errorf("after pruning: %d failures, want 1", n)
		}
	})
	t.Run("replicas recording failures at once lose none", func(t *testing.T) {
		errs := race(10, func(i int) error { return s.RecordLoginFailure(ctx, "user", "bob", t0) })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count("user", "bob", t0); n != 10 {
			t.Errorf("%d failures counted, want 10", n)
		}
		errs = race(5, func(i int) error { _, err := s.LockLogin(ctx, "user", "bob", t0.Add(time.Hour)); return err })
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if l := must[store.LoginLock](t, "LoginLock")(s.LoginLock(ctx, "user", "bob")); l.Lockouts != 5 {
			t.Errorf("after 5 racing LockLogin calls the lock counts %d lockouts, want 5", l.Lockouts)
		}
	})
}
