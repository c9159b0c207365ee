package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/app"
	"github.com/orgguard/orgguard/internal/org"
)

// newOrgCmd builds `orgguard org`: read, show and compare the organization.
func newOrgCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "org",
		Short: "Read, show and compare the organization (root, OUs, accounts, policies)",
		Long: `Read the organization from the configured backend (the simulated organization
by default, or AWS — see docs/configuration.md), save snapshots of it, show
its tree with the policies attached at each node, and compare snapshots.
Snapshot files are described in docs/snapshot-format.md.`,
		Example: `  orgguard org show --depth 2
  orgguard org snapshot --out before.json
  orgguard org diff before.json after.json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	addConfigFlag(cmd)
	cmd.AddCommand(newOrgSnapshotCmd(e), newOrgShowCmd(e), newOrgDiffCmd(e))
	return cmd
}

// usageArgs marks argument-count errors as usage errors (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			var fe *flagError
			if errors.As(err, &fe) {
				return err // wrapped once already (wrapArgs over usageArgs)
			}
			return &flagError{err: fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
		}
		return nil
	}
}

// readSnapshot loads a snapshot file, or reads the configured backend when
// path is empty.
func readSnapshot(cmd *cobra.Command, e *env, path string) (*org.Snapshot, error) {
	a, err := openApp(cmd, e, &appFlags{}, false)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	s, err := a.Snapshot(cmd.Context(), path)
	return s, appError(err)
}

func newOrgSnapshotCmd(e *env) *cobra.Command {
	var out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "snapshot --out FILE",
		Short: "Save the whole organization to a snapshot file",
		Long: `Read the whole organization from the configured backend and write it to a
snapshot file (docs/snapshot-format.md). The file is replaced atomically. With
--out - the snapshot goes to standard output.`,
		Example: `  orgguard org snapshot --out snapshots/2026-11-27.json
  orgguard org snapshot --config prod.yaml --out prod.json
  orgguard org snapshot --out - | jq '.accounts | length'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(errors.New("--out is required (a file name, or - for standard output)"))
			}
			a, err := openApp(cmd, e, &appFlags{}, false)
			if err != nil {
				return err
			}
			defer a.Close()
			s, err := a.Snapshot(cmd.Context(), "")
			if err != nil {
				return appError(err)
			}
			// The AWS backend counts its API calls; say how many it took.
			var stats *app.CallStats
			if st, ok := a.SnapshotCalls(); ok {
				stats = &st
			}
			if out == "-" {
				data, err := org.MarshalSnapshot(s)
				if err != nil {
					return withCode(ExitInternal, err)
				}
				_, err = e.stdout.Write(data)
				return err
			}
			if err := org.WriteSnapshotFile(out, s); err != nil {
				return withCode(ExitInternal, err)
			}
			sum := summarize(s)
			if asJSON {
				doc := map[string]any{
					"file": out, "fingerprint": s.Fingerprint, "takenAt": s.TakenAt, "source": s.Source,
					"accounts": sum.accounts, "organizationalUnits": sum.ous, "scps": sum.scps, "rcps": sum.rcps,
				}
				if stats != nil {
					doc["apiCalls"], doc["apiRetries"], doc["seconds"] = stats.TotalCalls(), stats.Retries(), stats.Elapsed.Seconds()
				}
				return writeJSON(e.stdout, doc)
			}
			fmt.Fprintf(e.stdout, "wrote %s: %d accounts, %d OUs, %d SCPs, %d RCPs\nfingerprint %s\n",
				out, sum.accounts, sum.ous, sum.scps, sum.rcps, s.Fingerprint)
			if stats != nil {
				fmt.Fprintf(e.stdout, "read with %d API calls (%d retries) in %s\n", stats.TotalCalls(), stats.Retries(), stats.Elapsed.Round(time.Millisecond))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (- for standard output)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as JSON")
	return cmd
}

type snapSummary struct{ accounts, ous, scps, rcps int }

