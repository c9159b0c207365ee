package web

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathLikePlanIDsNameNoFile: the server names plans by stored ID
// only. A plan ID that decodes into a path to a real plan file on the
// server's disk (one that names the stored plan, which the command line
// would accept) is a 404, and nothing is approved or applied.
func TestPathLikePlanIDsNameNoFile(t *testing.T) {
	f := newDashFixture(t)
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := f.plan.Write(path); err != nil {
		t.Fatal(err)
	}
	escaped := url.PathEscape(path) // "/" becomes %2F: one path segment
	if !strings.Contains(escaped, "%2F") {
		t.Fatalf("url.PathEscape(%q) = %q, want %%2F for the slashes", path, escaped)
	}
	for _, relative := range []string{escaped, url.PathEscape("../" + filepath.Base(path))} {
		for _, tt := range []struct {
			name, user, method, target string
			form                       url.Values
		}{
			{"the plan page", "bob", "GET", "/team/plans/" + relative, nil},
			{"approving", "bob", "POST", "/team/plans/" + relative + "/approve", url.Values{}},
			{"applying", "alice", "POST", "/team/plans/" + relative + "/apply", url.Values{"confirm": {f.plan.Guard.ConfirmationText}}},
		} {
			t.Run(tt.name+" "+relative, func(t *testing.T) {
				res, body := f.request(t, tt.user, tt.method, tt.target, tt.form, nil)
				if res.StatusCode != http.StatusNotFound {
					t.Errorf("%s %s = %d, want 404\n%s", tt.method, tt.target, res.StatusCode, body)
				}
			})
		}
	}
	aps, err := f.app.Remote().PlanDetail(context.Background(), f.plan.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(aps.Approvals) != 0 || len(aps.Changes) != 0 {
		t.Errorf("after requests naming the plan file, the plan has %d approvals and %d changes, want none", len(aps.Approvals), len(aps.Changes))
	}
	t.Run("a remote view refuses a plan file the command line takes", func(t *testing.T) {
		if _, err := f.app.Remote().ResolvePlan(context.Background(), path); statusOf(err) != http.StatusNotFound {
			t.Errorf("Remote().ResolvePlan(%q) = %v (status %d), want 404", path, err, statusOf(err))
		}
		if sp, err := f.app.ResolvePlan(context.Background(), path); err != nil || sp.ID != f.plan.ID {
			t.Errorf("ResolvePlan(%q) on the command line = %v, %v; want plan %s", path, sp.ID, err, f.plan.ID)
		}
	})
}
