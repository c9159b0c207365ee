package policy

import (
	"fmt"
	"strings"
)

// MaxOrgPolicySize is the largest SCP or RCP AWS Organizations accepts, in
// characters (white space counts).
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html
const MaxOrgPolicySize = 5120

// MaxVPCEndpointPolicySize is the largest VPC endpoint policy AWS accepts,
// in characters (white space counts).
// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
const MaxVPCEndpointPolicySize = 20480

// RCPFullAWSAccessName is the name of the AWS-managed RCP attached to every
// root, OU and account once RCPs are enabled; it is the only RCP allowed to
// use "Effect": "Allow".
const RCPFullAWSAccessName = "RCPFullAWSAccess"

type findings []Finding

func (fs *findings) errorf(at Pos, code, format string, args ...any) {
	*fs = append(*fs, Finding{Pos: at, Severity: SeverityError, Code: code, Message: fmt.Sprintf(format, args...)})
}

func (fs *findings) warnf(at Pos, code, format string, args ...any) {
	*fs = append(*fs, Finding{Pos: at, Severity: SeverityWarning, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Validate checks d against the rules of policy kind k and returns every
// finding: the structural warnings of Parse, the language checks (actions,
// ARNs, principals, condition operators and values, policy variables) and
// the rules of the kind.
func (d *Document) Validate(k Kind) []Finding {
	fs := findings(append([]Finding(nil), d.warnings...))
	fs = append(fs, d.languageFindings()...)
	switch k {
	case KindIdentity, KindBoundary, KindSession:
		d.validateNoPrincipal(&fs, k)
		d.validateResourceRequired(&fs, k)
	case KindSCP:
		// Since September 2025 SCPs accept the full IAM policy language
		// (conditions and resources in Allow statements, NotResource,
		// wildcards anywhere in actions) but never a Principal.
		// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_syntax.html
		d.validateNoPrincipal(&fs, k)
		d.validateResourceRequired(&fs, k)
		d.validateSize(&fs, k)
	case KindRCP:
		d.validateRCP(&fs)
		d.validateSize(&fs, k)
	case KindResource:
		d.validateResourceRequired(&fs, k)
		for _, s := range d.Statements {
			if s.Principal == nil {
				fs.errorf(s.Pos, "missing-principal", "a statement of a resource-based policy needs a Principal (or NotPrincipal)")
			}
			if s.NotPrincipal && s.Effect == Allow {
				// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
				// AWS no longer supports it; older policies keep their
				// meaning (everyone but the listed principals is allowed).
				fs.warnf(s.principalPos, "notprincipal-allow", "NotPrincipal with \"Effect\": \"Allow\" is not supported by AWS any more and allows every principal not listed, including anonymous ones; use \"Effect\": \"Deny\"")
			}
		}
	case KindVPCEndpoint:
		// An endpoint policy must contain a Principal element and is at
		// most 20,480 characters long.
		// https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
		d.validateResourceRequired(&fs, k)
		for _, s := range d.Statements {
			if s.Principal == nil {
				fs.errorf(s.Pos, "missing-principal", "a statement of a VPC endpoint policy needs a Principal")
			}
		}
		if d.Size > MaxVPCEndpointPolicySize {
			fs.errorf(d.Pos, "too-large", "a VPC endpoint policy is %d characters long; AWS accepts at most %d (white space counts)", d.Size, MaxVPCEndpointPolicySize)
		}
	case KindTrust:
		for _, s := range d.Statements {
			switch {
			case s.Principal == nil:
				fs.errorf(s.Pos, "missing-principal", "a statement of a role trust policy needs a Principal")
			case s.NotPrincipal:
				fs.errorf(s.principalPos, "notprincipal-trust", "NotPrincipal cannot be used in a role trust policy")
			}
			if s.HasResource {
				fs.errorf(s.resourcePos, "resource-in-trust", "a role trust policy has no Resource or NotResource: the role is the resource")
			}
			for _, a := range s.Actions {
				l := strings.ToLower(a.S)
				if l != "*" && !strings.HasPrefix(l, "sts:") {
					fs.warnf(a.Pos, "trust-action", "action %q in a role trust policy: only sts: actions (sts:AssumeRole, sts:TagSession, ...) apply to a role", a.S)
				}
			}
		}
	default:
		fs.errorf(d.Pos, "unknown-kind", "unknown policy kind %v", k)
	}
	return fs
}

func (d *Document) validateNoPrincipal(fs *findings, k Kind) {
	for _, s := range d.Statements {
		if s.Principal != nil {
			what := "Principal"
			if s.NotPrincipal {
				what = "NotPrincipal"
			}
			// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
			fs.errorf(s.principalPos, "principal-not-allowed", "%s is not allowed in %s: it applies to the principal it is attached to", what, kindPhrase(k))
		}
	}
}

func (d *Document) validateResourceRequired(fs *findings, k Kind) {
	for _, s := range d.Statements {
		if !s.HasResource {
			fs.errorf(s.Pos, "missing-resource", "the statement has neither Resource nor NotResource, which %s requires", kindPhrase(k))
		}
	}
}

func (d *Document) validateSize(fs *findings, k Kind) {
	if d.Size > MaxOrgPolicySize {
		fs.errorf(d.Pos, "too-large", "%s is %d characters long; AWS Organizations accepts at most %d (white space counts)", kindPhrase(k), d.Size, MaxOrgPolicySize)
	}
}

// validateRCP applies the RCP rules.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html
func (d *Document) validateRCP(fs *findings) {
	full := d.IsRCPFullAWSAccess()
	if d.Version != Version2012 {
		at := d.Pos
		if d.HasVersion {
			at = d.versionPos
		}
		fs.errorf(at, "rcp-version", "an RCP must have \"Version\": %q", Version2012)
	}
	for _, s := range d.Statements {
		if s.Effect == Allow && !full {
			fs.errorf(s.effectPos, "rcp-allow", "RCPs accept only \"Effect\": \"Deny\"; Allow is reserved to the AWS-managed %s", RCPFullAWSAccessName)
		}
		if s.NotAction {
			fs.errorf(s.actionPos, "rcp-notaction", "RCPs do not support NotAction")
		}
		switch {
		case s.Principal == nil:
			fs.errorf(s.Pos, "missing-principal", "an RCP statement needs \"Principal\": \"*\"")
		case s.NotPrincipal:
			fs.errorf(s.principalPos, "rcp-notprincipal", "RCPs do not support NotPrincipal")
		case !s.Principal.Any:
			fs.errorf(s.principalPos, "rcp-principal", "the Principal of an RCP must be \"*\"; restrict principals with conditions (aws:PrincipalOrgID, aws:PrincipalArn)")
		}
		if !s.HasResource {
			fs.errorf(s.Pos, "missing-resource", "the statement has neither Resource nor NotResource, which an RCP requires")
		}
	}
}

// IsRCPFullAWSAccess reports whether d is the AWS-managed RCPFullAWSAccess
// policy: one Allow statement for Principal "*", Action "*" and
// Resource "*" with no condition.
func (d *Document) IsRCPFullAWSAccess() bool {
	if len(d.Statements) != 1 {
		return false
	}
	s := d.Statements[0]
	return s.Effect == Allow && s.Principal != nil && s.Principal.Any && !s.NotPrincipal &&
		!s.NotAction && len(s.Actions) == 1 && s.Actions[0].S == "*" &&
		!s.NotResource && len(s.Resources) == 1 && s.Resources[0].S == "*" && len(s.Conditions) == 0
}

func kindPhrase(k Kind) string {
	switch k {
	case KindIdentity:
		return "an identity-based policy"
	case KindBoundary:
		return "a permissions boundary"
	case KindSession:
		return "a session policy"
	case KindSCP:
		return "an SCP"
	case KindRCP:
		return "an RCP"
	case KindResource:
		return "a resource-based policy"
	case KindTrust:
		return "a role trust policy"
	case KindVPCEndpoint:
		return "a VPC endpoint policy"
	}
	return "a policy"
}

// languageFindings checks the language of every statement: action and
// resource syntax, principals, condition operators and values, and policy
// variables.
func (d *Document) languageFindings() []Finding {
	var fs findings
	vars := d.Variables()
	for _, s := range d.Statements {
		for _, a := range s.Actions {
			checkAction(&fs, a)
		}
		for _, r := range s.Resources {
			checkResource(&fs, r)
			checkVariables(&fs, r, vars)
			if vars {
				checkResourceVariables(&fs, r)
			}
		}
		if s.Principal != nil {
			for _, e := range s.Principal.Entries {
				checkPrincipalEntry(&fs, e)
			}
		}
		for _, c := range s.Conditions {
			spec, err := parseOperator(c.Operator)
			if err != nil {
				fs.errorf(c.Pos, "unknown-operator", "%v", err)
				continue
			}
			if spec.caseHint {
				fs.warnf(c.Pos, "operator-case", "condition operator %q is usually written with different capitalisation", c.Operator)
			}
			for _, k := range c.Keys {
				if !strings.Contains(k.Key, ":") {
					fs.warnf(k.Pos, "condition-key", "condition key %q has no service prefix (such as aws: or s3:)", k.Key)
				}
				if spec.info.typ == tNull && spec.set != setNone {
					fs.warnf(c.Pos, "null-set", "the Null operator ignores set qualifiers")
				}
				for _, v := range k.Values {
					if _, err := compileCondValue(spec.info, v.S, vars); err != nil {
						hint := ""
						if strings.Contains(v.S, "${") {
							hint = " (policy variables are substituted only in string and ARN condition operators)"
						}
						fs.errorf(v.Pos, "bad-condition-value", "%s: %v%s", spec.info.name, err, hint)
						continue
					}
					switch spec.info.typ {
					case tString, tStringFold, tLike, tArn:
						checkVariables(&fs, v, vars)
					}
				}
			}
		}
	}
	return fs
}

// checkAction checks the "service:action" form of an action pattern.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func checkAction(fs *findings, a Value) {
	if a.S == "*" || a.S == "" {
		return
	}
	i := strings.IndexByte(a.S, ':')
	if i <= 0 || i == len(a.S)-1 {
		fs.errorf(a.Pos, "bad-action", "action %q is not of the form service:Action (e.g. s3:GetObject) or \"*\"", a.S)
		return
	}
	for _, c := range a.S[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '*' || c == '?') {
			fs.errorf(a.Pos, "bad-action", "action %q has an invalid service prefix %q", a.S, a.S[:i])
			return
		}
	}
	if strings.ContainsAny(a.S[i+1:], ": /") {
		fs.errorf(a.Pos, "bad-action", "action %q has an invalid action name %q", a.S, a.S[i+1:])
	}
}

// checkResource checks that a resource is "*" or an ARN of six
// colon-delimited parts (colons inside ${...} do not count).
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
func checkResource(fs *findings, r Value) {
	if r.S == "*" || r.S == "" {
		return
	}
	if !strings.HasPrefix(r.S, "arn:") && !strings.HasPrefix(r.S, "arn*") {
		fs.errorf(r.Pos, "bad-arn", "resource %q is neither \"*\" nor an ARN (arn:partition:service:region:account:resource)", r.S)
		return
	}
	colons := 0
	depth := 0
	for i := 0; i < len(r.S); i++ {
		switch {
		case r.S[i] == '$' && i+1 < len(r.S) && r.S[i+1] == '{':
			depth++
			i++
		case r.S[i] == '}' && depth > 0:
			depth--
		case r.S[i] == ':' && depth == 0:
			colons++
		}
	}
	if colons < 5 {
		fs.warnf(r.Pos, "bad-arn", "resource %q has %d colon-delimited parts; an ARN has six (arn:partition:service:region:account:resource), so this entry matches no resource", r.S, colons+1)
	}
}

// checkVariables reports malformed policy variables, and variables in a
// policy whose Version does not substitute them.
func checkVariables(fs *findings, v Value, vars bool) {
	refs := scanVars(v.S)
	if len(refs) == 0 {
		return
	}
	if !vars {
		fs.warnf(v.Pos, "variables-need-version", "%q holds a policy variable, which is literal text unless the policy has \"Version\": %q", v.S, Version2012)
		return
	}
	for _, r := range refs {
		if r.malformed != "" {
			fs.errorf(v.Pos, "bad-variable", "%s in %q", r.malformed, v.S)
		}
	}
}

// checkResourceVariables warns about policy variables before the fifth
// colon of an ARN, where AWS does not substitute them.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func checkResourceVariables(fs *findings, r Value) {
	i := strings.Index(r.S, "${")
	if i < 0 {
		return
	}
	if strings.Count(r.S[:i], ":") < 5 {
		fs.warnf(r.Pos, "variable-in-arn-prefix", "resource %q: policy variables are substituted only in the resource part of an ARN (after the fifth colon); here it is literal text", r.S)
	}
}

