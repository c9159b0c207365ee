package cli

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if what, ok := forbidden[path]; ok {
				t.Errorf("%s imports %s (%s); call internal/app instead", name, path, what)
			}
		}
	}
}
