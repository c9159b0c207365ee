-- 0001_init (SQLite): plans, approvals, changes and their journal, locks,
-- the hash-chained audit log with its head checkpoint, incidents.
-- Times are TEXT in UTC, fixed width with microseconds
-- (2006-01-02T15:04:05.000000Z), so that text order is time order.
-- Keep in step with ../postgres/0001_init.sql: same tables, same columns.

CREATE TABLE plans (
	id                 TEXT PRIMARY KEY,
	created_at         TEXT NOT NULL,
	updated_at         TEXT NOT NULL,
	author             TEXT NOT NULL,
	hash               TEXT NOT NULL,
	base_fingerprint   TEXT NOT NULL,
	verdict            TEXT NOT NULL,
	required_approvals INTEGER NOT NULL CHECK (required_approvals >= 0),
	state              TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'applying', 'applied', 'rolled-back', 'failed', 'superseded')),
	body               BLOB NOT NULL
);
CREATE INDEX plans_by_created ON plans (created_at);
CREATE INDEX plans_by_state ON plans (state, created_at);

CREATE TABLE approvals (
	plan_id   TEXT NOT NULL REFERENCES plans (id),
	approver  TEXT NOT NULL,
	plan_hash TEXT NOT NULL,
	comment   TEXT NOT NULL,
	at        TEXT NOT NULL,
	PRIMARY KEY (plan_id, approver)
);

CREATE TABLE changes (
	id          TEXT PRIMARY KEY,
	plan_id     TEXT NOT NULL REFERENCES plans (id),
	kind        TEXT NOT NULL CHECK (kind IN ('apply', 'rollback', 'recover')),
	started_by  TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	finished_at TEXT,
	state       TEXT NOT NULL CHECK (state IN ('running', 'applied', 'rolled-back', 'failed')),
	detail      TEXT CHECK (detail IS NULL OR json_valid(detail)),
	last_seq    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX changes_by_state ON changes (state, started_at);
CREATE INDEX changes_by_plan ON changes (plan_id, started_at);

CREATE TABLE journal (
	change_id  TEXT NOT NULL REFERENCES changes (id),
	seq        INTEGER NOT NULL,
	step       INTEGER NOT NULL CHECK (step >= 0),
	phase      TEXT NOT NULL CHECK (phase IN ('intent', 'done', 'failed', 'rolled-back')),
	request_id TEXT NOT NULL,
	detail     TEXT CHECK (detail IS NULL OR json_valid(detail)),
	at         TEXT NOT NULL,
	PRIMARY KEY (change_id, seq)
);

CREATE TABLE locks (
	name         TEXT PRIMARY KEY,
	holder       TEXT NOT NULL,
	token        TEXT NOT NULL,
	acquired_at  TEXT NOT NULL,
	heartbeat_at TEXT NOT NULL,
	expires_at   TEXT NOT NULL
);

CREATE TABLE audit_log (
	seq       INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	subject   TEXT NOT NULL,
	detail    TEXT,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);

-- The head checkpoint: the seq and hash of the last entry, updated in the
-- transaction that appends it. Verification compares the chain's end with
-- it, so deleting the newest entries is detected too.
CREATE TABLE audit_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Append-only: the store never updates or deletes audit entries. These
-- triggers stop accidents; deliberate tampering (dropping them) is what the
-- hash chain and `orgguard audit verify` detect.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE incidents (
	id        TEXT PRIMARY KEY,
	opened_at TEXT NOT NULL,
	closed_at TEXT,
	severity  TEXT NOT NULL,
	title     TEXT NOT NULL,
	state     TEXT NOT NULL,
	change_id TEXT REFERENCES changes (id),
	impact    TEXT CHECK (impact IS NULL OR json_valid(impact)),
	last_seq  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_by_opened ON incidents (opened_at);

CREATE TABLE incident_events (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	seq         INTEGER NOT NULL,
	at          TEXT NOT NULL,
	kind        TEXT NOT NULL,
	actor       TEXT NOT NULL,
	message     TEXT NOT NULL,
	detail      TEXT CHECK (detail IS NULL OR json_valid(detail)),
	PRIMARY KEY (incident_id, seq)
);
