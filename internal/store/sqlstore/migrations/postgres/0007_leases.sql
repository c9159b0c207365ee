-- 0007_leases (PostgreSQL): leadership leases (team mode). One row per
-- lease name, never deleted: a release only ends the tenure, so the epoch
-- keeps counting and a fence from an old tenure can never match again.
-- Times are the database's (clock_timestamp()). Keep in step with
-- ../sqlite/0007_leases.sql.

CREATE TABLE leases (
	name        TEXT PRIMARY KEY,
	holder      TEXT NOT NULL,            -- '' once released
	epoch       BIGINT NOT NULL CHECK (epoch > 0),
	acquired_at TIMESTAMPTZ NOT NULL,
	renewed_at  TIMESTAMPTZ NOT NULL,
	expires_at  TIMESTAMPTZ NOT NULL
);
