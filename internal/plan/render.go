package plan

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/orgguard/orgguard/internal/digest"
	"github.com/orgguard/orgguard/internal/display"
	"github.com/orgguard/orgguard/internal/guard"
	"github.com/orgguard/orgguard/internal/impact"
)

// TextOptions shape the text rendering.
type TextOptions struct {
	Color       bool // ANSI colours (only on a terminal)
	MaxAccounts int  // affected accounts listed; 0 means 20
	MaxNodes    int  // tree nodes listed; 0 means 40
	TreeDepth   int  // deepest tree level shown (root = 0); 0 means 2
	MaxGroups   int  // groups of accounts with the same change listed; 0 means 10
	MaxFolds    int  // folded action entries per list; 0 means 8
}

type palette struct{ on bool }

func (p palette) wrap(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) bold(s string) string   { return p.wrap("1", s) }
func (p palette) dim(s string) string    { return p.wrap("2", s) }

// WriteText renders the plan for a terminal.
func WriteText(w io.Writer, f *File, o TextOptions) error {
	if o.MaxAccounts == 0 {
		o.MaxAccounts = 20
	}
	if o.MaxNodes == 0 {
		o.MaxNodes = 40
	}
	if o.TreeDepth == 0 {
		o.TreeDepth = 2
	}
	if o.MaxGroups == 0 {
		o.MaxGroups = 10
	}
	if o.MaxFolds == 0 {
		o.MaxFolds = 8
	}
	c := palette{on: o.Color}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", c.bold("Plan"), f.ID)
	if f.Description != "" {
		fmt.Fprintf(&b, "  %s\n", t(f.Description))
	}
	fmt.Fprintf(&b, "  author %s · backend %s · base %s\n\n", t(f.Author), t(f.Backend), digest.Short(f.BaseFingerprint))

	fmt.Fprintf(&b, "%s (%d)\n", c.bold("Steps"), len(f.Steps))
	for i, s := range f.Steps {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, t(s.Summary))
		for _, inv := range s.Inverse {
			fmt.Fprintf(&b, "     %s %s\n", c.dim("undo:"), c.dim(t(inv.Summary)))
		}
	}
	b.WriteString("\n")

	if len(f.Warnings) > 0 {
		fmt.Fprintf(&b, "%s (%d)\n", c.bold(c.yellow("Warnings")), len(f.Warnings))
		for _, w := range f.Warnings {
			fmt.Fprintf(&b, "  ! %s\n", t(w))
		}
		b.WriteString("\n")
	}
	r := &f.Impact
	fmt.Fprintf(&b, "%s %s of %s member accounts affected", c.bold("Blast radius:"),
		c.bold(display.Thousands(r.AccountsAffected)), display.Thousands(r.AccountsTotal))
	if r.ManagementAccountID != "" {
		fmt.Fprintf(&b, " (management account %s exempt from SCPs and RCPs)", r.ManagementAccountID)
	}
	fmt.Fprintf(&b, "\n  over %s catalog actions (%s in RCP-supported services), exact, not sampled\n",
		display.Thousands(r.CatalogActions), display.Thousands(r.RCPActions))
	if r.AccountsAffected > 0 {
		restored := slices.ContainsFunc(r.Accounts, func(a impact.AccountImpact) bool { return a.PartlyRestored > 0 })
		b.WriteString("\n")
		if restored {
			fmt.Fprintf(&b, "  %-44s %9s %12s %9s %9s  %s\n", "account", "denied", "conditional", "allowed", "restored", "critical lost")
		} else {
			fmt.Fprintf(&b, "  %-44s %9s %12s %9s  %s\n", "account", "denied", "conditional", "allowed", "critical lost")
		}
		for i, a := range r.Accounts {
			if i == o.MaxAccounts {
				fmt.Fprintf(&b, "  … %d more affected accounts (--format json lists all)\n", len(r.Accounts)-i)
				break
			}
			rest := ""
			if restored {
				rest = " " + signed(c, a.PartlyRestored, 9, c.green)
			}
			fmt.Fprintf(&b, "  %-44s %s %s %s%s  %s\n", clip(t(a.Name)+" ("+t(a.ID)+")", 44),
				signed(c, a.NewlyDenied, 9, c.red), signed(c, a.NewlyConditional, 12, c.yellow),
				signed(c, a.NewlyAllowed, 9, c.green), rest, c.red(t(criticalList(a.CriticalLost))))
			if len(a.ServicesLost) > 0 {
				fmt.Fprintf(&b, "  %-44s %d services lost entirely: %s\n", "", len(a.ServicesLost), t(listClip(a.ServicesLost, 5)))
			}
		}
		b.WriteString("\n")
		writeGroupsText(&b, r, c, o)
		fmt.Fprintf(&b, "%s (affected / member accounts beneath)\n", c.bold("Organization tree"))
		shown, deeper := 0, 0
		for _, n := range r.Nodes {
			depth := strings.Count(strings.Trim(n.Path, "/"), "/")
			if n.Kind != "root" {
				depth++
			}
			if depth > o.TreeDepth || shown == o.MaxNodes {
				deeper++
				continue
			}
			shown++
			name := t(n.Name)
			if n.Kind == "root" {
				name = "Root " + t(n.ID)
			}
			mark := c.yellow("*")
			if n.AccountsAffected == n.AccountsTotal && n.AccountsTotal > 0 {
				mark = c.red("*")
			}
			fmt.Fprintf(&b, "  %s%s %s  %s\n", strings.Repeat("  ", depth), mark, name, nodeCounts(n))
		}
		if deeper > 0 {
			fmt.Fprintf(&b, "  … %d more affected OUs deeper in the tree (--format json lists all)\n", deeper)
		}
	}
	b.WriteString("\n")
	writeVerdictText(&b, f, c)
	_, err := io.WriteString(w, b.String())
	return err
}

