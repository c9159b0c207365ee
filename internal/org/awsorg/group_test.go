package awsorg

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupRunsAtMostNTasksAtOnce(t *testing.T) {
	g := newGroup(context.Background(), 3)
	var running, peak, ran atomic.Int32
	var spawn func(depth int)
	spawn = func(depth int) {
		g.Go(func(ctx context.Context) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			if depth < 3 {
				spawn(depth + 1) // tasks start tasks, as the tree walk does
				spawn(depth + 1)
			}
			ran.Add(1)
			running.Add(-1)
			return nil
		})
	}
	spawn(0)
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait() = %v, want nil", err)
	}
	if got := ran.Load(); got != 15 {
		t.Errorf("ran %d tasks, want 15", got)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("peak concurrency %d, want at most 3", p)
	}
}

func TestGroupStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	g := newGroup(context.Background(), 1)
	var after atomic.Int32
	g.Go(func(ctx context.Context) error { return boom })
	<-g.ctx.Done()
	for range 10 {
		g.Go(func(ctx context.Context) error {
			after.Add(1)
			return nil
		})
	}
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait() = %v, want %v", err, boom)
	}
	if n := after.Load(); n != 0 {
		t.Errorf("%d tasks started after the failure ran, want none", n)
	}
}