// checkPrincipalEntry checks one AWS/Service/Federated/CanonicalUser value.
func checkPrincipalEntry(fs *findings, e PrincipalEntry) {
	v := e.Value
	switch e.Type {
	case "AWS":
		if v == "*" || isAccountID(v) {
			return
		}
		if strings.ContainsAny(v, "*?") {
			fs.errorf(e.Pos, "principal-wildcard", "AWS principal %q: wildcards are not supported in principal ARNs (only \"*\" alone); use a condition on aws:PrincipalArn", v)
			return
		}
		seg, res, ok := arnParts(v)
		if !ok || (seg[1] != "iam" && seg[1] != "sts") || !isAccountID(seg[3]) {
			fs.errorf(e.Pos, "bad-principal", "AWS principal %q is not \"*\", an account id or an IAM/STS ARN with an account id", v)
			return
		}
		ok = res == "root" || strings.HasPrefix(res, "user/") || strings.HasPrefix(res, "role/") ||
			strings.HasPrefix(res, "assumed-role/") || strings.HasPrefix(res, "federated-user/")
		if !ok {
			fs.errorf(e.Pos, "bad-principal", "AWS principal %q is not a root, user, role, assumed-role or federated-user ARN", v)
		}
	case "Service":
		if v == "*" {
			fs.errorf(e.Pos, "bad-principal", "a Service principal cannot be \"*\"")
		} else if !strings.Contains(v, ".") || strings.ContainsAny(v, " */:") {
			fs.errorf(e.Pos, "bad-principal", "Service principal %q is not a service name such as s3.amazonaws.com", v)
		}
	case "CanonicalUser":
		if len(v) != 64 || !isHex(v) {
			fs.warnf(e.Pos, "bad-principal", "CanonicalUser %q is not a 64-digit hexadecimal canonical user id", v)
		}
	case "Federated":
		if strings.ContainsAny(v, "*?") {
			fs.errorf(e.Pos, "principal-wildcard", "Federated principal %q: wildcards are not supported", v)
		}
	}
}
