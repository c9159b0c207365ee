package catalog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const smallCatalog = `orgguard-catalog	1
source	test
version	1.2.3
date	2026-01-02
counts	3	4
rcp	b
s	a-x	Service A-X
a	Run	W		
s	a	Service A
k	a:Key	String
k	aws:TagKeys	ArrayOfString
r	thing	arn:${Partition}:a:::${Name}	1
a	Do	P	0*	0,1
a	Get	R	0	
s	b	Service B
a	List	L		
end
`

func TestParseSmallCatalog(t *testing.T) {
	c, err := parse(smallCatalog)
	if err != nil {
		t.Fatalf("parse() error: %v", err)
	}
	var got []Action
	for i := range c.Len() {
		got = append(got, c.Action(i))
	}
	want := []Action{
		{Service: "a-x", Name: "Run", Level: Write, ResourceTypes: []ActionResource{}, ConditionKeys: []string{}},
		{Service: "a", Name: "Do", Level: PermissionsManagement, ResourceTypes: []ActionResource{{"thing", true}}, ConditionKeys: []string{"a:Key", "aws:TagKeys"}},
		{Service: "a", Name: "Get", Level: Read, ResourceTypes: []ActionResource{{"thing", false}}, ConditionKeys: []string{}},
		{Service: "b", Name: "List", Level: List, ResourceTypes: []ActionResource{}, ConditionKeys: []string{}},
	}
	if diff := cmp.Diff(got, want, cmp.Comparer(func(x, y []ActionResource) bool { return len(x) == len(y) && (len(x) == 0 || cmp.Equal(x, y)) }),
		cmp.Comparer(func(x, y []string) bool { return len(x) == len(y) && (len(x) == 0 || cmp.Equal(x, y)) })); diff != "" {
		t.Errorf("actions (-got +want):\n%s", diff)
	}
	if c.Version() != "1.2.3" || c.Date() != "2026-01-02" || c.Source() != "test" {
		t.Errorf("header = %q %q %q", c.Source(), c.Version(), c.Date())
	}
	if !c.RCPSupported("b") || c.RCPSupported("a") || c.RCPActions().Count() != 1 {
		t.Errorf("RCP services = %v, RCP actions %d", c.RCPServices(), c.RCPActions().Count())
	}
	if rt, ok := c.ResourceType("a", "thing"); !ok || !cmp.Equal(rt.ConditionKeys, []string{"aws:TagKeys"}) {
		t.Errorf("ResourceType(a, thing) = %+v, %v", rt, ok)
	}
	if n := c.Expand("a*:*").Count(); n != 3 {
		t.Errorf("Expand(a*:*).Count() = %d, want 3", n)
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(smallCatalog, old) {
			panic("test text lacks " + old)
		}
		return strings.Replace(smallCatalog, old, new, 1)
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"an empty text", "", "missing end line"},
		{"another format", "something\t1\n", "line 1: not an orgguard catalog"},
		{"another format version", replace("orgguard-catalog\t1", "orgguard-catalog\t2"), "line 1: not an orgguard catalog of format version 1"},
		{"no final new line", strings.TrimSuffix(smallCatalog, "\n"), "line 17: missing new line"},
		{"no end line", replace("end\n", ""), "line 17: missing end line"},
		{"text after the end", smallCatalog + "s\tc\tC\n", "line 18: text after the end line"},
		{"a bad date", replace("2026-01-02", "2026-13-02"), `line 4: date "2026-13-02" is not YYYY-MM-DD`},
		{"no date", replace("date\t2026-01-02\n", ""), "line 6: header lacks the date line"},
		{"no counts", replace("counts\t3\t4\n", ""), "header lacks the counts line"},
		{"bad counts", replace("counts\t3\t4", "counts\t3\tx"), "line 5: bad counts"},
		{"wrong counts", replace("counts\t3\t4", "counts\t3\t5"), "counts say 3 services and 5 actions, found 3 and 4"},
		{"no rcp line", replace("rcp\tb\n", ""), "header lacks the rcp line"},
		{"an unknown RCP service", replace("rcp\tb", "rcp\tb,zz"), `RCP-supported service "zz" is not in the catalog`},
		{"an RCP service twice", replace("rcp\tb", "rcp\tb,b"), `RCP-supported service "b" listed twice`},
		{"an empty version", replace("version\t1.2.3", "version\t"), "line 3: version line needs one value"},
		{"an upper-case prefix", replace("s\tb\tService B", "s\tB\tService B"), `line 15: bad service prefix "B"`},
		{"a prefix with a colon", replace("s\tb\tService B", "s\tb:c\tService B"), `line 15: bad service prefix "b:c"`},
		{"a service out of order", replace("s\tb\tService B", "s\ta-y\tService B"), "line 15: service a-y is out of order after a"},
		{"an action out of order", replace("a\tGet\tR", "a\tAlpha\tR"), "line 14: action a:Alpha is out of order"},
		{"a duplicate action", replace("a\tGet\tR", "a\tDO\tR"), "line 14: action a:DO is out of order"},
		{"a wildcard in an action name", replace("a\tGet\tR", "a\tGet*\tR"), `line 14: action "Get*": character '*' not allowed in a name`},
		{"an unknown level", replace("a\tGet\tR", "a\tGet\tX"), `line 14: action a:Get has unknown access level "X"`},
		{"a resource index out of range", replace("a\tGet\tR\t0", "a\tGet\tR\t1"), `line 14: action a:Get resource types: bad index "1" (want 0..0)`},
		{"a key index out of range", replace("0*\t0,1", "0*\t0,2"), `line 13: action a:Do condition keys: bad index "2" (want 0..1)`},
		{"a signed index", replace("0*\t0,1", "0*\t+0"), `bad index "+0"`},
		{"a key after actions", replace("s\tb\tService B\n", "k\tx\tString\ns\tb\tService B\n"), "line 15: condition key after resource types or actions in service a"},
		{"a resource after actions", replace("s\tb\tService B\n", "r\tx\tarn\t\ns\tb\tService B\n"), "line 15: resource type after actions in service a"},
		{"an action before any service", replace("s\ta-x\tService A-X\n", ""), "line 7: a line before the first service"},
		{"too few action fields", replace("a\tList\tL\t\t", "a\tList\tL"), "line 16: action line needs"},
		{"too many fields", replace("a\tList\tL\t\t", "a\tList\tL\t\t\t\t\t"), "line 16: too many fields"},
		{"an unknown line", replace("end\n", "x\ty\nend\n"), `line 17: unknown line kind "x"`},
	} {
		t.Run("reports "+tc.name, func(t *testing.T) {
			_, err := parse(tc.text)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parse() error = %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, errFormat) {
				t.Errorf("parse() error %v does not wrap errFormat", err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(smallCatalog))
	f.Add([]byte("orgguard-catalog\t1\nend\n"))
	f.Add([]byte(strings.Replace(smallCatalog, "0*\t0,1", "0*,0\t1,0", 1)))
	zr, err := gzip.NewReader(bytes.NewReader(embedded))
	if err != nil {
		f.Fatal(err)
	}
	full, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full[:4000]) // a real header and first services, cut short
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parse(string(data))
		if err != nil {
			return
		}
		// Whatever parses keeps the catalog's invariants.
		prev := ""
		for i := range c.Len() {
			a := c.Action(i)
			name := strings.ToLower(a.String())
			if name <= prev {
				t.Fatalf("action %d %q not after %q", i, name, prev)
			}
			prev = name
			if j, ok := c.Lookup(a.String()); !ok || j != i {
				t.Fatalf("Lookup(%q) = %d, %v, want %d", a, j, ok, i)
			}
		}
		total := 0
		for _, l := range AccessLevels() {
			total += c.ByAccessLevel(l).Count()
		}
		if total != c.Len() || c.Expand("*").Count() != c.Len() {
			t.Fatalf("levels cover %d of %d actions", total, c.Len())
		}
	})
}
