package change

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/orgguard/orgguard/internal/inputfile"
	"github.com/orgguard/orgguard/internal/source"
)

// The resource types orgguard plans.
const (
	tfPolicy           = "aws_organizations_policy"
	tfPolicyAttachment = "aws_organizations_policy_attachment"
	tfOU               = "aws_organizations_organizational_unit"
	tfAccount          = "aws_organizations_account"
)

// TerraformResult is what a Terraform plan asks of the organization.
type TerraformResult struct {
	Operations []Operation
	// Ignored lists resource changes orgguard does not plan, with why.
	Ignored []string
}

// ReadTerraformPlan reads `terraform show -json` output from path.
func ReadTerraformPlan(path string) (*TerraformResult, error) {
	data, err := inputfile.Read(path, inputfile.TerraformPlan, "Terraform plan")
	if err != nil {
		return nil, err
	}
	return ParseTerraformPlan(data, path)
}

// ParseTerraformPlan turns the Organizations resource changes of a
// Terraform plan into operations, ordered so that AWS accepts them:
// create OUs and policies, update policies, attach, move accounts, then
// detach and delete.
func ParseTerraformPlan(data []byte, path string) (*TerraformResult, error) {
	// HashiCorp's own types for the format; Plan's decoding also checks
	// format_version.
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) {
			return nil, &source.Error{Pos: source.Pos{File: path}, Msg: "not terraform plan JSON (from `terraform show -json`): " + jsonErrorText(data, err)}
		}
		if p.FormatVersion == "" {
			return nil, &source.Error{Pos: source.Pos{File: path}, Msg: "not terraform plan JSON: no format_version (produce it with `terraform show -json PLANFILE`)"}
		}
		return nil, &source.Error{Pos: source.Pos{File: path}, Msg: fmt.Sprintf("terraform plan format_version %q is not supported (want 1.x)", p.FormatVersion)}
	}
	if major, _, _ := strings.Cut(p.FormatVersion, "."); major != "1" {
		return nil, &source.Error{Pos: source.Pos{File: path}, Msg: fmt.Sprintf("terraform plan format_version %q is not supported (want 1.x)", p.FormatVersion)}
	}
	refs := map[string][]string{} // "address.attr" -> references
	if p.Config != nil {
		collectRefs(p.Config.RootModule, "", refs)
	}

	t := &tfTranslator{path: path, refs: refs, created: map[string]string{}}
	// Names of created policies and OUs, so attachments and children can
	// refer to them before their IDs exist.
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode || !slices.Contains(rc.Change.Actions, tfjson.ActionCreate) {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		switch rc.Type {
		case tfPolicy:
			t.created[rc.Address] = RefPrefix + "policy-" + str(after["name"])
		case tfOU:
			t.created[rc.Address] = RefPrefix + "ou-" + str(after["name"])
		}
	}
	var buckets [8][]Operation
	res := &TerraformResult{}
	for i, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode != tfjson.ManagedResourceMode {
			continue
		}
		origin := fmt.Sprintf("resource_changes[%d] (%s)", i, rc.Address)
		ops, ignored, err := t.translate(rc, origin)
		if err != nil {
			return nil, err
		}
		if ignored != "" {
			res.Ignored = append(res.Ignored, path+": "+origin+": "+ignored)
		}
		for _, o := range ops {
			buckets[o.bucket] = append(buckets[o.bucket], o.Operation)
		}
	}
	for _, b := range buckets {
		res.Operations = append(res.Operations, b...)
	}
	return res, nil
}

type tfTranslator struct {
	path    string
	refs    map[string][]string
	created map[string]string // resource address -> "ref:..."
}

type orderedOp struct {
	Operation
	bucket int
}

// Order of operations in a translated plan.
const (
	bucketCreateOU = iota
	bucketCreatePolicy
	bucketUpdatePolicy
	bucketAttach
	bucketMove
	bucketDetach
	bucketDeletePolicy
	bucketDeleteOU
)

