package simserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
	"github.com/orgguard/orgguard/internal/org/generate"
	"github.com/orgguard/orgguard/internal/org/sim"
	"github.com/orgguard/orgguard/internal/org/simserver"
)

func newSim(tb testing.TB, accounts int) (*sim.Org, *org.Snapshot) {
	tb.Helper()
	s, err := generate.Organization(generate.Options{Accounts: accounts, Seed: 4})
	if err != nil {
		tb.Fatalf("generate.Organization: %v", err)
	}
	o, err := sim.New(s, sim.Options{})
	if err != nil {
		tb.Fatalf("sim.New: %v", err)
	}
	return o, s
}

// response is one decoded answer of the server.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(tb testing.TB, h http.Handler, op, body string) response {
	tb.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", simserver.ContentType)
	if op != "" {
		req.Header.Set("X-Amz-Target", simserver.TargetPrefix+op)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=00")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := response{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
		tb.Fatalf("%s %s: response %q is not a JSON object: %v", op, body, r.raw, err)
	}
	return r
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// AWS JSON 1.1 errors: HTTP 400 (500 for service faults) with __type and
// Message; the SDKs read the code from __type or X-Amzn-ErrorType.
// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
func TestErrorsAreAWSShaped(t *testing.T) {
	o, s := newSim(t, 30)
	h := simserver.New(o, simserver.Options{})
	for _, tc := range []struct {
		name, op, body       string
		wantCode, wantReason string
	}{
		{"an unknown operation is UnknownOperationException", "LaunchRockets", `{}`, "UnknownOperationException", ""},
		{"a missing target header is UnknownOperationException", "", `{}`, "UnknownOperationException", ""},
		{"malformed JSON is SerializationException", "ListRoots", `{"MaxResults":`, "SerializationException", ""},
		{"a JSON array body is SerializationException", "ListRoots", `[1,2]`, "SerializationException", ""},
		{"a member of the wrong type is SerializationException", "ListRoots", `{"MaxResults":"ten"}`, "SerializationException", ""},
		{"trailing data is SerializationException", "ListRoots", `{} {}`, "SerializationException", ""},
		{"a missing required member is InvalidInputException", "ListChildren", `{"ChildType":"ACCOUNT"}`, org.CodeInvalidInput, org.ReasonInputRequired},
		{"a bad enum value is InvalidInputException", "ListChildren", `{"ParentId":"` + s.Root.ID + `","ChildType":"PLANET"}`, org.CodeInvalidInput, org.ReasonInvalidEnum},
		{"a bad policy type is InvalidInputException", "ListPolicies", `{"Filter":"SCP"}`, org.CodeInvalidInput, "INVALID_ENUM_POLICY_TYPE"},
		{"MaxResults over 20 is InvalidInputException", "ListAccounts", `{"MaxResults":21}`, org.CodeInvalidInput, "MAX_VALUE_EXCEEDED"},
		{"MaxResults of 0 is InvalidInputException", "ListAccounts", `{"MaxResults":0}`, org.CodeInvalidInput, "MIN_VALUE_EXCEEDED"},
		{"a forged NextToken is InvalidInputException", "ListAccounts", `{"NextToken":"AAAA"}`, org.CodeInvalidInput, "INVALID_NEXT_TOKEN"},
		{"an unknown parent is ParentNotFoundException", "ListAccountsForParent", `{"ParentId":"ou-zzzz-zzzzzzzz"}`, org.CodeParentNotFound, ""},
		{"an unknown account is AccountNotFoundException", "DescribeAccount", `{"AccountId":"000000000000"}`, org.CodeAccountNotFound, ""},
		{"duplicate tag keys are InvalidInputException", "TagResource", `{"ResourceId":"` + s.Root.ID + `","Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}`, org.CodeInvalidInput, org.ReasonDuplicateTagKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, h, tc.op, tc.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400 (body %s)", r.status, r.raw)
			}
			if got := r.body["__type"]; got != tc.wantCode {
				t.Errorf("__type = %v, want %s (body %s)", got, tc.wantCode, r.raw)
			}
			if got, _ := r.body["Reason"].(string); got != tc.wantReason {
				t.Errorf("Reason = %q, want %q", got, tc.wantReason)
			}
			if m, _ := r.body["Message"].(string); m == "" {
				t.Errorf("Message is empty in %s", r.raw)
			}
			if id := r.header.Get("X-Amzn-Requestid"); !requestIDPattern.MatchString(id) {
				t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
			}
			if ct := r.header.Get("Content-Type"); ct != simserver.ContentType {
				t.Errorf("Content-Type = %q, want %s", ct, simserver.ContentType)
			}
		})
	}
}

