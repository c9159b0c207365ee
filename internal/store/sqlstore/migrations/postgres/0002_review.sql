-- 0002_review (PostgreSQL): the review chain lives wholly in the store.
-- See ../sqlite/0002_review.sql for what each table is for; keep in step.

CREATE TABLE snapshots (
	fingerprint TEXT PRIMARY KEY,
	created_at  TIMESTAMPTZ NOT NULL,
	body        BYTEA NOT NULL
);

CREATE TABLE guardrails (
	seq       BIGINT PRIMARY KEY,
	hash      TEXT NOT NULL,
	body      JSON NOT NULL,
	pinned_at TIMESTAMPTZ NOT NULL,
	pinned_by TEXT NOT NULL,
	plan_id   TEXT REFERENCES plans (id)
);

CREATE FUNCTION guardrails_append_only() RETURNS trigger AS $$
BEGIN
	RAISE EXCEPTION 'guardrails versions are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER guardrails_no_change BEFORE UPDATE OR DELETE ON guardrails
	FOR EACH ROW EXECUTE FUNCTION guardrails_append_only();

ALTER TABLE plans ADD COLUMN kind TEXT NOT NULL DEFAULT 'org' CHECK (kind IN ('org', 'guardrails'));
ALTER TABLE plans ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN guardrails TEXT NOT NULL DEFAULT '';
