package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// ContentSecurityPolicy is sent with every response: everything from this
// origin only, no inline script or style, no framing, forms posting back
// here only.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// middleware wraps the route table in what every request goes through,
// outermost first: request logging, panic recovery, security headers,
// cross-origin protection of state-changing requests.
func (s *Server) middleware(h http.Handler) http.Handler {
	h = s.crossOrigin(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	return s.logRequests(h)
}

// crossOrigin refuses browsers' cross-origin state-changing requests
// (http.CrossOriginProtection), except API requests signed with a bearer
// token: a browser never attaches one on its own, and Authn ignores the
// cookie of a request that carries one.
func (s *Server) crossOrigin(h http.Handler) http.Handler {
	checked := s.csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bearerAPIRequest(r) {
			h.ServeHTTP(w, r)
			return
		}
		checked.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.o.TLS {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler's panic into a logged 500.
func (s *Server) recoverPanics(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the handler's way to abort the response
			}
			s.log.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if !headerWritten(w) {
				s.fail(w, r, errors.New("handler panicked"))
			}
		}()
		h.ServeHTTP(w, r)
	})
}

// logRequests logs one record per request once it is answered (health
// checks that pass at debug level).
func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") && rec.status == http.StatusOK {
			level = slog.LevelDebug // probes every few seconds would drown the log
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

// recorder notes the status and size of a response. Unwrap lets
// http.ResponseController reach the connection (flushing, deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// headerWritten reports whether w's response has started (as far as a
// recorder under it knows).
func headerWritten(w http.ResponseWriter) bool {
	for {
		if rec, ok := w.(*recorder); ok {
			return rec.status != 0
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
}
