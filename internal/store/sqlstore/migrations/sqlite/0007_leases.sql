-- 0007_leases (SQLite): leadership leases. One row per lease name, never
-- deleted: a release only ends the tenure, so the epoch keeps counting.
-- Team mode itself needs PostgreSQL; the table exists here so that both
-- dialects keep one schema. Keep in step with ../postgres/0007_leases.sql.

CREATE TABLE leases (
	name        TEXT PRIMARY KEY,
	holder      TEXT NOT NULL,
	epoch       INTEGER NOT NULL CHECK (epoch > 0),
	acquired_at TEXT NOT NULL,
	renewed_at  TEXT NOT NULL,
	expires_at  TEXT NOT NULL
);