func TestOnlyPostToTheRootIsServed(t *testing.T) {
	o, _ := newSim(t, 5)
	srv := httptest.NewServer(simserver.New(o, simserver.Options{}))
	defer srv.Close()
	for _, tc := range []struct{ method, path string }{{"GET", "/"}, {"POST", "/admin"}, {"PUT", "/"}} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", simserver.TargetPrefix+"ListRoots")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"__type":"UnknownOperationException"`) {
			t.Errorf("%s %s = %d %s, want 400 UnknownOperationException", tc.method, tc.path, resp.StatusCode, body)
		}
	}
}

func TestResponsesFollowTheAPIReference(t *testing.T) {
	o, s := newSim(t, 30)
	h := simserver.New(o, simserver.Options{})
	mgmt := s.Organization.ManagementAccountID

	r := call(t, h, "DescribeOrganization", ``)
	org1, _ := r.body["Organization"].(map[string]any)
	if org1["Id"] != s.Organization.ID || org1["MasterAccountId"] != mgmt || org1["FeatureSet"] != s.Organization.FeatureSet {
		t.Errorf("DescribeOrganization = %s, want Id %s, MasterAccountId %s", r.raw, s.Organization.ID, mgmt)
	}

	r = call(t, h, "DescribeAccount", `{"AccountId":"`+mgmt+`"}`)
	acct, _ := r.body["Account"].(map[string]any)
	for _, k := range []string{"Id", "Arn", "Email", "Name", "Status", "JoinedMethod", "JoinedTimestamp"} {
		if _, ok := acct[k]; !ok {
			t.Errorf("DescribeAccount has no %s: %s", k, r.raw)
		}
	}
	if _, ok := acct["JoinedTimestamp"].(float64); !ok {
		t.Errorf("JoinedTimestamp = %v, want epoch seconds as a JSON number", acct["JoinedTimestamp"])
	}

	r = call(t, h, "ListParents", `{"ChildId":"`+mgmt+`"}`)
	want := map[string]any{"Parents": []any{map[string]any{"Id": s.Root.ID, "Type": "ROOT"}}}
	if diff := cmp.Diff(r.body, want); diff != "" {
		t.Errorf("ListParents(management account) (-got +want):\n%s", diff)
	}

	r = call(t, h, "ListRoots", `{}`)
	roots, _ := r.body["Roots"].([]any)
	if len(roots) != 1 || roots[0].(map[string]any)["Id"] != s.Root.ID {
		t.Errorf("ListRoots = %s, want the one root %s", r.raw, s.Root.ID)
	}
	if _, ok := r.body["NextToken"]; ok {
		t.Errorf("ListRoots has a NextToken on its only page: %s", r.raw)
	}

	r = call(t, h, "DescribePolicy", `{"PolicyId":"`+org.FullAWSAccessID+`"}`)
	pol, _ := r.body["Policy"].(map[string]any)
	sum, _ := pol["PolicySummary"].(map[string]any)
	if sum["AwsManaged"] != true || sum["Type"] != "SERVICE_CONTROL_POLICY" || pol["Content"] == "" {
		t.Errorf("DescribePolicy(FullAWSAccess) = %s", r.raw)
	}

	r = call(t, h, "ListTargetsForPolicy", `{"PolicyId":"`+org.FullAWSAccessID+`","MaxResults":1}`)
	targets, _ := r.body["Targets"].([]any)
	if len(targets) != 1 {
		t.Fatalf("ListTargetsForPolicy MaxResults 1 = %s, want one target", r.raw)
	}
	tg := targets[0].(map[string]any)
	for _, k := range []string{"TargetId", "Arn", "Name", "Type"} {
		if s, _ := tg[k].(string); s == "" {
			t.Errorf("target has no %s: %v", k, tg)
		}
	}
}

