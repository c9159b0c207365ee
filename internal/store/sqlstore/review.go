package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// PutSnapshot implements store.Snapshots.
func (o ops) PutSnapshot(ctx context.Context, fingerprint string, body []byte) error {
	if fingerprint == "" {
		return fmt.Errorf("storing a snapshot: %w: no fingerprint", store.ErrInvalid)
	}
	if err := checkText(fingerprint); err != nil {
		return fmt.Errorf("storing snapshot %s: %w", fingerprint, err)
	}
	if len(body) == 0 {
		return fmt.Errorf("storing snapshot %s: %w: empty body", fingerprint, store.ErrInvalid)
	}
	err := o.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO snapshots (fingerprint, created_at, body) VALUES (?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING`),
			fingerprint, o.s.d.timeArg(o.now()), body)
		return err
	})
	if err != nil {
		return fmt.Errorf("storing snapshot %s: %w", fingerprint, err)
	}
	return nil
}

// Snapshot implements store.Snapshots.
func (o ops) Snapshot(ctx context.Context, fingerprint string) ([]byte, error) {
	var body []byte
	err := o.reader().QueryRowContext(ctx, o.q(`SELECT body FROM snapshots WHERE fingerprint = ?`), fingerprint).Scan(bytesScan{&body})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("reading snapshot %s: %w", fingerprint, store.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("reading snapshot %s: %w", fingerprint, err)
	}
	return body, nil
}

const guardrailsColumns = `seq, hash, body, pinned_at, pinned_by, plan_id`

func scanGuardrails(row interface{ Scan(...any) error }) (store.GuardrailsVersion, error) {
	var v store.GuardrailsVersion
	var planID sql.NullString
	err := row.Scan(&v.Seq, &v.Hash, bytesScan{(*[]byte)(&v.Body)}, timeScan{&v.PinnedAt}, &v.PinnedBy, &planID)
	v.PlanID = planID.String
	return v, err
}

// PinGuardrails implements store.Guardrails.
func (o ops) PinGuardrails(ctx context.Context, v store.GuardrailsVersion, expectSeq int64) (store.GuardrailsVersion, error) {
	switch {
	case v.Hash == "":
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails: %w: no hash", store.ErrInvalid)
	case v.PinnedBy == "":
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: %w: nobody named", v.Hash, store.ErrInvalid)
	case len(v.Body) == 0:
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: %w: empty body", v.Hash, store.ErrInvalid)
	}
	if err := errors.Join(checkText(v.Hash, v.PinnedBy, v.PlanID), checkJSON("the guardrails", v.Body)); err != nil {
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: %w", v.Hash, err)
	}
	if v.PinnedAt.IsZero() {
		v.PinnedAt = o.now()
	}
	v.PinnedAt = v.PinnedAt.UTC().Truncate(time.Microsecond)
	var planID any
	if v.PlanID != "" {
		planID = v.PlanID
	}
	err := o.write(ctx, func(q querier) error {
		var last int64
		if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM guardrails`).Scan(&last); err != nil {
			return err
		}
		if expectSeq >= 0 && last != expectSeq {
			return &store.StateConflictError{Kind: "guardrails", ID: "pinned version", Want: fmt.Sprint(expectSeq), Current: fmt.Sprint(last)}
		}
		v.Seq = last + 1
		_, err := q.ExecContext(ctx, o.q(`INSERT INTO guardrails (`+guardrailsColumns+`) VALUES (?, ?, ?, ?, ?, ?)`),
			v.Seq, v.Hash, string(v.Body), o.s.d.timeArg(v.PinnedAt), v.PinnedBy, planID)
		return err
	})
	switch {
	case isUnique(err):
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: %w", v.Hash,
			&store.StateConflictError{Kind: "guardrails", ID: "pinned version", Want: fmt.Sprint(expectSeq), Current: "changed concurrently"})
	case isForeignKey(err):
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: plan %s: %w", v.Hash, v.PlanID, store.ErrNotFound)
	case err != nil:
		return store.GuardrailsVersion{}, fmt.Errorf("pinning guardrails %s: %w", v.Hash, err)
	}
	return v, nil
}

// PinnedGuardrails implements store.Guardrails.
func (o ops) PinnedGuardrails(ctx context.Context) (store.GuardrailsVersion, error) {
	v, err := scanGuardrails(o.reader().QueryRowContext(ctx, `SELECT `+guardrailsColumns+` FROM guardrails ORDER BY seq DESC LIMIT 1`))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.GuardrailsVersion{}, fmt.Errorf("reading the pinned guardrails: %w", store.ErrNotFound)
	case err != nil:
		return store.GuardrailsVersion{}, fmt.Errorf("reading the pinned guardrails: %w", err)
	}
	return v, nil
}

// ListGuardrails implements store.Guardrails.
func (o ops) ListGuardrails(ctx context.Context) ([]store.GuardrailsVersion, error) {
	return queryAll(ctx, o.reader(), "listing guardrails versions", `SELECT `+guardrailsColumns+` FROM guardrails ORDER BY seq`, nil, scanGuardrails)
}
