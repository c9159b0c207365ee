// Package notice writes the public notices of incidents, in Japanese and
// English, from Go text/template files (embedded defaults that the
// configuration can replace), and runs the notice clock: a first-notice
// deadline per incident (10 minutes after detection by default, per
// severity), a reminder to the incident channel at half time, an
// escalation to the on-call channel at the deadline, and optionally the
// draft published automatically then. It also writes the targeted
// customer messages: one per customer, in its language, listing only that
// customer's accounts.
//
// A draft is written when an incident opens (Service.OnOpen, called in the
// transaction that opens it) and rewritten from the record until a person
// edits it; publishing appends it to the published notices the status page
// shows. Every outgoing message goes through the outbox (package notify).
package notice

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"
	_ "time/tzdata" // notices name their time zone whatever the host has

	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/store"
)

// Languages orgguard writes notices in.
var Languages = []string{"ja", "en"}

// Config is the notices section of orgguard.yaml.
type Config struct {
	// Languages are the languages drafts are written in (ja and en).
	Languages []string `yaml:"languages" json:"languages"`
	// Deadline is the first-notice deadline after detection, per severity.
	Deadline Deadlines `yaml:"deadline" json:"deadline"`
	// AutoPublish publishes the drafts as they are when the deadline
	// passes without a published notice.
	AutoPublish bool `yaml:"autoPublish" json:"autoPublish"`
	// NextUpdate is when a notice promises the next one, after it is
	// written.
	NextUpdate time.Duration `yaml:"nextUpdate" json:"nextUpdate"`
	// TimeZone is the IANA zone times are shown in.
	TimeZone string `yaml:"timeZone" json:"timeZone"`
	// ShowAccountIDs puts account IDs in public notices (never by
	// default: counts only, and AWS IDs are masked in titles).
	ShowAccountIDs bool `yaml:"showAccountIDs" json:"showAccountIDs"`
	// TemplateDir, when set, holds replacement templates named
	// notice.<lang>.tmpl, customer.<lang>.tmpl and postmortem.<lang>.tmpl;
	// a file missing there falls back to the built-in one.
	TemplateDir string `yaml:"templateDir" json:"templateDir,omitempty"`
	// Customers says how to reach each customer.
	Customers Contacts `yaml:"customers" json:"customers"`
}

// Deadlines are the first-notice deadlines per severity.
type Deadlines struct {
	Critical time.Duration `yaml:"critical" json:"critical"`
	Major    time.Duration `yaml:"major" json:"major"`
	Minor    time.Duration `yaml:"minor" json:"minor"`
}

// For returns the deadline for severity sev.
func (d Deadlines) For(sev store.Severity) time.Duration {
	switch sev {
	case store.SevCritical:
		return d.Critical
	case store.SevMinor:
		return d.Minor
	}
	return d.Major
}

// Contacts configures the targeted customer messages.
type Contacts struct {
	// ContactTag is an account tag whose value is the customer's contact
	// address (any of the customer's accounts may carry it).
	ContactTag string `yaml:"contactTag" json:"contactTag,omitempty"`
	// LangTag is an account tag whose value (ja or en) is the customer's
	// language.
	LangTag string `yaml:"langTag" json:"langTag,omitempty"`
	// List names contacts by customer; it wins over the tags.
	List []Contact `yaml:"list" json:"list,omitempty"`
	// DefaultLang is the language of a customer whose language is not
	// known.
	DefaultLang string `yaml:"defaultLang" json:"defaultLang"`
}

// Contact is one customer's contact.
type Contact struct {
	Customer string   `yaml:"customer" json:"customer"`
	Email    []string `yaml:"email" json:"email"`
	Lang     string   `yaml:"lang" json:"lang,omitempty"`
}

// DefaultConfig returns the defaults: ja and en drafts, a 10-minute
// deadline for critical and major incidents and 30 minutes for minor ones,
// no automatic publication, the next update promised in 30 minutes.
func DefaultConfig() Config {
	return Config{
		Languages:  []string{"ja", "en"},
		Deadline:   Deadlines{Critical: 10 * time.Minute, Major: 10 * time.Minute, Minor: 30 * time.Minute},
		NextUpdate: 30 * time.Minute,
		TimeZone:   "UTC",
		Customers:  Contacts{DefaultLang: "ja"},
	}
}

