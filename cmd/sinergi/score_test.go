package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// TestHouseholdImportRecomputesScoresCLI: `sinergi households import` recomputes
// the need scores (the ranking names a new run that counts the new households),
// and `sinergi score` makes another run.
func TestHouseholdImportRecomputesScoresCLI(t *testing.T) {
	url, dir := householdCLIEnv(t)
	desa := filepath.Join(geotest.SharedData(t), "bekasi_desa.geojson")
	if code, _, errs := runCLI(t, "", "boundaries", "import", desa, "--level", "desa", "--activate"); code != 0 {
		t.Fatalf("boundaries import: %s", errs)
	}
	ctx := context.Background()
	st, err := geo.Open(ctx, url, geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ranking := func() (int64, int64) {
		t.Helper()
		rk, err := st.Ranking(ctx, "2026")
		if err != nil {
			t.Fatal(err)
		}
		if rk.Stale {
			t.Fatalf("run %d is stale right after the command", rk.Run.ID)
		}
		return rk.Run.ID, rk.Run.Households
	}
	importFile := func(seed, n string) string {
		t.Helper()
		code, csv, errs := runCLI(t, "", "households", "generate", "--n", n, "--seed", seed, "--boundaries", desa)
		if code != 0 {
			t.Fatalf("generate: %s", errs)
		}
		file := filepath.Join(dir, "reg-"+seed+".csv")
		if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errs = runCLI(t, "", "households", "import", file, "--register", "p3ke", "--period", "2026")
		if code != 0 {
			t.Fatalf("import: %d %s", code, errs)
		}
		return errs
	}
	if errs := importFile("1", "300"); !strings.Contains(errs, "need scores recomputed") {
		t.Fatalf("first import did not recompute the scores: %s", errs)
	}
	run1, hh1 := ranking()
	if hh1 != 300 {
		t.Fatalf("run %d scored %d households, want 300", run1, hh1)
	}
	// A newer file of the same register and period: its first 300 ids update
	// the households already loaded (other flags, other villages), the other 100
	// are new. The scores must move with them.
	if errs := importFile("2", "400"); !strings.Contains(errs, "need scores recomputed") {
		t.Fatalf("second import did not recompute the scores: %s", errs)
	}
	run2, hh2 := ranking()
	if run2 <= run1 || hh2 != 400 {
		t.Fatalf("after the second import: run %d (was %d), %d households (were %d)", run2, run1, hh2, hh1)
	}
	code, out, errs := runCLI(t, "", "score", "--period", "2026", "--json")
	if code != 0 {
		t.Fatalf("score: %d %s", code, errs)
	}
	var res struct {
		Runs []geo.ScoreRun `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Runs) != 1 {
		t.Fatalf("score --json: %v %s", err, out)
	}
	r := res.Runs[0]
	if r.ID <= run2 || r.Households != hh2 || r.Villages != 187 || r.Timings["total"] == nil {
		t.Fatalf("score run %+v (previous run %d, %d households)", r, run2, hh2)
	}
	if run3, _ := ranking(); run3 != r.ID {
		t.Fatalf("ranking names run %d, want the new run %d", run3, r.ID)
	}
}
