package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/store"
)

// maxAuthText bounds the names, e-mail addresses, hashes and subjects the
// auth tables keep.
const maxAuthText = identity.MaxLen

// checkAuthText refuses empty, oversized or otherwise unstorable text.
func checkAuthText(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", store.ErrInvalid, what)
	}
	if len(s) > maxAuthText {
		return fmt.Errorf("%w: %s is longer than %d bytes", store.ErrInvalid, what, maxAuthText)
	}
	return checkText(s)
}

// checkRole refuses a role that is not one of auth's.
func checkRole(r string) error {
	if !auth.Role(r).Valid() {
		return fmt.Errorf("%w: unknown role %q", store.ErrInvalid, r)
	}
	return nil
}

const userColumns = `name, email, password_hash, role, disabled, created_at, updated_at, password_changed_at`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var disabled int
	err := row.Scan(&u.Name, &u.Email, &u.PasswordHash, &u.Role, &disabled, timeScan{&u.CreatedAt}, timeScan{&u.UpdatedAt}, timeScan{&u.PasswordChangedAt})
	u.Disabled = disabled != 0
	return u, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateUser implements store.Users.
func (o ops) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	u.Email = strings.ToLower(u.Email)
	if err := errors.Join(checkAuthText("the name", u.Name), checkRole(u.Role), checkText(u.Email, u.PasswordHash)); err != nil {
		return store.User{}, fmt.Errorf("adding user %q: %w", u.Name, err)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = o.now()
	}
	u.CreatedAt = utcMicro(u.CreatedAt)
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.UpdatedAt = utcMicro(u.UpdatedAt)
	if u.PasswordHash != "" && u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	u.PasswordChangedAt = utcMicro(u.PasswordChangedAt)
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO users (name_key, `+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			identity.Key(u.Name), u.Name, u.Email, u.PasswordHash, u.Role, boolInt(u.Disabled),
			o.s.d.timeArg(u.CreatedAt), o.s.d.timeArg(u.UpdatedAt), o.s.d.nullTimeArg(u.PasswordChangedAt))
		return err
	})
	switch {
	case isUnique(err):
		return store.User{}, fmt.Errorf("adding user %q: %w: a user with this name or e-mail address", u.Name, store.ErrAlreadyExists)
	case err != nil:
		return store.User{}, fmt.Errorf("adding user %q: %w", u.Name, err)
	}
	return u, nil
}

// User implements store.Users.
func (o ops) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(o.reader().QueryRowContext(ctx, o.q(`SELECT `+userColumns+` FROM users WHERE name_key = ?`), identity.Key(name)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("reading user %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("reading user %q: %w", name, err)
	}
	return u, nil
}

// UserByEmail implements store.Users.
func (o ops) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if email == "" {
		return store.User{}, fmt.Errorf("reading the user with an empty e-mail address: %w", store.ErrNotFound)
	}
	u, err := scanUser(o.reader().QueryRowContext(ctx, o.q(`SELECT `+userColumns+` FROM users WHERE email = ?`), strings.ToLower(email)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.User{}, fmt.Errorf("reading the user with e-mail address %q: %w", email, store.ErrNotFound)
	case err != nil:
		return store.User{}, fmt.Errorf("reading the user with e-mail address %q: %w", email, err)
	}
	return u, nil
}

// ListUsers implements store.Users.
func (o ops) ListUsers(ctx context.Context) ([]store.User, error) {
	return queryAll(ctx, o.reader(), "listing users", `SELECT `+userColumns+` FROM users ORDER BY name_key`, nil, scanUser)
}

// UpdateUser implements store.Users.
func (o ops) UpdateUser(ctx context.Context, name string, ch store.UserUpdate) (store.User, error) {
	now := o.s.d.timeArg(o.now())
	sets, args := []string{`updated_at = ?`}, []any{now}
	if ch.PasswordHash != nil {
		if err := checkText(*ch.PasswordHash); err != nil {
			return store.User{}, fmt.Errorf("updating user %q: %w", name, err)
		}
		sets, args = append(sets, `password_hash = ?`), append(args, *ch.PasswordHash)
		if !ch.Rehashed {
			sets, args = append(sets, `password_changed_at = ?`), append(args, now)
		}
	}
	if ch.Role != nil {
		if err := checkRole(*ch.Role); err != nil {
			return store.User{}, fmt.Errorf("updating user %q: %w", name, err)
		}
		sets, args = append(sets, `role = ?`), append(args, *ch.Role)
	}
	if ch.Disabled != nil {
		sets, args = append(sets, `disabled = ?`), append(args, boolInt(*ch.Disabled))
	}
	if ch.Email != nil {
		e := strings.ToLower(*ch.Email)
		if err := checkText(e); err != nil {
			return store.User{}, fmt.Errorf("updating user %q: %w", name, err)
		}
		sets, args = append(sets, `email = ?`), append(args, e)
	}
	var u store.User
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE users SET `+strings.Join(sets, ", ")+` WHERE name_key = ?`), append(args, identity.Key(name))...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		u, err = scanUser(q.QueryRowContext(ctx, o.q(`SELECT `+userColumns+` FROM users WHERE name_key = ?`), identity.Key(name)))
		return err
	})
	switch {
	case isUnique(err):
		return store.User{}, fmt.Errorf("updating user %q: %w: another user has this e-mail address", name, store.ErrAlreadyExists)
	case err != nil:
		return store.User{}, fmt.Errorf("updating user %q: %w", name, err)
	}
	return u, nil
}

