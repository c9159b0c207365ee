package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/leader"
)

// teamFlags are the team-mode flags of serve and watch.
type teamFlags struct {
	leaseTTL, period, interval time.Duration
	listenIntake               string
}

func (tf *teamFlags) add(f *pflag.FlagSet) {
	f.DurationVar(&tf.leaseTTL, "lease-ttl", leader.DefaultTTL, "team mode: the leader lease's lifetime without a renewal (default: server.leaseTTL)")
	f.DurationVar(&tf.period, "campaign-period", leader.DefaultPeriod, "team mode: how often a follower tries to take the lease")
}

// open checks the store and returns the replica's team. The lease's TTL
// is --lease-ttl when given, else server.leaseTTL.
func (tf *teamFlags) open(ctx context.Context, a *app.App, log *slog.Logger, configured time.Duration, flagged bool) (*app.Team, error) {
	ttl := configured
	if flagged || ttl == 0 {
		ttl = tf.leaseTTL
	}
	return a.Team(ctx, app.TeamOptions{Log: log, Getenv: os.Getenv, Interval: tf.interval, Listen: tf.listenIntake, TTL: ttl, Period: tf.period})
}

// probeHealth asks the server at listen for /healthz (over HTTPS with
// tls) and prints its answer: exit 0 when it says healthy, 1 when not.
func probeHealth(ctx context.Context, e *env, listen string, useTLS bool) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return badInput(fmt.Errorf("--listen %q: %w", listen, err))
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	client := &http.Client{Timeout: 5 * time.Second}
	if useTLS {
		scheme = "https"
		// The probe asks this host's own server, usually by an address its
		// certificate does not name; it reads a health flag, nothing secret.
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return badInput(err)
	}
	res, err := client.Do(req)
	if err != nil {
		return withCode(ExitFailure, fmt.Errorf("asking %s: %w", url, err))
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	var h map[string]any
	if json.Unmarshal(body, &h) == nil {
		out, _ := json.Marshal(h)
		fmt.Fprintln(e.stdout, string(out))
	}
	if res.StatusCode != http.StatusOK {
		return withCode(ExitFailure, errors.New(url+" answered "+res.Status))
	}
	return nil
}
