package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/conformance"
	"github.com/orgguard/orgguard/internal/inputfile"
	"github.com/orgguard/orgguard/internal/policy"
)

type simulateFlags struct {
	principal, action, resource, resourceAccount string
	context                                      []string
	identity                                     []string
	scpLevels, rcpLevels                         []string
	boundary, session                            []string
	resourcePolicy                               string
	resourceGrantsNothing                        bool
	vpcEndpoints                                 []string
	vpcEndpointType                              string
	orgID, mgmtAccount                           string
	caseFile, caseName                           string
	asJSON                                       bool
}

func newSimulateCmd(e *env) *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Evaluate one request against policies and explain the decision",
		Long: `simulate evaluates one request with the policy engine and prints the
decision (Allowed, ImplicitlyDenied or ExplicitlyDenied) and its explanation:
which policy kind decided, which SCP or RCP level, which statements matched.

The request is given with flags, or as a conformance case file with --case
(every case of the file, or the one named by --name).

Policy files are JSON policy documents. SCP and RCP chains are given one
level per flag, root first, account last: --scp-level 'root.json' --scp-level
'ou1.json,ou1-extra.json' --scp-level 'account.json'. An RCP level may be empty
(--rcp-level ''): RCPFullAWSAccess is implied at every level. Without any
--scp-level the principal's account is not in an organization.

A request through VPC endpoints takes one --vpc-endpoint-policy per
endpoint; the explanation names the endpoint policy that decided. A request
on a KMS key without --resource-policy is evaluated against AWS's default
key policy (with a warning on standard error and a note in the
explanation); --resource-policy-grants-nothing stands for a key policy that
allows no one.

Exit codes: 0 whatever the decision, 2 bad input (unreadable or malformed
file, bad flag).`,
		Example: `  orgguard simulate --principal arn:aws:iam::111111111111:role/Dev \
    --action s3:GetObject --resource arn:aws:s3:::bucket1/key.txt \
    --identity-policy dev.json --scp-level full.json --scp-level deny-s3.json \
    --context aws:PrincipalTag/team=blue --context aws:TagKeys=a --context aws:TagKeys=b
  orgguard simulate --case testdata/cases/scp.json --name scp-deny-at-ou-level --json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return badInput(fmt.Errorf("simulate takes no arguments, got %q (see 'orgguard simulate --help')", args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.caseFile != "" {
				return simulateCases(e, cmd, f)
			}
			return simulateFlagsRequest(e, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.principal, "principal", "", "principal ARN, service principal (s3.amazonaws.com) or \"anonymous\"")
	fl.StringVar(&f.action, "action", "", "action, e.g. s3:GetObject")
	fl.StringVar(&f.resource, "resource", "*", "resource ARN or *")
	fl.StringVar(&f.resourceAccount, "resource-account", "", "12-digit account owning the resource (default: the principal's)")
	fl.StringArrayVar(&f.context, "context", nil, "request context key=value (repeatable; a key given twice makes a list)")
	fl.StringArrayVar(&f.identity, "identity-policy", nil, "identity-based policy FILE (repeatable)")
	fl.StringArrayVar(&f.scpLevels, "scp-level", nil, "comma-separated SCP files attached at one level (repeatable, root first)")
	fl.StringArrayVar(&f.rcpLevels, "rcp-level", nil, "comma-separated RCP files attached at one level (repeatable, root first; may be empty)")
	fl.StringArrayVar(&f.boundary, "boundary", nil, "permissions boundary FILE (at most one: a boundary is one managed policy)")
	fl.StringArrayVar(&f.session, "session-policy", nil, "session policy FILE (repeatable)")
	fl.StringVar(&f.resourcePolicy, "resource-policy", "", "resource-based policy FILE")
	fl.BoolVar(&f.resourceGrantsNothing, "resource-policy-grants-nothing", false, "the resource's policy grants nothing (for a KMS key: a key policy that allows no one, instead of the assumed default key policy)")
	fl.StringArrayVar(&f.vpcEndpoints, "vpc-endpoint-policy", nil, "policy FILE of a VPC endpoint the request goes through (repeatable: one per endpoint)")
	fl.StringVar(&f.vpcEndpointType, "vpc-endpoint-type", "interface", "type of the --vpc-endpoint-policy endpoints: interface or gateway (where an account principal names its root user only)")
	fl.StringVar(&f.orgID, "org-id", "", "organization ID (o-...), for aws:PrincipalOrgID")
	fl.StringVar(&f.mgmtAccount, "management-account", "", "the organization's management account (exempt from SCPs and RCPs)")
	fl.StringVar(&f.caseFile, "case", "", "conformance case FILE to simulate instead of flags")
	fl.StringVar(&f.caseName, "name", "", "with --case: simulate only the case with this name")
	fl.BoolVar(&f.asJSON, "json", false, "print machine-readable output")
	return cmd
}

// loadPolicyFile reads, validates (for kind) and compiles one policy file.
func loadPolicyFile(path string, k policy.Kind) (*policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, badInput(fmt.Errorf("reading %s policy: %w", k, err))
	}
	p, _, err := policy.Load(data, policy.Source{File: path}, k, path)
	if err != nil {
		return nil, badInput(err)
	}
	return p, nil
}

func loadPolicyFiles(paths []string, k policy.Kind) ([]*policy.Policy, error) {
	out := make([]*policy.Policy, 0, len(paths))
	for _, p := range paths {
		pol, err := loadPolicyFile(p, k)
		if err != nil {
			return nil, err
		}
		out = append(out, pol)
	}
	return out, nil
}

func loadLevels(specs []string, k policy.Kind) ([]policy.Level, error) {
	levels := make([]policy.Level, 0, len(specs))
	for _, spec := range specs {
		var files []string
		for _, f := range strings.Split(spec, ",") {
			if f = strings.TrimSpace(f); f != "" {
				files = append(files, f)
			}
		}
		ps, err := loadPolicyFiles(files, k)
		if err != nil {
			return nil, err
		}
		levels = append(levels, policy.Level{ID: spec, Policies: ps})
	}
	return levels, nil
}

// parseContext turns key=value flags into a context; a key given twice
// (case-insensitively) makes a list.
func parseContext(kvs []string) (map[string][]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	ctx := make(map[string][]string)
	canon := make(map[string]string)
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, badInput(fmt.Errorf("--context %q: want key=value", kv))
		}
		lk := strings.ToLower(k)
		if c, seen := canon[lk]; seen {
			k = c
		} else {
			canon[lk] = k
		}
		ctx[k] = append(ctx[k], v)
	}
	return ctx, nil
}

func simulateFlagsRequest(e *env, f simulateFlags) error {
	if f.principal == "" || f.action == "" {
		return badInput(errors.New("simulate needs --principal and --action, or --case FILE (see 'orgguard simulate --help')"))
	}
	ctx, err := parseContext(f.context)
	if err != nil {
		return err
	}
	req := policy.Request{Principal: f.principal, Action: f.action, Resource: f.resource, ResourceAccount: f.resourceAccount, Context: ctx}
	warnUnknownActions(e, f)
	set := &policy.PolicySet{RCPServices: rcpServices()}
	if set.Identity, err = loadPolicyFiles(f.identity, policy.KindIdentity); err != nil {
		return err
	}
	if len(f.boundary) > 1 {
		return badInput(fmt.Errorf("--boundary given %d times: a permissions boundary is one managed policy", len(f.boundary)))
	}
	if len(f.boundary) > 0 {
		if set.Boundary, err = loadPolicyFiles(f.boundary, policy.KindBoundary); err != nil {
			return err
		}
	}
	if len(f.session) > 0 {
		if set.Session, err = loadPolicyFiles(f.session, policy.KindSession); err != nil {
			return err
		}
	}
	if f.resourcePolicy != "" && f.resourceGrantsNothing {
		return badInput(errors.New("--resource-policy and --resource-policy-grants-nothing cannot be combined"))
	}
	if f.resourcePolicy != "" {
		if set.Resource, err = loadPolicyFile(f.resourcePolicy, policy.KindResource); err != nil {
			return err
		}
	}
	set.ResourceGrantsNothing = f.resourceGrantsNothing
	var gateway bool
	switch f.vpcEndpointType {
	case "interface":
	case "gateway":
		gateway = true
	default:
		return badInput(fmt.Errorf("--vpc-endpoint-type %q: want interface or gateway", f.vpcEndpointType))
	}
	for _, path := range f.vpcEndpoints {
		p, err := loadPolicyFile(path, policy.KindVPCEndpoint)
		if err != nil {
			return err
		}
		set.VPCEndpoints = append(set.VPCEndpoints, policy.VPCEndpoint{Policy: p, Gateway: gateway})
	}
	if set.Resource == nil && !set.ResourceGrantsNothing && policy.IsKMSKey(f.resource) && !policy.NoPermissionsRequired(f.action) {
		if _, err := fmt.Fprintf(e.stderr, "warning: %s is a KMS key and no --resource-policy was given: AWS's default key policy is assumed (use --resource-policy-grants-nothing for a key policy that allows no one)\n", f.resource); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing a warning: %w", err))
		}
	}
	if set.SCPs, err = loadLevels(f.scpLevels, policy.KindSCP); err != nil {
		return err
	}
	if set.RCPs, err = loadLevels(f.rcpLevels, policy.KindRCP); err != nil {
		return err
	}
	var org *policy.Org
	if f.orgID != "" || f.mgmtAccount != "" {
		org = &policy.Org{ID: f.orgID, ManagementAccount: f.mgmtAccount}
		set.Org = org
	}
	rc, err := policy.NewRequestContext(req, org)
	if err != nil {
		return badInput(fmt.Errorf("preparing the request: %w", err))
	}
	res := policy.Evaluate(rc, set)
	out := simulateOutput{Decision: res.Decision, Explanation: res.Explain()}
	return writeSimulate(e.stdout, []simulateOutput{out}, f.asJSON, false)
}

type simulateOutput struct {
	Case        string             `json:"case,omitempty"`
	Expect      *policy.Decision   `json:"expect,omitempty"`
	Skipped     string             `json:"skipped,omitempty"`
	Decision    policy.Decision    `json:"decision"`
	Explanation policy.Explanation `json:"explanation"`
}

func simulateCases(e *env, cmd *cobra.Command, f simulateFlags) error {
	for _, name := range []string{"principal", "action", "resource", "resource-account", "context", "identity-policy", "scp-level", "rcp-level", "boundary", "session-policy", "resource-policy", "resource-policy-grants-nothing", "vpc-endpoint-policy", "vpc-endpoint-type", "org-id", "management-account"} {
		if cmd.Flags().Changed(name) {
			return badInput(fmt.Errorf("--case cannot be combined with --%s", name))
		}
	}
	file, err := conformance.LoadFile(f.caseFile)
	if err != nil {
		return badInput(err)
	}
	for _, w := range file.Warnings {
		if _, err := fmt.Fprintln(e.stderr, w); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing a warning: %w", err))
		}
	}
	opts := conformance.Options{RCPServices: rcpServices()}
	var outs []simulateOutput
	for _, c := range file.Cases {
		if f.caseName != "" && c.Name != f.caseName {
			continue
		}
		exp := c.Expect
		o := simulateOutput{Case: c.Name, Expect: &exp}
		r := conformance.Run(c, opts)
		if r.Status == conformance.Skipped {
			o.Skipped = r.Reason
		} else {
			o.Decision, o.Explanation = r.Got, r.Explanation
		}
		outs = append(outs, o)
	}
	if f.caseName != "" && len(outs) == 0 {
		return badInput(fmt.Errorf("%s has no case named %q", f.caseFile, f.caseName))
	}
	return writeSimulate(e.stdout, outs, f.asJSON, true)
}

func writeSimulate(w io.Writer, outs []simulateOutput, asJSON, fromCases bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		var err error
		if fromCases {
			err = enc.Encode(outs)
		} else {
			err = enc.Encode(outs[0])
		}
		if err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing output: %w", err))
		}
		return nil
	}
	var b strings.Builder
	for i, o := range outs {
		if i > 0 {
			b.WriteByte('\n')
		}
		if o.Case != "" {
			fmt.Fprintf(&b, "case %s (expect %s)\n", o.Case, *o.Expect)
		}
		if o.Skipped != "" {
			fmt.Fprintf(&b, "skipped: %s\n", o.Skipped)
			continue
		}
		fmt.Fprintf(&b, "decision: %s\n", o.Decision)
		if ex := strings.TrimRight(o.Explanation.String(), "\n"); ex != "" {
			b.WriteString(ex)
			b.WriteByte('\n')
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return withCode(ExitInternal, fmt.Errorf("writing output: %w", err))
	}
	return nil
}

// warnUnknownActions warns, on stderr, about the requested action and every
// action of the given policy files that the catalog does not know, with the
// nearest catalog names: such an action never matches a request.
func warnUnknownActions(e *env, f simulateFlags) {
	cat, err := catalog.Load()
	if err != nil {
		return
	}
	if ok, why := cat.CheckAction(f.action); !ok {
		fmt.Fprintf(e.stderr, "orgguard: warning: --action: %s\n", why)
	}
	files := append(append(append([]string{}, f.identity...), f.boundary...), f.session...)
	for _, spec := range append(append([]string{}, f.scpLevels...), f.rcpLevels...) {
		for _, p := range strings.Split(spec, ",") {
			if p = strings.TrimSpace(p); p != "" {
				files = append(files, p)
			}
		}
	}
	if f.resourcePolicy != "" {
		files = append(files, f.resourcePolicy)
	}
	for _, p := range files {
		data, err := inputfile.Read(p, inputfile.Policy, "policy document")
		if err != nil {
			continue // reported when the file is loaded
		}
		doc, err := policy.Parse(data, policy.Source{File: p})
		if err != nil {
			continue
		}
		for _, fd := range doc.UnknownActions(cat.CheckAction) {
			fmt.Fprintf(e.stderr, "orgguard: %s\n", fd)
		}
	}
}