const tokenColumns = `t.id, t.hash, t.hint, t.name, u.name, t.role, t.created_at, t.created_by, t.expires_at, t.last_used_at, t.revoked_at, t.revoked_by`

const tokenFrom = ` FROM api_tokens t JOIN users u ON u.name_key = t.owner_key`

func scanToken(row interface{ Scan(...any) error }) (store.APIToken, error) {
	var t store.APIToken
	err := row.Scan(&t.ID, &t.Hash, &t.Hint, &t.Name, &t.Owner, &t.Role, timeScan{&t.CreatedAt}, &t.CreatedBy,
		timeScan{&t.ExpiresAt}, timeScan{&t.LastUsedAt}, timeScan{&t.RevokedAt}, &t.RevokedBy)
	return t, err
}

// CreateToken implements store.Tokens.
func (o ops) CreateToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	if t.ID == "" {
		t.ID = newID("tok")
	}
	if err := errors.Join(checkAuthText("the token ID", t.ID), checkAuthText("the token name", t.Name), checkAuthText("the token hash", t.Hash),
		checkAuthText("the owner", t.Owner), checkRole(t.Role), checkText(t.Hint, t.CreatedBy)); err != nil {
		return store.APIToken{}, fmt.Errorf("creating token %q: %w", t.Name, err)
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = o.now()
	}
	t.CreatedAt, t.ExpiresAt = utcMicro(t.CreatedAt), utcMicro(t.ExpiresAt)
	t.LastUsedAt, t.RevokedAt, t.RevokedBy = time.Time{}, time.Time{}, ""
	err := o.write(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, o.q(`SELECT name FROM users WHERE name_key = ?`), identity.Key(t.Owner)).Scan(&t.Owner); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", t.Owner, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO api_tokens (id, hash, hint, name, owner_key, role, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.Hash, t.Hint, t.Name, identity.Key(t.Owner), t.Role, o.s.d.timeArg(t.CreatedAt), t.CreatedBy, o.s.d.nullTimeArg(t.ExpiresAt))
		return err
	})
	switch {
	case isUnique(err):
		return store.APIToken{}, fmt.Errorf("creating token %q of %s: %w: the user has an active token of this name", t.Name, t.Owner, store.ErrAlreadyExists)
	case err != nil:
		return store.APIToken{}, fmt.Errorf("creating token %q of %s: %w", t.Name, t.Owner, err)
	}
	return t, nil
}

