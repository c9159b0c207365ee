package impact

import "testing"

func TestAnyInRange(t *testing.T) {
	const n = 300
	tests := []struct {
		name   string
		member int
		lo, hi int
		want   bool
	}{
		{"a member inside one word is found", 10, 5, 20, true},
		{"a member at the low end is found", 5, 5, 20, true},
		{"a member just past the high end is not", 20, 5, 20, false},
		{"a member just before the low end is not", 4, 5, 20, false},
		{"a member in a middle word of a long range is found", 150, 60, 250, true},
		{"a member at the last index of a word boundary range is found", 127, 64, 128, true},
		{"a member at the first index past a word boundary range is not", 128, 64, 128, false},
		{"an empty range has no member", 10, 10, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newBitset(n)
			s.add(tt.member)
			if got := anyInRange(s, tt.lo, tt.hi); got != tt.want {
				t.Errorf("anyInRange({%d}, %d, %d) = %v, want %v", tt.member, tt.lo, tt.hi, got, tt.want)
			}
		})
	}
}

func TestAnyInRangeAgreesWithALoop(t *testing.T) {
	const n = 200
	for _, members := range [][]int{{0}, {63}, {64}, {127, 128}, {199}, {3, 70, 140}} {
		s := newBitset(n)
		for _, m := range members {
			s.add(m)
		}
		for lo := 0; lo <= n; lo++ {
			for hi := lo; hi <= n; hi++ {
				want := false
				for i := lo; i < hi; i++ {
					want = want || s.has(i)
				}
				if got := anyInRange(s, lo, hi); got != want {
					t.Fatalf("anyInRange(%v, %d, %d) = %v, want %v", members, lo, hi, got, want)
				}
			}
		}
	}
}
