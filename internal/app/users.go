package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/store"
)

// Users and API tokens: the use cases the command line (orgguard user,
// orgguard token) and the server (its admin pages and API) both call.
// Every change is recorded in the audit log in the transaction that makes
// it. Logging in and checking sessions and tokens is in login.go.

// AsPrincipal returns a view of the App acting for the authenticated
// principal p (see As): the use cases of the view check that p's role
// allows them (auth.Role.Can) and refuse otherwise with an error matching
// ErrRefused and auth.ErrForbidden. The server calls it once per request
// with the principal SessionPrincipal or TokenPrincipal returned.
func (a *App) AsPrincipal(p auth.Principal, progress io.Writer) (*App, error) {
	if !p.Role.Valid() {
		return nil, BadInput(fmt.Errorf("principal %q: %w %q", p.Name, auth.ErrInvalidRole, p.Role))
	}
	v, err := a.As(p.Name, progress)
	if err != nil {
		return nil, err
	}
	v.principal = &p
	v.remote = true
	return v, nil
}

// Principal returns the principal the App acts for, when it is a view made
// by AsPrincipal; false for the command line's local authority.
func (a *App) Principal() (auth.Principal, bool) {
	if a.principal == nil {
		return auth.Principal{}, false
	}
	return *a.principal, true
}

// authorize checks that the principal, if any, may do act. Without a
// principal (the command line) everything is allowed: whoever can open
// the store can change it directly anyway.
func (a *App) authorize(act auth.Action) error {
	if a.principal == nil {
		return nil
	}
	if err := a.principal.Authorize(act); err != nil {
		return Refused(err)
	}
	return nil
}

// hasher returns the password hasher of the configuration, made once.
func (a *App) hasher() *auth.Hasher {
	a.authMu.Lock()
	defer a.authMu.Unlock()
	if a.hash == nil {
		pc := a.cfg.Auth.Password
		a.hash = auth.NewHasher(pc.Params(), pc.MinLength)
	}
	return a.hash
}

// auditIn appends an audit entry in tx.
func auditIn(ctx context.Context, tx store.Tx, actor, action, subject string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail: %w", err)
	}
	_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: actor, Action: action, Subject: subject, Detail: b})
	return err
}

// userError gives the store's and auth's errors about users their kind.
func userError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrAlreadyExists), errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid),
		errors.Is(err, auth.ErrWeakPassword), errors.Is(err, auth.ErrInvalidRole), errors.Is(err, identity.ErrInvalid):
		return BadInput(err)
	case errors.Is(err, auth.ErrForbidden), errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, auth.ErrLocked):
		return Refused(err)
	}
	return classify(err)
}

// parseEmail normalises an e-mail address (trimmed, lower case) and checks
// its shape: one @, something on both sides, no spaces or controls.
func parseEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	at := strings.IndexByte(e, '@')
	switch {
	case e == "":
		return "", nil
	case len(e) > 254 || at < 1 || at == len(e)-1 || strings.Count(e, "@") != 1 || !strings.Contains(e[at:], "."):
		return "", BadInput(fmt.Errorf("e-mail address %q: want name@domain", s))
	case strings.IndexFunc(e, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "", BadInput(fmt.Errorf("e-mail address %q: spaces and control characters are not allowed", s))
	}
	return e, nil
}

// NewUser is a user to add.
type NewUser struct {
	Name  string
	Role  auth.Role
	Email string // optional; the address OIDC logins map to the user
	// Password is the user's password; with NoPassword the user has none
	// and logs in through OIDC only.
	Password   string
	NoPassword bool
}

