package watch

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// sweep re-reads everything the cheap tier does not — every OU and account
// under every parent, and the targets of every policy — a step (one parent
// or one policy) at a time, paced so that a whole sweep takes about the
// configured period and fits the call budget.
type sweep struct {
	started  time.Time
	calls0   int64
	queue    []string // parents still to list
	policies []string // policies whose targets are still to list
	ous      map[string]org.OU
	accounts map[string]org.Account
	attach   []org.Attachment
	// touched are the IDs an event refreshed after the sweep started:
	// their known state is newer than what the sweep read.
	touched map[string]bool
}

func newSweep(known *org.Snapshot, now time.Time, calls int64) *sweep {
	s := &sweep{started: now, calls0: calls, queue: []string{known.Root.ID},
		ous: map[string]org.OU{}, accounts: map[string]org.Account{}, touched: map[string]bool{}}
	for _, p := range known.Policies {
		s.policies = append(s.policies, p.ID)
	}
	return s
}

// estimateSweepCalls is the API calls a sweep of s costs (see
// awsorg.ReadSnapshot), before one has been measured.
func estimateSweepCalls(s *org.Snapshot) int {
	parents := 1 + len(s.OUs)
	return 2*parents + len(s.Accounts)/20 + len(s.Policies) + len(s.Attachments)/20
}

// done reports whether every step ran.
func (s *sweep) done() bool { return len(s.queue) == 0 && len(s.policies) == 0 }

// step runs one step.
func (s *sweep) step(ctx context.Context, r Reader) error {
	if len(s.queue) > 0 {
		parent := s.queue[0]
		ous, err := r.OUsUnder(ctx, parent)
		if errors.Is(err, org.ErrNotFound) {
			s.queue = s.queue[1:] // deleted since: its children went with it
			return nil
		}
		if err != nil {
			return err
		}
		accts, err := r.AccountsUnder(ctx, parent)
		if err != nil && !errors.Is(err, org.ErrNotFound) {
			return err
		}
		s.queue = s.queue[1:]
		for _, u := range ous {
			s.ous[u.ID] = u
			s.queue = append(s.queue, u.ID)
		}
		for _, a := range accts {
			s.accounts[a.ID] = a
		}
		return nil
	}
	if len(s.policies) > 0 {
		pid := s.policies[0]
		ts, err := r.TargetsOf(ctx, pid)
		if err != nil && !errors.Is(err, org.ErrNotFound) {
			return err
		}
		s.policies = s.policies[1:]
		for _, t := range ts {
			s.attach = append(s.attach, org.Attachment{PolicyID: pid, TargetID: t})
		}
	}
	return nil
}

// merge builds the organization the sweep saw on top of known: OUs,
// accounts and the attachments of targets below the first level from the
// sweep; the cheap surfaces and whatever an event refreshed during the
// sweep from known. An account known but not seen (it may have moved
// between two parents the sweep read at different times) is asked for
// before it is taken for gone.
func (s *sweep) merge(ctx context.Context, r Reader, known *org.Snapshot) (*org.Snapshot, error) {
	next := known.Clone()
	top := map[string]bool{known.Root.ID: true}
	for _, u := range known.OUs {
		if u.ParentID == known.Root.ID {
			top[u.ID] = true
		}
	}
	knownOU := map[string]org.OU{}
	for _, u := range known.OUs {
		knownOU[u.ID] = u
	}
	next.OUs = next.OUs[:0]
	for _, u := range known.OUs {
		if top[u.ID] || s.touched[u.ID] {
			next.OUs = append(next.OUs, u)
		}
	}
	for id, u := range s.ous {
		if top[id] || s.touched[id] {
			continue
		}
		u.Tags = knownOU[id].Tags
		next.OUs = append(next.OUs, u)
	}
	knownAcct := map[string]org.Account{}
	for _, a := range known.Accounts {
		knownAcct[a.ID] = a
	}
	next.Accounts = next.Accounts[:0]
	for id, a := range s.accounts {
		if s.touched[id] {
			continue
		}
		old, ok := knownAcct[id]
		if ok {
			a.Tags = old.Tags
		}
		next.Accounts = append(next.Accounts, a)
	}
	for id, a := range knownAcct {
		if _, seen := s.accounts[id]; seen && !s.touched[id] {
			continue
		}
		if s.touched[id] {
			next.Accounts = append(next.Accounts, a)
			continue
		}
		parent, err := r.Parent(ctx, id)
		if errors.Is(err, org.ErrNotFound) {
			continue // gone
		}
		if err != nil {
			return nil, err
		}
		a.ParentID = parent
		next.Accounts = append(next.Accounts, a)
	}
	next.Attachments = slices.DeleteFunc(next.Attachments, func(a org.Attachment) bool { return !top[a.TargetID] && !s.touched[a.TargetID] })
	for _, a := range s.attach {
		if !top[a.TargetID] && !s.touched[a.TargetID] {
			next.Attachments = append(next.Attachments, a)
		}
	}
	// Attachments of targets that no longer exist go with them.
	live := map[string]bool{next.Root.ID: true}
	for _, u := range next.OUs {
		live[u.ID] = true
	}
	for _, a := range next.Accounts {
		live[a.ID] = true
	}
	next.Attachments = slices.DeleteFunc(next.Attachments, func(a org.Attachment) bool { return !live[a.TargetID] })
	next.Attachments = slices.Compact(sortAttachments(next.Attachments))
	return finish(next)
}

func sortAttachments(as []org.Attachment) []org.Attachment {
	slices.SortFunc(as, func(a, b org.Attachment) int {
		if a.PolicyID != b.PolicyID {
			if a.PolicyID < b.PolicyID {
				return -1
			}
			return 1
		}
		switch {
		case a.TargetID < b.TargetID:
			return -1
		case a.TargetID > b.TargetID:
			return 1
		}
		return 0
	})
	return as
}
