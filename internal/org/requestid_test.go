package org_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orgguard/orgguard/internal/org"
)

func TestRecordRequestID(t *testing.T) {
	type call struct{ op, id string }
	for _, tt := range []struct {
		name  string
		calls []call
		want  []call
	}{
		{name: "each recorded id reaches the sink in order",
			calls: []call{{"AttachPolicy", "req-1"}, {"MoveAccount", "req-2"}},
			want:  []call{{"AttachPolicy", "req-1"}, {"MoveAccount", "req-2"}}},
		{name: "an empty id is not recorded",
			calls: []call{{"AttachPolicy", ""}, {"DeleteOrganizationalUnit", "req-3"}},
			want:  []call{{"DeleteOrganizationalUnit", "req-3"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []call
			ctx := org.WithRequestIDs(context.Background(), func(op, id string) { got = append(got, call{op, id}) })
			for _, c := range tt.calls {
				org.RecordRequestID(ctx, c.op, c.id)
			}
			if diff := cmp.Diff(got, tt.want, cmp.AllowUnexported(call{})); diff != "" {
				t.Errorf("recorded ids differ (-got +want):\n%s", diff)
			}
		})
	}

	t.Run("recording without a sink does nothing", func(t *testing.T) {
		org.RecordRequestID(context.Background(), "AttachPolicy", "req-1") // must not panic
		org.RecordRequestID(org.WithRequestIDs(context.Background(), nil), "AttachPolicy", "req-1")
	})

	t.Run("an inner sink replaces the outer one for its context", func(t *testing.T) {
		var outer, inner []string
		ctx := org.WithRequestIDs(context.Background(), func(_, id string) { outer = append(outer, id) })
		in := org.WithRequestIDs(ctx, func(_, id string) { inner = append(inner, id) })
		org.RecordRequestID(in, "CreatePolicy", "req-in")
		org.RecordRequestID(ctx, "CreatePolicy", "req-out")
		if diff := cmp.Diff(inner, []string{"req-in"}); diff != "" {
			t.Errorf("inner sink (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(outer, []string{"req-out"}); diff != "" {
			t.Errorf("outer sink (-got +want):\n%s", diff)
		}
	})
}
