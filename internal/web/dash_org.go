package web

import (
	"net/http"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/org"
)

// teamOrgView is the organization page's data.
type teamOrgView struct {
	team
	Tree *app.Tree
}

// teamOrg draws the organization: the root, OUs and accounts with the
// policies attached to each, OUs folded (<details>) below the root.
func (s *Server) teamOrg(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	t, err := a.OrgTree(r.Context())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_org", teamOrgView{team: teamOf(r, "org"), Tree: t})
}

// teamPolicyView is a policy's page: its document and where it is attached.
type teamPolicyView struct {
	team
	Policy org.Policy
	Short  string
	On     []*app.TreeNode
}

// teamPolicy shows one policy of the organization.
func (s *Server) teamPolicy(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	t, err := a.OrgTree(r.Context())
	if err != nil {
		return err
	}
	p, on, ok := t.Policy(r.PathValue("id"))
	if !ok {
		return errNotFound
	}
	return s.render(w, r, http.StatusOK, "team_policy", teamPolicyView{team: teamOf(r, "org"), Policy: p, Short: p.Type.Short(), On: on})
}
