package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// BenchmarkPlanCommand10k runs the whole `orgguard plan attach-policy
// --policy deny-all --target Root --snapshot org10k.json` in process, with
// the collector settings of cmd/orgguard: reading and validating the 7 MB
// snapshot file, planning on a simulated copy, the blast radius, the
// verdict, the sealed plan and the text rendering.
func BenchmarkPlanCommand10k(b *testing.B) { benchmarkPlanCommand10k(b) }

// BenchmarkPlanCommand10kJSON is BenchmarkPlanCommand10k with --json: the
// 9 MB plan written out.
func BenchmarkPlanCommand10kJSON(b *testing.B) { benchmarkPlanCommand10k(b, "--json") }

func benchmarkPlanCommand10k(b *testing.B, extra ...string) {
	s, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "org10k.json")
	if err := org.WriteSnapshotFile(path, s); err != nil {
		b.Fatal(err)
	}
	b.Chdir(dir)
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(80 << 20))
	args := []string{"plan", "attach-policy", "--policy", "deny-all", "--target", "Root", "--snapshot", path, "--now", accidentNow}
	args = append(args, extra...)
	var out, errb bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		errb.Reset()
		if code := Run(context.Background(), args, strings.NewReader(""), &out, &errb); code != ExitRefused {
			b.Fatalf("plan exited %d: %s", code, errb.String())
		}
	}
}
