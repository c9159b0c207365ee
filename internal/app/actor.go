package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/orgguard/orgguard/internal/identity"
)

// ErrNoAWSIdentity: with backend.type aws and neither --by/--author nor
// identity.user, who acts is the caller's AWS identity, and STS could not
// say who that is.
var ErrNoAWSIdentity = errors.New("cannot tell who you are on AWS")

// callerIdentifier is what the AWS backend offers: the ARN of the caller
// (STS GetCallerIdentity).
type callerIdentifier interface {
	CallerIdentity(ctx context.Context) (string, error)
}

// awsActor is the actor taken from the caller's AWS identity: asked once,
// on first need, so that commands that record nobody make no STS call.
type awsActor struct {
	mu   sync.Mutex
	name string
}

// resolved returns the name once known.
func (x *awsActor) resolved() (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.name, x.name != ""
}

// ResolveActor returns who acts, normalised, asking AWS who the caller is
// when the actor is the caller's AWS identity and nobody asked yet. Use
// cases that record an actor (plan author, approver, applier, incident
// and notice edits) call it; it fails with ErrNoAWSIdentity when STS
// cannot answer.
func (a *App) ResolveActor(ctx context.Context) (string, error) {
	if a.aws == nil {
		return a.actor, nil
	}
	a.aws.mu.Lock()
	defer a.aws.mu.Unlock()
	if a.aws.name != "" {
		return a.aws.name, nil
	}
	b, err := a.Backend(ctx)
	if err != nil {
		return "", err
	}
	ci, ok := b.(callerIdentifier)
	if !ok {
		return "", fmt.Errorf("%w: the %s backend cannot say who the caller is; set identity.user or --by", ErrNoAWSIdentity, a.cfg.Backend.Type)
	}
	arn, err := ci.CallerIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("%w (%v); set identity.user in the configuration or pass --by/--author", ErrNoAWSIdentity, err)
	}
	name, err := identity.Parse(arn)
	if err != nil {
		return "", BadInput(fmt.Errorf("the caller's AWS identity %q: %w", arn, err))
	}
	a.o.Logger.Info("acting as the caller's AWS identity", "arn", name)
	a.aws.name = name
	return name, nil
}
