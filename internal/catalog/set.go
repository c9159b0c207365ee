package catalog

import (
	"iter"
	"math/bits"
)

// Set is a set of actions: a bit set over a catalog's dense action indices
// 0..Len()-1. Make one with [Catalog.NewSet], [Catalog.FullSet] or [NewSet].
//
// Methods with a pointer receiver change the set in place and never
// allocate; Union, Intersect, Difference, Complement and Clone return a new set.
// Two sets combined in one operation must have the same Len (the same
// catalog); mixing sizes is a programming error and panics.
//
// A Set value shares its storage when copied: use Clone for an independent copy.
// The zero Set is an empty set over an empty universe.
type Set struct {
	words []uint64
	n     int
}

// NewSet returns an empty set over the universe 0..n-1.
func NewSet(n int) Set {
	if n < 0 {
		panic("catalog: negative set size")
	}
	return Set{words: make([]uint64, (n+63)/64), n: n}
}

// Len returns the size of the set's universe (the catalog's action count),
// not the number of members; see Count.
func (s Set) Len() int { return s.n }

// Count returns the number of members.
func (s Set) Count() int {
	c := 0
	for _, w := range s.words {
		c += bits.OnesCount64(w)
	}
	return c
}

// IsEmpty reports whether the set has no members.
func (s Set) IsEmpty() bool {
	for _, w := range s.words {
		if w != 0 {
			return false
		}
	}
	return true
}

// IsFull reports whether every index of the universe is a member.
func (s Set) IsFull() bool { return s.Count() == s.n }

