// Command orgguard makes changes to an AWS Organization safe: it shows what a
// change will do, refuses the dangerous ones and applies the rest with health
// checks and automatic rollback. See the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/orgguard/orgguard/internal/cli"
)

func main() {
	// orgguard runs short, allocation-heavy commands over large snapshots:
	// trade memory for fewer collections unless the user chose otherwise.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ... but not past a soft limit: with GOGC at 400 a plan of a 10,000-
	// account snapshot let its heap grow to 2-3 times the ~40 MB it keeps
	// (133 MB resident); near the limit the collector runs more often and
	// the command stays under 100 MiB (95 MB measured). A soft limit never
	// fails an allocation: a larger organization only collects more.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(80 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
