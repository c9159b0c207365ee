package incident

import (
	"fmt"
	"slices"
	"strings"

	"github.com/orgguard/orgguard/internal/org"
)

// Mapping says which customer an account belongs to: the value of an
// account tag, or the name of the OU directly under a configured parent
// (e.g. parent /Customers: an account anywhere under /Customers/Acme
// belongs to customer "Acme"). The tag wins when both apply.
type Mapping struct {
	// Tag is an account tag key whose value names the customer; "" = none.
	// Tags are read only with backend.aws.readTags (always on the simulator).
	Tag string `yaml:"tag" json:"tag,omitempty"`
	// OUParent is the path (or ID) of the OU whose children are customers;
	// "" = none.
	OUParent string `yaml:"ouParent" json:"ouParent,omitempty"`
}

// Validate checks the mapping's shape.
func (m Mapping) Validate() error {
	if p := m.OUParent; p != "" && !strings.HasPrefix(p, "/") && !org.IsOUID(p) {
		return fmt.Errorf("ouParent %q: want an OU path such as /Customers or an OU ID", p)
	}
	return nil
}

// Customers returns the sorted customers of accounts in x, and for each
// customer its accounts (sorted).
func (m Mapping) Customers(x *org.Index, accounts []string) ([]string, map[string][]string) {
	if m.Tag == "" && m.OUParent == "" {
		return nil, nil
	}
	parent := ""
	if m.OUParent != "" {
		if n, err := x.Resolve(m.OUParent); err == nil {
			parent = n.ID
		}
	}
	by := map[string][]string{}
	for _, id := range accounts {
		c := m.customerOf(x, id, parent)
		if c != "" {
			by[c] = append(by[c], id)
		}
	}
	names := make([]string, 0, len(by))
	for c, ids := range by {
		slices.Sort(ids)
		names = append(names, c)
	}
	slices.Sort(names)
	return names, by
}

func (m Mapping) customerOf(x *org.Index, id, parent string) string {
	a, ok := x.Account(id)
	if !ok {
		return ""
	}
	if m.Tag != "" {
		if v := a.Tags[m.Tag]; v != "" {
			return v
		}
	}
	if parent == "" {
		return ""
	}
	path, err := x.Path(id)
	if err != nil {
		return ""
	}
	for i, n := range path {
		if n.ID == parent && i+1 < len(path) && path[i+1].Kind == org.KindOU {
			return path[i+1].Name
		}
	}
	return ""
}
