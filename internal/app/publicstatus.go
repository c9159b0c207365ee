package app

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/store"
)

// The public status page's model: what anyone may see of the
// organization's incidents, maintenance and components. It is built here,
// from the store and the configuration, so that every public rendering
// (the page, the feeds, the JSON API) shows the same thing and none of
// them sees a record whole: the model holds no internal ID, account,
// customer, rule or change unless status.showInternals says so, and the
// texts of published notices are passed through a redactor (see
// publicRedactor).

// ComponentStatus is a component's status, in the Statuspage vocabulary.
type ComponentStatus string

// The component statuses, from best to worst.
const (
	ComponentOperational   ComponentStatus = "operational"
	ComponentMaintenance   ComponentStatus = "under_maintenance"
	ComponentDegraded      ComponentStatus = "degraded_performance"
	ComponentPartialOutage ComponentStatus = "partial_outage"
	ComponentMajorOutage   ComponentStatus = "major_outage"
)

// ComponentStatuses lists every component status from best to worst.
var ComponentStatuses = []ComponentStatus{ComponentOperational, ComponentMaintenance, ComponentDegraded, ComponentPartialOutage, ComponentMajorOutage}

// rank orders statuses: a worse status has a higher rank.
func (s ComponentStatus) rank() int { return slices.Index(ComponentStatuses, s) }

// Worse reports whether s is worse than o.
func (s ComponentStatus) Worse(o ComponentStatus) bool { return s.rank() > o.rank() }

// statusOf is the status an open incident of severity sev gives the
// components it affects.
func statusOf(sev store.Severity) ComponentStatus {
	switch sev {
	case store.SevCritical:
		return ComponentMajorOutage
	case store.SevMajor:
		return ComponentPartialOutage
	}
	return ComponentDegraded
}

// Impact is the public page's overall indicator: the worst severity among
// the unresolved incidents, or ImpactNone.
type Impact string

// The indicators.
const (
	ImpactNone     Impact = "none"
	ImpactMinor    Impact = "minor"
	ImpactMajor    Impact = "major"
	ImpactCritical Impact = "critical"
)

// PublicPage is the public status at one moment.
type PublicPage struct {
	// ID names the page in the JSON API: a hash of its title and URL.
	ID string `json:"id"`
	// Name is server.title; URL is server.publicURL (may be empty).
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
	// TimeZone is the IANA zone the page shows times in.
	TimeZone string `json:"timeZone"`
	// Now is when the model was built; UpdatedAt is the time of the
	// newest change it shows (an incident opened, updated or resolved),
	// Now when it shows none.
	Now       time.Time `json:"now"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Version changes whenever what the page shows may have changed
	// (PublicStatusVersion returns it cheaply).
	Version string `json:"version"`
	// Impact is the worst severity of the unresolved incidents.
	Impact Impact `json:"impact"`
	// InMaintenance says a maintenance window is in progress.
	InMaintenance bool              `json:"inMaintenance"`
	Components    []PublicComponent `json:"components"`
	// Incidents are the unresolved incidents, newest first.
	Incidents []PublicIncident `json:"incidents"`
	// History is every incident opened since HistoryFrom (midnight in
	// the page's zone, status.historyDays ago) and every unresolved one,
	// newest first.
	History     []PublicIncident `json:"history"`
	HistoryFrom time.Time        `json:"historyFrom"`
	// Maintenances are the maintenance window in progress and the next
	// ones within status.maintenance.days, in order; Freezes the change
	// freezes in force or starting within those days.
	Maintenances []PublicMaintenance `json:"maintenances"`
	Freezes      []PublicFreeze      `json:"freezes"`
}

// Operational reports whether no incident is unresolved.
func (p PublicPage) Operational() bool { return len(p.Incidents) == 0 }

// Incident returns the incident of the history (or unresolved) with the
// public ID id.
func (p PublicPage) Incident(id string) (PublicIncident, bool) {
	for _, list := range [][]PublicIncident{p.Incidents, p.History} {
		if i := slices.IndexFunc(list, func(in PublicIncident) bool { return in.ID == id }); i >= 0 {
			return list[i], true
		}
	}
	return PublicIncident{}, false
}

// Status is the worst status of the components.
func (p PublicPage) Status() ComponentStatus {
	worst := ComponentOperational
	for _, c := range p.Components {
		if c.Status.Worse(worst) {
			worst = c.Status
		}
	}
	return worst
}

// PublicComponent is a component and its status now.
type PublicComponent struct {
	ID          string           `json:"id"`
	Position    int              `json:"position"` // 1, 2, ... as configured
	Name        config.LocalText `json:"name"`
	Description config.LocalText `json:"description"`
	Status      ComponentStatus  `json:"status"`
	// Incidents are the public IDs of the unresolved incidents affecting
	// the component.
	Incidents []string `json:"incidents,omitempty"`
}

// PublicIncident is an incident as the public sees it.
type PublicIncident struct {
	// ID is the public identifier (PublicIncidentID), never the internal
	// one.
	ID       string              `json:"id"`
	Severity store.Severity      `json:"severity"`
	State    store.IncidentState `json:"state"`
	// StartedAt is when the impact started as far as it is known (else
	// detected, else opened); CreatedAt is when the incident was opened.
	StartedAt    time.Time `json:"startedAt"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	MonitoringAt time.Time `json:"monitoringAt,omitzero"`
	ResolvedAt   time.Time `json:"resolvedAt,omitzero"`
	// Components are the IDs of the components it affects.
	Components []string `json:"components"`
	// Updates are the published notices, newest first; the notices
	// published together (one per language) make one update.
	Updates []PublicUpdate `json:"updates"`
	// Internal is set only with status.showInternals.
	Internal *PublicInternals `json:"internal,omitempty"`
}

