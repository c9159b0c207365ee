-- 0004_latest_snapshot (SQLite): which stored snapshot is the latest whole
-- read of each organization source (the backend's Source: "aws:PROFILE/
-- REGION@ENDPOINT"), so that planning on AWS can start from it and verify
-- only the parts a change touches with partial reads instead of reading the
-- whole organization again. The snapshot itself stays content-addressed in
-- snapshots. Keep in step with ../postgres/0004_latest_snapshot.sql.

CREATE TABLE latest_snapshots (
	source      TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL REFERENCES snapshots (fingerprint),
	taken_at    TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