// Validate checks the section; each error names its key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Languages) == 0 {
		add("notices.languages: at least one language (ja, en)")
	}
	for _, l := range c.Languages {
		if !slices.Contains(Languages, l) {
			add("notices.languages: %q is not ja or en", l)
		}
	}
	for name, d := range map[string]time.Duration{"critical": c.Deadline.Critical, "major": c.Deadline.Major, "minor": c.Deadline.Minor} {
		if d < time.Second || d > 24*time.Hour {
			add("notices.deadline.%s: %v is outside 1s..24h", name, d)
		}
	}
	if c.NextUpdate < time.Minute || c.NextUpdate > 24*time.Hour {
		add("notices.nextUpdate: %v is outside 1m..24h", c.NextUpdate)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		add("notices.timeZone: %q is not an IANA time zone (like Asia/Tokyo or UTC)", c.TimeZone)
	}
	if l := c.Customers.DefaultLang; !slices.Contains(Languages, l) {
		add("notices.customers.defaultLang: %q is not ja or en", l)
	}
	for i, ct := range c.Customers.List {
		if ct.Customer == "" || len(ct.Email) == 0 {
			add("notices.customers.list[%d]: customer and email are required", i)
		}
		if ct.Lang != "" && !slices.Contains(Languages, ct.Lang) {
			add("notices.customers.list[%d].lang: %q is not ja or en", i, ct.Lang)
		}
		for _, e := range ct.Email {
			if !strings.Contains(e, "@") {
				add("notices.customers.list[%d].email: %q is not an address", i, e)
			}
		}
	}
	return errors.Join(errs...)
}

//go:embed templates/*.tmpl
var builtin embed.FS

// Templates are the parsed notice, customer and postmortem templates.
type Templates struct {
	t map[string]*template.Template // "notice.ja" ...
}

// Template kinds.
const (
	KindNotice     = "notice"
	KindCustomer   = "customer"
	KindPostmortem = "postmortem"
)

// Funcs are the functions templates may call.
var funcs = template.FuncMap{
	"join": strings.Join,
	// md escapes a name or text from the record for Markdown (postmortems);
	// mdjoin escapes each item and joins them.
	"md": display.Markdown,
	"mdjoin": func(items []string, sep string) string {
		out := make([]string, len(items))
		for i, s := range items {
			out[i] = display.Markdown(s)
		}
		return strings.Join(out, sep)
	},
	"lines": func(s string) []string {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		return strings.Split(strings.TrimRight(s, "\n"), "\n")
	},
}

// LoadTemplates parses the built-in templates and, from dir when it is not
// empty, the replacements it holds. A replacement that does not parse, or
// lacks a block the built-in one defines, is an error.
func LoadTemplates(dir string) (*Templates, error) {
	ts := &Templates{t: map[string]*template.Template{}}
	for _, kind := range []string{KindNotice, KindCustomer, KindPostmortem} {
		for _, lang := range Languages {
			name := kind + "." + lang
			src, err := builtin.ReadFile("templates/" + name + ".tmpl")
			if err != nil {
				return nil, fmt.Errorf("reading the built-in template %s: %w", name, err)
			}
			from := "built-in " + name + ".tmpl"
			if dir != "" {
				p := filepath.Join(dir, name+".tmpl")
				b, err := os.ReadFile(p)
				switch {
				case err == nil:
					src, from = b, p
				case !errors.Is(err, os.ErrNotExist):
					return nil, fmt.Errorf("reading template %s: %w", p, err)
				}
			}
			t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return nil, fmt.Errorf("parsing template %s: %w", from, err)
			}
			need := []string{"title", "body"}
			if kind == KindPostmortem {
				need = []string{"body"}
			}
			for _, block := range need {
				if t.Lookup(block) == nil {
					return nil, fmt.Errorf("template %s defines no %q block", from, block)
				}
			}
			ts.t[name] = t
		}
	}
	return ts, nil
}

