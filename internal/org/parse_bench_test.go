package org_test

import (
	"testing"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
)

// BenchmarkParseSnapshot10k reads the 7 MB snapshot file of a generated
// 10,000-account organization: decoding, validation, normalization and
// the fingerprint check.
func BenchmarkParseSnapshot10k(b *testing.B) {
	s, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	data, err := org.MarshalSnapshot(s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := org.ParseSnapshot(data, "org10k.json"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFingerprint10k fingerprints a generated 10,000-account
// organization (planning a change fingerprints the base and the result).
func BenchmarkFingerprint10k(b *testing.B) {
	s, err := generate.Organization(generate.Options{Accounts: 10000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	s.Normalize()
	b.ReportAllocs()
	for b.Loop() {
		org.ComputeFingerprint(s)
	}
}
