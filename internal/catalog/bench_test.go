package catalog

import (
	"bytes"
	"testing"
)

// BenchmarkDecode measures the first Load: decompressing and parsing the
// embedded data.
func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(embedded)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad measures Load after the first call.
func BenchmarkLoad(b *testing.B) {
	mustLoad(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	c := mustLoad(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Lookup("S3:GetObject"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	c := mustLoad(b)
	for _, p := range []string{"*", "s3:Get*", "*:Describe*", "iam:*Policy*", "s3:GetObject", "s3*"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Expand(p)
			}
		})
	}
	// ExpandInto reuses the destination set: no allocation for lower-case patterns.
	for _, p := range []string{"*", "s3:get*", "*:describe*"} {
		b.Run("Into/"+p, func(b *testing.B) {
			dst := c.NewSet()
			b.ReportAllocs()
			for b.Loop() {
				dst.Clear()
				c.ExpandInto(&dst, p)
			}
		})
	}
}

// BenchmarkSet measures operations over sets of the whole catalog.
func BenchmarkSet(b *testing.B) {
	c := mustLoad(b)
	x, y := c.ByAccessLevel(Read), c.Expand("*:Describe*")
	dst := c.NewSet()
	for _, bm := range []struct {
		name string
		op   func()
	}{
		{"UnionWith", func() { dst.CopyFrom(x); dst.UnionWith(y) }},
		{"IntersectWith", func() { dst.CopyFrom(x); dst.IntersectWith(y) }},
		{"DifferenceWith", func() { dst.CopyFrom(x); dst.DifferenceWith(y) }},
		{"Union", func() { _ = x.Union(y) }},
		{"Count", func() { _ = x.Count() }},
		{"Equal", func() { _ = x.Equal(y) }},
		{"DifferenceCount", func() { _ = x.DifferenceCount(y) }},
		{"ForEach", func() { n := 0; y.ForEach(func(int) { n++ }) }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bm.op()
			}
		})
	}
}
