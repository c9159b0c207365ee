// Package conformance loads and runs policy-engine conformance cases: JSON
// files of the form {"cases": [...]} where each case describes one request
// (principal, action, resource, context), every policy that applies to it
// (identity-based, permissions boundary, session, resource-based, the SCP
// and RCP chains, VPC endpoint policies) and the decision AWS would take.
//
// Loading is strict: unknown fields, wrong types and invalid policies are
// errors that name the file, line, column and JSON path of the problem
// (cases[3].scps[0][1].Statement[0].Effect). Policies embedded in a case are
// parsed with their real positions, validated for their kind and compiled
// once; running a case is a call to policy.Evaluate.
//
// The format is documented in docs/conformance.md.
package conformance

import (
	"fmt"

	"github.com/orgguard/orgguard/internal/policy"
)

// File is a loaded case file.
type File struct {
	Path        string
	Description string
	Cases       []*Case // the valid cases, in file order

	// Invalid holds the cases ParseKeepGoing could not load (Parse fails
	// instead), and Problems its problems outside any case.
	Invalid  []InvalidCase
	Problems ErrorList
	// Warnings are things that load but may not mean what the author
	// thinks: a request on a KMS key without a key policy, for which AWS's
	// default key policy is assumed. Each message starts with "warning: ".
	Warnings ErrorList
}

// Case is one conformance case, ready to run.
type Case struct {
	Name        string
	Description string
	Doc         string     // URL of the AWS documentation page the expected decision follows
	Index       int        // position in the file's cases list
	Pos         policy.Pos // where the case object starts
	Expect      policy.Decision
	Request     policy.Request
	Org         *policy.Org
	Set         *policy.PolicySet

	// VPCEndpointPolicies holds the compiled VPC endpoint policies, if any
	// (also in Set.VPCEndpoints, with their endpoint IDs and types).
	VPCEndpointPolicies []*policy.Policy

	// Skip, when not empty, says why the case cannot be run by this engine.
	// No case is skipped today; the status is kept for future features.
	Skip string

	rc *policy.RequestContext
}

// Status is the outcome of running one case.
type Status uint8

// The statuses.
const (
	Passed Status = iota + 1
	Failed
	Skipped
)

// String returns "passed", "failed" or "skipped".
func (s Status) String() string {
	switch s {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// MarshalText makes statuses readable in JSON.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Result is the outcome of one case.
type Result struct {
	Case        *Case
	Status      Status
	Got         policy.Decision    // the engine's decision (not set when skipped)
	Reason      string             // why the case failed or was skipped
	Explanation policy.Explanation // the engine's explanation (not set when skipped)
}

// Options tune how cases run.
type Options struct {
	// RCPServices reports whether a service prefix supports RCPs; it is
	// passed to the engine in every PolicySet that does not set its own.
	// Nil leaves the engine's built-in list.
	RCPServices func(service string) bool
}

// Run evaluates c and compares the decision with the expected one.
func Run(c *Case, opts Options) Result {
	if c.Skip != "" {
		return Result{Case: c, Status: Skipped, Reason: c.Skip}
	}
	set := c.Set
	if opts.RCPServices != nil && set.RCPServices == nil {
		cp := *set
		cp.RCPServices = opts.RCPServices
		set = &cp
	}
	res := policy.Evaluate(c.rc, set)
	r := Result{Case: c, Got: res.Decision, Explanation: res.Explain()}
	if res.Decision == c.Expect {
		r.Status = Passed
		return r
	}
	r.Status = Failed
	r.Reason = fmt.Sprintf("got %s, want %s", res.Decision, c.Expect)
	return r
}

// RequestContext returns the prepared request of c.
func (c *Case) RequestContext() *policy.RequestContext { return c.rc }

// RunFile runs every case of f in order.
func RunFile(f *File, opts Options) []Result {
	out := make([]Result, len(f.Cases))
	for i, c := range f.Cases {
		out[i] = Run(c, opts)
	}
	return out
}

// Summary counts results by status, and Errors the cases (and files)
// that could not be loaded.
type Summary struct {
	Passed, Failed, Skipped, Errors int
}

// Add counts r.
func (s *Summary) Add(r Result) {
	switch r.Status {
	case Passed:
		s.Passed++
	case Failed:
		s.Failed++
	case Skipped:
		s.Skipped++
	}
}

// String gives "N passed, M failed" followed by ", K skipped" when any case
// was skipped and ", E errors" when any case or file was invalid.
func (s Summary) String() string {
	out := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.Skipped > 0 {
		out += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	if s.Errors > 0 {
		out += fmt.Sprintf(", %d errors", s.Errors)
	}
	return out
}
