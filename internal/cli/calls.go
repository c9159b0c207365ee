package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/orgguard/orgguard/internal/app"
)

// callReport prints the API calls a command made on AWS (by API, retries,
// throttles, wall time) on standard error: as text with --verbose, as one
// JSON object ({"apiCalls": ...}) with JSON output. Backends that do not
// call AWS print nothing.
func callReport(e *env, a *app.App, start time.Time, verbose, asJSON bool) {
	c, ok := a.Calls()
	if !ok || (!verbose && !asJSON) {
		return
	}
	c = c.Sub(app.NoCalls(), time.Since(start))
	if asJSON {
		b, err := json.Marshal(map[string]any{"apiCalls": c})
		if err == nil {
			fmt.Fprintf(e.stderr, "%s\n", b)
		}
		return
	}
	fmt.Fprintf(e.stderr, "orgguard: %s\n", c)
}