// AddUser adds a user. The name is normalised (identity.Parse) and must
// not be taken by a look-alike; the password must satisfy the policy.
func (a *App) AddUser(ctx context.Context, u NewUser) (store.User, error) {
	if err := a.authorize(auth.ActionManageUsers); err != nil {
		return store.User{}, err
	}
	name, err := identity.Parse(u.Name)
	if err != nil {
		return store.User{}, BadInput(fmt.Errorf("user name: %w", err))
	}
	if !u.Role.Valid() {
		return store.User{}, BadInput(fmt.Errorf("%w %q: want viewer, operator, approver or admin", auth.ErrInvalidRole, u.Role))
	}
	email, err := parseEmail(u.Email)
	if err != nil {
		return store.User{}, err
	}
	var hash string
	switch {
	case u.NoPassword && u.Password != "":
		return store.User{}, BadInput(errors.New("a user without a password was given a password"))
	case u.NoPassword && email == "":
		return store.User{}, BadInput(errors.New("a user without a password logs in through OIDC and needs an e-mail address"))
	case !u.NoPassword:
		if hash, err = a.hasher().Hash(u.Password); err != nil {
			return store.User{}, BadInput(err)
		}
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return store.User{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return store.User{}, err
	}
	var out store.User
	err = st.WithTx(ctx, func(tx store.Tx) error {
		var err error
		if out, err = tx.CreateUser(ctx, store.User{Name: name, Email: email, PasswordHash: hash, Role: string(u.Role), CreatedAt: a.o.Now()}); err != nil {
			return err
		}
		return auditIn(ctx, tx, actor, "user.added", out.Name, map[string]any{"role": out.Role, "email": out.Email, "password": hash != ""})
	})
	return out, userError(err)
}

// ListUsers returns every user, ordered by name.
func (a *App) ListUsers(ctx context.Context) ([]store.User, error) {
	if err := a.authorize(auth.ActionManageUsers); err != nil {
		return nil, err
	}
	st, err := a.existingStore(ctx)
	if err != nil || st == nil {
		return []store.User{}, err
	}
	us, err := st.ListUsers(ctx)
	if us == nil {
		us = []store.User{}
	}
	return us, err
}

// updateUser runs edit on user name in a transaction with the actor
// resolved, and returns the user as stored.
func (a *App) updateUser(ctx context.Context, name string, edit func(tx store.Tx, actor string, u store.User) (store.User, error)) (store.User, error) {
	if err := a.authorize(auth.ActionManageUsers); err != nil {
		return store.User{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return store.User{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return store.User{}, err
	}
	var out store.User
	err = st.WithTx(ctx, func(tx store.Tx) error {
		u, err := tx.User(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w (orgguard user list lists them)", err)
		}
		if err != nil {
			return err
		}
		out, err = edit(tx, actor, u)
		return err
	})
	return out, userError(err)
}

// ErrLastAdmin: the change would leave no enabled admin to manage users.
var ErrLastAdmin = errors.New("the last enabled admin")

// keepAnAdmin refuses a change that takes user u (an enabled admin) away
// from the enabled admins when no other is left.
func keepAnAdmin(ctx context.Context, tx store.Tx, u store.User) error {
	if u.Role != string(auth.RoleAdmin) || u.Disabled {
		return nil
	}
	us, err := tx.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, o := range us {
		if o.Role == string(auth.RoleAdmin) && !o.Disabled && !identity.Same(o.Name, u.Name) {
			return nil
		}
	}
	return Refused(fmt.Errorf("%s is %w: make another user an admin first", u.Name, ErrLastAdmin))
}

// SetPassword sets user name's password (an admin's reset) and ends all
// of their sessions.
func (a *App) SetPassword(ctx context.Context, name, password string) (store.User, error) {
	hash, err := a.hasher().Hash(password)
	if err != nil {
		return store.User{}, BadInput(err)
	}
	return a.updateUser(ctx, name, func(tx store.Tx, actor string, u store.User) (store.User, error) {
		out, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{PasswordHash: &hash})
		if err != nil {
			return out, err
		}
		n, err := tx.RevokeUserSessions(ctx, u.Name, a.o.Now())
		if err != nil {
			return out, err
		}
		return out, auditIn(ctx, tx, actor, "user.password-set", u.Name, map[string]any{"sessionsEnded": n})
	})
}

// ChangePassword changes the password of the principal the App acts for
// (AsPrincipal), who must give the current one, and ends all of their
// sessions: the server asks them to log in again.
func (a *App) ChangePassword(ctx context.Context, current, next string) error {
	p, ok := a.Principal()
	if !ok {
		return BadInput(errors.New("changing one's own password needs a signed-in user; use orgguard user passwd NAME"))
	}
	h := a.hasher()
	hash, err := h.Hash(next)
	if err != nil {
		return BadInput(err)
	}
	st, err := a.Store(ctx)
	if err != nil {
		return err
	}
	u, err := st.User(ctx, p.Name)
	if err != nil {
		return userError(err)
	}
	if u.PasswordHash == "" {
		h.VerifyDummy(current)
		return Refused(fmt.Errorf("%w: the user has no password", auth.ErrUnauthenticated))
	}
	if ok, _, err := h.Verify(u.PasswordHash, current); err != nil || !ok {
		return Refused(fmt.Errorf("%w: the current password is not the user's", auth.ErrUnauthenticated))
	}
	err = st.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{PasswordHash: &hash}); err != nil {
			return err
		}
		n, err := tx.RevokeUserSessions(ctx, u.Name, a.o.Now())
		if err != nil {
			return err
		}
		return auditIn(ctx, tx, u.Name, "user.password-changed", u.Name, map[string]any{"sessionsEnded": n})
	})
	return userError(err)
}

