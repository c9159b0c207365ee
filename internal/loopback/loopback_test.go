package loopback

import "testing"

func TestHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"0.0.0.0", false},
		{"10.0.0.1", false},
		{"example.com", false},
		{"LOCALHOST", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Host(tt.host); got != tt.want {
			t.Errorf("Host(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080", true},
		{"https://localhost", true},
		{"http://[::1]:4566/", true},
		{"http://example.com:8080", false},
		{"127.0.0.1:8080", false}, // no scheme: parsed as an opaque URL without a host
		{"", false},
		{"http://%zz", false},
	}
	for _, tt := range tests {
		if got := URL(tt.url); got != tt.want {
			t.Errorf("URL(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}
