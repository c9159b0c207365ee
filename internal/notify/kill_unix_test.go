//go:build unix

package notify

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// TestKillDuringSendingLosesNothing runs the sender as a real child
// process and kills it with SIGKILL at random moments while it delivers,
// restarting it each time (the lease of what it held runs out, then the
// next process takes the messages over). Afterwards every message is
// recorded sent, every idempotency key reached the receiver, and the only
// repeats are deliveries that left just before a kill, each with its key,
// so a receiver that drops repeated keys sees every message exactly once.
func TestKillDuringSendingLosesNothing(t *testing.T) {
	if path := os.Getenv("ORGGUARD_NOTIFY_KILL_CHILD"); path != "" {
		senderChild(path, os.Getenv("ORGGUARD_NOTIFY_URL"))
		return
	}
	if testing.Short() {
		t.Skip("starts processes")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 9))
	t.Logf("seed %d", seed)
	s := openStore(t)
	rcv := newReceiver(t, []byte("kill-test-key"))
	const n = 400
	enqueue(t, s, "hook", "kill", n)
	start := func() *exec.Cmd {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillDuringSendingLosesNothing$")
		cmd.Env = append(os.Environ(), "ORGGUARD_NOTIFY_KILL_CHILD="+s.DSN(), "ORGGUARD_NOTIFY_URL="+rcv.srv.URL)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child = %v, want killed by SIGKILL", err)
		}
	}
	kills := 0
	for range 8 {
		cmd := start()
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		kill(cmd)
		kills++
		if _, total, _ := rcv.snapshot(); total >= n {
			break
		}
	}
	cmd := start()
	waitSent(t, s, 60*time.Second)
	kill(cmd)
	byKey, total, bad := rcv.snapshot()
	if len(bad) > 0 {
		t.Errorf("receiver refused: %v", bad)
	}
	if len(byKey) != n {
		t.Fatalf("%d distinct keys arrived, want %d: messages were lost", len(byKey), n)
	}
	sent, _ := s.ListMessages(t.Context(), store.OutboxFilter{State: store.OutboxSent})
	if len(sent) != n {
		t.Errorf("%d messages recorded sent, want %d", len(sent), n)
	}
	repeats := total - n
	// At most the messages in flight at each kill can repeat: the batch a
	// sender holds (Parallel·4).
	if limit := kills * 8 * 4; repeats > limit {
		t.Errorf("%d repeated deliveries after %d kills, want at most %d", repeats, kills, limit)
	}
	t.Logf("%d kills: %d messages, %d deliveries (%d repeats, each with its idempotency key), none lost", kills, n, total, repeats)
}

// senderChild is the child's side: deliver until killed.
func senderChild(dsn, url string) {
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(3)
	}
	snd := &Sender{Store: s, Owner: "child-" + time.Now().Format("150405.000000"), Retry: fastRetry(), Lease: 500 * time.Millisecond, Poll: 5 * time.Millisecond,
		Channels: map[string]Channel{"hook": &Webhook{ChannelName: "hook", URL: url, Secret: []byte("kill-test-key"), Client: newClient(), InFlight: 8}}}
	snd.Run(context.Background())
	select {}
}
