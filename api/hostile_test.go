package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// hostileValues are query-parameter and path values an attacker or a broken
// client sends: SQL injection, oversized, out-of-range numbers, NaN/Inf, bytes.
var hostileValues = []string{
	"' OR 1=1--",
	"'; DROP TABLE household;--",
	"1; DELETE FROM company",
	strings.Repeat("A", 3000), // long; 100 KB values go in bodies (a URL that long is refused before routing)
	"1e309", "-1e309", "-1", "0", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
	"99999999999999999999999", "NaN", "Inf", "-Inf", "+Inf", "0x10", "1.5", " 1", "\x00", "%00", "\u202e",
	"[]", "{}", "null", "true", "é", "\xff\xfe",
}

// hostileTables are counted before and after the sweep: nothing may change.
var hostileTables = []string{"household", "company", "plan", "app_user", "boundary_set", "village",
	"weights_version", "priority_list", "priority_list_version", "match_rule", "match_proposal", "api_token"}

func tableCounts(t *testing.T, f *fixture) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range hostileTables {
		var n int64
		if err := f.owner.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+tb).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}

// checkProblem fails when a response is a 5xx, or a 4xx that is not a
// problem+json document with a detail.
func checkProblem(t *testing.T, what string, status int, ctype, body string, want4xx bool) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: %d (server error): %.300s", what, status, body)
		return
	}
	if want4xx && (status < 400 || status > 499) {
		t.Errorf("%s: %d, want 4xx: %.300s", what, status, body)
		return
	}
	if status >= 400 {
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if !strings.HasPrefix(ctype, "application/problem+json") {
			t.Errorf("%s: %d with Content-Type %q, want application/problem+json: %.300s", what, status, ctype, body)
			return
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil || p.Detail == "" || p.Status != status {
			t.Errorf("%s: %d problem without a detail (or wrong status %d): %.300s", what, status, p.Status, body)
		}
	}
}

// TestHostileQueryParameters sends every hostile value in every query parameter
// the GET routes read: never a 5xx, a refusal is a problem with a detail, the
// values the handlers range-check are refused, and nothing in the database changes.
func TestHostileQueryParameters(t *testing.T) {
	f := newFixture(t)
	before := tableCounts(t, f)
	type route struct {
		path   string
		role   geo.Role
		params []string
		// strict lists the parameters whose every hostile value must be refused
		// (the value is never meaningful, e.g. a number out of range or not one).
		strict map[string]bool
	}
	numeric := map[string]bool{}
	routes := []route{
		{"/api/v1/villages", geo.RolePlanner, []string{"sort", "kecamatan", "limit", "offset", "format", "period", "hotspot", "exact"}, map[string]bool{"sort": true, "format": true}},
		{"/api/v1/villages/99.01.01.2001", geo.RolePlanner, []string{"period", "exact"}, numeric},
		{"/api/v1/villages/99.01.01.2001", geo.RoleCompany, []string{"period", "exact"}, numeric},
		{"/api/v1/audit", geo.RoleAdmin, []string{"action", "actor", "limit", "since"}, map[string]bool{"since": true}},
		{"/api/v1/coverage", geo.RolePlanner, []string{"year"}, numeric},
		{"/api/v1/plans", geo.RolePlanner, []string{"year", "village", "status", "company"}, numeric},
		{"/api/v1/plans", geo.RoleCompany, []string{"year", "village", "status", "company"}, numeric},
		{"/api/v1/priorities", geo.RolePlanner, []string{"id", "version", "year"}, numeric},
		{"/api/v1/match/rules", geo.RolePlanner, []string{"year"}, numeric},
		{"/api/v1/weights", geo.RolePlanner, []string{"limit"}, numeric},
		{"/api/v1/boundaries/active", geo.RoleGIS, []string{"level", "format"}, numeric},
		{"/api/v1/companies", geo.RolePlanner, []string{"q", "limit"}, numeric},
		{fmt.Sprintf("/api/v1/companies/%d/neighbours", f.companyID), geo.RolePlanner, []string{"within_km"}, numeric},
		{fmt.Sprintf("/api/v1/companies/%d/suggestions", f.companyID), geo.RolePlanner, []string{"year"}, numeric},
		{fmt.Sprintf("/api/v1/companies/%d/rings", f.companyID), geo.RoleCompany, []string{"year"}, numeric},
		{"/api/v1/villages/99.01.01.2001/households", geo.RoleOfficer, []string{"purpose", "register", "period"}, numeric},
		{"/ogc/collections/villages/items", geo.RolePlanner, []string{"bbox", "limit", "offset", "properties"}, map[string]bool{"bbox": true, "limit": true, "offset": true}},
		{"/ogc/collections/need/items", geo.RolePlanner, []string{"bbox", "limit"}, map[string]bool{"bbox": true, "limit": true}},
	}
	// Values that happen to be valid for a strict parameter.
	validFor := map[string]map[string]bool{
		"offset": {"0": true, "9223372036854775807": false},
		"limit":  {},
	}
	for _, r := range routes {
		for _, p := range r.params {
			for _, v := range hostileValues {
				path := r.path + "?" + url.Values{p: {v}}.Encode()
				resp, body := f.do(t, "GET", path, f.tokens[r.role], "")
				strict := r.strict[p] && !validFor[p][v]
				checkProblem(t, fmt.Sprintf("GET %s as %s (%s=%.40q)", r.path, r.role, p, v), resp.StatusCode,
					resp.Header.Get("Content-Type"), body, strict)
			}
		}
	}
	if after := tableCounts(t, f); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("row counts changed:\nbefore %v\nafter  %v", before, after)
	}
}

