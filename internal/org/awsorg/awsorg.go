// Package awsorg implements org.Backend on the AWS Organizations API through
// aws-sdk-go-v2. With internal/probe/awsprobe and internal/awsconfig (which
// loads the SDK configuration for both) it is one of the three packages of
// orgguard that import the AWS SDK.
//
// The backend reads a whole organization with bounded concurrency and close
// to the minimum number of API calls the page sizes allow (see Snapshot),
// retries throttling and ConcurrentModificationException with the SDK's
// adaptive retry mode within a bounded retry budget (retry.go), reads single
// parts of the organization for health checks and plan verification
// (parts.go), counts the calls it makes (Stats) and writes single
// changes (attach, detach, move, create/update/delete policy, create/delete
// OU, enable/disable a policy type). SDK errors become *org.APIError values
// carrying the AWS error code, the reason and the request ID.
//
// Pointed at `orgguard sim serve` with EndpointURL it talks to the simulated
// organization over the same wire protocol as real AWS.
package awsorg

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgguard/orgguard/internal/awsconfig"
	"github.com/orgguard/orgguard/internal/loopback"
	"github.com/orgguard/orgguard/internal/org"
)

// DefaultRegion is used when neither the options nor the shared
// configuration name a region. Organizations is a global service whose
// endpoint lives in us-east-1.
const DefaultRegion = awsconfig.DefaultRegion

// Defaults for Options.
const (
	DefaultConcurrency = 8
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 20 * time.Second
)

// Options configure a Backend. The zero value uses the default credential
// chain (environment, shared config and credentials files, SSO, IMDS),
// the default profile and region us-east-1.
type Options struct {
	Profile     string // shared config profile; "" = AWS_PROFILE or "default"
	Region      string // "" = from the shared config, else us-east-1
	EndpointURL string // e.g. http://127.0.0.1:8080 for `orgguard sim serve`

	Concurrency int       // parallel API calls while reading; 0 = DefaultConcurrency
	Progress    io.Writer // progress while reading (a bar on a terminal); nil = none

	// ReadTags also reads the tags of the root, every OU, account and
	// policy. It costs one ListTagsForResource call per resource, so it is
	// off by default; snapshots then carry no tags.
	ReadTags bool

	MaxAttempts int           // attempts per call including the first; 0 = DefaultMaxAttempts
	MaxBackoff  time.Duration // cap of one retry delay; 0 = DefaultMaxBackoff
	// RetryBudget bounds the retries of all calls together (see
	// DefaultRetryBudget); 0 = DefaultRetryBudget.
	RetryBudget int
	// RetryMode is RetryAdaptive or RetryStandard; "" is adaptive, except
	// against a loopback endpoint (`orgguard sim serve`), where it is
	// standard (see retryModeFor).
	RetryMode string

	// Now returns the current time (TakenAt of snapshots); nil = time.Now.
	Now func() time.Time
}

// Backend reads and writes an organization through the AWS Organizations API.
// It is safe for concurrent use.
type Backend struct {
	client *organizations.Client
	sts    *sts.Client // CallerIdentity only
	opts   Options
	source string

	mu   sync.Mutex
	last Stats

	total *counter // every call the backend made (Calls)
}

var _ org.Backend = (*Backend)(nil)

// New loads the AWS configuration (profile, region, shared config and SSO
// through awsconfig.Load) and returns a Backend. When EndpointURL
// points at a loopback address and no profile is named, static dummy
// credentials are used: the simulator does not verify signatures.
func New(ctx context.Context, o Options) (*Backend, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.RetryBudget <= 0 {
		o.RetryBudget = DefaultRetryBudget
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	mode, err := retryModeFor(o.RetryMode, loopback.URL(o.EndpointURL))
	if err != nil {
		return nil, err
	}
	cfg, err := awsconfig.Load(ctx, awsconfig.Options{
		Profile:     o.Profile,
		Region:      o.Region,
		EndpointURL: o.EndpointURL,
		Retryer: func() aws.Retryer {
			return newRetryer(o.MaxAttempts, o.MaxBackoff, o.RetryBudget, mode == RetryAdaptive)
		},
		LoopbackKey: "orgguard-sim",
	})
	if err != nil {
		return nil, err
	}
	total := newCounter()
	client := organizations.NewFromConfig(cfg, func(co *organizations.Options) {
		if o.EndpointURL != "" {
			co.BaseEndpoint = aws.String(o.EndpointURL)
		}
		co.APIOptions = append(co.APIOptions, addCounters(total))
	})
	source := "aws:"
	if o.Profile != "" {
		source += o.Profile + "/"
	}
	source += cfg.Region
	if o.EndpointURL != "" {
		source += "@" + o.EndpointURL
	}
	stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
	})
	return &Backend{client: client, sts: stsClient, opts: o, source: source, total: total}, nil
}

// LastStats returns the statistics of the most recent Snapshot call.
func (b *Backend) LastStats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last.clone()
}

// Calls returns the API calls the backend made since New, by API, with
// retries and throttled answers (org.CallCounter). Wall is zero: take
// differences of two readings (org.Calls.Sub) with the caller's clock.
func (b *Backend) Calls() org.Calls {
	return b.total.stats().orgCalls()
}

var _ org.CallCounter = (*Backend)(nil)

// jitterBackoff is "full jitter": a uniform delay in [0, min(max, base·2^n)).
type jitterBackoff struct{ base, max time.Duration }

func (j jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	if attempt < 1 {
		attempt = 1
	}
	ceil := j.max
	if attempt < 30 {
		if d := j.base << (attempt - 1); d > 0 && d < ceil {
			ceil = d
		}
	}
	if ceil <= 0 {
		return 0, nil
	}
	return rand.N(ceil), nil
}
