-- 0005_notify (PostgreSQL): notice drafts and published notices, the time of
-- the first published notice (TTN), the durable outbox of every outgoing
-- message, and postmortems. Keep in step with ../sqlite/0005_notify.sql.

ALTER TABLE incidents ADD COLUMN first_notice_at TIMESTAMPTZ;

CREATE TABLE notice_drafts (
	incident_id TEXT NOT NULL REFERENCES incidents (id),
	lang        TEXT NOT NULL,
	title       TEXT NOT NULL,
	body        TEXT NOT NULL,
	origin      TEXT NOT NULL,  -- template (regenerated while untouched) or edited
	updated_at  TIMESTAMPTZ NOT NULL,
	updated_by  TEXT NOT NULL,
	PRIMARY KEY (incident_id, lang)
);

CREATE TABLE notices (
	incident_id  TEXT NOT NULL REFERENCES incidents (id),
	seq          BIGINT NOT NULL,
	lang         TEXT NOT NULL,
	title        TEXT NOT NULL,
	body         TEXT NOT NULL,
	state        TEXT NOT NULL,
	published_at TIMESTAMPTZ NOT NULL,
	published_by TEXT NOT NULL,
	PRIMARY KEY (incident_id, seq)
);
CREATE INDEX notices_by_time ON notices (published_at);

CREATE TABLE outbox (
	id          BIGSERIAL PRIMARY KEY,
	key         TEXT NOT NULL UNIQUE,
	channel     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	incident_id TEXT NOT NULL DEFAULT '',
	payload     JSON NOT NULL,
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	created_at  TIMESTAMPTZ NOT NULL,
	next_at     TIMESTAMPTZ NOT NULL,
	sent_at     TIMESTAMPTZ,
	last_error  TEXT NOT NULL DEFAULT '',
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (channel, state, next_at);
CREATE INDEX outbox_by_incident ON outbox (incident_id);

CREATE TABLE postmortems (
	incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
	state       TEXT NOT NULL,
	fields      JSON NOT NULL,
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	updated_by  TEXT NOT NULL
);
