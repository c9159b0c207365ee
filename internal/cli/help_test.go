package cli

// Every command explains itself: design.md asks for --help with an example.

import (
	"testing"

	"github.com/spf13/cobra"
)

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	root := newRootCmd(&env{})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Example == "" {
			t.Errorf("%s has no Example in its --help", c.CommandPath())
		}
		if c.Short == "" {
			t.Errorf("%s has no short description", c.CommandPath())
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}
