package api_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
	"github.com/bapeda-bekasi/sinergi/static"
)

type fixture struct {
	companyID int64
	srv       *api.Server
	owner     *geo.Store
	tokens    map[geo.Role]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	f := &fixture{owner: owner, tokens: map[geo.Role]string{}}
	cid, _, err := owner.UpsertCompany(ctx, geo.Company{Key: "pt-uji", Name: "PT Uji", Sectors: []string{"kesehatan"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.companyID = cid
	for _, r := range geo.Roles {
		nu := geo.NewUser{Name: "u-" + string(r), Role: r, Password: "kata-sandi-" + string(r)}
		if r == geo.RoleCompany {
			nu.CompanyID = &cid
		}
		_, tok, err := owner.AddUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = tok
	}
	ring := orb.Ring{{107, -6.2}, {107.01, -6.2}, {107.01, -6.19}, {107, -6.19}, {107, -6.2}}
	id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "t", "test", []geo.BoundaryFeature{
		{Code: "99.01.01.2001", Name: "Sukamaju", KecCode: "99.01.01", KecName: "Uji", Kind: "desa", Geom: orb.MultiPolygon{{ring}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	f.srv = api.New(api.DefaultConfig(), web, owner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

func (f *fixture) do(t *testing.T, method, path, token, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.srv.App().Test(req, 30000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	f := newFixture(t)
	if resp, _ := f.do(t, "GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("/healthz %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "GET", "/readyz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("/readyz %d %s", resp.StatusCode, body)
	}
	f.do(t, "GET", "/api/v1/villages", "", "")
	resp, body := f.do(t, "GET", "/metrics", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `sinergi_http_requests_total{method="GET",route="/api/v1/villages",status="401"} 1`) {
		t.Fatalf("/metrics %d lacks the request counter:\n%.2000s", resp.StatusCode, body)
	}
}

func TestReadyzUnreachableDatabase(t *testing.T) {
	ctx := context.Background()
	dead, err := geo.Open(ctx, "postgres://nobody:x@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", geo.Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	srv := api.New(api.DefaultConfig(), dead, dead, slog.New(slog.NewTextHandler(io.Discard, nil)))
	resp, err := srv.App().Test(httptest.NewRequest("GET", "/readyz", nil), 20000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("/readyz with the database down: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	if resp, _ := srv.App().Test(httptest.NewRequest("GET", "/healthz", nil)); resp.StatusCode != 200 {
		t.Fatalf("/healthz must not depend on the database: %d", resp.StatusCode)
	}
}

func TestVillagesByRole(t *testing.T) {
	f := newFixture(t)
	want := map[geo.Role]int{geo.RolePlanner: 200, geo.RoleCompany: 200, geo.RoleOfficer: 200, geo.RoleGIS: 200, geo.RoleAdmin: 403}
	for role, code := range want {
		resp, body := f.do(t, "GET", "/api/v1/villages?format=geojson", f.tokens[role], "")
		if resp.StatusCode != code {
			t.Errorf("%s: status %d, want %d (%s)", role, resp.StatusCode, code, body)
		}
		if code == 200 {
			var fc struct {
				Type     string
				Features []struct{ Properties map[string]any }
			}
			if err := json.Unmarshal([]byte(body), &fc); err != nil || fc.Type != "FeatureCollection" || len(fc.Features) != 1 ||
				fc.Features[0].Properties["name"] != "Sukamaju" {
				t.Errorf("%s: body %.300s (err %v)", role, body, err)
			}
		}
	}
	for _, tok := range []string{"", "sng_nonsense", "not-even-a-token"} {
		resp, body := f.do(t, "GET", "/api/v1/villages?format=geojson", tok, "")
		if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"detail"`) {
			t.Errorf("token %q: %d %s %s", tok, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, body := f.do(t, "GET", "/api/v1/villages?format=shp", f.tokens[geo.RolePlanner], ""); resp.StatusCode != 400 {
		t.Errorf("bad format: %d %s", resp.StatusCode, body)
	}
	// A revoked token is refused from the next request on.
	if _, err := f.owner.RevokeTokens(context.Background(), "u-gis", "test"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/villages?format=geojson", f.tokens[geo.RoleGIS], ""); resp.StatusCode != 401 {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}
}

func TestAPICompressesJSON(t *testing.T) {
	f := newFixture(t)
	resp, body := f.do(t, "GET", "/api/v1/villages?format=geojson", f.tokens[geo.RolePlanner], "", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("villages with Accept-Encoding gzip: %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(plain), `"FeatureCollection"`) {
		t.Fatalf("gzip body does not decode to the layer: %v %.100s", err, plain)
	}
}

func TestConfigNamesTheRegencyOfTheData(t *testing.T) {
	f := newFixture(t)
	if _, body := f.do(t, "GET", "/api/v1/config", "", ""); !strings.Contains(body, `"regency_name":"Kabupaten Bekasi"`) {
		t.Fatalf("default regency name: %s", body)
	}
	if _, err := f.owner.SetMeta(context.Background(), geo.MetaRegencyName, "Kabupaten Sinergi Demo (99.01, data demo)"); err != nil {
		t.Fatal(err)
	}
	if _, body := f.do(t, "GET", "/api/v1/config", "", ""); !strings.Contains(body, "99.01, data demo") {
		t.Fatalf("config after the demo set its name: %s", body)
	}
}

func TestLoginCookieLogout(t *testing.T) {
	f := newFixture(t)
	resp, body := f.do(t, "POST", "/api/v1/login", "", `{"username":"u-planner","password":"salah-sekali"}`)
	if resp.StatusCode != 401 || !strings.Contains(body, "wrong username or password") {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "POST", "/api/v1/login", "", `{"username":"u-planner","password":"kata-sandi-planner"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"role":"planner"`) {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == api.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Value == "" {
		t.Fatalf("session cookie %+v", cookie)
	}
	ck := api.SessionCookie + "=" + cookie.Value
	if resp, body := f.do(t, "GET", "/api/v1/me", "", "", "Cookie", ck); resp.StatusCode != 200 || !strings.Contains(body, "u-planner") {
		t.Fatalf("/me with cookie: %d %s", resp.StatusCode, body)
	}
	// A cross-site write with the cookie is refused.
	if resp, _ := f.do(t, "POST", "/api/v1/logout", "", "", "Cookie", ck, "Origin", "https://evil.example"); resp.StatusCode != 403 {
		t.Fatalf("cross-site logout: %d, want 403", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "/api/v1/logout", "", "", "Cookie", ck); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/me", "", "", "Cookie", ck); resp.StatusCode != 401 {
		t.Fatalf("/me after logout: %d, want 401", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	var last int
	for i := 0; i < 12; i++ {
		resp, _ := f.do(t, "POST", "/api/v1/login", "", `{"username":"u-gis","password":"tebakan-`+string(rune('a'+i))+`"}`)
		last = resp.StatusCode
	}
	if last != 429 {
		t.Fatalf("12th failed login: %d, want 429", last)
	}
}

func TestUsersAdminOnly(t *testing.T) {
	f := newFixture(t)
	body := `{"name":"baru","role":"gis","password":"kata-sandi-baru"}`
	for _, r := range []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleGIS} {
		if resp, _ := f.do(t, "POST", "/api/v1/users", f.tokens[r], body); resp.StatusCode != 403 {
			t.Errorf("%s creating a user: %d, want 403", r, resp.StatusCode)
		}
		if resp, _ := f.do(t, "GET", "/api/v1/audit", f.tokens[r], ""); resp.StatusCode != 403 {
			t.Errorf("%s reading the audit log: %d, want 403", r, resp.StatusCode)
		}
	}
	resp, out := f.do(t, "POST", "/api/v1/users", f.tokens[geo.RoleAdmin], body)
	if resp.StatusCode != 201 || !strings.Contains(out, `"token":"sng_`) {
		t.Fatalf("admin creating a user: %d %s", resp.StatusCode, out)
	}
	if resp, out := f.do(t, "POST", "/api/v1/users", f.tokens[geo.RoleAdmin], body); resp.StatusCode != 409 {
		t.Fatalf("duplicate user: %d %s", resp.StatusCode, out)
	}
	if resp, out := f.do(t, "POST", "/api/v1/users", f.tokens[geo.RoleAdmin], `{"name":"x y","role":"gis"}`); resp.StatusCode != 400 {
		t.Fatalf("bad name: %d %s", resp.StatusCode, out)
	}
	resp, out = f.do(t, "GET", "/api/v1/audit?action=user.add", f.tokens[geo.RoleAdmin], "")
	if resp.StatusCode != 200 || !strings.Contains(out, `"object":"user:baru"`) {
		t.Fatalf("audit: %d %.500s", resp.StatusCode, out)
	}
	resp, out = f.do(t, "GET", "/api/v1/users", f.tokens[geo.RoleAdmin], "")
	if resp.StatusCode != 200 || strings.Contains(out, "password") || strings.Contains(out, "argon2") {
		t.Fatalf("users list leaks credentials or failed: %d %.500s", resp.StatusCode, out)
	}
}

func TestUnknownRoutesAreProblems(t *testing.T) {
	f := newFixture(t)
	for _, p := range []string{"/api/v1/nothing", "/no/such/page"} {
		resp, body := f.do(t, "GET", p, f.tokens[geo.RolePlanner], "")
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s %s", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

func TestMapPageServedCompressed(t *testing.T) {
	if !static.Built() {
		t.Skip("static/dist not built (scripts/test.sh builds it)")
	}
	f := newFixture(t)
	resp, body := f.do(t, "GET", "/", "", "", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d, Content-Encoding %q, Cache-Control %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if html, _ := io.ReadAll(zr); !strings.Contains(string(html), "app.js") {
		t.Fatalf("index.html does not load app.js: %.200s", html)
	}
}
