package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

func TestCompaniesMatchPlansCLI(t *testing.T) {
	st, id := matchFixture(t, 4)
	ctx := context.Background()
	for k := 0; k < 25; k++ {
		if _, err := st.Pool.Exec(ctx, `INSERT INTO household (register, period, external_id, children_u5, stunted, extreme_poor, village_code, assigned_set)
			VALUES ('demo', '2026', $1, 1, $2, $3, $4, $5)`, fmt.Sprint(k), k%2, k%3 == 0, fmt.Sprintf("99.01.01.%04d", 2001+k%4), id); err != nil {
			t.Fatal(err)
		}
	}
	// the matcher takes need from the scores: without a run it says so
	if code, _, errs := runCLI(t, "", "match", "--mode", "sector", "--year", "2026"); code != 1 || !strings.Contains(errs, "skor belum dihitung; jalankan sinergi score") {
		t.Fatalf("match without scores: %d %s", code, errs)
	}
	if _, err := st.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("key,name,sectors,budget_per_year,reach_km\npt-x,PT X,kesehatan,-5,3\n"), 0o644)
	if code, _, errs := runCLI(t, "", "companies", "import", bad); code != 1 || !strings.Contains(errs, "row 2") {
		t.Fatalf("bad company file: %d %s", code, errs)
	}
	good := filepath.Join(dir, "companies.csv")
	os.WriteFile(good, []byte("key,name,sectors,budget_per_year,reach_km,lon,lat\n"+
		"pt-a,PT A,kesehatan;ekonomi,60000000,2,107.005,-6.195\n"+
		"pt-b,PT B,kesehatan,30000000,1,107.035,-6.195\n"), 0o644)
	code, out, errs := runCLI(t, "", "companies", "import", good, "--json")
	if code != 0 || !strings.Contains(out, `"companies": 2`) {
		t.Fatalf("companies import: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "match", "--mode", "nearest"); code != 2 || !strings.Contains(errs, "--mode") {
		t.Fatalf("bad mode: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "", "match", "--mode", "sector", "--year", "2026", "--save", "--json")
	if code != 0 {
		t.Fatalf("match: %d %s", code, errs)
	}
	var res struct {
		ID       int64
		Proposal struct {
			Assignments []struct {
				CompanyName string `json:"company_name"`
			}
		}
		Check struct{ Violations []string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.ID == 0 || len(res.Proposal.Assignments) == 0 || len(res.Check.Violations) != 0 {
		t.Fatalf("match output: %v %s", err, out)
	}
	code, out, errs = runCLI(t, "", "match", "--accept", fmt.Sprint(res.ID))
	if code != 0 || !strings.Contains(out, "diterima") {
		t.Fatalf("accept: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "match", "--accept", fmt.Sprint(res.ID)); code != 1 || !strings.Contains(errs, "sudah diterima") {
		t.Fatalf("accept twice: %d %s", code, errs)
	}
	plans := filepath.Join(dir, "plans.csv")
	os.WriteFile(plans, []byte("company_key,year,village_code,sector,budget,target_households,status,program\n"+
		"pt-b,2026,99.01.01.2004,kesehatan,5000000,2,submitted,posyandu\n"), 0o644)
	if code, out, errs := runCLI(t, "", "plans", "import", plans); code != 0 || !strings.Contains(out, "1 rencana") {
		t.Fatalf("plans import: %d %s %s", code, out, errs)
	}
	code, out, _ = runCLI(t, "", "plans", "coverage", "--year", "2026", "--json")
	var cov []geo.CoverageCell
	if err := json.Unmarshal([]byte(out), &cov); code != 0 || err != nil || len(cov) == 0 {
		t.Fatalf("coverage: %d %v %s", code, err, out)
	}
	planned := false
	for _, c := range cov {
		planned = planned || c.Planned > 0
	}
	if !planned {
		t.Fatalf("accepted proposal should show as planned money: %s", out)
	}
	// unit costs: show, refuse bad input (exit 2, nothing written), set a new version
	code, out, errs = runCLI(t, "", "match", "costs")
	if code != 0 || !strings.Contains(out, "versi 1") || !strings.Contains(out, "2.500.000") {
		t.Fatalf("match costs: %d %s %s", code, out, errs)
	}
	for _, bad := range [][]string{{"--set", "pariwisata=5"}, {"--set", "kesehatan=-1"}, {"--set", "kesehatan"}, {"--set", "kesehatan=1e400"},
		{"--set", "kesehatan=1", "--set", "kesehatan=2"}, {"--note", "tanpa set"}} {
		if code, _, errs := runCLI(t, "", append([]string{"match", "costs"}, bad...)...); code != 2 || errs == "" {
			t.Fatalf("match costs %v: %d %s", bad, code, errs)
		}
	}
	code, out, errs = runCLI(t, "", "match", "costs", "--set", "kesehatan=1500000", "--set", "ekonomi=3_000_000", "--note", "harga 2026", "--json")
	var cr struct {
		Current struct {
			Version int64
			Costs   map[string]int64
		}
		Changed bool
	}
	if err := json.Unmarshal([]byte(out), &cr); code != 0 || err != nil || !cr.Changed || cr.Current.Version != 2 ||
		cr.Current.Costs["kesehatan"] != 1_500_000 || cr.Current.Costs["ekonomi"] != 3_000_000 || cr.Current.Costs["pendidikan"] != 3_000_000 {
		t.Fatalf("match costs --set: %d %v %s %s", code, err, out, errs)
	}
	code, out, errs = runCLI(t, "", "match", "--mode", "sector", "--year", "2026", "--save", "--json")
	if code != 0 || !strings.Contains(out, `"cost_version": 2`) || !strings.Contains(out, `"score_run_id": `) {
		t.Fatalf("match after new costs: %d %s %s", code, out, errs)
	}
}

// matchFixture migrates a fresh database through the CLI (DATABASE_URL points at
// it for the test) and activates n 0.01° square villages 99.01.01.2001… in a row;
// it returns the open store and the set id.
func matchFixture(t *testing.T, n int) (*geo.Store, int64) {
	t.Helper()
	url := geotest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	ctx := context.Background()
	if code, _, errs := runCLI(t, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	st, err := geo.Open(ctx, url, geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	var feats []geo.BoundaryFeature
	for i := 0; i < n; i++ {
		x := 107.0 + 0.01*float64(i)
		feats = append(feats, geo.BoundaryFeature{Code: fmt.Sprintf("99.01.01.%04d", 2001+i), Name: fmt.Sprint("Desa ", i),
			KecCode: "99.01.01", KecName: "Uji", Kind: "desa",
			Geom: orb.MultiPolygon{{{{x, -6.2}, {x + 0.01, -6.2}, {x + 0.01, -6.19}, {x, -6.19}, {x, -6.2}}}}})
	}
	id, err := st.CreateBoundarySet(ctx, geo.LevelDesa, "t", "test", feats)
	if err == nil {
		err = st.ActivateBoundarySet(ctx, id, "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	return st, id
}
