-- 0004_latest_snapshot (PostgreSQL): the latest whole read of each
-- organization source. See ../sqlite/0004_latest_snapshot.sql; keep in step.

CREATE TABLE latest_snapshots (
	source      TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL REFERENCES snapshots (fingerprint),
	taken_at    TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);
