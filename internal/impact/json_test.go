package impact

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/orgguard/orgguard/internal/org"
)

// TestReportJSON pins the JSON field names the plan file relies on
// (issue 4, item 6) and the compact form of a deny-all.
func TestReportJSON(t *testing.T) {
	cat := testCatalog(t)
	before := smallOrg()
	after := apply(before,
		addPolicy("p-denyall", org.ServiceControlPolicy, denyAll), attach("p-denyall", ouDev),
		addPolicy("p-noassume", org.ServiceControlPolicy,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sts:AssumeRole","iam:CreateUser"],"Resource":"*"}]}`),
		attach("p-noassume", ouSandbox))
	im, err := Compute(before, after, cat, Options{Critical: []string{"sts:AssumeRole", "iam:*"}})
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}
	data, err := json.Marshal(im.Report)
	if err != nil {
		t.Fatalf("json.Marshal() = %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal() = %v", err)
	}
	n := float64(cat.Len())
	// A deny-all leaves sts:GetCallerIdentity, which no policy can deny.
	// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
	deniable := n - 1
	iam := float64(cat.Expand("iam:*").Count())
	want := map[string]any{
		"accountsAffected": 2.0, "accountsTotal": 5.0,
		"maxNewlyDeniedShare":       1.0,
		"managementAccountId":       mgmtAcct,
		"managementAccountAffected": false,
		"recoveryPathIntact":        true,
		"catalogActions":            n,
		"rcpActions":                float64(cat.RCPActions().Count()),
		"accounts": []any{
			map[string]any{
				"id": devA, "name": "dev-a", "path": "/Dev/dev-a", "presence": "member",
				"newlyDenied": deniable, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0,
				"scp": map[string]any{"newlyDenied": deniable, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0},
				"rcp": map[string]any{"newlyDenied": 0.0, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0},
				"criticalLost": []any{
					map[string]any{"pattern": "sts:AssumeRole", "count": 1.0, "all": true},
					map[string]any{"pattern": "iam:*", "count": iam, "all": true},
				},
				"deniedEverything": true,
				"newlyDeniedShare": 1.0, "group": 0.0,
			},
			map[string]any{
				"id": sandboxA, "name": "sandbox-a", "path": "/Sandbox/sandbox-a", "presence": "member",
				"newlyDenied": 2.0, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0,
				"scp": map[string]any{"newlyDenied": 2.0, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0},
				"rcp": map[string]any{"newlyDenied": 0.0, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0},
				"criticalLost": []any{
					map[string]any{"pattern": "sts:AssumeRole", "count": 1.0, "all": true},
					map[string]any{"pattern": "iam:*", "count": 1.0, "actions": []any{"iam:CreateUser"}, "all": false},
				},
				"newlyDeniedShare": 2 / deniable, "group": 1.0,
			},
		},
		"nodes": []any{
			map[string]any{"id": rootID, "name": "Root", "path": "/", "kind": "root", "accountsAffected": 2.0, "accountsTotal": 5.0, "accountsBefore": 5.0},
			map[string]any{"id": ouDev, "name": "Dev", "path": "/Dev", "kind": "ou", "accountsAffected": 1.0, "accountsTotal": 1.0, "accountsBefore": 1.0},
			map[string]any{"id": ouSandbox, "name": "Sandbox", "path": "/Sandbox", "kind": "ou", "accountsAffected": 1.0, "accountsTotal": 1.0, "accountsBefore": 1.0},
		},
		// Accounts with the same change form a group; its actions are
		// folded: a deny-all is "*", two single actions stay themselves.
		"groups": []any{
			map[string]any{"accounts": []any{devA},
				"newlyDenied": deniable, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0,
				"deniedActions":      []any{map[string]any{"pattern": "*", "count": deniable}},
				"conditionalActions": []any{}, "allowedActions": []any{}, "partlyRestoredActions": []any{}},
			map[string]any{"accounts": []any{sandboxA},
				"newlyDenied": 2.0, "newlyConditional": 0.0, "newlyAllowed": 0.0, "partlyRestored": 0.0,
				"deniedActions": []any{map[string]any{"pattern": "iam:CreateUser", "count": 1.0},
					map[string]any{"pattern": "sts:AssumeRole", "count": 1.0}},
				"conditionalActions": []any{}, "allowedActions": []any{}, "partlyRestoredActions": []any{}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report JSON (-want +got):\n%s", diff)
	}
}