// nodeCounts is "affected/total" for a node, with the count before the
// change when accounts left it ("3/3 before, 0 after") or it is deleted.
func nodeCounts(n impact.NodeImpact) string {
	aff := display.Thousands(n.AccountsAffected)
	switch {
	case n.Removed:
		return aff + "/" + display.Thousands(n.AccountsBefore) + " before, deleted by the change"
	case n.AccountsAffected > n.AccountsTotal:
		return aff + "/" + display.Thousands(n.AccountsBefore) + " before, " + display.Thousands(n.AccountsTotal) + " after"
	}
	return aff + "/" + display.Thousands(n.AccountsTotal)
}

// changeKinds names the folded action lists of a group, in the order shown.
func changeKinds(g *impact.Group) []changeKind {
	return []changeKind{
		{"newly denied", g.NewlyDenied, g.DeniedActions, g.DeniedExcept},
		{"newly conditional", g.NewlyConditional, g.ConditionalActions, nil},
		{"newly allowed", g.NewlyAllowed, g.AllowedActions, nil},
		{"partly restored (denied → conditional)", g.PartlyRestored, g.PartlyRestoredActions, nil},
	}
}

type changeKind struct {
	what   string
	count  int
	folds  []impact.Fold
	except *impact.Complement
}

// foldList renders at most n folded entries: "s3:Get* (63), s3:PutObject",
// or, given the complement, "every action except 32 already denied
// (payments:* (24), …)".
func foldList(fs []impact.Fold, except *impact.Complement, n int, name func(string) string) string {
	if except != nil {
		var parts []string
		if c := foldCount(except.AlreadyDenied); c > 0 {
			parts = append(parts, fmt.Sprintf("%s already denied before (%s)", display.Thousands(c), foldList(except.AlreadyDenied, nil, n, name)))
		}
		if c := foldCount(except.NotDenied); c > 0 {
			parts = append(parts, fmt.Sprintf("%s still not denied (%s)", display.Thousands(c), foldList(except.NotDenied, nil, n, name)))
		}
		return "every action except " + strings.Join(parts, " and ")
	}
	parts := make([]string, 0, min(len(fs), n)+1)
	for i, f := range fs {
		if i == n {
			rest := 0
			for _, g := range fs[i:] {
				rest += g.Count
			}
			parts = append(parts, fmt.Sprintf("(+%d more: %s actions)", len(fs)-i, display.Thousands(rest)))
			break
		}
		if f.Count == 1 && !strings.HasSuffix(f.Pattern, "*") {
			parts = append(parts, name(f.Pattern))
		} else {
			parts = append(parts, name(f.Pattern)+" ("+display.Thousands(f.Count)+")")
		}
	}
	return strings.Join(parts, ", ")
}

