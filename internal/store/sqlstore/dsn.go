package sqlstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/orgguard/orgguard/internal/store"
)

// Driver names the database behind a DSN.
type Driver string

// The supported drivers.
const (
	SQLite   Driver = "sqlite"
	Postgres Driver = "postgres"
)

// ErrBadDSN: the store address cannot be understood.
var ErrBadDSN = errors.New("bad store address")

// DSN is a parsed store address.
type DSN struct {
	Driver Driver
	// Path is the SQLite database file (SQLite only).
	Path string
	// URL is the PostgreSQL connection URL (PostgreSQL only), as given.
	URL string
}

// ParseDSN reads a store address:
//
//	""                         the default, ./.orgguard/orgguard.db (SQLite)
//	path/to/file.db            an SQLite database file
//	sqlite://path/to/file.db   the same; sqlite:///abs/file.db for an absolute path
//	postgres://user@host/db    PostgreSQL (also postgresql://), any libpq URL parameters
//
// Other URL schemes, SQLite paths with '?' or '#' and in-memory SQLite
// databases are refused: the store must outlive the process.
func ParseDSN(s string) (DSN, error) {
	if s == "" {
		s = store.DefaultDSN
	}
	if strings.ContainsRune(s, 0) {
		return DSN{}, fmt.Errorf("%w: it contains a NUL byte", ErrBadDSN)
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return DSN{}, fmt.Errorf("%w: parsing PostgreSQL URL: %v", ErrBadDSN, redactErr(err, s))
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return DSN{}, fmt.Errorf("%w: PostgreSQL URL %s has no host", ErrBadDSN, redact(u))
		}
		return DSN{Driver: Postgres, URL: s}, nil
	case strings.HasPrefix(lower, "sqlite://"):
		return sqlitePath(s[len("sqlite://"):], s)
	case strings.HasPrefix(lower, "sqlite:"):
		return DSN{}, fmt.Errorf("%w: %q: write sqlite://PATH or just the path", ErrBadDSN, s)
	}
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		return DSN{}, fmt.Errorf("%w: unsupported scheme %q in %q: use a file path, sqlite://PATH or a postgres:// URL", ErrBadDSN, s[:i], s)
	}
	return sqlitePath(s, s)
}

func sqlitePath(p, orig string) (DSN, error) {
	switch {
	case p == "":
		return DSN{}, fmt.Errorf("%w: %q has no file path", ErrBadDSN, orig)
	case p == ":memory:" || strings.HasPrefix(p, "file:") || strings.Contains(p, "mode=memory"):
		return DSN{}, fmt.Errorf("%w: %q: an in-memory or URI SQLite database is not supported; give a file path", ErrBadDSN, orig)
	case strings.ContainsAny(p, "?#"):
		return DSN{}, fmt.Errorf("%w: SQLite path %q contains '?' or '#'", ErrBadDSN, p)
	case strings.HasSuffix(p, "/"):
		return DSN{}, fmt.Errorf("%w: SQLite path %q names a directory, not a file", ErrBadDSN, p)
	}
	return DSN{Driver: SQLite, Path: p}, nil
}

// isScheme reports whether s looks like a URL scheme (RFC 3986: a letter
// then letters, digits, '+', '-', '.'). A one-letter scheme is taken as a
// Windows drive letter instead.
func isScheme(s string) bool {
	if len(s) < 2 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// String returns the address in the form ParseDSN reads, with any
// PostgreSQL password replaced by "xxxxx" so that it can be shown.
func (d DSN) String() string {
	switch d.Driver {
	case Postgres:
		u, err := url.Parse(d.URL)
		if err != nil {
			return "postgres://(unparsable)"
		}
		return redact(u)
	case SQLite:
		return d.Path
	}
	return ""
}

// redact hides a URL's password and a password query parameter.
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	if q := c.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// redactErr returns err's text without the address, which may hold a password.
func redactErr(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), raw, "(the address)")
}
