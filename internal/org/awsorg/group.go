package awsorg

import (
	"context"
	"sync"
)

// group runs tasks in goroutines with at most n running at once; the first
// error cancels the group's context and is the one Wait returns. It is the
// part of errgroup orgguard needs, written on sync and channels.
type group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{}
	wg     sync.WaitGroup

	once sync.Once
	err  error
}

func newGroup(ctx context.Context, n int) *group {
	ctx, cancel := context.WithCancelCause(ctx)
	return &group{ctx: ctx, cancel: cancel, sem: make(chan struct{}, n)}
}

// Go runs f in a new goroutine once a slot is free. Tasks may call Go.
func (g *group) Go(f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if g.ctx.Err() != nil {
			return // the group already failed: start nothing new
		}
		select {
		case g.sem <- struct{}{}:
		case <-g.ctx.Done():
			g.fail(context.Cause(g.ctx))
			return
		}
		err := f(g.ctx)
		<-g.sem
		if err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

// Wait waits for every task and returns the first error.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel(nil)
	return g.err
}
