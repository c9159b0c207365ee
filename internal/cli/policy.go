package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/inputfile"
	"github.com/orgguard/orgguard/internal/policy"
)

func newPolicyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policy",
		Short:   "Work with IAM, SCP and RCP policy documents",
		Example: "  orgguard policy validate --kind scp deny-regions.json",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return badInput(fmt.Errorf("unknown policy subcommand %q (see 'orgguard policy --help')", args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPolicyValidateCmd(e))
	return cmd
}

func newPolicyValidateCmd(e *env) *cobra.Command {
	var kindName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate --kind scp|rcp|identity|resource|trust|boundary|session FILE...",
		Short: "Check policy files against the rules of their kind",
		Long: `validate parses each policy file and checks it against AWS's rules for the
policy kind: JSON syntax, element names and types, Version, duplicate Sids,
and the kind's own rules (no Principal in identity policies and SCPs, RCPs
Deny-only with a Principal, the 5,120-character limit of SCPs and RCPs, ...).

Each finding is printed as file:line:col: severity: message (at JSON path).

Exit codes: 0 no error findings (warnings only, or none), 1 some file has an
error finding, 2 a file cannot be read or the flags are wrong.`,
		Example: `  orgguard policy validate --kind scp policies/scp/*.json
  orgguard policy validate --kind rcp --json rcp.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(errors.New("policy validate needs at least one policy file (see 'orgguard policy validate --help')"))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			if kindName == "" {
				return badInput(errors.New("policy validate needs --kind (scp, rcp, identity, resource, trust, boundary or session)"))
			}
			k, err := policy.ParseKind(kindName)
			if err != nil {
				return badInput(err)
			}
			return runPolicyValidate(e, k, args, asJSON)
		},
	}
	cmd.Flags().StringVar(&kindName, "kind", "", "policy kind: scp, rcp, identity, resource, trust, boundary or session")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print machine-readable findings")
	return cmd
}

type validateJSONFile struct {
	File     string           `json:"file"`
	Findings []policy.Finding `json:"findings"`
}

// validateFile returns every finding (errors and warnings) for one file.
func validateFile(path string, k policy.Kind) ([]policy.Finding, error) {
	data, err := inputfile.Read(path, inputfile.Policy, "policy document")
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	_, findings, err := policy.Load(data, policy.Source{File: path}, k, path)
	if err != nil {
		var pe *policy.Error
		if !errors.As(err, &pe) {
			return nil, fmt.Errorf("validating %s: %w", path, err)
		}
		findings = mergeFindings(findings, pe.Findings)
	}
	// Actions the catalog does not know: IAM accepts them, but they never
	// match a request (docs/catalog.md, "Not in catalog").
	if doc, err := policy.Parse(data, policy.Source{File: path}); err == nil {
		if cat, err := catalog.Load(); err == nil {
			findings = mergeFindings(findings, doc.UnknownActions(cat.CheckAction))
		}
	}
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i].Pos, findings[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return findings, nil
}

// mergeFindings appends the findings of b not already in a.
func mergeFindings(a, b []policy.Finding) []policy.Finding {
	seen := make(map[policy.Finding]bool, len(a))
	for _, f := range a {
		seen[f] = true
	}
	for _, f := range b {
		if !seen[f] {
			a = append(a, f)
			seen[f] = true
		}
	}
	return a
}

func runPolicyValidate(e *env, k policy.Kind, paths []string, asJSON bool) error {
	var out []validateJSONFile
	var unreadable []string
	anyError := false
	for _, p := range paths {
		fs, err := validateFile(p, k)
		if err != nil {
			unreadable = append(unreadable, err.Error())
			continue
		}
		if policy.HasErrors(fs) {
			anyError = true
		}
		if fs == nil {
			fs = []policy.Finding{}
		}
		out = append(out, validateJSONFile{File: p, Findings: fs})
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing findings: %w", err))
		}
	} else {
		var b strings.Builder
		for _, f := range out {
			if len(f.Findings) == 0 {
				fmt.Fprintf(&b, "%s: ok (%s policy)\n", f.File, k)
				continue
			}
			for _, fd := range f.Findings {
				b.WriteString(fd.String())
				b.WriteByte('\n')
			}
		}
		if _, err := fmt.Fprint(e.stdout, b.String()); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing findings: %w", err))
		}
	}
	if len(unreadable) > 0 {
		return badInput(errors.New(strings.Join(unreadable, "\n")))
	}
	if anyError {
		return silentExit(ExitFailure)
	}
	return nil
}