// listAll pages through op with pages of size n and returns the items
// under key.
func listAll(t *testing.T, h http.Handler, op, params, key string, n int) []any {
	t.Helper()
	var all []any
	token := ""
	for range 100000 {
		body := fmt.Sprintf(`{%s"MaxResults":%d`, params, n)
		if token != "" {
			body += fmt.Sprintf(`,"NextToken":%q`, token)
		}
		r := call(t, h, op, body+"}")
		if r.status != 200 {
			t.Fatalf("%s %s = %d %s", op, body, r.status, r.raw)
		}
		items, _ := r.body[key].([]any)
		if len(items) > n {
			t.Fatalf("%s returned %d items with MaxResults %d", op, len(items), n)
		}
		all = append(all, items...)
		next, _ := r.body["NextToken"].(string)
		if next == "" {
			return all
		}
		token = next
	}
	t.Fatalf("%s never ended", op)
	return nil
}

func TestPaginationReturnsEveryItemOnce(t *testing.T) {
	o, s := newSim(t, 57)
	for _, tc := range []struct {
		name     string
		pageSize int // server cap
		max      int // client MaxResults
	}{
		{"pages of the client's size", 0, 7},
		{"pages capped by the server below the client's size", 3, 20},
		{"pages of one item", 0, 1},
		{"one page holding everything", 0, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := simserver.New(o, simserver.Options{PageSize: tc.pageSize})
			n := tc.max
			if tc.pageSize > 0 && tc.pageSize < n {
				n = tc.pageSize
			}
			accts := listAll(t, h, "ListAccounts", "", "Accounts", tc.max)
			var ids []string
			for _, a := range accts {
				ids = append(ids, a.(map[string]any)["Id"].(string))
			}
			var want []string
			for _, a := range s.Accounts {
				want = append(want, a.ID)
			}
			if diff := cmp.Diff(ids, want); diff != "" {
				t.Errorf("ListAccounts over pages of %d (-got +want):\n%s", n, diff)
			}
		})
	}
}

func TestNextTokensAreBoundToTheirListing(t *testing.T) {
	o, s := newSim(t, 57)
	h := simserver.New(o, simserver.Options{})
	r := call(t, h, "ListAccounts", `{"MaxResults":5}`)
	tok, _ := r.body["NextToken"].(string)
	if tok == "" {
		t.Fatalf("ListAccounts MaxResults 5 = %s, want a NextToken", r.raw)
	}
	for _, tc := range []struct{ name, op, body string }{
		{"another operation", "ListAccountsForParent", `{"ParentId":"` + s.Root.ID + `","NextToken":"` + tok + `"}`},
		{"a truncated token", "ListAccounts", `{"NextToken":"` + tok[:len(tok)-2] + `"}`},
		{"a token with a changed byte", "ListAccounts", `{"NextToken":"` + flip(tok) + `"}`},
		{"a token from another server", "ListAccounts", `{"NextToken":"` + otherServerToken(t, o) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, h, tc.op, tc.body)
			if r.status != 400 || r.body["Reason"] != "INVALID_NEXT_TOKEN" {
				t.Errorf("%s with %s = %d %s, want InvalidInputException INVALID_NEXT_TOKEN", tc.op, tc.name, r.status, r.raw)
			}
		})
	}
	// The genuine token still works.
	if r := call(t, h, "ListAccounts", `{"MaxResults":5,"NextToken":"`+tok+`"}`); r.status != 200 {
		t.Errorf("ListAccounts with its own token = %d %s", r.status, r.raw)
	}
}

