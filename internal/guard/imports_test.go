package guard

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyStandardLibraryAndYAML keeps guard callable from impact and
// plan without import cycles: it depends on nothing else in the module but
// leaf packages that import nothing else of the module but leaves (display;
// decode, which imports source and jsonpos).
func TestImportsOnlyStandardLibraryAndYAML(t *testing.T) {
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
			t.Fatalf("parsing %s: %v", name, err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if path != "gopkg.in/yaml.v3" && !leafPackages[path] && strings.Contains(first, ".") {
				t.Errorf("%s imports %q; guard may import only the standard library and gopkg.in/yaml.v3", name, path)
			}
		}
	}
}

// leafPackages are the module's packages guard may import: they import only
// the standard library themselves.
var leafPackages = map[string]bool{
	"github.com/orgguard/orgguard/internal/display": true,
	"github.com/orgguard/orgguard/internal/decode":  true, // itself: source, jsonpos, yaml.v3
}
