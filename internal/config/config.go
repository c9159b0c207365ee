// Package config reads orgguard.yaml: which organization backend to use
// (the simulated organization by default, or AWS) and, as later features
// add them, further sections. Unknown keys and bad values are errors that
// name the file, line and column.
//
// Each top-level section is a field of Config with its own defaults and
// validate function; adding a section means adding a field, a defaults
// line in Defaults and a validate call in (*Config).validate.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/orgguard/orgguard/internal/auth"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/decode"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/inputfile"
	"github.com/orgguard/orgguard/internal/notice"
	"github.com/orgguard/orgguard/internal/notify"
	"github.com/orgguard/orgguard/internal/probe"
	"github.com/orgguard/orgguard/internal/source"
	"github.com/orgguard/orgguard/internal/watch"
)

// DefaultFile is the configuration file looked up in the working directory
// when no --config flag is given.
const DefaultFile = "orgguard.yaml"

// Backend types.
const (
	BackendSim = "sim"
	BackendAWS = "aws"
)

// Config is the whole configuration.
type Config struct {
	Backend Backend `yaml:"backend"`

	// Store is where plans, approvals, the change journal and the audit
	// log live: a SQLite file path (default ./.orgguard/orgguard.db) or a
	// postgres:// URL.
	Store string `yaml:"store"`

	// Identity says who runs the command line, for plans and approvals.
	Identity Identity `yaml:"identity"`

	// Guardrails configure what plan refuses or asks approvals for.
	Guardrails guard.Config `yaml:"guardrails"`

	// Quarantine shapes the standard quarantine operation.
	Quarantine change.QuarantineConfig `yaml:"quarantine"`

	// Impact tunes the blast-radius report.
	Impact Impact `yaml:"impact"`

	// Probes configure the health-check probes apply runs around every
	// step (see docs/apply.md).
	Probes probe.Config `yaml:"probes"`

	// Watch configures `orgguard watch` (see docs/watch.md).
	Watch watch.Config `yaml:"watch"`

	// Notices configures incident notices and the notice clock, Notify
	// the channels and the outbox (see docs/notify.md).
	Notices notice.Config `yaml:"notices"`
	Notify  notify.Config `yaml:"notify"`

	// Auth configures users, sessions, login throttling and OIDC login
	// of server mode (see docs/auth.md).
	Auth auth.Config `yaml:"auth"`
	// Server configures `orgguard serve` (see docs/server.md).
	Server Server `yaml:"server"`

	// Status configures the public status page (see docs/server.md).
	Status Status `yaml:"status"`

	// File is the file the configuration was read from; empty when no
	// file was found and the defaults apply.
	File string `yaml:"-"`
}

// Identity names the operator.
type Identity struct {
	// User is the operator's name; empty means the OS user.
	User string `yaml:"user"`
}

// Impact tunes the blast-radius report.
type Impact struct {
	// Critical lists the action patterns whose loss is named per account;
	// empty means the built-in list (impact.DefaultCritical).
	Critical []string `yaml:"critical"`
}

// Backend selects and configures the organization backend.
type Backend struct {
	Type string     `yaml:"type"` // "sim" (default) or "aws"
	Sim  SimBackend `yaml:"sim"`
	AWS  AWSBackend `yaml:"aws"`
}

// SimBackend configures the simulated organization.
type SimBackend struct {
	// State is the state file; relative paths are relative to the
	// configuration file's directory (the working directory without one).
	State string `yaml:"state"`
	// Seed and Accounts shape the organization generated when State does
	// not exist yet.
	Seed     uint64 `yaml:"seed"`
	Accounts int    `yaml:"accounts"`
}

// AWSBackend configures access to a real organization (or to `orgguard
// sim serve` through Endpoint).
type AWSBackend struct {
	Profile  string `yaml:"profile"`  // "" = the SDK's default chain
	Region   string `yaml:"region"`   // default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1
	Endpoint string `yaml:"endpoint"` // "" = the AWS endpoint
	// ReadTags also reads the tags of the root, every OU, account and
	// policy: one more call per resource, so off by default.
	ReadTags bool `yaml:"readTags"`
}