// DisableUser disables user name: their logins, sessions and API tokens
// stop working at once (the sessions are ended; the tokens are refused
// while the user is disabled). The last enabled admin cannot be disabled.
func (a *App) DisableUser(ctx context.Context, name string) (store.User, error) {
	return a.updateUser(ctx, name, func(tx store.Tx, actor string, u store.User) (store.User, error) {
		if err := keepAnAdmin(ctx, tx, u); err != nil {
			return u, err
		}
		out, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{Disabled: ptrTo(true)})
		if err != nil {
			return out, err
		}
		n, err := tx.RevokeUserSessions(ctx, u.Name, a.o.Now())
		if err != nil {
			return out, err
		}
		return out, auditIn(ctx, tx, actor, "user.disabled", u.Name, map[string]any{"sessionsEnded": n, "wasDisabled": u.Disabled})
	})
}

// EnableUser enables a disabled user again.
func (a *App) EnableUser(ctx context.Context, name string) (store.User, error) {
	return a.updateUser(ctx, name, func(tx store.Tx, actor string, u store.User) (store.User, error) {
		out, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{Disabled: ptrTo(false)})
		if err != nil {
			return out, err
		}
		return out, auditIn(ctx, tx, actor, "user.enabled", u.Name, map[string]any{"wasDisabled": u.Disabled})
	})
}

// SetRole gives user name role. The last enabled admin keeps the admin
// role. A lower role takes effect on the user's next request (sessions
// and tokens read the role at every use).
func (a *App) SetRole(ctx context.Context, name string, role auth.Role) (store.User, error) {
	if !role.Valid() {
		return store.User{}, BadInput(fmt.Errorf("%w %q: want viewer, operator, approver or admin", auth.ErrInvalidRole, role))
	}
	return a.updateUser(ctx, name, func(tx store.Tx, actor string, u store.User) (store.User, error) {
		if role != auth.RoleAdmin {
			if err := keepAnAdmin(ctx, tx, u); err != nil {
				return u, err
			}
		}
		out, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{Role: ptrTo(string(role))})
		if err != nil {
			return out, err
		}
		return out, auditIn(ctx, tx, actor, "user.role-set", u.Name, map[string]any{"from": u.Role, "to": string(role)})
	})
}

// SetEmail sets (or, with "", clears) the e-mail address OIDC logins of
// user name map to.
func (a *App) SetEmail(ctx context.Context, name, email string) (store.User, error) {
	e, err := parseEmail(email)
	if err != nil {
		return store.User{}, err
	}
	return a.updateUser(ctx, name, func(tx store.Tx, actor string, u store.User) (store.User, error) {
		if e == "" && u.PasswordHash == "" {
			return u, BadInput(fmt.Errorf("%s has no password: without an e-mail address they could not log in", u.Name))
		}
		out, err := tx.UpdateUser(ctx, u.Name, store.UserUpdate{Email: &e})
		if err != nil {
			return out, err
		}
		return out, auditIn(ctx, tx, actor, "user.email-set", u.Name, map[string]any{"from": u.Email, "to": e})
	})
}

func ptrTo[T any](v T) *T { return &v }

// TokenRequest asks for a new API token.
type TokenRequest struct {
	// Name tells the token apart from the owner's others ("ci-deploy").
	Name string
	// Owner is the user the token acts as.
	Owner string
	// Role is the token's scope; "" means the owner's role. It may not
	// exceed the owner's role, and the token acts with the lower of the
	// two whenever it is used.
	Role auth.Role
	// ExpiresIn ends the token after this long; 0 means never.
	ExpiresIn time.Duration
}

// NewToken is a token just created: Secret is shown once and never
// stored.
type NewToken struct {
	Token  store.APIToken `json:"token"`
	Secret string         `json:"secret"`
}

// MaxTokenName bounds a token's name.
const MaxTokenName = 100

