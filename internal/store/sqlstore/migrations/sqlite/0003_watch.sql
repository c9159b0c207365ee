-- 0003_watch (SQLite): the incident model of the watcher (states
-- investigating / identified / monitoring / resolved, the incident clock,
-- affected accounts and customers, a dedup key) and the watcher's last
-- known state. Keep in step with ../postgres/0003_watch.sql.

UPDATE incidents SET state = 'investigating' WHERE state = 'open';
UPDATE incidents SET state = 'monitoring' WHERE state = 'mitigated';
UPDATE incidents SET state = 'resolved' WHERE state = 'closed';

ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN opened_by TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN rule TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN dedup_key TEXT;
ALTER TABLE incidents ADD COLUMN impact_started_at TEXT;
ALTER TABLE incidents ADD COLUMN detected_at TEXT;
ALTER TABLE incidents ADD COLUMN acknowledged_at TEXT;
ALTER TABLE incidents ADD COLUMN mitigated_at TEXT;
ALTER TABLE incidents ADD COLUMN accounts TEXT CHECK (accounts IS NULL OR json_valid(accounts));
ALTER TABLE incidents ADD COLUMN customers TEXT CHECK (customers IS NULL OR json_valid(customers));

UPDATE incidents SET source = 'apply' WHERE change_id IS NOT NULL;
UPDATE incidents SET detected_at = opened_at;
UPDATE incidents SET mitigated_at = opened_at WHERE state IN ('monitoring', 'resolved');

CREATE UNIQUE INDEX incidents_by_dedup_key ON incidents (dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX incidents_by_state ON incidents (state);

CREATE TABLE watch_state (
	name        TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	body        BLOB NOT NULL
);