// Defaults returns the configuration used when there is no file, and
// under every file for the keys it leaves out.
func Defaults() Config {
	return Config{
		Backend: Backend{
			Type: BackendSim,
			Sim:  SimBackend{State: filepath.Join(".orgguard", "sim-state.json"), Seed: 1, Accounts: 1000},
			AWS:  AWSBackend{},
		},
		Store:      filepath.Join(".orgguard", "orgguard.db"),
		Guardrails: guard.Default(),
		Quarantine: change.DefaultQuarantine(),
		Probes:     probe.DefaultConfig(),
		Watch:      watch.DefaultConfig(),
		Notices:    notice.DefaultConfig(),
		Notify:     notify.DefaultConfig(),
		Auth:       auth.DefaultConfig(),
		Server:     DefaultServer(),
		Status:     DefaultStatus(),
	}
}

// MaxSimAccounts bounds backend.sim.accounts.
const MaxSimAccounts = 50000

// ErrInvalid is matched (errors.Is) by every problem in a configuration
// file. The problems themselves are *source.Error values (file, line,
// column, the key's dotted path), returned together as source.Errors.
var ErrInvalid = errors.New("invalid configuration")

// unnamed labels errors when Parse is given no file name.
const unnamed = "configuration"

// Load reads the configuration: from path when it is not empty (the file
// must exist), else from ./orgguard.yaml when it exists, else the
// defaults.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultFile
	}
	data, err := inputfile.Read(path, inputfile.Config, "configuration file")
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			c := Defaults()
			return &c, nil
		}
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.File = path
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// resolvePaths makes relative paths in c relative to dir.
func (c *Config) resolvePaths(dir string) {
	if dir == "" || dir == "." {
		return
	}
	if p := c.Backend.Sim.State; p != "" && !filepath.IsAbs(p) {
		c.Backend.Sim.State = filepath.Join(dir, p)
	}
	if p := c.Store; p != "" && !strings.Contains(p, "://") && !filepath.IsAbs(p) {
		c.Store = filepath.Join(dir, p)
	}
	if p := c.Watch.Intake.SecretFile; p != "" && !filepath.IsAbs(p) {
		c.Watch.Intake.SecretFile = filepath.Join(dir, p)
	}
	c.resolveNotifyPaths(dir)
	c.Server.resolvePaths(dir)
}

// Parse decodes and validates a configuration document. name labels
// errors (a file name; "configuration" when empty). Relative paths are
// left as written. Problems are returned as source.Errors matching
// ErrInvalid.
func Parse(data []byte, name string) (*Config, error) {
	if name == "" {
		name = unnamed
	}
	c := Defaults()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &c, nil // an empty file: the defaults
		}
		return nil, syntaxError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, source.Errors{problem(name, extra.Line, extra.Column, "", "more than one YAML document; orgguard.yaml holds one")}
	}
	p := &parser{file: name, pos: map[string][2]int{}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &c, nil
	}
	p.walk(root, reflect.ValueOf(&c).Elem(), "")
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	v := &validator{file: name, pos: p.pos}
	c.validate(v)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return &c, nil
}

// syntaxError turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// problem at that line.
func syntaxError(file string, err error) error {
	e := decode.SyntaxError(file, err)
	e.Msg = "malformed YAML: " + e.Msg
	e.Err = ErrInvalid
	return source.Errors{e}
}

// problem is one configuration problem at file:line:col, about the key at
// path.
func problem(file string, line, col int, path, msg string) *source.Error {
	return &source.Error{Pos: source.Pos{File: file, Line: line, Col: col, Path: path}, Msg: msg, Err: ErrInvalid}
}