// accountNames lists at most n of a group's accounts by name and ID.
func accountNames(r *impact.Report, ids []string, n int, name func(a impact.AccountImpact) string) string {
	parts := make([]string, 0, min(len(ids), n)+1)
	for i, id := range ids {
		if i == n {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(ids)-i))
			break
		}
		a, ok := r.AccountByID(id)
		if !ok {
			parts = append(parts, id)
			continue
		}
		parts = append(parts, name(a))
	}
	return strings.Join(parts, ", ")
}

// sameCombined explains a group whose accounts changed in one dimension
// only: an SCP change hidden by an RCP that already restricted the same
// actions, or the reverse.
const sameCombined = "no action changes class for SCPs and RCPs combined; SCPs or RCPs alone changed (the plan file's scp and rcp counts)"

func writeGroupsText(b *strings.Builder, r *impact.Report, c palette, o TextOptions) {
	if len(r.Groups) == 0 {
		return
	}
	fmt.Fprintf(b, "%s (%s of accounts with the same change)\n", c.bold("What changes"), plural(len(r.Groups), "group"))
	for gi := range r.Groups {
		g := &r.Groups[gi]
		if gi == o.MaxGroups {
			fmt.Fprintf(b, "  … %s (--format json lists every group)\n", more(len(r.Groups)-gi, "group"))
			break
		}
		fmt.Fprintf(b, "  %s: %s\n", c.bold(plural(len(g.Accounts), "account")),
			accountNames(r, g.Accounts, 4, func(a impact.AccountImpact) string { return t(a.Name) + " (" + t(a.ID) + ")" }))
		for _, k := range changeKinds(g) {
			if k.count == 0 {
				continue
			}
			fmt.Fprintf(b, "    %s %s: %s\n", k.what, display.Thousands(k.count), foldList(k.folds, k.except, o.MaxFolds, t))
		}
		if g.Counts.IsZero() {
			fmt.Fprintf(b, "    %s\n", sameCombined)
		}
	}
	b.WriteString("\n")
}

func foldCount(fs []impact.Fold) int {
	n := 0
	for _, f := range fs {
		n += f.Count
	}
	return n
}

// more is "3 more groups" or "1 more group".
func more(n int, word string) string {
	if n == 1 {
		return "1 more " + word
	}
	return display.Thousands(n) + " more " + word + "s"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return display.Thousands(n) + " " + word + "s"
}

func writeVerdictText(b *strings.Builder, f *File, c palette) {
	v := f.Guard
	word := strings.ToUpper(string(v.Decision))
	switch v.Decision {
	case guard.Refused:
		word = c.red(word)
	case guard.NeedsApprovals:
		word = c.yellow(word)
	default:
		word = c.green(word)
	}
	fmt.Fprintf(b, "%s %s (risk %s)\n", c.bold("Verdict:"), word, v.Risk)
	for _, r := range v.Reasons {
		icon := "·"
		switch {
		case r.Overridden:
			icon = c.yellow("~")
		case r.Effect == guard.EffectRefuse:
			icon = c.red("✗")
		case r.Effect == guard.EffectApprovals || r.Effect == guard.EffectSchedule:
			icon = c.yellow("!")
		}
		fmt.Fprintf(b, "  %s %s: %s\n", icon, r.Rule, t(r.Message))
		if len(r.Missing) > 0 {
			fmt.Fprintf(b, "      declared but not affected: %s\n", t(idList(r.Missing, r.MoreMissing)))
		}
		if len(r.Unexpected) > 0 {
			fmt.Fprintf(b, "      affected but not declared: %s\n", t(idList(r.Unexpected, r.MoreUnexpected)))
		}
	}
	if v.Decision != guard.Refused {
		fmt.Fprintf(b, "  required approvals: %d\n", v.RequiredApprovals)
	}
}

// GitHubCommentLimit is the most characters GitHub accepts in a pull
// request comment.
const GitHubCommentLimit = 65536

