package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/web"
)

// newServeCmd builds `orgguard serve`.
func newServeCmd(e *env) *cobra.Command {
	var (
		listen, tlsCert, tlsKey, logLevel string
		asJSON                            bool
		af                                appFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the public status page (and, as it is built, the team dashboard) over HTTP",
		Long: `serve answers HTTP on --listen (default: server.listen, 127.0.0.1:8080): the
public status page at /, its JSON at /api/status, /healthz (the process is
alive) and /readyz (the store answers). It reads the configured store (SQLite
by default, PostgreSQL with a postgres:// DSN), which it opens, and creates
if needed, before listening.

With --tls-cert and --tls-key (or server.tls) it serves HTTPS and sends
Strict-Transport-Security. Every response carries a strict
Content-Security-Policy; cross-origin state-changing requests are refused.
Behind a reverse proxy set server.publicURL.

Once listening, the URL is printed on stdout (as {"url": ...} with --json).
SIGINT or SIGTERM stop the server gracefully. See docs/server.md.`,
		Example: `  orgguard serve
  orgguard serve --listen 127.0.0.1:0 --json
  orgguard serve --listen :8443 --tls-cert cert.pem --tls-key key.pem --store postgres://orgguard@db/orgguard`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return badInput(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
			a, err := openApp(cmd, e, &af, true)
			if err != nil {
				return err
			}
			defer a.Close()
			sc := a.Config().Server
			if !cmd.Flags().Changed("listen") {
				listen = sc.Listen
			}
			if err := config.ValidateListen(listen); err != nil {
				return badInput(fmt.Errorf("--listen: %w", err))
			}
			if !cmd.Flags().Changed("tls-cert") && !cmd.Flags().Changed("tls-key") {
				tlsCert, tlsKey = sc.TLS.Cert, sc.TLS.Key
			}
			if (tlsCert == "") != (tlsKey == "") {
				return badInput(fmt.Errorf("--tls-cert and --tls-key go together: give both or neither"))
			}
			// Open (and migrate) the store before listening: a server that
			// cannot reach its store should not start.
			if err := a.Ready(cmd.Context()); err != nil {
				return appError(err)
			}
			srv, err := web.New(web.Options{App: a, Log: log, TLS: tlsCert != ""})
			if err != nil {
				return appError(err)
			}
			scheme := "http"
			if tlsCert != "" {
				scheme = "https"
			}
			listening := func(addr net.Addr) {
				url := scheme + "://" + browsable(addr)
				log.Info("serving", "url", url, "tls", tlsCert != "")
				if asJSON {
					b, _ := json.Marshal(map[string]string{"url": url})
					fmt.Fprintln(e.stdout, string(b))
				} else {
					fmt.Fprintf(e.stdout, "orgguard: serving on %s\n", url)
				}
			}
			err = web.ListenAndServe(cmd.Context(), web.ServeOptions{Addr: listen, TLSCert: tlsCert, TLSKey: tlsKey,
				Log: log, Listening: listening}, srv.Handler())
			if err != nil {
				return withCode(ExitInternal, err)
			}
			log.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", config.DefaultListen, "address to listen on, host:port (default: server.listen; port 0 picks a free port)")
	f.StringVar(&tlsCert, "tls-cert", "", "PEM certificate chain to serve HTTPS with (default: server.tls.cert)")
	f.StringVar(&tlsKey, "tls-key", "", "PEM private key of --tls-cert (default: server.tls.key)")
	f.StringVar(&logLevel, "log-level", "info", "log level on stderr: debug, info (one line per request), warn, error")
	f.BoolVar(&asJSON, "json", false, "print the URL as JSON")
	addConfigFlag(cmd)
	addStoreFlag(cmd)
	return cmd
}

// browsable is addr as a browser can open it: an unspecified address
// (every interface) becomes localhost.
func browsable(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
