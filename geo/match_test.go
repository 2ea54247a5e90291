package geo_test

import (
	"context"
	"errors"
	"fmt"
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
	f := &matchFixture{owner: owner, web: web, ids: map[string]int64{}}
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
				extreme_poor, village_code) VALUES ('demo', '2026', $1, 1, $2, $3, $4)`, fmt.Sprint(n), st, poor, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(mfCode(0), true, false, 12)
	add(mfCode(0), false, true, 7)
	add(mfCode(1), true, false, 30)
	add(mfCode(8), false, true, 40)
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

func TestMatchCellsProposalAccept(t *testing.T) {
	f := newMatchFixture(t)
	ctx := context.Background()
	cells, err := f.web.MatchCells(ctx, 2026)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{mfCode(0) + "/kesehatan": 12, mfCode(0) + "/ekonomi": 7, mfCode(1) + "/kesehatan": 30, mfCode(8) + "/ekonomi": 40}
	if len(cells) != len(want) {
		t.Fatalf("cells: %+v", cells)
	}
	for _, c := range cells {
		if want[c.VillageCode+"/"+c.Sector] != c.Households {
			t.Fatalf("cell %+v, want %v", c, want)
		}
	}
	if _, err := f.web.AddMatchRule(ctx, geo.MatchRule{Kind: "exclude", CompanyID: f.ids["pt-a"], VillageCode: mfCode(1), Year: 2026}, "planner"); err != nil {
		t.Fatal(err)
	}
	req := geo.MatchRequest{Mode: matching.ModeSector, Year: 2026}
	in, err := f.web.BuildMatchInput(ctx, req)
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
	// PT A: 12 stunting (2.5 M each) + 7 poor (4 M each) = 58 M in its ring 1; PT B: 30 stunting in village 1 = 75 M > 50 M.
	got := map[string]float64{}
	for _, a := range p.Assignments {
		got[a.CompanyName+"@"+a.VillageCode+"/"+a.SectorName] += a.Households
	}
	if got["PT A@"+mfCode(0)+"/kesehatan"] != 12 || got["PT A@"+mfCode(0)+"/ekonomi"] != 7 || got["PT B@"+mfCode(1)+"/kesehatan"] != 20 {
		t.Fatalf("assignments: %v", got)
	}
	id, err := f.web.SaveProposal(ctx, req, p, "planner")
	if err != nil {
		t.Fatal(err)
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
	if err != nil || len(sug) != 1 || sug[0].VillageCode != mfCode(1) || sug[0].Households != "20" || sug[0].CellNeed != "30" {
		t.Fatalf("suggestions: %+v %v", sug, err)
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
			extreme_poor, link_key, village_code) VALUES ($1, '2026', 'kk-1', 1, 1, true, '\x01'::bytea, $2)`, reg, mfCode(5)); err != nil {
			t.Fatal(err)
		}
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
	if got["kesehatan"] != 1 || got["ekonomi"] != 1 {
		t.Fatalf("linked family counted %v; want once per sector", got)
	}
}
