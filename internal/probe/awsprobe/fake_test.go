package awsprobe_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAWS speaks just enough of STS and IAM (query protocol, XML),
// Organizations (JSON 1.1), EC2 (query, XML) and S3 (REST, XML) for the
// probes, driven through the real SDK clients and the raw signed calls.
// It tells services apart by the SigV4 credential scope, and accounts by
// the access key: the caller's key belongs to the management account, an
// assumed role's key is "ASIA" + the role's account.
type fakeAWS struct {
	t testing.TB

	mu sync.Mutex
	// roles that exist (AssumeRole succeeds), by ARN.
	roles map[string]bool
	// externalID, when set, is required by every role's trust policy.
	externalID string
	// deny maps "account action" to how the call is denied: "scp",
	// "rcp", "identity", "trust", "vpce" or "plain" (a denial that names no
	// policy type).
	deny map[string]string
	// throttle maps "account action" to how many attempts are throttled
	// before the call goes through.
	throttle map[string]int
	// sim maps "account action" to the simulator's answer:
	// "allowed", "scp-deny" (explicitDeny, AllowedByOrganizations false),
	// "boundary-deny", or "no-org" (allowed, no organizations decision).
	sim map[string]string
	// latency is added to every request.
	latency time.Duration

	inflight, maxInflight int
	requests              int
	calls                 []string // "account action", in arrival order
}

func newFake(t testing.TB) *fakeAWS {
	return &fakeAWS{t: t, roles: map[string]bool{}, deny: map[string]string{}, throttle: map[string]int{}, sim: map[string]string{}}
}

// stats returns the most requests in flight at once and the calls made.
func (f *fakeAWS) stats() (maxInflight int, calls []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInflight, append([]string(nil), f.calls...)
}

const managementKey = "orgguard-probe-test"

// scope returns the access key and the service of a SigV4-signed request.
func scope(r *http.Request) (key, service string, ok bool) {
	auth := r.Header.Get("Authorization")
	_, cred, found := strings.Cut(auth, "Credential=")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !found {
		return "", "", false
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", "", false
	}
	return parts[0], parts[3], true
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	f.requests++
	reqID := fmt.Sprintf("req-%04d", f.requests)
	latency := f.latency
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
	}()
	if latency > 0 {
		time.Sleep(latency)
	}
	key, service, ok := scope(r)
	if !ok {
		http.Error(w, "unsigned request", http.StatusForbidden)
		return
	}
	account := "management"
	if a, ok := strings.CutPrefix(key, "ASIA"); ok {
		account = a
	} else if key != managementKey {
		http.Error(w, "unknown access key "+key, http.StatusForbidden)
		return
	}
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	var action string
	switch service {
	case "sts", "iam", "ec2":
		action = service + ":" + form.Get("Action")
	case "organizations":
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		action = "organizations:" + op
	case "s3":
		if r.Method != http.MethodGet || r.URL.Path != "/" || r.Header.Get("X-Amz-Content-Sha256") == "" {
			http.Error(w, "unexpected S3 request", http.StatusBadRequest)
			return
		}
		action = "s3:ListAllMyBuckets"
	default:
		http.Error(w, "unknown service "+service, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, account+" "+action)
	k := account + " " + action
	throttled := f.throttle[k] > 0
	if throttled {
		f.throttle[k]--
	}
	denial := f.deny[k]
	f.mu.Unlock()

	if throttled {
		f.fail(w, service, reqID, "throttle", action)
		return
	}
	if denial != "" {
		f.fail(w, service, reqID, denial, action)
		return
	}
	if action == "sts:AssumeRole" {
		f.assumeRole(w, reqID, account, form)
		return
	}
	if account == "management" {
		http.Error(w, "the fake answers member-account calls with assumed credentials only", http.StatusBadRequest)
		return
	}
	switch action {
	case "iam:ListRoles":
		writeXML(w, reqID, "ListRoles", `<IsTruncated>false</IsTruncated><Roles></Roles>`)
	case "iam:ListUsers":
		writeXML(w, reqID, "ListUsers", `<IsTruncated>false</IsTruncated><Users></Users>`)
	case "iam:GetAccountSummary":
		writeXML(w, reqID, "GetAccountSummary", `<SummaryMap><entry><key>Roles</key><value>3</value></entry></SummaryMap>`)
	case "iam:ListAccountAliases":
		writeXML(w, reqID, "ListAccountAliases", `<IsTruncated>false</IsTruncated><AccountAliases></AccountAliases>`)
	case "iam:SimulatePrincipalPolicy":
		f.simulate(w, reqID, account, form)
	case "organizations:DescribeOrganization":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", reqID)
		_ = json.NewEncoder(w).Encode(map[string]any{"Organization": map[string]any{"Id": "o-fake12345", "MasterAccountId": "111111111111"}})
	case "ec2:DescribeRegions":
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId><regionInfo><item><regionName>us-east-1</regionName></item></regionInfo></DescribeRegionsResponse>`, reqID)
	case "s3:ListAllMyBuckets":
		w.Header().Set("X-Amz-Request-Id", reqID)
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>`)
	default:
		http.Error(w, "the fake does not implement "+action, http.StatusBadRequest)
	}
}

