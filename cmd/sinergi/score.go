package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func runScore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	period := fs.String("period", "", "score only this period (default: every period with households)")
	tol := fs.Float64("tolerance", geo.DefaultAdjacencyTolerance, "adjacency snapping tolerance in metres")
	seed := fs.Uint64("seed", geo.DefaultHotSpotSeed, "seed of the hot-spot permutations")
	perms := fs.Int("permutations", 999, "hot-spot permutations")
	if os.Getenv("GOGC") == "" {
		// A recompute's heap is mostly live (80,000 explained scores ≈ 350 MB);
		// collecting at 5× instead of 2× the live heap skips most collections
		// without raising the peak (measured: 346–372 MB either way).
		debug.SetGCPercent(400)
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// Connect before the recompute so its timings (total) measure the recompute,
	// not this process's TCP connection, authentication and type loading.
	if err := st.Pool.Ping(ctx); err != nil {
		return err
	}
	runs, err := st.RecomputeScoresWith(ctx, geo.ScoreOptions{Period: *period, By: "cli", Reason: "sinergi score",
		ToleranceM: *tol, Seed: *seed, Permutations: *perms})
	if err != nil {
		return err
	}
	return e.out(map[string]any{"runs": runs}, func(w io.Writer) {
		if len(runs) == 0 {
			fmt.Fprintln(w, "tidak ada rumah tangga untuk dinilai (no households to score)")
		}
		for _, r := range runs {
			fmt.Fprintf(w, "periode %s: run %d, %d desa, %d KK, bobot v%d, batas set %d (aggregate %.0f ms, index %.0f ms, hot spots %.0f ms)\n",
				r.Period, r.ID, r.Villages, r.Households, r.WeightsID, r.SetID, r.Timings["aggregate"], r.Timings["index"], r.Timings["hotspots"])
		}
	})
}
