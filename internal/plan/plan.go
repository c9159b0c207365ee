// Package plan runs the planning pipeline — operations to steps with
// inverses (package change), steps to blast radius (package impact), blast
// radius to verdict (package guard) — and reads, writes, hashes and renders
// the resulting plan files. It does no I/O except reading and writing plan
// files.
package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/orgguard/orgguard/internal/atomicfile"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
	"github.com/orgguard/orgguard/internal/org"
)

// FormatVersion is the plan file format this package writes and reads.
const FormatVersion = 1

// MaxFileBytes bounds a plan file read (and a stored snapshot decompressed):
// a plan of a 10,000-account organization is about 20 MB indented.
const MaxFileBytes = 256 << 20

// MaxDescription bounds a plan's description, in bytes.
const MaxDescription = 4096

// File is a plan: what was asked, the steps and their inverses, the blast
// radius, the guardrails' verdict, and a hash over all of it. Its format is
// documented in docs/plan-format.md.
type File struct {
	FormatVersion int       `json:"formatVersion"`
	ID            string    `json:"id"`
	CreatedAt     time.Time `json:"createdAt"`
	Author        string    `json:"author"`
	Description   string    `json:"description,omitempty"`
	Source        string    `json:"source"` // how the change was given: "cli", "file:...", "terraform:..."
	Backend       string    `json:"backend"`

	Operations []change.Operation `json:"operations"`
	Intent     *change.Intent     `json:"intent,omitempty"`
	Overrides  []change.Override  `json:"overrides,omitempty"`

	BaseFingerprint  string            `json:"baseFingerprint"`
	AfterFingerprint string            `json:"afterFingerprint"`
	Steps            []change.Planned  `json:"steps"`
	Quarantine       *guard.Quarantine `json:"quarantine,omitempty"`
	// Targets are the nodes whose access the steps change directly.
	Targets []guard.Target `json:"targets"`
	// Warnings are findings that do not stop the plan, e.g. an action in a
	// created or updated policy that the catalog does not know, with the
	// nearest catalog names.
	Warnings []string `json:"warnings,omitempty"`

	Impact impact.Report `json:"impact"`

	// Verdict, Reasons and RequiredApprovals repeat the guardrails'
	// decision at the top level for scripts; Guard holds all of it.
	Verdict           guard.Decision `json:"verdict"`
	Reasons           []guard.Reason `json:"reasons"`
	RequiredApprovals int            `json:"requiredApprovals"`
	Guard             guard.Verdict  `json:"guard"`
	// Guardrails is the hash of the pinned guardrails the verdict was
	// computed with (see package review); empty for a plan made without a
	// store.
	Guardrails string `json:"guardrails,omitempty"`

	// BaseRead says how fresh the base snapshot was and how it was
	// verified, when the plan was made on a backend (nil on a snapshot
	// file).
	BaseRead *BaseRead `json:"baseRead,omitempty"`

	// PlanHash is "sha256:" and the hex SHA-256 of the file's canonical
	// JSON with PlanHash empty. Approvals bind to it.
	PlanHash string `json:"planHash"`

	raw []byte    // the sealed encoding (compact), reused by Marshal
	enc *encoding // the encoding Seal hashed, until raw is made from it
}

// Request is what to plan.
type Request struct {
	Operations  []change.Operation
	Description string
	Intent      *change.Intent
	Overrides   []change.Override
	Author      string
	Source      string
	Now         time.Time
	// Steps, when set instead of Operations, are planned as they are
	// (change.Planner.PlanSteps): a rollback of an applied change.
	Steps []change.Step
	// Guardrails is recorded in the plan: the hash of the pinned
	// guardrails the Planner was built from.
	Guardrails string
	// BaseRead is recorded in the plan as it is.
	BaseRead *BaseRead
}

// How a plan's base was obtained (BaseRead.Kind).
const (
	// BaseFullRead: the whole organization was read for this plan.
	BaseFullRead = "full-read"
	// BaseStored: the latest stored whole read, its parts that the change
	// touches and that decide its blast radius verified unchanged with
	// partial reads.
	BaseStored = "stored-verified"
)

// BaseRead says how fresh a plan's base snapshot was and how it was
// verified.
type BaseRead struct {
	Kind    string    `json:"kind"`
	TakenAt time.Time `json:"takenAt"`
	// AgeSeconds is the base's age when the plan was made.
	AgeSeconds int64 `json:"ageSeconds"`
	// Verified lists what was read again to verify a stored base: IDs of
	// the root, OUs, accounts and policies, and "children:ID" for a
	// parent's list of children.
	Verified []string `json:"verified,omitempty"`
	// APICalls is what reading (or verifying) the base cost.
	APICalls int `json:"apiCalls"`
	// Why says why a stored base was not used (for a full read).
	Why string `json:"why,omitempty"`
}

