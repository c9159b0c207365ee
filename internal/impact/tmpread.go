package impact

// TEMPORARY: a minimal reader until internal/policy builds. Replaced by policy.go.

import (
	"encoding/json"

	"github.com/orgguard/orgguard/internal/org"
)

func readPolicy(dim dimension, p *org.Policy) ([]statement, error) {
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(p.Content), &doc); err != nil {
		return nil, err
	}
	var raw []map[string]any
	if err := json.Unmarshal(doc.Statement, &raw); err != nil {
		var one map[string]any
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return nil, err
		}
		raw = []map[string]any{one}
	}
	strs := func(v any) []string {
		switch x := v.(type) {
		case string:
			return []string{x}
		case []any:
			var out []string
			for _, e := range x {
				s, _ := e.(string)
				out = append(out, s)
			}
			return out
		}
		return nil
	}
	var out []statement
	for _, m := range raw {
		s := statement{deny: m["Effect"] == "Deny"}
		if v, ok := m["NotAction"]; ok {
			s.notAction, s.actions = true, strs(v)
		} else {
			s.actions = strs(m["Action"])
		}
		if v, ok := m["NotResource"]; ok {
			s.notResource, s.resources = true, strs(v)
		} else if v, ok := m["Resource"]; ok {
			s.resources = strs(v)
		} else {
			s.resources = []string{"*"}
		}
		_, s.conditional = m["Condition"]
		if pr, ok := m["Principal"]; ok && pr != "*" && dim == dimRCP {
			s.conditional = true
		}
		out = append(out, s)
	}
	return out, nil
}
