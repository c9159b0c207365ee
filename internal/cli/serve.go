package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/apply"
	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/web"
)

// newServeCmd builds `orgguard serve`.
func newServeCmd(e *env) *cobra.Command {
	var (
		listen, tlsCert, tlsKey, logLevel string
		asJSON, team, health              bool
		tf                                teamFlags
		af                                appFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the public status page and the team dashboard over HTTP",
		Long: `serve answers HTTP on --listen (default: server.listen, 127.0.0.1:8080): the
public status page at /, its JSON at /api/status, /healthz (the process is
alive) and /readyz (the store answers); and the team dashboard under /team/
for the users of the store (orgguard user add), who sign in at /signin, and
scripts with an API token (orgguard token create). It reads the configured
store (SQLite by default, PostgreSQL with a postgres:// DSN), which it opens,
and creates if needed, before listening.

With --team (or server.team: true) the server is one replica of several on
one PostgreSQL store: the replicas elect a leader through a lease in the
store, and the leader alone runs the watcher, the notice clock and the outbox
sender (--listen-intake serves the event intake while it leads). /healthz and
/readyz then also say {"leader": true|false, "epoch": N}. A dead leader is
replaced within about server.leaseTTL (15s) plus two seconds. SQLite is
refused in team mode. See docs/team-mode.md.

--health asks the server at --listen (server.listen) for /healthz and exits 0
when it is healthy, 1 when it is not: a probe for systemd or a container.

With --tls-cert and --tls-key (or server.tls) it serves HTTPS and sends
Strict-Transport-Security. Every response carries a strict
Content-Security-Policy; cross-origin state-changing requests are refused.
Behind a reverse proxy set server.publicURL.

Once listening, the URL is printed on stdout (as {"url": ...} with --json).
SIGINT or SIGTERM stop the server gracefully. See docs/server.md.`,
		Example: `  orgguard serve
  orgguard serve --listen 127.0.0.1:0 --json
  orgguard serve --listen :8443 --tls-cert cert.pem --tls-key key.pem --store postgres://orgguard@db/orgguard
  orgguard serve --team --listen :8080 --listen-intake :8787 --store postgres://orgguard@db/orgguard
  orgguard serve --health --listen :8080`,
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
			if health {
				if !cmd.Flags().Changed("listen") {
					listen = sc.Listen
				}
				if !cmd.Flags().Changed("tls-cert") {
					tlsCert = sc.TLS.Cert
				}
				return probeHealth(cmd.Context(), e, listen, tlsCert != "")
			}
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
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			var t *app.Team
			teamDone := make(chan error, 1)
			if team || sc.Team {
				if t, err = tf.open(ctx, a, log, sc.LeaseTTL, cmd.Flags().Changed("lease-ttl")); err != nil {
					return appError(err)
				}
			}
			// Open (and migrate) the store before listening: a server that
			// cannot reach its store should not start.
			if err := a.Ready(cmd.Context()); err != nil {
				return appError(err)
			}
			// People sign in at /signin (the users of the store, see
			// orgguard user); scripts send an API token.
			srv, err := web.New(web.Options{App: a, Log: log, TLS: tlsCert != "", Team: t, Auth: web.NewAuthn(a, log)})
			if err != nil {
				return appError(err)
			}
			if t != nil {
				go func() {
					err := t.Run(ctx)
					cancel() // a replica whose duties cannot run stops serving
					teamDone <- err
				}()
			} else {
				teamDone <- nil
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
			err = web.ListenAndServe(ctx, web.ServeOptions{Addr: listen, TLSCert: tlsCert, TLSKey: tlsKey,
				Log: log, Listening: listening}, srv.Handler())
			cancel()
			// The leader finishes its duties and releases the lease.
			if terr := <-teamDone; terr != nil {
				return appError(terr)
			}
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
	f.BoolVar(&team, "team", false, "team mode: one replica of several on one PostgreSQL store; the leader runs the watcher, notice clock and outbox (default: server.team)")
	f.BoolVar(&health, "health", false, "ask the server at --listen for /healthz; exit 0 when healthy, 1 when not (a probe)")
	f.StringVar(&tf.listenIntake, "listen-intake", "", "team mode: serve the event intake on this address while this replica leads")
	f.DurationVar(&tf.interval, "interval", 0, "team mode: how often the leader's watcher re-reads the cheap surfaces (default: watch.interval)")
	f.DurationVar(&af.lockTTL, "lock-ttl", apply.DefaultLockTTL, "organization lock lifetime without a heartbeat, for applies and remediations; for tests")
	_ = f.MarkHidden("lock-ttl")
	tf.add(f)
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
