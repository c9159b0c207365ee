package policy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ErrBadRequest is matched (errors.Is) by errors of NewRequestContext.
var ErrBadRequest = errors.New("bad request")

// principalType classifies the requesting principal.
type principalType uint8

const (
	ptUnknown       principalType = iota
	ptRoot                        // arn:aws:iam::ACCOUNT:root
	ptUser                        // arn:aws:iam::ACCOUNT:user/path/name
	ptRole                        // arn:aws:iam::ACCOUNT:role/path/name (the role itself)
	ptAssumedRole                 // arn:aws:sts::ACCOUNT:assumed-role/name/session
	ptFederatedUser               // arn:aws:sts::ACCOUNT:federated-user/name
	ptService                     // s3.amazonaws.com
	ptAnonymous                   // "anonymous"
	ptFederatedIdP                // a web identity or SAML provider (Federated principal)
	ptCanonical                   // an S3 canonical user id
)

// requester is the parsed principal of a request.
type requester struct {
	raw       string
	typ       principalType
	partition string
	account   string
	name      string // user name, role name, federated user name
	session   string // session name of an assumed role
	roleArn   string // role ARN of an assumed-role session (without path) or of a role
	slr       bool   // service-linked role or one of its sessions
}

func (p *requester) isSession() bool { return p.typ == ptAssumedRole || p.typ == ptFederatedUser }

// isIAM reports whether the requester is an IAM principal of an account
// (root, user, role or session), as opposed to a service, an anonymous
// caller or an external identity provider.
func (p *requester) isIAM() bool {
	switch p.typ {
	case ptRoot, ptUser, ptRole, ptAssumedRole, ptFederatedUser:
		return true
	}
	return false
}

// ctxValue is one value of a request context key, parsed once.
type ctxValue struct {
	s      string
	lower  string
	num    float64
	numOK  bool
	t      time.Time
	tOK    bool
	addr   netip.Addr
	addrOK bool
	arnOK  bool
	arnSeg [4]string
	arnRes string
}

// RequestContext is a request prepared for evaluation: principal and
// resource ARNs parsed, action lowercased, context keys indexed and their
// values parsed as numbers, dates and IP addresses once. It is immutable
// and safe for concurrent use by many Evaluate calls.
type RequestContext struct {
	req       Request
	action    string // lowercased
	service   string // lowercased service prefix of the action
	resource  string
	resIsARN  bool
	resSeg    [4]string
	resRes    string
	resAcct   string // account owning the resource
	principal requester
	org       *Org
	// noPermissions: the action needs no permissions (sts:GetCallerIdentity)
	// and the caller is authenticated.
	noPermissions bool
	kmsKey        bool           // the resource is a KMS key ARN (not an alias, not "*")
	refusal       Reason         // the service refuses the request whatever the policies say; ReasonNone if not
	keys          map[string]int // lowercased key -> index in vals
	// Indexes (in vals) of aws:PrincipalOrgID and aws:ResourceOrgID when
	// derived from the Org rather than given, else -1: whether they apply
	// depends on the policy set (see evalState.lookup).
	principalOrgIdx, resourceOrgIdx int
	vals                            [][]ctxValue
	names                           []string // the key names as given or derived, by index
}

// Request returns the request rc was built from.
func (rc *RequestContext) Request() Request { return rc.req }

// Value returns the values of a context key (any case) after derivation,
// and whether the key is present.
func (rc *RequestContext) Value(key string) ([]string, bool) {
	i, ok := rc.keys[strings.ToLower(key)]
	if !ok {
		return nil, false
	}
	out := make([]string, len(rc.vals[i]))
	for j, v := range rc.vals[i] {
		out[j] = v.s
	}
	return out, true
}

// Keys returns the context key names present (given and derived), in no
// particular order.
func (rc *RequestContext) Keys() []string { return append([]string(nil), rc.names...) }

