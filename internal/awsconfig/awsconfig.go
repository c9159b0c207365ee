// Package awsconfig loads the AWS SDK configuration the way every orgguard
// AWS client wants it: a named profile or the default credential chain, a
// region (us-east-1 when nothing names one), an optional endpoint URL, and
// static dummy credentials when that endpoint is on the local machine and
// no profile is named (`orgguard sim serve` and test servers do not verify
// signatures). It makes no AWS call.
package awsconfig

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgguard/orgguard/internal/loopback"
)

// DefaultRegion is used when neither the options nor the shared
// configuration name a region. Organizations is a global service whose
// endpoint lives in us-east-1.
const DefaultRegion = "us-east-1"

// Options say which configuration to load.
type Options struct {
	Profile     string // shared config profile; "" = AWS_PROFILE or "default"
	Region      string // "" = from the shared config, else DefaultRegion
	EndpointURL string // "" = the AWS endpoints; else http(s)://host[:port]

	// Retryer builds the retryer of every client made from the
	// configuration; nil = the SDK's default.
	Retryer func() aws.Retryer

	// LoopbackKey is the access key ID of the static credentials used when
	// EndpointURL is on a loopback host and Profile is empty.
	LoopbackKey string
}

// Load checks o.EndpointURL and loads the configuration through
// config.LoadDefaultConfig.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	local := false
	if o.EndpointURL != "" {
		u, err := url.Parse(o.EndpointURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("reading endpoint URL %q: want http(s)://host[:port]", o.EndpointURL)
		}
		local = loopback.Host(u.Hostname())
	}
	var loaders []func(*config.LoadOptions) error
	if o.Retryer != nil {
		loaders = append(loaders, config.WithRetryer(o.Retryer))
	}
	if o.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}
	if local && o.Profile == "" {
		loaders = append(loaders, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.LoopbackKey, o.LoopbackKey, "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}
