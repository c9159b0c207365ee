package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// SaveNoticeDraft implements store.Notices.
func (o ops) SaveNoticeDraft(ctx context.Context, d store.NoticeDraft) (store.NoticeDraft, error) {
	switch {
	case d.IncidentID == "" || d.Lang == "":
		return store.NoticeDraft{}, fmt.Errorf("saving a notice draft: %w: incident and language are required", store.ErrInvalid)
	case d.Origin != store.DraftTemplate && d.Origin != store.DraftEdited:
		return store.NoticeDraft{}, fmt.Errorf("saving the %s notice draft of incident %s: %w: origin %q", d.Lang, d.IncidentID, store.ErrInvalid, d.Origin)
	}
	if err := checkText(d.IncidentID, d.Lang, d.Title, d.Body, d.UpdatedBy); err != nil {
		return store.NoticeDraft{}, fmt.Errorf("saving the %s notice draft of incident %s: %w", d.Lang, d.IncidentID, err)
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = o.now()
	}
	d.UpdatedAt = utcMicro(d.UpdatedAt)
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO notice_drafts (incident_id, lang, title, body, origin, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (incident_id, lang) DO UPDATE SET title = excluded.title, body = excluded.body, origin = excluded.origin,
	updated_at = excluded.updated_at, updated_by = excluded.updated_by`),
			d.IncidentID, d.Lang, d.Title, d.Body, d.Origin, o.s.d.timeArg(d.UpdatedAt), d.UpdatedBy)
		return err
	})
	switch {
	case isForeignKey(err):
		return store.NoticeDraft{}, fmt.Errorf("saving the %s notice draft: incident %s %w", d.Lang, d.IncidentID, store.ErrNotFound)
	case err != nil:
		return store.NoticeDraft{}, fmt.Errorf("saving the %s notice draft of incident %s: %w", d.Lang, d.IncidentID, err)
	}
	return d, nil
}

// NoticeDrafts implements store.Notices.
func (o ops) NoticeDrafts(ctx context.Context, incidentID string) ([]store.NoticeDraft, error) {
	rows, err := o.reader().QueryContext(ctx, o.q(`SELECT incident_id, lang, title, body, origin, updated_at, updated_by FROM notice_drafts WHERE incident_id = ? ORDER BY lang`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("reading the notice drafts of incident %s: %w", incidentID, err)
	}
	defer rows.Close()
	var out []store.NoticeDraft
	for rows.Next() {
		var d store.NoticeDraft
		if err := rows.Scan(&d.IncidentID, &d.Lang, &d.Title, &d.Body, &d.Origin, timeScan{&d.UpdatedAt}, &d.UpdatedBy); err != nil {
			return nil, fmt.Errorf("reading the notice drafts of incident %s: %w", incidentID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the notice drafts of incident %s: %w", incidentID, err)
	}
	return out, nil
}

// PublishNotice implements store.Notices.
func (o ops) PublishNotice(ctx context.Context, n store.Notice) (store.Notice, error) {
	if n.IncidentID == "" || n.Lang == "" || strings.TrimSpace(n.Body) == "" {
		return store.Notice{}, fmt.Errorf("publishing a notice: %w: incident, language and body are required", store.ErrInvalid)
	}
	if err := checkText(n.IncidentID, n.Lang, n.Title, n.Body, n.PublishedBy, string(n.State)); err != nil {
		return store.Notice{}, fmt.Errorf("publishing a notice of incident %s: %w", n.IncidentID, err)
	}
	if n.PublishedAt.IsZero() {
		n.PublishedAt = o.now()
	}
	n.PublishedAt = utcMicro(n.PublishedAt)
	at := o.s.d.timeArg(n.PublishedAt)
	err := o.write(ctx, func(q querier) error {
		// The sequence number lives on the incident row, which the update
		// locks: two publishers of one incident queue instead of colliding.
		var state string
		err := q.QueryRowContext(ctx, o.q(`UPDATE incidents SET last_seq = last_seq, first_notice_at = COALESCE(first_notice_at, ?) WHERE id = ? RETURNING state`), at, n.IncidentID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incident %w", store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if n.State == "" {
			n.State = store.IncidentState(state)
		}
		if err := q.QueryRowContext(ctx, o.q(`SELECT COALESCE(MAX(seq), 0) + 1 FROM notices WHERE incident_id = ?`), n.IncidentID).Scan(&n.Seq); err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, o.q(`INSERT INTO notices (incident_id, seq, lang, title, body, state, published_at, published_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			n.IncidentID, n.Seq, n.Lang, n.Title, n.Body, string(n.State), at, n.PublishedBy)
		return err
	})
	if err != nil {
		return store.Notice{}, fmt.Errorf("publishing the %s notice of incident %s: %w", n.Lang, n.IncidentID, err)
	}
	return n, nil
}

