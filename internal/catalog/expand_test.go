package catalog

import (
	"errors"
	"strings"
	"testing"
)

// Wildcards in actions follow
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html:
// "*" matches any run of characters and "?" one character, in the prefix or
// in the action name, and the prefix and the action name are case-insensitive.
//
// The counts below were computed from the package's data/actions/*.json with
// an independent matcher (a JavaScript regular expression over the
// lower-case "service:action" names); the named members were checked by hand.
func TestExpand(t *testing.T) {
	c := mustLoad(t)
	names := lowerNames(c)
	for _, tc := range []struct {
		name, pattern string
		count         int
		has, hasNot   []string
	}{
		{"a star alone matches every action", "*", 22091, []string{"s3:GetObject", "xray:UpdateTraceSegmentDestination"}, nil},
		{"a star on both sides of the colon matches every action", "*:*", 22091, nil, nil},
		{"two stars match every action", "**", 22091, nil, nil},
		{"a service star matches the whole service", "s3:*", 180, []string{"s3:GetObject", "s3:PutObject"}, []string{"s3express:CreateSession", "s3-outposts:GetObject"}},
		{"the prefix is case-insensitive", "S3:*", 180, nil, nil},
		{"a trailing star matches the actions starting with the rest", "s3:Get*", 63,
			[]string{"s3:GetObject", "s3:GetBucketPolicy", "s3:GetObjectAcl"},
			[]string{"s3:PutObject", "s3:ListBucket", "s3express:GetBucketPolicy", "s3-outposts:GetObject"}},
		{"the action name is case-insensitive", "S3:gEt*", 63, []string{"s3:GetObject"}, nil},
		{"a star in the prefix spans services", "*:Describe*", 1924, []string{"ec2:DescribeInstances", "organizations:DescribeOrganization"}, []string{"ec2:RunInstances"}},
		{"a star inside the name matches in the middle", "iam:*Policy*", 35, []string{"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreatePolicyVersion"}, []string{"iam:CreateRole"}},
		{"a star after a full name also matches the name itself", "s3:GetObject*", 16, []string{"s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging"}, []string{"s3:GetBucketAcl"}},
		{"a question mark matches one character", "iam:?etRole", 1, []string{"iam:GetRole"}, nil},
		{"a question mark inside a name", "s3:Get?bject", 1, []string{"s3:GetObject"}, nil},
		{"a question mark with a star", "iam:?et*", 40, []string{"iam:GetRole", "iam:SetDefaultPolicyVersion"}, []string{"iam:ListRoles"}},
		{"a question mark in the prefix matches one character", "s?:*", 180, []string{"s3:GetObject"}, []string{"sts:AssumeRole"}},
		{"a pattern without a colon matches the whole name", "s3*", 378, []string{"s3:GetObject", "s3express:CreateSession", "s3-outposts:GetObject"}, []string{"sqs:SendMessage"}},
		{"an exact name matches itself", "sts:AssumeRole", 1, []string{"sts:AssumeRole"}, []string{"sts:AssumeRoleWithSAML"}},
		{"ec2 Describe actions", "ec2:Describe*", 194, nil, nil},
		{"kms", "kms:*", 56, nil, nil},
		{"organizations", "organizations:*", 63, nil, nil},
		{"List actions across services", "*:List*", 3759, nil, nil},
		{"a name that does not exist matches nothing", "s3:GetObjekt", 0, nil, nil},
		{"a prefix of a name without a star matches nothing", "s3:Get", 0, nil, nil},
		{"an unknown service matches nothing", "nosuch:*", 0, nil, nil},
		{"an empty pattern matches nothing", "", 0, nil, nil},
		{"an empty action part matches nothing", "s3:", 0, nil, nil},
		{"an empty prefix matches nothing", ":GetObject", 0, nil, nil},
		{"a colon alone matches nothing", ":", 0, nil, nil},
		{"a second colon never matches", "s3:*:*", 0, nil, nil},
		{"a name without a colon or wildcard matches nothing", "s3GetObject", 0, nil, nil},
		{"spaces are not trimmed", " s3:GetObject", 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := c.Expand(tc.pattern)
			if s.Count() != tc.count {
				t.Errorf("Expand(%q).Count() = %d, want %d", tc.pattern, s.Count(), tc.count)
			}
			for _, n := range tc.has {
				if i, ok := c.Lookup(n); !ok || !s.Has(i) {
					t.Errorf("Expand(%q) lacks %s", tc.pattern, n)
				}
			}
			for _, n := range tc.hasNot {
				i, ok := c.Lookup(n)
				if !ok {
					t.Fatalf("Lookup(%q) not found", n)
				}
				if s.Has(i) {
					t.Errorf("Expand(%q) has %s", tc.pattern, n)
				}
			}
			// ExpandInto adds to what is there and counts the matches.
			dst := c.NewSet()
			if n := c.ExpandInto(&dst, tc.pattern); n != tc.count || !dst.Equal(s) {
				t.Errorf("ExpandInto(%q) = %d, set equal %v, want %d, true", tc.pattern, n, dst.Equal(s), tc.count)
			}
			// The fast paths agree with the naive matcher.
			if want := naiveExpandNames(c, names, tc.pattern); !s.Equal(want) {
				t.Errorf("Expand(%q) has %d actions, the naive matcher %d", tc.pattern, s.Count(), want.Count())
			}
		})
	}
}