// MarkdownOptions shape the Markdown rendering.
type MarkdownOptions struct {
	// MaxChars bounds the output, in characters; 0 means
	// GitHubCommentLimit. The summary (verdict, reasons, what changes) is
	// always kept; the details (steps, accounts) are cut to fit, saying
	// where the rest is.
	MaxChars int
	// PlanFile names the plan file the full detail is in (--out), for the
	// note shown when details are cut.
	PlanFile string
}

// WriteMarkdown renders the plan for a pull-request comment, within
// GitHub's comment limit.
func WriteMarkdown(w io.Writer, f *File, o MarkdownOptions) error {
	if o.MaxChars <= 0 {
		o.MaxChars = GitHubCommentLimit
	}
	r := &f.Impact
	var head, foot strings.Builder
	icon := map[guard.Decision]string{guard.Allowed: "✅", guard.NeedsApprovals: "⚠️", guard.Refused: "⛔"}[f.Guard.Decision]
	fmt.Fprintf(&head, "### %s orgguard plan %s: **%s**\n\n", icon, display.MarkdownCode(f.ID), f.Guard.Decision)
	if f.Description != "" {
		fmt.Fprintf(&head, "%s\n\n", display.Markdown(f.Description))
	}
	fmt.Fprintf(&head, "**%s of %s** member accounts affected · risk **%s** · required approvals **%d**\n\n",
		display.Thousands(r.AccountsAffected), display.Thousands(r.AccountsTotal), f.Guard.Risk, f.Guard.RequiredApprovals)
	if len(f.Guard.Reasons) > 0 {
		head.WriteString("| rule | effect | reason |\n|---|---|---|\n")
		for _, rs := range f.Guard.Reasons {
			eff := string(rs.Effect)
			if rs.Overridden {
				eff += " (overridden: " + display.Markdown(rs.OverrideReason) + ")"
			}
			fmt.Fprintf(&head, "| %s | %s | %s |\n", display.MarkdownCode(string(rs.Rule)), eff, display.Markdown(rs.Message))
		}
		head.WriteString("\n")
	}
	for i, w := range f.Warnings {
		if i == 20 {
			fmt.Fprintf(&head, "- …and %d more warnings (the plan file lists all)\n", len(f.Warnings)-i)
			break
		}
		fmt.Fprintf(&head, "- ⚠️ %s\n", display.Markdown(w))
	}
	if len(f.Warnings) > 0 {
		head.WriteString("\n")
	}
	writeGroupsMarkdown(&head, r)
	fmt.Fprintf(&foot, "<sub>base %s · plan hash %s · %s catalog actions, exact</sub>\n", display.MarkdownCode(digest.Short(f.BaseFingerprint)), display.MarkdownCode(digest.Short(f.PlanHash)), display.Thousands(r.CatalogActions))

	// The details: each a collapsible block of lines, cut to what fits.
	steps := make([]string, 0, len(f.Steps))
	for i, s := range f.Steps {
		line := fmt.Sprintf("%d. %s\n", i+1, display.Markdown(s.Summary))
		for _, inv := range s.Inverse {
			line += fmt.Sprintf("   - undo: %s\n", display.Markdown(inv.Summary))
		}
		steps = append(steps, line)
	}
	var accounts []string
	for _, a := range r.Accounts {
		accounts = append(accounts, fmt.Sprintf("| %s %s | %s | %s | %s | %s | %s | %s |\n", display.Markdown(a.Name), display.MarkdownCode(a.ID), display.MarkdownCode(a.Path),
			display.Thousands(a.NewlyDenied), display.Thousands(a.NewlyConditional), display.Thousands(a.NewlyAllowed),
			display.Thousands(a.PartlyRestored), display.Markdown(criticalList(a.CriticalLost))))
	}
	where := "the plan file"
	if o.PlanFile != "" {
		where = "the plan file " + display.MarkdownCode(o.PlanFile)
	}
	blocks := []mdBlock{
		{summary: fmt.Sprintf("Steps (%d) and their inverses", len(f.Steps)), lines: steps, unit: "steps"},
	}
	if len(accounts) > 0 {
		blocks = append(blocks, mdBlock{summary: fmt.Sprintf("Affected accounts (%s)", display.Thousands(len(accounts))),
			table: "| account | path | newly denied | newly conditional | newly allowed | partly restored | critical lost |\n|---|---|---:|---:|---:|---:|---|\n",
			lines: accounts, unit: "accounts"})
	}
	budget := o.MaxChars - runes(head.String()) - runes(foot.String())
	var b strings.Builder
	b.WriteString(head.String())
	full := make([]int, len(blocks))
	for i, bl := range blocks {
		full[i] = runes(bl.render(math.MaxInt, where))
	}
	for i, bl := range blocks {
		// Each block gets what the later ones leave when they are shown
		// whole, and at least an even share of what is left.
		later := 0
		for _, n := range full[i+1:] {
			later += n
		}
		share := max(budget/(len(blocks)-i), budget-later)
		out := bl.render(share, where)
		if runes(out) > budget {
			out = ""
		}
		budget -= runes(out)
		b.WriteString(out)
	}
	b.WriteString(foot.String())
	_, err := io.WriteString(w, b.String())
	return err
}

