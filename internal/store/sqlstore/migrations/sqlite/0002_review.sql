-- 0002_review (SQLite): the review chain lives wholly in the store.
-- * snapshots: the organization snapshots plans were made against,
--   content-addressed by fingerprint, so that approve and apply on any
--   machine sharing the store can re-derive a plan's verdict.
-- * guardrails: the pinned guardrails (append-only versions); the newest
--   row decides every verdict. Changing them is itself a reviewed plan.
-- * plans.kind: "org" (a change to the organization) or "guardrails" (a
--   change of the pinned guardrails); plans.guardrails and
--   approvals.guardrails: the hash of the guardrails in force.
-- Keep in step with ../postgres/0002_review.sql.

CREATE TABLE snapshots (
	fingerprint TEXT PRIMARY KEY,
	created_at  TEXT NOT NULL,
	body        BLOB NOT NULL
);

CREATE TABLE guardrails (
	seq       INTEGER PRIMARY KEY,
	hash      TEXT NOT NULL,
	body      TEXT NOT NULL CHECK (json_valid(body)),
	pinned_at TEXT NOT NULL,
	pinned_by TEXT NOT NULL,
	plan_id   TEXT REFERENCES plans (id)
);

CREATE TRIGGER guardrails_no_update BEFORE UPDATE ON guardrails
BEGIN
	SELECT RAISE(ABORT, 'guardrails versions are append-only');
END;
CREATE TRIGGER guardrails_no_delete BEFORE DELETE ON guardrails
BEGIN
	SELECT RAISE(ABORT, 'guardrails versions are append-only');
END;

ALTER TABLE plans ADD COLUMN kind TEXT NOT NULL DEFAULT 'org' CHECK (kind IN ('org', 'guardrails'));
ALTER TABLE plans ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