// Token implements store.Tokens.
func (o ops) Token(ctx context.Context, id string) (store.APIToken, error) {
	t, err := scanToken(o.reader().QueryRowContext(ctx, o.q(`SELECT `+tokenColumns+tokenFrom+` WHERE t.id = ?`), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.APIToken{}, fmt.Errorf("reading token %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.APIToken{}, fmt.Errorf("reading token %s: %w", id, err)
	}
	return t, nil
}

// TokenByHash implements store.Tokens.
func (o ops) TokenByHash(ctx context.Context, hash string) (store.APIToken, error) {
	t, err := scanToken(o.reader().QueryRowContext(ctx, o.q(`SELECT `+tokenColumns+tokenFrom+` WHERE t.hash = ?`), hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.APIToken{}, fmt.Errorf("reading a token by its hash: %w", store.ErrNotFound)
	case err != nil:
		return store.APIToken{}, fmt.Errorf("reading a token by its hash: %w", err)
	}
	return t, nil
}

// ListTokens implements store.Tokens.
func (o ops) ListTokens(ctx context.Context, f store.TokenFilter) ([]store.APIToken, error) {
	var where []string
	var args []any
	if f.Owner != "" {
		where, args = append(where, `t.owner_key = ?`), append(args, identity.Key(f.Owner))
	}
	if !f.IncludeRevoked {
		where = append(where, `t.revoked_at IS NULL`)
	}
	query := `SELECT ` + tokenColumns + tokenFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return queryAll(ctx, o.reader(), "listing tokens", o.q(query+` ORDER BY t.created_at DESC, t.id`), args, scanToken)
}

// RevokeToken implements store.Tokens.
func (o ops) RevokeToken(ctx context.Context, id, by string, at time.Time) (store.APIToken, error) {
	if err := checkText(by); err != nil {
		return store.APIToken{}, fmt.Errorf("revoking token %s: %w", id, err)
	}
	if at.IsZero() {
		at = o.now()
	}
	var t store.APIToken
	err := o.write(ctx, func(q querier) error {
		cur, err := scanToken(q.QueryRowContext(ctx, o.q(`SELECT `+tokenColumns+tokenFrom+` WHERE t.id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !cur.RevokedAt.IsZero() {
			return &store.StateConflictError{Kind: "token", ID: id, Want: "active", Current: "revoked"}
		}
		if _, err := q.ExecContext(ctx, o.q(`UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`),
			o.s.d.timeArg(at), by, id); err != nil {
			return err
		}
		cur.RevokedAt, cur.RevokedBy = utcMicro(at), by
		t = cur
		return nil
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("revoking token %s: %w", id, err)
	}
	return t, nil
}

// TouchToken implements store.Tokens.
func (o ops) TouchToken(ctx context.Context, id string, at time.Time) error {
	a := o.s.d.timeArg(at)
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`), a, id, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording the use of token %s: %w", id, err)
	}
	return nil
}

const sessionColumns = `s.hash, u.name, s.method, s.client_ip, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at`

const sessionFrom = ` FROM sessions s JOIN users u ON u.name_key = s.user_key`

func scanSession(row interface{ Scan(...any) error }) (store.Session, error) {
	var s store.Session
	err := row.Scan(&s.Hash, &s.User, &s.Method, &s.ClientIP, timeScan{&s.CreatedAt}, timeScan{&s.LastSeenAt}, timeScan{&s.ExpiresAt}, timeScan{&s.RevokedAt})
	return s, err
}

// CreateSession implements store.Sessions.
func (o ops) CreateSession(ctx context.Context, s store.Session) (store.Session, error) {
	if s.Method != string(auth.MethodPassword) && s.Method != string(auth.MethodOIDC) {
		return store.Session{}, fmt.Errorf("starting a session of %q: %w: method %q", s.User, store.ErrInvalid, s.Method)
	}
	if err := errors.Join(checkAuthText("the session hash", s.Hash), checkAuthText("the user", s.User), checkText(s.ClientIP)); err != nil {
		return store.Session{}, fmt.Errorf("starting a session of %q: %w", s.User, err)
	}
	if s.ExpiresAt.IsZero() {
		return store.Session{}, fmt.Errorf("starting a session of %q: %w: no expiry", s.User, store.ErrInvalid)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = o.now()
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.RevokedAt = utcMicro(s.CreatedAt), utcMicro(s.LastSeenAt), utcMicro(s.ExpiresAt), time.Time{}
	err := o.write(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, o.q(`SELECT name FROM users WHERE name_key = ?`), identity.Key(s.User)).Scan(&s.User); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", s.User, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO sessions (hash, user_key, method, client_ip, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			s.Hash, identity.Key(s.User), s.Method, s.ClientIP, o.s.d.timeArg(s.CreatedAt), o.s.d.timeArg(s.LastSeenAt), o.s.d.timeArg(s.ExpiresAt))
		return err
	})
	switch {
	case isUnique(err):
		return store.Session{}, fmt.Errorf("starting a session of %q: %w", s.User, store.ErrAlreadyExists)
	case err != nil:
		return store.Session{}, fmt.Errorf("starting a session of %q: %w", s.User, err)
	}
	return s, nil
}

// SessionByHash implements store.Sessions.
func (o ops) SessionByHash(ctx context.Context, hash string) (store.Session, error) {
	s, err := scanSession(o.reader().QueryRowContext(ctx, o.q(`SELECT `+sessionColumns+sessionFrom+` WHERE s.hash = ?`), hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Session{}, fmt.Errorf("reading a session: %w", store.ErrNotFound)
	case err != nil:
		return store.Session{}, fmt.Errorf("reading a session: %w", err)
	}
	return s, nil
}

// ListSessions implements store.Sessions.
func (o ops) ListSessions(ctx context.Context, user string, now time.Time) ([]store.Session, error) {
	return queryAll(ctx, o.reader(), "listing sessions",
		o.q(`SELECT `+sessionColumns+sessionFrom+` WHERE s.user_key = ? AND s.revoked_at IS NULL AND s.expires_at > ? ORDER BY s.created_at DESC`),
		[]any{identity.Key(user), o.s.d.timeArg(now)}, scanSession)
}

// TouchSession implements store.Sessions.
func (o ops) TouchSession(ctx context.Context, hash string, at time.Time) error {
	a := o.s.d.timeArg(at)
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`UPDATE sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?`), a, hash, a)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a session's request: %w", err)
	}
	return nil
}

// RevokeSession implements store.Sessions.
func (o ops) RevokeSession(ctx context.Context, hash string, at time.Time) error {
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE hash = ?`), o.s.d.timeArg(at), hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ending a session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements store.Sessions.
func (o ops) RevokeUserSessions(ctx context.Context, user string, at time.Time) (int, error) {
	var n int64
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE sessions SET revoked_at = ? WHERE user_key = ? AND revoked_at IS NULL`), o.s.d.timeArg(at), identity.Key(user))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ending the sessions of %q: %w", user, err)
	}
	return int(n), nil
}

