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

const incidentColumns = `id, opened_at, closed_at, severity, title, state, change_id, impact,
	source, opened_by, rule, dedup_key, impact_started_at, detected_at, acknowledged_at, mitigated_at, accounts, customers, first_notice_at`

func scanIncident(row interface{ Scan(...any) error }) (store.Incident, error) {
	var in store.Incident
	var change, key sql.NullString
	var accounts, customers []byte
	err := row.Scan(&in.ID, timeScan{&in.OpenedAt}, timeScan{&in.ResolvedAt}, &in.Severity, &in.Title, &in.State,
		&change, bytesScan{(*[]byte)(&in.Impact)},
		&in.Source, &in.OpenedBy, &in.Rule, &key, timeScan{&in.ImpactStartedAt}, timeScan{&in.DetectedAt},
		timeScan{&in.AcknowledgedAt}, timeScan{&in.MitigatedAt}, bytesScan{&accounts}, bytesScan{&customers}, timeScan{&in.FirstNoticeAt})
	if err != nil {
		return in, err
	}
	in.ChangeID, in.DedupKey = change.String, key.String
	if err := decodeList(accounts, &in.Accounts); err != nil {
		return in, fmt.Errorf("decoding the accounts of incident %s: %w", in.ID, err)
	}
	if err := decodeList(customers, &in.Customers); err != nil {
		return in, fmt.Errorf("decoding the customers of incident %s: %w", in.ID, err)
	}
	return in, nil
}

func decodeList(b []byte, into *[]string) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, into)
}