// String describes the base on one line.
func (b *BaseRead) String() string {
	age := (time.Duration(b.AgeSeconds) * time.Second).String()
	switch b.Kind {
	case BaseStored:
		return fmt.Sprintf("stored snapshot taken %s ago (%s), %d parts verified unchanged by partial reads in %d API calls",
			age, b.TakenAt.UTC().Format(time.RFC3339), len(b.Verified), b.APICalls)
	default:
		s := fmt.Sprintf("whole organization read for this plan (%d API calls)", b.APICalls)
		if b.Why != "" {
			s += ": " + b.Why
		}
		return s
	}
}

// Planner holds what planning needs besides the request: the guardrails,
// the blast-radius analyzer and the quarantine configuration.
type Planner struct {
	Guard      *guard.Guard
	Analyzer   *impact.Analyzer
	Quarantine change.QuarantineConfig
}

// Result is a plan with the computed after-state, for callers that go on
// to show the tree.
type Result struct {
	File   *File
	After  *org.Snapshot
	Impact *impact.Impact
	// Unprotected lists configured protected targets that match nothing in
	// this organization (a mistake worth telling the operator).
	Unprotected []string
}

// Make plans req against base.
func (p *Planner) Make(ctx context.Context, base *org.Snapshot, req Request) (*Result, error) {
	// The base's fingerprint (a hash over the whole organization) is
	// computed on the side while the steps are planned: both only read
	// base.
	baseFingerprint := make(chan string, 1)
	go func() { baseFingerprint <- org.ComputeFingerprint(base) }()
	cp := &change.Planner{Quarantine: p.Quarantine}
	var cplan *change.Plan
	var err error
	if len(req.Steps) > 0 {
		cplan, err = cp.PlanSteps(ctx, base, req.Steps)
	} else {
		cplan, err = cp.Plan(ctx, base, req.Operations)
	}
	if err != nil {
		return nil, err
	}
	// The after-state's fingerprint too, while the blast radius is
	// computed (both only read the after-state).
	afterFP := make(chan string, 1)
	go func() { afterFP <- afterFingerprint(cplan.After) }()
	imp, err := p.Analyzer.Compute(base, cplan.After)
	if err != nil {
		return nil, fmt.Errorf("computing the blast radius: %w", err)
	}
	bx, ax := cplan.BaseIndex, cplan.AfterIndex
	// The plan records its time to the second, and decides with that time:
	// approve and apply re-derive the verdict from the file (package
	// review) and must get exactly the same answer.
	now := req.Now.UTC().Truncate(time.Second)
	f := &File{
		FormatVersion:    FormatVersion,
		CreatedAt:        now,
		Guardrails:       req.Guardrails,
		Author:           req.Author,
		Description:      req.Description,
		Source:           req.Source,
		Backend:          base.Source,
		Operations:       req.Operations,
		Intent:           req.Intent,
		Overrides:        req.Overrides,
		BaseFingerprint:  <-baseFingerprint,
		AfterFingerprint: <-afterFP,
		Steps:            cplan.Steps,
		Impact:           imp.Report,
		Warnings:         cplan.Warnings,
		BaseRead:         req.BaseRead,
	}
	cplan.After.Fingerprint = f.AfterFingerprint // for Result.After; nothing reads it now
	for _, id := range cplan.Targets {
		f.Targets = append(f.Targets, target(ax, id))
	}
	if cplan.IsQuarantine && len(cplan.Quarantined) > 0 {
		f.Quarantine = &guard.Quarantine{OU: cplan.QuarantineOU, Accounts: cplan.Quarantined}
	}
	var nodes []guard.Node
	if len(p.Guard.Config().Protected.Targets) > 0 {
		nodes = guardNodes(bx) // every node's path: only for protected targets
	}
	protected, unmatched := p.Guard.Config().Protected.Resolve(nodes)
	in := guard.Input{
		Now:          now,
		Stage:        guard.StagePlan,
		Operation:    operationName(req),
		Targets:      f.Targets,
		Impact:       guardImpact(ax, &imp.Report),
		ProtectedIDs: protected,
		Quarantine:   f.Quarantine,
	}
	if req.Intent != nil {
		gi, err := resolveIntent(bx, req.Intent)
		if err != nil {
			return nil, err
		}
		in.Intent = gi
	}
	for _, o := range req.Overrides {
		in.Overrides = append(in.Overrides, guard.Override{Rule: guard.Rule(o.Rule), Reason: o.Reason})
	}
	v, err := p.Guard.Evaluate(in)
	if err != nil {
		return nil, &change.InputError{Operation: change.Operation{Op: change.Op(in.Operation)}, Err: err}
	}
	f.Guard = v
	f.Verdict = v.Decision
	f.Reasons = v.Reasons
	f.RequiredApprovals = v.RequiredApprovals
	if err := f.Seal(); err != nil {
		return nil, err
	}
	return &Result{File: f, After: cplan.After, Impact: imp, Unprotected: unmatched}, nil
}

