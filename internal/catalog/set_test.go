package catalog

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func setOf(n int, members ...int) Set {
	s := NewSet(n)
	for _, m := range members {
		s.Add(m)
	}
	return s
}

func members(s Set) []int {
	out := []int{}
	s.ForEach(func(i int) { out = append(out, i) })
	return out
}

func TestSetAlgebra(t *testing.T) {
	// 130 spans three words, the last one partly used.
	const n = 130
	a := setOf(n, 0, 1, 63, 64, 100, 129)
	b := setOf(n, 1, 2, 64, 65, 129)
	for _, tc := range []struct {
		name string
		got  Set
		want []int
	}{
		{"union has the members of either", a.Union(b), []int{0, 1, 2, 63, 64, 65, 100, 129}},
		{"intersection has the members of both", a.Intersect(b), []int{1, 64, 129}},
		{"difference has the members of the first only", a.Difference(b), []int{0, 63, 100}},
		{"difference the other way", b.Difference(a), []int{2, 65}},
		{"complement stays inside the universe", setOf(n, 0, 5).Complement().Difference(setOf(n, seq(6, 130)...)), []int{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(members(tc.got), tc.want); diff != "" {
				t.Errorf("members (-got +want):\n%s", diff)
			}
			if tc.got.Count() != len(tc.want) {
				t.Errorf("Count() = %d, want %d", tc.got.Count(), len(tc.want))
			}
		})
	}
	t.Run("the operands are left unchanged", func(t *testing.T) {
		if diff := cmp.Diff(members(a), []int{0, 1, 63, 64, 100, 129}); diff != "" {
			t.Errorf("a changed (-got +want):\n%s", diff)
		}
	})
	t.Run("in-place variants agree with the allocating ones", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			inPlace func(s *Set, o Set)
			alloc   func(s, o Set) Set
		}{
			{"union", (*Set).UnionWith, Set.Union},
			{"intersection", (*Set).IntersectWith, Set.Intersect},
			{"difference", (*Set).DifferenceWith, Set.Difference},
		} {
			s := a.Clone()
			tc.inPlace(&s, b)
			if !s.Equal(tc.alloc(a, b)) {
				t.Errorf("%s in place = %v, want %v", tc.name, members(s), members(tc.alloc(a, b)))
			}
		}
		s := a.Clone()
		s.Invert()
		if !s.Equal(a.Complement()) || s.Count() != n-a.Count() {
			t.Errorf("Invert() = %d members, want %d", s.Count(), n-a.Count())
		}
		s.CopyFrom(b)
		if !s.Equal(b) {
			t.Errorf("CopyFrom(b) = %v, want %v", members(s), members(b))
		}
	})
	t.Run("predicates", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			got, want bool
		}{
			{"a equals its clone", a.Equal(a.Clone()), true},
			{"a does not equal b", a.Equal(b), false},
			{"sets over different universes are not equal", NewSet(5).Equal(NewSet(6)), false},
			{"the intersection is a subset of a", a.Intersect(b).SubsetOf(a), true},
			{"a is not a subset of b", a.SubsetOf(b), false},
			{"a and b intersect", a.Intersects(b), true},
			{"a and its complement do not intersect", a.Intersects(a.Complement()), false},
			{"an empty set is empty", NewSet(n).IsEmpty(), true},
			{"a is not empty", a.IsEmpty(), false},
			{"a filled set is full", func() bool { s := NewSet(n); s.Fill(); return s.IsFull() }(), true},
			{"an index beyond the universe is not a member", a.Has(n) || a.Has(-1) || a.Has(1000), false},
		} {
			if tc.got != tc.want {
				t.Errorf("%s: got %v, want %v", tc.name, tc.got, tc.want)
			}
		}
		if got := a.IntersectionCount(b); got != 3 {
			t.Errorf("IntersectionCount = %d, want 3", got)
		}
		if got := a.DifferenceCount(b); got != 3 {
			t.Errorf("DifferenceCount = %d, want 3", got)
		}
	})
	t.Run("Fill and Clear", func(t *testing.T) {
		s := a.Clone()
		s.Fill()
		if s.Count() != n {
			t.Errorf("Fill() gives %d members, want %d", s.Count(), n)
		}
		s.Clear()
		if !s.IsEmpty() {
			t.Errorf("Clear() leaves %d members", s.Count())
		}
		s.Add(7)
		s.Remove(7)
		s.Remove(8)
		if !s.IsEmpty() {
			t.Errorf("Add then Remove leaves %v", members(s))
		}
	})
	t.Run("All yields the members in order and stops early", func(t *testing.T) {
		var got []int
		for i := range a.All() {
			got = append(got, i)
			if len(got) == 4 {
				break
			}
		}
		if diff := cmp.Diff(got, []int{0, 1, 63, 64}); diff != "" {
			t.Errorf("All() (-got +want):\n%s", diff)
		}
	})
	t.Run("the zero set is empty", func(t *testing.T) {
		var z Set
		if z.Len() != 0 || z.Count() != 0 || !z.IsEmpty() || z.Has(0) {
			t.Errorf("zero Set: Len %d Count %d", z.Len(), z.Count())
		}
	})
}

