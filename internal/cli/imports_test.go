package cli

import (
	"testing"

	"github.com/orgguard/orgguard/internal/importcheck"
)

// TestCommandsGoThroughTheApplicationLayer: the command line keeps flags,
// parsing and rendering; choosing and wiring the store, the backends and
// the probers belongs to internal/app, which the server and the watcher
// share. No command file may import them directly.
func TestCommandsGoThroughTheApplicationLayer(t *testing.T) {
	forbidden := map[string]string{
		"github.com/orgguard/orgguard/internal/store/sqlstore": "the SQL store",
		"github.com/orgguard/orgguard/internal/org/sim":        "the simulator",
		"github.com/orgguard/orgguard/internal/org/awsorg":     "the AWS backend",
		"github.com/orgguard/orgguard/internal/probe/awsprobe": "the AWS prober",
	}
	for name, paths := range importcheck.Imports(t) {
		for _, path := range paths {
			if what, ok := forbidden[path]; ok {
				t.Errorf("%s imports %s (%s); call internal/app instead", name, path, what)
			}
		}
	}
}