func (f *fakeAWS) assumeRole(w http.ResponseWriter, reqID, caller string, form url.Values) {
	role := form.Get("RoleArn")
	if form.Get("RoleSessionName") == "" || form.Get("DurationSeconds") != "900" {
		f.t.Errorf("AssumeRole(%v): want a session name and DurationSeconds 900", form)
	}
	parts := strings.SplitN(role, ":", 6)
	if len(parts) != 6 {
		f.fail(w, "sts", reqID, "validation", "sts:AssumeRole")
		return
	}
	acct := parts[4]
	f.mu.Lock()
	exists, ext := f.roles[role], f.externalID
	f.mu.Unlock()
	if caller != "management" && caller != acct {
		f.t.Errorf("AssumeRole of %s called as %s: a chained probe assumes its own role", role, caller)
	}
	if !exists || (ext != "" && form.Get("ExternalId") != ext) {
		// What STS says when the role is missing or its trust policy
		// does not let the caller in: the same message, by design.
		f.fail(w, "sts", reqID, "assume", "sts:AssumeRole")
		return
	}
	writeXML(w, reqID, "AssumeRole", fmt.Sprintf(`<Credentials><AccessKeyId>ASIA%s</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>%s</Arn><AssumedRoleId>AROAFAKE:orgguard-probe</AssumedRoleId></AssumedRoleUser>`, acct, role))
}

func (f *fakeAWS) simulate(w http.ResponseWriter, reqID, account string, form url.Values) {
	action := form.Get("ActionNames.member.1")
	if form.Get("PolicySourceArn") == "" || !strings.Contains(form.Get("PolicyInputList.member.1"), `"Action":"*"`) {
		f.t.Errorf("SimulatePrincipalPolicy(%v): want the probe role and the allow-all input policy", form)
	}
	f.mu.Lock()
	answer := f.sim[account+" "+action]
	f.mu.Unlock()
	decision, org, boundary := "allowed", "<OrganizationsDecisionDetail><AllowedByOrganizations>true</AllowedByOrganizations></OrganizationsDecisionDetail>", ""
	switch answer {
	case "scp-deny":
		decision, org = "explicitDeny", "<OrganizationsDecisionDetail><AllowedByOrganizations>false</AllowedByOrganizations></OrganizationsDecisionDetail>"
	case "boundary-deny":
		decision, boundary = "implicitDeny", "<PermissionsBoundaryDecisionDetail><AllowedByPermissionsBoundary>false</AllowedByPermissionsBoundary></PermissionsBoundaryDecisionDetail>"
	case "no-org":
		org = ""
	}
	writeXML(w, reqID, "SimulatePrincipalPolicy", fmt.Sprintf(`<IsTruncated>false</IsTruncated><EvaluationResults><member><EvalActionName>%s</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>%s</EvalDecision>%s%s<MatchedStatements></MatchedStatements></member></EvaluationResults>`,
		xmlText(action), decision, org, boundary))
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeXML writes a query-protocol success response. Like STS and IAM it
// carries the request id in the x-amzn-RequestId header too, where the
// SDK reads it.
func writeXML(w http.ResponseWriter, reqID, op, result string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`,
		op, op, result, op, reqID, op)
}

// denialMessage is the access denied message of kind for action, in the
// format of https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
// with the policy ARN of
// https://aws.amazon.com/blogs/security/enhanced-access-denied-error-messages-with-policy-arns
func denialMessage(kind, action string) string {
	user := "User: arn:aws:sts::222222222222:assumed-role/OrgGuardProbe/orgguard-probe is not authorized to perform: " + action + " on resource: *"
	switch kind {
	case "scp":
		return user + " with an explicit deny in a service control policy: arn:aws:organizations::111111111111:policy/o-fake12345/service_control_policy/p-quarantine"
	case "rcp":
		return user + " with an explicit deny in a resource control policy"
	case "vpce":
		return user + " with an explicit deny in a VPC endpoint policy"
	case "identity":
		return user + " because no identity-based policy allows the " + action + " action"
	case "trust":
		return user + " because no resource-based policy allows the " + action + " action"
	case "assume":
		return "User: arn:aws:iam::111111111111:user/admin is not authorized to perform: sts:AssumeRole on resource: the probe role"
	}
	return "Access Denied"
}

// fail writes an error response in service's protocol.
func (f *fakeAWS) fail(w http.ResponseWriter, service, reqID, kind, action string) {
	code, status, msg := "AccessDenied", http.StatusForbidden, denialMessage(kind, action)
	switch {
	case kind == "throttle":
		code, status, msg = "Throttling", http.StatusBadRequest, "Rate exceeded"
		switch service {
		case "organizations":
			code = "TooManyRequestsException"
		case "ec2":
			code, status = "RequestLimitExceeded", http.StatusServiceUnavailable
		case "s3":
			code, status = "SlowDown", http.StatusServiceUnavailable
		}
	case kind == "validation":
		code, status, msg = "ValidationError", http.StatusBadRequest, "malformed role ARN"
	case service == "organizations":
		code, status = "AccessDeniedException", http.StatusBadRequest
	case service == "ec2":
		code = "UnauthorizedOperation"
		msg = "You are not authorized to perform this operation. " + msg
	}
	switch service {
	case "organizations":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", reqID)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
	case "ec2":
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>`, code, xmlText(msg), reqID)
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", reqID)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`, code, xmlText(msg), reqID)
	default:
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", reqID)
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, code, xmlText(msg), reqID)
	}
}
