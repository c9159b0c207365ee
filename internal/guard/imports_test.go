package guard

import (
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/importcheck"
)

// TestImportsOnlyStandardLibraryAndYAML keeps guard callable from impact and
// plan without import cycles: it depends on nothing else in the module but
// leaf packages that import nothing else of the module but leaves (display;
// decode, which imports source and jsonpos).
func TestImportsOnlyStandardLibraryAndYAML(t *testing.T) {
	for name, paths := range importcheck.Imports(t) {
		for _, path := range paths {
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
