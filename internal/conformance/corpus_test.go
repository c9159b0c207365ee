package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/catalog"
)

// corpusFiles returns the project's own case files and, when present next
// to the repository (as in CI), the shared reference cases.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	own, err := filepath.Glob(filepath.Join("..", "..", "testdata", "cases", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "cases", "*.json"))
	return append(own, shared...)
}

// TestCorpus runs every case of the corpus through the engine. A failure
// here is either an engine bug or a case that misreads the AWS
// documentation; the message says which case and why.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	if len(files) == 0 {
		t.Skip("no case files found")
	}
	// Use the catalog's list of services that support RCPs, as orgguard eval does.
	var opts Options
	if c, err := catalog.Load(); err == nil {
		opts.RCPServices = c.RCPSupported
	} else {
		t.Logf("catalog not loaded (%v): using the engine's built-in RCP service list", err)
	}
	var sum Summary
	for _, path := range files {
		f, err := LoadFile(path)
		if err != nil {
			t.Errorf("LoadFile(%s) = %v", path, err)
			continue
		}
		for _, r := range RunFile(f, opts) {
			sum.Add(r)
			if r.Status == Failed {
				t.Errorf("%s:%d:%d %s: %s\n  %s\n  doc: %s", path, r.Case.Pos.Line, r.Case.Pos.Col, r.Case.Name, r.Reason,
					strings.ReplaceAll(r.Explanation.String(), "\n", "\n  "), r.Case.Doc)
			}
		}
	}
	t.Logf("%s", sum)
}

// TestCorpusCasesCiteTheDocumentation checks that every case of the
// project's own corpus says what it shows and which AWS page it follows.
func TestCorpusCasesCiteTheDocumentation(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "cases", "*.json"))
	total := 0
	for _, path := range files {
		f, err := LoadFile(path)
		if err != nil {
			t.Errorf("LoadFile(%s) = %v", path, err)
			continue
		}
		for _, c := range f.Cases {
			total++
			if !strings.HasPrefix(c.Doc, "https://docs.aws.amazon.com/") {
				t.Errorf("%s: case %s has doc %q, want an https://docs.aws.amazon.com/ page", path, c.Name, c.Doc)
			}
			if strings.TrimSpace(c.Description) == "" {
				t.Errorf("%s: case %s has no description", path, c.Name)
			}
		}
	}
	if len(files) > 0 && total < 200 {
		t.Errorf("the corpus has %d cases, want at least 200", total)
	}
}

func BenchmarkParseCorpusFile(b *testing.B) {
	path := filepath.Join("..", "..", "testdata", "cases", "scp.json")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunCorpusFile(b *testing.B) {
	f, err := LoadFile(filepath.Join("..", "..", "testdata", "cases", "conditions-string.json"))
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range f.Cases {
			Run(c, Options{})
		}
	}
}
