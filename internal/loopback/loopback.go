// Package loopback tells whether an address names the local machine:
// "localhost" or a loopback IP (127.0.0.0/8, ::1). orgguard uses it to
// recognise `orgguard sim serve` and test servers, which need no real AWS
// credentials.
package loopback

import (
	"net"
	"net/url"
)

// Host reports whether host (a name or an IP, without a port) is
// "localhost" or a loopback IP address.
func Host(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL reports whether u parses as a URL with a host and that host is a
// loopback host. The scheme is not checked.
func URL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	return Host(p.Hostname())
}
