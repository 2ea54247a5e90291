package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// companiesFixture adds a second company (PT Lain) with a budget and an area next
// to the fixture's village, and households with need in that village.
func companiesFixture(t *testing.T) (*fixture, int64, int64) {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	var own int64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT id FROM company WHERE key = 'pt-uji'`).Scan(&own); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.owner.UpsertCompany(ctx, geo.Company{Key: "pt-uji", Name: "PT Uji", Sectors: []string{"kesehatan"},
		BudgetPerYear: 40_000_000, Sites: []orb.Point{{107.005, -6.195}}, ReachKm: 2}, "test"); err != nil {
		t.Fatal(err)
	}
	other, _, err := f.owner.UpsertCompany(ctx, geo.Company{Key: "pt-lain", Name: "PT Lain", Sectors: []string{"kesehatan", "ekonomi"},
		BudgetPerYear: 987_000_000, Area: orb.MultiPolygon{{{{107.008, -6.198}, {107.012, -6.198}, {107.012, -6.194}, {107.008, -6.194}, {107.008, -6.198}}}},
		ReachKm: 3}, "test")
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 30; k++ {
		if _, err := f.owner.Pool.Exec(ctx, `INSERT INTO household (register, period, external_id, children_u5, stunted, village_code, assigned_set)
			VALUES ('demo', '2026', $1, 1, 1, '99.01.01.2001', `+"(SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active')"+`)`, fmt.Sprint(k)); err != nil {
			t.Fatal(err)
		}
	}
	// the matcher takes need from the scores
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	return f, own, other
}

func TestCompaniesAPIRolesAndBudgets(t *testing.T) {
	f, own, other := companiesFixture(t)
	co := f.tokens[geo.RoleCompany]
	resp, body := f.do(t, "GET", "/api/v1/companies", co, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /companies as company: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "987000000") || !strings.Contains(body, "40000000") {
		t.Fatalf("a company user must see its own budget and no other: %s", body)
	}
	if resp, body := f.do(t, "GET", "/api/v1/companies", f.tokens[geo.RolePlanner], ""); resp.StatusCode != 200 || !strings.Contains(body, "987000000") {
		t.Fatalf("planner sees every budget: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/companies", f.tokens[geo.RoleOfficer], ""); resp.StatusCode != 403 {
		t.Fatalf("officer on /companies: %d", resp.StatusCode)
	}
	upd := `{"key":"pt-lain","name":"Dibajak","sectors":["kesehatan"],"budget_per_year":1,"reach_km":1}`
	if resp, _ := f.do(t, "PUT", fmt.Sprintf("/api/v1/companies/%d", other), co, upd); resp.StatusCode != 403 {
		t.Fatalf("company user editing another company: %d", resp.StatusCode)
	}
	mine := `{"key":"pt-uji","name":"PT Uji Baru","sectors":["kesehatan"],"budget_per_year":45000000,"reach_km":2,
		"sites":{"type":"Point","coordinates":[107.005,-6.195]}}`
	if resp, body := f.do(t, "PUT", fmt.Sprintf("/api/v1/companies/%d", own), co, mine); resp.StatusCode != 200 || !strings.Contains(body, "PT Uji Baru") {
		t.Fatalf("company user editing its own: %d %s", resp.StatusCode, body)
	}
	newCo := `{"key":"pt-baru","name":"PT Baru","sectors":["pendidikan"],"budget_per_year":5,"reach_km":4,
		"area":{"type":"Polygon","coordinates":[[[107,-6.2],[107.001,-6.2],[107.001,-6.199],[107,-6.2]]]}}`
	if resp, _ := f.do(t, "POST", "/api/v1/companies", co, newCo); resp.StatusCode != 403 {
		t.Fatalf("company user creating a company: %d", resp.StatusCode)
	}
	resp, body = f.do(t, "POST", "/api/v1/companies", f.tokens[geo.RolePlanner], newCo)
	if resp.StatusCode != 201 || !strings.Contains(body, `"area":{"type":"MultiPolygon"`) {
		t.Fatalf("planner creating a company: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "POST", "/api/v1/companies", f.tokens[geo.RolePlanner], newCo); resp.StatusCode != 409 {
		t.Fatalf("duplicate key: %d %s", resp.StatusCode, body)
	}
	bad := strings.Replace(newCo, `"pendidikan"`, `"sepakbola"`, 1)
	if resp, body := f.do(t, "POST", "/api/v1/companies", f.tokens[geo.RolePlanner], bad); resp.StatusCode != 400 || !strings.Contains(body, "sepakbola") {
		t.Fatalf("unknown sector: %d %s", resp.StatusCode, body)
	}
	// neighbours: own only, no budgets in the answer
	if resp, _ := f.do(t, "GET", fmt.Sprintf("/api/v1/companies/%d/neighbours", other), co, ""); resp.StatusCode != 403 {
		t.Fatalf("neighbours of another company: %d", resp.StatusCode)
	}
	resp, body = f.do(t, "GET", fmt.Sprintf("/api/v1/companies/%d/neighbours?within_km=5", own), co, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "PT Lain") || strings.Contains(body, "987000000") || !strings.Contains(body, "99.01.01.2001") {
		t.Fatalf("own neighbours: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", fmt.Sprintf("/api/v1/companies/%d/suggestions?year=2026", own), co, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"households":20,`) || !strings.Contains(body, `"cell_need":30,`) {
		// 45 M budget / 2.5 M per household = 18 households, shown rounded to base 5: 20
		t.Fatalf("suggestions: %d %s", resp.StatusCode, body)
	}
}