// parser decodes a YAML node tree into a struct, field by field, so that
// every error carries the position of the offending key or value.
type parser struct {
	file string
	pos  map[string][2]int // dotted path -> line, column of its value
	errs source.Errors
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, problem(p.file, n.Line, n.Column, path, fmt.Sprintf(format, args...)))
}

// walk decodes n into v (a struct, or a leaf value).
func (p *parser) walk(n *yaml.Node, v reflect.Value, path string) {
	if path != "" {
		p.pos[path] = [2]int{n.Line, n.Column}
	}
	if n.Kind == yaml.AliasNode {
		p.errorf(n, path, "YAML aliases are not supported here")
		return
	}
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
			// A section with its own decoding (it starts from its defaults).
			if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
				return
			}
			if err := n.Decode(u); err != nil {
				p.decodeError(n, path, err)
			}
			p.recordPositions(n, path)
			return
		}
	}
	if v.Kind() == reflect.Slice {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			p.errorf(n, path, "expected a list, found a %s", kindName(n))
			return
		}
		target := reflect.New(v.Type())
		if err := n.Decode(target.Interface()); err != nil {
			p.decodeError(n, path, err)
			return
		}
		v.Set(target.Elem())
		p.recordPositions(n, path)
		return
	}
	if v.Kind() != reflect.Struct {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return // key present without a value: keep the default
		}
		if n.Kind != yaml.ScalarNode {
			p.errorf(n, path, "expected a single value, found a %s", kindName(n))
			return
		}
		target := reflect.New(v.Type())
		if err := n.Decode(target.Interface()); err != nil {
			p.errorf(n, path, "expected %s, found %q", typeName(v.Type()), n.Value)
			return
		}
		v.Set(target.Elem())
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping (key: value lines), found a %s", kindName(n))
		return
	}
	fields := map[string][]int{}
	var names []string
	for _, f := range decode.Fields(v.Type()) {
		fields[f.Key] = f.Index
		names = append(names, f.Key)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := decode.Join(path, key)
		idx, ok := fields[key]
		if !ok {
			p.errorf(k, kp, "unknown key %q (known keys here: %s)", key, strings.Join(names, ", "))
			continue
		}
		if seen[key] {
			p.errorf(k, kp, "key %q appears twice", key)
			continue
		}
		seen[key] = true
		p.walk(val, v.FieldByIndex(idx), kp)
	}
}

// decodeError reports a yaml.v3 decoding error inside n, at the line and
// column it names (a section's own *source.Error, such as an unknown
// guardrails key) or at the value on the line it names.
func (p *parser) decodeError(n *yaml.Node, path string, err error) {
	p.errs = append(p.errs, decode.YAML{File: p.file, Path: path, Err: ErrInvalid}.TypeErrors(n, err)...)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return fmt.Sprintf("value %q", n.Value)
	}
	return "YAML node"
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		return "a non-negative integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

// validator collects semantic errors with the position of the value.
type validator struct {
	file string
	pos  map[string][2]int
	errs source.Errors
}

func (v *validator) errorf(path, format string, args ...any) {
	p := v.pos[path]
	v.errs = append(v.errs, problem(v.file, p[0], p[1], path, fmt.Sprintf(format, args...)))
}

