package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/apiv1"
	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/change"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/inputfile"
	"github.com/orgguard/orgguard/internal/plan"
)

// planFlags are the flags every form of `orgguard plan` takes.
type planFlags struct {
	snapshot       string
	out            string
	format         string
	asJSON         bool
	changeFile     string
	terraformPlan  string
	expectAccounts []string
	expectCount    int
	overrides      []string
	author         string
	description    string
	now            string
	refresh        bool
	// submit: `orgguard plans submit`, the server plans and stores it.
	submit bool
}

func newPlanCmd(e *env) *cobra.Command { return newPlanCommand(e, false) }

// newPlanCommand builds `orgguard plan`, or with submit `orgguard plans
// submit`: the same operations, files and flags, the change planned and
// stored by the server.
func newPlanCommand(e *env, submit bool) *cobra.Command {
	pf := &planFlags{submit: submit}
	cmd := &cobra.Command{
		Use:   "plan [OPERATION] [flags]",
		Short: "Show exactly what a change would do, and whether the guardrails allow it",
		Long: `plan computes, before anything changes, the steps of a change with their exact
inverses, its blast radius (which member accounts lose or gain which actions,
over the whole AWS action catalog) and the guardrails' verdict: allowed, needs
N approvals, or refused — with every reason.

Give the change as an operation (a subcommand), as a change file (-f) or as a
Terraform plan (--terraform-plan). Exit codes: 0 allowed or needs approvals,
3 refused, 2 bad input, 4 other errors.`,
		Example: `  # The 2023 accident: deny-all on Root is refused, with its blast radius
  orgguard plan attach-policy --policy deny-all --target Root

  # The intended quarantine: exactly these accounts are affected
  orgguard plan quarantine --account 111122223333 --account acme-prod --out plan.json

  # A change file, or a Terraform plan (terraform show -json tfplan > tfplan.json)
  orgguard plan -f change.yaml --format markdown
  orgguard plan --terraform-plan tfplan.json --expect-count 12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case pf.changeFile != "" && pf.terraformPlan != "":
				return badInput(errors.New("give either -f or --terraform-plan, not both"))
			case pf.changeFile != "":
				f, err := change.ReadFile(pf.changeFile)
				if err != nil {
					return badInput(err)
				}
				req := plan.Request{Operations: f.Operations, Description: f.Description, Intent: f.Expect,
					Overrides: f.Overrides, Source: "file:" + pf.changeFile}
				return runPlan(cmd, e, pf, req)
			case pf.terraformPlan != "":
				r, err := change.ReadTerraformPlan(pf.terraformPlan)
				if err != nil {
					return badInput(err)
				}
				for _, ig := range r.Ignored {
					fmt.Fprintf(e.stderr, "orgguard: not planned: %s\n", ig)
				}
				if pf.asJSON {
					pf.format = "json"
				}
				if len(r.Operations) == 0 {
					// An unrelated Terraform change: nothing for orgguard to
					// judge, so a pull-request check passes.
					return writeNothingToPlan(e, pf)
				}
				return runPlan(cmd, e, pf, plan.Request{Operations: r.Operations, Source: "terraform:" + pf.terraformPlan})
			}
			return badInput(errors.New("say what to plan: an operation (orgguard plan --help lists them), -f change.yaml, or --terraform-plan tfplan.json"))
		},
	}
	if submit {
		cmd.Use = "submit [OPERATION] [flags]"
		cmd.Short = "Ask the server to plan a change and store it, with you as its author"
		cmd.Long = `plans submit takes what orgguard plan takes — an operation, a change file (-f)
or a Terraform plan (--terraform-plan) — and sends the change, as its
operations, to the server you logged in to (orgguard login). The server plans
it itself against the organization under its pinned guardrails and stores it
with your token's user as the author; it is never sent a plan file. The plan
is printed as orgguard plan prints it (--out keeps a copy). Then another
person approves it (orgguard approve ID) and you apply it (orgguard apply ID).

--author, --snapshot, --now, --store and --config cannot be used here.
Exit codes: 0 allowed or needs approvals, 3 refused, 2 bad input, 4 other
errors, 5 not logged in.`
		cmd.Example = `  orgguard plans submit quarantine --account acme-prod --account acme-dev --description "incident 42"
  orgguard plans submit -f change.yaml --expect-count 3`
	}
	fl := cmd.PersistentFlags()
	fl.StringVar(&pf.snapshot, "snapshot", "", "plan against this snapshot file instead of the configured backend")
	fl.StringVarP(&pf.out, "out", "o", "", "write the plan file here (JSON, hashed; apply takes it)")
	fl.StringVar(&pf.format, "format", "text", "output: text, json or markdown")
	fl.BoolVar(&pf.asJSON, "json", false, "print the plan file's JSON (same as --format json)")
	fl.StringSliceVar(&pf.expectAccounts, "expect-accounts", nil, "declared intent: exactly these accounts (IDs or names, comma-separated) are affected")
	fl.IntVar(&pf.expectCount, "expect-count", -1, "declared intent: exactly this many accounts are affected")
	fl.StringArrayVar(&pf.overrides, "override", nil, "override a guardrail rule with a reason: RULE=REASON (repeatable; adds approvals)")
	fl.StringVar(&pf.author, "author", "", "who is planning (default: identity.user from the configuration, else the OS user)")
	fl.StringVar(&pf.description, "description", "", "what the change is for, shown to approvers")
	fl.StringVar(&pf.now, "now", "", "evaluate windows and freezes at this instant (RFC 3339) instead of now")
	fl.BoolVar(&pf.refresh, "refresh", false, "on AWS, read the whole organization instead of starting from the latest stored read")
	cmd.Flags().StringVarP(&pf.changeFile, "file", "f", "", "a change file (YAML; see docs/change-files.md)")
	cmd.Flags().StringVar(&pf.terraformPlan, "terraform-plan", "", "a Terraform plan as JSON (terraform show -json)")
	addConfigFlag(cmd)
	for _, b := range planOperationBuilders() {
		cmd.AddCommand(b(e, pf))
	}
	return cmd
}

// planOperationBuilders lists the `orgguard plan OPERATION` subcommands.
func planOperationBuilders() []func(*env, *planFlags) *cobra.Command {
	return []func(*env, *planFlags) *cobra.Command{
		newPlanPolicyAttachmentCmd(change.OpAttachPolicy),
		newPlanPolicyAttachmentCmd(change.OpDetachPolicy),
		newPlanCreatePolicyCmd, newPlanUpdatePolicyCmd, newPlanDeletePolicyCmd,
		newPlanCreateOUCmd, newPlanMoveAccountCmd,
		newPlanPolicyTypeCmd(change.OpEnablePolicyType), newPlanPolicyTypeCmd(change.OpDisablePolicyType),
		newPlanQuarantineCmd, newPlanReleaseCmd,
	}
}

// opCmd builds a subcommand that plans one operation made by build.
func opCmd(e *env, pf *planFlags, use, short, example string, build func() (change.Operation, error)) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			op, err := build()
			if err != nil {
				return badInput(err)
			}
			return runPlan(cmd, e, pf, plan.Request{Operations: []change.Operation{op}, Source: "cli"})
		},
	}
}

func newPlanPolicyAttachmentCmd(op change.Op) func(*env, *planFlags) *cobra.Command {
	return func(e *env, pf *planFlags) *cobra.Command {
		var policy, target string
		verb, prep := "Attach", "to"
		if op == change.OpDetachPolicy {
			verb, prep = "Detach", "from"
		}
		c := opCmd(e, pf, string(op), verb+" a policy "+prep+" a root, OU or account",
			fmt.Sprintf("  orgguard plan %s --policy deny-s3 --target /Customers/Acme", op),
			func() (change.Operation, error) {
				return change.Operation{Op: op, Policy: policy, Target: target}, nil
			})
		c.Flags().StringVar(&policy, "policy", "", "policy ID or name (required)")
		c.Flags().StringVar(&target, "target", "", "Root, an OU path (/Customers/Acme), an OU or account name or ID (required)")
		_ = c.MarkFlagRequired("policy")
		_ = c.MarkFlagRequired("target")
		return c
	}
}

func newPlanCreatePolicyCmd(e *env, pf *planFlags) *cobra.Command {
	var name, typ, file, desc string
	c := opCmd(e, pf, "create-policy", "Create an SCP or RCP from a JSON file",
		"  orgguard plan create-policy --name deny-s3 --type SCP --file deny-s3.json",
		func() (change.Operation, error) {
			content, err := readPolicyFile(file)
			return change.Operation{Op: change.OpCreatePolicy, Name: name, Type: typ, Content: content, Description: desc}, err
		})
	c.Flags().StringVar(&name, "name", "", "policy name (required)")
	c.Flags().StringVar(&typ, "type", "SCP", "SCP or RCP")
	c.Flags().StringVar(&file, "file", "", "policy document (JSON) (required)")
	c.Flags().StringVar(&desc, "description", "", "policy description")
	_ = c.MarkFlagRequired("name")
	_ = c.MarkFlagRequired("file")
	return c
}

func newPlanUpdatePolicyCmd(e *env, pf *planFlags) *cobra.Command {
	var policy, file string
	c := opCmd(e, pf, "update-policy", "Replace a policy's content (every target it is attached to is affected)",
		"  orgguard plan update-policy --policy region-lock-eu --file region-lock-eu.json",
		func() (change.Operation, error) {
			content, err := readPolicyFile(file)
			return change.Operation{Op: change.OpUpdatePolicy, Policy: policy, Content: content}, err
		})
	c.Flags().StringVar(&policy, "policy", "", "policy ID or name (required)")
	c.Flags().StringVar(&file, "file", "", "the new policy document (JSON) (required)")
	_ = c.MarkFlagRequired("policy")
	_ = c.MarkFlagRequired("file")
	return c
}

func newPlanDeletePolicyCmd(e *env, pf *planFlags) *cobra.Command {
	var policy string
	c := opCmd(e, pf, "delete-policy", "Detach a policy everywhere and delete it",
		"  orgguard plan delete-policy --policy deny-marketplace",
		func() (change.Operation, error) {
			return change.Operation{Op: change.OpDeletePolicy, Policy: policy}, nil
		})
	c.Flags().StringVar(&policy, "policy", "", "policy ID or name (required)")
	_ = c.MarkFlagRequired("policy")
	return c
}

func newPlanCreateOUCmd(e *env, pf *planFlags) *cobra.Command {
	var parent, name string
	c := opCmd(e, pf, "create-ou", "Create an organizational unit",
		"  orgguard plan create-ou --parent /Customers --name Acme",
		func() (change.Operation, error) {
			return change.Operation{Op: change.OpCreateOU, Parent: parent, Name: name}, nil
		})
	c.Flags().StringVar(&parent, "parent", "Root", "parent: Root or an OU")
	c.Flags().StringVar(&name, "name", "", "OU name (required)")
	_ = c.MarkFlagRequired("name")
	return c
}

func newPlanMoveAccountCmd(e *env, pf *planFlags) *cobra.Command {
	var accounts []string
	var to string
	c := opCmd(e, pf, "move-account", "Move accounts to another OU (the source parent is recorded for rollback)",
		"  orgguard plan move-account --account acme-dev --to /Sandbox",
		func() (change.Operation, error) {
			return change.Operation{Op: change.OpMoveAccount, Accounts: accounts, To: to}, nil
		})
	c.Flags().StringArrayVar(&accounts, "account", nil, "account ID or name (repeatable) (required)")
	c.Flags().StringVar(&to, "to", "", "destination: Root or an OU (required)")
	_ = c.MarkFlagRequired("account")
	_ = c.MarkFlagRequired("to")
	return c
}

func newPlanPolicyTypeCmd(op change.Op) func(*env, *planFlags) *cobra.Command {
	return func(e *env, pf *planFlags) *cobra.Command {
		var typ string
		verb := "Enable"
		if op == change.OpDisablePolicyType {
			verb = "Disable (detaches every policy of the type)"
		}
		c := opCmd(e, pf, string(op), verb+" SCPs or RCPs at the root",
			fmt.Sprintf("  orgguard plan %s --type RCP", op),
			func() (change.Operation, error) {
				return change.Operation{Op: op, Type: typ}, nil
			})
		c.Flags().StringVar(&typ, "type", "", "SCP or RCP (required)")
		_ = c.MarkFlagRequired("type")
		return c
	}
}

func newPlanQuarantineCmd(e *env, pf *planFlags) *cobra.Command {
	var accounts []string
	c := opCmd(e, pf, "quarantine", "Quarantine accounts the standard way: quarantine OU + deny-all SCP, then move them in",
		"  orgguard plan quarantine --account 111122223333 --account acme-prod --out quarantine.json",
		func() (change.Operation, error) {
			return change.Operation{Op: change.OpQuarantine, Accounts: accounts}, nil
		})
	c.Flags().StringArrayVar(&accounts, "account", nil, "account ID or name to quarantine (repeatable) (required)")
	_ = c.MarkFlagRequired("account")
	return c
}

func newPlanReleaseCmd(e *env, pf *planFlags) *cobra.Command {
	var accounts []string
	var to string
	c := opCmd(e, pf, "release", "Move quarantined accounts back out of the quarantine OU",
		"  orgguard plan release --account acme-prod --to /Customers/Acme",
		func() (change.Operation, error) {
			return change.Operation{Op: change.OpRelease, Accounts: accounts, To: to}, nil
		})
	c.Flags().StringArrayVar(&accounts, "account", nil, "account ID or name to release (repeatable) (required)")
	c.Flags().StringVar(&to, "to", "", "where the accounts go back to (required)")
	_ = c.MarkFlagRequired("account")
	_ = c.MarkFlagRequired("to")
	return c
}

func readPolicyFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("--file is required")
	}
	b, err := inputfile.Read(path, inputfile.Policy, "policy document")
	if err != nil {
		return "", fmt.Errorf("reading policy document: %w", err)
	}
	return string(b), nil
}

// runPlan plans req with the flags' intent and overrides, prints it and
// writes the plan file.
func runPlan(cmd *cobra.Command, e *env, pf *planFlags, req plan.Request) error {
	ctx := cmd.Context()
	if pf.asJSON {
		pf.format = "json"
	}
	if pf.format != "text" && pf.format != "json" && pf.format != "markdown" {
		return badInput(fmt.Errorf("--format %q: want text, json or markdown", pf.format))
	}
	if pf.description != "" {
		req.Description = pf.description
	}
	if len(pf.expectAccounts) > 0 || pf.expectCount >= 0 {
		if req.Intent == nil {
			req.Intent = &change.Intent{}
		}
		if len(pf.expectAccounts) > 0 {
			req.Intent.Accounts = pf.expectAccounts
		}
		if pf.expectCount >= 0 {
			n := pf.expectCount
			req.Intent.Count = &n
		}
	}
	for _, o := range pf.overrides {
		rule, reason, ok := strings.Cut(o, "=")
		if !ok || strings.TrimSpace(rule) == "" || strings.TrimSpace(reason) == "" {
			return badInput(fmt.Errorf("--override %q: want RULE=REASON, e.g. window=\"customer outage, approved by the duty manager\"", o))
		}
		req.Overrides = append(req.Overrides, change.Override{Rule: strings.TrimSpace(rule), Reason: strings.TrimSpace(reason)})
	}
	if pf.submit {
		return runSubmit(cmd, e, pf, req)
	}
	a, err := openApp(cmd, e, &appFlags{by: pf.author, now: pf.now}, false)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	res, err := a.Plan(ctx, app.PlanRequest{Request: req, SnapshotPath: pf.snapshot, Save: pf.out != "", Refresh: pf.refresh})
	callReport(e, a, start, e.verbose, pf.format == "json")
	if err != nil {
		return appError(err)
	}
	if br := res.File.BaseRead; br != nil {
		fmt.Fprintf(e.stderr, "orgguard: planned on a %s\n", br)
	}
	for _, u := range res.Unprotected {
		fmt.Fprintf(e.stderr, "orgguard: warning: guardrails.protected.targets entry %q matches nothing in this organization\n", u)
	}
	return writePlanOutput(e, pf, res.File)
}

// writePlanOutput writes plan f as pf asks (--out, --format) and exits 3
// when the guardrails refused it.
func writePlanOutput(e *env, pf *planFlags, f *plan.File) error {
	var err error
	if pf.out != "" {
		// The stored plan is the record approvals and apply act on; the
		// file is a copy for people (and for naming the plan).
		if err := f.Write(pf.out); err != nil {
			return withCode(ExitInternal, err)
		}
	}
	switch pf.format {
	case "json":
		// Machine output: the compact encoding, as hashed (a plan of
		// thousands of accounts is megabytes; indenting it costs time),
		// streamed.
		if err = f.WriteCompact(e.stdout); err == nil {
			_, err = io.WriteString(e.stdout, "\n")
		}
	case "markdown":
		err = plan.WriteMarkdown(e.stdout, f, plan.MarkdownOptions{PlanFile: pf.out})
	default:
		err = plan.WriteText(e.stdout, f, plan.TextOptions{Color: e.color})
		if err == nil && pf.out != "" {
			_, err = fmt.Fprintf(e.stdout, "\nPlan written to %s (%s)\n", pf.out, f.PlanHash)
		}
	}
	if err != nil {
		return withCode(ExitInternal, err)
	}
	if f.Verdict == guard.Refused {
		return silentExit(ExitRefused)
	}
	return nil
}

// runSubmit sends req to the server to plan and store (plans submit).
func runSubmit(cmd *cobra.Command, e *env, pf *planFlags, req plan.Request) error {
	c, err := serverClient(cmd)
	if err != nil {
		return err
	}
	if c == nil {
		return withCode(ExitAuth, errors.New("plans submit needs a server: log in first (orgguard login --server URL), or plan locally with orgguard plan --out"))
	}
	if err := refuseLocalFlags(cmd, c, "author", "snapshot", "now", "store", "config"); err != nil {
		return err
	}
	p, err := c.SubmitPlan(cmd.Context(), apiv1.PlanRequest{Operations: req.Operations, Description: req.Description,
		Expect: req.Intent, Overrides: req.Overrides, Source: req.Source, Refresh: pf.refresh})
	if err != nil {
		return remoteError(err)
	}
	f, err := plan.Parse(p.File, c.Server())
	if err != nil {
		return withCode(ExitInternal, fmt.Errorf("reading the plan %s sent: %w", c.Server(), err))
	}
	if f.ID != p.ID {
		return withCode(ExitInternal, fmt.Errorf("the server answered plan %s with the file of plan %s", p.ID, f.ID))
	}
	fmt.Fprintf(e.stderr, "orgguard: stored on %s as plan %s, author %s; next: orgguard approve %s (another person), then orgguard apply %s\n",
		c.Server(), display.Text(p.ID), display.Text(p.Author), display.Text(p.ID), display.Text(p.ID))
	return writePlanOutput(e, pf, f)
}

// writeNothingToPlan reports a Terraform plan without Organizations
// changes, in the requested format, and exits 0.
func writeNothingToPlan(e *env, pf *planFlags) error {
	const why = "no AWS Organizations policy, attachment, OU or account-move changes"
	var err error
	switch pf.format {
	case "json":
		err = json.NewEncoder(e.stdout).Encode(struct {
			NothingToPlan bool   `json:"nothingToPlan"`
			Source        string `json:"source"`
			Reason        string `json:"reason"`
		}{true, "terraform:" + pf.terraformPlan, why})
	case "markdown":
		_, err = fmt.Fprintf(e.stdout, "### ✅ orgguard: nothing to plan\n\n%s has %s.\n", display.MarkdownCode(pf.terraformPlan), why)
	default:
		_, err = fmt.Fprintf(e.stdout, "Nothing to plan: %s has %s.\n", pf.terraformPlan, why)
	}
	if err != nil {
		return withCode(ExitInternal, err)
	}
	return nil
}