// NewRequestContext prepares r for evaluation. It parses the principal
// (ARN, service principal or "anonymous") and the resource, and fills the
// context keys AWS derives from them unless r.Context sets them:
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalOrgID (when org has an
// ID and the principal has an account), aws:ResourceAccount,
// aws:PrincipalIsAWSService, aws:PrincipalServiceName, aws:PrincipalType,
// aws:username and aws:userid (where derivable from the ARN). A key given
// with an empty list of values is treated as absent and is not derived.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
func NewRequestContext(r Request, org *Org) (*RequestContext, error) {
	rc := &RequestContext{req: r, org: org, keys: make(map[string]int, len(r.Context)+10), principalOrgIdx: -1, resourceOrgIdx: -1}
	act := strings.TrimSpace(r.Action)
	i := strings.IndexByte(act, ':')
	if i <= 0 || i == len(act)-1 {
		return nil, fmt.Errorf("preparing request: action %q is not of the form service:Action: %w", r.Action, ErrBadRequest)
	}
	rc.action = strings.ToLower(act)
	rc.service = rc.action[:i]
	if r.Resource == "" {
		return nil, fmt.Errorf("preparing request: empty resource (use \"*\" for actions without a resource): %w", ErrBadRequest)
	}
	rc.resource = r.Resource
	if seg, res, ok := arnParts(r.Resource); ok {
		rc.resIsARN, rc.resSeg, rc.resRes = true, seg, res
	}
	p, err := parseRequester(r.Principal)
	if err != nil {
		return nil, fmt.Errorf("preparing request: %w", err)
	}
	rc.principal = p
	rc.noPermissions = p.isIAM() && NoPermissionsRequired(rc.action)
	rc.kmsKey = IsKMSKey(r.Resource)
	rc.refusal = serviceRefusal(rc.action, r.Resource, &p)
	if r.ResourceAccount != "" {
		if !isAccountID(r.ResourceAccount) {
			return nil, fmt.Errorf("preparing request: resource account %q is not a 12-digit account id: %w", r.ResourceAccount, ErrBadRequest)
		}
		rc.resAcct = r.ResourceAccount
	} else {
		rc.resAcct = p.account
	}

	// Given keys first; they win over derived ones.
	for k, vs := range r.Context {
		lk := strings.ToLower(strings.TrimSpace(k))
		if lk == "" {
			return nil, fmt.Errorf("preparing request: empty context key: %w", ErrBadRequest)
		}
		if _, dup := rc.keys[lk]; dup {
			return nil, fmt.Errorf("preparing request: context key %q given twice (keys are case-insensitive): %w", k, ErrBadRequest)
		}
		rc.add(k, vs)
	}
	derive := func(k string, v string) {
		if _, set := rc.keys[strings.ToLower(k)]; !set && v != "" {
			rc.add(k, []string{v})
		}
	}
	switch p.typ {
	case ptRoot:
		derive("aws:PrincipalArn", "arn:"+p.partition+":iam::"+p.account+":root")
		derive("aws:PrincipalType", "Account")
		derive("aws:userid", p.account)
	case ptUser:
		derive("aws:PrincipalArn", p.raw)
		derive("aws:PrincipalType", "User")
		derive("aws:username", p.name)
	case ptRole:
		derive("aws:PrincipalArn", p.raw)
		derive("aws:PrincipalType", "AssumedRole")
	case ptAssumedRole:
		derive("aws:PrincipalArn", p.roleArn)
		derive("aws:PrincipalType", "AssumedRole")
	case ptFederatedUser:
		derive("aws:PrincipalArn", p.raw)
		derive("aws:PrincipalType", "FederatedUser")
		derive("aws:userid", p.account+":"+p.name)
	case ptAnonymous:
		derive("aws:PrincipalType", "Anonymous")
	case ptService:
		derive("aws:PrincipalServiceName", p.raw)
	}
	if p.account != "" {
		derive("aws:PrincipalAccount", p.account)
	}
	if org != nil && org.ID != "" {
		// Derived only when the account is known to be in the
		// organization; Evaluate decides that from the policy set.
		if _, set := rc.keys["aws:principalorgid"]; !set && p.account != "" {
			rc.principalOrgIdx = len(rc.vals)
			rc.add("aws:PrincipalOrgID", []string{org.ID})
		}
		if _, set := rc.keys["aws:resourceorgid"]; !set && rc.resAcct != "" {
			rc.resourceOrgIdx = len(rc.vals)
			rc.add("aws:ResourceOrgID", []string{org.ID})
		}
	}
	if p.typ == ptService {
		derive("aws:PrincipalIsAWSService", "true")
	} else {
		derive("aws:PrincipalIsAWSService", "false")
	}
	derive("aws:ResourceAccount", rc.resAcct)
	return rc, nil
}

func (rc *RequestContext) add(name string, vs []string) {
	cv := make([]ctxValue, len(vs))
	for i, s := range vs {
		cv[i] = parseCtxValue(s)
	}
	rc.keys[strings.ToLower(strings.TrimSpace(name))] = len(rc.vals)
	rc.vals = append(rc.vals, cv)
	rc.names = append(rc.names, name)
}

func parseCtxValue(s string) ctxValue {
	v := ctxValue{s: s, lower: strings.ToLower(s)}
	v.arnSeg, v.arnRes, v.arnOK = arnParts(s)
	t := strings.TrimSpace(s)
	if t == "" {
		return v
	}
	// Cheap checks first: failed parses allocate their errors.
	if c := t[0]; c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' {
		if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsNaN(f) {
			v.num, v.numOK = f, true
		}
		v.t, v.tOK = parseDate(t)
	}
	if strings.ContainsAny(t, ".:") && isHexDigit(t[0]) {
		if a, err := netip.ParseAddr(t); err == nil {
			v.addr, v.addrOK = a.Unmap(), true
		}
	}
	return v
}