func TestExpandReport(t *testing.T) {
	c := mustLoad(t)
	for _, tc := range []struct {
		name, pattern  string
		count          int
		unknownService string
		message        string // "" when no error is expected
	}{
		{"a known action is no error", "s3:GetObject", 1, "", ""},
		{"a pattern matching actions is no error", "s3:Get*", 63, "", ""},
		{"a misspelt action is not in the catalog", "s3:GetObjekt", 0, "",
			`action "s3:GetObjekt" is not in catalog dated 2026-09-26`},
		{"an unknown service is named", "newservice:DoThing", 0, "newservice",
			`action "newservice:DoThing" is not in catalog dated 2026-09-26 (no service "newservice")`},
		{"a pattern matching nothing is reported as a pattern", "s3:Zz*", 0, "",
			`action pattern "s3:Zz*" is not in catalog dated 2026-09-26`},
		{"a wildcard prefix is not called an unknown service", "zz*:Get", 0, "",
			`action pattern "zz*:Get" is not in catalog dated 2026-09-26`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := c.ExpandReport(tc.pattern)
			if s.Count() != tc.count || s.Len() != c.Len() {
				t.Errorf("ExpandReport(%q) set = %d of %d, want %d of %d", tc.pattern, s.Count(), s.Len(), tc.count, c.Len())
			}
			if tc.message == "" {
				if err != nil {
					t.Errorf("ExpandReport(%q) error = %v, want none", tc.pattern, err)
				}
				return
			}
			if err == nil || err.Error() != tc.message {
				t.Fatalf("ExpandReport(%q) error = %v, want %q", tc.pattern, err, tc.message)
			}
			if !errors.Is(err, ErrNotInCatalog) {
				t.Errorf("ExpandReport(%q) error does not wrap ErrNotInCatalog", tc.pattern)
			}
			var nic *NotInCatalogError
			if !errors.As(err, &nic) || nic.UnknownService != tc.unknownService || nic.Date != c.Date() || nic.Version != c.Version() {
				t.Errorf("ExpandReport(%q) error = %#v, want UnknownService %q and the catalog's date and version", tc.pattern, nic, tc.unknownService)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"?", "", false},
		{"?", "a", true},
		{"a*b", "ab", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbx", false},
		{"a*b*c", "abbbc", true},
		{"a*b?c", "abxbyc", true},
		{"*a", "bbba", true},
		{"*a", "bbab", false},
		{"**a**", "xa", true},
		{"a?", "a", false},
	} {
		t.Run(tc.p+" against "+tc.s, func(t *testing.T) {
			if got := match(tc.p, tc.s); got != tc.want {
				t.Errorf("match(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
			}
			if got := naiveMatch(tc.p, tc.s); got != tc.want {
				t.Errorf("naiveMatch(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
			}
		})
	}
}

func TestExpandAllocations(t *testing.T) {
	c := mustLoad(t)
	dst := c.NewSet()
	for _, p := range []string{"*", "s3:get*", "*:describe*", "s3:getobject", "iam:*policy*", "s3*"} {
		if n := testing.AllocsPerRun(20, func() { c.ExpandInto(&dst, p) }); n != 0 {
			t.Errorf("ExpandInto(%q) allocates %v times, want 0", p, n)
		}
	}
	if n := testing.AllocsPerRun(20, func() { c.Lookup("S3:GetObject") }); n != 0 {
		t.Errorf("Lookup allocates %v times, want 0", n)
	}
}

func lowerNames(c *Catalog) []string {
	names := make([]string, c.Len())
	for i := range names {
		names[i] = strings.ToLower(c.Name(i))
	}
	return names
}

// naiveExpandNames tests every action's lower-case "service:action" name
// (names, from lowerNames) with the naive matcher.
func naiveExpandNames(c *Catalog, names []string, pattern string) Set {
	s := c.NewSet()
	p := asciiLowerOnly(pattern)
	var m naiveMatcher
	for i, n := range names {
		if m.match(p, n) {
			s.Add(i)
		}
	}
	return s
}

// scanExpand tests every action's whole name with match: no service
// ranges, no binary search, no literal prefixes. FuzzExpand checks Expand's
// fast paths against it, FuzzMatch checks match against naiveMatch.
func scanExpand(c *Catalog, names []string, pattern string) Set {
	s := c.NewSet()
	p := asciiLowerOnly(pattern)
	for i, n := range names {
		if match(p, n) {
			s.Add(i)
		}
	}
	return s
}

// asciiLowerOnly keeps non-ASCII bytes as they are (strings.ToLower would
// fold some of them to ASCII letters, e.g. the Kelvin sign to "k"); the
// catalog folds ASCII letters only.
func asciiLowerOnly(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func naiveMatch(p, s string) bool {
	var m naiveMatcher
	return m.match(p, s)
}

// naiveMatcher is a dynamic-programming glob matcher, written independently
// of match: after row i, cur[j] says whether p[:i] matches s[:j].
type naiveMatcher struct{ prev, cur []bool }

func (m *naiveMatcher) match(p, s string) bool {
	if cap(m.cur) < len(s)+1 {
		m.prev, m.cur = make([]bool, len(s)+1), make([]bool, len(s)+1)
	}
	prev, cur := m.prev[:len(s)+1], m.cur[:len(s)+1]
	for j := range prev {
		prev[j] = j == 0
	}
	for i := 1; i <= len(p); i++ {
		for j := 0; j <= len(s); j++ {
			switch p[i-1] {
			case '*':
				cur[j] = prev[j] || (j > 0 && cur[j-1])
			case '?':
				cur[j] = j > 0 && prev[j-1]
			default:
				cur[j] = j > 0 && prev[j-1] && p[i-1] == s[j-1]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(s)]
}

func FuzzExpand(f *testing.F) {
	for _, p := range []string{"*", "s3:Get*", "*:Describe*", "iam:?et*", "s3*", "s?:*", "a*b*c:*", "S3:GETOBJECT", ":", "*:", "s3:*:*", "*?", "??:*", "ec2:*Instance?", "\xe2\x84\xaa", "k*:*"} {
		f.Add(p)
	}
	c := mustLoad(f)
	names := lowerNames(c)
	f.Fuzz(func(t *testing.T, pattern string) {
		if len(pattern) > 64 {
			return // keeps the naive matcher quick; length does not change the paths taken
		}
		got, err := c.ExpandReport(pattern)
		want := scanExpand(c, names, pattern)
		if !got.Equal(want) {
			t.Fatalf("Expand(%q) has %d actions, a scan of every name %d", pattern, got.Count(), want.Count())
		}
		if (err != nil) != want.IsEmpty() {
			t.Fatalf("ExpandReport(%q) error = %v with %d matches", pattern, err, want.Count())
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, tc := range [][2]string{{"a*b?c", "abxbyc"}, {"s3:get*", "s3:getobject"}, {"*:describe*", "ec2:describeinstances"}, {"**?*", "x"}, {"?", ""}} {
		f.Add(tc[0], tc[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 200 || len(s) > 200 {
			return
		}
		if got, want := match(p, s), naiveMatch(p, s); got != want {
			t.Fatalf("match(%q, %q) = %v, naive matcher %v", p, s, got, want)
		}
	})
}