// Has reports whether i is a member. Indices outside the universe are never members.
func (s Set) Has(i int) bool {
	if i < 0 || i >= s.n {
		return false
	}
	return s.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// Add adds i to the set. It panics if i is outside the universe.
func (s *Set) Add(i int) {
	s.check(i)
	s.words[i>>6] |= 1 << (uint(i) & 63)
}

// Remove removes i from the set. It panics if i is outside the universe.
func (s *Set) Remove(i int) {
	s.check(i)
	s.words[i>>6] &^= 1 << (uint(i) & 63)
}

func (s *Set) check(i int) {
	if i < 0 || i >= s.n {
		panic("catalog: set index out of range")
	}
}

// AddRange adds the indices first..end-1. It panics unless 0 <= first <= end <= Len.
func (s *Set) AddRange(first, end int) {
	if first < 0 || first > end || end > s.n {
		panic("catalog: set range out of range")
	}
	if first == end {
		return
	}
	fw, lw := first>>6, (end-1)>>6
	lo := ^uint64(0) << (uint(first) & 63)
	hi := ^uint64(0) >> (63 - (uint(end-1) & 63))
	if fw == lw {
		s.words[fw] |= lo & hi
		return
	}
	s.words[fw] |= lo
	for w := fw + 1; w < lw; w++ {
		s.words[w] = ^uint64(0)
	}
	s.words[lw] |= hi
}

// HasRange reports whether every index first..end-1 is a member (true for an
// empty range). It panics unless 0 <= first <= end <= Len.
func (s Set) HasRange(first, end int) bool {
	if first < 0 || first > end || end > s.n {
		panic("catalog: set range out of range")
	}
	if first == end {
		return true
	}
	fw, lw := first>>6, (end-1)>>6
	lo := ^uint64(0) << (uint(first) & 63)
	hi := ^uint64(0) >> (63 - (uint(end-1) & 63))
	if fw == lw {
		return s.words[fw]&(lo&hi) == lo&hi
	}
	if s.words[fw]&lo != lo || s.words[lw]&hi != hi {
		return false
	}
	for w := fw + 1; w < lw; w++ {
		if s.words[w] != ^uint64(0) {
			return false
		}
	}
	return true
}

// Clear removes every member.
func (s *Set) Clear() { clear(s.words) }

// Fill makes every index of the universe a member.
func (s *Set) Fill() {
	for i := range s.words {
		s.words[i] = ^uint64(0)
	}
	s.trim()
}

// trim clears the bits beyond the universe in the last word.
func (s *Set) trim() {
	if r := uint(s.n) & 63; r != 0 {
		s.words[len(s.words)-1] &= (1 << r) - 1
	}
}

func (s Set) same(o Set) {
	if s.n != o.n {
		panic("catalog: combining sets of different sizes")
	}
}

// Clone returns an independent copy of the set.
func (s Set) Clone() Set {
	c := Set{words: make([]uint64, len(s.words)), n: s.n}
	copy(c.words, s.words)
	return c
}

// CopyFrom makes s equal to o, in place.
func (s *Set) CopyFrom(o Set) {
	s.same(o)
	copy(s.words, o.words)
}

// UnionWith adds every member of o to s, in place.
func (s *Set) UnionWith(o Set) {
	s.same(o)
	for i, w := range o.words {
		s.words[i] |= w
	}
}

// IntersectWith removes from s every index not in o, in place.
func (s *Set) IntersectWith(o Set) {
	s.same(o)
	for i, w := range o.words {
		s.words[i] &= w
	}
}

// DifferenceWith removes from s every member of o, in place.
func (s *Set) DifferenceWith(o Set) {
	s.same(o)
	for i, w := range o.words {
		s.words[i] &^= w
	}
}

// Invert replaces s by its complement within the universe, in place.
func (s *Set) Invert() {
	for i, w := range s.words {
		s.words[i] = ^w
	}
	s.trim()
}

// Union returns a new set with the members of s and of o.
func (s Set) Union(o Set) Set { c := s.Clone(); c.UnionWith(o); return c }

// Intersect returns a new set with the members of both s and o.
func (s Set) Intersect(o Set) Set { c := s.Clone(); c.IntersectWith(o); return c }

// Difference returns a new set with the members of s that are not in o.
func (s Set) Difference(o Set) Set { c := s.Clone(); c.DifferenceWith(o); return c }

// Complement returns a new set with the indices of the universe not in s.
func (s Set) Complement() Set { c := s.Clone(); c.Invert(); return c }

// Equal reports whether s and o have the same universe and the same members.
func (s Set) Equal(o Set) bool {
	if s.n != o.n {
		return false
	}
	for i, w := range s.words {
		if o.words[i] != w {
			return false
		}
	}
	return true
}

// SubsetOf reports whether every member of s is in o.
func (s Set) SubsetOf(o Set) bool {
	s.same(o)
	for i, w := range s.words {
		if w&^o.words[i] != 0 {
			return false
		}
	}
	return true
}

// Intersects reports whether s and o have a member in common.
func (s Set) Intersects(o Set) bool {
	s.same(o)
	for i, w := range s.words {
		if w&o.words[i] != 0 {
			return true
		}
	}
	return false
}

// IntersectionCount returns the number of members in both s and o, without
// building the intersection.
func (s Set) IntersectionCount(o Set) int {
	s.same(o)
	c := 0
	for i, w := range s.words {
		c += bits.OnesCount64(w & o.words[i])
	}
	return c
}

// DifferenceCount returns the number of members of s not in o, without
// building the difference.
func (s Set) DifferenceCount(o Set) int {
	s.same(o)
	c := 0
	for i, w := range s.words {
		c += bits.OnesCount64(w &^ o.words[i])
	}
	return c
}

// ForEach calls fn for every member in increasing order.
func (s Set) ForEach(fn func(i int)) {
	for wi, w := range s.words {
		for w != 0 {
			fn(wi<<6 + bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
}

// All returns an iterator over the members in increasing order.
func (s Set) All() iter.Seq[int] {
	return func(yield func(int) bool) {
		for wi, w := range s.words {
			for w != 0 {
				if !yield(wi<<6 + bits.TrailingZeros64(w)) {
					return
				}
				w &= w - 1
			}
		}
	}
}
