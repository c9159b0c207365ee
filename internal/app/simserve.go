package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"

	"github.com/orgguard/orgguard/internal/config"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/awsorg"
	"github.com/orgguard/orgguard/internal/org/simserver"
	"github.com/orgguard/orgguard/internal/watch"
)

// ServeSimOptions shape a simulated organization served over the AWS
// Organizations wire protocol: what `orgguard sim serve` runs, and what
// `orgguard demo` runs in its own process.
type ServeSimOptions struct {
	// State is the state file; "" = the configured one (Sim).
	State string
	Sim   config.SimBackend
	// Listen is the address (port 0 picks a free port); loopback only
	// unless AllowRemote.
	Listen      string
	AllowRemote bool
	// AllowHosts are host names accepted in the Host header besides IP
	// addresses, localhost and the Listen host.
	AllowHosts []string
	// Server are the fault injection and paging options; its Logger and
	// Events are set here.
	Server simserver.Options
	// EventsTo, when set, receives a CloudTrail-shaped EventBridge event
	// for each write (an orgguard watch intake), with EventsSecret in the
	// intake's header.
	EventsTo, EventsSecret string
	Log                    *slog.Logger
	// Notices receives one-line notices (a state file generated).
	Notices io.Writer
}

// ServedSim is a running served simulator.
type ServedSim struct {
	// Endpoint is the URL to give the AWS CLI or SDK (--endpoint-url).
	Endpoint string
	// State is the state file served.
	State  string
	cancel context.CancelFunc
	done   chan error
	poster *simserver.Poster
}

// ServeSim starts serving and returns once listening. Stop it with Close
// (or by ending ctx, then Close to wait). A listen failure is ErrBadInput.
func ServeSim(ctx context.Context, o ServeSimOptions) (*ServedSim, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := simserver.CheckListenAddress(ctx, o.Listen, o.AllowRemote); err != nil {
		return nil, BadInput(err)
	}
	sm, state, err := OpenSimState(o.State, o.Sim, o.Notices)
	if err != nil {
		return nil, err
	}
	so := o.Server
	so.Logger = o.Log
	s := &ServedSim{State: state, done: make(chan error, 1)}
	if o.EventsTo != "" {
		p, err := EventPoster(ctx, sm, o.EventsTo, o.EventsSecret, o.Log)
		if err != nil {
			return nil, err
		}
		s.poster = p
		so.Events = p
	}
	h := simserver.HostGuard(simserver.New(sm, so), o.Listen, o.AllowHosts...)
	ctx, s.cancel = context.WithCancel(ctx)
	ready := make(chan string, 1)
	go func() {
		s.done <- simserver.Serve(ctx, o.Listen, h, o.Log, func(addr string) { ready <- addr })
	}()
	select {
	case addr := <-ready:
		s.Endpoint = "http://" + addr
		return s, nil
	case err := <-s.done:
		s.cancel()
		if s.poster != nil {
			s.poster.Close()
		}
		if errors.Is(err, simserver.ErrListen) {
			return nil, BadInput(err)
		}
		return nil, err
	}
}

// Wait waits until the server stops (its context ended) and returns why.
func (s *ServedSim) Wait() error {
	err := <-s.done
	s.done <- err
	if s.poster != nil {
		s.poster.Close()
		s.poster = nil
	}
	return err
}

// Close stops the server gracefully, posts the events still queued, and
// waits.
func (s *ServedSim) Close() error {
	s.cancel()
	return s.Wait()
}

// organizationDescriber is the simulated organization, as the poster needs it.
type organizationDescriber interface {
	DescribeOrganization(ctx context.Context) (org.Organization, error)
}

// EventPoster returns the poster of `sim serve --events-to`: one
// CloudTrail-shaped EventBridge event per write, posted to an orgguard
// watch intake with secret in its header. A bad URL is ErrBadInput.
func EventPoster(ctx context.Context, o organizationDescriber, to, secret string, log *slog.Logger) (*simserver.Poster, error) {
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, BadInput(fmt.Errorf("--events-to %q: want an http(s) URL", to))
	}
	desc, err := o.DescribeOrganization(ctx)
	if err != nil {
		return nil, err
	}
	log.Info("posting an event for each write", "to", to)
	return &simserver.Poster{URL: to, Header: watch.DefaultHeader, Secret: secret, Account: desc.ManagementAccountID,
		Encode: watch.EncodeEvent, Log: log}, nil
}

// ConsoleUser is someone changing the organization outside orgguard, with
// the AWS SDK for Go against an endpoint — the same API calls the AWS CLI
// and the console make.
type ConsoleUser struct {
	b *awsorg.Backend
}

// NewConsoleUser returns a console user of the organization at endpoint
// (a loopback endpoint gets dummy credentials, as for `sim serve`).
func NewConsoleUser(ctx context.Context, endpoint string) (*ConsoleUser, error) {
	b, err := awsorg.New(ctx, awsorg.Options{EndpointURL: endpoint, Region: "us-east-1"})
	if err != nil {
		return nil, fmt.Errorf("opening an AWS SDK client on %s: %w", endpoint, err)
	}
	return &ConsoleUser{b: b}, nil
}

// AttachToRoot creates an SCP with content (CreatePolicy) and attaches it
// to the root (ListRoots, AttachPolicy), and returns their IDs.
func (c *ConsoleUser) AttachToRoot(ctx context.Context, name, content string) (policyID, rootID string, err error) {
	p, err := c.b.CreatePolicy(ctx, org.PolicySpec{Name: name, Description: name, Content: content, Type: org.ServiceControlPolicy})
	if err != nil {
		return "", "", err
	}
	root, err := c.b.Root(ctx)
	if err != nil {
		return "", "", err
	}
	if err := c.b.AttachPolicy(ctx, p.ID, root.ID); err != nil {
		return "", "", err
	}
	return p.ID, root.ID, nil
}

// Attached reports whether policyID is attached to target
// (ListPoliciesForTarget).
func (c *ConsoleUser) Attached(ctx context.Context, policyID, target string) (bool, error) {
	ps, err := c.b.AttachedPolicies(ctx, target, org.ServiceControlPolicy)
	if err != nil {
		return false, err
	}
	for _, p := range ps {
		if p.ID == policyID {
			return true, nil
		}
	}
	return false, nil
}
