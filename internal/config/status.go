package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/decode"
	"github.com/orgguard/orgguard/internal/store"
)

// Status configures the public status page of `orgguard serve`: its
// components, what it shows of incidents, maintenance and history, and
// the time zone of its times (docs/server.md#status-page).
type Status struct {
	// Components are the parts of the service the page lists, each with
	// a status derived from the open incidents that affect it and from a
	// maintenance window in progress.
	Components StatusComponents `yaml:"components"`
	// TimeZone is the IANA zone the page shows times in (the UTC time is
	// in each time's tooltip and in the feeds); empty means
	// notices.timeZone.
	TimeZone string `yaml:"timeZone"`
	// ShowInternals adds to each incident its internal ID, source, watch
	// rule and change, and the reason of each freeze. Off by default:
	// the page shows only what was written to be public.
	ShowInternals bool `yaml:"showInternals"`
	// HistoryDays is how many days of past incidents the page lists.
	HistoryDays int `yaml:"historyDays"`
	// Maintenance says which scheduled maintenance the page shows.
	Maintenance StatusMaintenance `yaml:"maintenance"`
}

// StatusMaintenance shapes the scheduled maintenance shown on the status
// page, taken from guardrails.windows.
type StatusMaintenance struct {
	// Show lists the weekly windows (guardrails.windows.weekly) as
	// scheduled maintenance and puts components under maintenance while
	// one is in progress.
	Show bool `yaml:"show"`
	// Days is how far ahead upcoming windows and freezes are listed.
	Days int `yaml:"days"`
	// Freezes lists change freezes (guardrails.windows.freezes) in
	// force or starting within Days.
	Freezes bool `yaml:"freezes"`
	// Components are the IDs of the components under maintenance while a
	// window is in progress; empty means every component.
	Components []string `yaml:"components"`
}

// StatusComponents is the list of status page components. It decodes
// strictly: an unknown key in a component is an error at its line.
type StatusComponents []StatusComponent

// StatusComponent is one component of the status page.
type StatusComponent struct {
	// ID names the component in the JSON API and in
	// status.maintenance.components: lowercase letters, digits and
	// dashes. Empty means one made from the English name.
	ID string `yaml:"id"`
	// Name and Description in English and Japanese.
	Name        LocalText `yaml:"name"`
	Description LocalText `yaml:"description"`
	// Incidents says which incidents affect the component; empty lists
	// match every incident.
	Incidents IncidentMatch `yaml:"incidents"`
}

// LocalText is a text in English and Japanese. In YAML it is a mapping
// {en: ..., ja: ...} or a single string for both. Either language alone
// is shown in both.
type LocalText struct {
	En string `yaml:"en"`
	Ja string `yaml:"ja"`
}

// UnmarshalYAML accepts a single string as the text in both languages.
func (t *LocalText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = LocalText{En: n.Value, Ja: n.Value}
		return nil
	}
	type plain LocalText
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*t = LocalText(p)
	return nil
}

// In returns the text in lang ("en" or "ja"), else in the other language.
func (t LocalText) In(lang string) string {
	first, second := t.En, t.Ja
	if lang == "ja" {
		first, second = t.Ja, t.En
	}
	if first != "" {
		return first
	}
	return second
}

// IncidentMatch selects incidents. Every non-empty list must match (an
// incident from drift whose rule is listed and whose severity is listed);
// empty lists match everything.
type IncidentMatch struct {
	Severities []store.Severity `yaml:"severities"`
	Sources    []string         `yaml:"sources"` // drift, apply, manual
	Rules      []string         `yaml:"rules"`   // watch rule names
}

// Matches reports whether in is selected.
func (m IncidentMatch) Matches(in store.Incident) bool {
	return (len(m.Severities) == 0 || slices.Contains(m.Severities, in.Severity)) &&
		(len(m.Sources) == 0 || slices.Contains(m.Sources, in.Source)) &&
		(len(m.Rules) == 0 || slices.Contains(m.Rules, in.Rule))
}

// The default status page components.
const (
	ComponentAWSAccess     = "aws-account-access"
	ComponentConsoleSignIn = "console-sign-in"
)

// DefaultStatus returns the status section's defaults: two components
// affected by every incident, times in notices.timeZone, 90 days of
// history, maintenance windows and freezes shown 14 days ahead, nothing
// internal.
func DefaultStatus() Status {
	return Status{
		Components: StatusComponents{
			{
				ID:   ComponentAWSAccess,
				Name: LocalText{En: "AWS account access", Ja: "AWSアカウントへのアクセス"},
				Description: LocalText{En: "Access to the AWS accounts of the organization: sign-in roles, APIs and resources.",
					Ja: "組織のAWSアカウントへのアクセス（サインイン用ロール、API、リソース）"},
			},
			{
				ID:   ComponentConsoleSignIn,
				Name: LocalText{En: "Console sign-in", Ja: "コンソールへのサインイン"},
				Description: LocalText{En: "Signing in to the AWS Management Console of the member accounts.",
					Ja: "メンバーアカウントのAWSマネジメントコンソールへのサインイン"},
			},
		},
		HistoryDays: 90,
		Maintenance: StatusMaintenance{Show: true, Days: 14, Freezes: true},
	}
}