// ListNotices implements store.Notices.
func (o ops) ListNotices(ctx context.Context, f store.NoticeFilter) ([]store.Notice, error) {
	query := `SELECT incident_id, seq, lang, title, body, state, published_at, published_by FROM notices`
	var where []string
	var args []any
	if f.IncidentID != "" {
		where, args = append(where, `incident_id = ?`), append(args, f.IncidentID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, `published_at >= ?`), append(args, o.s.d.timeArg(f.Since))
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := o.reader().QueryContext(ctx, o.q(query+` ORDER BY published_at DESC, incident_id, seq DESC`+limitClause(f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	defer rows.Close()
	var out []store.Notice
	for rows.Next() {
		var n store.Notice
		if err := rows.Scan(&n.IncidentID, &n.Seq, &n.Lang, &n.Title, &n.Body, &n.State, timeScan{&n.PublishedAt}, &n.PublishedBy); err != nil {
			return nil, fmt.Errorf("listing notices: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing notices: %w", err)
	}
	return out, nil
}

const outboxColumns = `id, key, channel, kind, incident_id, payload, state, attempts, created_at, next_at, sent_at, last_error, lease_owner, lease_until`

func scanMessage(row interface{ Scan(...any) error }) (store.OutboxMessage, error) {
	var m store.OutboxMessage
	err := row.Scan(&m.ID, &m.Key, &m.Channel, &m.Kind, &m.IncidentID, bytesScan{(*[]byte)(&m.Payload)}, &m.State, &m.Attempts,
		timeScan{&m.CreatedAt}, timeScan{&m.NextAt}, timeScan{&m.SentAt}, &m.LastError, &m.LeaseOwner, timeScan{&m.LeaseUntil})
	return m, err
}

// maxKey bounds an idempotency key (PagerDuty's dedup_key holds 255).
const maxKey = 255

// EnqueueMessage implements store.Outbox.
func (o ops) EnqueueMessage(ctx context.Context, m store.OutboxMessage) (store.OutboxMessage, bool, error) {
	switch {
	case m.Key == "" || m.Channel == "" || m.Kind == "":
		return store.OutboxMessage{}, false, fmt.Errorf("enqueueing a message: %w: key, channel and kind are required", store.ErrInvalid)
	case len(m.Key) > maxKey:
		return store.OutboxMessage{}, false, fmt.Errorf("enqueueing a message: %w: the key is longer than %d bytes", store.ErrInvalid, maxKey)
	case len(m.Payload) == 0 || !json.Valid(m.Payload):
		return store.OutboxMessage{}, false, fmt.Errorf("enqueueing message %s: %w: the payload is not one JSON value", m.Key, store.ErrInvalid)
	}
	if err := checkText(m.Key, m.Channel, m.Kind, m.IncidentID); err != nil {
		return store.OutboxMessage{}, false, fmt.Errorf("enqueueing message %s: %w", m.Key, err)
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = o.now()
	}
	m.CreatedAt = utcMicro(m.CreatedAt)
	if m.NextAt.IsZero() {
		m.NextAt = m.CreatedAt
	}
	m.NextAt = utcMicro(m.NextAt)
	m.State, m.Attempts, m.SentAt, m.LastError, m.LeaseOwner, m.LeaseUntil = store.OutboxPending, 0, time.Time{}, "", "", time.Time{}
	created := false
	err := o.write(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, o.q(`INSERT INTO outbox (key, channel, kind, incident_id, payload, state, attempts, created_at, next_at)
VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id`),
			m.Key, m.Channel, m.Kind, m.IncidentID, string(m.Payload), string(m.State), o.s.d.timeArg(m.CreatedAt), o.s.d.timeArg(m.NextAt)).Scan(&m.ID)
		if err == nil {
			created = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		m, err = scanMessage(q.QueryRowContext(ctx, o.q(`SELECT `+outboxColumns+` FROM outbox WHERE key = ?`), m.Key))
		return err
	})
	if err != nil {
		return store.OutboxMessage{}, false, fmt.Errorf("enqueueing message %s: %w", m.Key, err)
	}
	return m, created, nil
}

// ClaimMessages implements store.Outbox. One UPDATE picks and leases the
// messages; the conditions are repeated outside the sub-select so that on
// PostgreSQL a row another claimer leased in between is re-checked and
// skipped rather than leased twice.
func (o ops) ClaimMessages(ctx context.Context, r store.ClaimRequest) ([]store.OutboxMessage, error) {
	if r.Channel == "" || r.Owner == "" || r.Limit <= 0 {
		return nil, fmt.Errorf("claiming messages: %w: channel, owner and a positive limit are required", store.ErrInvalid)
	}
	now := r.Now
	if now.IsZero() {
		now = o.now()
	}
	if !r.Until.After(now) {
		return nil, fmt.Errorf("claiming messages of %s: %w: the lease ends before it starts", r.Channel, store.ErrInvalid)
	}
	d := o.s.d
	nowArg := d.timeArg(now)
	due := `channel = ? AND state = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?)`
	var out []store.OutboxMessage
	err := o.write(ctx, func(q querier) error {
		rows, err := q.QueryContext(ctx, o.q(`UPDATE outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
WHERE id IN (SELECT id FROM outbox WHERE `+due+` ORDER BY id LIMIT `+fmt.Sprint(r.Limit)+`) AND `+due+`
RETURNING `+outboxColumns),
			r.Owner, d.timeArg(r.Until), r.Channel, nowArg, nowArg, r.Channel, nowArg, nowArg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claiming messages of %s: %w", r.Channel, err)
	}
	// RETURNING gives no order guarantee.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// MarkSent implements store.Outbox.
func (o ops) MarkSent(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		at = o.now()
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`UPDATE outbox SET state = 'sent', sent_at = ?, lease_until = NULL, last_error = '' WHERE id = ? AND state = 'pending'`),
			o.s.d.timeArg(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("marking message %d sent: %w", id, err)
	}
	return nil
}

// MarkFailed implements store.Outbox.
func (o ops) MarkFailed(ctx context.Context, id int64, owner string, next time.Time, errText string, dead bool) error {
	if err := checkText(owner, errText); err != nil {
		return fmt.Errorf("marking message %d failed: %w", id, err)
	}
	if len(errText) > 1000 {
		errText = errText[:1000]
	}
	state := store.OutboxPending
	if dead {
		state = store.OutboxDead
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`UPDATE outbox SET state = ?, next_at = ?, last_error = ?, lease_until = NULL WHERE id = ? AND state = 'pending' AND lease_owner = ?`),
			string(state), o.s.d.timeArg(next), errText, id, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("marking message %d failed: %w", id, err)
	}
	return nil
}

// ListMessages implements store.Outbox.
func (o ops) ListMessages(ctx context.Context, f store.OutboxFilter) ([]store.OutboxMessage, error) {
	query := `SELECT ` + outboxColumns + ` FROM outbox`
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"state", string(f.State)}, {"channel", f.Channel}, {"incident_id", f.IncidentID}} {
		if c.v != "" {
			where, args = append(where, c.col+` = ?`), append(args, c.v)
		}
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return queryAll(ctx, o.reader(), "listing outbox messages", o.q(query+` ORDER BY id`+limitClause(f.Limit)), args, scanMessage)
}

// RetryMessage implements store.Outbox.
func (o ops) RetryMessage(ctx context.Context, id int64) error {
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE outbox SET state = 'pending', next_at = ? WHERE id = ? AND state <> 'sent'`), o.s.d.timeArg(o.now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("message %d: %w (or already sent)", id, store.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("retrying message %d: %w", id, err)
	}
	return nil
}

// SavePostmortem implements store.Postmortems.
func (o ops) SavePostmortem(ctx context.Context, p store.Postmortem) (store.Postmortem, error) {
	if p.State == "" {
		p.State = store.PostmortemDraft
	}
	if p.State != store.PostmortemDraft && p.State != store.PostmortemFinal {
		return store.Postmortem{}, fmt.Errorf("saving the postmortem of incident %s: %w: state %q", p.IncidentID, store.ErrInvalid, p.State)
	}
	text := []string{p.IncidentID, p.UpdatedBy}
	for k, v := range p.Fields {
		text = append(text, k, v)
	}
	if err := checkText(text...); err != nil {
		return store.Postmortem{}, fmt.Errorf("saving the postmortem of incident %s: %w", p.IncidentID, err)
	}
	if p.Fields == nil {
		p.Fields = map[string]string{}
	}
	fields, err := json.Marshal(p.Fields)
	if err != nil {
		return store.Postmortem{}, fmt.Errorf("encoding the postmortem of incident %s: %w", p.IncidentID, err)
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = o.now()
	}
	p.UpdatedAt = utcMicro(p.UpdatedAt)
	if p.CreatedAt.IsZero() {
		p.CreatedAt = p.UpdatedAt
	}
	p.CreatedAt = utcMicro(p.CreatedAt)
	d := o.s.d
	err = o.write(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, o.q(`INSERT INTO postmortems (incident_id, state, fields, created_at, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (incident_id) DO UPDATE SET state = excluded.state, fields = excluded.fields, updated_at = excluded.updated_at, updated_by = excluded.updated_by
RETURNING created_at`), p.IncidentID, p.State, string(fields), d.timeArg(p.CreatedAt), d.timeArg(p.UpdatedAt), p.UpdatedBy).Scan(timeScan{&p.CreatedAt})
		return err
	})
	switch {
	case isForeignKey(err):
		return store.Postmortem{}, fmt.Errorf("saving a postmortem: incident %s %w", p.IncidentID, store.ErrNotFound)
	case err != nil:
		return store.Postmortem{}, fmt.Errorf("saving the postmortem of incident %s: %w", p.IncidentID, err)
	}
	return p, nil
}

// Postmortem implements store.Postmortems.
func (o ops) Postmortem(ctx context.Context, incidentID string) (store.Postmortem, error) {
	p := store.Postmortem{IncidentID: incidentID}
	var fields []byte
	err := o.reader().QueryRowContext(ctx, o.q(`SELECT state, fields, created_at, updated_at, updated_by FROM postmortems WHERE incident_id = ?`), incidentID).
		Scan(&p.State, bytesScan{&fields}, timeScan{&p.CreatedAt}, timeScan{&p.UpdatedAt}, &p.UpdatedBy)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Postmortem{}, fmt.Errorf("reading the postmortem of incident %s: %w", incidentID, store.ErrNotFound)
	case err != nil:
		return store.Postmortem{}, fmt.Errorf("reading the postmortem of incident %s: %w", incidentID, err)
	}
	if err := json.Unmarshal(fields, &p.Fields); err != nil {
		return store.Postmortem{}, fmt.Errorf("decoding the postmortem of incident %s: %w", incidentID, err)
	}
	return p, nil
}
