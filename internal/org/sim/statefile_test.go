package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/org"
)

// sharedState writes the test organization to a state file and returns
// its path.
func sharedState(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	if _, err := New(testSnapshot(), Options{StatePath: path}); err != nil {
		t.Fatalf("New: %v", err)
	}
	return path
}

func ouNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	s, err := org.ReadSnapshotFile(path)
	if err != nil {
		t.Fatalf("reading the state: %v", err)
	}
	names := map[string]bool{}
	for _, u := range s.OUs {
		names[u.Name] = true
	}
	return names
}

// Two Orgs on one state file stand for two processes (flock locks belong
// to open files, so they exclude each other within a process too).
func TestTwoWritersOnOneStateFileLoseNothing(t *testing.T) {
	path := sharedState(t)
	ctx := context.Background()
	a, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a change by one is seen by the other's reads", func(t *testing.T) {
		if _, err := a.CreateOU(ctx, rootID, "from-a"); err != nil {
			t.Fatal(err)
		}
		s, err := b.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesContainsOU(s, "from-a") {
			t.Error("b's snapshot does not show the OU a created")
		}
	})

	t.Run("alternating writers keep each other's changes", func(t *testing.T) {
		if err := b.AttachPolicy(ctx, scpDeny, acctWork); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateOU(ctx, rootID, "from-a-2"); err != nil {
			t.Fatal(err)
		}
		s, err := org.ReadSnapshotFile(path)
		if err != nil {
			t.Fatal(err)
		}
		attached := false
		for _, at := range s.Attachments {
			attached = attached || (at == org.Attachment{PolicyID: scpDeny, TargetID: acctWork})
		}
		if !attached || !slicesContainsOU(s, "from-a-2") {
			t.Errorf("state after b attached and a created an OU: attached=%v, OU=%v; want both", attached, slicesContainsOU(s, "from-a-2"))
		}
	})

	t.Run("concurrent writers lose no change", func(t *testing.T) {
		const perWriter = 15
		var wg sync.WaitGroup
		errs := make(chan error, 2*perWriter)
		for w, o := range []*Org{a, b} {
			wg.Go(func() {
				for i := range perWriter {
					if _, err := o.CreateOU(ctx, ouEmpty, fmt.Sprintf("w%d-%d", w, i)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("CreateOU: %v", err)
		}
		names := ouNames(t, path)
		for w := range 2 {
			for i := range perWriter {
				if n := fmt.Sprintf("w%d-%d", w, i); !names[n] {
					t.Errorf("OU %s is missing from the state file", n)
				}
			}
		}
	})
}

func slicesContainsOU(s *org.Snapshot, name string) bool {
	for _, u := range s.OUs {
		if u.Name == name {
			return true
		}
	}
	return false
}

func TestAWriterWaitsForTheLockThenRefusesClearly(t *testing.T) {
	if !fileLocking {
		t.Skip("no file locking on this platform")
	}
	path := sharedState(t)
	o, err := Open(Options{StatePath: path, LockTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	held, err := lockState(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = o.CreateOU(context.Background(), rootID, "blocked")
	var ae *org.APIError
	if !errors.As(err, &ae) || ae.Code != org.CodeConcurrentModification {
		t.Fatalf("CreateOU while another process holds the lock = %v, want ConcurrentModificationException", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("CreateOU gave up after %v, want it to wait the lock timeout (150ms)", waited)
	}
	if names := ouNames(t, path); names["blocked"] {
		t.Error("the refused change was written")
	}
	held.Close()
	if _, err := o.CreateOU(context.Background(), rootID, "unblocked"); err != nil {
		t.Errorf("CreateOU after the lock was released: %v", err)
	}
	t.Run("a cancelled context stops the wait", func(t *testing.T) {
		held, err := lockState(context.Background(), path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := o.CreateOU(ctx, rootID, "cancelled"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("CreateOU with an expiring context = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestACorruptedStateIsRefusedNotOverwritten(t *testing.T) {
	path := sharedState(t)
	o, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"formatVersion": 1, "trunc`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = o.CreateOU(context.Background(), rootID, "x")
	var ae *org.APIError
	if !errors.As(err, &ae) || ae.Code != org.CodeService {
		t.Fatalf("CreateOU on a corrupted state = %v, want ServiceException", err)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"formatVersion": 1, "trunc` {
		t.Error("the corrupted state file was overwritten")
	}
}

// The helper process of TestWritersInSeparateProcessesLoseNothing: it
// creates OUs named prefix-0.. in the state file named by the environment.
func TestHelperStateWriter(t *testing.T) {
	path := os.Getenv("ORGGUARD_SIM_HELPER_STATE")
	if path == "" {
		t.Skip("helper process only")
	}
	n, _ := strconv.Atoi(os.Getenv("ORGGUARD_SIM_HELPER_N"))
	o, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := o.CreateOU(context.Background(), ouEmpty, fmt.Sprintf("%s-%d", os.Getenv("ORGGUARD_SIM_HELPER_PREFIX"), i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWritersInSeparateProcessesLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := sharedState(t)
	const n = 12
	var wg sync.WaitGroup
	for _, prefix := range []string{"p1", "p2"} {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStateWriter$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ORGGUARD_SIM_HELPER_STATE="+path, "ORGGUARD_SIM_HELPER_N="+strconv.Itoa(n), "ORGGUARD_SIM_HELPER_PREFIX="+prefix)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper %s: %v\n%s", prefix, err, out)
			}
		})
	}
	// And this process writes at the same time.
	o, err := Open(Options{StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := o.CreateOU(context.Background(), ouEmpty, fmt.Sprintf("p0-%d", i)); err != nil {
			t.Errorf("CreateOU: %v", err)
		}
	}
	wg.Wait()
	names := ouNames(t, path)
	for _, prefix := range []string{"p0", "p1", "p2"} {
		for i := range n {
			if name := fmt.Sprintf("%s-%d", prefix, i); !names[name] {
				t.Errorf("OU %s is missing: a writer's change was lost", name)
			}
		}
	}
}