func (t *tfTranslator) translate(rc *tfjson.ResourceChange, origin string) ([]orderedOp, string, error) {
	acts := rc.Change.Actions
	creating := slices.Contains(acts, tfjson.ActionCreate)
	deleting := slices.Contains(acts, tfjson.ActionDelete)
	updating := slices.Contains(acts, tfjson.ActionUpdate)
	if !creating && !deleting && !updating {
		return nil, "", nil // no-op, read
	}
	var before, after map[string]any
	if err := jsonObject(rc.Change.Before, &before); err != nil {
		return nil, "", &source.Error{Pos: source.Pos{File: t.path}, Msg: origin + ": change.before: " + err.Error()}
	}
	if err := jsonObject(rc.Change.After, &after); err != nil {
		return nil, "", &source.Error{Pos: source.Pos{File: t.path}, Msg: origin + ": change.after: " + err.Error()}
	}
	mk := func(b int, o Operation) orderedOp {
		o.Origin = t.path + ": " + origin
		return orderedOp{Operation: o, bucket: b}
	}
	var out []orderedOp
	switch rc.Type {
	case tfPolicy:
		typ := str(after["type"])
		if typ == "" {
			typ = str(before["type"])
		}
		if typ != "" && typ != "SERVICE_CONTROL_POLICY" && typ != "RESOURCE_CONTROL_POLICY" {
			return nil, fmt.Sprintf("%s policies change no IAM access; not planned", typ), nil
		}
		if updating {
			out = append(out, mk(bucketUpdatePolicy, Operation{Op: OpUpdatePolicy, Policy: str(before["id"]),
				Name: str(after["name"]), Description: str(after["description"]), Content: str(after["content"])}))
			return out, "", nil
		}
		if deleting {
			out = append(out, mk(bucketDeletePolicy, Operation{Op: OpDeletePolicy, Policy: str(before["id"])}))
		}
		if creating {
			out = append(out, mk(bucketCreatePolicy, Operation{Op: OpCreatePolicy, Name: str(after["name"]),
				Type: policyTypeOrDefault(str(after["type"])), Description: str(after["description"]), Content: str(after["content"])}))
		}
	case tfPolicyAttachment:
		if deleting && creating && str(before["policy_id"]) != "" &&
			str(before["policy_id"]) == str(after["policy_id"]) && str(before["target_id"]) == str(after["target_id"]) {
			return nil, "replacing an attachment with the same policy and target changes no access; not planned", nil
		}
		if deleting {
			out = append(out, mk(bucketDetach, Operation{Op: OpDetachPolicy, Policy: str(before["policy_id"]), Target: str(before["target_id"])}))
		}
		if creating {
			pol, err := t.value(rc, after, "policy_id", origin)
			if err != nil {
				return nil, "", err
			}
			tgt, err := t.value(rc, after, "target_id", origin)
			if err != nil {
				return nil, "", err
			}
			out = append(out, mk(bucketAttach, Operation{Op: OpAttachPolicy, Policy: pol, Target: tgt}))
		}
	case tfOU:
		if deleting && !creating {
			return nil, "", &source.Error{Pos: source.Pos{File: t.path}, Msg: origin + ": deleting an OU is not planned by orgguard (its inverse cannot restore the OU's ID); do it by hand after review"}
		}
		if updating {
			return nil, "renaming an OU changes no access; not planned", nil
		}
		if creating {
			if deleting {
				return nil, "", &source.Error{Pos: source.Pos{File: t.path}, Msg: origin + ": replacing an OU is not planned by orgguard"}
			}
			parent, err := t.value(rc, after, "parent_id", origin)
			if err != nil {
				return nil, "", err
			}
			out = append(out, mk(bucketCreateOU, Operation{Op: OpCreateOU, Parent: parent, Name: str(after["name"])}))
		}
	case tfAccount:
		if updating {
			from := str(before["parent_id"])
			// The destination may be an OU created in the same plan: its
			// ID is unknown until apply, named by a reference.
			to, err := t.value(rc, after, "parent_id", origin)
			if err == nil && to != from {
				out = append(out, mk(bucketMove, Operation{Op: OpMoveAccount, Accounts: []string{str(before["id"])}, To: to}))
				return out, "", nil
			}
			return nil, "account attributes other than parent_id change no access; not planned", nil
		}
		if creating {
			return nil, "creating an account is not planned: a new account starts with its parent's policies and affects no existing account", nil
		}
		return nil, "closing or removing an account is not planned by orgguard", nil
	default:
		return nil, "", nil // not an Organizations resource
	}
	return out, "", nil
}

// value returns attribute attr of a resource's after-state, or, when it
// is unknown until apply, the reference to the resource created in the
// same plan that it names.
func (t *tfTranslator) value(rc *tfjson.ResourceChange, after map[string]any, attr, origin string) (string, error) {
	if v := str(after[attr]); v != "" {
		return v, nil
	}
	for _, r := range t.refs[configAddress(rc.Address)+"."+attr] {
		base := strings.TrimSuffix(r, ".id")
		if ref, ok := t.created[base]; ok {
			return ref, nil
		}
	}
	return "", &source.Error{Pos: source.Pos{File: t.path}, Msg: fmt.Sprintf("%s: %s is unknown until apply and does not name a policy or OU created in this plan", origin, attr)}
}

// configAddress strips instance keys: aws_x.y[0] and aws_x.y["k"] -> aws_x.y.
func configAddress(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

func collectRefs(m *tfjson.ConfigModule, prefix string, into map[string][]string) {
	if m == nil {
		return
	}
	for _, r := range m.Resources {
		if r == nil {
			continue
		}
		for attr, e := range r.Expressions {
			if e == nil || e.ExpressionData == nil || len(e.References) == 0 {
				continue
			}
			refs := make([]string, len(e.References))
			for i, ref := range e.References {
				refs[i] = prefix + ref
			}
			into[prefix+r.Address+"."+attr] = refs
		}
	}
	for name, c := range m.ModuleCalls {
		if c != nil {
			collectRefs(c.Module, prefix+"module."+name+".", into)
		}
	}
}

func policyTypeOrDefault(t string) string {
	if t == "" {
		return "SERVICE_CONTROL_POLICY"
	}
	return t
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// jsonObject returns a change's before or after state as an object (nil
// when absent).
func jsonObject(v any, into *map[string]any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("want an object")
	}
	*into = m
	return nil
}

// jsonErrorText adds the line and column to a JSON syntax error.
func jsonErrorText(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range data[:min(int(se.Offset), len(data))] {
			if c == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		return fmt.Sprintf("line %d, column %d: %v", line, col, err)
	}
	return err.Error()
}