// TestHostilePaths puts hostile values in path parameters (ids, codes, tile
// addresses): always a 4xx problem (or an honest 404), never a 5xx.
func TestHostilePaths(t *testing.T) {
	f := newFixture(t)
	before := tableCounts(t, f)
	type route struct {
		method, pattern string
		role            geo.Role
	}
	routes := []route{
		{"GET", "/api/v1/villages/%s", geo.RolePlanner},
		{"GET", "/api/v1/villages/%s/households", geo.RoleOfficer},
		{"GET", "/api/v1/companies/%s", geo.RolePlanner},
		{"GET", "/api/v1/companies/%s/rings", geo.RolePlanner},
		{"GET", "/api/v1/companies/%s/neighbours", geo.RolePlanner},
		{"GET", "/api/v1/companies/%s/suggestions", geo.RolePlanner},
		{"DELETE", "/api/v1/companies/%s", geo.RolePlanner},
		{"GET", "/api/v1/boundaries/%s/diff", geo.RoleGIS},
		{"POST", "/api/v1/boundaries/%s/activate", geo.RoleGIS},
		{"POST", "/api/v1/plans/%s/approve", geo.RolePlanner},
		{"GET", "/api/v1/match/%s", geo.RolePlanner},
		{"POST", "/api/v1/match/%s/accept", geo.RolePlanner},
		{"GET", "/tiles/villages/%s/1/1.mvt", geo.RolePlanner},
		{"GET", "/tiles/villages/12/%s/1.mvt", geo.RolePlanner},
		{"GET", "/tiles/villages/12/1/%s.geojson", geo.RolePlanner},
		{"GET", "/tiles/villages/12/1/1.%s", geo.RolePlanner},
		{"GET", "/tiles/%s/12/1/1.mvt", geo.RolePlanner},
		{"GET", "/tiles/%s", geo.RolePlanner},
		{"GET", "/ogc/collections/%s", geo.RolePlanner},
		{"GET", "/ogc/collections/%s/items", geo.RolePlanner},
		{"GET", "/ogc/collections/villages/items/%s", geo.RolePlanner},
	}
	for _, r := range routes {
		for _, v := range hostileValues {
			if v == "0" || v == "-1" {
				// Plain numbers are ordinary addresses for some of these routes.
				continue
			}
			path := fmt.Sprintf(r.pattern, url.PathEscape(v))
			resp, body := f.do(t, r.method, path, f.tokens[r.role], "")
			checkProblem(t, fmt.Sprintf("%s %s as %s (%.40q)", r.method, r.pattern, r.role, v), resp.StatusCode,
				resp.Header.Get("Content-Type"), body, true)
		}
	}
	if after := tableCounts(t, f); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("row counts changed:\nbefore %v\nafter  %v", before, after)
	}
}

// hostileBodies are JSON bodies no route may accept: malformed, wrong types,
// huge or non-finite numbers, deep nesting, a 100 KB string where a short one belongs.
func hostileBodies(fields map[string]string) []string {
	big := strings.Repeat("x", 100<<10)
	out := []string{
		`{`, `}`, `[]`, `null`, `"x"`, `42`, `{"a":1,}`, `{"a":NaN}`, `{"a":Infinity}`, `{'a':1}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"` + big + `":1}`,
		"\xff\xfe{}",
	}
	for name, kind := range fields {
		bad := []string{`{"` + name + `":1e309}`, `{"` + name + `":[1,2]}`, `{"` + name + `":{"$gt":""}}`}
		switch kind {
		case "int":
			bad = append(bad, `{"`+name+`":"1"}`, `{"`+name+`":9223372036854775808}`, `{"`+name+`":1.5}`, `{"`+name+`":"' OR 1=1--"}`)
		case "string":
			bad = append(bad, `{"`+name+`":1}`, `{"`+name+`":true}`)
		}
		out = append(out, bad...)
	}
	return out
}