// afterFingerprint is the fingerprint of the planned after-state (one a
// simulated copy computed when it made the snapshot is kept: change.Plan
// only sets its Source afterwards, which the fingerprint leaves out).
func afterFingerprint(after *org.Snapshot) string {
	if after.Fingerprint != "" {
		return after.Fingerprint
	}
	return org.ComputeFingerprint(after)
}

func operationName(req Request) string {
	if len(req.Operations) == 0 && len(req.Steps) > 0 {
		return "rollback"
	}
	names := make([]string, 0, len(req.Operations))
	for _, o := range req.Operations {
		if !slices.Contains(names, string(o.Op)) {
			names = append(names, string(o.Op))
		}
	}
	return strings.Join(names, "+")
}

// target describes a node for the guardrails.
func target(x *org.Index, id string) guard.Target {
	n, ok := x.Node(id)
	if !ok {
		return guard.Target{ID: id, Kind: guard.KindAccount, AccountsUnder: 1}
	}
	t := guard.Target{ID: id, Name: n.Name}
	switch n.Kind {
	case org.KindRoot:
		t.Kind = guard.KindRoot
		t.Name = "Root"
	case org.KindOU:
		t.Kind = guard.KindOU
		t.Name = x.PathString(id)
	default:
		t.Kind = guard.KindAccount
	}
	t.AccountsUnder = x.MemberAccountsUnder(id)
	return t
}

func guardNodes(x *org.Index) []guard.Node {
	s := x.Snapshot()
	nodes := []guard.Node{{ID: s.Root.ID, Name: "Root", Path: "/"}}
	for _, ou := range s.OUs {
		nodes = append(nodes, guard.Node{ID: ou.ID, Name: ou.Name, Path: x.PathString(ou.ID)})
	}
	for _, a := range s.Accounts {
		nodes = append(nodes, guard.Node{ID: a.ID, Name: a.Name, Path: x.PathString(a.ID)})
	}
	return nodes
}

// guardImpact converts the blast radius into the guardrails' input.
func guardImpact(x *org.Index, r *impact.Report) guard.Impact {
	gi := guard.Impact{
		AccountsTotal:             r.AccountsTotal,
		CatalogActions:            r.CatalogActions,
		ManagementAccountAffected: r.ManagementAccountAffected,
		RecoveryPathLost:          !r.RecoveryPathIntact,
	}
	if gi.RecoveryPathLost {
		gi.RecoveryPathDetail = "the management account could no longer run every organizations:* action"
	}
	// Accounts under one parent are under the same OUs, and accounts that
	// changed the same way (the blast radius shares their losses) lost
	// the same critical patterns: each list is made once and shared, as
	// the guardrails only read them.
	type lossKey struct {
		first *impact.CriticalLoss
		n     int
	}
	ous := map[string][]string{}
	lost := map[lossKey][]string{}
	if len(r.Accounts) > 0 {
		gi.Accounts = make([]guard.AccountImpact, 0, len(r.Accounts))
	}
	for i := range r.Accounts {
		a := &r.Accounts[i]
		ga := guard.AccountImpact{ID: a.ID, Name: a.Name, NewlyDenied: a.NewlyDenied,
			// guard counts every action that became conditional, and the
			// part that was denied before (a gain) apart.
			NewlyConditional: a.NewlyConditional + a.PartlyRestored, NewlyAllowed: a.NewlyAllowed, ConditionalFromDenied: a.PartlyRestored}
		if n, ok := x.Node(a.ID); ok {
			v, seen := ous[n.ParentID]
			if !seen {
				v = ouAncestors(x, a.ID)
				ous[n.ParentID] = v
			}
			ga.OUs = v
		}
		if len(a.CriticalLost) > 0 {
			k := lossKey{&a.CriticalLost[0], len(a.CriticalLost)}
			v, seen := lost[k]
			if !seen {
				for _, c := range a.CriticalLost {
					v = append(v, c.Pattern)
				}
				lost[k] = v
			}
			ga.CriticalLost = v
		}
		gi.Accounts = append(gi.Accounts, ga)
	}
	return gi
}

// ouAncestors returns the OUs above node id, the root's child first (nil
// when there are none): Index.Path without the slice of nodes per account.
func ouAncestors(x *org.Index, id string) []string {
	n, ok := x.Node(id)
	if !ok {
		return nil
	}
	var buf [16]string
	up := buf[:0]
	for n.Kind != org.KindRoot {
		if n.Kind == org.KindOU {
			up = append(up, n.ID)
		}
		if n, ok = x.Node(n.ParentID); !ok {
			break
		}
	}
	if len(up) == 0 {
		return nil
	}
	ous := make([]string, len(up))
	for i, o := range up {
		ous[len(up)-1-i] = o
	}
	return ous
}

