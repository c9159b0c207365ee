package impact

import (
	"fmt"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/org"
)

// NewAnalyzer returns an Analyzer over the action catalog c.
func NewAnalyzer(c *catalog.Catalog, opts Options) (*Analyzer, error) {
	if c == nil || c.Len() == 0 {
		return nil, fmt.Errorf("creating a blast-radius analyzer: empty action catalog: %w", ErrInvalidInput)
	}
	return newAnalyzer(universeOf(c), readPolicy, opts)
}

// Compute returns the blast radius of going from snapshot before to snapshot
// after, over every action of catalog c. It is NewAnalyzer followed by
// Analyzer.Compute.
func Compute(before, after *org.Snapshot, c *catalog.Catalog, opts Options) (*Impact, error) {
	a, err := NewAnalyzer(c, opts)
	if err != nil {
		return nil, err
	}
	return a.Compute(before, after)
}

// Dimension selects which organization policies a class describes.
type Dimension uint8

// The dimensions.
const (
	// SCPDimension: what SCPs leave to the principals of the account
	// (ordinary principals: service-linked roles are exempt from SCPs).
	SCPDimension Dimension = iota + 1
	// RCPDimension: what RCPs leave on the resources of the account, for
	// any caller. Actions of services that do not support RCPs are never
	// restricted by RCPs and count as allowed.
	RCPDimension
	// CombinedDimension: a principal of the account acting on a resource
	// of the account: denied if either denies, allowed if both allow.
	CombinedDimension
)

func (d Dimension) String() string {
	switch d {
	case SCPDimension:
		return "scp"
	case RCPDimension:
		return "rcp"
	case CombinedDimension:
		return "combined"
	}
	return fmt.Sprintf("Dimension(%d)", int(d))
}

// Classes partitions the catalog's actions into the three classes. The sets
// are independent copies the caller may modify.
type Classes struct {
	Allowed, Conditional, Denied catalog.Set
}

// Class returns the class of action index i.
func (c Classes) Class(i int) Class {
	switch {
	case c.Allowed.Has(i):
		return Allowed
	case c.Conditional.Has(i):
		return Conditional
	}
	return Denied
}

// AccountClasses are the classes of every action for one account in one
// snapshot.
type AccountClasses struct {
	ID string
	// Present is false when the account is not in the snapshot (outside the
	// organization: nothing restricts it, every action is allowed).
	Present bool
	// Exempt is true for the management account, which SCPs and RCPs never
	// restrict: every action is allowed.
	Exempt             bool
	SCP, RCP, Combined Classes
}

// Get returns the classes of one dimension.
func (ac AccountClasses) Get(d Dimension) Classes {
	switch d {
	case SCPDimension:
		return ac.SCP
	case RCPDimension:
		return ac.RCP
	}
	return ac.Combined
}

// Account returns the classes of account id before and after the change.
// ok is false when the account is in neither snapshot.
func (im *Impact) Account(id string) (before, after AccountClasses, ok bool) {
	a := im.an
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.accountClasses(im.before, id)
	f := a.accountClasses(im.after, id)
	return b, f, b.Present || f.Present
}

func (a *Analyzer) accountClasses(v *view, id string) AccountClasses {
	s, r, ok := v.classesOf(id)
	ac := AccountClasses{ID: id, Present: ok, Exempt: ok && id == v.mgmt}
	ac.SCP = a.classes(s)
	ac.RCP = a.classes(r)
	ac.Combined = a.classes(a.eng.combine(s, r))
	return ac
}

func (a *Analyzer) classes(id int32) Classes {
	c := &a.eng.classes[id]
	n := a.u.n
	cond := newBitset(n)
	andNotInto(cond, c.possible, c.allowed)
	return Classes{
		Allowed:     toSet(c.allowed, n),
		Conditional: toSet(cond, n),
		Denied:      toSet(complementIn(c.possible, a.u.all), n),
	}
}
