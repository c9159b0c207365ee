package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/store"
)

const changeColumns = `id, plan_id, kind, started_by, started_at, finished_at, state, detail`

func scanChange(row interface{ Scan(...any) error }) (store.Change, error) {
	var c store.Change
	err := row.Scan(&c.ID, &c.PlanID, &c.Kind, &c.StartedBy, timeScan{&c.StartedAt}, timeScan{&c.FinishedAt},
		&c.State, bytesScan{(*[]byte)(&c.Detail)})
	return c, err
}

// checkText refuses strings PostgreSQL cannot store in TEXT (NUL bytes,
// invalid UTF-8), so that both dialects accept exactly the same records.
func checkText(fields ...string) error {
	for _, f := range fields {
		if !utf8.ValidString(f) {
			return fmt.Errorf("%w: %q is not valid UTF-8", store.ErrInvalid, f)
		}
		if strings.IndexByte(f, 0) >= 0 {
			return fmt.Errorf("%w: %q contains a NUL byte", store.ErrInvalid, f)
		}
	}
	return nil
}

// checkJSON refuses detail that is not one JSON value.
func checkJSON(what string, b []byte) error {
	if len(b) > 0 && !json.Valid(b) {
		return fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	return nil
}

// StartChange implements store.Changes.
func (o ops) StartChange(ctx context.Context, c store.Change) (store.Change, error) {
	if c.ID == "" {
		c.ID = newID("change")
	}
	if c.Kind == "" {
		c.Kind = store.ChangeApply
	}
	switch {
	case c.PlanID == "":
		return store.Change{}, fmt.Errorf("starting change %s: %w: no plan ID", c.ID, store.ErrInvalid)
	case !c.Kind.Valid():
		return store.Change{}, fmt.Errorf("starting change %s: %w: unknown kind %q", c.ID, store.ErrInvalid, c.Kind)
	}
	if err := errors.Join(checkText(c.ID, c.PlanID, c.StartedBy), checkJSON("the change detail", c.Detail)); err != nil {
		return store.Change{}, fmt.Errorf("starting change %s: %w", c.ID, err)
	}
	c.State = store.ChangeRunning
	c.StartedAt = o.now()
	c.FinishedAt = time.Time{}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO changes (`+changeColumns+`) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`),
			c.ID, c.PlanID, string(c.Kind), c.StartedBy, o.s.d.timeArg(c.StartedAt), string(c.State), jsonArg(c.Detail))
		return err
	})
	switch {
	case isUnique(err):
		return store.Change{}, fmt.Errorf("starting change %s: %w", c.ID, store.ErrAlreadyExists)
	case isForeignKey(err):
		return store.Change{}, fmt.Errorf("starting change %s: plan %s %w", c.ID, c.PlanID, store.ErrNotFound)
	case err != nil:
		return store.Change{}, fmt.Errorf("starting change %s: %w", c.ID, err)
	}
	return c, nil
}

// Change implements store.Changes.
func (o ops) Change(ctx context.Context, id string) (store.Change, error) {
	c, err := scanChange(o.reader().QueryRowContext(ctx, o.q(`SELECT `+changeColumns+` FROM changes WHERE id = ?`), id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Change{}, fmt.Errorf("reading change %s: %w", id, store.ErrNotFound)
	case err != nil:
		return store.Change{}, fmt.Errorf("reading change %s: %w", id, err)
	}
	return c, nil
}

func (o ops) listChanges(ctx context.Context, what, where, order string, args []any, limit int) ([]store.Change, error) {
	rows, err := o.reader().QueryContext(ctx, o.q(`SELECT `+changeColumns+` FROM changes`+where+order+limitClause(limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.Change
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", what, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}

// ListChanges implements store.Changes.
func (o ops) ListChanges(ctx context.Context, f store.ChangeFilter) ([]store.Change, error) {
	where, sep := "", " WHERE "
	var args []any
	if f.PlanID != "" {
		where += sep + "plan_id = ?"
		sep = " AND "
		args = append(args, f.PlanID)
	}
	if f.State != "" {
		where += sep + "state = ?"
		args = append(args, string(f.State))
	}
	return o.listChanges(ctx, "changes", where, ` ORDER BY started_at DESC, id DESC`, args, f.Limit)
}

// UnfinishedChanges implements store.Changes.
func (o ops) UnfinishedChanges(ctx context.Context) ([]store.Change, error) {
	return o.listChanges(ctx, "unfinished changes", ` WHERE state = ?`, ` ORDER BY started_at, id`,
		[]any{string(store.ChangeRunning)}, 0)
}

// FinishChange implements store.Changes.
func (o ops) FinishChange(ctx context.Context, id string, state store.ChangeState, detail []byte) (store.Change, error) {
	if !state.Final() {
		return store.Change{}, fmt.Errorf("finishing change %s: %w: %q is not a final state", id, store.ErrInvalid, state)
	}
	if err := checkJSON("the change detail", detail); err != nil {
		return store.Change{}, fmt.Errorf("finishing change %s: %w", id, err)
	}
	var c store.Change
	err := o.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, o.q(`UPDATE changes SET state = ?, finished_at = ?, detail = COALESCE(?, detail) WHERE id = ? AND state = ?`),
			string(state), o.s.d.timeArg(o.now()), jsonArg(detail), id, string(store.ChangeRunning))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		c, err = scanChange(q.QueryRowContext(ctx, o.q(`SELECT `+changeColumns+` FROM changes WHERE id = ?`), id))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case n == 0:
			return &store.StateConflictError{Kind: "change", ID: id, Want: string(store.ChangeRunning), Current: string(c.State)}
		}
		return nil
	})
	if err != nil {
		return store.Change{}, fmt.Errorf("finishing change %s as %s: %w", id, state, err)
	}
	return c, nil
}

// AppendJournal implements store.Changes. The change row's counter hands
// out sequence numbers; taking it also serialises concurrent appends.
func (o ops) AppendJournal(ctx context.Context, e store.JournalEntry) (store.JournalEntry, error) {
	switch {
	case !e.Phase.Valid():
		return store.JournalEntry{}, fmt.Errorf("journaling step %d of change %s: %w: unknown phase %q", e.Step, e.ChangeID, store.ErrInvalid, e.Phase)
	case e.Step < 0:
		return store.JournalEntry{}, fmt.Errorf("journaling step %d of change %s: %w: negative step", e.Step, e.ChangeID, store.ErrInvalid)
	}
	if err := errors.Join(checkText(e.RequestID), checkJSON("the journal detail", e.Detail)); err != nil {
		return store.JournalEntry{}, fmt.Errorf("journaling step %d of change %s: %w", e.Step, e.ChangeID, err)
	}
	e.At = o.now()
	err := o.write(ctx, func(q querier) error {
		err := q.QueryRowContext(ctx, o.q(`UPDATE changes SET last_seq = last_seq + 1 WHERE id = ? AND state = ? RETURNING last_seq`),
			e.ChangeID, string(store.ChangeRunning)).Scan(&e.Seq)
		if errors.Is(err, sql.ErrNoRows) {
			var state string
			err := q.QueryRowContext(ctx, o.q(`SELECT state FROM changes WHERE id = ?`), e.ChangeID).Scan(&state)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("change %w", store.ErrNotFound)
			case err != nil:
				return err
			}
			return &store.StateConflictError{Kind: "change", ID: e.ChangeID, Want: string(store.ChangeRunning), Current: state}
		}
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, o.q(`INSERT INTO journal (change_id, seq, step, phase, request_id, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			e.ChangeID, e.Seq, e.Step, string(e.Phase), e.RequestID, jsonArg(e.Detail), o.s.d.timeArg(e.At))
		return err
	})
	if err != nil {
		return store.JournalEntry{}, fmt.Errorf("journaling step %d (%s) of change %s: %w", e.Step, e.Phase, e.ChangeID, err)
	}
	return e, nil
}

// Journal implements store.Changes.
func (o ops) Journal(ctx context.Context, changeID string) ([]store.JournalEntry, error) {
	rows, err := o.reader().QueryContext(ctx, o.q(`SELECT change_id, seq, step, phase, request_id, detail, at FROM journal WHERE change_id = ? ORDER BY seq`), changeID)
	if err != nil {
		return nil, fmt.Errorf("reading the journal of change %s: %w", changeID, err)
	}
	defer rows.Close()
	var out []store.JournalEntry
	for rows.Next() {
		var e store.JournalEntry
		if err := rows.Scan(&e.ChangeID, &e.Seq, &e.Step, &e.Phase, &e.RequestID, bytesScan{(*[]byte)(&e.Detail)}, timeScan{&e.At}); err != nil {
			return nil, fmt.Errorf("reading the journal of change %s: %w", changeID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the journal of change %s: %w", changeID, err)
	}
	return out, nil
}