// resolveIntent turns declared account names into IDs.
func resolveIntent(x *org.Index, in *change.Intent) (*guard.Intent, error) {
	gi := &guard.Intent{Count: in.Count}
	for _, a := range in.Accounts {
		n, err := x.Resolve(a)
		if err != nil {
			return nil, &change.InputError{Operation: change.Operation{Op: "expect"}, Err: fmt.Errorf("expected account: %w", err)}
		}
		if n.Kind != org.KindAccount {
			return nil, &change.InputError{Operation: change.Operation{Op: "expect"}, Err: fmt.Errorf("expected account %q is %s, not an account", a, x.Describe(n.ID))}
		}
		gi.Accounts = append(gi.Accounts, n.ID)
	}
	return gi, nil
}

// ErrTampered is returned when a plan file's content does not match its
// hash: it was edited after planning.
var ErrTampered = errors.New("plan file does not match its planHash (edited after planning?)")

// Hash computes the plan's hash over its canonical JSON without PlanHash
// (json.Marshal's encoding, streamed into the hash: see encoding).
func (f *File) Hash() (string, error) {
	enc, err := f.encodeUnhashed()
	if err != nil {
		return "", err
	}
	return enc.hash()
}

// Seal sets the plan's ID (when unset) and hash. The encoding it hashes
// is kept for MarshalCompact, WriteCompact and Write, which write it with
// the hash in place (a 10,000-account plan is megabytes of JSON: it is
// streamed into the hash and to its reader, not held in memory).
func (f *File) Seal() error {
	if f.ID == "" {
		ops, err := json.Marshal(f.Operations)
		if err != nil {
			return fmt.Errorf("encoding the plan: %w", err)
		}
		in := f.BaseFingerprint + "\x00" + f.AfterFingerprint + "\x00" + f.Author + "\x00" +
			f.CreatedAt.UTC().Format(time.RFC3339) + "\x00" + string(ops)
		if f.BaseRead != nil {
			// Two plans of one change in one second, on bases read
			// differently, are two plans.
			br, err := json.Marshal(f.BaseRead)
			if err != nil {
				return fmt.Errorf("encoding the plan: %w", err)
			}
			in += "\x00" + string(br)
		}
		seed := digest.Of([]byte(in))
		f.ID = "plan-" + f.CreatedAt.UTC().Format("20060102-150405") + "-" + strings.TrimPrefix(seed, digest.Prefix)[:8]
	}
	enc, err := f.encodeUnhashed()
	if err != nil {
		return err
	}
	if f.PlanHash, err = enc.hash(); err != nil {
		return err
	}
	f.raw = nil
	f.enc = nil
	if bytes.HasSuffix(enc.tail, []byte(hashSuffix)) {
		f.enc = &enc
	}
	return nil
}

// Verify checks the plan's hash.
func (f *File) Verify() error {
	h, err := f.Hash()
	if err != nil {
		return err
	}
	if h != f.PlanHash {
		return ErrTampered
	}
	return nil
}

// MarshalCompact encodes the plan as compact JSON (the encoding its hash
// covers, with the hash in place), for machine output and the store.
func (f *File) MarshalCompact() ([]byte, error) {
	if f.raw != nil {
		return f.raw, nil
	}
	if f.enc != nil && f.PlanHash != "" {
		raw, err := f.enc.appendTo(nil, f.PlanHash)
		if err != nil {
			return nil, err
		}
		f.raw, f.enc = raw, nil
		return raw, nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	return b, nil
}

// WriteCompact writes what MarshalCompact returns to w, streaming a sealed
// plan's encoding instead of making it whole in memory first.
func (f *File) WriteCompact(w io.Writer) error {
	if f.raw == nil && f.enc != nil && f.PlanHash != "" {
		return f.enc.writeTo(w, f.PlanHash)
	}
	b, err := f.MarshalCompact()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Marshal encodes the plan as indented JSON, as plan files are written.
func (f *File) Marshal() ([]byte, error) {
	raw, err := f.MarshalCompact()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(2*len(raw) + 1) // indentation roughly doubles a large plan
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Write writes the plan to path atomically.
func (f *File) Write(path string) error {
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("writing plan %s: %w", path, err)
	}
	return nil
}

// Read reads a plan file and verifies its hash and format version.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a plan file", path, MaxFileBytes>>20)
	}
	return Parse(data, path)
}

// Parse decodes a plan file's content and verifies its hash.
func Parse(data []byte, name string) (*File, error) {
	var f File
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %w", name, err)
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s: plan formatVersion %d is not supported (want %d)", name, f.FormatVersion, FormatVersion)
	}
	if err := f.Verify(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}
