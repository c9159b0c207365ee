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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
