package simserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// The simulator has no authentication: whoever reaches it can change the
// organization. So it listens on loopback addresses only unless told
// otherwise, and it answers only requests whose Host header is one a
// legitimate client sends, which defeats DNS rebinding (a web page whose
// name is made to resolve to 127.0.0.1 still sends its own name as Host).
// Browsers cannot send AWS JSON requests across origins anyway: the
// X-Amz-Target header needs a CORS preflight, which the server refuses.

// ErrNotLoopback is returned by CheckListenAddress for an address that is
// not a loopback one.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckListenAddress returns nil when addr (host:port) names only
// loopback addresses: 127.0.0.0/8, ::1, or a name such as localhost that
// resolves to nothing else. An empty host (":4566", every interface) is
// not loopback. With allowRemote every address is accepted.
func CheckListenAddress(ctx context.Context, addr string, allowRemote bool) error {
	if allowRemote {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w on %s: %w", ErrListen, addr, err)
	}
	if host == "" {
		return fmt.Errorf("--listen %s listens on every interface: %w (use 127.0.0.1, or --allow-remote)", addr, ErrNotLoopback)
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("--listen %s: %s is %w (use 127.0.0.1, or --allow-remote)", addr, host, ErrNotLoopback)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("%w on %s: resolving %s: %w", ErrListen, addr, host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("--listen %s: %s resolves to %s, which is %w (use 127.0.0.1, or --allow-remote)", addr, host, ip.IP, ErrNotLoopback)
		}
	}
	return nil
}

// HostGuard answers 403 AccessDeniedException to requests whose Host
// header is not an IP address, "localhost", the host of listenAddr or one
// of names (compared without the port and case), and passes the others to
// h.
func HostGuard(h http.Handler, listenAddr string, names ...string) http.Handler {
	allowed := map[string]bool{"localhost": true}
	if host, _, err := net.SplitHostPort(listenAddr); err == nil && host != "" {
		allowed[strings.ToLower(host)] = true
	}
	for _, n := range names {
		allowed[strings.ToLower(n)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hostAllowed(r.Host, allowed) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("x-amzn-RequestId", newRequestID())
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		body, _ := json.Marshal(errorBody{Type: "AccessDeniedException",
			Message: fmt.Sprintf("Host %q is not served by this simulator; use its address (e.g. http://127.0.0.1:PORT) or allow the name with --allow-host", r.Host)})
		_, _ = w.Write(body)
	})
}

func hostAllowed(hostport string, allowed map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	return allowed[host]
}