// DeleteSessions implements store.Sessions.
func (o ops) DeleteSessions(ctx context.Context, before time.Time) (int, error) {
	var n int64
	b := o.s.d.timeArg(before)
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`), b, b)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("deleting ended sessions: %w", err)
	}
	return int(n), nil
}

// checkLoginKey refuses an unknown scope or an unstorable subject.
func checkLoginKey(scope, subject string) error {
	if !auth.LockScope(scope).Valid() {
		return fmt.Errorf("%w: unknown login scope %q", store.ErrInvalid, scope)
	}
	return checkAuthText("the login subject", subject)
}

// RecordLoginFailure implements store.Logins.
func (o ops) RecordLoginFailure(ctx context.Context, scope, subject string, at time.Time) error {
	if err := checkLoginKey(scope, subject); err != nil {
		return fmt.Errorf("recording a failed login: %w", err)
	}
	if at.IsZero() {
		at = o.now()
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO login_failures (scope, subject, at) VALUES (?, ?, ?)`), scope, subject, o.s.d.timeArg(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording a failed login: %w", err)
	}
	return nil
}

// CountLoginFailures implements store.Logins.
func (o ops) CountLoginFailures(ctx context.Context, scope, subject string, since time.Time) (int, error) {
	var n int
	err := o.reader().QueryRowContext(ctx, o.q(`SELECT COUNT(*) FROM login_failures WHERE scope = ? AND subject = ? AND at >= ?`),
		scope, subject, o.s.d.timeArg(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting failed logins: %w", err)
	}
	return n, nil
}

// DeleteLoginFailures implements store.Logins.
func (o ops) DeleteLoginFailures(ctx context.Context, scope, subject string) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`DELETE FROM login_failures WHERE scope = ? AND subject = ?`), scope, subject)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting failed logins: %w", err)
	}
	return nil
}

