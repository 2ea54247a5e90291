package geo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
	"github.com/bapeda-bekasi/sinergi/matching"
)

// matchFixture: a 3×3 grid of 0.01° villages (about 1.1 km) near Bekasi, three
// companies and some households with need.
type matchFixture struct {
	owner, web *geo.Store
	ids        map[string]int64
	set        int64 // the active desa set
}

func mfSquare(x, y, d float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}
}

func mfCode(i int) string { return fmt.Sprintf("99.01.01.%04d", 2001+i) }

func newMatchFixture(t *testing.T) *matchFixture {
	t.Helper()
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	var feats []geo.BoundaryFeature
	for i := 0; i < 9; i++ {
		x, y := 107.0+0.01*float64(i%3), -6.2+0.01*float64(i/3)
		feats = append(feats, geo.BoundaryFeature{Code: mfCode(i), Name: fmt.Sprintf("Desa %d", i), KecCode: "99.01.01",
			KecName: "Uji", Kind: "desa", Geom: orb.MultiPolygon{mfSquare(x, y, 0.01)}})
	}
	id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "grid", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	f := &matchFixture{owner: owner, web: web, ids: map[string]int64{}, set: id}
	for _, c := range []geo.Company{
		// A: operating area inside village 0 (SW corner), reach 1.5 km
		{Key: "pt-a", Name: "PT A", Sectors: []string{"kesehatan", "ekonomi"}, BudgetPerYear: 100_000_000,
			Area: orb.MultiPolygon{mfSquare(107.002, -6.198, 0.005)}, ReachKm: 1.5},
		// B: a site in village 1, reach 1 km
		{Key: "pt-b", Name: "PT B", Sectors: []string{"kesehatan"}, BudgetPerYear: 50_000_000,
			Sites: []orb.Point{{107.015, -6.195}}, ReachKm: 1},
		// C: far away
		{Key: "pt-c", Name: "PT C", Sectors: []string{"ekonomi"}, BudgetPerYear: 80_000_000,
			Sites: []orb.Point{{108.5, -6.9}}, ReachKm: 2},
	} {
		id, err := owner.CreateCompany(ctx, c, "test")
		if err != nil {
			t.Fatalf("create %s: %v", c.Key, err)
		}
		f.ids[c.Key] = id
	}
	// households: village 0 has 12 stunting + 7 poor; village 1 has 30 stunting; village 8 has 40 poor
	n := 0
	add := func(v string, stunted, poor bool, count int) {
		for k := 0; k < count; k++ {
			n++
			st := 0
			if stunted {
				st = 1
			}
			if _, err := owner.Pool.Exec(ctx, `INSERT INTO household (register, period, external_id, children_u5, stunted,
				extreme_poor, village_code, assigned_set) VALUES ('demo', '2026', $1, 1, $2, $3, $4, $5)`, fmt.Sprint(n), st, poor, v, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(mfCode(0), true, false, 12)
	add(mfCode(0), false, true, 7)
	add(mfCode(1), true, false, 30)
	add(mfCode(8), false, true, 40)
	if _, err := owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCompanyRingsAndNeighbours(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	rings, err := f.web.CompanyRings(ctx, f.ids["pt-a"])
	if err != nil {
		t.Fatal(err)
	}
	ring := map[string]int{}
	for _, r := range rings {
		ring[r.Code] = r.Ring
		if r.Ring == 1 && r.DistKm != 0 || r.Ring == 2 && (r.DistKm <= 0 || r.DistKm > 1.5) {
			t.Fatalf("ring/distance mismatch: %+v", r)
		}
	}
	if ring[mfCode(0)] != 1 || ring[mfCode(1)] != 2 || ring[mfCode(3)] != 2 {
		t.Fatalf("rings of PT A: %v", ring)
	}
	if _, far := ring[mfCode(8)]; far {
		t.Fatalf("village 8 is about 2 km away, beyond 1.5 km reach: %v", ring)
	}
	rep, err := f.web.CompanyNeighbours(ctx, f.ids["pt-a"], 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Neighbours) != 1 || rep.Neighbours[0].Name != "PT B" {
		t.Fatalf("neighbours of PT A within 5 km: %+v", rep.Neighbours)
	}
	nb := rep.Neighbours[0]
	if !slices.Contains(nb.SharedVillages, mfCode(1)) || nb.DistKm <= 0 || nb.DistKm > 2 || !nb.SameCluster {
		t.Fatalf("PT B as neighbour: %+v", nb)
	}
	if !slices.Equal(rep.Cluster, []string{"PT A", "PT B"}) {
		t.Fatalf("cluster: %v", rep.Cluster)
	}
	if _, err := f.web.CompanyNeighbours(ctx, 999999, 5); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("unknown company: %v", err)
	}
}

func TestCompanyViewsHideBudgets(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	own := f.ids["pt-b"]
	cs, err := f.web.Companies(ctx, geo.CompanyViewer{Own: &own})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if (c.BudgetPerYear != nil) != (c.ID == own) {
			t.Fatalf("company user of PT B sees %s's budget: %v", c.Name, c.BudgetPerYear)
		}
	}
	all, _ := f.web.Companies(ctx, geo.CompanyViewer{AllBudgets: true})
	for _, c := range all {
		if c.BudgetPerYear == nil {
			t.Fatalf("planner misses %s's budget", c.Name)
		}
		if c.Key == "pt-a" && (c.AreaKm2 < 0.2 || c.AreaKm2 > 0.4 || !strings.Contains(string(c.Area), "MultiPolygon")) {
			t.Fatalf("PT A's area: %v km² %s", c.AreaKm2, c.Area)
		}
	}
}

func TestCompanyCRUDAndImport(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	if _, err := f.web.CreateCompany(ctx, geo.Company{Key: "pt-a", Name: "X", Sectors: []string{"ekonomi"}}, "t"); !errors.Is(err, geo.ErrCompanyExists) {
		t.Fatalf("duplicate key: %v", err)
	}
	if _, err := f.web.CreateCompany(ctx, geo.Company{Key: "pt-x", Name: "X", Sectors: []string{"olahraga"}}, "t"); err == nil || !strings.Contains(err.Error(), "olahraga") {
		t.Fatalf("unknown sector: %v", err)
	}
	c := geo.Company{Key: "pt-b", Name: "PT B Baru", Sectors: []string{"kesehatan", "pendidikan"}, BudgetPerYear: 70_000_000,
		BudgetBySector: map[string]int64{"pendidikan": 20_000_000}, Sites: []orb.Point{{107.015, -6.195}}, ReachKm: 2}
	if err := f.web.UpdateCompany(ctx, f.ids["pt-b"], c, "t"); err != nil {
		t.Fatal(err)
	}
	got, err := f.web.CompanyByID(ctx, f.ids["pt-b"], geo.CompanyViewer{AllBudgets: true})
	if err != nil || got.Name != "PT B Baru" || *got.BudgetPerYear != 70_000_000 || got.BudgetBySector["pendidikan"] != 20_000_000 {
		t.Fatalf("after update: %+v %v", got, err)
	}
	if err := f.web.DeleteCompany(ctx, f.ids["pt-c"], "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.web.CompanyByID(ctx, f.ids["pt-c"], geo.CompanyViewer{}); !errors.Is(err, geo.ErrNotFound) {
		t.Fatalf("deleted company still there: %v", err)
	}

	csv := "key,name,sectors,budget_per_year,reach_km,lon,lat,budget_kesehatan\n" +
		"pt-d,PT D,kesehatan;ekonomi,90000000,3,107.01,-6.19,40000000\n" +
		"pt-d,PT D,kesehatan;ekonomi,90000000,3,107.02,-6.18,40000000\n"
	cs, err := geo.ReadCompanies(strings.NewReader(csv), "c.csv")
	if err != nil || len(cs) != 1 || len(cs[0].Sites) != 2 {
		t.Fatalf("CSV: %+v %v", cs, err)
	}
	res, err := f.owner.ImportCompanies(ctx, cs, "c.csv", "t")
	if err != nil || res.Written != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	res, _ = f.owner.ImportCompanies(ctx, cs, "c.csv", "t")
	if res.Written != 0 {
		t.Fatalf("re-import wrote %d rows; want idempotent", res.Written)
	}
	bad := "key,name,sectors,budget_per_year,reach_km\npt-e,PT E,kesehatan,banyak,3\n"
	if _, err := geo.ReadCompanies(strings.NewReader(bad), "bad.csv"); err == nil || !strings.Contains(err.Error(), "bad.csv row 2") {
		t.Fatalf("bad CSV error must name the row: %v", err)
	}
	gj := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"key":"pt-f","name":"PT F","sectors":["lingkungan"],"budget_per_year":5e7,"reach_km":2},
	  "geometry":{"type":"Polygon","coordinates":[[[107.0,-6.2],[107.005,-6.2],[107.005,-6.195],[107.0,-6.195],[107.0,-6.2]]]}},
	 {"type":"Feature","properties":{"key":"pt-g","name":"PT G","sectors":"kesehatan","budget_per_year":1.5},
	  "geometry":{"type":"Point","coordinates":[107.0,-6.2]}}]}`
	if _, err := geo.ReadCompanies(strings.NewReader(gj), "c.geojson"); err == nil || !strings.Contains(err.Error(), "feature 2") {
		t.Fatalf("fractional budget must be refused naming feature 2: %v", err)
	}
	gj = strings.Replace(gj, `"budget_per_year":1.5`, `"budget_per_year":15`, 1)
	cs, err = geo.ReadCompanies(strings.NewReader(gj), "c.geojson")
	if err != nil || len(cs) != 2 || len(cs[0].Area) != 1 || len(cs[1].Sites) != 1 {
		t.Fatalf("GeoJSON: %+v %v", cs, err)
	}
}

// scoreTableCells computes the matcher's cells straight from the newest score
// run's stored village scores with SQL (default weights: kesehatan ← stunting;
// ekonomi ← extreme poverty and unemployment, half each; weight = sector score/100),
// independently of geo.MatchNeed.
func scoreTableCells(t *testing.T, st *geo.Store) map[string][2]float64 {
	t.Helper()
	// Explain vector positions (SQL arrays count from 1): censored stunting,
	// extreme poverty, unemployment; sector scores in the run's sector order.
	c, sec := matching.ExplainCensored+1, matching.ExplainSectors
	rows, err := st.Pool.Query(context.Background(), fmt.Sprintf(`
		SELECT s.code, x.sector, round(x.h), x.w FROM village_score s JOIN score_run r ON r.id = s.run_id
		CROSS JOIN LATERAL (VALUES
			('kesehatan', s.x[%[1]d], s.x[%[2]d + array_position(r.sectors, 'kesehatan')] / 100),
			('ekonomi', (s.x[%[1]d + 1] + s.x[%[1]d + 2]) / 2,
				s.x[%[2]d + array_position(r.sectors, 'ekonomi')] / 100)) AS x(sector, h, w)
		WHERE s.run_id = (SELECT max(id) FROM score_run) AND round(x.h) > 0`, c, sec))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for rows.Next() {
		var code, sec string
		var h, w float64
		if err := rows.Scan(&code, &sec, &h, &w); err != nil {
			t.Fatal(err)
		}
		out[code+"/"+sec] = [2]float64{h, w}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMatchCellsProposalAccept(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	cells, err := f.web.MatchCells(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	// in-need households per sector from the score run: ekonomi is the mean of its
	// two components (7 extreme-poor, 0 unemployed → 3.5 → 4)
	want := map[string]float64{mfCode(0) + "/kesehatan": 12, mfCode(0) + "/ekonomi": 4, mfCode(1) + "/kesehatan": 30, mfCode(8) + "/ekonomi": 20}
	table := scoreTableCells(t, f.owner)
	if len(cells) != len(want) || len(table) != len(want) {
		t.Fatalf("cells: %+v\nscore tables: %v", cells, table)
	}
	for _, c := range cells {
		k := c.VillageCode + "/" + c.Sector
		if want[k] != c.Households || table[k][0] != c.Households || math.Abs(table[k][1]-c.Weight) > 1e-12 || c.Weight <= 0 || c.Weight > 1 {
			t.Fatalf("cell %+v, want %v households, score tables say %v", c, want[k], table[k])
		}
	}
	if _, err := f.web.AddMatchRule(ctx, geo.MatchRule{Kind: "exclude", CompanyID: f.ids["pt-a"], VillageCode: mfCode(1), Year: 2026}, "planner"); err != nil {
		t.Fatal(err)
	}
	req := geo.MatchRequest{Mode: matching.ModeSector, Year: 2026}
	in, basis, err := f.web.PrepareMatch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := matching.Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	if r := matching.CheckProposal(in, p); !r.OK() {
		t.Fatal(r.Violations)
	}
	for _, a := range p.Assignments {
		if a.CompanyName == "PT A" && a.VillageCode == mfCode(1) {
			t.Fatalf("exclusion ignored: %+v", a)
		}
		if a.CompanyName == "PT C" {
			t.Fatalf("PT C reaches nothing but got %+v", a)
		}
	}
	// PT A: 12 stunting (2.5 M each) + 4 ekonomi (4 M each) = 46 M in its ring 1; PT B: 30 stunting in village 1 = 75 M > 50 M.
	got := map[string]float64{}
	for _, a := range p.Assignments {
		got[a.CompanyName+"@"+a.VillageCode+"/"+a.SectorName] += a.Households
	}
	if got["PT A@"+mfCode(0)+"/kesehatan"] != 12 || got["PT A@"+mfCode(0)+"/ekonomi"] != 4 || got["PT B@"+mfCode(1)+"/kesehatan"] != 20 {
		t.Fatalf("assignments: %v", got)
	}
	id, err := f.web.SaveProposal(ctx, req, basis, p, "planner")
	if err != nil {
		t.Fatal(err)
	}
	// the saved proposal names the score run and the unit costs it used
	var lastRun int64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT max(id) FROM score_run`).Scan(&lastRun); err != nil {
		t.Fatal(err)
	}
	rec, err := f.web.Proposal(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if b := rec.Basis; b.ScoreRunID != lastRun || b.Period != "2026" || b.WeightsVersion == 0 || b.NeedWeight != "sector" ||
		b.CostVersion != 1 || b.UnitCosts["kesehatan"] != 2_500_000 || b.UnitCosts["ekonomi"] != 4_000_000 {
		t.Fatalf("proposal basis: %+v (newest run %d)", b, lastRun)
	}
	n, err := f.web.AcceptProposal(ctx, id, "planner")
	if err != nil || n != len(p.Assignments) {
		t.Fatalf("accept: %d plans, %v", n, err)
	}
	if _, err := f.web.AcceptProposal(ctx, id, "planner"); !errors.Is(err, geo.ErrProposalState) {
		t.Fatalf("second accept: %v", err)
	}
	plans, err := f.web.Plans(ctx, geo.PlanFilter{Year: 2026}, geo.CompanyViewer{AllBudgets: true})
	if err != nil || len(plans) != n {
		t.Fatalf("plans: %d %v", len(plans), err)
	}
	for _, pl := range plans {
		if pl.Status != geo.PlanApproved || pl.ProposalID == nil || *pl.ProposalID != id {
			t.Fatalf("plan from proposal: %+v", pl)
		}
	}
	// the suggestions of PT B: its own cells only, with disclosure-controlled counts
	sug, err := f.web.Suggestions(ctx, f.ids["pt-b"], 2026)
	if err != nil || len(sug) != 1 || sug[0].VillageCode != mfCode(1) || sug[0].Households != 20 || sug[0].CellNeed != 30 {
		t.Fatalf("suggestions: %+v %v", sug, err)
	}
	if js, _ := json.Marshal(sug[0]); !strings.Contains(string(js), `"households":20,`) || !strings.Contains(string(js), `"cell_need":30,`) {
		t.Fatalf("suggestion counts must be JSON numbers: %s", js)
	}
}

