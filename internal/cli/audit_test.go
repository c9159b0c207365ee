package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/store/sqlstore"
)

// auditStore creates an SQLite store with n audit entries and returns its
// path and the entries.
func auditStore(t *testing.T, n int) (string, []store.AuditEntry) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orgguard.db")
	s, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []store.AuditEntry
	for i := range n {
		e, err := s.AppendAudit(context.Background(), store.AuditRecord{
			Actor: "alice", Action: "plan.approve", Subject: fmt.Sprintf("plan-%d", i+1), Detail: json.RawMessage(`{"comment":"ok\tfine"}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return path, out
}

// tamperSQL runs raw SQL on the store at path with the append-only
// triggers dropped, as someone with the database file could.
func tamperSQL(t *testing.T, path string, stmts ...string) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range append([]string{`DROP TRIGGER IF EXISTS audit_log_no_update`, `DROP TRIGGER IF EXISTS audit_log_no_delete`}, stmts...) {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	intact, entries := auditStore(t, 4)
	edited, _ := auditStore(t, 4)
	tamperSQL(t, edited, `UPDATE audit_log SET subject = 'plan-666' WHERE seq = 2`)
	badTime, _ := auditStore(t, 4)
	tamperSQL(t, badTime, `UPDATE audit_log SET at = 'yesterday' WHERE seq = 3`)
	truncated, _ := auditStore(t, 4)
	tamperSQL(t, truncated, `DELETE FROM audit_log WHERE seq = 4`)
	anchor := fmt.Sprintf("4:%s", entries[3].Hash)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"an intact log exits 0 and prints its anchor", []string{"audit", "verify", "--store", intact}, 0, "audit log intact: 4 entries, ending at entry 4", ""},
		{"an intact log matches its own anchor", []string{"audit", "verify", "--store", intact, "--anchor", anchor}, 0, "anchor: " + anchor, ""},
		{"an edited entry exits 1 naming it", []string{"audit", "verify", "--store", edited}, 1, "BROKEN at entry 2: entry 2 was altered", ""},
		{"an entry whose time was edited into nonsense exits 1 naming it", []string{"audit", "verify", "--store", badTime}, 1, `BROKEN at entry 3: entry 3 was altered: its time "yesterday" is not a timestamp`, ""},
		{"a deleted last entry exits 1 naming it", []string{"audit", "verify", "--store", truncated}, 1, "BROKEN at entry 4", ""},
		{"a wrong anchor exits 1", []string{"audit", "verify", "--store", intact, "--anchor", "4:" + entries[0].Hash}, 1, "differs from the anchor", ""},
		{"a malformed anchor is bad input", []string{"audit", "verify", "--store", intact, "--anchor", "four"}, 2, "", "--anchor"},
		{"a missing store is bad input and is not created", []string{"audit", "verify", "--store", filepath.Join(t.TempDir(), "none.db")}, 2, "", "no store"},
		{"an unsupported address is bad input", []string{"audit", "verify", "--store", "mysql://x/y"}, 2, "", "unsupported scheme"},
		{"arguments are refused", []string{"audit", "verify", "extra"}, 2, "", "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errText := orgRun(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) || !strings.Contains(errText, tc.wantErr) {
				t.Errorf("orgguard %s = exit %d\nstdout: %s\nstderr: %s\nwant exit %d, stdout containing %q, stderr containing %q",
					strings.Join(tc.args, " "), code, out, errText, tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
}

func TestAuditVerifyJSON(t *testing.T) {
	path, _ := auditStore(t, 3)
	tamperSQL(t, path, `DELETE FROM audit_log WHERE seq = 2`)
	code, out, errText := orgRun(t, "audit", "verify", "--store", path, "--json")
	if code != 1 {
		t.Fatalf("exit %d (stderr %s), want 1", code, errText)
	}
	var got struct {
		Intact  bool  `json:"intact"`
		Entries int64 `json:"entries"`
		Break   struct {
			Seq    int64  `json:"seq"`
			Reason string `json:"reason"`
		} `json:"break"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	if got.Intact || got.Entries != 1 || got.Break.Seq != 2 || !strings.Contains(got.Break.Reason, "missing") {
		t.Errorf("verify --json = %+v, want broken at 2 (missing) after 1 entry", got)
	}
}

func TestAuditListCommand(t *testing.T) {
	path, entries := auditStore(t, 5)
	t.Run("the newest entries are listed oldest first", func(t *testing.T) {
		code, out, errText := orgRun(t, "audit", "list", "--store", path, "--limit", "2")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errText)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], "4 ") || !strings.HasPrefix(lines[2], "5 ") || !strings.Contains(lines[2], "plan-5") {
			t.Errorf("audit list --limit 2 =\n%s\nwant a header and entries 4 and 5", out)
		}
		if strings.Contains(out, "\t") {
			t.Errorf("audit list printed a raw tab from a detail:\n%q", out)
		}
	})
	t.Run("JSON carries every entry with its hashes", func(t *testing.T) {
		code, out, errText := orgRun(t, "audit", "list", "--store", path, "--limit", "0", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errText)
		}
		var got []store.AuditEntry
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("decoding %s: %v", out, err)
		}
		if len(got) != 5 || got[0].Hash != entries[0].Hash || got[4].PrevHash != entries[3].Hash {
			t.Errorf("audit list --json = %d entries, want all 5 with their hashes", len(got))
		}
	})
	t.Run("an empty log lists nothing", func(t *testing.T) {
		empty, _ := auditStore(t, 0)
		code, out, _ := orgRun(t, "audit", "list", "--store", empty, "--json")
		if code != 0 || strings.TrimSpace(out) != "[]" {
			t.Errorf("audit list --json on an empty log = exit %d, %q, want 0 and []", code, out)
		}
	})
	t.Run("a negative limit is bad input", func(t *testing.T) {
		if code, _, errText := orgRun(t, "audit", "list", "--store", path, "--limit", "-1"); code != 2 || !strings.Contains(errText, "--limit") {
			t.Errorf("audit list --limit -1 = exit %d (%s), want 2", code, errText)
		}
	})
}

func TestAuditStoreFromConfig(t *testing.T) {
	path, _ := auditStore(t, 2)
	cfg := filepath.Join(t.TempDir(), "orgguard.yaml")
	if err := os.WriteFile(cfg, []byte("store: "+path+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errText := orgRun(t, "audit", "verify", "--config", cfg)
	if code != 0 || !strings.Contains(out, "2 entries") {
		t.Errorf("audit verify --config = exit %d\n%s%s\nwant 0 with the configured store's 2 entries", code, out, errText)
	}
}
