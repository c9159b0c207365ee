package org

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Calls counts the API calls a backend made: per API operation, with the
// retries (requests that repeated a failed one), the throttled answers
// among all requests and the calls that gave up because the retry budget
// was spent. Wall is the wall time of whatever the caller measured.
type Calls struct {
	ByAPI           map[string]int `json:"byApi"`
	Retries         int            `json:"retries"`
	Throttles       int            `json:"throttles"`
	BudgetExhausted int            `json:"budgetExhausted,omitempty"`
	Wall            time.Duration  `json:"-"`
	WallMS          int64          `json:"wallMs"`
}

// CallCounter is a backend that counts its API calls (the AWS backend).
// Calls returns the counts since the backend was opened; callers take
// differences (Calls.Sub) to count one command, one round or one read.
type CallCounter interface {
	Calls() Calls
}

// Total is the number of calls, retries not counted.
func (c Calls) Total() int {
	n := 0
	for _, v := range c.ByAPI {
		n += v
	}
	return n
}

// Sub returns c minus an earlier reading prev, with Wall set to wall.
func (c Calls) Sub(prev Calls, wall time.Duration) Calls {
	out := Calls{ByAPI: map[string]int{}, Retries: c.Retries - prev.Retries, Throttles: c.Throttles - prev.Throttles,
		BudgetExhausted: c.BudgetExhausted - prev.BudgetExhausted, Wall: wall, WallMS: wall.Milliseconds()}
	for k, v := range c.ByAPI {
		if d := v - prev.ByAPI[k]; d != 0 {
			out.ByAPI[k] = d
		}
	}
	return out
}

// String is a one-line summary followed by the calls per API.
func (c Calls) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d API calls, %d retries, %d throttled", c.Total(), c.Retries, c.Throttles)
	if c.BudgetExhausted > 0 {
		fmt.Fprintf(&b, ", %d gave up (retry budget spent)", c.BudgetExhausted)
	}
	fmt.Fprintf(&b, " in %s", c.Wall.Round(time.Millisecond))
	for _, op := range slices.Sorted(maps.Keys(c.ByAPI)) {
		fmt.Fprintf(&b, "\n  %-34s %6d", op, c.ByAPI[op])
	}
	return b.String()
}
