package app

import (
	"context"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/store"
)

// PublicIncident is what the public status page may show of an active
// incident: never its internal title, accounts or customers, only its
// severity, state, when it opened and the notices published for it
// (newest first, every language).
type PublicIncident struct {
	ID       string              `json:"id"`
	Severity store.Severity      `json:"severity"`
	State    store.IncidentState `json:"state"`
	OpenedAt time.Time           `json:"openedAt"`
	Notices  []store.Notice      `json:"notices,omitempty"`
}

// PublicStatus is the public status of the organization: the active
// incidents (none means every system is operational).
type PublicStatus struct {
	Incidents []PublicIncident `json:"incidents"`
}

// Operational reports whether no incident is active.
func (s PublicStatus) Operational() bool { return len(s.Incidents) == 0 }

// PublicStatus reads the active incidents and their published notices. A
// store that does not exist yet has recorded no incident: the status is
// operational and nothing is created.
func (a *App) PublicStatus(ctx context.Context) (PublicStatus, error) {
	st, err := a.existingStore(ctx)
	if err != nil {
		return PublicStatus{}, err
	}
	out := PublicStatus{Incidents: []PublicIncident{}}
	if st == nil {
		return out, nil
	}
	ins, err := st.ListIncidents(ctx, store.IncidentFilter{Active: true})
	if err != nil {
		return PublicStatus{}, fmt.Errorf("listing the active incidents: %w", err)
	}
	for _, in := range ins {
		ns, err := st.ListNotices(ctx, store.NoticeFilter{IncidentID: in.ID})
		if err != nil {
			return PublicStatus{}, fmt.Errorf("listing the notices of incident %s: %w", in.ID, err)
		}
		out.Incidents = append(out.Incidents, PublicIncident{ID: in.ID, Severity: in.Severity, State: in.State,
			OpenedAt: in.OpenedAt, Notices: ns})
	}
	return out, nil
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
