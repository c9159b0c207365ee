package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is the build's version: the module version and the version
// control state Go records in the binary (debug.ReadBuildInfo).
type versionInfo struct {
	Version   string `json:"version"`            // module version, "(devel)" for a local build
	Commit    string `json:"commit,omitempty"`   // vcs.revision
	Time      string `json:"time,omitempty"`     // vcs.time, the commit's time
	Modified  bool   `json:"modified,omitempty"` // built from a working tree with changes
	GoVersion string `json:"goVersion"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is "v1.2.3 (commit 0123456789ab, 2026-12-06T03:00:00Z, modified)".
func (v versionInfo) String() string {
	s := v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " (commit " + c
		if v.Time != "" {
			s += ", " + v.Time
		}
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s
}

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print orgguard's version and the commit it was built from",
		Example: `  orgguard version
  orgguard --version
  orgguard version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			if asJSON {
				return writeJSON(e.stdout, v)
			}
			_, err := fmt.Fprintf(e.stdout, "orgguard %s\n", v)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}
