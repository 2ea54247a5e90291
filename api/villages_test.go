package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/xuri/excelize/v2"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// Four villages: 2001, 2002, 2003 in kecamatan 99.01.01, 2004 in 99.01.02, with
// (households, in need) = (40, 10), (12, 3), (60, 20), (30, 7). Every in-need
// household is stunting-deprived only.
var scoreVillages = []struct {
	code        string
	n, needy    int
	x0, y0      float64
	kec, kecNam string
}{
	{"99.01.01.2001", 40, 10, 107.00, -6.19, "99.01.01", "Satu"},
	{"99.01.01.2002", 12, 3, 107.01, -6.19, "99.01.01", "Satu"},
	{"99.01.01.2003", 60, 20, 107.00, -6.20, "99.01.01", "Satu"},
	{"99.01.02.2004", 30, 7, 107.01, -6.20, "99.01.02", "Dua"},
}

func scoredFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	var feats []geo.BoundaryFeature
	for _, v := range scoreVillages {
		ring := orb.Ring{{v.x0, v.y0}, {v.x0 + 0.01, v.y0}, {v.x0 + 0.01, v.y0 + 0.01}, {v.x0, v.y0 + 0.01}, {v.x0, v.y0}}
		feats = append(feats, geo.BoundaryFeature{Code: v.code, Name: "Desa " + v.code[9:], KecCode: v.kec, KecName: v.kecNam,
			Kind: "desa", Geom: orb.MultiPolygon{{ring}}})
	}
	id, err := f.owner.CreateBoundarySet(ctx, geo.LevelDesa, "t4", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	var recs []geo.HouseholdRecord
	for _, v := range scoreVillages {
		for i := range v.n {
			recs = append(recs, geo.HouseholdRecord{ExternalID: fmt.Sprintf("%s-%d", v.code, i),
				Lon: v.x0 + 0.001 + 0.008*float64(i)/float64(v.n), Lat: v.y0 + 0.005, Members: 4, ChildrenU5: 1,
				Stunted: map[bool]int{true: 1}[i < v.needy]})
		}
	}
	i := 0
	if _, err := f.owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "t.csv"},
		func() (geo.HouseholdRecord, bool, error) {
			if i == len(recs) {
				return geo.HouseholdRecord{}, false, nil
			}
			i++
			return recs[i-1], true, nil
		}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.RecomputeScores(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	return f
}

type rankingBody struct {
	Run            int64  `json:"run"`
	Stale          bool   `json:"stale"`
	Period         string `json:"period"`
	WeightsVersion int64  `json:"weights_version"`
	BoundarySet    int64  `json:"boundary_set"`
	Disclosure     string `json:"disclosure"`
	Total, Count   int
	Villages       []struct {
		Code  string         `json:"code"`
		Name  string         `json:"name"`
		Score map[string]any `json:"score"`
	}
}

func (f *fixture) ranking(t *testing.T, role geo.Role, query string) rankingBody {
	t.Helper()
	resp, body := f.do(t, "GET", "/api/v1/villages?"+query, f.tokens[role], "")
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %s", role, query, resp.StatusCode, body)
	}
	var rb rankingBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil {
		t.Fatal(err)
	}
	return rb
}

