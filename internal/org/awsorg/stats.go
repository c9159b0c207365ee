package awsorg

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/orgguard/orgguard/internal/org"
)

// Stats counts the API calls of one snapshot read.
type Stats struct {
	Calls    map[string]int // operation name -> calls (a retried call counts once)
	Attempts map[string]int // operation name -> HTTP requests sent (calls + retries)
	// Throttles counts the requests answered with a throttling error
	// (TooManyRequestsException); Exhausted the calls that gave up because
	// the retry budget was spent.
	Throttles, Exhausted int
	Elapsed              time.Duration

	Accounts, OUs, Policies, Attachments int
}

// TotalCalls is the number of API calls, not counting retries.
func (s Stats) TotalCalls() int { return sum(s.Calls) }

// Retries is the number of requests that repeated a failed one.
func (s Stats) Retries() int { return sum(s.Attempts) - sum(s.Calls) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// String is a one-line summary followed by calls per operation.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d accounts, %d OUs, %d policies, %d attachments: %d calls, %d retries",
		s.Accounts, s.OUs, s.Policies, s.Attachments, s.TotalCalls(), s.Retries())
	if s.Throttles > 0 {
		fmt.Fprintf(&b, " (%d throttled)", s.Throttles)
	}
	fmt.Fprintf(&b, " in %s", s.Elapsed.Round(time.Millisecond))
	for _, op := range slices.Sorted(maps.Keys(s.Calls)) {
		fmt.Fprintf(&b, "\n  %-34s %6d", op, s.Calls[op])
		if r := s.Attempts[op] - s.Calls[op]; r > 0 {
			fmt.Fprintf(&b, " (+%d retries)", r)
		}
	}
	return b.String()
}

func (s Stats) clone() Stats {
	s.Calls = maps.Clone(s.Calls)
	s.Attempts = maps.Clone(s.Attempts)
	return s
}

// counter collects calls and attempts; it travels in the context of the
// calls it counts, so concurrent reads do not mix their numbers.
type counter struct {
	mu                   sync.Mutex
	calls                map[string]int
	attempts             map[string]int
	throttles, exhausted int
	// wait, when set, is called before each call (not each retry): a
	// caller's call budget (see Parts).
	wait func(ctx context.Context) error
}

func newCounter() *counter {
	return &counter{calls: map[string]int{}, attempts: map[string]int{}}
}

func (c *counter) add(m map[string]int, op string) {
	c.mu.Lock()
	m[op]++
	c.mu.Unlock()
}

func (c *counter) stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Calls: maps.Clone(c.calls), Attempts: maps.Clone(c.attempts), Throttles: c.throttles, Exhausted: c.exhausted}
}

// result counts how one attempt ended: throttled, or given up for want of
// retry budget.
func (c *counter) result(err error) {
	throttled, exhausted := isThrottle(err), isBudgetSpent(err)
	if !throttled && !exhausted {
		return
	}
	c.mu.Lock()
	if throttled {
		c.throttles++
	}
	if exhausted {
		c.exhausted++
	}
	c.mu.Unlock()
}

// orgCalls converts the counts to org.Calls.
func (s Stats) orgCalls() org.Calls {
	return org.Calls{ByAPI: maps.Clone(s.Calls), Retries: s.Retries(), Throttles: s.Throttles, BudgetExhausted: s.Exhausted,
		Wall: s.Elapsed, WallMS: s.Elapsed.Milliseconds()}
}

type counterKey struct{}

func withCounter(ctx context.Context, c *counter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

func counterFrom(ctx context.Context) *counter {
	c, _ := ctx.Value(counterKey{}).(*counter)
	return c
}

// addCounters returns the option installing two middlewares on every
// operation: one at the start of the Initialize step counts the call (and
// whether it gave up for want of retry budget), one after the retry loop in
// the Finalize step counts each attempt and whether it was throttled. Each
// is counted in the counter the context carries (one read) and in total
// (everything the backend did).
func addCounters(total *counter) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error { return installCounters(stack, total) }
}

func installCounters(stack *middleware.Stack, total *counter) error {
	each := func(ctx context.Context, f func(c *counter)) {
		f(total)
		if c := counterFrom(ctx); c != nil {
			f(c)
		}
	}
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("orgguardCountCall",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if c := counterFrom(ctx); c != nil && c.wait != nil {
				if err := c.wait(ctx); err != nil {
					return middleware.InitializeOutput{}, middleware.Metadata{}, err
				}
			}
			op := awsmiddleware.GetOperationName(ctx)
			each(ctx, func(c *counter) { c.add(c.calls, op) })
			out, md, err := next.HandleInitialize(ctx, in)
			if isBudgetSpent(err) {
				each(ctx, func(c *counter) { c.result(err) })
			}
			return out, md, err
		}), middleware.Before)
	if err != nil {
		return err
	}
	attempt := middleware.FinalizeMiddlewareFunc("orgguardCountAttempt",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			each(ctx, func(c *counter) { c.add(c.attempts, op) })
			out, md, err := next.HandleFinalize(ctx, in)
			if isThrottle(err) {
				each(ctx, func(c *counter) { c.result(err) })
			}
			return out, md, err
		})
	if err := stack.Finalize.Insert(attempt, "Retry", middleware.After); err != nil {
		// A stack without the retry middleware: count at the end instead.
		return stack.Finalize.Add(attempt, middleware.After)
	}
	return nil
}
