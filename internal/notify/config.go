package notify

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// Channel types.
const (
	TypeWebhook   = "webhook"
	TypeSlack     = "slack"
	TypeEmail     = "email"
	TypePagerDuty = "pagerduty"
)

// Config is the notify section of orgguard.yaml.
type Config struct {
	// Channels are the destinations, by name.
	Channels []ChannelConfig `yaml:"channels" json:"channels"`
	// IncidentChannels are told when an incident opens, is acknowledged
	// or resolved, at half time of the notice clock, when a notice is
	// published and when a postmortem draft is ready.
	IncidentChannels []string `yaml:"incidentChannels" json:"incidentChannels"`
	// OnCallChannels receive the escalation when the first-notice deadline
	// passes (e.g. PagerDuty), and the incident's lifecycle when routed.
	OnCallChannels []string `yaml:"onCallChannels" json:"onCallChannels"`
	// CustomerChannel delivers targeted customer messages (an email
	// channel: each message goes to the customer's own contact).
	CustomerChannel string `yaml:"customerChannel" json:"customerChannel"`
	// Routes send more kinds of messages to more channels, by severity.
	Routes []Route `yaml:"routes" json:"routes"`
	// Retry shapes the backoff between attempts.
	Retry Retry `yaml:"retry" json:"retry"`
	// Lease is how long a sender holds a claimed message before another
	// sender (after a crash, or on another replica) may take it over.
	Lease time.Duration `yaml:"lease" json:"lease"`
	// Poll is how often an idle sender looks for new messages.
	Poll time.Duration `yaml:"poll" json:"poll"`
}

// ChannelConfig is one channel. Secret values (secret, routingKey,
// password, and a Slack url) are references: env:NAME or file:PATH.
type ChannelConfig struct {
	Name string `yaml:"name" json:"name"`
	Type string `yaml:"type" json:"type"` // webhook, slack, email, pagerduty
	// URL is the webhook's URL, the Slack incoming webhook (a secret:
	// env:NAME or file:PATH) or the PagerDuty events endpoint (default
	// https://events.pagerduty.com/v2/enqueue).
	URL string `yaml:"url" json:"url,omitempty"`
	// Secret is the webhook's HMAC-SHA256 key (env:NAME or file:PATH).
	Secret string `yaml:"secret" json:"-"`
	// RoutingKey is the PagerDuty integration key (env:NAME or file:PATH).
	RoutingKey string `yaml:"routingKey" json:"-"`
	// Timeout bounds one delivery.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Parallel is how many messages of this channel are in flight at once
	// (default 8 for webhooks, 1 for the others, which keeps their order).
	Parallel int `yaml:"parallel" json:"parallel"`
	// SMTP configures an email channel.
	SMTP SMTP `yaml:"smtp" json:"smtp"`
}

// SMTP configures an email channel. STARTTLS is required unless
// insecure is set (for a local relay in tests).
type SMTP struct {
	Host     string   `yaml:"host" json:"host,omitempty"`
	Port     int      `yaml:"port" json:"port,omitempty"`
	Username string   `yaml:"username" json:"username,omitempty"`
	Password string   `yaml:"password" json:"-"` // env:NAME or file:PATH
	From     string   `yaml:"from" json:"from,omitempty"`
	To       []string `yaml:"to" json:"to,omitempty"`
	// CAFile, when set, is the PEM bundle the server's certificate must
	// chain to (instead of the system roots).
	CAFile string `yaml:"caFile" json:"caFile,omitempty"`
}

// Route sends kinds of messages of some severities to channels.
type Route struct {
	Kinds      []string `yaml:"kinds" json:"kinds"`           // empty: every kind
	Severities []string `yaml:"severities" json:"severities"` // empty: every severity
	Channels   []string `yaml:"channels" json:"channels"`
}

// Retry shapes the backoff: the n-th retry waits Initial·2^(n-1), at most
// Max, with ±20 % jitter; after MaxAttempts the message is dead.
type Retry struct {
	Initial     time.Duration `yaml:"initial" json:"initial"`
	Max         time.Duration `yaml:"max" json:"max"`
	MaxAttempts int           `yaml:"maxAttempts" json:"maxAttempts"`
}

