package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNoticesAndNotifySections(t *testing.T) {
	t.Run("a full section is read and file references are made relative to the file", func(t *testing.T) {
		doc := `notices:
  deadline: {critical: 5m, major: 10m, minor: 1h}
  timeZone: Asia/Tokyo
  templateDir: tmpl
notify:
  channels:
    - {name: ops, type: slack, url: env:SLACK_URL}
    - {name: pd, type: pagerduty, routingKey: file:secrets/pd}
  incidentChannels: [ops]
  onCallChannels: [pd]
`
		c, err := Parse([]byte(doc), "orgguard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		c.resolvePaths("/etc/orgguard")
		if c.Notices.Deadline.Critical != 5*time.Minute || c.Notices.TemplateDir != filepath.Join("/etc/orgguard", "tmpl") ||
			c.Notify.Channels[1].RoutingKey != "file:"+filepath.Join("/etc/orgguard", "secrets/pd") || c.Notify.Channels[0].URL != "env:SLACK_URL" {
			t.Errorf("Notices = %+v, Notify = %+v", c.Notices, c.Notify)
		}
	})
	for _, tc := range []struct{ name, doc, want string }{
		{"an unknown language", "notices:\n  languages: [fr]\n", "notices.languages"},
		{"a deadline under a second", "notices:\n  deadline:\n    critical: 10ms\n", "notices.deadline.critical"},
		{"an unknown time zone", "notices:\n  timeZone: Mars/Olympus\n", "notices.timeZone"},
		{"a literal secret", "notify:\n  channels:\n    - {name: h, type: webhook, url: http://x, secret: hunter2}\n", "never the secret itself"},
		{"a route to no channel", "notify:\n  routes:\n    - {channels: [nowhere]}\n", "no channel is named"},
		{"an unknown kind", "notify:\n  channels:\n    - {name: h, type: webhook, url: http://x}\n  routes:\n    - {kinds: [gossip], channels: [h]}\n", "gossip"},
		{"an unknown channel type", "notify:\n  channels:\n    - {name: h, type: pigeon}\n", "pigeon"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "orgguard.yaml")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}
