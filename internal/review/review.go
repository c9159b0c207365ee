// Package review keeps the review chain of plans, from the plan to the
// apply, in the store and nowhere else:
//
//   - Rules are the settings that decide a verdict (guardrails, the
//     quarantine shape, the critical actions). They are pinned in the store;
//     a local configuration that differs from the pinned rules is refused,
//     and changing them is itself a plan that someone else approves.
//   - Save stores a plan with its base snapshot (content-addressed by
//     fingerprint) and an audit entry. Only stored plans can be approved and
//     applied: a plan file is a copy for people to read, never a source of
//     truth.
//   - Verify re-derives a stored plan — its operations against its base
//     snapshot under the pinned rules — and refuses any difference from what
//     the plan says (verdict, required approvals, steps, blast radius, …).
//     A plan edited and re-sealed, in a file or in the store, fails it.
//   - Approve records an approval bound to the plan hash and the pinned
//     rules, never by the author (identities compare by identity.Key).
//
// The threat model is in docs/apply.md.
package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/store"
	"github.com/orgguard/orgguard/internal/watch"
)

// ErrRefused marks every refusal (errors.Is); the error is a *RefusedError.
var ErrRefused = errors.New("refused")

// ErrOwnPlan marks the refusal of an approval by the plan's author (or a
// name that compares the same): errors.Is(err, ErrOwnPlan) holds as well as
// errors.Is(err, ErrRefused).
var ErrOwnPlan = errors.New("the author of a plan cannot approve it")

// RefusedError says why an operation on a plan was refused.
type RefusedError struct {
	Reason string
	// Kind, when set, is a sentinel the refusal also matches (ErrOwnPlan).
	Kind error
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Is makes errors.Is(err, ErrRefused) true, and errors.Is(err, e.Kind).
func (e *RefusedError) Is(target error) bool {
	return target == ErrRefused || (e.Kind != nil && target == e.Kind)
}

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Rules are the settings that decide a plan's verdict. They are pinned in
// the store (see Pin) so that the verdict cannot depend on which
// configuration file the person running orgguard passes.
type Rules struct {
	Guardrails guard.Config            `json:"guardrails"`
	Quarantine change.QuarantineConfig `json:"quarantine"`
	// Critical are the action patterns whose loss is named per account
	// (impact.critical); empty means the built-in list.
	Critical []string `json:"critical"`
	// Watch are the watch rules (watch.rules; empty means the defaults).
	// They are pinned because a rule with remediate: true lets the watcher
	// apply the undo of drift on its own standing approval: who may change
	// that is decided like any guardrail.
	Watch []watch.Rule `json:"watch,omitempty"`
}

// Encode returns the rules' canonical JSON and its hash ("sha256:…").
func (r Rules) Encode() ([]byte, string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, "", fmt.Errorf("encoding the guardrails: %w", err)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return b, hashOf(b), nil
}

// Hash returns the rules' hash.
func (r Rules) Hash() (string, error) {
	_, h, err := r.Encode()
	return h, err
}

// DecodeRules parses rules as Encode wrote them.
func DecodeRules(b []byte) (Rules, error) {
	var r Rules
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Rules{}, fmt.Errorf("decoding the pinned guardrails: %w", err)
	}
	return r, nil
}

func hashOf(b []byte) string { return digest.Of(b) }

// auditEntry appends an audit entry in tx.
func auditEntry(ctx context.Context, tx store.Tx, actor, action, subject string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail: %w", err)
	}
	_, err = tx.AppendAudit(ctx, store.AuditRecord{Actor: actor, Action: action, Subject: subject, Detail: b})
	return err
}
