package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at release build time:
// go build -ldflags "-X main.version=v1.2.3" ./cmd/controlplane
var version = "dev"

func newVersionCmd(e env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(e.stdout, "controlplane %s (%s, %s/%s)\n", version, buildRevision(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(e.stdout, "go %s\n", runtime.Version())
			return nil
		},
	}
}

// buildRevision is the VCS commit the binary was built from, when the Go
// toolchain recorded it.
func buildRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown commit"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown commit"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "commit " + rev
}
