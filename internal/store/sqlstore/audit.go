package sqlstore

import (
	"context"
	"fmt"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// AppendAudit implements store.Audit. Taking the next sequence number from
// the head row (UPDATE ... RETURNING) locks it, so appends are serialised
// and the chain cannot fork; the head then records the new entry's hash.
func (o ops) AppendAudit(ctx context.Context, r store.AuditRecord) (store.AuditEntry, error) {
	if r.Actor == "" || r.Action == "" {
		return store.AuditEntry{}, fmt.Errorf("appending to the audit log: %w: actor and action are required", store.ErrInvalid)
	}
	if err := checkText(r.Actor, r.Action, r.Subject); err != nil {
		return store.AuditEntry{}, fmt.Errorf("appending to the audit log: %w", err)
	}
	detail, err := audit.CanonicalJSON(r.Detail)
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("appending %s by %s to the audit log: %w: %v", r.Action, r.Actor, store.ErrInvalid, err)
	}
	var e store.AuditEntry
	err = o.write(ctx, func(q querier) error {
		var seq int64
		var prev string
		if err := q.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev); err != nil {
			return fmt.Errorf("advancing the audit head: %w", err)
		}
		e = audit.Seal(store.AuditEntry{Seq: seq, At: o.now(), Actor: r.Actor, Action: r.Action, Subject: r.Subject, Detail: detail, PrevHash: prev})
		if _, err := q.ExecContext(ctx, o.q(`INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Seq, o.s.d.timeArg(e.At), e.Actor, e.Action, e.Subject, jsonArg(e.Detail), e.PrevHash, e.Hash); err != nil {
			return fmt.Errorf("inserting audit entry %d: %w", e.Seq, err)
		}
		if _, err := q.ExecContext(ctx, o.q(`UPDATE audit_head SET hash = ? WHERE id = 1`), e.Hash); err != nil {
			return fmt.Errorf("recording the audit head: %w", err)
		}
		return nil
	})
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("appending %s by %s to the audit log: %w", r.Action, r.Actor, err)
	}
	return e, nil
}

// ListAudit implements store.Audit.
func (o ops) ListAudit(ctx context.Context, aq store.AuditQuery) ([]store.AuditEntry, error) {
	query := `SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log`
	var args []any
	if aq.AfterSeq > 0 {
		if aq.Newest {
			query += ` WHERE seq < ?`
		} else {
			query += ` WHERE seq > ?`
		}
		args = append(args, aq.AfterSeq)
	}
	if aq.Newest {
		query += ` ORDER BY seq DESC`
	} else {
		query += ` ORDER BY seq`
	}
	rows, err := o.reader().QueryContext(ctx, o.q(query+limitClause(aq.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at any
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, bytesScan{(*[]byte)(&e.Detail)}, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("reading the audit log: %w", err)
		}
		if err := (timeScan{&e.At}).Scan(at); err != nil {
			e.Unreadable = fmt.Sprintf("its time %q is not a timestamp", fmt.Sprint(at))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	return out, nil
}

// AuditHead implements store.Audit. A missing head row (which only raw
// SQL can cause) reads as seq -1 so that verification reports it.
func (o ops) AuditHead(ctx context.Context) (store.AuditHead, error) {
	var h store.AuditHead
	rows, err := o.reader().QueryContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`)
	if err != nil {
		return h, fmt.Errorf("reading the audit head: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return h, fmt.Errorf("reading the audit head: %w", err)
		}
		return store.AuditHead{Seq: -1}, nil
	}
	if err := rows.Scan(&h.Seq, &h.Hash); err != nil {
		return h, fmt.Errorf("reading the audit head: %w", err)
	}
	return h, rows.Err()
}