func TestPlansAndMatchAPI(t *testing.T) {
	f, own, other := companiesFixture(t)
	co, pl := f.tokens[geo.RoleCompany], f.tokens[geo.RolePlanner]
	plan := func(cid int64) string {
		return fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":10000000,"target_households":4}`, cid)
	}
	if resp, _ := f.do(t, "POST", "/api/v1/plans", co, plan(other)); resp.StatusCode != 403 {
		t.Fatalf("company planning for another company: %d", resp.StatusCode)
	}
	resp, body := f.do(t, "POST", "/api/v1/plans", co, plan(own))
	if resp.StatusCode != 201 {
		t.Fatalf("own plan: %d %s", resp.StatusCode, body)
	}
	var created struct{ ID int64 }
	_ = json.Unmarshal([]byte(body), &created)
	if resp, _ := f.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/approve", created.ID), co, ""); resp.StatusCode != 403 {
		t.Fatalf("company approving: %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/approve", created.ID), pl, ""); resp.StatusCode != 200 {
		t.Fatalf("planner approving: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/approve", created.ID), pl, ""); resp.StatusCode != 409 {
		t.Fatalf("approving twice: %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "POST", fmt.Sprintf("/api/v1/plans/%d/status", created.ID), co, `{"status":"running"}`); resp.StatusCode != 200 {
		t.Fatalf("company starting its plan: %d %s", resp.StatusCode, body)
	}
	bad := strings.Replace(plan(own), "99.01.01.2001", "99.01.01.9999", 1)
	if resp, body := f.do(t, "POST", "/api/v1/plans", co, bad); resp.StatusCode != 400 || !strings.Contains(body, "kode desa tidak dikenal") {
		t.Fatalf("unknown village: %d %s", resp.StatusCode, body)
	}
	// the planner runs the matcher and accepts the proposal
	if resp, _ := f.do(t, "POST", "/api/v1/match", co, `{"mode":"sector","year":2026}`); resp.StatusCode != 403 {
		t.Fatalf("company running the matcher: %d", resp.StatusCode)
	}
	// save:false creates nothing: 200 without id or Location
	resp, body = f.do(t, "POST", "/api/v1/match", pl, `{"mode":"sector","year":2026,"save":false}`)
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || strings.Contains(body, `"id":`) || !strings.Contains(body, `"basis":`) {
		t.Fatalf("match without saving: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = f.do(t, "POST", "/api/v1/match", pl, `{"mode":"sector","year":2026}`)
	if resp.StatusCode != 201 {
		t.Fatalf("match: %d %s", resp.StatusCode, body)
	}
	var m struct {
		ID       int64
		Proposal struct {
			Assignments []struct {
				CompanyName string  `json:"company_name"`
				Households  float64 `json:"households"`
				Reason      string  `json:"reason"`
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.ID == 0 || len(m.Proposal.Assignments) == 0 {
		t.Fatalf("match answer: %v %s", err, body)
	}
	if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/match/%d", m.ID) {
		t.Fatalf("saved proposal's Location: %q", loc)
	}
	if resp, body := f.do(t, "GET", resp.Header.Get("Location"), pl, ""); resp.StatusCode != 200 || !strings.Contains(body, `"cost_version":1`) {
		t.Fatalf("GET Location: %d %s", resp.StatusCode, body)
	}
	var total float64
	for _, a := range m.Proposal.Assignments {
		total += a.Households
		if a.Reason == "" {
			t.Fatalf("assignment without a reason: %s", body)
		}
	}
	if total > 30+1e-6 {
		t.Fatalf("30 stunting households, %v assigned", total)
	}
	resp, body = f.do(t, "POST", fmt.Sprintf("/api/v1/match/%d/accept", m.ID), pl, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"plans_created":`) {
		t.Fatalf("accept: %d %s", resp.StatusCode, body)
	}
	// the company sees its own plans in full and PT Lain's without money
	resp, body = f.do(t, "GET", "/api/v1/plans?year=2026", co, "")
	var ps struct {
		Plans []struct {
			CompanyID int64  `json:"company_id"`
			Budget    *int64 `json:"budget"`
			Status    string
		}
	}
	if err := json.Unmarshal([]byte(body), &ps); err != nil || resp.StatusCode != 200 {
		t.Fatalf("plans: %d %s", resp.StatusCode, body)
	}
	sawOther := false
	for _, p := range ps.Plans {
		if p.CompanyID == other {
			sawOther = true
			if p.Budget != nil {
				t.Fatalf("company user sees another company's plan budget: %s", body)
			}
		} else if p.Budget == nil {
			t.Fatalf("company user misses its own plan budget: %s", body)
		}
	}
	if !sawOther {
		t.Fatalf("PT Lain (3 km reach, 987 M) should have got a plan from the proposal: %s", body)
	}
	if resp, body := f.do(t, "GET", "/api/v1/coverage?year=2026", pl, ""); resp.StatusCode != 200 || !strings.Contains(body, `"need_households":30`) {
		t.Fatalf("coverage: %d %s", resp.StatusCode, body)
	}
}

// TestMatchCostsAPI: GET|PUT /match/costs (planner): validated, versioned, audited,
// and the next proposal records the new version.
func TestMatchCostsAPI(t *testing.T) {
	f, _, _ := companiesFixture(t)
	pl := f.tokens[geo.RolePlanner]
	resp, body := f.do(t, "GET", "/api/v1/match/costs", pl, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"kesehatan":2500000`) || !strings.Contains(body, `"version":1`) {
		t.Fatalf("GET costs: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{`{"costs":{"pariwisata":5}}`, `{"costs":{"kesehatan":-1}}`, `{"costs":{"kesehatan":0}}`,
		`{"costs":{"kesehatan":1.5}}`, `{"costs":{"kesehatan":1e300}}`, `{"costs":{}}`, `{"costs":{"kesehatan":"mahal"}}`, `[`} {
		resp, body := f.do(t, "PUT", "/api/v1/match/costs", pl, bad)
		if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Fatalf("PUT %s: %d %s", bad, resp.StatusCode, body)
		}
	}
	resp, body = f.do(t, "PUT", "/api/v1/match/costs", pl, `{"costs":{"kesehatan":1500000},"note":"harga 2026"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"changed":true`) || !strings.Contains(body, `"kesehatan":1500000`) ||
		!strings.Contains(body, `"ekonomi":4000000`) || !strings.Contains(body, `"version":2`) {
		t.Fatalf("PUT costs: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "POST", "/api/v1/match", pl, `{"mode":"sector","year":2026}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"cost_version":2`) || !strings.Contains(body, `"kesehatan":1500000`) {
		t.Fatalf("match after the change: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/audit?action=match.costs", f.tokens[geo.RoleAdmin], "")
	if resp.StatusCode != 200 || !strings.Contains(body, "match_cost_version:2") {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
}
