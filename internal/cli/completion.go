package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCompletionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints the script that makes your shell complete orgguard's
commands and flags. Load it in the current shell, or install it as your
shell's documentation says for completion scripts.`,
		Example: `  source <(orgguard completion bash)
  orgguard completion zsh > "${fpath[1]}/_orgguard"
  orgguard completion fish > ~/.config/fish/completions/orgguard.fish
  orgguard completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			var err error
			switch args[0] {
			case "bash":
				err = root.GenBashCompletionV2(e.stdout, true)
			case "zsh":
				err = root.GenZshCompletion(e.stdout)
			case "fish":
				err = root.GenFishCompletion(e.stdout, true)
			case "powershell":
				err = root.GenPowerShellCompletionWithDesc(e.stdout)
			}
			if err != nil {
				return withCode(ExitInternal, fmt.Errorf("writing the %s completion script: %w", args[0], err))
			}
			return nil
		},
	}
}
