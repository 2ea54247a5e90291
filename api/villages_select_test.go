package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func TestSelectVillagesRoute(t *testing.T) {
	f := newFixture(t)
	const path = "/api/v1/villages/select"
	// The fixture's one village covers 107–107.01 E, 6.19–6.2 S.
	inside := `{"type":"Polygon","coordinates":[[[107.002,-6.198],[107.02,-6.198],[107.02,-6.18],[107.002,-6.18],[107.002,-6.198]]]}`
	for _, r := range []geo.Role{geo.RolePlanner, geo.RoleGIS} {
		resp, body := f.do(t, "POST", path, f.tokens[r], inside)
		var out struct {
			Count    int                   `json:"count"`
			Villages []geo.SelectedVillage `json:"villages"`
		}
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || out.Count != 1 ||
			out.Villages[0].Code != "99.01.01.2001" || out.Villages[0].Name != "Sukamaju" {
			t.Fatalf("%s: %d %s", r, resp.StatusCode, body)
		}
	}
	// A Feature carrying the polygon works too; an area elsewhere selects nothing.
	if resp, body := f.do(t, "POST", path, f.tokens[geo.RolePlanner], `{"type":"Feature","properties":{},"geometry":`+inside+`}`); resp.StatusCode != 200 || !strings.Contains(body, `"count":1`) {
		t.Errorf("feature: %d %s", resp.StatusCode, body)
	}
	far := `{"type":"MultiPolygon","coordinates":[[[[108,-7],[108.1,-7],[108.1,-6.9],[108,-7]]]]}`
	if resp, body := f.do(t, "POST", path, f.tokens[geo.RolePlanner], far); resp.StatusCode != 200 || !strings.Contains(body, `"villages":[]`) {
		t.Errorf("far away: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not json", `{"type":`, "not GeoJSON"},
		{"point", `{"type":"Point","coordinates":[107,-6.2]}`, "want Polygon or MultiPolygon"},
		{"open ring", `{"type":"Polygon","coordinates":[[[107,-6.2],[107.1,-6.2],[107.1,-6.1],[107,-6.1]]]}`, "not closed"},
		{"range", `{"type":"Polygon","coordinates":[[[107,-6.2],[207,-6.2],[107.1,-6.1],[107,-6.2]]]}`, "out of range"},
		{"no coordinates", `{"type":"Polygon"}`, "unreadable GeoJSON"},
	} {
		resp, body := f.do(t, "POST", path, f.tokens[geo.RolePlanner], tc.body)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %.300s", tc.name, resp.StatusCode, body)
		}
	}
	huge := `{"type":"Polygon","coordinates":[[` + strings.Repeat(`[107.000001,-6.200001],`, 100000) + `[107,-6.2]]]}`
	if resp, body := f.do(t, "POST", path, f.tokens[geo.RolePlanner], huge); resp.StatusCode != 413 {
		t.Errorf("a 2.3 MB area: %d %.300s", resp.StatusCode, body)
	}
	many := `{"type":"Polygon","coordinates":[[` + strings.Repeat(`[107.000001,-6.200001],`, 10001) + `[107.000001,-6.200001]]]}`
	if resp, body := f.do(t, "POST", path, f.tokens[geo.RolePlanner], many); resp.StatusCode != 422 || !strings.Contains(body, "too many vertices") {
		t.Errorf("10002 vertices: %d %.300s", resp.StatusCode, body)
	}
}
