// Package sim is an in-process simulated AWS Organization. It implements
// org.Backend with the semantics and limits of AWS Organizations — default
// policies attached to new OUs and accounts, at least one and at most five
// SCPs per target, OU depth at most five, policy size limits, policy types
// enabled and disabled at the root — and answers with errors named and
// shaped like AWS's (*org.APIError). It also offers the read operations of
// the Organizations API, unpaged, for the wire server in
// internal/org/simserver.
//
// An Org may be backed by a state file (the snapshot format of package
// org), which is rewritten atomically after every change.
package sim

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/orgguard/orgguard/internal/atomicfile"
	"github.com/orgguard/orgguard/internal/org"
)

// Limits of AWS Organizations the simulator enforces.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
const (
	MaxOUDepth              = 5
	MaxOUs                  = 2000
	MaxPoliciesPerTarget    = 5 // per policy type
	MaxPolicyContentChars   = 5120
	MaxSCPs                 = 10000
	MaxRCPs                 = 1000
	MaxNameLength           = 128
	MaxPolicyDescriptionLen = 512
	MaxTagsPerResource      = 50
)

// IDSource supplies the randomness for new IDs. *math/rand/v2.Rand
// satisfies it; tests pass a seeded one for deterministic IDs.
type IDSource interface {
	Uint64() uint64
}

// Options configures an Org. The zero value is an in-memory organization
// with the system clock and random IDs.
type Options struct {
	// StatePath is the state file rewritten after every change; empty
	// keeps the organization in memory only.
	StatePath string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IDs is the source of new IDs; nil means crypto/rand.
	IDs IDSource
	// LockTimeout is how long a change waits for the lock of the state
	// file while another process changes it; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
}

// Org is a simulated organization. It is safe for concurrent use.
type Org struct {
	mu   sync.RWMutex
	opts Options

	organization org.Organization
	root         org.Root
	ous          map[string]*org.OU
	accounts     map[string]*org.Account
	policies     map[string]*org.Policy
	children     map[string]map[string]bool // parent ID -> child IDs
	attached     map[string]map[string]bool // target ID -> policy IDs
	targets      map[string]map[string]bool // policy ID -> target IDs

	// The organization beyond the tree (services.go, accounts.go).
	serviceAccess  []org.ServiceAccess
	delegated      []org.DelegatedAdministrator
	resourcePolicy *org.ResourcePolicy
	createStatuses []org.CreateAccountStatus
	handshakes     []org.Handshake

	// The state file (statefile.go): the version last read or written,
	// and the lock held during a change.
	seen     os.FileInfo
	lockFile *os.File
}

// cryptoIDs draws IDs from crypto/rand.
type cryptoIDs struct{}

func (cryptoIDs) Uint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics on failure instead)
	return binary.LittleEndian.Uint64(b[:])
}