// PruneLoginFailures implements store.Logins.
func (o ops) PruneLoginFailures(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`DELETE FROM login_failures WHERE at < ?`), o.s.d.timeArg(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pruning failed logins: %w", err)
	}
	return int(n), nil
}

const loginLockColumns = `scope, subject, locked_until, lockouts, locked_at`

func scanLoginLock(row interface{ Scan(...any) error }) (store.LoginLock, error) {
	var l store.LoginLock
	err := row.Scan(&l.Scope, &l.Subject, timeScan{&l.Until}, &l.Lockouts, timeScan{&l.LockedAt})
	return l, err
}

// LockLogin implements store.Logins.
func (o ops) LockLogin(ctx context.Context, scope, subject string, until time.Time) (store.LoginLock, error) {
	if err := checkLoginKey(scope, subject); err != nil {
		return store.LoginLock{}, fmt.Errorf("locking logins: %w", err)
	}
	var l store.LoginLock
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO login_locks (`+loginLockColumns+`) VALUES (?, ?, ?, 1, ?)
ON CONFLICT (scope, subject) DO UPDATE SET locked_until = excluded.locked_until, lockouts = login_locks.lockouts + 1, locked_at = excluded.locked_at`),
			scope, subject, o.s.d.timeArg(until), o.s.d.timeArg(o.now()))
		if err != nil {
			return err
		}
		l, err = scanLoginLock(q.QueryRowContext(ctx, o.q(`SELECT `+loginLockColumns+` FROM login_locks WHERE scope = ? AND subject = ?`), scope, subject))
		return err
	})
	if err != nil {
		return store.LoginLock{}, fmt.Errorf("locking logins: %w", err)
	}
	return l, nil
}

// LoginLock implements store.Logins.
func (o ops) LoginLock(ctx context.Context, scope, subject string) (store.LoginLock, error) {
	l, err := scanLoginLock(o.reader().QueryRowContext(ctx, o.q(`SELECT `+loginLockColumns+` FROM login_locks WHERE scope = ? AND subject = ?`), scope, subject))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.LoginLock{}, fmt.Errorf("reading a login lock: %w", store.ErrNotFound)
	case err != nil:
		return store.LoginLock{}, fmt.Errorf("reading a login lock: %w", err)
	}
	return l, nil
}

// DeleteLoginLock implements store.Logins.
func (o ops) DeleteLoginLock(ctx context.Context, scope, subject string) error {
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`DELETE FROM login_locks WHERE scope = ? AND subject = ?`), scope, subject)
		return err
	})
	if err != nil {
		return fmt.Errorf("forgetting a login lock: %w", err)
	}
	return nil
}
