// Package guard decides whether an organization change may go ahead: it turns
// what a change touches and its computed blast radius into a Verdict —
// allowed, needs N approvals, or refused — with every reason spelled out.
//
// The rules are protected targets (Root always), near-deny-all on a broad
// scope, thresholds on the number and share of accounts affected, declared
// intent, the recovery path, risk levels with maintenance windows and dated
// change freezes, operator overrides, and typed confirmation for risky
// changes. Everything here is pure and deterministic: the clock is an input
// (Input.Now, or the now argument of the Schedule methods), and the package
// does no I/O beyond reading the embedded time zone database.
//
// Typical use: build a Guard once from configuration with Compile, call
// Evaluate at plan time, and call CheckApply with the stored Verdict at apply
// time, which re-checks windows, freezes and the typed confirmation against
// the clock of that moment.
package guard