func TestPlansFlowAndCoverage(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	a, b := f.ids["pt-a"], f.ids["pt-b"]
	if _, err := f.web.CreatePlan(ctx, geo.Plan{CompanyID: a, Year: 2026, VillageCode: "99.99.99.9999", Sector: "kesehatan", Budget: 1}, "u"); !errors.Is(err, geo.ErrUnknownVillage) {
		t.Fatalf("unknown village: %v", err)
	}
	pa, err := f.web.CreatePlan(ctx, geo.Plan{CompanyID: a, Year: 2026, VillageCode: mfCode(1), Sector: "kesehatan", Budget: 30_000_000, TargetHouseholds: 12}, "u-a")
	if err != nil {
		t.Fatal(err)
	}
	pb, err := f.web.CreatePlan(ctx, geo.Plan{CompanyID: b, Year: 2026, VillageCode: mfCode(1), Sector: "kesehatan", Budget: 20_000_000}, "u-b")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.web.SetPlanStatus(ctx, pa, geo.PlanUpdate{Status: geo.PlanDone}, "p", geo.RolePlanner); !errors.Is(err, geo.ErrPlanStatus) {
		t.Fatalf("submitted → done must be refused: %v", err)
	}
	for _, st := range []string{geo.PlanApproved, geo.PlanRunning} {
		if err := f.web.SetPlanStatus(ctx, pa, geo.PlanUpdate{Status: st}, "p", geo.RolePlanner); err != nil {
			t.Fatal(err)
		}
	}
	rb := int64(28_000_000)
	if err := f.web.SetPlanStatus(ctx, pa, geo.PlanUpdate{Status: geo.PlanDone, RealisedBudget: &rb, RealisationReport: "12 balita didampingi"}, "u-a", geo.RoleCompany); err != nil {
		t.Fatal(err)
	}
	// PT B's view: its own plan in full, PT A's without money
	ps, err := f.web.Plans(ctx, geo.PlanFilter{Year: 2026}, geo.CompanyViewer{Own: &b})
	if err != nil || len(ps) != 2 {
		t.Fatalf("plans: %v %v", ps, err)
	}
	for _, p := range ps {
		if p.ID == pa && (p.Budget != nil || p.RealisedBudget != nil || p.RealisationReport != "") {
			t.Fatalf("PT B sees PT A's money: %+v", p)
		}
		if p.ID == pb && p.Budget == nil {
			t.Fatalf("PT B misses its own budget: %+v", p)
		}
	}
	cov, err := f.web.Coverage(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	byCell := map[string]geo.CoverageCell{}
	for _, c := range cov {
		byCell[c.VillageCode+"/"+c.Sector] = c
	}
	v1 := byCell[mfCode(1)+"/kesehatan"]
	if v1.Companies != 2 || !v1.Overlap || v1.Planned != 30_000_000 || v1.Submitted != 20_000_000 || v1.Need != 30 {
		t.Fatalf("village 1 kesehatan: %+v", v1)
	}
	if v8 := byCell[mfCode(8)+"/ekonomi"]; !v8.Gap || v8.Companies != 0 {
		t.Fatalf("village 8 ekonomi should be a gap: %+v", v8)
	}
	csv := "company_key,year,village_code,sector,budget,target_households,status\n" +
		"pt-a,2026," + mfCode(0) + ",ekonomi,10000000,5,approved\n" +
		"pt-a,2026,99.01.01.9999,ekonomi,10000000,5,approved\n"
	if _, err := f.owner.ImportPlans(ctx, strings.NewReader(csv), "p.csv", "t"); err == nil || !strings.Contains(err.Error(), "row 3") {
		t.Fatalf("plans import must name row 3: %v", err)
	}
	ps, _ = f.web.Plans(ctx, geo.PlanFilter{Year: 2026, Village: mfCode(0)}, geo.CompanyViewer{AllBudgets: true})
	if len(ps) != 0 {
		t.Fatalf("a failed import left %d plans", len(ps))
	}
	res, err := f.owner.ImportPlans(ctx, strings.NewReader(strings.SplitAfterN(csv, "\n", 3)[0]+strings.SplitAfterN(csv, "\n", 3)[1]), "p.csv", "t")
	if err != nil || res.Plans != 1 {
		t.Fatalf("plans import: %+v %v", res, err)
	}
}

func TestMatchCellsCountsLinkedHouseholdsOnce(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	// the same family (one link key) in two registers: one in-need household, not two
	for _, reg := range []string{"eppgbm", "p3ke"} {
		if _, err := f.owner.Pool.Exec(ctx, `INSERT INTO household (register, period, external_id, children_u5, stunted,
			extreme_poor, link_key, village_code, assigned_set) VALUES ($1, '2026', 'kk-1', 1, 1, true, '\x01'::bytea, $2, $3)`, reg, mfCode(5), f.set); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	cells, err := f.web.MatchCells(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, c := range cells {
		if c.VillageCode == mfCode(5) {
			got[c.Sector] = c.Households
		}
	}
	// kesehatan: one stunted family; ekonomi: mean of 1 extreme-poor and 0 unemployed, rounded → 1
	if got["kesehatan"] != 1 || got["ekonomi"] != 1 {
		t.Fatalf("linked family counted %v; want once per sector", got)
	}
}

// TestMatchNeedFollowsScores: the matcher's need comes from the newest score run,
// so a weight change (sector map, cut-off k) changes its input; village indicators
// give the sectors without a household flag; no score run is a clear error.
func TestMatchNeedFollowsScores(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	cellMap := func(year int, weight string) (map[string]geo.MatchCellRow, geo.MatchBasis) {
		t.Helper()
		cells, b, err := f.web.MatchNeed(ctx, year, weight)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]geo.MatchCellRow{}
		for _, c := range cells {
			m[c.VillageCode+"/"+c.Sector] = c
		}
		return m, b
	}
	before, b0 := cellMap(2026, "")
	if before[mfCode(8)+"/ekonomi"].Households != 20 {
		t.Fatalf("default weights: %+v", before)
	}
	// weights: ekonomi ← extreme poverty alone
	w := matching.DefaultWeights()
	w.Sectors["ekonomi"] = map[string]float64{"extreme_poverty": 1}
	if _, err := f.owner.SaveWeights(ctx, w, "planner", "ekonomi = kemiskinan ekstrem"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	after, b1 := cellMap(2026, "")
	if b1.WeightsVersion == b0.WeightsVersion || b1.ScoreRunID == b0.ScoreRunID {
		t.Fatalf("basis did not follow the new run: %+v then %+v", b0, b1)
	}
	if after[mfCode(8)+"/ekonomi"].Households != 40 || after[mfCode(0)+"/ekonomi"].Households != 7 ||
		after[mfCode(1)+"/kesehatan"] != before[mfCode(1)+"/kesehatan"] {
		t.Fatalf("after the sector-map change: %+v", after)
	}
	if tbl := scoreTableCellsExtreme(t, f.owner); tbl[mfCode(8)] != 40 {
		t.Fatalf("score table disagrees: %v", tbl)
	}
	// cut-off k = 1/2 with equal thirds: one deprivation is no longer "in need"
	w.K = 0.5
	if _, err := f.owner.SaveWeights(ctx, w, "planner", "k = 1/2"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if none, _ := cellMap(2026, ""); len(none) != 0 {
		t.Fatalf("k = 1/2: no household has two deprivations, yet cells %+v", none)
	}
	w.K = 1.0 / 3
	if _, err := f.owner.SaveWeights(ctx, w, "planner", "k = 1/3"); err != nil {
		t.Fatal(err)
	}
	// village indicators: school participation 80 % in village 0 (19 households) →
	// pendidikan need 0.2 × 19 = 3.8 → 4 households, weight = its sector score / 100
	if _, err := f.owner.Pool.Exec(ctx, `INSERT INTO village_indicator (code, year, indicator, value) VALUES ($1, 2026, 'school_participation', 80)`, mfCode(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	vi, _ := cellMap(2026, "")
	if c := vi[mfCode(0)+"/pendidikan"]; c.Households != 4 || math.Abs(c.Weight-0.2) > 1e-9 {
		t.Fatalf("pendidikan from the village indicator: %+v", c)
	}
	if _, ok := vi[mfCode(1)+"/pendidikan"]; ok {
		t.Fatal("village 1 has no school indicator, so no pendidikan cell")
	}
	// need weights: households → 1, m0 → the village's smoothed M0 on every sector
	hh, _ := cellMap(2026, matching.NeedWeightHouseholds)
	m0, b := cellMap(2026, matching.NeedWeightM0)
	if hh[mfCode(1)+"/kesehatan"].Weight != 1 || b.NeedWeight != "m0" ||
		m0[mfCode(0)+"/kesehatan"].Weight != m0[mfCode(0)+"/ekonomi"].Weight || m0[mfCode(0)+"/kesehatan"].Households != 12 {
		t.Fatalf("need weights: households %+v, m0 %+v", hh, m0)
	}
	if _, _, err := f.web.MatchNeed(ctx, 2026, "volume"); !errors.Is(err, geo.ErrMatchRequest) {
		t.Fatalf("unknown need weight: %v", err)
	}
	// a plan year without its own data takes the latest earlier period
	if _, b := cellMap(2027, ""); b.Period != "2026" {
		t.Fatalf("year 2027 read period %q", b.Period)
	}
	// no score run at all
	if _, err := f.owner.Pool.Exec(ctx, `DELETE FROM score_run`); err != nil {
		t.Fatal(err)
	}
	_, err := f.web.MatchCells(ctx, 2026)
	if !errors.Is(err, geo.ErrNoScores) || !strings.Contains(err.Error(), "skor belum dihitung; jalankan sinergi score (no scores yet") {
		t.Fatalf("without scores: %v", err)
	}
	if _, err := f.web.BuildMatchInput(ctx, geo.MatchRequest{Mode: matching.ModeSector, Year: 2026}); !errors.Is(err, geo.ErrNoScores) {
		t.Fatalf("matcher without scores: %v", err)
	}
}

// scoreTableCellsExtreme reads the censored extreme-poverty count per village of the newest run.
func scoreTableCellsExtreme(t *testing.T, st *geo.Store) map[string]float64 {
	t.Helper()
	rows, err := st.Pool.Query(context.Background(), fmt.Sprintf(`SELECT code, x[%d]
		FROM village_score WHERE run_id = (SELECT max(id) FROM score_run)`, matching.ExplainCensored+2))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for rows.Next() {
		var c string
		var v float64
		if err := rows.Scan(&c, &v); err != nil {
			t.Fatal(err)
		}
		out[c] = v
	}
	return out
}

// TestUnitCosts: versioned unit costs with validation and audit; a proposal keeps
// the costs it was built with after they change.
func TestUnitCosts(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	cur, err := f.web.CurrentUnitCosts(ctx)
	if err != nil || cur.Version != 1 || cur.Costs["kesehatan"] != 2_500_000 || len(cur.Costs) != 5 {
		t.Fatalf("initial costs: %+v %v", cur, err)
	}
	req := geo.MatchRequest{Mode: matching.ModeSector, Year: 2026}
	in, basis, err := f.web.PrepareMatch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := matching.Solve(in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.web.SaveProposal(ctx, req, basis, p, "planner")
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]map[string]float64{
		"unknown sector": {"kesehatan": 1, "pariwisata": 5},
		"zero":           {"kesehatan": 0},
		"negative":       {"ekonomi": -5},
		"NaN":            {"ekonomi": math.NaN()},
		"Inf":            {"ekonomi": math.Inf(1)},
		"fraction":       {"ekonomi": 1500.5},
		"huge":           {"ekonomi": 1e15},
		"empty":          {},
	} {
		if _, _, err := f.web.SetUnitCosts(ctx, bad, "", "planner"); !errors.Is(err, geo.ErrUnitCost) {
			t.Errorf("%s: %v, want ErrUnitCost", name, err)
		}
	}
	if v, _ := f.web.CurrentUnitCosts(ctx); v.Version != 1 {
		t.Fatalf("a refused change wrote version %d", v.Version)
	}
	u, changed, err := f.web.SetUnitCosts(ctx, map[string]float64{"kesehatan": 1_500_000}, "harga 2026", "planner-1")
	if err != nil || !changed || u.Version != 2 || u.Costs["kesehatan"] != 1_500_000 || u.Costs["ekonomi"] != 4_000_000 || u.UpdatedBy != "planner-1" {
		t.Fatalf("set: %+v %v %v", u, changed, err)
	}
	if u2, changed, err := f.web.SetUnitCosts(ctx, map[string]float64{"kesehatan": 1_500_000}, "", "planner-2"); err != nil || changed || u2.Version != 2 {
		t.Fatalf("same costs again must write nothing: %+v %v %v", u2, changed, err)
	}
	var audits int
	var mirror int64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM audit_log WHERE action = 'match.costs' AND actor = 'planner-1'),
		(SELECT rupiah FROM match_unit_cost WHERE sector = 'kesehatan')`).Scan(&audits, &mirror); err != nil || audits != 1 || mirror != 1_500_000 {
		t.Fatalf("audit rows %d, match_unit_cost kesehatan %d, %v", audits, mirror, err)
	}
	in2, basis2, err := f.web.PrepareMatch(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if in2.UnitCost[slices.Index(geo.Sectors, "kesehatan")] != 1_500_000 || basis2.CostVersion != 2 {
		t.Fatalf("matcher input after the change: %v %+v", in2.UnitCost, basis2)
	}
	rec, err := f.web.Proposal(ctx, id)
	if err != nil || rec.Basis.CostVersion != 1 || rec.Basis.UnitCosts["kesehatan"] != 2_500_000 {
		t.Fatalf("old proposal's basis changed: %+v %v", rec.Basis, err)
	}
	// reproducible: the saved basis rebuilds the same proposal
	in3 := in2
	for k, sec := range geo.Sectors {
		in3.UnitCost[k] = float64(rec.Basis.UnitCosts[sec])
	}
	p3, err := matching.Solve(in3)
	if err != nil || p3.Objective != rec.Proposal.Objective {
		t.Fatalf("re-solved with the saved costs: objective %v, saved %v (%v)", p3.Objective, rec.Proposal.Objective, err)
	}
	vs, err := f.web.UnitCostVersions(ctx, 10)
	if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 {
		t.Fatalf("versions: %+v %v", vs, err)
	}
}
