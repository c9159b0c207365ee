package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestServerSection(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // in the error; "" for none
	}{
		{"the defaults are valid", "", ""},
		{"a full section is valid", "server:\n  listen: 0.0.0.0:443\n  publicURL: https://status.example.com\n  title: Acme\n  tls: {cert: c.pem, key: k.pem}\n", ""},
		{"an empty host listens everywhere", "server:\n  listen: \":8080\"\n", ""},
		{"a listen address without a port is refused", "server:\n  listen: localhost\n", `orgguard.yaml:2:11: server.listen: must be host:port`},
		{"a port out of range is refused", "server:\n  listen: 127.0.0.1:70000\n", "server.listen: must be host:port"},
		{"a public URL without a scheme is refused", "server:\n  publicURL: status.example.com\n", "orgguard.yaml:2:14: server.publicURL: must be an http:// or https:// URL"},
		{"a public URL with credentials is refused", "server:\n  publicURL: https://u:p@status.example.com\n", "server.publicURL"},
		{"an empty title is refused", "server:\n  title: \"\"\n", "server.title: must not be empty"},
		{"team mode with its lease is valid", "server:\n  team: true\n  leaseTTL: 20s\n", ""},
		{"a lease below a second is refused", "server:\n  leaseTTL: 500ms\n", "server.leaseTTL: 500ms is outside 1s..10m"},
		{"a certificate without its key is refused", "server:\n  tls:\n    cert: c.pem\n", "server.tls: tls.cert and tls.key go together"},
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

func TestServerTLSPathsAreRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orgguard.yaml")
	if err := os.WriteFile(path, []byte("server:\n  tls: {cert: tls/c.pem, key: /etc/k.pem}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tls", "c.pem"); c.Server.TLS.Cert != want || c.Server.TLS.Key != "/etc/k.pem" {
		t.Errorf("server.tls = %+v, want cert %s and key /etc/k.pem", c.Server.TLS, want)
	}
}
