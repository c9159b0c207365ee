package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultListen is where `orgguard serve` listens when neither --listen
// nor server.listen says otherwise: loopback only.
const DefaultListen = "127.0.0.1:8080"

// Server configures `orgguard serve`: the status page and the team
// dashboard (docs/server.md).
type Server struct {
	// Listen is the address to listen on (host:port).
	Listen string `yaml:"listen"`
	// PublicURL is the URL people reach the server at when it differs
	// from the listen address (behind a reverse proxy): its origin is
	// trusted for state-changing requests, and links are made from it.
	PublicURL string `yaml:"publicURL"`
	// Title heads the public status page.
	Title string `yaml:"title"`
	// TLS, when both files are set, serves HTTPS.
	TLS ServerTLS `yaml:"tls"`
	// Team runs the server as one replica of several on one PostgreSQL
	// store: the replica that holds the leader lease runs the watcher,
	// the notice clock and the outbox sender (docs/team-mode.md).
	Team bool `yaml:"team"`
	// LeaseTTL is the leader lease's lifetime without a renewal: a dead
	// leader is replaced within about LeaseTTL plus two seconds.
	LeaseTTL time.Duration `yaml:"leaseTTL"`
}

// ServerTLS names a PEM certificate chain and its private key.
type ServerTLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// DefaultLeaseTTL is server.leaseTTL's default (leader.DefaultTTL).
const DefaultLeaseTTL = 15 * time.Second

// DefaultServer returns the server section's defaults.
func DefaultServer() Server {
	return Server{Listen: DefaultListen, Title: "Status", LeaseTTL: DefaultLeaseTTL}
}

func (s *Server) resolvePaths(dir string) {
	for _, p := range []*string{&s.TLS.Cert, &s.TLS.Key} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func (s *Server) validate(v *validator, path string) {
	if err := ValidateListen(s.Listen); err != nil {
		v.errorf(path+".listen", "%v", err)
	}
	if u := s.PublicURL; u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
			v.errorf(path+".publicURL", "must be an http:// or https:// URL without credentials, not %q", u)
		}
	}
	if strings.TrimSpace(s.Title) == "" {
		v.errorf(path+".title", "must not be empty")
	}
	if s.LeaseTTL < time.Second || s.LeaseTTL > 10*time.Minute {
		v.errorf(path+".leaseTTL", "%v is outside 1s..10m", s.LeaseTTL)
	}
	if (s.TLS.Cert == "") != (s.TLS.Key == "") {
		v.errorf(v.nearest(path+".tls"), "tls.cert and tls.key go together: set both or neither")
	}
}

// ValidateListen checks a listen address: host:port with a port number
// (the host may be empty, meaning every interface).
func ValidateListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		return fmt.Errorf("must be host:port (e.g. %s), not %q", DefaultListen, addr)
	}
	return nil
}
