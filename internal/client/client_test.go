package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/orgguard/orgguard/internal/apiv1"
)

func TestCredentialsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path, err := CredentialsPath(func(k string) string {
		if k == "XDG_CONFIG_HOME" {
			return dir
		}
		return ""
	})
	if err != nil || path != filepath.Join(dir, "orgguard", "credentials") {
		t.Fatalf("CredentialsPath = %q, %v", path, err)
	}
	if _, err := LoadCredentials(path); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("LoadCredentials before login = %v, want ErrNoCredentials", err)
	}
	want := Credentials{Server: "https://orgguard.example.com", Token: "ogt_x", User: "bob"}
	if err := SaveCredentials(path, want); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the credentials file's mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if got, err := LoadCredentials(path); err != nil || got != want {
		t.Errorf("LoadCredentials = %+v, %v; want %+v", got, err, want)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(path); err == nil {
		t.Error("a credentials file others can read is accepted")
	}
	if ok, err := RemoveCredentials(path); !ok || err != nil {
		t.Errorf("RemoveCredentials = %v, %v", ok, err)
	}
	if ok, err := RemoveCredentials(path); ok || err != nil {
		t.Errorf("RemoveCredentials twice = %v, %v; want false, nil", ok, err)
	}
}

func TestErrorsCarryTheAPICode(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/plans/p1/approve":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":{"code":"own_plan","message":"bob is the author"}}`))
		default:
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	}))
	defer ts.Close()
	c, err := New(ts.URL, "ogt_x", nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"an API error body gives its code", func() error { _, err := c.Approve(context.Background(), "p1", ""); return err }, apiv1.CodeOwnPlan},
		{"a proxy's error gives the status's code", func() error { _, err := c.Whoami(context.Background()); return err }, apiv1.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); Code(err) != tt.code {
				t.Errorf("error = %v (code %q), want code %q", err, Code(err), tt.code)
			}
		})
	}
	for _, bad := range []string{"", "ftp://x", "orgguard.example.com", "https://u:p@x", "https://x/?q=1"} {
		if _, err := New(bad, "ogt_x", nil); err == nil {
			t.Errorf("New(%q) accepted the server", bad)
		}
	}
}
