package guard

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/display"
)

// Guard is a compiled configuration, safe for concurrent use.
type Guard struct {
	cfg      Config
	schedule *Schedule
	allow    map[Rule]bool
	required map[Risk]bool
}

// Compile validates cfg and prepares it for evaluation.
func Compile(cfg Config) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := NewSchedule(cfg.Windows)
	if err != nil { // unreachable after Validate; kept for safety
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	g := &Guard{cfg: cfg, schedule: s, allow: map[Rule]bool{}, required: map[Risk]bool{}}
	for _, r := range cfg.Overrides.Allow {
		g.allow[r] = true
	}
	for _, r := range cfg.Windows.RequiredFor {
		g.required[r] = true
	}
	return g, nil
}

// Config returns the configuration the guard was compiled from.
func (g *Guard) Config() Config { return g.cfg }

// Schedule returns the compiled windows and freezes.
func (g *Guard) Schedule() *Schedule { return g.schedule }

// facts gathered from the input before reasons are written.
type facts struct {
	affected, total int
	// restricting counts the affected accounts that lose access (some
	// action newly denied or newly conditional); the others only gain.
	restricting    int
	nearDenied     []string // account ids, sorted
	maxShare       float64
	exempt         bool   // quarantine on the quarantine OU
	broadBecause   string // non-empty: why the scope is broad
	protectedTgts  []Target
	protectedAccts []string
}