// CreateToken creates an API token for r.Owner.
func (a *App) CreateToken(ctx context.Context, r TokenRequest) (NewToken, error) {
	if err := a.authorize(auth.ActionManageTokens); err != nil {
		return NewToken{}, err
	}
	name := strings.TrimSpace(r.Name)
	switch {
	case name == "":
		return NewToken{}, BadInput(errors.New("a token needs a name (--name), such as ci-deploy"))
	case len(name) > MaxTokenName:
		return NewToken{}, BadInput(fmt.Errorf("token name: %d bytes, more than the %d allowed", len(name), MaxTokenName))
	}
	if _, err := identity.Parse(name); err != nil {
		return NewToken{}, BadInput(fmt.Errorf("token name: %w", err))
	}
	if r.Role != "" && !r.Role.Valid() {
		return NewToken{}, BadInput(fmt.Errorf("%w %q: want viewer, operator, approver or admin", auth.ErrInvalidRole, r.Role))
	}
	if r.ExpiresIn < 0 {
		return NewToken{}, BadInput(fmt.Errorf("token expiry %s: want a positive duration, or none", r.ExpiresIn))
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return NewToken{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return NewToken{}, err
	}
	secret, err := auth.NewToken(nil)
	if err != nil {
		return NewToken{}, err
	}
	now := a.o.Now()
	var out store.APIToken
	err = st.WithTx(ctx, func(tx store.Tx) error {
		owner, err := tx.User(ctx, r.Owner)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("the token's owner: %w (orgguard user list lists them)", err)
		}
		if err != nil {
			return err
		}
		ownerRole := auth.Role(owner.Role)
		role := r.Role
		if role == "" {
			role = ownerRole
		}
		switch {
		case owner.Disabled:
			return BadInput(fmt.Errorf("%s is disabled: enable the user before giving them a token", owner.Name))
		case !ownerRole.AtLeast(role):
			return BadInput(fmt.Errorf("a token never exceeds its owner's role: %s is %s, the token asks for %s", owner.Name, ownerRole, role))
		}
		t := store.APIToken{Hash: secret.Hash, Hint: auth.TokenHint(secret.Text), Name: name, Owner: owner.Name, Role: string(role),
			CreatedAt: now, CreatedBy: actor}
		if r.ExpiresIn > 0 {
			t.ExpiresAt = now.Add(r.ExpiresIn)
		}
		if out, err = tx.CreateToken(ctx, t); err != nil {
			return err
		}
		return auditIn(ctx, tx, actor, "token.created", out.ID, map[string]any{"name": out.Name, "owner": out.Owner, "role": out.Role,
			"hint": out.Hint, "expiresAt": out.ExpiresAt})
	})
	if err != nil {
		return NewToken{}, userError(err)
	}
	return NewToken{Token: out, Secret: secret.Text}, nil
}

// ListTokens lists API tokens, newest first: owner's only when not empty,
// revoked ones too with includeRevoked. Secrets are never listed.
func (a *App) ListTokens(ctx context.Context, owner string, includeRevoked bool) ([]store.APIToken, error) {
	if err := a.authorize(auth.ActionManageTokens); err != nil {
		return nil, err
	}
	st, err := a.existingStore(ctx)
	if err != nil || st == nil {
		return []store.APIToken{}, err
	}
	ts, err := st.ListTokens(ctx, store.TokenFilter{Owner: owner, IncludeRevoked: includeRevoked})
	if ts == nil {
		ts = []store.APIToken{}
	}
	return ts, err
}

// RevokeToken revokes the API token with ID id: it is refused from then
// on.
func (a *App) RevokeToken(ctx context.Context, id string) (store.APIToken, error) {
	if err := a.authorize(auth.ActionManageTokens); err != nil {
		return store.APIToken{}, err
	}
	actor, err := a.ResolveActor(ctx)
	if err != nil {
		return store.APIToken{}, err
	}
	st, err := a.Store(ctx)
	if err != nil {
		return store.APIToken{}, err
	}
	var out store.APIToken
	err = st.WithTx(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.RevokeToken(ctx, id, actor, a.o.Now())
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w (orgguard token list lists them)", err)
		}
		if err != nil {
			return err
		}
		return auditIn(ctx, tx, actor, "token.revoked", out.ID, map[string]any{"name": out.Name, "owner": out.Owner})
	})
	if errors.Is(err, store.ErrConflict) {
		return out, BadInput(err)
	}
	return out, userError(err)
}
