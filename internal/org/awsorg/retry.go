package awsorg

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/orgguard/orgguard/internal/org"
)

// DefaultRetryBudget is the size of the retry budget (the SDK's retry
// quota, in tokens): a retry takes retryCost tokens and gives them back
// when it succeeds, a call that succeeds at once adds one. A few hundred
// failed retries in a row spend it, and calls then fail at once instead of
// retrying: a throttled or failing API is not hammered, and a health-check
// round that cannot complete stops the apply (which rolls back) instead of
// retrying blind. See "Retry behavior" in the AWS SDKs and Tools reference
// guide: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
const DefaultRetryBudget = 500

// retryCost is what one retry takes from the budget, throttled or not (the
// SDK's legacy cost).
const retryCost = 5

// The retry modes (Options.RetryMode).
const (
	RetryAdaptive = "adaptive"
	RetryStandard = "standard"
)

// retryModeFor resolves Options.RetryMode. The adaptive mode suits AWS,
// whose throttling is a rate quota: once the client slows down to the
// quota, the throttling stops. The simulator's injected throttling (`sim
// serve --throttle`) answers a fixed share of requests whatever the rate,
// and against it the adaptive limiter, which cuts its rate by 30% at every
// throttled answer down to a floor of 0.5 requests a second, slows a
// 2,000-account read to more than five minutes (measured). So against a
// loopback endpoint the default is the standard mode, with the same
// bounded budget; RetryAdaptive forces the adaptive one there too.
func retryModeFor(mode string, loopback bool) (string, error) {
	switch mode {
	case RetryAdaptive, RetryStandard:
		return mode, nil
	case "":
		if loopback {
			return RetryStandard, nil
		}
		return RetryAdaptive, nil
	}
	return "", fmt.Errorf("retry mode %q: want %q or %q", mode, RetryAdaptive, RetryStandard)
}

// newRetryer returns the SDK's adaptive retry mode (retry.NewAdaptiveMode):
// the standard retryer — throttling codes, TooManyRequestsException among
// them, are retried; ConcurrentModificationException is added — with
// full-jitter exponential backoff capped at maxBackoff, a bounded retry
// budget of budget tokens (retry.StandardOptions.RateLimiter), and the
// adaptive mode's client-side rate limiter, which slows every call down
// once AWS answers with throttling errors and speeds up again as calls
// succeed. Organizations' request quotas are per account, shared by every
// caller: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
func newRetryer(maxAttempts int, maxBackoff time.Duration, budget int, adaptive bool) aws.Retryer {
	std := func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.MaxBackoff = maxBackoff
		so.Backoff = jitterBackoff{base: 100 * time.Millisecond, max: maxBackoff}
		so.RateLimiter = ratelimit.NewTokenRateLimit(uint(budget))
		so.RetryCost = retryCost
		so.ThrottlingRetryCost = retryCost
		so.Retryables = append(so.Retryables, retry.RetryableErrorCode{Codes: map[string]struct{}{org.CodeConcurrentModification: {}}})
	}
	if !adaptive {
		return retry.NewStandard(std)
	}
	return retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
		ao.StandardOptions = append(ao.StandardOptions, std)
	})
}

// isThrottle reports whether err is a throttling answer.
func isThrottle(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[ae.ErrorCode()]
	return ok
}

// isBudgetSpent reports whether a call gave up because the retry budget
// was spent.
func isBudgetSpent(err error) bool {
	var q ratelimit.QuotaExceededError
	return err != nil && errors.As(err, &q)
}