// Render executes block of the kind's template in lang with data.
func (ts *Templates) Render(kind, lang, block string, data any) (string, error) {
	t, ok := ts.t[kind+"."+lang]
	if !ok {
		return "", fmt.Errorf("no %s template in %q", kind, lang)
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, block, data); err != nil {
		return "", fmt.Errorf("rendering the %s %s template: %w", lang, kind, err)
	}
	return b.String(), nil
}

// Data is what a notice template sees.
type Data struct {
	Lang         string
	Headline     string // the incident's title, AWS IDs masked unless configured
	Severity     string
	SeverityWord string
	State        string
	StateWord    string
	Scope        string   // "12 AWS accounts of 3 customers"
	Accounts     int      // affected accounts
	Customers    int      // affected customers
	AccountIDs   []string // only with showAccountIDs
	Lost         []string // what stopped working, as the findings say it
	Since        string   // impact start (or detection)
	SinceApprox  bool     // the start is only known within a poll window
	Detected     string
	Doing        string
	NextUpdate   string
	Now          string
}

// words per language.
var words = map[string]map[string]string{
	"en": {
		"critical": "Critical", "major": "Major", "minor": "Minor",
		"investigating": "investigating", "identified": "cause identified", "monitoring": "fixed, monitoring", "resolved": "resolved",
		"doing.investigating": "our engineers are investigating the cause.",
		"doing.identified":    "we have identified the cause and are working on a fix.",
		"doing.monitoring":    "a fix is in place; we are watching that it holds.",
		"doing.resolved":      "the problem is resolved.",
		"headline":            "AWS permissions unavailable for %s",
	},
	"ja": {
		"critical": "重大", "major": "障害", "minor": "軽微",
		"investigating": "原因を調査中", "identified": "原因を特定、復旧作業中", "monitoring": "復旧済み、経過を監視中", "resolved": "解決済み",
		"doing.investigating": "担当者が原因を調査しております。",
		"doing.identified":    "原因を特定し、復旧作業を進めております。",
		"doing.monitoring":    "復旧措置を実施し、経過を監視しております。",
		"doing.resolved":      "本障害は解決いたしました。",
		"headline":            "%sでAWSの権限がご利用いただけない障害",
	},
}

// Word returns the localized word for key in lang.
func Word(lang, key string) string {
	if w, ok := words[lang][key]; ok {
		return w
	}
	return key
}

func scope(lang string, accounts, customers int) string {
	if lang == "ja" {
		switch {
		case accounts == 0:
			return "一部のお客様"
		case customers > 0:
			return fmt.Sprintf("%d社のお客様のAWSアカウント%d件", customers, accounts)
		}
		return fmt.Sprintf("AWSアカウント%d件", accounts)
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case accounts == 0:
		return "some customers"
	case customers > 0:
		return plural(accounts, "AWS account", "AWS accounts") + " of " + plural(customers, "customer", "customers")
	}
	return plural(accounts, "AWS account", "AWS accounts")
}

// FormatTime writes t in zone for lang.
func FormatTime(lang string, t time.Time, zone *time.Location) string {
	t = t.In(zone)
	if lang == "ja" {
		return t.Format("2006年1月2日 15:04") + "（" + t.Format("MST") + "）"
	}
	return t.Format("2006-01-02 15:04 MST")
}

// awsIDs matches account, OU, root, policy and handshake IDs and ARNs.
var awsIDs = regexp.MustCompile(`\barn:aws[a-zA-Z-]*:[^\s,;)]*|\b\d{12}\b|\b(ou|r|p|o)-[0-9a-z]{4,32}(-[0-9a-z]{8,32})?\b`)

// Mask hides AWS IDs in s.
func Mask(s string) string { return awsIDs.ReplaceAllString(s, "…") }

// Headline is what heads an incident's notices and postmortem in lang: a
// title typed by a person (an incident opened by hand) as it is; the titles
// orgguard writes (rule, change, policy names) are internal, so its
// incidents get a headline made from the scope. AWS IDs are not masked.
func Headline(lang string, in store.Incident) string {
	if in.Source == store.SourceManual {
		return in.Title
	}
	return fmt.Sprintf(Word(lang, "headline"), scope(lang, len(in.Accounts), len(in.Customers)))
}