func seq(first, end int) []int {
	var out []int
	for i := first; i < end; i++ {
		out = append(out, i)
	}
	return out
}

func TestSetAddRange(t *testing.T) {
	for _, tc := range []struct{ n, first, end int }{
		{130, 0, 0},
		{130, 0, 1},
		{130, 0, 64},
		{130, 63, 65},
		{130, 64, 128},
		{130, 1, 130},
		{130, 129, 130},
		{64, 0, 64},
		{200, 10, 190},
	} {
		t.Run("adds the indices of a range", func(t *testing.T) {
			s := NewSet(tc.n)
			s.AddRange(tc.first, tc.end)
			want := seq(tc.first, tc.end)
			if want == nil {
				want = []int{}
			}
			if diff := cmp.Diff(members(s), want); diff != "" {
				t.Errorf("AddRange(%d, %d) over %d (-got +want):\n%s", tc.first, tc.end, tc.n, diff)
			}
		})
	}
	t.Run("HasRange agrees with Has over every range", func(t *testing.T) {
		s := setOf(130, seq(3, 70)...)
		s.Add(100)
		for first := 0; first <= 130; first++ {
			for end := first; end <= 130; end++ {
				want := true
				for i := first; i < end; i++ {
					want = want && s.Has(i)
				}
				if got := s.HasRange(first, end); got != want {
					t.Fatalf("HasRange(%d, %d) = %v, want %v", first, end, got, want)
				}
			}
		}
	})
	t.Run("a range beyond the universe panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Errorf("AddRange(0, 11) over 10 did not panic")
			}
		}()
		s := NewSet(10)
		s.AddRange(0, 11)
	})
}

func TestSetsOfDifferentSizesPanic(t *testing.T) {
	for name, op := range map[string]func(){
		"UnionWith": func() { s := NewSet(3); s.UnionWith(NewSet(4)) },
		"SubsetOf":  func() { NewSet(3).SubsetOf(NewSet(4)) },
		"CopyFrom":  func() { s := NewSet(3); s.CopyFrom(NewSet(130)) },
		"Add":       func() { s := NewSet(3); s.Add(3) },
	} {
		t.Run(name+" panics", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			op()
		})
	}
}

// TestSetAgainstMap checks random operations against a map-based model.
func TestSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		n := 1 + r.IntN(300)
		a, b := NewSet(n), NewSet(n)
		ma, mb := map[int]bool{}, map[int]bool{}
		for range r.IntN(2 * n) {
			i := r.IntN(n)
			a.Add(i)
			ma[i] = true
			j := r.IntN(n)
			b.Add(j)
			mb[j] = true
		}
		model := func(keep func(x, y bool) bool) []int {
			out := []int{}
			for i := range n {
				if keep(ma[i], mb[i]) {
					out = append(out, i)
				}
			}
			return out
		}
		for _, tc := range []struct {
			name string
			got  Set
			want []int
		}{
			{"union", a.Union(b), model(func(x, y bool) bool { return x || y })},
			{"intersection", a.Intersect(b), model(func(x, y bool) bool { return x && y })},
			{"difference", a.Difference(b), model(func(x, y bool) bool { return x && !y })},
			{"complement", a.Complement(), model(func(x, _ bool) bool { return !x })},
		} {
			if diff := cmp.Diff(members(tc.got), tc.want); diff != "" {
				t.Fatalf("round %d (n=%d) %s (-got +want):\n%s", round, n, tc.name, diff)
			}
		}
		if got, want := slices.Collect(a.All()), members(a); !slices.Equal(got, want) {
			t.Fatalf("round %d: All() = %v, ForEach %v", round, got, want)
		}
	}
}

func TestSetInPlaceOperationsDoNotAllocate(t *testing.T) {
	c := mustLoad(t)
	a, b := c.ByAccessLevel(Read), c.ServiceActions("s3")
	ops := map[string]func(){
		"UnionWith":         func() { a.UnionWith(b) },
		"IntersectWith":     func() { a.IntersectWith(b) },
		"DifferenceWith":    func() { a.DifferenceWith(b) },
		"Invert":            func() { a.Invert() },
		"CopyFrom":          func() { a.CopyFrom(b) },
		"Count":             func() { _ = a.Count() },
		"Equal":             func() { _ = a.Equal(b) },
		"IntersectionCount": func() { _ = a.IntersectionCount(b) },
		"ForEach":           func() { a.ForEach(func(int) {}) },
		"AddRange":          func() { a.AddRange(10, 5000) },
	}
	for name, op := range ops {
		if n := testing.AllocsPerRun(10, op); n != 0 {
			t.Errorf("%s allocates %v times, want 0", name, n)
		}
	}
}