// New returns a simulated organization starting from s (which must be
// valid; see org.Validate). If opts.StatePath is set, s is written there
// at once. The organization keeps deep copies of what it needs: s is
// neither changed nor kept.
func New(s *org.Snapshot, opts Options) (*Org, error) {
	if err := org.Validate(s); err != nil {
		return nil, fmt.Errorf("starting the simulated organization: %w", err)
	}
	o := newOrg(s, opts)
	if opts.StatePath != "" {
		lock, err := lockState(context.Background(), opts.StatePath, lockTimeoutOf(opts))
		if err != nil {
			return nil, fmt.Errorf("starting the simulated organization: %w", err)
		}
		defer lock.Close()
		o.mu.Lock()
		defer o.mu.Unlock()
		if err := o.save(); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// FromIndex is New for the snapshot x indexes, which NewIndex validated:
// it is not validated again (a plan's simulated copy of 10,000 accounts
// is made from the base it has just indexed). The snapshot is not
// changed, and the organization copies all of it but its tag maps, which
// it shares: the organization never changes a tag map in place (a tag
// write replaces the map), and the caller must not either while the
// organization is in use — as an Index already requires of its snapshot.
func FromIndex(x *org.Index, opts Options) (*Org, error) {
	if opts.StatePath != "" {
		return New(x.Snapshot(), opts)
	}
	o := &Org{opts: withDefaults(opts)}
	o.reset(x.Snapshot(), true)
	return o, nil
}

// Open loads the simulated organization saved at opts.StatePath. Temporary
// files left by an interrupted save are removed. A missing file is an
// error matching os.ErrNotExist; a corrupt one is reported with its path
// and what is wrong (an org.SnapshotError), and is left untouched.
func Open(opts Options) (*Org, error) {
	if opts.StatePath == "" {
		return nil, errors.New("opening the simulated organization: no state file given")
	}
	return openOrCreate(opts, nil)
}

// OpenOrCreate opens the state at opts.StatePath, or, when there is none,
// creates it from initial() (called only then).
func OpenOrCreate(opts Options, initial func() (*org.Snapshot, error)) (*Org, error) {
	if opts.StatePath == "" {
		return nil, errors.New("opening the simulated organization: no state file given")
	}
	return openOrCreate(opts, initial)
}

// openOrCreate reads the state file under its lock, so that no other
// process is half-way through a save (whose temporary file would look
// stale) and two processes never both create it. A nil initial makes a
// missing file an error.
func openOrCreate(opts Options, initial func() (*org.Snapshot, error)) (*Org, error) {
	if dir := dirOf(opts.StatePath); dir != "" && initial != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the simulated organization: %w", err)
		}
	}
	lock, err := lockState(context.Background(), opts.StatePath, lockTimeoutOf(opts))
	if err != nil {
		// A missing directory matches os.ErrNotExist, as a missing file does.
		return nil, fmt.Errorf("opening the simulated organization: %w", err)
	}
	defer lock.Close()
	if _, err := atomicfile.RemoveStale(opts.StatePath); err != nil {
		return nil, err
	}
	s, fi, err := readState(opts.StatePath)
	switch {
	case err == nil:
		o := &Org{opts: withDefaults(opts), seen: fi}
		o.reset(s, true) // s was just read: nobody else has it
		return o, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("opening the simulated organization: %w", err)
	case initial == nil:
		return nil, fmt.Errorf("opening the simulated organization: %w", err)
	}
	s, err = initial()
	if err != nil {
		return nil, fmt.Errorf("creating the simulated organization: %w", err)
	}
	if err := org.Validate(s); err != nil {
		return nil, fmt.Errorf("creating the simulated organization: %w", err)
	}
	o := newOrg(s, opts)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.save(); err != nil {
		return nil, err
	}
	return o, nil
}