func listArg(l []string) any {
	if len(l) == 0 {
		return nil
	}
	b, _ := json.Marshal(l) // a []string always encodes
	return string(b)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func utcMicro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// OpenIncident implements store.Incidents.
func (o ops) OpenIncident(ctx context.Context, in store.Incident) (store.Incident, error) {
	if in.ID == "" {
		in.ID = newID("incident")
	}
	if in.State == "" {
		in.State = store.IncidentInvestigating
	}
	switch {
	case in.Title == "":
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: no title", in.ID, store.ErrInvalid)
	case !in.Severity.Valid():
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: unknown severity %q", in.ID, store.ErrInvalid, in.Severity)
	case !in.State.Valid():
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: unknown state %q", in.ID, store.ErrInvalid, in.State)
	}
	text := append([]string{in.ID, in.Title, in.ChangeID, in.Source, in.OpenedBy, in.Rule, in.DedupKey}, in.Accounts...)
	text = append(text, in.Customers...)
	if err := errors.Join(checkText(text...), checkJSON("the impact", in.Impact)); err != nil {
		return store.Incident{}, fmt.Errorf("opening incident %s: %w", in.ID, err)
	}
	if in.OpenedAt.IsZero() {
		in.OpenedAt = o.now()
	}
	in.OpenedAt = utcMicro(in.OpenedAt)
	for _, t := range []*time.Time{&in.ResolvedAt, &in.ImpactStartedAt, &in.DetectedAt, &in.AcknowledgedAt, &in.MitigatedAt, &in.FirstNoticeAt} {
		*t = utcMicro(*t)
	}
	if in.DetectedAt.IsZero() {
		in.DetectedAt = in.OpenedAt
	}
	if (in.State == store.IncidentMonitoring || in.State == store.IncidentResolved) && in.MitigatedAt.IsZero() {
		in.MitigatedAt = in.OpenedAt
	}
	if in.State == store.IncidentResolved && in.ResolvedAt.IsZero() {
		in.ResolvedAt = in.OpenedAt
	}
	if in.State != store.IncidentResolved {
		in.ResolvedAt = time.Time{}
	}
	d := o.s.d
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO incidents (`+incidentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			in.ID, d.timeArg(in.OpenedAt), d.nullTimeArg(in.ResolvedAt), string(in.Severity), in.Title, string(in.State),
			nullString(in.ChangeID), jsonArg(in.Impact),
			in.Source, in.OpenedBy, in.Rule, nullString(in.DedupKey), d.nullTimeArg(in.ImpactStartedAt), d.nullTimeArg(in.DetectedAt),
			d.nullTimeArg(in.AcknowledgedAt), d.nullTimeArg(in.MitigatedAt), listArg(in.Accounts), listArg(in.Customers), d.nullTimeArg(in.FirstNoticeAt))
		return err
	})
	switch {
	case isUnique(err):
		return store.Incident{}, fmt.Errorf("opening incident %s (key %q): %w", in.ID, in.DedupKey, store.ErrAlreadyExists)
	case isForeignKey(err):
		return store.Incident{}, fmt.Errorf("opening incident %s: change %s %w", in.ID, in.ChangeID, store.ErrNotFound)
	case err != nil:
		return store.Incident{}, fmt.Errorf("opening incident %s: %w", in.ID, err)
	}
	return in, nil
}

// Incident implements store.Incidents.
func (o ops) Incident(ctx context.Context, id string) (store.Incident, error) {
	in, err := scanIncident(o.reader().QueryRowContext(ctx, o.q(`SELECT `+incidentColumns+` FROM incidents WHERE id = ?`), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Incident{}, fmt.Errorf("reading incident %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Incident{}, fmt.Errorf("reading incident %s: %w", id, err)
	}
	return in, nil
}

// IncidentByKey implements store.Incidents.
func (o ops) IncidentByKey(ctx context.Context, key string) (store.Incident, error) {
	if key == "" {
		return store.Incident{}, fmt.Errorf("reading the incident with an empty key: %w", store.ErrNotFound)
	}
	in, err := scanIncident(o.reader().QueryRowContext(ctx, o.q(`SELECT `+incidentColumns+` FROM incidents WHERE dedup_key = ?`), key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Incident{}, fmt.Errorf("reading the incident with key %q: %w", key, store.ErrNotFound)
	case err != nil:
		return store.Incident{}, fmt.Errorf("reading the incident with key %q: %w", key, err)
	}
	return in, nil
}

// ListIncidents implements store.Incidents.
func (o ops) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	query := `SELECT ` + incidentColumns + ` FROM incidents`
	var where []string
	var args []any
	if f.State != "" {
		where = append(where, `state = ?`)
		args = append(args, string(f.State))
	}
	if f.Active {
		where = append(where, `state <> ?`)
		args = append(args, string(store.IncidentResolved))
	}
	if !f.Since.IsZero() {
		where = append(where, `opened_at >= ?`)
		args = append(args, o.s.d.timeArg(f.Since))
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return queryAll(ctx, o.reader(), "listing incidents", o.q(query+` ORDER BY opened_at DESC, id DESC`+limitClause(f.Limit)), args, scanIncident)
}

// SetIncidentState implements store.Incidents.
func (o ops) SetIncidentState(ctx context.Context, id string, state store.IncidentState) (store.Incident, error) {
	if !state.Valid() {
		return store.Incident{}, fmt.Errorf("setting incident %s to %q: %w: unknown state", id, state, store.ErrInvalid)
	}
	now := o.s.d.timeArg(o.now())
	// closed_at holds the resolution time: set exactly while an incident is
	// resolved; resolving an already resolved incident keeps the first time.
	// mitigated_at is set once, when the incident first reaches monitoring
	// or resolved.
	query, args := `UPDATE incidents SET closed_at = NULL, state = ? WHERE id = ?`, []any{string(state), id}
	switch state {
	case store.IncidentMonitoring:
		query, args = `UPDATE incidents SET closed_at = NULL, mitigated_at = COALESCE(mitigated_at, ?), state = ? WHERE id = ?`,
			[]any{now, string(state), id}
	case store.IncidentResolved:
		query, args = `UPDATE incidents SET closed_at = COALESCE(closed_at, ?), mitigated_at = COALESCE(mitigated_at, ?), state = ? WHERE id = ?`,
			[]any{now, now, string(state), id}
	}
	in, err := o.updateIncident(ctx, id, query, args)
	if err != nil {
		return store.Incident{}, fmt.Errorf("setting incident %s to %s: %w", id, state, err)
	}
	return in, nil
}

// MarkIncident implements store.Incidents.
func (o ops) MarkIncident(ctx context.Context, id string, mark store.IncidentMark, at time.Time) (store.Incident, error) {
	var col string
	switch mark {
	case store.MarkAcknowledged:
		col = "acknowledged_at"
	case store.MarkMitigated:
		col = "mitigated_at"
	default:
		return store.Incident{}, fmt.Errorf("marking incident %s: %w: unknown milestone %q", id, store.ErrInvalid, mark)
	}
	if at.IsZero() {
		at = o.now()
	}
	in, err := o.updateIncident(ctx, id, `UPDATE incidents SET `+col+` = COALESCE(`+col+`, ?) WHERE id = ?`, []any{o.s.d.timeArg(at), id})
	if err != nil {
		return store.Incident{}, fmt.Errorf("marking incident %s %s: %w", id, mark, err)
	}
	return in, nil
}

// updateIncident runs one UPDATE of incident id and returns the row after it.
func (o ops) updateIncident(ctx context.Context, id, query string, args []any) (store.Incident, error) {
	var in store.Incident
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(query), args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		in, err = scanIncident(q.QueryRowContext(ctx, o.q(`SELECT `+incidentColumns+` FROM incidents WHERE id = ?`), id))
		return err
	})
	return in, err
}

// AddIncidentEvent implements store.Incidents.
func (o ops) AddIncidentEvent(ctx context.Context, ev store.IncidentEvent) (store.IncidentEvent, error) {
	if ev.Kind == "" || ev.Message == "" {
		return store.IncidentEvent{}, fmt.Errorf("adding to the timeline of incident %s: %w: kind and message are required", ev.IncidentID, store.ErrInvalid)
	}
	if err := errors.Join(checkText(ev.Kind, ev.Actor, ev.Message), checkJSON("the event detail", ev.Detail)); err != nil {
		return store.IncidentEvent{}, fmt.Errorf("adding to the timeline of incident %s: %w", ev.IncidentID, err)
	}
	if ev.At.IsZero() {
		ev.At = o.now()
	}
	ev.At = ev.At.UTC().Truncate(time.Microsecond)
	err := o.write(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, o.q(`UPDATE incidents SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`), ev.IncidentID).Scan(&ev.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("incident %w", store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, o.q(`INSERT INTO incident_events (incident_id, seq, at, kind, actor, message, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			ev.IncidentID, ev.Seq, o.s.d.timeArg(ev.At), ev.Kind, ev.Actor, ev.Message, jsonArg(ev.Detail))
		return err
	})
	if err != nil {
		return store.IncidentEvent{}, fmt.Errorf("adding to the timeline of incident %s: %w", ev.IncidentID, err)
	}
	return ev, nil
}

