package cli

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestIncidentCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "orgguard.db")
	code, out, errText := orgRun(t, "incident", "open", "--store", db, "--title", "console sign-in failing", "--severity", "major", "--by", "bob", "--json")
	if code != 0 {
		t.Fatalf("incident open = exit %d: %s", code, errText)
	}
	var shown struct {
		Incident struct{ ID, State, Severity string }
		Timeline []struct{ Kind, Actor string }
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("incident open --json: %v\n%s", err, out)
	}
	id := shown.Incident.ID
	if shown.Incident.State != "investigating" || len(shown.Timeline) != 1 || shown.Timeline[0].Actor != "bob" {
		t.Fatalf("opened incident = %+v", shown)
	}
	steps := []struct {
		name    string
		args    []string
		code    int
		wantOut string // a regular expression
	}{
		{"ack records who took it", []string{"incident", "ack", id, "--by", "alice"}, 0, "acknowledged by alice"},
		{"a note keeps its author", []string{"incident", "note", id, "customer Acme called", "--by", "carol"}, 0, `customer Acme called \(carol\)`},
		{"identified is a state", []string{"incident", "state", id, "identified", "--by", "alice"}, 0, "investigating → identified"},
		{"an unknown state is bad input", []string{"incident", "state", id, "panicking"}, 2, ""},
		{"resolve ends the clock", []string{"incident", "resolve", id, "--by", "alice", "--message", "fixed"}, 0, `TTR [01]s`},
		{"list hides resolved incidents", []string{"incident", "list"}, 0, `No incidents\.`},
		{"list --all shows them", []string{"incident", "list", "--all"}, 0, id},
		{"metrics aggregate the clock", []string{"incident", "metrics"}, 0, `1 incidents \(0 not resolved\)`},
		{"an unknown incident is bad input", []string{"incident", "show", "incident-nope"}, 2, ""},
		{"an empty note is bad input", []string{"incident", "note", id, " "}, 2, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			code, out, errText := orgRun(t, append(s.args, "--store", db)...)
			if code != s.code || !regexp.MustCompile(s.wantOut).MatchString(out) {
				t.Errorf("orgguard %s = exit %d\nstdout: %s\nstderr: %s\nwant exit %d and stdout matching %q", strings.Join(s.args, " "), code, out, errText, s.code, s.wantOut)
			}
		})
	}
}

func TestWatchCommandInput(t *testing.T) {
	code, _, errText := orgRun(t, "watch", "--log-level", "loud")
	if code != 2 || !strings.Contains(errText, "--log-level") {
		t.Errorf("watch --log-level loud = exit %d (%s), want 2", code, errText)
	}
}
