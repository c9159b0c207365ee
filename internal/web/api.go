package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/plan"
	"github.com/orgguard/orgguard/internal/review"
	"github.com/orgguard/orgguard/internal/store"
)

// The JSON API under /api/v1 (docs/api.md): what `orgguard` does in server
// mode (orgguard login), and what scripts call with an API token. Every
// endpoint is a team route (a signed-in user with the dashboard's role for
// the same action) and acts through the application layer as that user,
// like the dashboard: the same use cases, the same checks, the same audit
// entries. The wire types are internal/apiv1's. Errors are
// {"error":{"code","message"}} (apiError). Bearer-token requests skip the
// browser cross-origin check (they carry no cookie: Authn ignores the
// cookie when an Authorization header is present); cookie requests do not.

// errMediaType is a request body that is not JSON.
var errMediaType = errors.New("the request body must be application/json")

// apiRoutes are the API's routes, with the role each needs.
func (s *Server) apiRoutes() []teamRoute {
	p := apiv1.Prefix
	return []teamRoute{
		{route{"GET " + p + "/whoami", s.apiWhoami}, ""},
		{route{"GET " + p + "/plans", s.apiPlans}, roleViewer},
		{route{"POST " + p + "/plans", s.apiSubmitPlan}, roleOperator},
		{route{"GET " + p + "/plans/{id}", s.apiPlan}, roleViewer},
		{route{"POST " + p + "/plans/{id}/approve", s.apiApprove}, roleApprover},
		{route{"POST " + p + "/plans/{id}/apply", s.apiApply}, roleOperator},
		{route{"GET " + p + "/changes/{id}", s.apiChange}, roleViewer},
	}
}

// isAPIv1 reports whether r is addressed to the JSON API.
func isAPIv1(r *http.Request) bool {
	return r.URL.Path == apiv1.Prefix || strings.HasPrefix(r.URL.Path, apiv1.Prefix+"/")
}

// bearerAPIRequest reports whether r is an API request signed with a
// bearer token: it is not subject to the browser cross-origin check,
// since a token (unlike a cookie) is never sent by a browser on its own.
func bearerAPIRequest(r *http.Request) bool {
	return isAPIv1(r) && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// apiV1Status maps an error to the API's status and code. Own-plan and
// unconfirmed refusals come before the other refusals (409).
func apiV1Status(err error) (int, string) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, apiv1.CodeNotFound
	case errors.Is(err, errUnauthenticated), errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, apiv1.CodeUnauthenticated
	case errors.Is(err, errCrossOrigin):
		return http.StatusForbidden, apiv1.CodeCrossOrigin
	case errors.Is(err, review.ErrOwnPlan):
		return http.StatusForbidden, apiv1.CodeOwnPlan
	case errors.Is(err, errForbidden), errors.Is(err, auth.ErrForbidden):
		return http.StatusForbidden, apiv1.CodeForbidden
	case errors.Is(err, auth.ErrLocked):
		return http.StatusTooManyRequests, apiv1.CodeRateLimited
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, apiv1.CodeTooLarge
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType, apiv1.CodeMediaType
	case errors.Is(err, apply.ErrUnconfirmed):
		return http.StatusUnprocessableEntity, apiv1.CodeUnconfirmed
	case errors.Is(err, app.ErrBadInput), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, apiv1.CodeBadInput
	case errors.Is(err, store.ErrLockHeld):
		return http.StatusConflict, apiv1.CodeLocked
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrAlreadyExists):
		return http.StatusConflict, apiv1.CodeConflict
	case errors.Is(err, app.ErrRefused):
		return http.StatusConflict, apiv1.CodeRefused
	}
	return http.StatusInternalServerError, apiv1.CodeInternal
}

// apiError writes err as the API's error body (fail calls it for every
// request under /api/v1). The message is the error's own text for 4xx
// answers to signed-in users, else the generic message of the status.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status int, code string, err error) {
	msg := s.localizer(w, r).T(errorKey(status))
	if status < 500 && status != http.StatusUnauthorized && s.signedIn(r) {
		msg = err.Error()
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orgguard"`)
	}
	_ = writeJSON(w, status, apiv1.ErrorBody{Error: apiv1.Error{Code: code, Message: msg}})
}

