package policy

import "strings"

// Principal matching in resource-based, trust and resource control policies.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html

// grant says how a Principal element named the requester; evaluation
// treats the kinds differently within one account.
type grant uint8

const (
	grantNone     grant = iota
	grantAccount        // the requester's account (arn:aws:iam::ID:root or ID): delegation to the account
	grantWildcard       // "*" or {"AWS": "*"}
	grantRole           // the role ARN of an assumed-role session (or the role itself)
	grantOther          // a service, federated provider or canonical user named directly
	grantDirect         // the IAM user, role session or federated user session ARN itself
)

type pmKind uint8

const (
	pmUnknown pmKind = iota
	pmAll
	pmAccount
	pmUser
	pmRole
	pmSession
	pmFedUser
	pmService
	pmFederated
	pmCanonical
)

type pmEntry struct {
	kind    pmKind
	account string
	name    string // user or role name (last path element); session as "role/session"
	raw     string
}

// principalMatcher is a compiled Principal or NotPrincipal element.
type principalMatcher struct {
	any     bool
	entries []pmEntry
}

func compilePrincipal(p *Principal) *principalMatcher {
	m := &principalMatcher{any: p.Any}
	for _, e := range p.Entries {
		m.entries = append(m.entries, compilePrincipalEntry(e))
	}
	return m
}

func compilePrincipalEntry(e PrincipalEntry) pmEntry {
	v := e.Value
	switch e.Type {
	case "Service":
		return pmEntry{kind: pmService, raw: strings.ToLower(v)}
	case "Federated":
		return pmEntry{kind: pmFederated, raw: v}
	case "CanonicalUser":
		return pmEntry{kind: pmCanonical, raw: strings.ToLower(v)}
	}
	// AWS
	if v == "*" {
		return pmEntry{kind: pmAll}
	}
	if isAccountID(v) {
		return pmEntry{kind: pmAccount, account: v}
	}
	seg, res, ok := arnParts(v)
	if !ok {
		return pmEntry{kind: pmUnknown, raw: v}
	}
	acct := seg[3]
	switch {
	case seg[1] == "iam" && res == "root":
		return pmEntry{kind: pmAccount, account: acct}
	case seg[1] == "iam" && strings.HasPrefix(res, "user/"):
		return pmEntry{kind: pmUser, account: acct, name: lastPathElem(res)}
	case seg[1] == "iam" && strings.HasPrefix(res, "role/"):
		return pmEntry{kind: pmRole, account: acct, name: lastPathElem(res)}
	case seg[1] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		return pmEntry{kind: pmSession, account: acct, name: res[len("assumed-role/"):]}
	case seg[1] == "sts" && strings.HasPrefix(res, "federated-user/"):
		return pmEntry{kind: pmFedUser, account: acct, name: res[len("federated-user/"):]}
	}
	return pmEntry{kind: pmUnknown, raw: v}
}

// match returns how the element names the requester (grantNone when it
// does not). With rootOnly (a gateway VPC endpoint policy) an account
// names its root user only.
func (m *principalMatcher) match(p *requester, rootOnly bool) grant {
	if m.any {
		return grantWildcard
	}
	best := grantNone
	for i := range m.entries {
		e := &m.entries[i]
		if rootOnly && e.kind == pmAccount && p.typ != ptRoot {
			continue
		}
		if g := e.match(p); g > best {
			best = g
		}
	}
	return best
}

// lists reports whether a NotPrincipal element names the requester. AWS
// matches NotPrincipal entries exactly: an account stands for its root user
// only and a role ARN for the role only, not for its sessions, which must be
// listed by their session ARN.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
func (m *principalMatcher) lists(p *requester) bool {
	if m.any {
		return true
	}
	for i := range m.entries {
		e := &m.entries[i]
		switch e.kind {
		case pmAccount:
			if p.typ == ptRoot && p.account == e.account {
				return true
			}
		case pmRole:
			if p.typ == ptRole && p.account == e.account && strings.EqualFold(p.name, e.name) {
				return true
			}
		default:
			if e.match(p) != grantNone {
				return true
			}
		}
	}
	return false
}

func (e *pmEntry) match(p *requester) grant {
	switch e.kind {
	case pmAll:
		return grantWildcard
	case pmAccount:
		if p.account == e.account && p.typ != ptService && p.typ != ptAnonymous {
			if p.typ == ptRoot {
				return grantDirect
			}
			return grantAccount
		}
	case pmUser:
		if p.typ == ptUser && p.account == e.account && strings.EqualFold(p.name, e.name) {
			return grantDirect
		}
	case pmRole:
		if p.account == e.account && strings.EqualFold(p.name, e.name) {
			switch p.typ {
			case ptAssumedRole:
				return grantRole // a role ARN matches the role's sessions
			case ptRole:
				return grantRole
			}
		}
	case pmSession:
		if p.typ == ptAssumedRole && p.account == e.account && e.name == p.name+"/"+p.session {
			return grantDirect
		}
	case pmFedUser:
		if p.typ == ptFederatedUser && p.account == e.account && e.name == p.name {
			return grantDirect
		}
	case pmService:
		if p.typ == ptService && strings.EqualFold(p.raw, e.raw) {
			return grantOther
		}
	case pmFederated:
		if p.typ == ptFederatedIdP && p.raw == e.raw {
			return grantOther
		}
	case pmCanonical:
		if p.typ == ptCanonical && strings.EqualFold(p.raw, e.raw) {
			return grantOther
		}
	case pmUnknown:
		if p.raw == e.raw {
			return grantOther
		}
	}
	return grantNone
}