// TestHostileBodies posts hostile JSON to every POST/PUT route, and values that
// parse but are wrong (SQL injection in codes, oversized strings, out-of-range
// numbers, giant coordinates): every one is a 4xx problem and nothing changes.
func TestHostileBodies(t *testing.T) {
	f := newFixture(t)
	before := tableCounts(t, f)
	big := strings.Repeat("x", 100<<10)
	sqlA, sqlB := `' OR 1=1--`, `'; DROP TABLE household;--`
	cid := f.companyID
	type route struct {
		method, path string
		role         geo.Role
		fields       map[string]string
		// invalid are bodies that parse but must be refused.
		invalid []string
	}
	routes := []route{
		{"POST", "/api/v1/login", "", map[string]string{"username": "string", "password": "string"}, []string{
			`{"username":"` + sqlA + `","password":"` + sqlA + `"}`,
			`{"username":"u-admin","password":"' OR '1'='1"}`,
			`{"username":"` + big + `","password":"` + big + `"}`,
		}},
		{"POST", "/api/v1/users", geo.RoleAdmin, map[string]string{"name": "string", "role": "string", "company_id": "int", "password": "string"}, []string{
			`{"name":"x","role":"` + sqlA + `","password":"kata-sandi-panjang"}`,
			`{"name":"` + sqlB + `","role":"superuser","password":"kata-sandi-panjang"}`,
			`{"name":"x","role":"company","company_id":9223372036854775807,"password":"kata-sandi-panjang"}`,
			`{"name":"x","role":"company","company_id":-1,"password":"kata-sandi-panjang"}`,
			`{"name":"","role":"planner","password":"kata-sandi-panjang"}`,
			`{"name":"` + big + `","role":"planner","password":"kata-sandi-panjang"}`,
		}},
		{"POST", "/api/v1/companies", geo.RolePlanner, map[string]string{"key": "string", "name": "string", "budget_per_year": "int", "reach_km": "float"}, []string{
			`{"key":"k1","name":"PT A","sectors":["` + sqlB + `"],"budget_per_year":1}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":-1}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"reach_km":-1}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"reach_km":1e308}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"budget_by_sector":{"` + sqlA + `":1}}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"sites":{"type":"MultiPoint","coordinates":[[1e300,1e300]]}}`,
			// (orb keeps the first two members of a position and ignores the rest, so
			// [107,-6.2,"x"] is read as a valid point: lenient, not harmful.)
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"sites":{"type":"MultiPoint","coordinates":[[107,"-6.2"]]}}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"sites":{"type":"Point","coordinates":[200,-6.2]}}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"area":{"type":"Polygon","coordinates":[[[1e300,0],[0,1e300],[0,0],[1e300,0]]]}}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"area":{"type":"Polygon","coordinates":[[[0,0]]]}}`,
			`{"key":"k1","name":"PT A","sectors":["kesehatan"],"budget_per_year":1,"area":"` + sqlB + `"}`,
			`{"key":"","name":"","sectors":[],"budget_per_year":1}`,
		}},
		{"PUT", fmt.Sprintf("/api/v1/companies/%d", cid), geo.RolePlanner, map[string]string{"name": "string", "budget_per_year": "int"}, []string{
			`{"key":"pt-uji","name":"PT Uji","sectors":["` + sqlA + `"],"budget_per_year":1}`,
			`{"key":"pt-uji","name":"PT Uji","sectors":["kesehatan"],"budget_per_year":-5}`,
			`{"key":"pt-uji","name":"PT Uji","sectors":["kesehatan"],"budget_per_year":1,"reach_km":-3}`,
			`{"key":"pt-uji","name":"PT Uji","sectors":["kesehatan"],"budget_per_year":1,"sites":{"type":"Point","coordinates":[1e300,-1e300]}}`,
		}},
		{"PUT", fmt.Sprintf("/api/v1/companies/%d", cid), geo.RoleCompany, map[string]string{"budget_per_year": "int"}, nil},
		{"POST", "/api/v1/plans", geo.RolePlanner, map[string]string{"company_id": "int", "year": "int", "village_code": "string", "budget": "int"}, []string{
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"%s","sector":"kesehatan","budget":1,"target_households":1}`, cid, sqlA),
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"%s","budget":1,"target_households":1}`, cid, sqlB),
			fmt.Sprintf(`{"company_id":%d,"year":9223372036854775807,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1}`, cid),
			fmt.Sprintf(`{"company_id":%d,"year":-1,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1}`, cid),
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":-1,"target_households":1}`, cid),
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":-1}`, cid),
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1,"sites":[[1e300,-1e300]]}`, cid),
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1,"sites":[[200,100]]}`, cid),
			`{"company_id":9223372036854775807,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1}`,
			fmt.Sprintf(`{"company_id":%d,"year":2026,"village_code":"%s","sector":"kesehatan","budget":1,"target_households":1}`, cid, big),
		}},
		{"POST", "/api/v1/plans", geo.RoleCompany, map[string]string{"company_id": "int", "year": "int"}, []string{
			`{"company_id":9223372036854775807,"year":2026,"village_code":"99.01.01.2001","sector":"kesehatan","budget":1,"target_households":1}`,
		}},
		{"POST", "/api/v1/plans/1/status", geo.RolePlanner, map[string]string{"status": "string", "realised_budget": "int"}, []string{
			`{"status":"` + sqlA + `"}`, `{"status":"realised","realised_budget":-1}`,
		}},
		{"POST", "/api/v1/match", geo.RolePlanner, map[string]string{"mode": "string", "year": "int", "locus_top": "int", "max_per_cell": "int"}, []string{
			`{"mode":"` + sqlA + `","year":2026}`,
			`{"mode":"sector","year":9223372036854775807}`,
			`{"mode":"sector","year":2026,"max_per_cell":-1}`,
			`{"mode":"locus","year":2026,"locus_top":1000000}`,
			`{"mode":"sector","year":2026,"villages":["` + sqlB + `"],"save":false}`,
			`{"mode":"sector","year":2026,"villages":["` + big + `"],"save":false}`,
			`{"mode":"locus","year":2026,"priority_list_id":9223372036854775807,"save":false}`,
			`{"mode":"locus","year":2026,"priority_list_id":-1,"save":false}`,
		}},
		{"POST", "/api/v1/match/rules", geo.RolePlanner, map[string]string{"kind": "string", "company_id": "int", "village_code": "string", "year": "int"}, []string{
			fmt.Sprintf(`{"kind":"%s","company_id":%d,"village_code":"99.01.01.2001","year":2026}`, sqlA, cid),
			fmt.Sprintf(`{"kind":"pin","company_id":%d,"village_code":"%s","year":2026}`, cid, sqlB),
			fmt.Sprintf(`{"kind":"pin","company_id":%d,"village_code":"99.01.01.2001","sector":"%s","year":2026}`, cid, sqlA),
			`{"kind":"pin","company_id":9223372036854775807,"village_code":"99.01.01.2001","year":2026}`,
			fmt.Sprintf(`{"kind":"pin","company_id":%d,"village_code":"99.01.01.2001","year":-9223372036854775808}`, cid),
		}},
		{"PUT", "/api/v1/weights", geo.RolePlanner, map[string]string{"note": "string"}, []string{
			`{"indicators":{"stunting":1e309}}`, `{"indicators":{"stunting":-1}}`, `{"indicators":{"` + sqlA + `":1}}`,
			`{"indicators":{"stunting":"NaN"}}`, `{"indicators":` + `"` + sqlB + `"}`, `{"k":-1}`, `{"k":1e308}`,
			`{"sectors":{"kesehatan":{"stunting":-5}}}`, `{"sectors":{"` + sqlB + `":{"stunting":1}}}`, `{"note":"` + big + `"}`,
		}},
		{"POST", "/api/v1/priorities", geo.RolePlanner, map[string]string{"year": "int", "name": "string"}, []string{
			`{"year":2026,"villages":["` + sqlA + `"]}`, `{"year":9223372036854775807,"villages":["99.01.01.2001"]}`,
			`{"year":-1,"villages":[]}`,
		}},
		{"POST", "/api/v1/villages/select", geo.RolePlanner, nil, nil},
		{"PUT", "/api/v1/match/costs", geo.RolePlanner, nil, nil},
		{"POST", "/api/v1/households/import", geo.RoleGIS, map[string]string{"register": "string", "period": "string"}, nil},
		{"POST", "/api/v1/boundaries", geo.RoleGIS, nil, nil},
	}
	for _, r := range routes {
		bodies := append(hostileBodies(r.fields), r.invalid...)
		for _, b := range bodies {
			resp, body := f.do(t, r.method, r.path, f.tokens[r.role], b)
			checkProblem(t, fmt.Sprintf("%s %s as %q body %.200q", r.method, r.path, r.role, b), resp.StatusCode,
				resp.Header.Get("Content-Type"), body, true)
		}
	}
	if after := tableCounts(t, f); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("row counts changed:\nbefore %v\nafter  %v", before, after)
	}
}
