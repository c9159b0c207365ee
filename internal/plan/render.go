package plan

import (
	"fmt"
	"io"
	"strings"

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

	r := &f.Impact
	fmt.Fprintf(&b, "%s %s of %s member accounts affected", c.bold("Blast radius:"),
		c.bold(display.Thousands(r.AccountsAffected)), display.Thousands(r.AccountsTotal))
	if r.ManagementAccountID != "" {
		fmt.Fprintf(&b, " (management account %s exempt from SCPs and RCPs)", r.ManagementAccountID)
	}
	fmt.Fprintf(&b, "\n  over %s catalog actions (%s in RCP-supported services), exact, not sampled\n",
		display.Thousands(r.CatalogActions), display.Thousands(r.RCPActions))
	if r.AccountsAffected > 0 {
		b.WriteString("\n")
		fmt.Fprintf(&b, "  %-44s %9s %12s %9s  %s\n", "account", "denied", "conditional", "allowed", "critical lost")
		for i, a := range r.Accounts {
			if i == o.MaxAccounts {
				fmt.Fprintf(&b, "  … %d more affected accounts (--format json lists all)\n", len(r.Accounts)-i)
				break
			}
			fmt.Fprintf(&b, "  %-44s %s %s %s  %s\n", clip(t(a.Name)+" ("+t(a.ID)+")", 44),
				signed(c, a.NewlyDenied, 9, c.red), signed(c, a.NewlyConditional, 12, c.yellow),
				signed(c, a.NewlyAllowed, 9, c.green), c.red(t(criticalList(a.CriticalLost))))
			if len(a.ServicesLost) > 0 {
				fmt.Fprintf(&b, "  %-44s %d services lost entirely: %s\n", "", len(a.ServicesLost), t(listClip(a.ServicesLost, 5)))
			}
		}
		b.WriteString("\n")
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
			fmt.Fprintf(&b, "  %s%s %s  %s/%s\n", strings.Repeat("  ", depth), mark, name,
				display.Thousands(n.AccountsAffected), display.Thousands(n.AccountsTotal))
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

// WriteMarkdown renders the plan for a pull-request comment.
func WriteMarkdown(w io.Writer, f *File) error {
	var b strings.Builder
	r := &f.Impact
	icon := map[guard.Decision]string{guard.Allowed: "✅", guard.NeedsApprovals: "⚠️", guard.Refused: "⛔"}[f.Guard.Decision]
	fmt.Fprintf(&b, "### %s orgguard plan %s: **%s**\n\n", icon, display.MarkdownCode(f.ID), f.Guard.Decision)
	if f.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", display.Markdown(f.Description))
	}
	fmt.Fprintf(&b, "**%s of %s** member accounts affected · risk **%s** · required approvals **%d**\n\n",
		display.Thousands(r.AccountsAffected), display.Thousands(r.AccountsTotal), f.Guard.Risk, f.Guard.RequiredApprovals)
	if len(f.Guard.Reasons) > 0 {
		b.WriteString("| rule | effect | reason |\n|---|---|---|\n")
		for _, rs := range f.Guard.Reasons {
			eff := string(rs.Effect)
			if rs.Overridden {
				eff += " (overridden: " + display.Markdown(rs.OverrideReason) + ")"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", display.MarkdownCode(string(rs.Rule)), eff, display.Markdown(rs.Message))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<details><summary>Steps (%d) and their inverses</summary>\n\n", len(f.Steps))
	for i, s := range f.Steps {
		fmt.Fprintf(&b, "%d. %s\n", i+1, display.Markdown(s.Summary))
		for _, inv := range s.Inverse {
			fmt.Fprintf(&b, "   - undo: %s\n", display.Markdown(inv.Summary))
		}
	}
	b.WriteString("\n</details>\n\n")
	if r.AccountsAffected > 0 {
		b.WriteString("| account | path | newly denied | newly conditional | newly allowed | critical lost |\n|---|---|---:|---:|---:|---|\n")
		for i, a := range r.Accounts {
			if i == 50 {
				fmt.Fprintf(&b, "\n…and %d more affected accounts.\n", len(r.Accounts)-i)
				break
			}
			fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s |\n", display.Markdown(a.Name), display.MarkdownCode(a.ID), display.MarkdownCode(a.Path),
				display.Thousands(a.NewlyDenied), display.Thousands(a.NewlyConditional), display.Thousands(a.NewlyAllowed), display.Markdown(criticalList(a.CriticalLost)))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<sub>base %s · plan hash %s · %s catalog actions, exact</sub>\n", display.MarkdownCode(digest.Short(f.BaseFingerprint)), display.MarkdownCode(digest.Short(f.PlanHash)), display.Thousands(r.CatalogActions))
	_, err := io.WriteString(w, b.String())
	return err
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