func flip(tok string) string {
	b := []byte(tok)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func otherServerToken(t *testing.T, o *sim.Org) string {
	r := call(t, simserver.New(o, simserver.Options{}), "ListAccounts", `{"MaxResults":5}`)
	return r.body["NextToken"].(string)
}

func TestFaultsAreDeterministicForASeed(t *testing.T) {
	o, _ := newSim(t, 5)
	seq := func(seed uint64) string {
		h := simserver.New(o, simserver.Options{ThrottleRate: 0.3, FaultSeed: seed})
		var b strings.Builder
		for range 40 {
			r := call(t, h, "ListRoots", `{}`)
			switch {
			case r.status == 200:
				b.WriteByte('.')
			case r.body["__type"] == org.CodeTooManyRequests && r.status == 400:
				b.WriteByte('T')
			default:
				t.Fatalf("unexpected answer %d %s", r.status, r.raw)
			}
		}
		return b.String()
	}
	a, b, c := seq(1), seq(1), seq(2)
	if a != b {
		t.Errorf("seed 1 gave %s then %s, want the same faults", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 both gave %s, want different faults", a)
	}
	if !strings.Contains(a, "T") || !strings.Contains(a, ".") {
		t.Errorf("throttle rate 0.3 gave %s, want some of each", a)
	}
}

func TestConflictsAreInjectedIntoWritesOnly(t *testing.T) {
	o, s := newSim(t, 5)
	h := simserver.New(o, simserver.Options{ConflictRate: 1})
	if r := call(t, h, "ListRoots", `{}`); r.status != 200 {
		t.Errorf("ListRoots with conflict rate 1 = %d %s, want success", r.status, r.raw)
	}
	r := call(t, h, "CreateOrganizationalUnit", `{"ParentId":"`+s.Root.ID+`","Name":"x"}`)
	if r.status != 400 || r.body["__type"] != org.CodeConcurrentModification {
		t.Errorf("CreateOrganizationalUnit with conflict rate 1 = %d %s, want ConcurrentModificationException", r.status, r.raw)
	}
	if after := call(t, h, "ListOrganizationalUnitsForParent", `{"ParentId":"`+s.Root.ID+`"}`); strings.Contains(after.raw, `"Name":"x"`) {
		t.Errorf("the conflicting CreateOrganizationalUnit was applied: %s", after.raw)
	}
}

func TestLatencyIsAdded(t *testing.T) {
	o, _ := newSim(t, 5)
	h := simserver.New(o, simserver.Options{Latency: 60 * time.Millisecond})
	start := time.Now()
	call(t, h, "ListRoots", `{}`)
	if d := time.Since(start); d < 60*time.Millisecond {
		t.Errorf("ListRoots with 60ms latency took %v", d)
	}
}

// panicky is a Source whose ListRoots panics.
type panicky struct{ *sim.Org }

func (panicky) ListRoots(context.Context) ([]org.Root, error) { panic("boom") }

func TestAPanicBecomesAServiceException(t *testing.T) {
	o, _ := newSim(t, 5)
	h := simserver.New(panicky{o}, simserver.Options{})
	r := call(t, h, "ListRoots", `{}`)
	if r.status != 500 || r.body["__type"] != org.CodeService {
		t.Errorf("a panicking operation = %d %s, want 500 ServiceException", r.status, r.raw)
	}
	if strings.Contains(r.raw, "boom") || strings.Contains(r.raw, "goroutine") {
		t.Errorf("the response leaks the panic: %s", r.raw)
	}
}

func TestServeShutsDownWhenTheContextEnds(t *testing.T) {
	o, _ := newSim(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- simserver.Serve(ctx, "127.0.0.1:0", simserver.New(o, simserver.Options{}), nil, func(a string) { addrc <- a })
	}()
	addr := <-addrc
	req, _ := http.NewRequest("POST", "http://"+addr+"/", bytes.NewReader([]byte(`{}`)))
	req.Header.Set("X-Amz-Target", simserver.TargetPrefix+"ListRoots")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("request to the server: %v", err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestServeReportsAnAddressInUse(t *testing.T) {
	o, _ := newSim(t, 5)
	ln := httptest.NewServer(http.NotFoundHandler())
	defer ln.Close()
	err := simserver.Serve(context.Background(), strings.TrimPrefix(ln.URL, "http://"), simserver.New(o, simserver.Options{}), nil, nil)
	if !errors.Is(err, simserver.ErrListen) {
		t.Errorf("Serve on a busy port = %v, want a listen error", err)
	}
}
