package watch

import (
	"testing"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/org"
)

// TestOwnSignaturesLaterActionsSupersede: orgguard's own recent actions,
// read oldest first, tell which observed changes are its own; a later
// action on the same attachment (or policy, OU, policy type) supersedes an
// earlier opposite one, so that an outsider repeating what an earlier
// rollback of orgguard's did is still drift: a remediation (detach the
// deny-all from Root) interrupted by a kill and rolled back by recovery
// (attach), then done again (detach), must not make a later attach from
// outside look like orgguard's own for the whole look-back.
func TestOwnSignaturesLaterActionsSupersede(t *testing.T) {
	attach := change.Step{Kind: change.AttachPolicy, PolicyID: "p-denyall1", TargetID: "r-root"}
	detach := change.Step{Kind: change.DetachPolicy, PolicyID: "p-denyall1", TargetID: "r-root"}
	added := org.Change{Kind: org.AttachmentAdded, ID: "p-denyall1", Target: "r-root"}
	removed := org.Change{Kind: org.AttachmentRemoved, ID: "p-denyall1", Target: "r-root"}
	type action struct {
		step      change.Step
		supersede bool
	}
	for _, tc := range []struct {
		name                 string
		actions              []action
		wantAdded, wantRemov bool
	}{
		{"a detach alone: only the removal is own", []action{{detach, true}}, false, true},
		{"detach, undone by an attach: only the attach is own", []action{{detach, true}, {attach, true}}, true, false},
		{"detach, undone, detached again: an attach seen now is drift", []action{{detach, true}, {attach, true}, {detach, true}}, false, true},
		{"a detach possibly undone (failed, no undo journaled): both own", []action{{detach, true}, {attach, false}}, true, true},
		{"another target is untouched", []action{{change.Step{Kind: change.AttachPolicy, PolicyID: "p-denyall1", TargetID: "ou-x"}, true}, {detach, true}}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sigs := map[string]bool{}
			for _, a := range tc.actions {
				addSignatures(sigs, a.step, change.Bindings{}, a.supersede)
			}
			if got := isOwn(sigs, added); got != tc.wantAdded {
				t.Errorf("attach seen: own = %v, want %v (signatures %v)", got, tc.wantAdded, sigs)
			}
			if got := isOwn(sigs, removed); got != tc.wantRemov {
				t.Errorf("detach seen: own = %v, want %v (signatures %v)", got, tc.wantRemov, sigs)
			}
		})
	}
}
