package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultsWithoutAFile(t *testing.T) {
	t.Chdir(t.TempDir())
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	if diff := cmp.Diff(*c, want); diff != "" {
		t.Errorf("Load with no file (-got +want):\n%s", diff)
	}
	if c.Backend.Type != BackendSim || c.Backend.Sim.Accounts != 1000 || c.Backend.Sim.Seed != 1 || c.Backend.AWS.Region != "" {
		t.Errorf("defaults = %+v", c.Backend)
	}
	if c.Backend.Sim.State != filepath.Join(".orgguard", "sim-state.json") {
		t.Errorf("default state = %q", c.Backend.Sim.State)
	}
}

func TestLoadLookup(t *testing.T) {
	t.Run("./orgguard.yaml is used when there is no --config", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := os.WriteFile(DefaultFile, []byte("backend:\n  type: aws\n  aws:\n    profile: prod\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load("")
		if err != nil {
			t.Fatal(err)
		}
		if c.Backend.Type != BackendAWS || c.Backend.AWS.Profile != "prod" || c.Backend.AWS.Region != "" || c.File != DefaultFile {
			t.Errorf("Load = %+v from %q", c.Backend, c.File)
		}
	})
	t.Run("an explicit file must exist", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Load(missing) error = %v, want not exist", err)
		}
	})
	t.Run("a relative state path is relative to the file's directory", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "conf", "orgguard.yaml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("backend:\n  sim:\n    state: state/sim.json\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(dir, "conf", "state", "sim.json"); c.Backend.Sim.State != want {
			t.Errorf("state = %q, want %q", c.Backend.Sim.State, want)
		}
	})
}

func TestParse(t *testing.T) {
	doc := `# comment
backend:
  type: sim
  sim:
    state: /var/lib/orgguard/sim.json
    seed: 42
    accounts: 10000
  aws:
    profile: prod-admin
    region: eu-west-1
    endpoint: http://127.0.0.1:4566
`
	c, err := Parse([]byte(doc), "orgguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Backend{
		Type: BackendSim,
		Sim:  SimBackend{State: "/var/lib/orgguard/sim.json", Seed: 42, Accounts: 10000},
		AWS:  AWSBackend{Profile: "prod-admin", Region: "eu-west-1", Endpoint: "http://127.0.0.1:4566"},
	}
	if diff := cmp.Diff(c.Backend, want); diff != "" {
		t.Errorf("Parse (-got +want):\n%s", diff)
	}
	for _, empty := range []string{"", "# only a comment\n", "---\n", "backend:\n"} {
		c, err := Parse([]byte(empty), "x.yaml")
		if err != nil || c.Backend != Defaults().Backend {
			t.Errorf("Parse(%q) = %+v, %v; want the defaults", empty, c, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"an unknown top-level key names its line and column", "backend:\n  type: sim\nbackends: {}\n",
			[]string{`orgguard.yaml:3:1: backends: unknown key "backends"`, "known keys here: backend"}},
		{"an unknown nested key names its line and column", "backend:\n  sim:\n    accounts: 10\n    stat: x.json\n",
			[]string{`orgguard.yaml:4:5: backend.sim.stat: unknown key "stat" (known keys here: state, seed, accounts)`}},
		{"a string where a number goes is reported at the value", "backend:\n  sim:\n    accounts: many\n",
			[]string{`orgguard.yaml:3:15: backend.sim.accounts: expected an integer, found "many"`}},
		{"a negative seed is reported", "backend:\n  sim:\n    seed: -1\n",
			[]string{"orgguard.yaml:3:11: backend.sim.seed: expected a non-negative integer"}},
		{"an unknown backend type is reported at the value", "backend:\n  type: azure\n",
			[]string{`orgguard.yaml:2:9: backend.type: must be "sim" or "aws", not "azure"`}},
		{"too many accounts is reported", "backend:\n  sim:\n    accounts: 60000\n",
			[]string{"orgguard.yaml:3:15: backend.sim.accounts: must be between 1 and 50000"}},
		{"a bad region is reported", "backend:\n  aws:\n    region: moon\n",
			[]string{`orgguard.yaml:3:13: backend.aws.region: "moon" is not an AWS region name`}},
		{"an endpoint without a scheme is reported", "backend:\n  aws:\n    endpoint: localhost:4566\n",
			[]string{"orgguard.yaml:3:15: backend.aws.endpoint: must be an http:// or https:// URL"}},
		{"an empty state path is reported", "backend:\n  sim:\n    state: \"\"\n", []string{"backend.sim.state: must name a file"}},
		{"a list where a mapping goes is reported", "backend:\n  - sim\n", []string{"orgguard.yaml:2:3: backend: expected a mapping"}},
		{"a mapping where a value goes is reported", "backend:\n  type:\n    name: sim\n", []string{"orgguard.yaml:3:5: backend.type: expected a single value"}},
		{"a duplicated key is reported", "backend:\n  type: sim\n  type: aws\n", []string{"orgguard.yaml:3:3", "appears twice"}},
		{"malformed YAML names the line", "backend:\n  type: [sim\n", []string{"orgguard.yaml:", "malformed YAML"}},
		{"a second document is refused", "backend: {}\n---\nbackend: {}\n", []string{"more than one YAML document"}},
		{"a scalar document is refused", "just text\n", []string{"orgguard.yaml:1:1", "expected a mapping"}},
		{"every problem is reported at once", "backend:\n  typo: 1\n  sim:\n    acounts: 2\n",
			[]string{"orgguard.yaml:2:3", "orgguard.yaml:4:5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "orgguard.yaml")
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestExampleFileIsValidAndComplete(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "orgguard.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data, "orgguard.example.yaml"); err != nil {
		t.Fatalf("orgguard.example.yaml: %v", err)
	}
	docs, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The backend section is checked here; each later section's owner adds
	// its prefix to this list once its keys are documented.
	for _, k := range Keys() {
		if !strings.HasPrefix(k, "backend.") && !strings.HasPrefix(k, "notices.") && !strings.HasPrefix(k, "notify.") && !strings.HasPrefix(k, "auth.") && !strings.HasPrefix(k, "server.") && !strings.HasPrefix(k, "status.") {
			continue
		}
		if !strings.Contains(string(docs), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not document %s", k)
		}
		last := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(data), last+":") {
			t.Errorf("orgguard.example.yaml does not show %s", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("backend:\n  type: sim\n  sim:\n    accounts: 10\n"))
	f.Add([]byte("backend:\n  aws:\n    region: us-east-1\n    endpoint: http://x\n"))
	f.Add([]byte("backend: &a\n  type: sim\nother: *a\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("backend:\n  sim:\n    seed: 99999999999999999999999\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error %v does not match ErrInvalid", err)
			}
			return
		}
		if c.Backend.Type != BackendSim && c.Backend.Type != BackendAWS {
			t.Fatalf("accepted backend type %q", c.Backend.Type)
		}
		if c.Backend.Sim.Accounts < 1 || c.Backend.Sim.Accounts > MaxSimAccounts {
			t.Fatalf("accepted %d accounts", c.Backend.Sim.Accounts)
		}
	})
}
