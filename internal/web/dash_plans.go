package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/identity"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/store"
)

// teamPlansView is the plans list's data.
type teamPlansView struct {
	team
	State  string
	States []store.PlanState
	Plans  []app.PlanRow
}

// planStateParam is the ?state= of a plan list: empty, or a plan state.
func planStateParam(r *http.Request) (store.PlanState, error) {
	state := store.PlanState(r.URL.Query().Get("state"))
	if state != "" && !state.Valid() {
		return "", app.BadInput(fmt.Errorf("?state=%q: want one of %v", state, store.PlanStates()))
	}
	return state, nil
}

// teamPlans lists the stored plans, newest first, optionally of one state.
func (s *Server) teamPlans(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	state, err := planStateParam(r)
	if err != nil {
		return err
	}
	rows, err := a.Plans(r.Context(), store.PlanFilter{State: state, Limit: 200})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_plans", teamPlansView{team: teamOf(r, "plans"), State: string(state),
		States: store.PlanStates(), Plans: rows})
}

// teamPlanView is a plan's page.
type teamPlanView struct {
	team
	*app.PlanDetail
	// Refusals are the guardrail reasons that refuse the plan; Findings
	// the others (approval tiers, warnings of the rules).
	Refusals, Findings []guard.Reason
	// IsAuthor says the signed-in user wrote the plan: they cannot
	// approve it.
	IsAuthor bool
	// Approved says the signed-in user has approved it already.
	Approved bool
	// CanApprove and CanApply say which forms to offer.
	CanApprove, CanApply bool
	// Need is how many approvals the verdict requires.
	Need int
	// Hash is the plan hash, abbreviated.
	Hash string
	// Groups are the blast radius's groups of accounts with the same
	// change, their action lists cut for the page.
	Groups []teamGroupView
	// Confirm is the typed confirmation asked for a risky plan.
	Confirm string
	// Typed is what the user typed (kept after a refusal).
	Typed string
}

// teamPlanView reads plan id for the page, the blast radius on the tree
// included.
func (s *Server) teamPlanView(r *http.Request, a *app.App, id string) (*teamPlanView, error) {
	d, err := a.PlanDetail(r.Context(), id, true)
	if err != nil {
		return nil, err
	}
	v := &teamPlanView{team: teamOf(r, "plans"), PlanDetail: d, Need: d.Plan.RequiredApprovals, Hash: shortHash(d.Plan.Hash)}
	v.IsAuthor = identity.Same(a.Actor(), d.Plan.Author)
	for _, ap := range d.Approvals {
		if identity.Same(a.Actor(), ap.Approver) {
			v.Approved = true
		}
	}
	open := d.Plan.State == store.PlanPending || d.Plan.State == store.PlanApproved
	refused := d.Plan.Verdict == string(guard.Refused)
	v.CanApprove = v.Can(roleApprover) && open && !refused && !v.IsAuthor && !v.Approved
	v.CanApply = v.Can(roleOperator) && d.Plan.State == store.PlanApproved
	if f := d.File; f != nil {
		for _, rs := range f.Guard.Reasons {
			if rs.Effect == guard.EffectRefuse && !rs.Overridden {
				v.Refusals = append(v.Refusals, rs)
			} else {
				v.Findings = append(v.Findings, rs)
			}
		}
		if f.Guard.RequiresConfirmation {
			v.Confirm = f.Guard.ConfirmationText
		}
		for _, g := range f.Impact.Groups {
			v.Groups = append(v.Groups, teamNewGroupView(g))
		}
	}
	return v, nil
}

// teamGroupView is one group of the blast radius as the page shows it.
type teamGroupView struct {
	Accounts     int
	Some         []string // the first account IDs
	Counts       impact.Counts
	Denied       []impact.Fold
	MoreDenied   int
	Conditional  []impact.Fold
	Allowed      []impact.Fold
	DeniedExcept bool // more than half the catalog is newly denied
}

// maxListed bounds the account IDs and action patterns a group lists.
const maxListed = 12

func teamNewGroupView(g impact.Group) teamGroupView {
	cut := func(f []impact.Fold) ([]impact.Fold, int) {
		if len(f) > maxListed {
			return f[:maxListed], len(f) - maxListed
		}
		return f, 0
	}
	v := teamGroupView{Accounts: len(g.Accounts), Counts: g.Counts, DeniedExcept: g.DeniedExcept != nil}
	v.Some = g.Accounts[:min(len(g.Accounts), maxListed)]
	v.Denied, v.MoreDenied = cut(g.DeniedActions)
	v.Conditional, _ = cut(g.ConditionalActions)
	v.Allowed, _ = cut(g.AllowedActions)
	return v
}

// teamPlan is a plan's page: steps, verdict, guardrail findings, the blast
// radius on the tree, the approvals, and the approve and apply forms.
func (s *Server) teamPlan(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	v, err := s.teamPlanView(r, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "team_plan", v)
}

// teamPlanRefused shows plan id again with what the application layer said
// about the action the user asked for (approve, apply), when it is a
// refusal; other errors go to fail.
func (s *Server) teamPlanRefused(w http.ResponseWriter, r *http.Request, a *app.App, id string, cause error, typed string) error {
	status, ok := refusal(cause)
	if !ok {
		return cause
	}
	v, err := s.teamPlanView(r, a, id)
	if err != nil {
		return err
	}
	v.Error, v.Typed = cause.Error(), typed
	return s.render(w, r, status, "team_plan", v)
}

// teamApprove records the signed-in user's approval of a plan, through
// the same use case as `orgguard approve` (which refuses the author, a
// second approval, a refused plan, a plan whose verdict no longer derives).
func (s *Server) teamApprove(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := a.Approve(r.Context(), id, strings.TrimSpace(r.PostFormValue("comment"))); err != nil {
		return s.teamPlanRefused(w, r, a, id, err, "")
	}
	return seeOther(w, r, "/team/plans/"+id, "approved")
}

// teamApply starts applying a plan, through the same use case as
// `orgguard apply` with the typed confirmation from the form, and sends
// the user to the change's progress page once the engine has recorded the
// change. The apply runs on after the request; its journal in the store
// is its progress.
func (s *Server) teamApply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := r.PathValue("id")
	typed := r.PostFormValue("confirm")
	req := app.ApplyRequest{Ref: id, Confirm: typed, OverrideWindow: strings.TrimSpace(r.PostFormValue("override_window"))}
	if c := strings.TrimSpace(r.PostFormValue("canary")); c != "" {
		req.Canary = slices.DeleteFunc(strings.Split(c, ","), func(s string) bool { return strings.TrimSpace(s) == "" })
	}
	ctx, cancel := context.WithTimeout(r.Context(), applyStartWait)
	defer cancel()
	started, err := a.StartApply(ctx, detach(r.Context()), req)
	if err != nil {
		return s.teamPlanRefused(w, r, a, id, err, typed)
	}
	if started.ChangeID == "" {
		return seeOther(w, r, "/team/plans/"+id, "") // a guardrails plan, pinned
	}
	log := s.log
	go func() {
		d := <-started.Done
		outcome := ""
		if d.Result != nil && d.Result.Report != nil {
			outcome = string(d.Result.Report.Outcome)
		}
		log.Info("apply ended", "plan", id, "change", started.ChangeID, "by", a.Actor(), "outcome", outcome, "err", d.Err)
	}()
	return seeOther(w, r, "/team/changes/"+started.ChangeID, "")
}
