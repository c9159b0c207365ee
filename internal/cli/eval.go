package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/conformance"
	"github.com/orgguard/orgguard/internal/policy"
)

func newEvalCmd(e *env) *cobra.Command {
	var asJSON, verbose bool
	cmd := &cobra.Command{
		Use:   "eval [--json] FILE...",
		Short: "Run policy-engine conformance case files",
		Long: `eval runs conformance case files ({"cases": [...]}, see docs/conformance.md)
through the policy engine and compares each decision with the expected one.

It prints one line per failing case with the reason and the engine's
explanation, one line per skipped case with the reason, and a last line
"N passed, M failed" (followed by ", K skipped" when any case was skipped
and ", E errors" when any case or file was invalid).

An invalid case does not stop the run: its problems go to standard error
as file:line:col: JSON path: message, it counts as an error, and the other
cases still run. So does an unreadable or malformed file (counted once).

Exit codes: 0 every case passed (skipped cases do not fail the run), 1 some
case failed, 2 some case or file was invalid (or no file was given).`,
		Example: `  orgguard eval ../shared/cases/smoke.json testdata/cases/*.json
  orgguard eval --json testdata/cases/scp.json | jq '.summary'`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(errors.New("eval needs at least one case file (see 'orgguard eval --help')"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEval(e, args, asJSON, verbose)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print machine-readable results on standard output")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print passing cases")
	return cmd
}

// loadCaseFiles loads every file, keeping going past invalid cases and
// files: it returns the files that could be read (with their invalid cases
// in File.Invalid) and every problem as "file:line:col: path: message"
// lines, with the number of errors they count for (one per invalid case,
// one per unreadable or malformed file, one per file with problems
// outside its cases). Warnings come back apart: they count for nothing.
func loadCaseFiles(paths []string) (files []*conformance.File, problems, warnings []string, nerr int) {
	for _, p := range paths {
		f, err := conformance.LoadFileKeepGoing(p)
		if err != nil {
			nerr++
			if errors.Is(err, conformance.ErrMalformed) {
				problems = append(problems, err.Error())
			} else {
				problems = append(problems, fmt.Sprintf("%s: %v", p, err))
			}
			continue
		}
		if len(f.Problems) > 0 {
			nerr++
			problems = append(problems, f.Problems.Error())
		}
		for _, inv := range f.Invalid {
			nerr++
			if len(inv.Errors) == 0 {
				problems = append(problems, fmt.Sprintf("%s:%d:%d: %s: invalid case (its problems are past the first %d of the file)", inv.Pos.File, inv.Pos.Line, inv.Pos.Col, inv.Pos.Path, 100))
				continue
			}
			problems = append(problems, inv.Errors.Error())
		}
		for _, w := range f.Warnings {
			warnings = append(warnings, w.Error())
		}
		files = append(files, f)
	}
	return files, problems, warnings, nerr
}

// rcpServices returns the catalog's list of services that support RCPs,
// or nil (the engine's built-in list) when the catalog cannot be loaded.
func rcpServices() func(string) bool {
	c, err := catalog.Load()
	if err != nil {
		return nil
	}
	return c.RCPSupported
}

func runEval(e *env, paths []string, asJSON, verbose bool) error {
	files, problems, warnings, nerr := loadCaseFiles(paths)
	if len(problems) > 0 || len(warnings) > 0 {
		var b strings.Builder
		for _, p := range problems {
			b.WriteString(p)
			b.WriteByte('\n')
		}
		for _, w := range warnings {
			b.WriteString(w)
			b.WriteByte('\n')
		}
		if _, err := io.WriteString(e.stderr, b.String()); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing problems: %w", err))
		}
	}
	opts := conformance.Options{RCPServices: rcpServices()}
	sum := conformance.Summary{Errors: nerr}
	results := make([][]conformance.Result, len(files))
	for i, f := range files {
		results[i] = conformance.RunFile(f, opts)
		for _, r := range results[i] {
			sum.Add(r)
		}
	}
	if asJSON {
		if err := writeEvalJSON(e.stdout, files, results, sum, problems); err != nil {
			return withCode(ExitInternal, fmt.Errorf("writing results: %w", err))
		}
	} else if err := writeEvalText(e.stdout, results, sum, verbose); err != nil {
		return withCode(ExitInternal, fmt.Errorf("writing results: %w", err))
	}
	if sum.Errors > 0 {
		return silentExit(ExitBadInput)
	}
	if sum.Failed > 0 {
		return silentExit(ExitFailure)
	}
	return nil
}

// oneLine squeezes a possibly multi-line text onto one line.
func oneLine(s string) string {
	fields := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(fields, "; ")
}

func casePlace(c *conformance.Case) string {
	return fmt.Sprintf("%s:%d:%d", c.Pos.File, c.Pos.Line, c.Pos.Col)
}

func writeEvalText(w io.Writer, results [][]conformance.Result, sum conformance.Summary, verbose bool) error {
	var b strings.Builder
	for _, rs := range results {
		for _, r := range rs {
			switch r.Status {
			case conformance.Failed:
				fmt.Fprintf(&b, "FAIL %s %s: %s", casePlace(r.Case), r.Case.Name, r.Reason)
				if ex := oneLine(r.Explanation.String()); ex != "" {
					fmt.Fprintf(&b, " — %s", ex)
				}
				b.WriteByte('\n')
			case conformance.Skipped:
				fmt.Fprintf(&b, "SKIP %s %s: %s\n", casePlace(r.Case), r.Case.Name, r.Reason)
			case conformance.Passed:
				if verbose {
					fmt.Fprintf(&b, "ok   %s %s: %s\n", casePlace(r.Case), r.Case.Name, r.Got)
				}
			}
		}
	}
	b.WriteString(sum.String())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

type evalJSONCase struct {
	Name        string              `json:"name"`
	Status      conformance.Status  `json:"status"`
	Expect      policy.Decision     `json:"expect"`
	Got         *policy.Decision    `json:"got,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	Doc         string              `json:"doc,omitempty"`
	Pos         policy.Pos          `json:"pos"`
	Explanation *policy.Explanation `json:"explanation,omitempty"`
}

type evalJSONFile struct {
	Path        string         `json:"path"`
	Description string         `json:"description,omitempty"`
	Cases       []evalJSONCase `json:"cases"`
}

type evalJSON struct {
	Files   []evalJSONFile `json:"files"`
	Errors  []string       `json:"errors"` // "file:line:col: path: message", one line per problem
	Summary struct {
		Passed  int `json:"passed"`
		Failed  int `json:"failed"`
		Skipped int `json:"skipped"`
		Errors  int `json:"errors"`
	} `json:"summary"`
}

func writeEvalJSON(w io.Writer, files []*conformance.File, results [][]conformance.Result, sum conformance.Summary, problems []string) error {
	var out evalJSON
	out.Files = make([]evalJSONFile, len(files))
	for i, f := range files {
		jf := evalJSONFile{Path: f.Path, Description: f.Description, Cases: make([]evalJSONCase, 0, len(results[i]))}
		for _, r := range results[i] {
			jc := evalJSONCase{
				Name: r.Case.Name, Status: r.Status, Expect: r.Case.Expect, Reason: r.Reason,
				Doc: r.Case.Doc, Pos: r.Case.Pos,
			}
			if r.Status != conformance.Skipped {
				got := r.Got
				jc.Got = &got
				ex := r.Explanation
				jc.Explanation = &ex
			}
			jf.Cases = append(jf.Cases, jc)
		}
		out.Files[i] = jf
	}
	out.Summary.Passed, out.Summary.Failed, out.Summary.Skipped, out.Summary.Errors = sum.Passed, sum.Failed, sum.Skipped, sum.Errors
	out.Errors = []string{}
	for _, p := range problems {
		out.Errors = append(out.Errors, strings.Split(p, "\n")...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