// BuildData gathers the template data of in for lang at now.
func BuildData(c Config, in store.Incident, lang string, now time.Time) Data {
	zone, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	since := in.ImpactStartedAt
	if since.IsZero() {
		since = in.DetectedAt
	}
	if since.IsZero() {
		since = in.OpenedAt
	}
	d := Data{
		Lang: lang, Severity: string(in.Severity), SeverityWord: Word(lang, string(in.Severity)),
		State: string(in.State), StateWord: Word(lang, string(in.State)), Doing: Word(lang, "doing."+string(in.State)),
		Accounts: len(in.Accounts), Customers: len(in.Customers), Scope: scope(lang, len(in.Accounts), len(in.Customers)),
		Since: FormatTime(lang, since, zone), Detected: FormatTime(lang, in.DetectedAt, zone),
		NextUpdate: FormatTime(lang, now.Add(c.NextUpdate).Truncate(time.Minute), zone), Now: FormatTime(lang, now, zone),
		Lost: lost(in.Impact, nil),
	}
	d.Headline = Headline(lang, in)
	if !c.ShowAccountIDs {
		d.Headline = Mask(d.Headline)
		for i, l := range d.Lost {
			d.Lost[i] = Mask(l)
		}
	} else {
		d.AccountIDs = in.Accounts
	}
	d.SinceApprox = in.ImpactStartedAt.IsZero()
	return d
}

// lost reads what the incident's findings say stopped working; with only,
// just the findings touching those accounts.
func lost(impact json.RawMessage, only map[string]bool) []string {
	var im struct {
		Findings []struct {
			Summary  string   `json:"summary"`
			Accounts []string `json:"accounts"`
		} `json:"findings"`
	}
	if len(impact) == 0 || json.Unmarshal(impact, &im) != nil {
		return nil
	}
	var out []string
	for _, f := range im.Findings {
		if f.Summary == "" {
			continue
		}
		if only != nil && !slices.ContainsFunc(f.Accounts, func(a string) bool { return only[a] }) {
			continue
		}
		if !slices.Contains(out, f.Summary) {
			out = append(out, f.Summary)
		}
	}
	return out
}

// Draft writes the notice of in in lang.
func (ts *Templates) Draft(c Config, in store.Incident, lang string, now time.Time) (title, body string, err error) {
	d := BuildData(c, in, lang, now)
	if title, err = ts.Render(KindNotice, lang, "title", d); err != nil {
		return "", "", err
	}
	if body, err = ts.Render(KindNotice, lang, "body", d); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(title), strings.TrimSpace(body) + "\n", nil
}

// Target is one customer to tell: its name, its own affected accounts and
// how to reach it.
type Target struct {
	Customer string
	Accounts []Account
	Email    []string
	Lang     string
}

// Account is an affected account as a customer knows it.
type Account struct {
	ID   string
	Name string
}

// CustomerData is what a customer template sees.
type CustomerData struct {
	Data
	Customer string
	Accounts []Account // only this customer's
}

// CustomerMessage writes the message to one customer: only its own
// accounts, and only what its accounts lost.
func (ts *Templates) CustomerMessage(c Config, in store.Incident, tg Target, now time.Time) (title, body string, err error) {
	lang := tg.Lang
	if !slices.Contains(Languages, lang) {
		lang = c.Customers.DefaultLang
	}
	d := BuildData(c, in, lang, now)
	d.AccountIDs, d.Headline = nil, Mask(in.Title)
	own := map[string]bool{}
	for _, a := range tg.Accounts {
		own[a.ID] = true
	}
	d.Lost = lost(in.Impact, own)
	for i, l := range d.Lost {
		d.Lost[i] = Mask(l)
	}
	cd := CustomerData{Data: d, Customer: tg.Customer, Accounts: tg.Accounts}
	if title, err = ts.Render(KindCustomer, lang, "title", cd); err != nil {
		return "", "", err
	}
	if body, err = ts.Render(KindCustomer, lang, "body", cd); err != nil {
		return "", "", err
	}
	return strings.TrimSpace(title), strings.TrimSpace(body) + "\n", nil
}
