package cli

import (
	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/watch"
)

// addEventFlags adds --events-to and --events-secret to `sim serve`.
func addEventFlags(cmd *cobra.Command, to, secret *string) {
	cmd.Flags().StringVar(to, "events-to", "", "post a CloudTrail-shaped EventBridge event for each write to this URL (an orgguard watch intake)")
	cmd.Flags().StringVar(secret, "events-secret", "", "the intake secret, sent in the "+watch.DefaultHeader+" header")
}
