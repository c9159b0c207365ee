package auth

import (
	"errors"
	"testing"
)

// TestPermissionMatrix pins the matrix documented on Role and in
// docs/auth.md, cell by cell.
func TestPermissionMatrix(t *testing.T) {
	const (
		V = 1 << iota // viewer
		O             // operator
		P             // approver
		A             // admin
	)
	want := map[Action]int{
		ActionView:             V | O | P | A,
		ActionPlan:             O | P | A,
		ActionApply:            O | P | A,
		ActionRespond:          O | P | A,
		ActionApprove:          P | A,
		ActionManageGuardrails: A,
		ActionManageUsers:      A,
		ActionManageTokens:     A,
	}
	if len(want) != len(Actions()) {
		t.Fatalf("the matrix has %d actions, Actions() lists %d", len(want), len(Actions()))
	}
	bit := map[Role]int{RoleViewer: V, RoleOperator: O, RoleApprover: P, RoleAdmin: A}
	for _, a := range Actions() {
		for _, r := range Roles() {
			if got, w := r.Can(a), want[a]&bit[r] != 0; got != w {
				t.Errorf("%s.Can(%s) = %v, want %v", r, a, got, w)
			}
		}
	}
}

func TestUnknownRolesAndActionsAllowNothing(t *testing.T) {
	for _, r := range []Role{"", "root", "Admin", "superuser"} {
		for _, a := range Actions() {
			if r.Can(a) {
				t.Errorf("Role(%q).Can(%s) = true, want false", r, a)
			}
		}
	}
	for _, a := range []Action{"", "delete-everything", "View"} {
		if RoleAdmin.Can(a) {
			t.Errorf("admin.Can(%q) = true, want false for an unknown action", a)
		}
	}
}

func TestRolesAreOrdered(t *testing.T) {
	roles := Roles()
	for i, r := range roles {
		for j, o := range roles {
			if got := r.AtLeast(o); got != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v, want %v", r, o, got, i >= j)
			}
			wantMin := r
			if j < i {
				wantMin = o
			}
			if got := r.Min(o); got != wantMin {
				t.Errorf("%s.Min(%s) = %s, want %s", r, o, got, wantMin)
			}
		}
	}
	if got := RoleApprover.Implied(); len(got) != 3 || got[0] != RoleViewer || got[2] != RoleApprover {
		t.Errorf("approver.Implied() = %v, want viewer, operator, approver", got)
	}
	if got := Role("root").Implied(); got != nil {
		t.Errorf(`Role("root").Implied() = %v, want nil`, got)
	}
	if got := RoleAdmin.Min("root"); got != "" {
		t.Errorf(`admin.Min("root") = %q, want ""`, got)
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in   string
		want Role
		bad  bool
	}{
		{in: "viewer", want: RoleViewer},
		{in: " Operator ", want: RoleOperator},
		{in: "APPROVER", want: RoleApprover},
		{in: "admin", want: RoleAdmin},
		{in: "", bad: true},
		{in: "root", bad: true},
		{in: "admin\x00", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseRole(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrInvalidRole) {
				t.Errorf("ParseRole(%q) = %q, %v; want ErrInvalidRole", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestAuthorizeSaysWhatWouldHaveBeenNeeded(t *testing.T) {
	p := Principal{Name: "carol", Role: RoleOperator, Method: MethodToken}
	if err := p.Authorize(ActionApply); err != nil {
		t.Errorf("operator Authorize(apply) = %v, want nil", err)
	}
	err := p.Authorize(ActionApprove)
	var fe *ForbiddenError
	if !errors.As(err, &fe) || !errors.Is(err, ErrForbidden) || fe.Need != RoleApprover {
		t.Fatalf("operator Authorize(approve) = %v, want a ForbiddenError needing approver", err)
	}
	if want := "forbidden: carol (operator) may not approve: it needs the approver role"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
