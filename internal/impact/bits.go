package impact

import "math/bits"

// bitset is a fixed-length set of action indices, one bit per action of the
// catalog. Every bitset of one analyzer has the same number of words; the
// bits past the catalog's last action are always zero.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

// fullBitset returns the set of all n actions.
func fullBitset(n int) bitset {
	s := newBitset(n)
	for i := range s {
		s[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		s[len(s)-1] = (uint64(1) << r) - 1
	}
	return s
}

func (s bitset) add(i int)           { s[i>>6] |= 1 << (uint(i) & 63) }
func (s bitset) has(i int) bool      { return s[i>>6]&(1<<(uint(i)&63)) != 0 }
func (s bitset) clone() bitset       { return append(bitset(nil), s...) }
func (s bitset) orWith(t bitset)     { orInto(s, s, t) }
func (s bitset) andNotWith(t bitset) { andNotInto(s, s, t) }

func orInto(dst, a, b bitset) {
	for i := range dst {
		dst[i] = a[i] | b[i]
	}
}

func andInto(dst, a, b bitset) {
	for i := range dst {
		dst[i] = a[i] & b[i]
	}
}

func andNotInto(dst, a, b bitset) {
	for i := range dst {
		dst[i] = a[i] &^ b[i]
	}
}

// complementIn returns all &^ s.
func complementIn(s, all bitset) bitset {
	out := make(bitset, len(s))
	andNotInto(out, all, s)
	return out
}

func (s bitset) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

func (s bitset) empty() bool {
	for _, w := range s {
		if w != 0 {
			return false
		}
	}
	return true
}

func (s bitset) equal(t bitset) bool {
	if len(s) != len(t) {
		return false
	}
	for i := range s {
		if s[i] != t[i] {
			return false
		}
	}
	return true
}

// each calls f for every index in s, in increasing order.
func (s bitset) each(f func(i int)) {
	for wi, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			f(wi*64 + b)
			w &= w - 1
		}
	}
}

// hash mixes the words of s into 64 bits (for interning, not security).
func (s bitset) hash(seed uint64) uint64 {
	h := seed ^ 0x9e3779b97f4a7c15
	for _, w := range s {
		h ^= w
		h *= 0xff51afd7ed558ccd
		h ^= h >> 32
	}
	return h
}

func popcount(w uint64) int      { return bits.OnesCount64(w) }
func trailingZeros(w uint64) int { return bits.TrailingZeros64(w) }
