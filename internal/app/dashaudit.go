package app

import (
	"context"
	"fmt"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// AuditPage is one page of the audit log, newest first, with the whole
// chain's verification.
type AuditPage struct {
	Entries []store.AuditEntry
	// Older is the sequence number to page back from (the `before` of
	// the next page), 0 on the last page.
	Older int64
	// Verify is the verification of the whole chain (audit.Verify).
	Verify audit.Report
}

// AuditLog returns up to limit audit entries before sequence number
// before (0: from the newest), newest first, and verifies the chain.
func (a *App) AuditLog(ctx context.Context, before int64, limit int) (AuditPage, error) {
	st, err := a.existingStore(ctx)
	if err != nil {
		return AuditPage{}, err
	}
	if st == nil {
		return AuditPage{}, nil
	}
	if limit <= 0 {
		limit = 50
	}
	// One more than asked says whether there is an older page.
	es, err := st.ListAudit(ctx, store.AuditQuery{Newest: true, AfterSeq: before, Limit: limit + 1})
	if err != nil {
		return AuditPage{}, fmt.Errorf("reading the audit log: %w", err)
	}
	p := AuditPage{Entries: es}
	if len(es) > limit {
		p.Entries = es[:limit]
		p.Older = es[limit-1].Seq
	}
	if p.Verify, err = audit.Verify(ctx, st); err != nil {
		return AuditPage{}, err
	}
	return p, nil
}
