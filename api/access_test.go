package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// accessPolicy is DESIGN.md's privacy table written out per route: who may call
// what. It is kept by hand on purpose — the test below walks the router itself, so
// a route missing here fails the test instead of escaping it.
var accessPolicy = map[string][]geo.Role{
	"GET /healthz":                          public,
	"GET /readyz":                           public,
	"GET /metrics":                          public,
	"GET /api/openapi.json":                 public,
	"GET /api/v1/config":                    public,
	"GET /api/v1/boot":                      public,
	"POST /api/v1/login":                    public,
	"POST /api/v1/logout":                   everyone,
	"GET /api/v1/me":                        everyone,
	"GET /api/v1/users":                     {geo.RoleAdmin},
	"POST /api/v1/users":                    {geo.RoleAdmin},
	"GET /api/v1/audit":                     {geo.RoleAdmin},
	"GET /api/v1/villages":                  aggregates,
	"GET /api/v1/villages/:code":            aggregates,
	"GET /api/v1/villages/:code/households": {geo.RoleOfficer},
	"GET /api/v1/boundaries":                {geo.RolePlanner, geo.RoleGIS},
	"POST /api/v1/boundaries":               {geo.RoleGIS},
	"GET /api/v1/boundaries/active":         aggregates,
	"GET /api/v1/boundaries/:id/diff":       {geo.RolePlanner, geo.RoleGIS},
	"POST /api/v1/boundaries/:id/activate":  {geo.RoleGIS},
	"GET /api/v1/weights":                   {geo.RolePlanner},
	"PUT /api/v1/weights":                   {geo.RolePlanner},
	"GET /api/v1/priorities":                {geo.RolePlanner},
	"POST /api/v1/priorities":               {geo.RolePlanner},
	"GET /api/v1/companies":                 {geo.RolePlanner, geo.RoleCompany, geo.RoleGIS},
	"POST /api/v1/companies":                {geo.RolePlanner},
	"GET /api/v1/companies/:id":             {geo.RolePlanner, geo.RoleCompany, geo.RoleGIS},
	"PUT /api/v1/companies/:id":             {geo.RolePlanner, geo.RoleCompany},
	"DELETE /api/v1/companies/:id":          {geo.RolePlanner},
	"GET /api/v1/companies/:id/rings":       {geo.RolePlanner, geo.RoleCompany},
	"GET /api/v1/companies/:id/neighbours":  {geo.RolePlanner, geo.RoleCompany},
	"GET /api/v1/companies/:id/suggestions": {geo.RolePlanner, geo.RoleCompany},
	"GET /api/v1/plans":                     {geo.RolePlanner, geo.RoleCompany, geo.RoleGIS},
	"POST /api/v1/plans":                    {geo.RolePlanner, geo.RoleCompany},
	"POST /api/v1/plans/:id/approve":        {geo.RolePlanner},
	"POST /api/v1/plans/:id/status":         {geo.RolePlanner, geo.RoleCompany},
	"GET /api/v1/coverage":                  {geo.RolePlanner},
	"GET /api/v1/match/rules":               {geo.RolePlanner},
	"POST /api/v1/match/rules":              {geo.RolePlanner},
	"POST /api/v1/match":                    {geo.RolePlanner},
	"GET /api/v1/match/costs":               {geo.RolePlanner},
	"PUT /api/v1/match/costs":               {geo.RolePlanner},
	"GET /api/v1/match/:id":                 {geo.RolePlanner},
	"POST /api/v1/match/:id/accept":         {geo.RolePlanner},
	"POST /api/v1/households/import":        {geo.RoleGIS},
	"POST /api/v1/villages/select":          {geo.RolePlanner, geo.RoleGIS},
	"GET /api/v1/jobs/:id":                  {geo.RoleGIS, geo.RoleAdmin},
	"DELETE /api/v1/jobs/:id":               {geo.RoleGIS, geo.RoleAdmin},
	"GET /api/v1/jobs/:id/rejects.csv":      {geo.RoleGIS, geo.RoleAdmin},
	"GET /tiles/:file":                      aggregates,
	"GET /tiles/:layer/:z/:x/:y":            aggregates,
	"GET /ogc/":                             aggregates,
	"GET /ogc/conformance":                  aggregates,
	"GET /ogc/collections":                  aggregates,
	"GET /ogc/collections/:id":              aggregates,
	"GET /ogc/collections/:id/items":        aggregates,
	"GET /ogc/collections/:id/items/:fid":   aggregates,
}

