// Package change turns what an operator asks for — attach a policy, move an
// account, quarantine three accounts — into steps against the Organizations
// API, each with its exact inverse, so that rollback is known before
// anything runs. It also runs steps against an org.Writer (the simulated
// organization or real AWS) and reads change files and Terraform plans.
// Plan files are package plan's.
package change

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/orgguard/orgguard/internal/org"
)

// Kind is the kind of one step: one Organizations API write.
type Kind string

// The step kinds. The set is closed: every switch over Kind is exhaustive.
const (
	AttachPolicy      Kind = "attach-policy"
	DetachPolicy      Kind = "detach-policy"
	CreatePolicy      Kind = "create-policy"
	UpdatePolicy      Kind = "update-policy"
	DeletePolicy      Kind = "delete-policy"
	CreateOU          Kind = "create-ou"
	DeleteOU          Kind = "delete-ou"
	MoveAccount       Kind = "move-account"
	EnablePolicyType  Kind = "enable-policy-type"
	DisablePolicyType Kind = "disable-policy-type"
)

// Kinds lists every step kind, in a new slice the caller may keep or
// change.
func Kinds() []Kind {
	return []Kind{AttachPolicy, DetachPolicy, CreatePolicy, UpdatePolicy, DeletePolicy,
		CreateOU, DeleteOU, MoveAccount, EnablePolicyType, DisablePolicyType}
}

// RefPrefix marks an ID that is not known until an earlier step has run:
// "ref:quarantine-ou" stands for the ID that the step with Ref
// "quarantine-ou" created.
const RefPrefix = "ref:"

// Step is one write to the organization. Which fields are used depends on
// Kind; IDs may be references (RefPrefix) to objects created by earlier
// steps of the same plan.
type Step struct {
	Kind Kind `json:"kind"`
	// Ref names the object a create step makes, so later steps (and
	// inverses) can refer to it as "ref:<Ref>".
	Ref string `json:"ref,omitempty"`

	PolicyID            string         `json:"policyId,omitempty"`
	TargetID            string         `json:"targetId,omitempty"`
	AccountID           string         `json:"accountId,omitempty"`
	SourceParentID      string         `json:"sourceParentId,omitempty"`
	DestinationParentID string         `json:"destinationParentId,omitempty"`
	ParentID            string         `json:"parentId,omitempty"` // create-ou
	OUID                string         `json:"ouId,omitempty"`     // delete-ou
	RootID              string         `json:"rootId,omitempty"`   // enable/disable-policy-type
	PolicyType          org.PolicyType `json:"policyType,omitempty"`
	Name                string         `json:"name,omitempty"` // create-ou, create/update-policy
	Description         string         `json:"description,omitempty"`
	Content             string         `json:"content,omitempty"` // create/update-policy

	// Summary is a one-line description for people, with names.
	Summary string `json:"summary"`
}

// Planned is a step with the steps that undo it, computed from the state
// of the organization just before the step.
type Planned struct {
	Step
	Inverse []Step `json:"inverse"`
}

// Bindings maps references to real IDs as steps run: "ref:<name>" keys for
// created objects and "id:<old>" keys for objects that were deleted and
// re-created by a rollback.
type Bindings map[string]string

// ErrUnboundRef is returned when a step names a reference that no earlier
// step has bound.
var ErrUnboundRef = errors.New("reference not bound by an earlier step")

// resolve returns the real ID for id.
func (b Bindings) resolve(id string) (string, error) {
	if name, ok := strings.CutPrefix(id, RefPrefix); ok {
		v, ok := b[RefPrefix+name]
		if !ok {
			return "", fmt.Errorf("resolving %s: %w", id, ErrUnboundRef)
		}
		return v, nil
	}
	if v, ok := b["id:"+id]; ok {
		return v, nil
	}
	return id, nil
}

// Resolve returns s with every reference replaced by the ID bound to it.
func (s Step) Resolve(b Bindings) (Step, error) {
	for _, f := range []*string{&s.PolicyID, &s.TargetID, &s.AccountID, &s.SourceParentID,
		&s.DestinationParentID, &s.ParentID, &s.OUID, &s.RootID} {
		if *f == "" {
			continue
		}
		v, err := b.resolve(*f)
		if err != nil {
			return s, err
		}
		*f = v
	}
	return s, nil
}