// mdBlock is a collapsible block of lines in the Markdown rendering.
type mdBlock struct {
	summary string
	table   string // a table header, when the lines are table rows
	lines   []string
	unit    string
}

// render renders the block within max characters, cutting lines from the
// end when it does not fit and saying so.
func (bl mdBlock) render(max int, where string) string {
	open := "<details><summary>" + bl.summary + "</summary>\n\n" + bl.table
	const closing = "\n</details>\n\n"
	n := runes(open) + runes(closing)
	var b strings.Builder
	b.WriteString(open)
	for i, l := range bl.lines {
		note := fmt.Sprintf("\n… %d more %s not shown: GitHub limits a comment to %s characters; %s has them all.\n",
			len(bl.lines)-i, bl.unit, display.Thousands(GitHubCommentLimit), where)
		if i < len(bl.lines)-1 && n+runes(l)+runes(note) > max || n+runes(l) > max {
			b.WriteString(note)
			break
		}
		b.WriteString(l)
		n += runes(l)
	}
	b.WriteString(closing)
	return b.String()
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func writeGroupsMarkdown(b *strings.Builder, r *impact.Report) {
	if len(r.Groups) == 0 {
		return
	}
	const maxGroups, maxFolds = 20, 12
	fmt.Fprintf(b, "**What changes** (%s of accounts with the same change)\n\n", plural(len(r.Groups), "group"))
	b.WriteString("| accounts | what changes |\n|---|---|\n")
	code := func(p string) string { return display.MarkdownCode(p) }
	for gi := range r.Groups {
		g := &r.Groups[gi]
		if gi == maxGroups {
			fmt.Fprintf(b, "\n…and %s (the plan file lists every group).\n", more(len(r.Groups)-gi, "group"))
			break
		}
		var what []string
		for _, k := range changeKinds(g) {
			if k.count > 0 {
				what = append(what, fmt.Sprintf("%s **%s**: %s", k.what, display.Thousands(k.count), foldList(k.folds, k.except, maxFolds, code)))
			}
		}
		if g.Counts.IsZero() {
			what = append(what, sameCombined)
		}
		names := accountNames(r, g.Accounts, 5, func(a impact.AccountImpact) string {
			return display.Markdown(a.Name) + " " + display.MarkdownCode(a.ID)
		})
		fmt.Fprintf(b, "| **%s**: %s | %s |\n", plural(len(g.Accounts), "account"), names, strings.Join(what, "<br>"))
	}
	b.WriteString("\n")
}

func criticalList(cs []impact.CriticalLoss) string {
	if len(cs) == 0 {
		return ""
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Pattern
	}
	return listClip(out, 6)
}

func listClip(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(" (+%d more)", len(s)-n)
}

func idList(ids []string, more int) string {
	s := listClip(ids, 10)
	if more > 0 {
		s += fmt.Sprintf(" (+%d more)", more)
	}
	return s
}

// t escapes a name or message for a terminal (see display.Text).
func t(s string) string { return display.Text(s) }

// signed right-aligns "+n" in width columns, coloured (0 dimmed).
func signed(c palette, n, width int, col func(string) string) string {
	if n == 0 {
		return c.dim(fmt.Sprintf("%*s", width, "0"))
	}
	return col(fmt.Sprintf("%*s", width, "+"+display.Thousands(n)))
}

func clip(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
