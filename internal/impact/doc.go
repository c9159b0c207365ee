// Package impact computes the blast radius of an organization change: for
// every member account, before and after, the class of every action of the
// catalog — allowed, conditional or denied — under the account's SCPs (for
// its principals) and RCPs (for its resources), and how those classes
// changed.
//
// The classification is exact over the whole catalog, never sampled. It is
// computed with bit sets over the catalog's dense action indices, memoised
// per policy content, per level (the policies attached to one node) and per
// (parent class, level class) pair, so that accounts with the same policy
// chain share one result and an unchanged subtree costs one map lookup per
// node. See docs/blast-radius.md for the rules and the figures.
//
// The package is pure: no I/O, no package-level mutable state.
package impact