// validate checks every section.
func (c *Config) validate(v *validator) {
	c.Backend.validate(v, "backend")
	if strings.TrimSpace(c.Store) == "" {
		v.errorf("store", "must name a SQLite file or a postgres:// URL")
	}
	if err := c.Guardrails.Validate(); err != nil {
		var fes []*guard.FieldError
		collectFieldErrors(err, &fes)
		if len(fes) == 0 {
			v.errorf("guardrails", "%v", err)
		}
		for _, fe := range fes {
			v.errorf(v.nearest("guardrails."+fe.Path), "guardrails.%s: %s", fe.Path, fe.Message)
		}
	}
	if err := c.Quarantine.Validate(); err != nil {
		v.errorf("quarantine", "%v", err)
	}
	if err := c.Probes.Validate(); err != nil {
		key, _, _ := strings.Cut(err.Error(), ":")
		if strings.Contains(key, " ") {
			key = "probes"
		}
		v.errorf(v.nearest(key), "%v", err)
	}
	if err := c.Watch.Validate(); err != nil {
		for _, e := range unjoin(err) {
			key, _, _ := strings.Cut(e.Error(), ":")
			v.errorf(v.nearest(strings.NewReplacer("[", ".[").Replace(key)), "%v", e)
		}
	}
	c.validateNotify(v)
	if err := c.Auth.Validate(); err != nil {
		for _, e := range unjoin(err) {
			key, _, _ := strings.Cut(e.Error(), ":")
			v.errorf(v.nearest(strings.NewReplacer("[", ".[").Replace(key)), "%v", e)
		}
	}
	c.Server.validate(v, "server")
	c.validateStatus(v, "status")
	for i, pat := range c.Impact.Critical {
		if pat != "*" && !strings.Contains(pat, ":") {
			v.errorf("impact.critical", "impact.critical[%d]: %q is not an action pattern (service:action)", i, pat)
		}
	}
}

// unjoin returns the errors joined in err, or err alone.
func unjoin(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return []error{err}
}

// collectFieldErrors gathers the *guard.FieldError values in err's tree.
func collectFieldErrors(err error, into *[]*guard.FieldError) {
	var fe *guard.FieldError
	if errors.As(err, &fe) {
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range u.Unwrap() {
				collectFieldErrors(e, into)
			}
			return
		}
		*into = append(*into, fe)
		return
	}
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range u.Unwrap() {
			collectFieldErrors(e, into)
		}
	}
}

// nearest returns path, or its closest ancestor whose position is known.
func (v *validator) nearest(path string) string {
	for p := path; p != ""; {
		if _, ok := v.pos[p]; ok {
			return p
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return path
}

func (b *Backend) validate(v *validator, path string) {
	switch b.Type {
	case BackendSim, BackendAWS:
	default:
		v.errorf(path+".type", "must be %q or %q, not %q", BackendSim, BackendAWS, b.Type)
	}
	b.Sim.validate(v, path+".sim")
	b.AWS.validate(v, path+".aws")
}

func (s *SimBackend) validate(v *validator, path string) {
	if strings.TrimSpace(s.State) == "" {
		v.errorf(path+".state", "must name a file")
	}
	if s.Accounts < 1 || s.Accounts > MaxSimAccounts {
		v.errorf(path+".accounts", "must be between 1 and %d, not %d", MaxSimAccounts, s.Accounts)
	}
}

func (a *AWSBackend) validate(v *validator, path string) {
	if a.Region != "" && !validRegion(a.Region) {
		v.errorf(path+".region", "%q is not an AWS region name (like us-east-1)", a.Region)
	}
	if e := a.Endpoint; e != "" && !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		v.errorf(path+".endpoint", "must be an http:// or https:// URL, not %q", e)
	}
}

// validRegion accepts names shaped like AWS regions: letters, dashes and a
// final number (us-east-1, eu-central-2, us-gov-west-1, cn-north-1).
func validRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || strings.IndexFunc(p, func(c rune) bool { return c < 'a' || c > 'z' }) >= 0 {
			return false
		}
	}
	last := parts[len(parts)-1]
	return last != "" && strings.IndexFunc(last, func(c rune) bool { return c < '0' || c > '9' }) < 0
}

// Keys lists the dotted keys a configuration file may hold, for docs and
// completion.
func Keys() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			k := decode.Join(prefix, tag)
			if t.Field(i).Type.Kind() == reflect.Struct {
				walk(t.Field(i).Type, k)
			} else {
				out = append(out, k)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	slices.Sort(out)
	return out
}
