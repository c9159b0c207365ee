package cli

import "testing"

func TestVersionStringNamesTheCommit(t *testing.T) {
	tests := []struct {
		name string
		v    versionInfo
		want string
	}{
		{"a local build without VCS information", versionInfo{Version: "(devel)"}, "(devel)"},
		{"a release", versionInfo{Version: "v1.2.3", Commit: "0123456789abcdef0123", Time: "2026-12-06T03:00:00Z"},
			"v1.2.3 (commit 0123456789ab, 2026-12-06T03:00:00Z)"},
		{"a build from a modified tree", versionInfo{Version: "(devel)", Commit: "0123456789abcdef", Modified: true},
			"(devel) (commit 0123456789ab, modified)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
