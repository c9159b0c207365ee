package policy

import (
	"strconv"
	"strings"
)

// MatchedStatement is one statement that applied to the request.
type MatchedStatement struct {
	Kind    Kind   `json:"kind"`
	Level   int    `json:"level"`             // SCP/RCP level index, -1 for other kinds
	LevelID string `json:"levelId,omitempty"` // the Level's ID, when given
	Policy  string `json:"policy"`
	Sid     string `json:"sid,omitempty"`
	Index   int    `json:"index"`
	Effect  Effect `json:"effect"`
	Pos     Pos    `json:"pos"`
}

// MarshalText makes kinds readable in JSON.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Explanation says why a request was decided as it was.
type Explanation struct {
	Decision  Decision `json:"decision"`
	DecidedBy string   `json:"decidedBy,omitempty"` // policy kind that decided ("scp", "identity", ...)
	Level     int      `json:"level"`               // SCP/RCP level index, -1 otherwise
	LevelID   string   `json:"levelId,omitempty"`
	Reason    string   `json:"reason"`
	// Policy names the policy that decided when one policy did: the VPC
	// endpoint policy behind a vpc-endpoint decision.
	Policy string `json:"policy,omitempty"`
	// Notes are assumptions the evaluation made, such as AWS's default key
	// policy for a KMS key given without one.
	Notes   []string           `json:"notes,omitempty"`
	Matched []MatchedStatement `json:"matched"` // every statement that applied, in evaluation order
}

// Explain evaluates the request again, recording every statement that
// applied, and returns the explanation of the decision. It allocates; call
// it only when the explanation is wanted.
func (r Result) Explain() Explanation {
	e := Explanation{Decision: r.Decision, Level: r.Level, Reason: r.Reason.String(), Matched: []MatchedStatement{}}
	if r.DecidedBy != 0 {
		e.DecidedBy = r.DecidedBy.String()
	}
	if r.rc == nil || r.set == nil {
		return e
	}
	tr := &tracer{}
	again := evaluate(r.rc, r.set, tr)
	if again.Decision != r.Decision {
		// Cannot happen: the traced run follows the same rules.
		e.Reason += " (warning: the traced evaluation decided " + again.Decision.String() + ")"
	}
	e.Matched = append(e.Matched, tr.matched...)
	switch r.DecidedBy {
	case KindSCP:
		if r.Level >= 0 && r.Level < len(r.set.SCPs) {
			e.LevelID = r.set.SCPs[r.Level].ID
		}
	case KindRCP:
		if r.Level >= 0 && r.Level < len(r.set.RCPs) {
			e.LevelID = r.set.RCPs[r.Level].ID
		}
	case KindVPCEndpoint:
		if r.Level >= 0 && r.Level < len(r.set.VPCEndpoints) {
			vpce := r.set.VPCEndpoints[r.Level]
			e.LevelID = vpce.ID
			if vpce.Policy != nil {
				e.Policy = vpce.Policy.name
			}
		}
	}
	if keyPolicyAssumed(r.rc, r.set) {
		e.Notes = append(e.Notes, DefaultKeyPolicyNote)
	}
	return e
}

// String renders the explanation for people, one matched statement a line.
func (e Explanation) String() string {
	var b strings.Builder
	b.WriteString(e.Decision.String())
	if e.DecidedBy == KindVPCEndpoint.String() {
		b.WriteString(" by vpc-endpoint policy ")
		b.WriteString(strconv.Quote(e.Policy))
		if e.LevelID != "" {
			b.WriteString(" of endpoint ")
			b.WriteString(e.LevelID)
		}
	} else if e.DecidedBy != "" {
		b.WriteString(" by ")
		b.WriteString(e.DecidedBy)
		if e.Level >= 0 {
			b.WriteString(" level ")
			b.WriteString(strconv.Itoa(e.Level))
			if e.LevelID != "" {
				b.WriteString(" (")
				b.WriteString(e.LevelID)
				b.WriteByte(')')
			}
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	for _, n := range e.Notes {
		b.WriteString("\n  note: ")
		b.WriteString(n)
	}
	for _, m := range e.Matched {
		b.WriteString("\n  ")
		b.WriteString(m.String())
	}
	return b.String()
}

// String renders one matched statement: "deny scp[0] p-root Statement[1] Sid=X at file:3:5".
func (m MatchedStatement) String() string {
	var b strings.Builder
	b.WriteString(m.Effect.String())
	b.WriteByte(' ')
	b.WriteString(m.Kind.String())
	if m.Level >= 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(m.Level))
		if m.LevelID != "" {
			b.WriteByte(' ')
			b.WriteString(m.LevelID)
		}
		b.WriteByte(']')
	}
	if m.Policy != "" {
		b.WriteString(" policy ")
		b.WriteString(strconv.Quote(m.Policy))
	}
	b.WriteString(" statement ")
	b.WriteString(strconv.Itoa(m.Index))
	if m.Sid != "" {
		b.WriteString(" (Sid ")
		b.WriteString(strconv.Quote(m.Sid))
		b.WriteByte(')')
	}
	b.WriteString(" at ")
	b.WriteString(m.Pos.String())
	return b.String()
}
