package impact

import (
	"encoding/binary"
	"slices"
)

// statement is what the classification needs of one policy statement.
type statement struct {
	deny        bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
	// conditional is true when the statement applies only under conditions
	// or to some principals: it has a Condition, or a Principal other than "*".
	conditional bool
}

// unconditional reports whether the statement applies to every request for
// its actions: no Condition, Resource exactly "*" and no NotResource.
func (s statement) unconditional() bool {
	return !s.conditional && !s.notResource && slices.Contains(s.resources, "*")
}

// effect is the contribution of one policy (or of all policies of one level)
// to the classification: the actions its unconditional and conditional Deny
// and Allow statements cover.
type effect struct {
	uDeny, cDeny, uAllow, cAllow bitset
}

// class is a classification of every catalog action: allowed, possible
// (allowed or conditional). Denied is the complement of possible; conditional
// is possible &^ allowed. Classes are interned: equal contents, equal ids.
type class struct {
	allowed, possible bitset
}

// topID is the class with every action allowed: no restriction at all.
const topID int32 = 0

// dimension tells how a level's policies are read.
type dimension uint8

const (
	dimSCP dimension = iota
	dimRCP
)

// engine holds the memo tables shared by every classification an analyzer
// makes: actions per pattern, effect per policy content, class per level,
// class per (parent class, level class), and interned classes.
type engine struct {
	u *universe

	effects    map[effectKey]int32 // policy content -> index in effectList
	effectList []effect
	levels     map[string]int32 // dimension + sorted effect indices -> class id
	classes    []class
	byHash     map[uint64][]int32
	combined   map[uint64]int32 // parent class id << 32 | level class id -> class id
	keyBuf     []byte
	scratchA   bitset
	scratchP   bitset
}

type effectKey struct {
	dim     dimension
	content string
}

func newEngine(u *universe) *engine {
	e := &engine{
		u:        u,
		effects:  map[effectKey]int32{},
		levels:   map[string]int32{},
		byHash:   map[uint64][]int32{},
		combined: map[uint64]int32{},
		scratchA: newBitset(u.n),
		scratchP: newBitset(u.n),
	}
	e.intern(u.all, u.all, false) // topID
	return e
}

// intern returns the id of the class (allowed, possible), adding it if new.
// When the class is new it keeps the slices if owned, else copies them.
func (e *engine) intern(allowed, possible bitset, owned bool) int32 {
	h := possible.hash(allowed.hash(0))
	for _, id := range e.byHash[h] {
		c := e.classes[id]
		if c.allowed.equal(allowed) && c.possible.equal(possible) {
			return id
		}
	}
	id := int32(len(e.classes))
	if !owned {
		allowed, possible = allowed.clone(), possible.clone()
	}
	e.classes = append(e.classes, class{allowed: allowed, possible: possible})
	e.byHash[h] = append(e.byHash[h], id)
	return id
}

// effectOf returns the index of the effect of a policy's statements, reading
// them (through read) only the first time this content is seen.
func (e *engine) effectOf(dim dimension, content string, read func() ([]statement, error)) (int32, error) {
	k := effectKey{dim, content}
	if id, ok := e.effects[k]; ok {
		return id, nil
	}
	stmts, err := read()
	if err != nil {
		return 0, err
	}
	n := e.u.n
	eff := effect{uDeny: newBitset(n), cDeny: newBitset(n), uAllow: newBitset(n), cAllow: newBitset(n)}
	for _, s := range stmts {
		acts := e.u.actionsOf(s.actions, s.notAction)
		var dst bitset
		switch {
		case s.deny && s.unconditional():
			dst = eff.uDeny
		case s.deny:
			dst = eff.cDeny
		case s.unconditional():
			dst = eff.uAllow
		default:
			dst = eff.cAllow
		}
		dst.orWith(acts)
	}
	id := int32(len(e.effectList))
	e.effectList = append(e.effectList, eff)
	e.effects[k] = id
	return id, nil
}

// level returns the class id of one level (the policies attached directly
// to one node), given the effect indices of those policies.
//
// SCP level: denied where an unconditional Deny covers the action; allowed
// where an unconditional Allow covers it and no Deny does; conditional where
// some Allow covers it otherwise; implicitly denied where no Allow does.
//
// RCP level: RCPFullAWSAccess is implied, so everything is allowed except
// what customer Deny statements cover among the RCP-supported actions:
// unconditionally -> denied, conditionally -> conditional. Allow statements
// add nothing (RCPFullAWSAccess already allows every action).
func (e *engine) level(dim dimension, effs []int32) int32 {
	slices.Sort(effs)
	effs = slices.Compact(effs)
	buf := append(e.keyBuf[:0], byte(dim))
	for _, id := range effs {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(id))
	}
	e.keyBuf = buf
	if id, ok := e.levels[string(buf)]; ok {
		return id
	}
	n := e.u.n
	uDeny, cDeny := newBitset(n), newBitset(n)
	uAllow, cAllow := newBitset(n), newBitset(n)
	for _, id := range effs {
		eff := &e.effectList[id]
		uDeny.orWith(eff.uDeny)
		cDeny.orWith(eff.cDeny)
		uAllow.orWith(eff.uAllow)
		cAllow.orWith(eff.cAllow)
	}
	allowed, possible := newBitset(n), newBitset(n)
	switch dim {
	case dimSCP:
		andNotInto(allowed, uAllow, cDeny)
		allowed.andNotWith(uDeny)
		orInto(possible, uAllow, cAllow)
		possible.andNotWith(uDeny)
	case dimRCP:
		andInto(uDeny, uDeny, e.u.rcp)
		andInto(cDeny, cDeny, e.u.rcp)
		andNotInto(possible, e.u.all, uDeny)
		andNotInto(allowed, possible, cDeny)
	}
	if e.u.free != nil {
		// Actions that need no permission stay allowed whatever the level
		// says (sts:GetCallerIdentity).
		allowed.orWith(e.u.free)
		possible.orWith(e.u.free)
	}
	id := e.intern(allowed, possible, true)
	e.levels[string(buf)] = id
	return id
}

// combine returns the class of a node whose parent has class parent and
// whose own level has class lvl: allowed only where both allow, denied where
// either denies, conditional otherwise.
func (e *engine) combine(parent, lvl int32) int32 {
	if lvl == topID {
		return parent
	}
	if parent == topID {
		return lvl
	}
	k := uint64(uint32(parent))<<32 | uint64(uint32(lvl))
	if id, ok := e.combined[k]; ok {
		return id
	}
	p, l := &e.classes[parent], &e.classes[lvl]
	andInto(e.scratchA, p.allowed, l.allowed)
	andInto(e.scratchP, p.possible, l.possible)
	id := e.intern(e.scratchA, e.scratchP, false)
	e.combined[k] = id
	return id
}