// Run performs one step against w, resolving references through b and
// binding what the step creates. It returns the ID of a created object.
func Run(ctx context.Context, w org.Writer, s Step, b Bindings) (string, error) {
	r, err := s.Resolve(b)
	if err != nil {
		return "", err
	}
	created := ""
	switch r.Kind {
	case AttachPolicy:
		err = w.AttachPolicy(ctx, r.PolicyID, r.TargetID)
	case DetachPolicy:
		err = w.DetachPolicy(ctx, r.PolicyID, r.TargetID)
	case CreatePolicy:
		var p org.Policy
		p, err = w.CreatePolicy(ctx, org.PolicySpec{Name: r.Name, Description: r.Description, Content: r.Content, Type: r.PolicyType})
		created = p.ID
	case UpdatePolicy:
		upd := org.PolicyUpdate{}
		if r.Name != "" {
			upd.Name = &r.Name
		}
		upd.Description = &r.Description
		upd.Content = &r.Content
		_, err = w.UpdatePolicy(ctx, r.PolicyID, upd)
	case DeletePolicy:
		err = w.DeletePolicy(ctx, r.PolicyID)
	case CreateOU:
		var ou org.OU
		ou, err = w.CreateOU(ctx, r.ParentID, r.Name)
		created = ou.ID
	case DeleteOU:
		err = w.DeleteOU(ctx, r.OUID)
	case MoveAccount:
		err = w.MoveAccount(ctx, r.AccountID, r.SourceParentID, r.DestinationParentID)
	case EnablePolicyType:
		err = w.EnablePolicyType(ctx, r.RootID, r.PolicyType)
	case DisablePolicyType:
		err = w.DisablePolicyType(ctx, r.RootID, r.PolicyType)
	default:
		return "", fmt.Errorf("running step %q: unknown step kind", s.Kind)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.Summary, err)
	}
	if created != "" && s.Ref != "" {
		b[RefPrefix+s.Ref] = created
		if old, ok := strings.CutPrefix(s.Ref, restorePrefix); ok {
			b["id:"+old] = created
		}
	}
	return created, nil
}

// restorePrefix starts the Ref of a create step that re-creates a deleted
// object during rollback: later steps naming the old ID get the new one.
const restorePrefix = "restore-"

// Validate checks that s has the fields its kind needs.
func (s Step) Validate() error {
	need := func(fields ...string) error {
		var missing []string
		vals := map[string]string{"policyId": s.PolicyID, "targetId": s.TargetID, "accountId": s.AccountID,
			"sourceParentId": s.SourceParentID, "destinationParentId": s.DestinationParentID,
			"parentId": s.ParentID, "ouId": s.OUID, "rootId": s.RootID, "policyType": string(s.PolicyType),
			"name": s.Name, "content": s.Content}
		for _, f := range fields {
			if vals[f] == "" {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("step %s needs %s", s.Kind, strings.Join(missing, ", "))
		}
		return nil
	}
	switch s.Kind {
	case AttachPolicy, DetachPolicy:
		return need("policyId", "targetId")
	case CreatePolicy:
		return need("name", "policyType", "content")
	case UpdatePolicy:
		return need("policyId", "content")
	case DeletePolicy:
		return need("policyId")
	case CreateOU:
		return need("parentId", "name")
	case DeleteOU:
		return need("ouId")
	case MoveAccount:
		return need("accountId", "sourceParentId", "destinationParentId")
	case EnablePolicyType, DisablePolicyType:
		return need("rootId", "policyType")
	}
	return fmt.Errorf("unknown step kind %q (known: %s)", s.Kind, kindList())
}

func kindList() string {
	kinds := Kinds()
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	return strings.Join(ks, ", ")
}

// Rollback undoes the first done steps of a plan: the inverses of each
// step, last step first, in the order recorded. b must hold the bindings
// made while the steps ran.
func Rollback(ctx context.Context, w org.Writer, steps []Planned, done int, b Bindings) error {
	for i := done - 1; i >= 0; i-- {
		for _, inv := range steps[i].Inverse {
			if _, err := Run(ctx, w, inv, b); err != nil {
				return fmt.Errorf("rolling back step %d (%s): %w", i+1, steps[i].Summary, err)
			}
		}
	}
	return nil
}