// Title returns the incident's name in lang: the newest update's title in
// lang, else in another language (the language returned says which), or
// "" before the first update.
func (in PublicIncident) Title(lang string) (title, inLang string) {
	for _, u := range in.Updates {
		if t, ok := u.Texts[lang]; ok && t.Title != "" {
			return t.Title, lang
		}
	}
	for _, u := range in.Updates {
		if t, l := u.Text(lang); t.Title != "" {
			return t.Title, l
		}
	}
	return "", lang
}

// PublicInternals are the internal references of an incident, shown only
// with status.showInternals.
type PublicInternals struct {
	IncidentID string `json:"incidentId"`
	Source     string `json:"source,omitempty"`
	Rule       string `json:"rule,omitempty"`
	ChangeID   string `json:"changeId,omitempty"`
}

// PublicUpdate is one publication: the notices published together.
type PublicUpdate struct {
	ID    string              `json:"id"`
	State store.IncidentState `json:"state"`
	At    time.Time           `json:"at"`
	// Texts are the notice's title and body per language.
	Texts map[string]PublicText `json:"texts"`
}

// Text returns the update's text in lang, else in the first other
// language that has one, and the language of the text returned.
func (u PublicUpdate) Text(lang string) (PublicText, string) {
	if t, ok := u.Texts[lang]; ok {
		return t, lang
	}
	for _, l := range notice.Languages {
		if t, ok := u.Texts[l]; ok {
			return t, l
		}
	}
	for _, l := range slices.Sorted(maps.Keys(u.Texts)) {
		return u.Texts[l], l
	}
	return PublicText{}, lang
}

// PublicText is a published notice's title and body.
type PublicText struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// PublicMaintenance is a run of the maintenance windows (runs that touch
// are merged).
type PublicMaintenance struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	InProgress bool      `json:"inProgress"`
	Components []string  `json:"components"`
}

// PublicFreeze is a change freeze: no change to the organization is made
// from From to To. Its reason is shown only with status.showInternals.
type PublicFreeze struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Active bool      `json:"active"`
	Reason string    `json:"reason,omitempty"`
}

// PublicIncidentID is the public identifier of the incident whose
// internal ID is id: 12 characters of a hash of it. Internal IDs are
// random, so the public one cannot be traced back.
func PublicIncidentID(id string) string { return publicHash("incident", id) }

// publicHash is 12 lowercase base32 characters of a hash of kind and
// parts.
func publicHash(kind string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte("orgguard/public/" + kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)))[:12]
}

// PublicStatusVersion returns the version of the public status without
// building it: three small reads (the unresolved incidents, the newest
// incident, the newest published notice) and the clock's place in the
// maintenance schedule. The status page checks it, at most once a second,
// before rebuilding anything. A store that does not exist yet is not
// created.
func (a *App) PublicStatusVersion(ctx context.Context) (string, error) {
	now := a.o.Now()
	st, err := a.existingStore(ctx)
	if err != nil {
		return "", err
	}
	sig, err := a.publicSignature(ctx, st, now)
	if err != nil {
		return "", err
	}
	return sig.version, nil
}

