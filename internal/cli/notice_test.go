package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestNoticeAndPostmortemCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "orgguard.db")
	code, out, errText := orgRun(t, "incident", "open", "--store", db, "--title", "deny-all on Root", "--severity", "critical", "--by", "bob", "--accounts", "111111111111", "--json")
	if code != 0 {
		t.Fatalf("incident open = exit %d: %s", code, errText)
	}
	var shown struct{ Incident struct{ ID string } }
	json.Unmarshal([]byte(out), &shown)
	id := shown.Incident.ID
	text := filepath.Join(dir, "ja.txt")
	os.WriteFile(text, []byte("ただいま調査中です。\n"), 0o644)
	cause := filepath.Join(dir, "cause.md")
	os.WriteFile(cause, []byte("A script attached a deny-all SCP."), 0o644)
	md := filepath.Join(dir, "pm.md")
	steps := []struct {
		name    string
		args    []string
		code    int
		wantOut string // a regular expression
	}{
		{"show writes both drafts at once and the clock", []string{"notice", "show", id}, 0, "notice clock:"},
		{"the Japanese draft shows counts, not IDs", []string{"notice", "show", id, "--lang", "ja"}, 0, "AWSアカウント1件"},
		{"edit keeps the person's text", []string{"notice", "edit", id, "--lang", "ja", "--file", text, "--by", "alice"}, 0, "saved by alice"},
		{"edit needs a language", []string{"notice", "edit", id, "--file", text}, 2, ""},
		{"an unknown language is bad input", []string{"notice", "publish", id, "--lang", "fr"}, 2, ""},
		{"publish publishes both", []string{"notice", "publish", id, "--by", "alice"}, 0, `Published notice #2 \(ja\)`},
		{"the published notice is the edited one", []string{"notice", "show", id, "--json"}, 0, "ただいま調査中です。"},
		{"TTN joins the clock", []string{"incident", "show", id}, 0, `TTN [01]s`},
		{"resolve", []string{"incident", "resolve", id, "--by", "alice"}, 0, ""},
		{"the notifier drafts the postmortem", []string{"notify", "run", "--once", "--json"}, 0, `"resolved": 1`},
		{"postmortem edit sets a field", []string{"postmortem", "edit", id, "--set", "rootCause=@" + cause, "--by", "alice"}, 0, "saved by alice"},
		{"an unknown field is bad input", []string{"postmortem", "edit", id, "--set", "mood=fine"}, 2, ""},
		{"the postmortem has the record and the field", []string{"postmortem", id, "--lang", "en"}, 0, `A script attached a deny-all SCP\.`},
		{"the Japanese postmortem", []string{"postmortem", id, "--lang", "ja"}, 0, "## 根本原因"},
		{"--out writes a file", []string{"postmortem", id, "--out", md}, 0, ""},
		{"an unknown incident is bad input", []string{"postmortem", "incident-nope"}, 2, ""},
		{"the outbox is empty without channels", []string{"notify", "list", "--json"}, 0, `\[\]`},
		{"retrying a message that is not there is bad input", []string{"notify", "retry", "7"}, 2, ""},
		{"a message ID is a number", []string{"notify", "retry", "seven"}, 2, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errText := orgRun(t, append(s.args, "--store", db)...)
			if code != s.code || !regexp.MustCompile(s.wantOut).MatchString(out) {
				t.Errorf("orgguard %s = exit %d\nstdout: %s\nstderr: %s\nwant exit %d and stdout matching %q", strings.Join(s.args, " "), code, out, errText, s.code, s.wantOut)
			}
		})
	}
	if b, err := os.ReadFile(md); err != nil || !strings.Contains(string(b), "# Postmortem: deny-all on Root") {
		t.Errorf("--out file = %q, %v", b, err)
	}
}
