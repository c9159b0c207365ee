package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// The server's timeouts. WriteTimeout bounds ordinary responses; event
// streams lift it for themselves (Stream).
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	// ShutdownTimeout is how long a graceful shutdown waits for requests
	// in flight before closing their connections.
	ShutdownTimeout = 10 * time.Second
)

// ServeOptions say where and how to serve a handler.
type ServeOptions struct {
	// Addr is the address to listen on (host:port; port 0 picks one).
	Addr string
	// TLSCert and TLSKey, when both set, are the PEM files to serve
	// HTTPS with.
	TLSCert, TLSKey string
	// Log receives the server's own errors (bad TLS handshakes and the
	// like); nil discards.
	Log *slog.Logger
	// Listening, when set, is called with the bound address once the
	// server accepts connections.
	Listening func(net.Addr)
}

// ListenAndServe serves h until ctx ends, then shuts down gracefully:
// it stops accepting, ends event streams, waits up to ShutdownTimeout
// for requests in flight and closes what remains. It returns nil after a
// shutdown caused by ctx.
func ListenAndServe(ctx context.Context, o ServeOptions, h http.Handler) error {
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("serving HTTPS: give both the certificate and the key")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	draining := make(chan struct{})
	var drainOnce sync.Once
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.Background(), drainKey{}, (<-chan struct{})(draining))
		},
	}
	srv.RegisterOnShutdown(func() { drainOnce.Do(func() { close(draining) }) })
	done := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			done <- srv.ServeTLS(ln, o.TLSCert, o.TLSKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	if o.Listening != nil {
		o.Listening(ln.Addr())
	}
	select {
	case err := <-done:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("shutting down: %w", err), srv.Close())
	}
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
