package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWatchSection(t *testing.T) {
	t.Run("defaults apply without a watch section", func(t *testing.T) {
		c, err := Parse([]byte("store: x.db\n"), "orgguard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.Watch.Interval != 10*time.Second || c.Watch.CallBudget != 600 || c.Watch.Intake.Header == "" {
			t.Errorf("Watch = %+v, want the defaults", c.Watch)
		}
	})
	t.Run("a full section is read", func(t *testing.T) {
		doc := `watch:
  interval: 5s
  sweepPeriod: 10m
  callBudget: 300
  rules:
    - name: deny-all
      when: deny-all
      accounts: 3
      severity: critical
      remediate: true
  intake:
    secretEnv: ORGGUARD_INTAKE_SECRET
  customers:
    ouParent: /Customers
`
		c, err := Parse([]byte(doc), "orgguard.yaml")
		if err != nil {
			t.Fatal(err)
		}
		w := c.Watch
		if w.Interval != 5*time.Second || w.SweepPeriod != 10*time.Minute || len(w.Rules) != 1 || !w.Rules[0].Remediate ||
			w.Intake.SecretEnv != "ORGGUARD_INTAKE_SECRET" || w.Customers.OUParent != "/Customers" {
			t.Errorf("Watch = %+v", w)
		}
	})
	for _, tc := range []struct{ name, doc, want string }{
		{"a sweep shorter than the interval", "watch:\n  interval: 10s\n  sweepPeriod: 1s\n", "watch.sweepPeriod"},
		{"an unknown condition", "watch:\n  rules:\n    - name: x\n      when: bogus\n      severity: critical\n", `when: "bogus"`},
		{"an unknown key", "watch:\n  intervall: 5s\n", "unknown key"},
		{"both secret sources", "watch:\n  intake:\n    secretEnv: A\n    secretFile: b\n", "not both"},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "orgguard.yaml")
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
