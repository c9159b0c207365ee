//go:build unix

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/orgguard/orgguard/internal/audit"
	"github.com/orgguard/orgguard/internal/store"
)

// TestJournalSurvivesKill runs a child process that starts a change,
// journals the intent of a step and is killed with SIGKILL before it can
// journal the result — the crash recovery must handle. The parent then
// finds the change unfinished with its intent on record.
func TestJournalSurvivesKill(t *testing.T) {
	if path := os.Getenv("ORGGUARD_TEST_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "orgguard.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestJournalSurvivesKill$")
	cmd.Env = append(os.Environ(), "ORGGUARD_TEST_KILL_CHILD="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child = %v, want it killed by SIGKILL; output:\n%s", err, out)
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	unfinished, err := s.UnfinishedChanges(ctx)
	if err != nil || len(unfinished) != 1 {
		t.Fatalf("UnfinishedChanges after the kill = %v, %v, want the one change", unfinished, err)
	}
	j, err := s.Journal(ctx, unfinished[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(j) != 3 || j[2].Step != 1 || j[2].Phase != store.PhaseIntent {
		t.Errorf("journal after the kill = %+v, want step 0 intent+done and step 1 intent", j)
	}
	if p, err := s.Plan(ctx, unfinished[0].PlanID); err != nil || p.State != store.PlanApplying {
		t.Errorf("plan after the kill = %v, %v, want applying", p.State, err)
	}
	if r, err := audit.Verify(ctx, s); err != nil || !r.Intact() || r.Entries != 1 {
		t.Errorf("Verify after the kill = %+v, %v, want an intact chain of 1", r, err)
	}
}

// killChild is the child's side of TestJournalSurvivesKill.
func killChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	fail := func(err error) {
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
	}
	p, err := s.SavePlan(ctx, store.Plan{Author: "alice", Hash: "h", Body: []byte(`{}`), State: store.PlanApproved})
	fail(err)
	var c store.Change
	fail(s.WithTx(ctx, func(tx store.Tx) error {
		if _, err := tx.SetPlanState(ctx, p.ID, store.PlanApproved, store.PlanApplying); err != nil {
			return err
		}
		var err error
		if c, err = tx.StartChange(ctx, store.Change{PlanID: p.ID, StartedBy: "alice"}); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: "alice", Action: "apply.start", Subject: c.ID})
		return err
	}))
	for _, e := range []store.JournalEntry{
		{ChangeID: c.ID, Step: 0, Phase: store.PhaseIntent},
		{ChangeID: c.ID, Step: 0, Phase: store.PhaseDone, RequestID: "req-0"},
		{ChangeID: c.ID, Step: 1, Phase: store.PhaseIntent},
	} {
		_, err := s.AppendJournal(ctx, e)
		fail(err)
	}
	// Die mid-step, without closing anything.
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}