// dateLayouts are the ISO 8601 forms accepted by the Date operators.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z",
}

// parseDate parses an ISO 8601 date/time or epoch seconds.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if isEpoch(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > 1e13 || n < -1e13 {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if len(s) < 10 || s[4] != '-' && !(len(s) >= 8 && s[8] == 'T') {
		return time.Time{}, false
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isEpoch(s string) bool {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseRequester parses the principal of a request.
func parseRequester(s string) (requester, error) {
	p := requester{raw: s}
	switch {
	case s == "":
		return p, fmt.Errorf("empty principal (use \"anonymous\" for unauthenticated requests): %w", ErrBadRequest)
	case s == "anonymous" || s == "*":
		p.typ = ptAnonymous
		return p, nil
	case isAccountID(s):
		p.typ, p.partition, p.account = ptRoot, "aws", s
		p.raw = "arn:aws:iam::" + s + ":root"
		return p, nil
	case len(s) == 64 && isHex(s):
		p.typ = ptCanonical
		return p, nil
	}
	seg, res, ok := arnParts(s)
	if !ok {
		if strings.Contains(s, ".") && !strings.ContainsAny(s, ":/ ") {
			// A service principal ("s3.amazonaws.com") or an OIDC provider
			// ("cognito-identity.amazonaws.com", "accounts.google.com").
			if strings.HasSuffix(s, ".amazonaws.com") && !strings.HasPrefix(s, "cognito-identity.") {
				p.typ = ptService
			} else {
				p.typ = ptFederatedIdP
			}
			return p, nil
		}
		return p, fmt.Errorf("principal %q is not an ARN, a service principal, an account id or \"anonymous\": %w", s, ErrBadRequest)
	}
	p.partition, p.account = seg[0], seg[3]
	if !isAccountID(p.account) {
		return p, fmt.Errorf("principal %q has no 12-digit account id: %w", s, ErrBadRequest)
	}
	svc := seg[1]
	switch {
	case svc == "iam" && res == "root":
		p.typ = ptRoot
	case svc == "iam" && strings.HasPrefix(res, "user/"):
		p.typ, p.name = ptUser, lastPathElem(res)
	case svc == "iam" && strings.HasPrefix(res, "role/"):
		p.typ, p.name = ptRole, lastPathElem(res)
		p.roleArn = s
		p.slr = strings.HasPrefix(res, "role/aws-service-role/")
	case svc == "iam" && (strings.HasPrefix(res, "saml-provider/") || strings.HasPrefix(res, "oidc-provider/")):
		p.typ = ptFederatedIdP
	case svc == "sts" && strings.HasPrefix(res, "assumed-role/"):
		rest := res[len("assumed-role/"):]
		j := strings.IndexByte(rest, '/')
		if j <= 0 || j == len(rest)-1 {
			return p, fmt.Errorf("principal %q: want arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION: %w", s, ErrBadRequest)
		}
		p.typ, p.name, p.session = ptAssumedRole, rest[:j], rest[j+1:]
		p.roleArn = "arn:" + p.partition + ":iam::" + p.account + ":role/" + p.name
		p.slr = strings.HasPrefix(p.name, "AWSServiceRoleFor")
	case svc == "sts" && strings.HasPrefix(res, "federated-user/"):
		p.typ, p.name = ptFederatedUser, res[len("federated-user/"):]
	default:
		return p, fmt.Errorf("principal %q is not a root, user, role, assumed-role or federated-user ARN: %w", s, ErrBadRequest)
	}
	if p.name == "" && p.typ != ptRoot && p.typ != ptFederatedIdP {
		return p, fmt.Errorf("principal %q has an empty name: %w", s, ErrBadRequest)
	}
	return p, nil
}

func lastPathElem(res string) string {
	if i := strings.LastIndexByte(res, '/'); i >= 0 {
		return res[i+1:]
	}
	return res
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeBase64 decodes standard base64 with or without padding.
func decodeBase64(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}
