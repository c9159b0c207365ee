-- 0006_auth (PostgreSQL): users, API tokens, browser sessions, and the login
-- failures and lockouts that throttle password logins across replicas.
-- Keep in step with ../sqlite/0006_auth.sql.
--
-- A user is keyed by the comparison key of their name (identity.Key:
-- NFKC, case-folded, look-alike letters mapped), so that "Alice" and
-- "alice" cannot both exist; name keeps the name as written. Tokens and
-- sessions are stored as the SHA-256 of their secret only.

CREATE TABLE users (
	name_key            TEXT PRIMARY KEY,
	name                TEXT NOT NULL,
	email               TEXT NOT NULL DEFAULT '',
	password_hash       TEXT NOT NULL DEFAULT '',  -- a PHC string; '' when the user has no password (OIDC only)
	role                TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
	disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at          TIMESTAMPTZ NOT NULL,
	updated_at          TIMESTAMPTZ NOT NULL,
	password_changed_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_by_email ON users (email) WHERE email <> '';

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,
	hash         TEXT NOT NULL UNIQUE,
	hint         TEXT NOT NULL,
	name         TEXT NOT NULL,
	owner_key    TEXT NOT NULL REFERENCES users (name_key),
	role         TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin')),
	created_at   TIMESTAMPTZ NOT NULL,
	created_by   TEXT NOT NULL,
	expires_at   TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ,
	revoked_at   TIMESTAMPTZ,
	revoked_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (owner_key, name) WHERE revoked_at IS NULL;

CREATE TABLE sessions (
	hash         TEXT PRIMARY KEY,
	user_key     TEXT NOT NULL REFERENCES users (name_key),
	method       TEXT NOT NULL CHECK (method IN ('password', 'oidc')),
	client_ip    TEXT NOT NULL DEFAULT '',
	created_at   TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL,
	revoked_at   TIMESTAMPTZ
);
CREATE INDEX sessions_by_user ON sessions (user_key, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_failures (
	id      BIGSERIAL PRIMARY KEY,
	scope   TEXT NOT NULL CHECK (scope IN ('user', 'ip')),
	subject TEXT NOT NULL,
	at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_by_subject ON login_failures (scope, subject, at);
CREATE INDEX login_failures_by_time ON login_failures (at);

CREATE TABLE login_locks (
	scope        TEXT NOT NULL CHECK (scope IN ('user', 'ip')),
	subject      TEXT NOT NULL,
	locked_until TIMESTAMPTZ NOT NULL,
	lockouts     INTEGER NOT NULL CHECK (lockouts >= 1),
	locked_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (scope, subject)
);
