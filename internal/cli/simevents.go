package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/watch"
)

// addEventFlags adds --events-to and --events-secret to `sim serve`.
func addEventFlags(cmd *cobra.Command, to, secret *string) {
	cmd.Flags().StringVar(to, "events-to", "", "post a CloudTrail-shaped EventBridge event for each write to this URL (an orgguard watch intake)")
	cmd.Flags().StringVar(secret, "events-secret", "", "the intake secret, sent in the "+watch.DefaultHeader+" header")
}

// organizationDescriber is the simulated organization, as the poster needs it.
type organizationDescriber interface {
	DescribeOrganization(ctx context.Context) (org.Organization, error)
}

func newEventPoster(ctx context.Context, o organizationDescriber, to, secret string, log *slog.Logger) (*simserver.Poster, error) {
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, badInput(fmt.Errorf("--events-to %q: want an http(s) URL", to))
	}
	desc, err := o.DescribeOrganization(ctx)
	if err != nil {
		return nil, withCode(ExitInternal, err)
	}
	log.Info("posting an event for each write", "to", to)
	return &simserver.Poster{URL: to, Header: watch.DefaultHeader, Secret: secret, Account: desc.ManagementAccountID,
		Encode: watch.EncodeEvent, Log: log}, nil
}