func summarize(s *org.Snapshot) snapSummary {
	sum := snapSummary{accounts: len(s.Accounts), ous: len(s.OUs)}
	for _, p := range s.Policies {
		switch p.Type {
		case org.ServiceControlPolicy:
			sum.scps++
		case org.ResourceControlPolicy:
			sum.rcps++
		}
	}
	return sum
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func newOrgShowCmd(e *env) *cobra.Command {
	var (
		snapPath string
		asJSON   bool
		depth    int
		accounts bool
	)
	cmd := &cobra.Command{
		Use:   "show [NODE]",
		Short: "Print the organization tree with the policies attached at each node",
		Long: `Print the organization as a tree: the root, OUs and accounts, each with the SCPs
and RCPs attached to it directly. NODE starts the tree elsewhere: an ID, Root,
an OU path such as /Customers/Acme, or a unique OU or account name.

The organization comes from --snapshot FILE, or else from the configured
backend. Colour is used only when standard output is a terminal (and NO_COLOR
is not set).`,
		Example: `  orgguard org show --depth 2 --accounts=false
  orgguard org show /Customers --snapshot before.json
  orgguard org show acme-prod --json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if depth < 0 {
				return badInput(fmt.Errorf("--depth %d: want 0 (no limit) or more", depth))
			}
			s, err := readSnapshot(cmd, e, snapPath)
			if err != nil {
				return err
			}
			x, err := org.NewIndex(s)
			if err != nil {
				return badInput(err)
			}
			start := x.Root()
			if len(args) == 1 {
				start, err = x.Resolve(args[0])
				if err != nil {
					return badInput(err)
				}
			}
			opts := treeOptions{depth: depth, accounts: accounts}
			if asJSON {
				return writeJSON(e.stdout, map[string]any{
					"fingerprint": s.Fingerprint, "source": s.Source, "takenAt": s.TakenAt,
					"tree": buildTree(x, start, opts, 0),
				})
			}
			opts.color = e.color
			return printTree(e.stdout, x, start, opts)
		},
	}
	cmd.Flags().StringVar(&snapPath, "snapshot", "", "read this snapshot file instead of the configured backend")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tree as JSON")
	cmd.Flags().IntVar(&depth, "depth", 0, "show at most this many levels below NODE (0: all)")
	cmd.Flags().BoolVar(&accounts, "accounts", true, "show accounts (--accounts=false: OUs only)")
	return cmd
}

type treeOptions struct {
	depth    int
	accounts bool
	color    bool
}

type policyRef struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	AWSManaged bool   `json:"awsManaged,omitempty"`
}

type treeNode struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Kind     string      `json:"kind"`
	Path     string      `json:"path"`
	Status   string      `json:"status,omitempty"`
	Email    string      `json:"email,omitempty"`
	SCPs     []policyRef `json:"scps"`
	RCPs     []policyRef `json:"rcps"`
	Children []*treeNode `json:"children,omitempty"`
	// Hidden counts what --depth or --accounts=false left out below.
	HiddenOUs      int `json:"hiddenOUs,omitempty"`
	HiddenAccounts int `json:"hiddenAccounts,omitempty"`
}

// refs lists policies for display: AWS-managed first, then by name.
func refs(ps []org.Policy) []policyRef {
	out := make([]policyRef, len(ps))
	for i, p := range ps {
		out[i] = policyRef{ID: p.ID, Name: p.Name, AWSManaged: p.AWSManaged}
	}
	slices.SortFunc(out, func(a, b policyRef) int {
		if a.AWSManaged != b.AWSManaged {
			if a.AWSManaged {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

func buildTree(x *org.Index, n org.Node, o treeOptions, level int) *treeNode {
	t := &treeNode{
		ID: n.ID, Name: n.Name, Kind: n.Kind.String(), Path: x.PathString(n.ID),
		SCPs: refs(x.PoliciesAttached(n.ID, org.ServiceControlPolicy)),
		RCPs: refs(x.PoliciesAttached(n.ID, org.ResourceControlPolicy)),
	}
	if n.Kind == org.KindAccount {
		a, _ := x.Account(n.ID)
		t.Status, t.Email = a.Status, a.Email
		return t
	}
	for _, c := range x.Children(n.ID) {
		hidden := (o.depth > 0 && level >= o.depth) || (c.Kind == org.KindAccount && !o.accounts)
		if hidden {
			if c.Kind == org.KindOU {
				t.HiddenOUs += 1 + len(x.OUsUnder(c.ID))
				t.HiddenAccounts += len(x.AccountsUnder(c.ID))
			} else {
				t.HiddenAccounts++
			}
			continue
		}
		t.Children = append(t.Children, buildTree(x, c, o, level+1))
	}
	return t
}

// ANSI styles for the terminal tree.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiBlue   = "\x1b[34m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

func printTree(w io.Writer, x *org.Index, start org.Node, o treeOptions) error {
	style := func(code, s string) string {
		if !o.color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	line := func(prefix string, t *treeNode) {
		b.WriteString(prefix)
		switch t.Kind {
		case "root":
			b.WriteString(style(ansiBold, "Root"))
		case "ou":
			b.WriteString(style(ansiBold+ansiBlue, t.Name+"/"))
		default:
			name := t.Name
			if t.Status != "" && t.Status != org.AccountActive {
				name += " [" + t.Status + "]"
				name = style(ansiRed, name)
			}
			b.WriteString(name)
		}
		b.WriteString(" " + style(ansiDim, t.ID))
		if len(t.SCPs) > 0 {
			b.WriteString("  " + style(ansiYellow, "SCP:") + " " + names(t.SCPs))
		}
		if len(t.RCPs) > 0 {
			b.WriteString("  " + style(ansiCyan, "RCP:") + " " + names(t.RCPs))
		}
		if t.HiddenOUs+t.HiddenAccounts > 0 {
			var parts []string
			if t.HiddenOUs > 0 {
				parts = append(parts, plural(t.HiddenOUs, "OU"))
			}
			if t.HiddenAccounts > 0 {
				parts = append(parts, plural(t.HiddenAccounts, "account"))
			}
			b.WriteString("  " + style(ansiDim, "(+"+strings.Join(parts, ", ")+" not shown)"))
		}
		b.WriteByte('\n')
	}
	var walk func(t *treeNode, indent string)
	walk = func(t *treeNode, indent string) {
		for i, c := range t.Children {
			last := i == len(t.Children)-1
			branch, next := "├── ", "│   "
			if last {
				branch, next = "└── ", "    "
			}
			line(indent+branch, c)
			walk(c, indent+next)
		}
	}
	root := buildTree(x, start, o, 0)
	if start.Kind == org.KindOU {
		b.WriteString(style(ansiDim, x.PathString(start.ID)) + "\n")
	}
	line("", root)
	walk(root, "")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func names(ps []policyRef) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name
	}
	return strings.Join(s, ", ")
}

func newOrgDiffCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Show what changed between two snapshots",
		Long: `Compare two snapshot files: OUs, accounts and policies added, removed, moved or
renamed; policy content changed; attachments added or removed; policy types
enabled or disabled.

Exit status: 0 when the snapshots describe the same organization, 1 when they
differ, 2 when a file cannot be read.`,
		Example: `  orgguard org diff before.json after.json
  orgguard org diff before.json after.json --json | jq '.changes[] | select(.kind == "attachment-removed")'`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			var idx [2]*org.Index
			for i, p := range args {
				s, err := org.ReadSnapshotFile(p)
				if err != nil {
					return badInput(err)
				}
				if idx[i], err = org.NewIndex(s); err != nil {
					return badInput(fmt.Errorf("%s: %w", p, err))
				}
			}
			changes := org.Diff(idx[0], idx[1])
			if changes == nil {
				changes = []org.Change{}
			}
			fa, fb := idx[0].Snapshot().Fingerprint, idx[1].Snapshot().Fingerprint
			if asJSON {
				if err := writeJSON(e.stdout, map[string]any{
					"a":    map[string]string{"file": args[0], "fingerprint": fa},
					"b":    map[string]string{"file": args[1], "fingerprint": fb},
					"same": len(changes) == 0, "changes": changes,
				}); err != nil {
					return err
				}
			} else {
				printChanges(e.stdout, args[0], args[1], changes)
			}
			if len(changes) > 0 {
				return silentExit(ExitFailure)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the changes as JSON")
	return cmd
}

func printChanges(w io.Writer, a, b string, changes []org.Change) {
	if len(changes) == 0 {
		fmt.Fprintf(w, "no differences between %s and %s\n", a, b)
		return
	}
	plural := "s"
	if len(changes) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "%d change%s from %s to %s:\n", len(changes), plural, a, b)
	for _, c := range changes {
		var what string
		switch c.Kind {
		case org.PolicyTypeEnabledChange, org.PolicyTypeDisabledChange:
			what = c.ID
		case org.OUAdded, org.AccountAdded:
			what = fmt.Sprintf("%s %s at %s", c.ID, c.Name, c.To)
		case org.OURemoved, org.AccountRemoved:
			what = fmt.Sprintf("%s %s from %s", c.ID, c.Name, c.From)
		case org.OUMoved, org.AccountMoved:
			what = fmt.Sprintf("%s %s: %s -> %s", c.ID, c.Name, c.From, c.To)
		case org.OURenamed, org.AccountRenamed, org.PolicyRenamed:
			what = fmt.Sprintf("%s: %q -> %q", c.ID, c.From, c.To)
		case org.AccountStatusChanged:
			what = fmt.Sprintf("%s %s: %s -> %s", c.ID, c.Name, c.From, c.To)
		case org.PolicyAdded, org.PolicyRemoved:
			what = fmt.Sprintf("%s %s (%s)", c.ID, c.Name, c.From+c.To)
		case org.PolicyContentChanged:
			what = fmt.Sprintf("%s %s (%s -> %s)", c.ID, c.Name, c.From, c.To)
		case org.AttachmentAdded, org.AttachmentRemoved:
			what = fmt.Sprintf("%s %s on %s %s", c.ID, c.Name, c.Target, c.TargetName)
		default:
			what = c.String()
		}
		fmt.Fprintf(w, "  %-24s %s\n", c.Kind, what)
	}
}
