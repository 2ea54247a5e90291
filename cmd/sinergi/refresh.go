package main

import (
	"context"
	"fmt"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// refreshScores recomputes stale need scores after a data change and says so on
// stderr; a failure is reported but does not fail the command that made the change.
func refreshScores(ctx context.Context, e *env, st *geo.Store) {
	done, err := st.RefreshScores(ctx, "cli")
	switch {
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: need scores not recomputed (%s); run `sinergi score`\n", oneLine(err))
	case done:
		fmt.Fprintln(e.stderr, "skor kebutuhan dihitung ulang (need scores recomputed)")
	}
}
