package simserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgguard/orgguard/internal/org/simserver"
)

// fuzzOps are the operations the fuzzer sends bodies to.
var fuzzOps = []string{
	"DescribeOrganization", "ListRoots", "ListChildren", "ListOrganizationalUnitsForParent", "ListAccountsForParent",
	"ListAccounts", "ListParents", "DescribeAccount", "DescribeOrganizationalUnit", "CreateOrganizationalUnit",
	"UpdateOrganizationalUnit", "DeleteOrganizationalUnit", "MoveAccount", "ListPolicies", "ListPoliciesForTarget",
	"ListTargetsForPolicy", "DescribePolicy", "CreatePolicy", "UpdatePolicy", "DeletePolicy", "AttachPolicy",
	"DetachPolicy", "EnablePolicyType", "DisablePolicyType", "TagResource", "UntagResource", "ListTagsForResource",
	"ListAWSServiceAccessForOrganization", "EnableAWSServiceAccess", "DisableAWSServiceAccess",
	"RegisterDelegatedAdministrator", "DeregisterDelegatedAdministrator", "ListDelegatedAdministrators",
	"ListDelegatedServicesForAccount", "DescribeEffectivePolicy", "PutResourcePolicy", "DescribeResourcePolicy",
	"DeleteResourcePolicy", "CreateAccount", "DescribeCreateAccountStatus", "CloseAccount",
	"RemoveAccountFromOrganization", "InviteAccountToOrganization", "ListHandshakesForOrganization",
	"NoSuchOperation",
}

// FuzzRequest sends arbitrary bodies to every operation: the server must
// answer each with 200 and a JSON object, or 400 and an AWS-shaped error —
// never a panic, a 500 or a non-JSON body.
func FuzzRequest(f *testing.F) {
	o, s := newSim(f, 40)
	h := simserver.New(o, simserver.Options{})
	seeds := []string{
		`{}`, ``, `null`, `[]`, `{"MaxResults":3}`, `{"MaxResults":-1}`, `{"NextToken":"AAAA"}`,
		`{"ParentId":"` + s.Root.ID + `","ChildType":"ACCOUNT","MaxResults":2}`,
		`{"ParentId":"` + s.Root.ID + `","Name":"fuzz"}`,
		`{"PolicyId":"p-FullAWSAccess","TargetId":"` + s.Root.ID + `"}`,
		`{"Filter":"SERVICE_CONTROL_POLICY"}`,
		`{"ResourceId":"` + s.Root.ID + `","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"AccountId":"` + s.Accounts[1].ID + `","SourceParentId":"` + s.Accounts[1].ParentID + `","DestinationParentId":"` + s.Root.ID + `"}`,
		`{"Content":"{}","Description":"d","Name":"n","Type":"SERVICE_CONTROL_POLICY"}`,
		`{"RootId":"` + s.Root.ID + `","PolicyType":"RESOURCE_CONTROL_POLICY"}`,
		`{"ServicePrincipal":"config.amazonaws.com","AccountId":"` + s.Accounts[1].ID + `"}`,
		`{"PolicyType":"TAG_POLICY","TargetId":"` + s.Accounts[1].ID + `"}`,
		`{"Content":"{\"Statement\":[]}","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"Email":"a@b.example","AccountName":"x","IamUserAccessToBilling":"ALLOW"}`,
		`{"CreateAccountRequestId":"car-abcdefgh12"}`,
		`{"Target":{"Id":"210987654321","Type":"ACCOUNT"},"Notes":"n"}`, `{"Target":null}`,
		`{"Filter":{"ActionType":"INVITE"}}`, `{"Filter":{"ParentHandshakeId":"h-x","ActionType":"INVITE"}}`,
		`{"MaxResults":1e400}`, `{"Tags":[null]}`, `{"TagKeys":"x"}`, "{\"Name\":\"\xff\"}",
	}
	for i, b := range seeds {
		f.Add(uint8(i), []byte(b))
	}
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		op := fuzzOps[int(opIndex)%len(fuzzOps)]
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", simserver.ContentType)
		req.Header.Set("X-Amz-Target", simserver.TargetPrefix+op)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: response %q is not a JSON object: %v", op, body, rec.Body.String(), err)
		}
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			code, _ := out["__type"].(string)
			if code == "" || out["Message"] == nil {
				t.Fatalf("%s %q: error response %q lacks __type or Message", op, body, rec.Body.String())
			}
		default:
			t.Fatalf("%s %q: status %d %q, want 200 or 400", op, body, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("X-Amzn-Requestid") == "" {
			t.Fatalf("%s %q: no x-amzn-RequestId", op, body)
		}
	})
}