var (
	public     = []geo.Role(nil)
	everyone   = []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS, geo.RoleAdmin}
	aggregates = []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS}
)

// layerPolicy is who may read each tile/OGC layer.
var layerPolicy = map[string][]geo.Role{
	"desa":      aggregates,
	"kecamatan": aggregates,
	"companies": aggregates,
	"need":      {geo.RolePlanner, geo.RoleGIS},
	"plans":     {geo.RolePlanner, geo.RoleCompany},
}

// samplePath fills a route's parameters with values that exist (codes) or do not
// (ids), so allowed calls change nothing.
func samplePath(p string) string {
	r := strings.NewReplacer(":code", "99.01.01.2001", ":id", "999999", ":fid", "99.01.01.2001",
		":file", "desa.json", ":layer/:z/:x/:y", "desa/12/3264/2118.geojson")
	return r.Replace(p)
}

func TestAccessMatrixFromRouter(t *testing.T) {
	f := newFixture(t)
	seen := map[string]bool{}
	for _, rt := range f.srv.App().GetRoutes(true) {
		if rt.Method == http.MethodHead || rt.Method == "USE" || strings.Contains(rt.Path, "*") {
			continue
		}
		key := rt.Method + " " + rt.Path
		if rt.Path == "/" && rt.Method == http.MethodGet {
			continue // the map page
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		allowed, ok := accessPolicy[key]
		if !ok {
			t.Errorf("route %s has no entry in accessPolicy: decide who may call it (DESIGN.md privacy table)", key)
			continue
		}
		path := samplePath(rt.Path)
		body := ""
		if rt.Method != http.MethodGet && rt.Method != http.MethodDelete {
			body = "{}"
		}
		t.Run(key, func(t *testing.T) {
			if allowed == nil {
				if resp, b := f.do(t, rt.Method, path, "", body); resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 {
					t.Errorf("public route without a token: %d %.200s", resp.StatusCode, b)
				}
				return
			}
			if resp, b := f.do(t, rt.Method, path, "", body); resp.StatusCode != 401 {
				t.Errorf("no token: %d, want 401 (%.200s)", resp.StatusCode, b)
			}
			if resp, _ := f.do(t, rt.Method, path, "sng_forged-token-that-was-never-issued", body); resp.StatusCode != 401 {
				t.Errorf("forged token: %d, want 401", resp.StatusCode)
			}
			for _, role := range geo.Roles {
				p := path
				if role == geo.RoleCompany && strings.HasPrefix(rt.Path, "/api/v1/companies/:id") {
					// A company user acts on its own company.
					p = strings.Replace(samplePath(strings.Replace(rt.Path, ":id", fmt.Sprint(f.companyID), 1)), "999999", "1", 0)
				}
				resp, b := f.do(t, rt.Method, p, f.tokens[role], body)
				switch {
				case slices.Contains(allowed, role) && (resp.StatusCode == 401 || resp.StatusCode == 403):
					t.Errorf("%s is allowed but got %d: %.200s", role, resp.StatusCode, b)
				case !slices.Contains(allowed, role) && resp.StatusCode != 403:
					t.Errorf("%s must be refused with 403, got %d: %.200s", role, resp.StatusCode, b)
				case resp.StatusCode >= 500:
					t.Errorf("%s: server error %d: %.300s", role, resp.StatusCode, b)
				}
			}
		})
	}
	for key := range accessPolicy {
		if !seen[key] {
			t.Errorf("accessPolicy lists %s, which the router does not have", key)
		}
	}
}

func TestLayerAccessByRole(t *testing.T) {
	f := newFixture(t)
	for layer, allowed := range layerPolicy {
		for _, role := range geo.Roles {
			for _, path := range []string{
				fmt.Sprintf("/tiles/%s/12/3264/2118.geojson", layer),
				fmt.Sprintf("/tiles/%s/12/3264/2118.mvt", layer),
				fmt.Sprintf("/tiles/%s.json", layer),
				fmt.Sprintf("/ogc/collections/%s/items?limit=5", layer),
			} {
				resp, b := f.do(t, "GET", path, f.tokens[role], "")
				ok := slices.Contains(allowed, role)
				if ok && resp.StatusCode != 200 && resp.StatusCode != 204 {
					t.Errorf("%s %s: %d, want 200 (%.200s)", role, path, resp.StatusCode, b)
				}
				if !ok && resp.StatusCode != 403 && resp.StatusCode != 404 {
					t.Errorf("%s %s: %d, want 403 (%.200s)", role, path, resp.StatusCode, b)
				}
			}
		}
	}
}
