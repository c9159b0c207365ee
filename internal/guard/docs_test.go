package guard

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestDocsYAMLExamplesAreValid decodes every yaml block of
// docs/guardrails.md and validates it, so the documentation cannot drift
// from the configuration it describes.
func TestDocsYAMLExamplesAreValid(t *testing.T) {
	b, err := os.ReadFile("../../docs/guardrails.md")
	if err != nil {
		t.Fatalf("reading the guardrails documentation: %v", err)
	}
	blocks := strings.Split(string(b), "```yaml\n")[1:]
	if len(blocks) < 5 {
		t.Fatalf("found %d yaml blocks in docs/guardrails.md, want at least 5", len(blocks))
	}
	for i, blk := range blocks {
		src, _, _ := strings.Cut(blk, "```")
		var doc struct {
			Guardrails Config `yaml:"guardrails"`
		}
		dec := yaml.NewDecoder(strings.NewReader(src))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("yaml block %d does not decode: %v\n%s", i+1, err, src)
			continue
		}
		if err := doc.Guardrails.Validate(); err != nil {
			t.Errorf("yaml block %d is not valid: %v\n%s", i+1, err, src)
		}
	}
}