// publicSig is what the version is made of, with the reads it took.
type publicSig struct {
	version string
	active  []store.Incident
	loc     *time.Location
	sched   *guard.Schedule
}

func (a *App) publicSignature(ctx context.Context, st store.Store, now time.Time) (publicSig, error) {
	var sig publicSig
	var err error
	if sig.loc, err = a.cfg.StatusLocation(); err != nil {
		return sig, BadInput(fmt.Errorf("status.timeZone: %w", err))
	}
	if sig.sched, err = guard.NewSchedule(a.cfg.Guardrails.Windows); err != nil {
		return sig, BadInput(fmt.Errorf("guardrails.windows: %w", err))
	}
	h := sha256.New()
	fmt.Fprintf(h, "day %s\n", now.In(sig.loc).Format(time.DateOnly))
	if st != nil {
		if sig.active, err = st.ListIncidents(ctx, store.IncidentFilter{Active: true}); err != nil {
			return sig, fmt.Errorf("listing the unresolved incidents: %w", err)
		}
		for _, in := range sig.active {
			fmt.Fprintf(h, "active %s %s %s\n", in.ID, in.State, in.Severity)
		}
		newest, err := st.ListIncidents(ctx, store.IncidentFilter{Limit: 1})
		if err != nil {
			return sig, fmt.Errorf("reading the newest incident: %w", err)
		}
		for _, in := range newest {
			fmt.Fprintf(h, "newest %s %s\n", in.ID, in.State)
		}
		ns, err := st.ListNotices(ctx, store.NoticeFilter{Limit: 1})
		if err != nil {
			return sig, fmt.Errorf("reading the newest notice: %w", err)
		}
		for _, n := range ns {
			fmt.Fprintf(h, "notice %s %d %s\n", n.IncidentID, n.Seq, n.PublishedAt.Format(time.RFC3339Nano))
		}
	}
	m := a.cfg.Status.Maintenance
	horizon := now.AddDate(0, 0, m.Days)
	if m.Show {
		for _, o := range sig.sched.Occurrences(now, horizon) {
			fmt.Fprintf(h, "window %d %d %v\n", o.Start.Unix(), o.End.Unix(), !now.Before(o.Start))
		}
	}
	if m.Freezes {
		for _, f := range sig.sched.Freezes(now, horizon) {
			fmt.Fprintf(h, "freeze %d %d %v\n", f.From.Unix(), f.To.Unix(), !now.Before(f.From))
		}
	}
	sig.version = hex.EncodeToString(h.Sum(nil))[:16]
	return sig, nil
}

// PublicStatus builds the public status page's model: components and
// their status, the unresolved incidents and the history with their
// published notices, maintenance and freezes. A store that does not exist
// yet has recorded no incident: everything is operational and nothing is
// created.
func (a *App) PublicStatus(ctx context.Context) (PublicPage, error) {
	now := a.o.Now()
	st, err := a.existingStore(ctx)
	if err != nil {
		return PublicPage{}, err
	}
	sig, err := a.publicSignature(ctx, st, now)
	if err != nil {
		return PublicPage{}, err
	}
	sc := a.cfg.Status
	p := PublicPage{
		ID: publicHash("page", a.cfg.Server.PublicURL, a.cfg.Server.Title), Name: a.cfg.Server.Title, URL: a.cfg.Server.PublicURL,
		TimeZone: sig.loc.String(), Now: now, Version: sig.version, Impact: ImpactNone,
		Components: []PublicComponent{}, Incidents: []PublicIncident{}, History: []PublicIncident{},
		Maintenances: []PublicMaintenance{}, Freezes: []PublicFreeze{},
	}
	y, mo, d := now.In(sig.loc).Date()
	p.HistoryFrom = time.Date(y, mo, d-(sc.HistoryDays-1), 0, 0, 0, 0, sig.loc)

	ins, notices, err := a.publicRecords(ctx, st, sig.active, p.HistoryFrom)
	if err != nil {
		return PublicPage{}, err
	}
	byID := map[string]*PublicComponent{}
	for i, c := range sc.Components {
		p.Components = append(p.Components, PublicComponent{ID: c.ID, Position: i + 1, Name: c.Name, Description: c.Description, Status: ComponentOperational})
	}
	for i := range p.Components {
		byID[p.Components[i].ID] = &p.Components[i]
	}
	p.Maintenances, p.Freezes = a.publicSchedule(sig.sched, now, p.Components)
	for _, m := range p.Maintenances {
		if !m.InProgress {
			continue
		}
		p.InMaintenance = true
		for _, id := range m.Components {
			if c := byID[id]; c != nil {
				c.Status = ComponentMaintenance
			}
		}
	}
	for _, in := range ins {
		pi := a.publicIncident(in, notices[in.ID])
		if in.State.Active() {
			p.Incidents = append(p.Incidents, pi)
			if impact := Impact(in.Severity); impactRank(impact) > impactRank(p.Impact) {
				p.Impact = impact
			}
			for _, id := range pi.Components {
				c := byID[id]
				if s := statusOf(in.Severity); s.Worse(c.Status) {
					c.Status = s
				}
				c.Incidents = append(c.Incidents, pi.ID)
			}
		}
		p.History = append(p.History, pi)
		for _, t := range []time.Time{pi.UpdatedAt, pi.ResolvedAt} {
			if t.After(p.UpdatedAt) {
				p.UpdatedAt = t
			}
		}
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = now
	}
	return p, nil
}