// DefaultConfig returns the defaults: no channels (messages are still
// recorded nowhere until one is configured).
func DefaultConfig() Config {
	return Config{Retry: Retry{Initial: time.Second, Max: 5 * time.Minute, MaxAttempts: 30}, Lease: 30 * time.Second, Poll: 250 * time.Millisecond}
}

// Channels returns the channel names a message of kind and severity goes
// to, sorted and without repeats.
func (c Config) Route(kind, severity string) []string {
	var out []string
	switch kind {
	case KindNoticeEscalation:
		out = append(out, c.OnCallChannels...)
	case KindCustomerNotice:
		if c.CustomerChannel != "" {
			out = append(out, c.CustomerChannel)
		}
	default:
		out = append(out, c.IncidentChannels...)
	}
	for _, r := range c.Routes {
		if (len(r.Kinds) == 0 && kind != KindCustomerNotice || slices.Contains(r.Kinds, kind)) &&
			(len(r.Severities) == 0 || slices.Contains(r.Severities, severity)) {
			out = append(out, r.Channels...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Validate checks the section; each error names its key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	names := map[string]string{}
	for i, ch := range c.Channels {
		p := fmt.Sprintf("notify.channels[%d]", i)
		if ch.Name == "" || strings.ContainsAny(ch.Name, " @\t\r\n") {
			add("%s.name: %q is not a channel name (no spaces or @)", p, ch.Name)
		}
		if _, dup := names[ch.Name]; dup {
			add("%s.name: %q is used twice", p, ch.Name)
		}
		names[ch.Name] = ch.Type
		if ch.Timeout < 0 || ch.Parallel < 0 || ch.Parallel > 64 {
			add("%s: timeout must not be negative and parallel between 0 and 64", p)
		}
		switch ch.Type {
		case TypeWebhook:
			if !strings.HasPrefix(ch.URL, "http://") && !strings.HasPrefix(ch.URL, "https://") && !isRef(ch.URL) {
				add("%s.url: a webhook needs an http(s) URL or env:NAME / file:PATH", p)
			}
			if ch.Secret != "" && !isRef(ch.Secret) {
				add("%s.secret: must be env:NAME or file:PATH, never the secret itself", p)
			}
		case TypeSlack:
			if !isRef(ch.URL) {
				add("%s.url: a Slack webhook URL is a secret: write env:NAME or file:PATH", p)
			}
		case TypePagerDuty:
			if !isRef(ch.RoutingKey) {
				add("%s.routingKey: must be env:NAME or file:PATH", p)
			}
			if ch.URL != "" && !strings.HasPrefix(ch.URL, "http://") && !strings.HasPrefix(ch.URL, "https://") {
				add("%s.url: %q is not an http(s) URL", p, ch.URL)
			}
		case TypeEmail:
			if ch.SMTP.Host == "" || ch.SMTP.From == "" {
				add("%s.smtp: host and from are required", p)
			}
			if ch.SMTP.Password != "" && !isRef(ch.SMTP.Password) {
				add("%s.smtp.password: must be env:NAME or file:PATH", p)
			}
			if ch.SMTP.Port < 0 || ch.SMTP.Port > 65535 {
				add("%s.smtp.port: %d is not a port", p, ch.SMTP.Port)
			}
		default:
			add("%s.type: %q is not webhook, slack, email or pagerduty", p, ch.Type)
		}
	}
	known := func(key string, list []string) {
		for _, n := range list {
			if _, ok := names[n]; !ok {
				add("%s: no channel is named %q", key, n)
			}
		}
	}
	known("notify.incidentChannels", c.IncidentChannels)
	known("notify.onCallChannels", c.OnCallChannels)
	if c.CustomerChannel != "" {
		known("notify.customerChannel", []string{c.CustomerChannel})
		if t := names[c.CustomerChannel]; t != "" && t != TypeEmail && t != TypeWebhook {
			add("notify.customerChannel: %q is a %s channel; customer messages go by email or webhook", c.CustomerChannel, t)
		}
	}
	for i, r := range c.Routes {
		known(fmt.Sprintf("notify.routes[%d].channels", i), r.Channels)
		for _, k := range r.Kinds {
			if !slices.Contains(Kinds, k) {
				add("notify.routes[%d].kinds: %q is not one of %s", i, k, strings.Join(Kinds, ", "))
			}
		}
		for _, s := range r.Severities {
			if s != "critical" && s != "major" && s != "minor" {
				add("notify.routes[%d].severities: %q is not critical, major or minor", i, s)
			}
		}
	}
	if c.Retry.Initial <= 0 || c.Retry.Max < c.Retry.Initial || c.Retry.MaxAttempts < 1 {
		add("notify.retry: want initial > 0, max >= initial and maxAttempts >= 1")
	}
	if c.Lease < time.Second {
		add("notify.lease: %v is below one second", c.Lease)
	}
	if c.Poll < 10*time.Millisecond || c.Poll > time.Minute {
		add("notify.poll: %v is outside 10ms..1m", c.Poll)
	}
	return errors.Join(errs...)
}

func isRef(s string) bool {
	return strings.HasPrefix(s, "env:") && len(s) > 4 || strings.HasPrefix(s, "file:") && len(s) > 5
}

// ErrSecret: a secret reference names nothing readable.
var ErrSecret = errors.New("secret not available")

// Resolve reads a reference (env:NAME or file:PATH); any other value is
// returned as written. The error names the reference, never the value.
func Resolve(ref string, getenv func(string) string) (string, error) {
	switch {
	case strings.HasPrefix(ref, "env:"):
		v := strings.TrimSpace(getenv(ref[4:]))
		if v == "" {
			return "", fmt.Errorf("%w: environment variable %s is empty or unset", ErrSecret, ref[4:])
		}
		return v, nil
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(ref[5:])
		if err != nil {
			return "", fmt.Errorf("%w: reading %s: %v", ErrSecret, ref[5:], errors.Unwrap(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%w: %s is empty", ErrSecret, ref[5:])
		}
		return v, nil
	}
	return ref, nil
}

// Build makes the configured channels, reading their secrets through
// getenv and files.
func (c Config) Build(getenv func(string) string) (map[string]Channel, error) {
	out := map[string]Channel{}
	for _, cc := range c.Channels {
		ch, err := build(cc, getenv)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", cc.Name, err)
		}
		out[cc.Name] = ch
	}
	return out, nil
}

func build(cc ChannelConfig, getenv func(string) string) (Channel, error) {
	timeout := cc.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	client := &http.Client{Timeout: timeout}
	switch cc.Type {
	case TypeWebhook:
		u, err := Resolve(cc.URL, getenv)
		if err != nil {
			return nil, err
		}
		var key string
		if cc.Secret != "" {
			if key, err = Resolve(cc.Secret, getenv); err != nil {
				return nil, err
			}
		}
		return &Webhook{ChannelName: cc.Name, URL: u, Secret: []byte(key), Client: client, InFlight: orDefault(cc.Parallel, 8)}, nil
	case TypeSlack:
		u, err := Resolve(cc.URL, getenv)
		if err != nil {
			return nil, err
		}
		return &Slack{ChannelName: cc.Name, URL: u, Client: client, InFlight: orDefault(cc.Parallel, 1)}, nil
	case TypePagerDuty:
		key, err := Resolve(cc.RoutingKey, getenv)
		if err != nil {
			return nil, err
		}
		u := cc.URL
		if u == "" {
			u = PagerDutyEndpoint
		}
		return &PagerDuty{ChannelName: cc.Name, URL: u, RoutingKey: key, Client: client, InFlight: orDefault(cc.Parallel, 1)}, nil
	case TypeEmail:
		var pw string
		if cc.SMTP.Password != "" {
			var err error
			if pw, err = Resolve(cc.SMTP.Password, getenv); err != nil {
				return nil, err
			}
		}
		return newEmail(cc, pw, timeout)
	}
	return nil, fmt.Errorf("unknown channel type %q", cc.Type)
}

func orDefault(n, d int) int {
	if n > 0 {
		return n
	}
	return d
}