// IncidentTimeline implements store.Incidents.
func (o ops) IncidentTimeline(ctx context.Context, incidentID string) ([]store.IncidentEvent, error) {
	rows, err := o.reader().QueryContext(ctx, o.q(`SELECT incident_id, seq, at, kind, actor, message, detail FROM incident_events WHERE incident_id = ? ORDER BY seq`), incidentID)
	if err != nil {
		return nil, fmt.Errorf("reading the timeline of incident %s: %w", incidentID, err)
	}
	defer rows.Close()
	var out []store.IncidentEvent
	for rows.Next() {
		var ev store.IncidentEvent
		if err := rows.Scan(&ev.IncidentID, &ev.Seq, timeScan{&ev.At}, &ev.Kind, &ev.Actor, &ev.Message, bytesScan{(*[]byte)(&ev.Detail)}); err != nil {
			return nil, fmt.Errorf("reading the timeline of incident %s: %w", incidentID, err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the timeline of incident %s: %w", incidentID, err)
	}
	return out, nil
}

// SaveWatchState implements store.Watches.
func (o ops) SaveWatchState(ctx context.Context, w store.WatchState) error {
	if w.Name == "" || len(w.Body) == 0 {
		return fmt.Errorf("saving watch state %q: %w: name and body are required", w.Name, store.ErrInvalid)
	}
	if err := checkText(w.Name, w.Fingerprint); err != nil {
		return fmt.Errorf("saving watch state %q: %w", w.Name, err)
	}
	if w.UpdatedAt.IsZero() {
		w.UpdatedAt = o.now()
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO watch_state (name, fingerprint, updated_at, body) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at, body = excluded.body`),
			w.Name, w.Fingerprint, o.s.d.timeArg(w.UpdatedAt), w.Body)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving watch state %q: %w", w.Name, err)
	}
	return nil
}

// WatchState implements store.Watches.
func (o ops) WatchState(ctx context.Context, name string) (store.WatchState, error) {
	w := store.WatchState{Name: name}
	err := o.reader().QueryRowContext(ctx, o.q(`SELECT fingerprint, updated_at, body FROM watch_state WHERE name = ?`), name).
		Scan(&w.Fingerprint, timeScan{&w.UpdatedAt}, bytesScan{&w.Body})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.WatchState{}, fmt.Errorf("reading watch state %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.WatchState{}, fmt.Errorf("reading watch state %q: %w", name, err)
	}
	return w, nil
}