func dirOf(p string) string {
	i := strings.LastIndexAny(p, `/\`)
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// newOrg returns an organization holding a deep copy of s.
func newOrg(s *org.Snapshot, opts Options) *Org {
	o := &Org{opts: withDefaults(opts)}
	o.reset(s, false)
	return o
}

func withDefaults(opts Options) Options {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IDs == nil {
		opts.IDs = cryptoIDs{}
	}
	return opts
}

// reset replaces the whole organization with s (which must be valid),
// copying it: its tag maps too unless shareTags (the organization only
// ever replaces a tag map, never changes one).
func (o *Org) reset(s *org.Snapshot, shareTags bool) {
	tags := cloneTags
	if shareTags {
		tags = func(m map[string]string) map[string]string { return m }
	}
	o.organization = s.Organization
	o.root = s.Root
	o.ous = make(map[string]*org.OU, len(s.OUs))
	o.accounts = make(map[string]*org.Account, len(s.Accounts))
	o.policies = make(map[string]*org.Policy, len(s.Policies))
	o.children = make(map[string]map[string]bool, len(s.OUs)+1)
	o.attached = make(map[string]map[string]bool, len(s.OUs)+len(s.Accounts)+1)
	o.targets = make(map[string]map[string]bool, len(s.Policies))
	o.root.PolicyTypes = slices.Clone(s.Root.PolicyTypes)
	o.root.Tags = tags(s.Root.Tags)
	// One copy of each list; the maps point into it.
	ous := slices.Clone(s.OUs)
	for i := range ous {
		u := &ous[i]
		u.Tags = tags(u.Tags)
		o.ous[u.ID] = u
		addTo(o.children, u.ParentID, u.ID)
	}
	accounts := slices.Clone(s.Accounts)
	for i := range accounts {
		a := &accounts[i]
		a.Tags = tags(a.Tags)
		o.accounts[a.ID] = a
		addTo(o.children, a.ParentID, a.ID)
	}
	policies := slices.Clone(s.Policies)
	for i := range policies {
		p := &policies[i]
		p.Tags = tags(p.Tags)
		o.policies[p.ID] = p
	}
	// Each policy's set of targets is made at its final size: the default
	// policies are attached to every node, and growing a set of 10,000
	// targets one by one rehashes it again and again.
	perPolicy := make(map[string]int, len(s.Policies))
	for _, at := range s.Attachments {
		perPolicy[at.PolicyID]++
	}
	for pid, n := range perPolicy {
		o.targets[pid] = make(map[string]bool, n)
	}
	for _, at := range s.Attachments {
		addTo(o.attached, at.TargetID, at.PolicyID)
		o.targets[at.PolicyID][at.TargetID] = true
	}
	// The service lists, deep (cloning the whole snapshot would copy every
	// account and policy a second time).
	c := (&org.Snapshot{
		ServiceAccess: s.ServiceAccess, DelegatedAdministrators: s.DelegatedAdministrators, ResourcePolicy: s.ResourcePolicy,
		CreateAccountStatuses: s.CreateAccountStatuses, Handshakes: s.Handshakes,
	}).Clone()
	o.serviceAccess = c.ServiceAccess
	o.delegated = c.DelegatedAdministrators
	o.resourcePolicy = c.ResourcePolicy
	o.createStatuses = c.CreateAccountStatuses
	o.handshakes = c.Handshakes
}

func addTo(m map[string]map[string]bool, k, v string) {
	s := m[k]
	if s == nil {
		s = make(map[string]bool)
		m[k] = s
	}
	s[v] = true
}

func removeFrom(m map[string]map[string]bool, k, v string) {
	if s := m[k]; s != nil {
		delete(s, v)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

// Snapshot returns the whole organization.
func (o *Org) Snapshot(ctx context.Context) (*org.Snapshot, error) {
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	s := o.snapshotLocked(false)
	o.mu.RUnlock()
	s.Fingerprint = org.ComputeFingerprint(s)
	return s, nil
}

// SnapshotShared is Snapshot without copying the tag maps and without
// the fingerprint (empty; org.ComputeFingerprint makes it when needed):
// the snapshot's tag maps are the organization's own. The organization
// never changes a tag map in place (a tag write replaces the map); the
// caller must not change them either. A plan reads the states of its
// simulated copy this way.
func (o *Org) SnapshotShared(ctx context.Context) (*org.Snapshot, error) {
	if err := o.lockRead(ctx); err != nil {
		return nil, err
	}
	s := o.snapshotLocked(true)
	o.mu.RUnlock()
	return s, nil
}

// snapshotLocked copies the organization into a snapshot, its tag maps
// too unless shareTags. o.mu held.
func (o *Org) snapshotLocked(shareTags bool) *org.Snapshot {
	tags := cloneTags
	if shareTags {
		tags = func(m map[string]string) map[string]string { return m }
	}
	s := &org.Snapshot{
		FormatVersion: org.FormatVersion,
		TakenAt:       o.opts.Now().UTC(),
		Source:        "sim",
		Organization:  o.organization,
		Root:          o.root,
		OUs:           make([]org.OU, 0, len(o.ous)),
		Accounts:      make([]org.Account, 0, len(o.accounts)),
		Policies:      make([]org.Policy, 0, len(o.policies)),
	}
	if o.opts.StatePath != "" {
		s.Source = "sim:" + o.opts.StatePath
	}
	s.Root.PolicyTypes = slices.Clone(o.root.PolicyTypes)
	s.Root.Tags = tags(o.root.Tags)
	// The lists are made in their canonical order (by ID; attachments by
	// policy, then target), which Normalize then only checks: sorting IDs
	// is much cheaper than sorting the structs in map order.
	for _, id := range slices.Sorted(maps.Keys(o.ous)) {
		c := *o.ous[id]
		c.Tags = tags(c.Tags)
		s.OUs = append(s.OUs, c)
	}
	for _, id := range slices.Sorted(maps.Keys(o.accounts)) {
		c := *o.accounts[id]
		c.Tags = tags(c.Tags)
		s.Accounts = append(s.Accounts, c)
	}
	for _, id := range slices.Sorted(maps.Keys(o.policies)) {
		c := *o.policies[id]
		c.Tags = tags(c.Tags)
		s.Policies = append(s.Policies, c)
	}
	n := 0
	for _, ts := range o.targets {
		n += len(ts)
	}
	s.Attachments = make([]org.Attachment, 0, n)
	var ids []string
	for _, p := range slices.Sorted(maps.Keys(o.targets)) {
		ids = ids[:0]
		for t := range o.targets[p] {
			ids = append(ids, t)
		}
		slices.Sort(ids)
		for _, t := range ids {
			s.Attachments = append(s.Attachments, org.Attachment{PolicyID: p, TargetID: t})
		}
	}
	c := (&org.Snapshot{
		ServiceAccess: o.serviceAccess, DelegatedAdministrators: o.delegated, ResourcePolicy: o.resourcePolicy,
		CreateAccountStatuses: o.createStatuses, Handshakes: o.handshakes,
	}).Clone()
	s.ServiceAccess, s.DelegatedAdministrators, s.ResourcePolicy = c.ServiceAccess, c.DelegatedAdministrators, c.ResourcePolicy
	s.CreateAccountStatuses, s.Handshakes = c.CreateAccountStatuses, c.Handshakes
	s.Normalize()
	return s
}

func cloneTags(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// save writes the state file, if there is one. Called with o.mu held
// for writing and, from changes, the state file's lock (lockWrite).
func (o *Org) save() error {
	if o.opts.StatePath == "" {
		return nil
	}
	s := o.snapshotLocked(true) // encoded at once, then dropped
	data, err := org.MarshalSnapshotCompact(s)
	if err == nil {
		err = atomicfile.Write(o.opts.StatePath, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("saving the simulated organization: %w", err)
	}
	// Remember the version written, so that it is not read back as a
	// change made by another process. (The lock is held: nobody else
	// has replaced it since.)
	if fi, err := os.Stat(o.opts.StatePath); err == nil {
		o.seen = fi
	}
	return nil
}

// commit persists a change made under o.mu; if saving fails, undo reverts
// the in-memory change so memory and file agree, and the error is
// returned as a ServiceException.
func (o *Org) commit(undo func()) error {
	if err := o.save(); err != nil {
		undo()
		return &org.APIError{Code: org.CodeService, Message: err.Error()}
	}
	return nil
}

// ---- IDs -----------------------------------------------------------------

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

func (o *Org) randomString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idChars[o.opts.IDs.Uint64()%uint64(len(idChars))]
	}
	return string(b)
}

func (o *Org) newOUID() string {
	suffix := strings.TrimPrefix(o.root.ID, "r-")
	for {
		id := "ou-" + suffix + "-" + o.randomString(8)
		if !o.exists(id) {
			return id
		}
	}
}

func (o *Org) newPolicyID() string {
	for {
		id := "p-" + o.randomString(8)
		if o.policies[id] == nil {
			return id
		}
	}
}

func (o *Org) newAccountID() string {
	for {
		id := fmt.Sprintf("%012d", o.opts.IDs.Uint64()%1_000_000_000_000)
		if o.accounts[id] == nil && id[0] != '0' {
			return id
		}
	}
}

func (o *Org) exists(id string) bool {
	return id == o.root.ID || o.ous[id] != nil || o.accounts[id] != nil
}

// ---- lookups used by operations (o.mu held) ------------------------------

func (o *Org) isParent(id string) bool { return id == o.root.ID || o.ous[id] != nil }

// depth returns the number of OUs from the root down to id (an OU or the
// root), id included.
func (o *Org) depth(id string) int {
	d := 0
	for id != o.root.ID {
		u := o.ous[id]
		if u == nil {
			break
		}
		d++
		id = u.ParentID
	}
	return d
}

func (o *Org) countAttached(targetID string, t org.PolicyType) int {
	n := 0
	for pid := range o.attached[targetID] {
		if p := o.policies[pid]; p != nil && p.Type == t {
			n++
		}
	}
	return n
}

func notFound(code, format string, args ...any) error {
	return org.NewAPIError(code, fmt.Sprintf(format, args...))
}

func knownType(t org.PolicyType) bool {
	switch t {
	case org.ServiceControlPolicy, org.ResourceControlPolicy,
		"TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY":
		return true
	}
	return false
}

// attachDefaults attaches the AWS-managed default policies of every
// enabled type to a new target.
func (o *Org) attachDefaults(targetID string) {
	for _, st := range o.root.PolicyTypes {
		if st.Status != org.PolicyTypeEnabled {
			continue
		}
		if def, ok := org.DefaultPolicy(st.Type); ok {
			o.ensurePolicy(def)
			addTo(o.attached, targetID, def.ID)
			addTo(o.targets, def.ID, targetID)
		}
	}
}

func (o *Org) ensurePolicy(p org.Policy) {
	if o.policies[p.ID] == nil {
		c := p
		o.policies[p.ID] = &c
	}
}

func (o *Org) detachAll(targetID string) {
	for pid := range o.attached[targetID] {
		removeFrom(o.targets, pid, targetID)
	}
	delete(o.attached, targetID)
}

func (o *Org) restoreAttachments(targetID string, pids map[string]bool) {
	for pid := range pids {
		addTo(o.attached, targetID, pid)
		addTo(o.targets, pid, targetID)
	}
}
