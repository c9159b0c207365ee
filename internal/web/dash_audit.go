package web

import (
	"net/http"

	"github.com/orgguard/orgguard/internal/app"
)

// auditPageSize is how many audit entries a page shows.
const auditPageSize = 50

// teamAuditView is the audit log page.
type teamAuditView struct {
	team
	app.AuditPage
	Before int64
}

// teamAudit shows the audit log newest first, a page at a time
// (?before=SEQ), with the verification of the whole hash chain.
func (s *Server) teamAudit(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	before, err := queryInt(r, "before")
	if err != nil {
		return err
	}
	p, err := a.AuditLog(r.Context(), before, auditPageSize)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_audit", teamAuditView{team: teamOf(r, "audit"), AuditPage: p, Before: before})
}
