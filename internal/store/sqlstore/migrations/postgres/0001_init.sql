-- 0001_init (PostgreSQL): plans, approvals, changes and their journal,
-- locks, the hash-chained audit log with its head checkpoint, incidents.
-- Keep in step with ../sqlite/0001_init.sql: same tables, same columns.
-- JSON columns are json, not jsonb: json keeps the text exactly as written,
-- which the audit hash depends on.

CREATE TABLE plans (
	id                 TEXT PRIMARY KEY,
	created_at         TIMESTAMPTZ NOT NULL,
	updated_at         TIMESTAMPTZ NOT NULL,
	author             TEXT NOT NULL,
	hash               TEXT NOT NULL,
	base_fingerprint   TEXT NOT NULL,
	verdict            TEXT NOT NULL,
	required_approvals INTEGER NOT NULL CHECK (required_approvals >= 0),
	state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'applying', 'applied', 'rolled-back', 'failed', 'superseded')),
	body               BYTEA NOT NULL
);
CREATE INDEX plans_by_created ON plans (created_at);
CREATE INDEX plans_by_state ON plans (state, created_at);

CREATE TABLE approvals (
	plan_id   TEXT NOT NULL REFERENCES plans (id),
	approver  TEXT NOT NULL,
	plan_hash TEXT NOT NULL,
	comment   TEXT NOT NULL,
	at        TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (plan_id, approver)
);

CREATE TABLE changes (
	id          TEXT PRIMARY KEY,
	plan_id     TEXT NOT NULL REFERENCES plans (id),
	kind        TEXT NOT NULL CHECK (kind IN ('apply', 'rollback', 'recover')),
	started_by  TEXT NOT NULL,
	started_at  TIMESTAMPTZ NOT NULL,
	finished_at TIMESTAMPTZ,
	state       TEXT NOT NULL CHECK (state IN ('running', 'applied', 'rolled-back', 'failed')),
	detail      JSON,
	last_seq    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX changes_by_state ON changes (state, started_at);
CREATE INDEX changes_by_plan ON changes (plan_id, started_at);

CREATE TABLE journal (
	change_id  TEXT NOT NULL REFERENCES changes (id),
	seq        BIGINT NOT NULL,
	step       INTEGER NOT NULL CHECK (step >= 0),
	phase      TEXT NOT NULL CHECK (phase IN ('intent', 'done', 'failed', 'rolled-back')),
	request_id TEXT NOT NULL,
	detail     JSON,
	at         TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (change_id, seq)
);

CREATE TABLE locks (
	name         TEXT PRIMARY KEY,
	holder       TEXT NOT NULL,
	token        TEXT NOT NULL,
	acquired_at  TIMESTAMPTZ NOT NULL,
	heartbeat_at TIMESTAMPTZ NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_log (
	seq       BIGINT PRIMARY KEY,
	at        TIMESTAMPTZ NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	detail    JSON,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);

-- The head checkpoint: the seq and hash of the last entry, updated in the
-- transaction that appends it (its row lock also serialises appends).
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Append-only: stop accidental updates and deletes. Deliberate tampering
-- is what the hash chain and `orgguard audit verify` detect.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE incidents (
	id        TEXT PRIMARY KEY,
	opened_at TIMESTAMPTZ NOT NULL,
	closed_at TIMESTAMPTZ,
	severity  TEXT NOT NULL,
	title     TEXT NOT NULL,
	state     TEXT NOT NULL,
	change_id TEXT REFERENCES changes (id),
	impact    JSON,
	last_seq  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX incidents_by_opened ON incidents (opened_at);

CREATE TABLE incident_events (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	seq         BIGINT NOT NULL,
	at          TIMESTAMPTZ NOT NULL,
	kind        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	message     TEXT NOT NULL,
	detail      JSON,
	PRIMARY KEY (incident_id, seq)
);