func impactRank(i Impact) int {
	return slices.Index([]Impact{ImpactNone, ImpactMinor, ImpactMajor, ImpactCritical}, i)
}

// publicRecords reads the incidents the page shows (opened since from, and
// every unresolved one), newest first, and their published notices by
// incident, newest first.
func (a *App) publicRecords(ctx context.Context, st store.Store, active []store.Incident, from time.Time) ([]store.Incident, map[string][]store.Notice, error) {
	notices := map[string][]store.Notice{}
	if st == nil {
		return nil, notices, nil
	}
	recent, err := st.ListIncidents(ctx, store.IncidentFilter{Since: from})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the incidents since %s: %w", from.Format(time.DateOnly), err)
	}
	ins := recent
	since := from
	for _, in := range active {
		if !slices.ContainsFunc(recent, func(r store.Incident) bool { return r.ID == in.ID }) {
			ins = append(ins, in)
		}
		if in.OpenedAt.Before(since) {
			since = in.OpenedAt
		}
	}
	slices.SortStableFunc(ins, func(x, y store.Incident) int {
		if c := y.OpenedAt.Compare(x.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	if len(ins) == 0 {
		return ins, notices, nil
	}
	// Notices are published after their incident opened: one read from
	// the oldest incident's opening covers them all.
	ns, err := st.ListNotices(ctx, store.NoticeFilter{Since: since})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the notices since %s: %w", since.Format(time.DateOnly), err)
	}
	for _, n := range ns {
		notices[n.IncidentID] = append(notices[n.IncidentID], n)
	}
	return ins, notices, nil
}

// publicIncident is in as the public sees it, with its notices (newest
// first) grouped into updates and redacted.
func (a *App) publicIncident(in store.Incident, ns []store.Notice) PublicIncident {
	sc := a.cfg.Status
	pi := PublicIncident{
		ID: PublicIncidentID(in.ID), Severity: in.Severity, State: in.State,
		StartedAt: in.OpenedAt, CreatedAt: in.OpenedAt, UpdatedAt: in.OpenedAt,
		MonitoringAt: in.MitigatedAt, ResolvedAt: in.ResolvedAt,
		Components: []string{}, Updates: []PublicUpdate{},
	}
	for _, t := range []time.Time{in.DetectedAt, in.ImpactStartedAt} {
		if !t.IsZero() && t.Before(pi.StartedAt) {
			pi.StartedAt = t
		}
	}
	if in.ResolvedAt.After(pi.UpdatedAt) {
		pi.UpdatedAt = in.ResolvedAt
	}
	if in.MitigatedAt.After(pi.UpdatedAt) {
		pi.UpdatedAt = in.MitigatedAt
	}
	for _, c := range sc.Components {
		if c.Incidents.Matches(in) {
			pi.Components = append(pi.Components, c.ID)
		}
	}
	if sc.ShowInternals {
		pi.Internal = &PublicInternals{IncidentID: in.ID, Source: in.Source, Rule: in.Rule, ChangeID: in.ChangeID}
	}
	redact := a.publicRedactor(in)
	for _, n := range ns {
		last := len(pi.Updates) - 1
		if last < 0 || !pi.Updates[last].At.Equal(n.PublishedAt) || pi.Updates[last].State != n.State {
			pi.Updates = append(pi.Updates, PublicUpdate{
				ID:    publicHash("update", in.ID, strconv.FormatInt(n.Seq, 10)),
				State: n.State, At: n.PublishedAt, Texts: map[string]PublicText{},
			})
			last++
		}
		if _, ok := pi.Updates[last].Texts[n.Lang]; !ok {
			pi.Updates[last].Texts[n.Lang] = PublicText{Title: redact(n.Title), Body: redact(n.Body)}
		}
		if n.PublishedAt.After(pi.UpdatedAt) {
			pi.UpdatedAt = n.PublishedAt
		}
	}
	return pi
}

// publicRedactor returns the function every published text goes through
// before the page shows it: a safety net under the notice templates,
// which already write counts rather than names. It replaces with "…"
//
//   - AWS IDs (accounts, OUs, roots, policies, ARNs), unless
//     notices.showAccountIDs;
//   - the incident's internal ID, change, watch rule and de-duplication
//     key, unless status.showInternals;
//   - the incident's account IDs, unless notices.showAccountIDs;
//   - the names of the incident's customers, always (one customer must
//     never read another's name).
//
// Words are replaced whole: not when the text has an ASCII letter, digit,
// '-' or '_' right beside them.
func (a *App) publicRedactor(in store.Incident) func(string) string {
	var words []string
	words = append(words, in.Customers...)
	if !a.cfg.Notices.ShowAccountIDs {
		words = append(words, in.Accounts...)
	}
	if !a.cfg.Status.ShowInternals {
		words = append(words, in.ID, in.ChangeID, in.Rule, in.DedupKey)
	}
	words = slices.DeleteFunc(words, func(w string) bool { return len(strings.TrimSpace(w)) < 2 })
	// Longest first, so that a name containing another goes whole.
	slices.SortFunc(words, func(x, y string) int { return len(y) - len(x) })
	words = slices.Compact(words)
	mask := !a.cfg.Notices.ShowAccountIDs
	return func(s string) string {
		for _, w := range words {
			s = replaceWord(s, w, "…")
		}
		if mask {
			s = notice.Mask(s)
		}
		return s
	}
}

// replaceWord replaces each whole occurrence of w in s by with.
func replaceWord(s, w, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, w)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(w)
		if (i > 0 && wordByte(s[i-1])) || (end < len(s) && wordByte(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
}

// wordByte reports whether c continues an ASCII word (an identifier, an
// ID): beside one, a name is part of something else.
func wordByte(c byte) bool {
	return c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// publicSchedule lists the maintenance runs and the freezes the page
// shows at now.
func (a *App) publicSchedule(s *guard.Schedule, now time.Time, comps []PublicComponent) ([]PublicMaintenance, []PublicFreeze) {
	m := a.cfg.Status.Maintenance
	horizon := now.AddDate(0, 0, m.Days)
	maint, freezes := []PublicMaintenance{}, []PublicFreeze{}
	affected := m.Components
	if len(affected) == 0 {
		for _, c := range comps {
			affected = append(affected, c.ID)
		}
	}
	if m.Show {
		for _, o := range s.Occurrences(now, horizon) {
			if n := len(maint); n > 0 && !o.Start.After(maint[n-1].End) {
				if o.End.After(maint[n-1].End) {
					maint[n-1].End = o.End
				}
				continue
			}
			maint = append(maint, PublicMaintenance{Start: o.Start, End: o.End, Components: slices.Clone(affected)})
		}
		for i := range maint {
			maint[i].ID = publicHash("maintenance", strconv.FormatInt(maint[i].Start.Unix(), 10))
			maint[i].InProgress = !now.Before(maint[i].Start) && now.Before(maint[i].End)
		}
	}
	if m.Freezes {
		for _, f := range s.Freezes(now, horizon) {
			pf := PublicFreeze{From: f.From, To: f.To, Active: !now.Before(f.From)}
			if a.cfg.Status.ShowInternals {
				pf.Reason = f.Reason
			}
			freezes = append(freezes, pf)
		}
	}
	return maint, freezes
}

// Ready reports whether the store answers: it opens the store (creating
// an SQLite one) and reads from it.
func (a *App) Ready(ctx context.Context) error {
	st, err := a.Store(ctx)
	if err != nil {
		return err
	}
	if _, err := st.ListIncidents(ctx, store.IncidentFilter{Limit: 1}); err != nil {
		return fmt.Errorf("reading from the store: %w", err)
	}
	return nil
}