func TestVillagesRankingAPI(t *testing.T) {
	f := scoredFixture(t)
	rb := f.ranking(t, geo.RolePlanner, "")
	if rb.Period != "2026" || rb.WeightsVersion == 0 || rb.BoundarySet == 0 || rb.Disclosure != "exact" || rb.Total != 4 {
		t.Fatalf("ranking meta: %+v", rb)
	}
	// Default order: M0 smoothed, descending; 2003 (20/60) leads.
	if rb.Villages[0].Code != "99.01.01.2003" || rb.Villages[0].Score["rank"] != 1.0 || rb.Villages[0].Score["in_need"] != 20.0 {
		t.Fatalf("first village %+v", rb.Villages[0])
	}
	rb = f.ranking(t, geo.RolePlanner, "sort=volume&kecamatan=Satu&limit=2&offset=1")
	if rb.Total != 3 || rb.Count != 2 || rb.Villages[0].Code != "99.01.01.2001" || rb.Villages[1].Code != "99.01.01.2002" {
		t.Fatalf("sort=volume, kecamatan, page: %+v", rb)
	}
	rb = f.ranking(t, geo.RolePlanner, "sort=sector:health&kecamatan=99.01.02")
	if rb.Total != 1 || rb.Villages[0].Code != "99.01.02.2004" {
		t.Fatalf("kecamatan by code: %+v", rb)
	}
	if resp, body := f.do(t, "GET", "/api/v1/villages?sort=nonsense", f.tokens[geo.RolePlanner], ""); resp.StatusCode != 400 ||
		!strings.Contains(body, "sort") {
		t.Fatalf("bad sort: %d %s", resp.StatusCode, body)
	}
	// GeoJSON keeps the map's properties and adds scores.
	resp, body := f.do(t, "GET", "/api/v1/villages?format=geojson", f.tokens[geo.RolePlanner], "")
	var fc struct {
		Type     string
		Features []struct {
			Geometry   map[string]any
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(body), &fc); err != nil || resp.StatusCode != 200 || len(fc.Features) != 4 {
		t.Fatalf("geojson %d %.300s %v", resp.StatusCode, body, err)
	}
	for _, k := range []string{"code", "name", "kecamatan_code", "kecamatan_name", "kind", "area_km2", "m0_eb", "rank", "hotspot", "sector_kesehatan"} {
		if _, ok := fc.Features[0].Properties[k]; !ok {
			t.Errorf("geojson property %s missing: %v", k, fc.Features[0].Properties)
		}
	}
	if fc.Features[0].Geometry["type"] != "MultiPolygon" {
		t.Errorf("geometry %v", fc.Features[0].Geometry)
	}
	// CSV for Indonesian Excel: BOM, semicolons, decimal comma; controlled by default.
	resp, body = f.do(t, "GET", "/api/v1/villages?format=csv&sort=code", f.tokens[geo.RolePlanner], "")
	lines := strings.Split(body, "\r\n")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "\ufeffKode desa") || len(lines) < 5 ||
		!strings.HasPrefix(lines[2], "99.01.01.2002;") || !strings.Contains(lines[2], ";<5;") {
		t.Fatalf("csv %d:\n%.600s", resp.StatusCode, body)
	}
	if !strings.Contains(lines[1], ";0,") {
		t.Errorf("csv numbers should use a decimal comma: %s", lines[1])
	}
	_, body = f.do(t, "GET", "/api/v1/villages?format=csv&sort=code&exact=true", f.tokens[geo.RolePlanner], "")
	if strings.Contains(strings.Split(body, "\r\n")[2], "<5") {
		t.Errorf("exact export still suppressed: %s", strings.Split(body, "\r\n")[2])
	}
	// XLSX opens, numbers are numbers, "<5" is text.
	resp, body = f.do(t, "GET", "/api/v1/villages?format=xlsx&sort=code", f.tokens[geo.RolePlanner], "")
	x, err := excelize.OpenReader(bytes.NewReader([]byte(body)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("xlsx: %d %v", resp.StatusCode, err)
	}
	rows, _ := x.GetRows("Peringkat")
	if len(rows) != 5 || rows[1][0] != "99.01.01.2001" || rows[2][9] != "<5" {
		t.Fatalf("xlsx rows %v", rows)
	}
	if typ, _ := x.GetCellType("Peringkat", "I2"); typ == excelize.CellTypeInlineString || typ == excelize.CellTypeSharedString {
		t.Errorf("household count stored as text")
	}
}

// TestCompanyViewDisclosure tries to recover the suppressed in-need count of
// village 2002 (exact 3) from everything a company can read.
func TestCompanyViewDisclosure(t *testing.T) {
	f := scoredFixture(t)
	if resp, _ := f.do(t, "GET", "/api/v1/villages?exact=true", f.tokens[geo.RoleCompany], ""); resp.StatusCode != 403 {
		t.Fatalf("company asking for exact numbers: %d", resp.StatusCode)
	}
	rb := f.ranking(t, geo.RoleCompany, "sort=code")
	if rb.Disclosure != "controlled" {
		t.Fatalf("company disclosure %q", rb.Disclosure)
	}
	shown := map[string]any{}
	for _, v := range rb.Villages {
		shown[v.Code] = v.Score["in_need"]
		for _, k := range []string{"households", "in_need"} {
			switch c := v.Score[k].(type) {
			case string:
				if c != "<5" {
					t.Errorf("%s %s = %q", v.Code, k, c)
				}
			case float64:
				if int(c)%5 != 0 {
					t.Errorf("%s %s = %v, not a multiple of 5", v.Code, k, c)
				}
			}
		}
	}
	if shown["99.01.01.2002"] != "<5" || shown["99.01.01.2001"] != 10.0 || shown["99.01.02.2004"] != 5.0 {
		t.Fatalf("shown in-need counts %v", shown)
	}
	y := rb.Villages[1].Score
	if y["h"] != nil || y["m0"] != nil || y["density"] != nil || y["m0_eb"] != nil {
		t.Errorf("values derived from a suppressed count are shown: %v", y)
	}
	if z := rb.Villages[0].Score; z["h"] != 10.0/40 {
		t.Errorf("H of 2001 = %v, want shown 10/40", z["h"])
	}
	// The attack: kecamatan total minus the other villages' shown counts.
	resp, body := f.do(t, "GET", "/api/v1/villages/99.01.01.2002", f.tokens[geo.RoleCompany], "")
	if resp.StatusCode != 200 {
		t.Fatalf("detail: %d %s", resp.StatusCode, body)
	}
	var d struct {
		Kecamatan, Regency struct {
			InNeed             any  `json:"in_need"`
			Households         any  `json:"households"`
			H                  any  `json:"h"`
			IncludesSuppressed bool `json:"includes_suppressed"`
		}
	}
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	kecTotal, _ := d.Kecamatan.InNeed.(float64)
	regTotal, _ := d.Regency.InNeed.(float64)
	if got := kecTotal - 10 - 20; got == 3 || !d.Kecamatan.IncludesSuppressed {
		t.Fatalf("kecamatan total %v − shown others recovers the suppressed count (%v)", kecTotal, got)
	}
	if got := regTotal - 10 - 20 - 5; got == 3 {
		t.Fatalf("regency total %v recovers the suppressed count", regTotal)
	}
	// The rate of the kecamatan is derived from shown totals, not exact ones: exact
	// would be 33/112; shown is (10 + 20)/(40 + 10 + 60) = 30/110.
	if h, _ := d.Kecamatan.H.(float64); h < 0.27272727 || h > 0.27272728 {
		t.Fatalf("kecamatan H %v, want 30/110 from shown counts", d.Kecamatan.H)
	}
	// Nothing in the body carries the exact numbers of 2002.
	if regexp.MustCompile(`"(in_need|stunting|stunted_children)":3[,}]|"households":12[,}]`).MatchString(body) {
		t.Fatalf("exact counts leak: %s", body)
	}
	// The planner sees them.
	_, body = f.do(t, "GET", "/api/v1/villages/99.01.01.2002", f.tokens[geo.RolePlanner], "")
	if !strings.Contains(body, `"in_need":3,`) || !strings.Contains(body, `"neighbours":[{`) || !strings.Contains(body, `"trend":[{"a`) &&
		!strings.Contains(body, `"period":"2026"`) {
		t.Fatalf("planner detail: %.800s", body)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/villages/99.99.99.9999", f.tokens[geo.RolePlanner], ""); resp.StatusCode != 404 {
		t.Fatalf("unknown village: %d", resp.StatusCode)
	}
}

func TestWeightsAPI(t *testing.T) {
	f := scoredFixture(t)
	before := f.ranking(t, geo.RolePlanner, "")
	for _, r := range []geo.Role{geo.RoleCompany, geo.RoleGIS, geo.RoleAdmin} {
		if resp, _ := f.do(t, "PUT", "/api/v1/weights", f.tokens[r], `{"k":0.5}`); resp.StatusCode != 403 {
			t.Errorf("%s PUT weights: %d", r, resp.StatusCode)
		}
	}
	if resp, body := f.do(t, "PUT", "/api/v1/weights", f.tokens[geo.RolePlanner], `{"indicators":{"literacy":1}}`); resp.StatusCode != 400 ||
		!strings.Contains(body, "literacy") {
		t.Fatalf("bad weights: %d %s", resp.StatusCode, body)
	}
	resp, body := f.do(t, "PUT", "/api/v1/weights", f.tokens[geo.RolePlanner],
		`{"indicators":{"stunting":2,"extreme_poverty":1,"unemployment":1},"k":0.4,"note":"uji"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"recompute":[{`) {
		t.Fatalf("PUT weights: %d %s", resp.StatusCode, body)
	}
	after := f.ranking(t, geo.RolePlanner, "")
	if after.WeightsVersion <= before.WeightsVersion {
		t.Fatalf("ranking still names weights %d after the change (was %d)", after.WeightsVersion, before.WeightsVersion)
	}
	resp, body = f.do(t, "GET", "/api/v1/weights", f.tokens[geo.RolePlanner], "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"note":"uji"`) || !strings.Contains(body, `"k":0.4`) {
		t.Fatalf("GET weights: %d %.500s", resp.StatusCode, body)
	}
}

func TestPrioritiesAPI(t *testing.T) {
	f := scoredFixture(t)
	post := func(body string) (int, string) {
		resp, out := f.do(t, "POST", "/api/v1/priorities", f.tokens[geo.RolePlanner], body)
		return resp.StatusCode, out
	}
	code, out := post(`{"name":"Lokus stunting","year":2026,"items":[{"code":"99.01.01.2003","note":"utama"},{"code":"99.01.01.2002"}]}`)
	if code != 201 || !strings.Contains(out, `"version":1`) {
		t.Fatalf("create: %d %s", code, out)
	}
	code, out = post(`{"name":"Lokus stunting","year":2026,"items":[{"code":"99.01.01.2002"}]}`)
	if code != 201 || !strings.Contains(out, `"version":2`) || !strings.Contains(out, `"versions":2`) {
		t.Fatalf("new version: %d %s", code, out)
	}
	if code, out := post(`{"name":"x","year":2026,"items":[{"code":"32.16.99.9999"}]}`); code != 400 || !strings.Contains(out, "32.16.99.9999") {
		t.Fatalf("unknown code: %d %s", code, out)
	}
	resp, out := f.do(t, "GET", "/api/v1/priorities?year=2026", f.tokens[geo.RolePlanner], "")
	if resp.StatusCode != 200 || strings.Count(out, `"code":`) != 1 {
		t.Fatalf("list: %d %s", resp.StatusCode, out)
	}
	var lists struct{ Lists []geo.PriorityList }
	_ = json.Unmarshal([]byte(out), &lists)
	resp, out = f.do(t, "GET", "/api/v1/priorities?id="+url.QueryEscape(fmt.Sprint(lists.Lists[0].ID))+"&version=1", f.tokens[geo.RolePlanner], "")
	if resp.StatusCode != 200 || !strings.Contains(out, `"note":"utama"`) {
		t.Fatalf("old version kept: %d %s", resp.StatusCode, out)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/priorities", f.tokens[geo.RoleCompany], ""); resp.StatusCode != 403 {
		t.Fatalf("company reading priorities: %d", resp.StatusCode)
	}
}

// TestHouseholdImportRecomputesScoresAPI: a register uploaded through the API
// recomputes the scores, so the ranking (exact and the company's controlled view,
// which is cached per run) names a new run with the new households.
func TestHouseholdImportRecomputesScoresAPI(t *testing.T) {
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("cd", 32))
	f := scoredFixture(t)
	before := f.ranking(t, geo.RolePlanner, "kecamatan=Satu&sort=volume")
	company := f.ranking(t, geo.RoleCompany, "kecamatan=Satu&sort=volume")
	inNeed := func(rb rankingBody, code string) any {
		for _, v := range rb.Villages {
			if v.Code == code {
				return v.Score["in_need"]
			}
		}
		t.Fatalf("village %s missing from %+v", code, rb)
		return nil
	}
	if before.Run == 0 || before.Stale || inNeed(before, "99.01.01.2001") != 10.0 || inNeed(company, "99.01.01.2001") != 10.0 {
		t.Fatalf("before the upload: run %d stale %v, in need %v (company %v)", before.Run, before.Stale,
			inNeed(before, "99.01.01.2001"), inNeed(company, "99.01.01.2001"))
	}
	csv := "id_keluarga,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,penganggur\n"
	for i := range 6 {
		csv += fmt.Sprintf("N%d,99.01.01.2001,107.00%d,-6.185,4,1,1,0,0\n", i, i+2)
	}
	code, body := f.upload(t, f.tokens[geo.RoleGIS], "baru.csv", csv, map[string]string{"register": "survey", "period": "2026"})
	if code != 200 || !strings.Contains(body, `"inserted":6`) {
		t.Fatalf("upload: %d %s", code, body)
	}
	after := f.ranking(t, geo.RolePlanner, "kecamatan=Satu&sort=volume")
	if after.Run <= before.Run || after.Stale || inNeed(after, "99.01.01.2001") != 16.0 {
		t.Fatalf("after the upload: run %d (before %d) stale %v, in need %v, want a new run with 16", after.Run, before.Run,
			after.Stale, inNeed(after, "99.01.01.2001"))
	}
	// 16 rounds to 15 in the company view; a view cached for the old run would still say 10.
	if got := inNeed(f.ranking(t, geo.RoleCompany, "kecamatan=Satu&sort=volume"), "99.01.01.2001"); got != 15.0 {
		t.Fatalf("company view after the upload: in need %v, want 15", got)
	}
}
