package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

const incidentColumns = `id, opened_at, closed_at, severity, title, state, change_id, impact`

func scanIncident(row interface{ Scan(...any) error }) (store.Incident, error) {
	var in store.Incident
	var change sql.NullString
	err := row.Scan(&in.ID, timeScan{&in.OpenedAt}, timeScan{&in.ClosedAt}, &in.Severity, &in.Title, &in.State,
		&change, bytesScan{(*[]byte)(&in.Impact)})
	in.ChangeID = change.String
	return in, err
}

// OpenIncident implements store.Incidents.
func (o ops) OpenIncident(ctx context.Context, in store.Incident) (store.Incident, error) {
	if in.ID == "" {
		in.ID = newID("incident")
	}
	if in.State == "" {
		in.State = store.IncidentOpen
	}
	switch {
	case in.Title == "":
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: no title", in.ID, store.ErrInvalid)
	case !in.Severity.Valid():
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: unknown severity %q", in.ID, store.ErrInvalid, in.Severity)
	case !in.State.Valid():
		return store.Incident{}, fmt.Errorf("opening incident %s: %w: unknown state %q", in.ID, store.ErrInvalid, in.State)
	}
	if err := errors.Join(checkText(in.ID, in.Title, in.ChangeID), checkJSON("the impact", in.Impact)); err != nil {
		return store.Incident{}, fmt.Errorf("opening incident %s: %w", in.ID, err)
	}
	if in.OpenedAt.IsZero() {
		in.OpenedAt = o.now()
	}
	in.OpenedAt = in.OpenedAt.UTC().Truncate(time.Microsecond)
	in.ClosedAt = in.ClosedAt.UTC().Truncate(time.Microsecond)
	if in.State == store.IncidentClosed && in.ClosedAt.IsZero() {
		in.ClosedAt = o.now()
	}
	var change any
	if in.ChangeID != "" {
		change = in.ChangeID
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO incidents (`+incidentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			in.ID, o.s.d.timeArg(in.OpenedAt), o.s.d.nullTimeArg(in.ClosedAt), string(in.Severity), in.Title, string(in.State), change, jsonArg(in.Impact))
		return err
	})
	switch {
	case isUnique(err):
		return store.Incident{}, fmt.Errorf("opening incident %s: %w", in.ID, store.ErrAlreadyExists)
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

// ListIncidents implements store.Incidents.
func (o ops) ListIncidents(ctx context.Context, f store.IncidentFilter) ([]store.Incident, error) {
	query := `SELECT ` + incidentColumns + ` FROM incidents`
	var args []any
	if f.State != "" {
		query += ` WHERE state = ?`
		args = append(args, string(f.State))
	}
	rows, err := o.reader().QueryContext(ctx, o.q(query+` ORDER BY opened_at DESC, id DESC`+limitClause(f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	defer rows.Close()
	var out []store.Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("listing incidents: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing incidents: %w", err)
	}
	return out, nil
}

// SetIncidentState implements store.Incidents.
func (o ops) SetIncidentState(ctx context.Context, id string, state store.IncidentState) (store.Incident, error) {
	if !state.Valid() {
		return store.Incident{}, fmt.Errorf("setting incident %s to %q: %w: unknown state", id, state, store.ErrInvalid)
	}
	// closed_at is set exactly while an incident is closed; closing an
	// already closed incident keeps its first closing time.
	query, args := `UPDATE incidents SET closed_at = NULL, state = ? WHERE id = ?`, []any{string(state), id}
	if state == store.IncidentClosed {
		query, args = `UPDATE incidents SET closed_at = COALESCE(closed_at, ?), state = ? WHERE id = ?`,
			[]any{o.s.d.timeArg(o.now()), string(state), id}
	}
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
	if err != nil {
		return store.Incident{}, fmt.Errorf("setting incident %s to %s: %w", id, state, err)
	}
	return in, nil
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