// decodeJSON reads r's body of at most apiv1.MaxBodyBytes into v: one JSON
// value, application/json, no unknown fields. An empty body leaves v as it
// is when optional, else it is bad input.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	r.Body = http.MaxBytesReader(w, r.Body, apiv1.MaxBodyBytes)
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fmt.Errorf("reading the request body: %w", err)
		}
		return app.BadInput(fmt.Errorf("reading the request body: %w", err))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return app.BadInput(errors.New("the request needs a JSON body"))
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errMediaType
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return app.BadInput(fmt.Errorf("reading the request body: %w", err))
	}
	if dec.More() {
		return app.BadInput(errors.New("reading the request body: more than one JSON value"))
	}
	return nil
}

// apiWhoami says who the request acts as.
func (s *Server) apiWhoami(w http.ResponseWriter, r *http.Request) error {
	u, _ := UserFrom(r.Context())
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	out := apiv1.Whoami{Name: a.Actor(), Roles: u.Roles}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	if p, ok := a.Principal(); ok {
		out.Role, out.Method = string(p.Role), string(p.Method)
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiPlans lists the stored plans, newest first (?state=, ?limit=).
func (s *Server) apiPlans(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	state, err := planStateParam(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if limit == 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := a.Plans(r.Context(), store.PlanFilter{State: state, Limit: int(limit)})
	if err != nil {
		return err
	}
	out := apiv1.PlanList{Plans: make([]apiv1.PlanSummary, 0, len(rows))}
	for _, p := range rows {
		out.Plans = append(out.Plans, apiv1.PlanSummary{ID: p.ID, Kind: p.Kind, State: p.State, Verdict: p.Verdict,
			Approvals: p.Have, RequiredApprovals: p.Need, Approvers: p.Approvers, Author: p.Author, CreatedAt: p.CreatedAt, Hash: p.Hash})
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiPlanOf reads plan id for the API.
func apiPlanOf(ctx context.Context, a *app.App, id string) (apiv1.Plan, error) {
	d, err := a.PlanDetail(ctx, id, false)
	if err != nil {
		return apiv1.Plan{}, err
	}
	p := d.Plan
	out := apiv1.Plan{
		PlanSummary: apiv1.PlanSummary{ID: p.ID, Kind: p.Kind, State: p.State, Verdict: p.Verdict, Approvals: len(d.Counting),
			RequiredApprovals: p.RequiredApprovals, Approvers: d.Counting, Author: p.Author, CreatedAt: p.CreatedAt, Hash: p.Hash},
		Changes: []apiv1.ChangeSummary{},
	}
	if out.Approvers == nil {
		out.Approvers = []string{}
	}
	for _, c := range d.Changes {
		out.Changes = append(out.Changes, changeSummary(c))
	}
	if f := d.File; f != nil {
		out.Description = f.Description
		out.RequiresConfirmation = f.Guard.RequiresConfirmation
		if f.Guard.RequiresConfirmation {
			out.ConfirmationText = f.Guard.ConfirmationText
		}
		var b bytes.Buffer
		if err := f.WriteCompact(&b); err != nil {
			return apiv1.Plan{}, fmt.Errorf("encoding plan %s: %w", id, err)
		}
		out.File = bytes.TrimSpace(b.Bytes())
	}
	return out, nil
}

func changeSummary(c store.Change) apiv1.ChangeSummary {
	return apiv1.ChangeSummary{ID: c.ID, Kind: c.Kind, State: c.State, StartedBy: c.StartedBy, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt}
}

// apiPlan is one stored plan with its plan file.
func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	out, err := apiPlanOf(r.Context(), a, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiSubmitPlan plans a change described by its operations — the server
// plans it itself against the organization under the pinned guardrails —
// and stores it with the signed-in user as its author. A plan the
// guardrails refuse is stored too (201, verdict refused), as
// `orgguard plan --out` does.
func (s *Server) apiSubmitPlan(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	var in apiv1.PlanRequest
	if err := decodeJSON(w, r, &in, false); err != nil {
		return err
	}
	if len(in.Operations) == 0 {
		return app.BadInput(errors.New("the plan request has no operations"))
	}
	src := "api"
	if in.Source != "" {
		src = "api:" + in.Source
	}
	req := plan.Request{Operations: in.Operations, Description: in.Description, Intent: in.Expect, Overrides: in.Overrides, Source: src}
	res, err := a.Plan(r.Context(), app.PlanRequest{Request: req, Save: true, Refresh: in.Refresh})
	if err != nil {
		return err
	}
	out, err := apiPlanOf(r.Context(), a, res.File.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Location", apiv1.Prefix+"/plans/"+res.File.ID)
	return writeJSON(w, http.StatusCreated, out)
}

// apiApprove records the signed-in user's approval of a plan (the author
// cannot: 403 own_plan).
func (s *Server) apiApprove(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	var in apiv1.ApproveRequest
	if err := decodeJSON(w, r, &in, true); err != nil {
		return err
	}
	ap, err := a.Approve(r.Context(), r.PathValue("id"), strings.TrimSpace(in.Comment))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiv1.Approval{PlanID: ap.PlanID, Approver: ap.Approval.Approver, Hash: ap.Hash,
		Author: ap.Author, Have: ap.Have, Need: ap.Need, State: ap.State})
}

// apiApply starts applying a plan, as the dashboard does, and answers 202
// with the change once the engine has recorded it; the apply runs on
// after the request (follow GET /api/v1/changes/{id}).
func (s *Server) apiApply(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	var in apiv1.ApplyRequest
	if err := decodeJSON(w, r, &in, true); err != nil {
		return err
	}
	id := r.PathValue("id")
	req := app.ApplyRequest{Ref: id, Confirm: in.Confirm, OverrideWindow: strings.TrimSpace(in.OverrideWindow), Canary: in.Canary}
	if in.CanaryWaitSeconds != nil {
		if *in.CanaryWaitSeconds < 0 || *in.CanaryWaitSeconds > 24*3600 {
			return app.BadInput(fmt.Errorf("canaryWaitSeconds %d: want 0 to 86400", *in.CanaryWaitSeconds))
		}
		d := time.Duration(*in.CanaryWaitSeconds) * time.Second
		req.CanaryWait = &d
	}
	ctx, cancel := context.WithTimeout(r.Context(), applyStartWait)
	defer cancel()
	started, err := a.StartApply(ctx, detach(r.Context()), req)
	if err != nil {
		return err
	}
	if started.Pinned != nil {
		return writeJSON(w, http.StatusOK, apiv1.ApplyStarted{PlanID: id, Pinned: started.Pinned.Version.Seq})
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
	loc := apiv1.Prefix + "/changes/" + started.ChangeID
	w.Header().Set("Location", loc)
	return writeJSON(w, http.StatusAccepted, apiv1.ApplyStarted{PlanID: id, ChangeID: started.ChangeID, Location: loc})
}

// apiChange is a change's state, journal and, once finished, report.
func (s *Server) apiChange(w http.ResponseWriter, r *http.Request) error {
	a, err := s.appFor(r)
	if err != nil {
		return err
	}
	p, err := a.ChangeProgress(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := apiv1.Change{ChangeSummary: changeSummary(p.Change), PlanID: p.Change.PlanID, Done: p.Done(),
		Journal: make([]apiv1.JournalLine, 0, len(p.Journal)), Steps: p.Steps, Report: p.Report}
	for _, j := range p.Journal {
		out.Journal = append(out.Journal, apiv1.JournalLine{Seq: j.Seq, Step: j.Step, Phase: j.Phase, At: j.At, Op: j.Op,
			Summary: j.Summary, Error: j.Error, Note: j.Note})
	}
	return writeJSON(w, http.StatusOK, out)
}
