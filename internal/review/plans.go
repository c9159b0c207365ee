package review

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/store"
)

// ErrPlanChanged: a plan file carries the ID of a stored plan but not its
// hash — it was changed (and re-sealed) after it was saved.
var ErrPlanChanged = errors.New("plan changed since it was saved")

// ErrNotSaved: a plan file whose ID is not in the store. Only plans that
// orgguard saved can be approved and applied.
var ErrNotSaved = errors.New("plan is not in the store")

// Save stores the plan file f, made against base, with its base snapshot
// and an audit entry, in one transaction, and returns the stored record.
// Saving the same plan again returns the stored record unchanged; a file
// with a stored plan's ID but another hash is ErrPlanChanged.
func Save(ctx context.Context, st store.Store, f *plan.File, base *org.Snapshot, actor string) (store.Plan, error) {
	if err := f.Verify(); err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", f.ID, err)
	}
	if p, err := st.Plan(ctx, f.ID); err == nil {
		if p.Hash != f.PlanHash {
			return store.Plan{}, fmt.Errorf("saving plan %s: %w: the store holds hash %s, this file has %s; approvals bind to the stored one — make a new plan", f.ID, ErrPlanChanged, p.Hash, f.PlanHash)
		}
		return p, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, err
	}
	if fp := org.ComputeFingerprint(base); fp != f.BaseFingerprint {
		return store.Plan{}, fmt.Errorf("saving plan %s: its base fingerprint is %s but the snapshot given is %s", f.ID, f.BaseFingerprint, fp)
	}
	snap, err := encodeSnapshot(base)
	if err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", f.ID, err)
	}
	body, err := f.MarshalCompact()
	if err != nil {
		return store.Plan{}, err
	}
	var saved store.Plan
	err = st.WithTx(ctx, func(tx store.Tx) error {
		if err := tx.PutSnapshot(ctx, f.BaseFingerprint, snap); err != nil {
			return err
		}
		saved, err = tx.SavePlan(ctx, store.Plan{ID: f.ID, Kind: store.PlanOrg, Author: f.Author, Hash: f.PlanHash, BaseFingerprint: f.BaseFingerprint,
			Verdict: string(f.Verdict), RequiredApprovals: f.RequiredApprovals, Body: body, Guardrails: f.Guardrails})
		if err != nil {
			return err
		}
		return auditEntry(ctx, tx, actor, "plan.saved", f.ID, map[string]any{"hash": f.PlanHash, "verdict": f.Verdict,
			"requiredApprovals": f.RequiredApprovals, "author": f.Author, "steps": len(f.Steps), "guardrails": f.Guardrails})
	})
	if errors.Is(err, store.ErrAlreadyExists) {
		return Save(ctx, st, f, base, actor) // saved concurrently: compare hashes
	}
	if err != nil {
		return store.Plan{}, fmt.Errorf("saving plan %s: %w", f.ID, err)
	}
	return saved, nil
}

// encodeSnapshot is a snapshot as the store keeps it: compact JSON, gzipped
// (a 10,000-account organization is about 7 MB of JSON, 1 MB gzipped).
func encodeSnapshot(s *org.Snapshot) ([]byte, error) {
	// The base is the snapshot the plan was computed on: normalised, with
	// its fingerprint, so encoding it in place changes nothing in it.
	raw, err := org.MarshalSnapshotCompact(s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("compressing the snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compressing the snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// Base returns the stored snapshot with the given fingerprint, checked
// against it.
func Base(ctx context.Context, st store.Store, fingerprint string) (*org.Snapshot, error) {
	b, err := st.Snapshot(ctx, fingerprint)
	if err != nil {
		return nil, err
	}
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("reading stored snapshot %s: %w", fingerprint, err)
		}
		if b, err = io.ReadAll(io.LimitReader(zr, plan.MaxFileBytes)); err != nil {
			return nil, fmt.Errorf("reading stored snapshot %s: %w", fingerprint, err)
		}
	}
	s, err := org.ParseSnapshot(b, "stored snapshot "+fingerprint)
	if err != nil {
		return nil, err
	}
	if s.Fingerprint != fingerprint {
		return nil, fmt.Errorf("stored snapshot %s has content with fingerprint %s (edited in the database?)", fingerprint, s.Fingerprint)
	}
	return s, nil
}

// Load returns the stored organization plan id, parsed and verified
// against its hash.
func Load(ctx context.Context, st store.Store, id string) (*plan.File, store.Plan, error) {
	p, err := st.Plan(ctx, id)
	if err != nil {
		return nil, store.Plan{}, err
	}
	if p.Kind == store.PlanGuardrails {
		return nil, p, fmt.Errorf("plan %s changes the guardrails, not the organization", id)
	}
	f, err := plan.Parse(p.Body, "stored plan "+id)
	if err != nil {
		return nil, p, err
	}
	if f.PlanHash != p.Hash || f.ID != p.ID || f.Author != p.Author {
		return nil, p, fmt.Errorf("stored plan %s: its body (hash %s, ID %s, author %s) does not match its record (hash %s, author %s): %w",
			id, f.PlanHash, f.ID, f.Author, p.Hash, p.Author, plan.ErrTampered)
	}
	return f, p, nil
}

// Stored returns the stored record of plan file f — which must be there,
// with the same hash — and the stored copy of the plan (which is what
// approvals and applies act on).
func Stored(ctx context.Context, st store.Store, f *plan.File) (*plan.File, store.Plan, error) {
	sf, sp, err := Load(ctx, st, f.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, store.Plan{}, &RefusedError{Reason: fmt.Sprintf("plan %s is not in the store: only plans saved by orgguard plan (--out) can be approved or applied — a plan file is a copy to read, not the record (%v)", f.ID, ErrNotSaved)}
	case err != nil:
		return nil, store.Plan{}, err
	case sp.Hash != f.PlanHash:
		return nil, store.Plan{}, &RefusedError{Reason: fmt.Sprintf("%v: the store holds plan %s with hash %s, this file has %s; approvals bind to the stored one — make a new plan", ErrPlanChanged, f.ID, digest.Short(sp.Hash), digest.Short(f.PlanHash))}
	}
	return sf, sp, nil
}