// Bounds of the status section's numbers.
const (
	MaxStatusComponents  = 50
	MaxStatusHistoryDays = 366
	MaxMaintenanceDays   = 90
)

// UnmarshalYAML decodes the list strictly (an unknown key is an error at
// that key) and fills empty IDs from the English names.
func (cs *StatusComponents) UnmarshalYAML(n *yaml.Node) error {
	if err := (decode.YAML{}).Check(n, reflect.TypeFor[[]StatusComponent]()); err != nil {
		return err
	}
	var out []StatusComponent
	if err := n.Decode(&out); err != nil {
		return err
	}
	for i := range out {
		if out[i].ID == "" {
			out[i].ID = slug(out[i].Name.In("en"))
		}
	}
	*cs = out
	return nil
}

// Find returns the component with id.
func (cs StatusComponents) Find(id string) (StatusComponent, bool) {
	i := slices.IndexFunc(cs, func(c StatusComponent) bool { return c.ID == id })
	if i < 0 {
		return StatusComponent{}, false
	}
	return cs[i], true
}

var componentID = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// slug makes an ID from a name: lowercase ASCII letters and digits, other
// runs of characters as one dash.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

// StatusLocation returns the zone the status page shows times in:
// status.timeZone, else notices.timeZone.
func (c *Config) StatusLocation() (*time.Location, error) {
	tz := c.Status.TimeZone
	if tz == "" {
		tz = c.Notices.TimeZone
	}
	if tz == "" || strings.EqualFold(tz, "local") {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as Asia/Tokyo)", tz)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as Asia/Tokyo)", tz)
	}
	return loc, nil
}

// validateStatus checks the status section against itself and the watch
// rules it names.
func (c *Config) validateStatus(v *validator, path string) {
	s := &c.Status
	if s.TimeZone != "" {
		if _, err := c.StatusLocation(); err != nil {
			v.errorf(path+".timeZone", "%v", err)
		}
	}
	if s.HistoryDays < 1 || s.HistoryDays > MaxStatusHistoryDays {
		v.errorf(path+".historyDays", "must be between 1 and %d, not %d", MaxStatusHistoryDays, s.HistoryDays)
	}
	if d := s.Maintenance.Days; d < 0 || d > MaxMaintenanceDays {
		v.errorf(path+".maintenance.days", "must be between 0 and %d, not %d", MaxMaintenanceDays, d)
	}
	if len(s.Components) > MaxStatusComponents {
		v.errorf(path+".components", "at most %d components, not %d", MaxStatusComponents, len(s.Components))
	}
	rules := map[string]bool{}
	for _, r := range c.Watch.EffectiveRules() {
		rules[r.Name] = true
	}
	// at reports a problem at key (inside a component), or at its closest
	// ancestor whose position is known, naming the key then.
	at := func(key, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		near := v.nearest(key)
		if near != key {
			msg = key + ": " + msg
		}
		v.errorf(near, "%s", msg)
	}
	seen := map[string]bool{}
	for i, comp := range s.Components {
		p := path + ".components[" + strconv.Itoa(i) + "]"
		switch {
		case comp.ID == "":
			at(p+".name", "give an id, or an English name to make one from")
		case !componentID.MatchString(comp.ID):
			at(p+".id", "%q is not lowercase letters, digits and dashes (at most 64)", comp.ID)
		case seen[comp.ID]:
			at(p+".id", "%q is used twice", comp.ID)
		}
		seen[comp.ID] = true
		if strings.TrimSpace(comp.Name.En) == "" && strings.TrimSpace(comp.Name.Ja) == "" {
			at(p+".name", "give the name in English (en), Japanese (ja) or both")
		}
		for j, sev := range comp.Incidents.Severities {
			if !sev.Valid() {
				at(fmt.Sprintf("%s.incidents.severities[%d]", p, j), "%q is not critical, major or minor", sev)
			}
		}
		for j, src := range comp.Incidents.Sources {
			switch src {
			case store.SourceDrift, store.SourceApply, store.SourceManual:
			default:
				at(fmt.Sprintf("%s.incidents.sources[%d]", p, j), "%q is not drift, apply or manual", src)
			}
		}
		for j, r := range comp.Incidents.Rules {
			if !rules[r] {
				at(fmt.Sprintf("%s.incidents.rules[%d]", p, j), "%q is not a rule of watch.rules", r)
			}
		}
	}
	for i, id := range s.Maintenance.Components {
		if !seen[id] {
			at(fmt.Sprintf("%s.maintenance.components[%d]", path, i), "%q is not the id of a component", id)
		}
	}
}

// recordPositions notes the line and column of every element and key
// under n, a list decoded as a whole at path: "path[0]",
// "path[0].name.en", so that validation errors point inside lists.
func (p *parser) recordPositions(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.SequenceNode:
		for i, e := range n.Content {
			ep := path + "[" + strconv.Itoa(i) + "]"
			p.pos[ep] = [2]int{e.Line, e.Column}
			p.recordPositions(e, ep)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			kp := decode.Join(path, n.Content[i].Value)
			p.pos[kp] = [2]int{n.Content[i+1].Line, n.Content[i+1].Column}
			p.recordPositions(n.Content[i+1], kp)
		}
	}
}
