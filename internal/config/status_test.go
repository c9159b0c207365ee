package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/store"
)

func TestStatusSection(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // in the error; "" for none
	}{
		{"the defaults are valid", "", ""},
		{"a full section is valid", `status:
  timeZone: Asia/Tokyo
  showInternals: true
  historyDays: 30
  maintenance: {show: false, days: 7, freezes: false, components: [api]}
  components:
    - id: api
      name: {en: API, ja: API}
      description: The API
      incidents: {severities: [critical, major], sources: [drift], rules: [deny-all]}
`, ""},
		{"a name alone makes the id", "status:\n  components:\n    - name: {en: \"Sign-in (SSO)\"}\n", ""},
		{"an unknown zone is refused at its value", "status:\n  timeZone: Mars/Olympus\n", `orgguard.yaml:2:13: status.timeZone: unknown time zone "Mars/Olympus"`},
		{"too much history is refused", "status:\n  historyDays: 400\n", "orgguard.yaml:2:16: status.historyDays: must be between 1 and 366, not 400"},
		{"negative maintenance days are refused", "status:\n  maintenance:\n    days: -1\n", "orgguard.yaml:3:11: status.maintenance.days: must be between 0 and 90"},
		{"an unknown key in a component is refused at the key", "status:\n  components:\n    - id: api\n      nmae: API\n", `orgguard.yaml:4:7: status.components: unknown key "nmae"`},
		{"an unknown key in a component's filter is refused", "status:\n  components:\n    - id: api\n      name: API\n      incidents: {severity: [major]}\n", `orgguard.yaml:5:19: status.components: unknown key "severity"`},
		{"a bad id is refused at the id", "status:\n  components:\n    - id: API Gateway\n      name: API\n", `orgguard.yaml:3:11: status.components[0].id: "API Gateway" is not lowercase`},
		{"a repeated id is refused at the second", "status:\n  components:\n    - {id: api, name: A}\n    - {id: api, name: B}\n", `orgguard.yaml:4:12: status.components[1].id: "api" is used twice`},
		{"a component without a name is refused", "status:\n  components:\n    - id: api\n", `orgguard.yaml:3:7: status.components[0]: status.components[0].name: give the name`},
		{"an unknown severity is refused at its value", "status:\n  components:\n    - name: API\n      incidents:\n        severities: [catastrophic]\n", `orgguard.yaml:5:22: status.components[0].incidents.severities[0]: "catastrophic" is not critical, major or minor`},
		{"an unknown source is refused", "status:\n  components:\n    - name: API\n      incidents: {sources: [cron]}\n", `status.components[0].incidents.sources[0]: "cron" is not drift, apply or manual`},
		{"a rule that is not a watch rule is refused", "status:\n  components:\n    - name: API\n      incidents: {rules: [nope]}\n", `status.components[0].incidents.rules[0]: "nope" is not a rule of watch.rules`},
		{"maintenance of an unknown component is refused", "status:\n  maintenance: {components: [nope]}\n", `status.maintenance.components[0]: "nope" is not the id of a component`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "orgguard.yaml")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Parse() = %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Parse() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestStatusComponentsDecode(t *testing.T) {
	c, err := Parse([]byte(`status:
  components:
    - name: "Sign-in (SSO)"
      incidents: {severities: [critical]}
    - id: api
      name: {ja: API}
`), "orgguard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := StatusComponents{
		{ID: "sign-in-sso", Name: LocalText{En: "Sign-in (SSO)", Ja: "Sign-in (SSO)"}, Incidents: IncidentMatch{Severities: []store.Severity{store.SevCritical}}},
		{ID: "api", Name: LocalText{Ja: "API"}},
	}
	if diff := cmp.Diff(want, c.Status.Components); diff != "" {
		t.Errorf("status.components (-want +got):\n%s", diff)
	}
	if got := c.Status.Components[1].Name.In("en"); got != "API" {
		t.Errorf("a Japanese-only name in English = %q, want the Japanese one", got)
	}
}

func TestIncidentMatch(t *testing.T) {
	drift := store.Incident{Severity: store.SevCritical, Source: store.SourceDrift, Rule: "deny-all"}
	apply := store.Incident{Severity: store.SevMajor, Source: store.SourceApply}
	tests := []struct {
		name  string
		m     IncidentMatch
		in    store.Incident
		match bool
	}{
		{"an empty filter matches everything", IncidentMatch{}, apply, true},
		{"a listed severity matches", IncidentMatch{Severities: []store.Severity{store.SevCritical}}, drift, true},
		{"another severity does not", IncidentMatch{Severities: []store.Severity{store.SevCritical}}, apply, false},
		{"every list must match", IncidentMatch{Severities: []store.Severity{store.SevCritical}, Sources: []string{store.SourceApply}}, drift, false},
		{"a rule matches drift of that rule", IncidentMatch{Rules: []string{"deny-all"}}, drift, true},
		{"a rule never matches an incident without one", IncidentMatch{Rules: []string{"deny-all"}}, apply, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Matches(tt.in); got != tt.match {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tt.m, tt.in, got, tt.match)
			}
		})
	}
}

func TestStatusLocation(t *testing.T) {
	c := Defaults()
	c.Notices.TimeZone = "Asia/Tokyo"
	if loc, err := c.StatusLocation(); err != nil || loc.String() != "Asia/Tokyo" {
		t.Errorf("StatusLocation() without status.timeZone = %v, %v; want notices.timeZone", loc, err)
	}
	c.Status.TimeZone = "Europe/Paris"
	if loc, err := c.StatusLocation(); err != nil || loc.String() != "Europe/Paris" {
		t.Errorf("StatusLocation() = %v, %v; want status.timeZone", loc, err)
	}
}
