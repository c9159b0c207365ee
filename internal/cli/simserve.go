package cli

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

// newSimServeCmd builds `orgguard sim serve`: the simulated organization
// behind the AWS Organizations wire protocol.
func newSimServeCmd(e *env) *cobra.Command {
	var (
		listen, state, logLevel    string
		latency                    time.Duration
		throttleRate, conflictRate float64
		faultSeed                  uint64
		pageSize                   int
		asJSON                     bool
		allowRemote                bool
		allowHosts                 []string
		pageCacheMiB               int
		eventsTo, eventsSecret     string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the simulated organization over the AWS Organizations API (AWS JSON 1.1)",
		Long: `Serve the simulated organization in --state (default: the configured one)
over the AWS Organizations wire protocol, so that the AWS CLI, the AWS SDKs and orgguard's own AWS backend can
talk to it with an endpoint override. Changes are saved to the state file.

Signatures are not verified: any credentials work, so the server listens on
loopback addresses only unless --allow-remote is given, and answers only
requests whose Host header is an IP address, localhost, the --listen host or
an --allow-host name (a defence against DNS rebinding). The state file can be
shared with the CLI: changes are serialised by a lock on <state>.lock and
each writer re-reads the file when another one changed it. --throttle (or
--throttle-rate), --conflict-rate and --latency inject faults for testing
retry logic; with --fault-seed the same sequence of requests meets the same faults.

Once listening, the endpoint URL is printed on stdout (as {"endpoint": ...}
with --json). SIGINT or SIGTERM stop the server gracefully. See
docs/simulator.md.`,
		Example: `  orgguard sim serve --listen 127.0.0.1:4566 --state .orgguard/sim-state.json
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    aws --endpoint-url http://127.0.0.1:4566 organizations list-roots

  # 20% of requests throttled, 10% of writes conflicting, 50ms per request
  orgguard sim serve --listen 127.0.0.1:0 --state state.json \
    --throttle 0.2 --conflict-rate 0.1 --latency 50ms --fault-seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for name, r := range map[string]float64{"--throttle-rate": throttleRate, "--conflict-rate": conflictRate} {
				if r < 0 || r > 1 {
					return badInput(fmt.Errorf("%s %v: want a probability between 0 and 1", name, r))
				}
			}
			if latency < 0 {
				return badInput(fmt.Errorf("--latency %v: want a duration of zero or more", latency))
			}
			if pageSize < 0 || pageSize > simserver.MaxPageSize {
				return badInput(fmt.Errorf("--page-size %d: want 1 to %d (0 = %d)", pageSize, simserver.MaxPageSize, simserver.MaxPageSize))
			}
			if pageCacheMiB < 1 {
				return badInput(fmt.Errorf("--page-cache-mib %d: want 1 or more", pageCacheMiB))
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return badInput(fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel))
			}
			log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))

			c, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			srv, err := app.ServeSim(cmd.Context(), app.ServeSimOptions{
				State: state, Sim: c.Backend.Sim, Listen: listen, AllowRemote: allowRemote, AllowHosts: allowHosts,
				Server: simserver.Options{Latency: latency, ThrottleRate: throttleRate, ConflictRate: conflictRate,
					FaultSeed: faultSeed, PageSize: pageSize, PageCacheBytes: int64(pageCacheMiB) << 20},
				EventsTo: eventsTo, EventsSecret: eventsSecret, Log: log, Notices: e.stderr,
			})
			if err != nil {
				return appError(err)
			}
			log.Info("serving the simulated organization", "endpoint", srv.Endpoint, "state", srv.State,
				"latency", latency, "throttle_rate", throttleRate, "conflict_rate", conflictRate, "fault_seed", faultSeed)
			if asJSON {
				b, _ := json.Marshal(map[string]string{"endpoint": srv.Endpoint, "state": srv.State})
				fmt.Fprintln(e.stdout, string(b))
			} else {
				fmt.Fprintln(e.stdout, srv.Endpoint)
			}
			if err := srv.Wait(); err != nil {
				return withCode(ExitInternal, err)
			}
			log.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on (port 0 picks a free port)")
	f.StringVar(&state, "state", "", "state file of the simulated organization (default: backend.sim.state of the configuration, generated on first use)")
	f.DurationVar(&latency, "latency", 0, "delay added to every response, e.g. 50ms")
	f.Float64Var(&throttleRate, "throttle-rate", 0, "fraction of requests answered with TooManyRequestsException (0..1)")
	f.Float64Var(&throttleRate, "throttle", 0, "alias of --throttle-rate")
	f.Float64Var(&conflictRate, "conflict-rate", 0, "fraction of write requests answered with ConcurrentModificationException (0..1)")
	f.Uint64Var(&faultSeed, "fault-seed", 1, "seed of the fault injection")
	f.IntVar(&pageSize, "page-size", 0, "cap on items per page, below the client's MaxResults (0 = 20, as AWS)")
	f.StringVar(&logLevel, "log-level", "info", "log level on stderr: debug (every request), info, warn, error")
	f.BoolVar(&asJSON, "json", false, "print the endpoint as JSON")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow --listen on a non-loopback address (anyone who can reach it can change the organization)")
	f.StringSliceVar(&allowHosts, "allow-host", nil, "host name clients may use in the Host header besides IP addresses, localhost and the --listen host (repeatable)")
	f.IntVar(&pageCacheMiB, "page-cache-mib", simserver.DefaultPageCacheBytes>>20, "memory bound, in MiB, of the lists kept for the next pages of listings")
	addEventFlags(cmd, &eventsTo, &eventsSecret)
	return cmd
}