// Evaluate computes the verdict for a change. It returns an error wrapping
// ErrInvalidInput only when the input itself is malformed.
func (g *Guard) Evaluate(in Input) (Verdict, error) {
	if err := validateInput(in); err != nil {
		return Verdict{}, err
	}
	f := g.gather(in)
	var reasons []Reason
	add := func(r Reason) {
		if r.Effect == EffectRefuse || r.Effect == EffectSchedule {
			r.Overridable = g.allow[r.Rule]
		}
		reasons = append(reasons, r)
	}

	// Recovery path: never overridable.
	if in.Impact.RecoveryPathLost {
		msg := "the change would remove the recovery path: the management account could no longer undo it"
		if d := strings.TrimSpace(in.Impact.RecoveryPathDetail); d != "" {
			msg += " (" + d + ")"
		}
		add(Reason{Rule: RuleRecoveryPath, Effect: EffectRefuse, Message: msg})
	}
	if in.Impact.ManagementAccountAffected {
		add(Reason{Rule: RuleRecoveryPath, Effect: EffectRefuse,
			Message: "the change would affect the management account, the recovery path of the organization; SCPs and RCPs never apply to it, so the change or its impact is wrong"})
	}

	// Declared intent: never overridable.
	reasons = append(reasons, intentReasons(in)...)

	// Protected targets and accounts.
	for _, t := range f.protectedTgts {
		why := "is protected (guardrails.protected.targets)"
		if t.Kind == KindRoot {
			why = "is always protected: a change there reaches every account"
		}
		add(Reason{Rule: RuleProtectedTarget, Effect: EffectRefuse, IDs: []string{t.ID},
			Message: fmt.Sprintf("the change targets %s (%s), which %s", describeTarget(t), plural(t.AccountsUnder, "account"), why)})
	}
	if n := len(f.protectedAccts); n > 0 {
		ids, more := capIDs(f.protectedAccts)
		add(Reason{Rule: RuleProtectedTarget, Effect: EffectRefuse, IDs: ids, MoreIDs: more,
			Message: fmt.Sprintf("the change affects %s that %s protected or in a protected OU: %s",
				plural(n, "account"), isAre(n), listIDs(f.protectedAccts, idListLimit))})
	}

	// Near-deny-all.
	if n := len(f.nearDenied); n > 0 {
		ids, more := capIDs(f.nearDenied)
		verb := "newly denies or makes conditional"
		if g.cfg.DenyAll.IgnoreConditional {
			verb = "newly denies"
		}
		what := fmt.Sprintf("the change %s more than %s of the catalog's %s in %s (up to %s)",
			verb, pct(g.cfg.DenyAll.NearDenyAllShare), plural(in.Impact.CatalogActions, "action"), plural(n, "account"), pct(f.maxShare))
		switch {
		case f.exempt:
			add(Reason{Rule: RuleNearDenyAll, Effect: EffectNotice, IDs: ids, MoreIDs: more,
				Message: what + ": expected for the quarantine of exactly the named accounts on quarantine OU " + in.Quarantine.OU})
		case f.broadBecause != "":
			add(Reason{Rule: RuleNearDenyAll, Effect: EffectRefuse, IDs: ids, MoreIDs: more,
				Message: what + " on a broad scope (" + f.broadBecause + "): a deny-all belongs on the quarantine OU, applied with the quarantine operation"})
		default:
			add(Reason{Rule: RuleNearDenyAll, Effect: EffectNotice, IDs: ids, MoreIDs: more,
				Message: what + ", a narrow scope; this makes the change at least high risk"})
		}
	}

	// Thresholds.
	// A refusing tier guards against an outage: it counts the accounts
	// that lose access. Accounts that only gain access (actions denied
	// before, allowed after) cannot be cut off by the change, so a change
	// that only restores access — detaching a deny-all someone attached to
	// Root — is never refused as if it were the loss it undoes. Approval
	// tiers count every account whose access changes: a broad grant still
	// deserves more eyes.
	share := shareOf(f.affected, f.total)
	lossShare := shareOf(f.restricting, f.total)
	tierApprovals := 0
	var tierReason *Reason
	for _, t := range g.cfg.Thresholds {
		if t.Refuse {
			if !tierApplies(t, f.restricting, lossShare) {
				continue
			}
			msg := fmt.Sprintf("the change affects %s of %s (%s), %s: refused", display.Thousands(f.affected), plural(f.total, "account"), pct(share), t)
			if f.restricting != f.affected {
				msg = fmt.Sprintf("the change restricts access in %s of %s (%s), %s: refused", display.Thousands(f.restricting), plural(f.total, "account"), pct(lossShare), t)
			}
			add(Reason{Rule: RuleThreshold, Effect: EffectRefuse, Message: msg})
			continue
		}
		if !tierApplies(t, f.affected, share) {
			continue
		}
		if t.Approvals > tierApprovals {
			tierApprovals = t.Approvals
			tierReason = &Reason{Rule: RuleThreshold, Effect: EffectApprovals, Approvals: t.Approvals,
				Message: fmt.Sprintf("the change affects %s of %s (%s), %s: %s required", display.Thousands(f.affected), plural(f.total, "account"), pct(share), t, plural(t.Approvals, "approval"))}
		}
	}
	base := 0
	if f.affected > 0 && g.cfg.Approvals.Minimum > 0 {
		base = g.cfg.Approvals.Minimum
		if tierApprovals < base {
			add(Reason{Rule: RuleApprovals, Effect: EffectApprovals, Approvals: base,
				Message: fmt.Sprintf("the change alters access in %s: %s required", plural(f.affected, "account"), plural(base, "approval"))})
		}
	}
	if tierReason != nil && tierApprovals >= base {
		add(*tierReason)
	}

	// Risk, windows and freezes.
	risk := riskOf(g.cfg.Risk, riskFacts{
		affected: f.affected, total: f.total,
		protectedTouched: len(f.protectedTgts) > 0 || len(f.protectedAccts) > 0,
		nearDenyAny:      len(f.nearDenied) > 0 && !f.exempt,
		nearDenyBroad:    len(f.nearDenied) > 0 && !f.exempt && f.broadBecause != "",
		recoveryAtStake:  in.Impact.RecoveryPathLost || in.Impact.ManagementAccountAffected,
	})
	v := Verdict{Risk: risk, EvaluatedAt: in.Now}
	v.RequireWindow = g.required[risk]
	v.InWindow = g.schedule.InWindow(in.Now)
	if risk > RiskLow {
		v.ActiveFreeze = g.schedule.ActiveFreeze(in.Now)
	}
	v.NextWindowStart = g.nextAllowed(in.Now, v.RequireWindow, risk)
	for _, r := range g.scheduleReasons(in.Now, risk, v.RequireWindow, in.Stage) {
		add(r)
	}

	// Typed confirmation.
	if risk >= g.cfg.Confirmation.RequiredFrom {
		v.RequiresConfirmation = true
		v.ConfirmationText = strings.TrimSpace(in.ConfirmationText)
		if v.ConfirmationText == "" {
			v.ConfirmationText = confirmationFor(in.Targets)
		}
		if v.ConfirmationText == "" {
			v.ConfirmationText = fmt.Sprintf("%s %s", in.Operation, plural(f.affected, "account"))
		}
		add(Reason{Rule: RuleConfirmation, Effect: EffectNotice,
			Message: fmt.Sprintf("risk %s: at apply the operator must type %q to confirm", risk, v.ConfirmationText)})
	}

	// Overrides.
	applied := 0
	seen := map[Rule]bool{}
	for _, o := range in.Overrides {
		if seen[o.Rule] {
			continue
		}
		why := strings.TrimSpace(o.Reason)
		if why == "" {
			add(Reason{Rule: RuleOverride, Effect: EffectNotice,
				Message: fmt.Sprintf("the override of %s was ignored: an override needs a reason", o.Rule)})
			continue
		}
		seen[o.Rule] = true
		if !g.allow[o.Rule] {
			msg := fmt.Sprintf("the override of %s was ignored: that rule can never be overridden", o.Rule)
			if slices.Contains(overridableRules, o.Rule) {
				msg = fmt.Sprintf("the override of %s was ignored: guardrails.overrides.allow does not permit it", o.Rule)
			}
			add(Reason{Rule: RuleOverride, Effect: EffectNotice, Message: msg})
			continue
		}
		hit := false
		for i := range reasons {
			r := &reasons[i]
			if r.Rule == o.Rule && (r.Effect == EffectRefuse || r.Effect == EffectSchedule) {
				r.Overridden, r.OverrideReason, hit = true, why, true
			}
		}
		if !hit && o.Rule == RuleFreeze && risk > RiskLow && g.schedule.freezeAfter(in.Now) {
			hit = true // overriding a freeze ahead of apply
		}
		if !hit && o.Rule == RuleWindow && v.RequireWindow {
			hit = true
		}
		if !hit {
			add(Reason{Rule: RuleOverride, Effect: EffectNotice,
				Message: fmt.Sprintf("the override of %s has no effect: that rule does not refuse this change", o.Rule)})
			continue
		}
		applied++
		v.Overrides = append(v.Overrides, Override{Rule: o.Rule, Reason: why})
		add(Reason{Rule: RuleOverride, Effect: EffectApprovals, Approvals: g.cfg.Overrides.ExtraApprovals,
			Message: fmt.Sprintf("%s overridden (%q): %s more", o.Rule, why, plural(g.cfg.Overrides.ExtraApprovals, "approval"))})
	}

	v.RequiredApprovals = max(base, tierApprovals) + applied*g.cfg.Overrides.ExtraApprovals
	v.Reasons = reasons
	switch {
	case len(v.Refusals()) > 0:
		v.Decision = Refused
	case v.RequiredApprovals > 0:
		v.Decision = NeedsApprovals
	default:
		v.Decision = Allowed
	}
	return v, nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func tierApplies(t Threshold, affected int, share float64) bool {
	switch {
	case t.AccountsAbove != nil:
		return affected > *t.AccountsAbove
	case t.ShareAbove != nil:
		return affected > 0 && share > *t.ShareAbove
	}
	return false
}

// accountPath is the field path of the i-th affected account; a type with a
// String method so that it is formatted only when an error is reported.
type accountPath int

func (i accountPath) String() string { return fmt.Sprintf("impact.accounts[%d]", int(i)) }

func (g *Guard) gather(in Input) facts {
	f := facts{affected: len(in.Impact.Accounts), total: in.Impact.AccountsTotal}
	protected := map[string]bool{}
	for _, id := range in.ProtectedIDs {
		if id != "" {
			protected[id] = true
		}
	}
	for _, t := range in.Targets {
		if t.Kind == KindRoot || protected[t.ID] {
			f.protectedTgts = append(f.protectedTgts, t)
		}
	}
	slices.SortFunc(f.protectedTgts, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	f.protectedTgts = slices.CompactFunc(f.protectedTgts, func(a, b Target) bool { return a.ID == b.ID })

	d := g.cfg.DenyAll
	for _, a := range in.Impact.Accounts {
		if protected[a.ID] || slices.ContainsFunc(a.OUs, func(ou string) bool { return protected[ou] }) {
			f.protectedAccts = append(f.protectedAccts, a.ID)
		}
		if a.NewlyDenied > 0 || a.lostConditional() > 0 {
			f.restricting++
		}
		// Actions that go from denied to conditional are partly restored,
		// not restricted: detaching a deny-all from an account that keeps a
		// condition-bearing SCP is no near-deny-all.
		restricted := a.NewlyDenied
		if !d.IgnoreConditional {
			restricted += a.lostConditional()
		}
		if in.Impact.CatalogActions > 0 {
			s := float64(restricted) / float64(in.Impact.CatalogActions)
			if s > d.NearDenyAllShare {
				if f.nearDenied == nil {
					f.nearDenied = make([]string, 0, len(in.Impact.Accounts))
				}
				f.nearDenied = append(f.nearDenied, a.ID)
				f.maxShare = max(f.maxShare, s)
			}
		}
	}
	slices.Sort(f.protectedAccts)
	slices.Sort(f.nearDenied)

	if q := in.Quarantine; q != nil && len(f.nearDenied) > 0 {
		named := map[string]bool{}
		for _, a := range q.Accounts {
			named[a] = true
		}
		f.exempt = !slices.ContainsFunc(in.Targets, func(t Target) bool {
			return !(t.Kind == KindOU && t.ID == q.OU) && !(t.Kind == KindAccount && named[t.ID])
		}) && !slices.ContainsFunc(f.nearDenied, func(id string) bool { return !named[id] })
	}
	if len(f.nearDenied) > 0 {
		f.broadBecause = g.broad(in.Targets, len(f.nearDenied), f.total)
	}
	return f
}

// broad explains why the scope is broad, or returns "".
func (g *Guard) broad(ts []Target, nearDenied, total int) string {
	d := g.cfg.DenyAll
	for _, t := range ts {
		if t.Kind == KindRoot {
			return fmt.Sprintf("%s is the root, %s", describeTarget(t), plural(t.AccountsUnder, "account"))
		}
	}
	for _, t := range ts {
		if t.Kind != KindOU {
			continue
		}
		if t.AccountsUnder > d.BroadTargetAccounts {
			return fmt.Sprintf("%s holds %s, more than %s", describeTarget(t), plural(t.AccountsUnder, "account"), display.Thousands(d.BroadTargetAccounts))
		}
		if s := shareOf(t.AccountsUnder, total); s > d.BroadTargetShare {
			return fmt.Sprintf("%s holds %s of the organization, more than %s", describeTarget(t), pct(s), pct(d.BroadTargetShare))
		}
	}
	if nearDenied > d.BroadTargetAccounts {
		return fmt.Sprintf("%s near-denied, more than %s", plural(nearDenied, "account"), display.Thousands(d.BroadTargetAccounts))
	}
	if s := shareOf(nearDenied, total); s > d.BroadTargetShare {
		return fmt.Sprintf("%s of the organization near-denied, more than %s", pct(s), pct(d.BroadTargetShare))
	}
	return ""
}

// freezeAfter reports whether a freeze is active at or starts after now.
func (s *Schedule) freezeAfter(now time.Time) bool {
	return slices.ContainsFunc(s.freezes, func(f Freeze) bool { return f.To.After(now) })
}

// nextAllowed is the earliest instant the schedule lets a change of this
// risk be applied, zero when unknown.
func (g *Guard) nextAllowed(now time.Time, requireWindow bool, risk Risk) time.Time {
	if requireWindow {
		t, _ := g.schedule.NextOpen(now)
		return t
	}
	if risk > RiskLow {
		return g.schedule.NextUnfrozen(now)
	}
	return now
}

// scheduleReasons states the window and freeze findings at now. At plan
// stage they restrict apply; at apply stage they refuse.
func (g *Guard) scheduleReasons(now time.Time, risk Risk, requireWindow bool, stage Stage) []Reason {
	var out []Reason
	s := g.schedule
	local := now.In(s.loc).Format("Mon 2006-01-02 15:04 MST")
	if risk > RiskLow {
		if fr := s.ActiveFreeze(now); fr != nil {
			until := fr.To.In(s.loc).Format("Mon 2006-01-02 15:04 MST")
			r := Reason{Rule: RuleFreeze, Effect: EffectSchedule,
				Message: fmt.Sprintf("a change freeze is active at %s until %s (%s): risk %s changes may not be applied during it", local, until, fr.Reason, risk)}
			if stage == StageApply {
				r.Effect = EffectRefuse
			}
			out = append(out, r)
		}
	}
	if !requireWindow {
		return out
	}
	in := s.InWindow(now)
	next := ""
	if t, ok := s.NextOpen(now); ok && !t.Equal(now) {
		next = "; the next allowed time is " + t.In(s.loc).Format("Mon 2006-01-02 15:04 MST")
	}
	var msg string
	switch {
	case !s.HasWindows():
		msg = fmt.Sprintf("risk %s changes may be applied only inside a maintenance window, and none is configured (guardrails.windows.weekly)", risk)
	case in:
		msg = fmt.Sprintf("risk %s changes may be applied only inside a maintenance window (%s); %s is inside one", risk, s.Describe(), local)
	default:
		msg = fmt.Sprintf("risk %s changes may be applied only inside a maintenance window (%s); %s is outside every window%s", risk, s.Describe(), local, next)
	}
	r := Reason{Rule: RuleWindow, Effect: EffectSchedule, Message: msg}
	if stage == StageApply {
		if in {
			return out
		}
		r.Effect = EffectRefuse
	}
	return append(out, r)
}

// ApplyCheck is the outcome of CheckApply.
type ApplyCheck struct {
	OK              bool      `json:"ok"`
	Reasons         []Reason  `json:"reasons"`
	NextWindowStart time.Time `json:"nextWindowStart,omitzero"`
}

// CheckApply re-checks a stored plan-time verdict at apply time: the plan
// must not have been refused; the window and freeze rules are evaluated at
// now against the current configuration, honouring the overrides the
// verdict records; and when confirmation is required, typed must be exactly
// the verdict's confirmation text. Approvals are the caller's to count.
func (g *Guard) CheckApply(v Verdict, now time.Time, typed string) ApplyCheck {
	var out ApplyCheck
	if v.Decision == Refused {
		out.Reasons = append(out.Reasons, Reason{Rule: RuleVerdict, Effect: EffectRefuse,
			Message: "the plan's verdict is refused; a refused plan can never be applied (make a new plan, with overrides where the rules allow them)"})
	}
	requireWindow := v.RequireWindow || g.required[v.Risk]
	for _, r := range g.scheduleReasons(now, v.Risk, requireWindow, StageApply) {
		if o, ok := v.overridden(r.Rule); ok && g.allow[r.Rule] {
			r.Overridable, r.Overridden, r.OverrideReason = true, true, o.Reason
		} else {
			r.Overridable = g.allow[r.Rule]
		}
		out.Reasons = append(out.Reasons, r)
	}
	if v.RequiresConfirmation {
		if v.ConfirmationMatches(typed) {
			out.Reasons = append(out.Reasons, Reason{Rule: RuleConfirmation, Effect: EffectNotice,
				Message: "the typed confirmation matches"})
		} else {
			msg := fmt.Sprintf("risk %s: type exactly %q to confirm", v.Risk, v.ConfirmationText)
			if strings.TrimSpace(typed) != "" {
				msg = fmt.Sprintf("the typed confirmation %q does not match; type exactly %q", typed, v.ConfirmationText)
			}
			out.Reasons = append(out.Reasons, Reason{Rule: RuleConfirmation, Effect: EffectRefuse, Message: msg})
		}
	}
	out.OK = !slices.ContainsFunc(out.Reasons, func(r Reason) bool { return r.Effect == EffectRefuse && !r.Overridden })
	if !out.OK {
		out.NextWindowStart = g.nextAllowed(now, requireWindow, v.Risk)
	}
	return out
}

// validateInput reports malformed input with field paths.
func validateInput(in Input) error {
	var errs []error
	add := func(path, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if in.Now.IsZero() {
		add("now", "the clock is required")
	}
	if in.Stage != StagePlan && in.Stage != StageApply {
		add("stage", "unknown stage %d", int(in.Stage))
	}
	for i, t := range in.Targets {
		p := fmt.Sprintf("targets[%d]", i)
		if t.ID == "" {
			add(p+".id", "empty")
		}
		if kindRank(t.Kind) == 0 {
			add(p+".kind", "%q is not root, ou or account", t.Kind)
		}
		if t.AccountsUnder < 0 {
			add(p+".accountsUnder", "negative (%d)", t.AccountsUnder)
		}
	}
	im := in.Impact
	if im.AccountsTotal < 0 {
		add("impact.accountsTotal", "negative (%d)", im.AccountsTotal)
	}
	if im.CatalogActions < 0 {
		add("impact.catalogActions", "negative (%d)", im.CatalogActions)
	}
	if len(im.Accounts) > max(im.AccountsTotal, 0) {
		add("impact.accounts", "%s affected but the organization has %s", display.Thousands(len(im.Accounts)), plural(im.AccountsTotal, "account"))
	}
	seen := make(map[string]bool, len(im.Accounts))
	for i, a := range im.Accounts {
		p := accountPath(i)
		switch {
		case a.ID == "":
			add(p.String()+".id", "empty")
		case seen[a.ID]:
			add(p.String()+".id", "account %s is listed twice", a.ID)
		}
		seen[a.ID] = true
		if a.NewlyDenied < 0 || a.NewlyConditional < 0 || a.NewlyAllowed < 0 || a.ConditionalFromDenied < 0 {
			add(p.String(), "negative action count")
		}
		if a.ConditionalFromDenied > a.NewlyConditional {
			add(p.String(), "%s conditional from denied but only %s newly conditional", display.Thousands(a.ConditionalFromDenied), display.Thousands(a.NewlyConditional))
		}
		if a.NewlyDenied+a.NewlyConditional+a.NewlyAllowed > max(im.CatalogActions, 0) {
			add(p.String(), "%s changed but the catalog has %s", plural(a.NewlyDenied+a.NewlyConditional+a.NewlyAllowed, "action"), plural(im.CatalogActions, "action"))
		}
	}
	if it := in.Intent; it != nil {
		if it.Count != nil && *it.Count < 0 {
			add("intent.count", "negative (%d)", *it.Count)
		}
		for i, id := range it.Accounts {
			if strings.TrimSpace(id) == "" {
				add(fmt.Sprintf("intent.accounts[%d]", i), "empty")
			}
		}
	}
	if q := in.Quarantine; q != nil {
		if q.OU == "" {
			add("quarantine.ou", "empty")
		}
		if len(q.Accounts) == 0 {
			add("quarantine.accounts", "a quarantine names at least one account")
		}
		for i, id := range q.Accounts {
			if strings.TrimSpace(id) == "" {
				add(fmt.Sprintf("quarantine.accounts[%d]", i), "empty")
			}
		}
	}
	for i, o := range in.Overrides {
		if !o.Rule.known() || !slices.Contains(overridableRules, o.Rule) && !slices.Contains([]Rule{RuleRecoveryPath, RuleIntent}, o.Rule) {
			add(fmt.Sprintf("overrides[%d].rule", i), "unknown rule %q (overridable: %s)", o.Rule, strings.Join(ruleNames(overridableRules), ", "))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidInput, errors.Join(errs...))
}
