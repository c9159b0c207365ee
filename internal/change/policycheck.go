package change

import (
	"errors"
	"fmt"
	"strings"

	"github.com/orgguard/orgguard/internal/catalog"
	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/policy"
)

// checkContent checks the document of a policy the plan creates or updates
// with the rules of its kind, exactly as `orgguard policy validate --kind
// scp|rcp` does: an error finding is bad input (AWS would reject the
// document, or it would not mean what it says); an action the catalog does
// not know is a warning with the nearest catalog names.
func (st *planState) checkContent(op Operation, name string, t org.PolicyType, content string) error {
	k := policy.KindSCP
	if t == org.ResourceControlPolicy {
		k = policy.KindRCP
	}
	src := policy.Source{File: "policy " + name}
	_, findings, err := policy.Load([]byte(content), src, k, name)
	if err != nil {
		var pe *policy.Error
		if !errors.As(err, &pe) {
			return &InputError{Operation: op, Err: fmt.Errorf("policy %s: %w", name, err)}
		}
		findings = pe.Findings
	}
	var errs []string
	for _, f := range findings {
		// The size limit is AWS's own check: the simulated copy refuses
		// it with AWS's error (exit 3), as AWS would.
		if f.Severity == policy.SeverityError && f.Code != "too-large" {
			errs = append(errs, f.String())
		}
	}
	if len(errs) > 0 {
		return &InputError{Operation: op, Err: fmt.Errorf("the %s document is not valid (as orgguard policy validate --kind %s says):\n  %s",
			t.Short(), k, strings.Join(errs, "\n  "))}
	}
	doc, err := policy.Parse([]byte(content), src)
	if err != nil {
		return nil // reported above
	}
	cat, err := catalog.Load()
	if err != nil {
		return fmt.Errorf("loading the action catalog: %w", err)
	}
	for _, f := range doc.UnknownActions(cat.CheckAction) {
		st.warnings = append(st.warnings, f.String())
	}
	return nil
}
