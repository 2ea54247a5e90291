package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/valyala/fasthttp"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// layerFixture is a server over a fresh database with one user per role and two
// company users of different companies.
type layerFixture struct {
	url    string
	owner  *geo.Store
	web    *geo.Store
	srv    *api.Server
	tokens map[string]string // role name, or "company-b"
	cids   [2]int64
}

func newLayerFixture(t *testing.T, cfg api.Config) *layerFixture {
	t.Helper()
	url, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	f := &layerFixture{url: url, owner: owner, web: web, tokens: map[string]string{}}
	area := orb.MultiPolygon{{{{107, -6.2}, {107.004, -6.2}, {107.004, -6.196}, {107, -6.196}, {107, -6.2}}}}
	for i, key := range []string{"pt-a", "pt-b"} {
		cid, _, err := owner.UpsertCompany(ctx, geo.Company{Key: key, Name: strings.ToUpper(key), Sectors: []string{"kesehatan"},
			BudgetPerYear: 123456789, Area: area}, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.cids[i] = cid
	}
	for _, r := range geo.Roles {
		nu := geo.NewUser{Name: "u-" + string(r), Role: r, Password: "kata-sandi-" + string(r)}
		if r == geo.RoleCompany {
			nu.CompanyID = &f.cids[0]
		}
		_, tok, err := owner.AddUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[string(r)] = tok
	}
	_, tok, err := owner.AddUser(ctx, geo.NewUser{Name: "u-company-b", Role: geo.RoleCompany, CompanyID: &f.cids[1], Password: "kata-sandi-b"})
	if err != nil {
		t.Fatal(err)
	}
	f.tokens["company-b"] = tok
	var logw io.Writer = io.Discard
	if os.Getenv("SINERGI_TEST_LOG") != "" {
		logw = os.Stderr
	}
	f.srv = api.New(cfg, web, owner, slog.New(slog.NewTextHandler(logw, nil)))
	return f
}

// village adds and activates a one-village desa set (a square of side d degrees).
func (f *layerFixture) village(t *testing.T, name string, d float64, activate bool) int64 {
	t.Helper()
	ring := orb.Ring{{107, -6.2}, {107 + d, -6.2}, {107 + d, -6.2 + d}, {107, -6.2 + d}, {107, -6.2}}
	id, err := f.owner.CreateBoundarySet(context.Background(), geo.LevelDesa, name, "test", []geo.BoundaryFeature{
		{Code: "99.01.01.2001", Name: name, KecCode: "99.01.01", KecName: "Uji", Kind: "desa", Geom: orb.MultiPolygon{{ring}}}})
	if err != nil {
		t.Fatal(err)
	}
	if activate {
		if err := f.owner.ActivateBoundarySet(context.Background(), id, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func (f *layerFixture) get(t *testing.T, path, who string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[who])
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.srv.App().Test(req, 60000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// tileAt is the z12 tile holding the fixture village.
var tileAt = maptile.At(orb.Point{107.001, -6.199}, 12)

func tilePath(layer string, t maptile.Tile, ext string) string {
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.%s", layer, t.Z, t.X, t.Y, ext)
}

func TestTileRequestsValidatedCachedAndNegotiated(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Sukamaju", 0.01, true)
	p := tilePath("desa", tileAt, "geojson")

	resp, body := f.get(t, p, "planner")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" || !strings.Contains(body, `"Sukamaju"`) {
		t.Fatalf("desa tile: %d %s %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") || !strings.Contains(resp.Header.Get("Vary"), "Authorization") {
		t.Fatalf("headers: ETag %q Cache-Control %q Vary %q", etag, resp.Header.Get("Cache-Control"), resp.Header.Get("Vary"))
	}
	if resp, _ := f.get(t, p, "planner", "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	for _, enc := range []string{"gzip", "br"} {
		resp, body := f.get(t, p, "planner", "Accept-Encoding", enc)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != enc || strings.Contains(body, "Sukamaju") {
			t.Errorf("Accept-Encoding %s: %d Content-Encoding %q", enc, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	}
	resp, body = f.get(t, tilePath("desa", tileAt, "mvt"), "planner")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || len(body) == 0 {
		t.Errorf("mvt: %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	// An empty tile is a valid empty answer.
	resp, body = f.get(t, "/tiles/desa/12/0/0.geojson", "planner")
	if resp.StatusCode != 200 || strings.ReplaceAll(body, " ", "") != `{"type":"FeatureCollection","features":[]}` {
		t.Errorf("empty tile: %d %q", resp.StatusCode, body)
	}
	_, metrics := f.get(t, "/metrics", "")
	if !strings.Contains(metrics, "sinergi_tile_cache_hits_total 3") {
		t.Errorf("the repeated tile should come from the cache 3 times:\n%s", grepLines(metrics, "sinergi_tile"))
	}

	bad := []struct {
		path, who string
		status    int
	}{
		{"/tiles/nope/12/1/1.geojson", "planner", 404},
		{"/tiles/desa/12/1/1.png", "planner", 400},
		{"/tiles/desa/12/1/1", "planner", 400},
		{"/tiles/desa/23/1/1.geojson", "planner", 400},
		{"/tiles/desa/17/1/1.geojson", "planner", 400}, // above the layer's max zoom
		{"/tiles/desa/3/1/1.geojson", "planner", 400},  // below its min zoom
		{"/tiles/desa/12/4096/1.geojson", "planner", 400},
		{"/tiles/desa/12/-1/1.geojson", "planner", 400},
		{"/tiles/desa/x/1/1.geojson", "planner", 400},
		{p, "", 401},
		{p, "admin", 403},
		{tilePath("need", tileAt, "geojson"), "company", 403},
		{tilePath("plans", tileAt, "geojson"), "officer", 403},
		{"/tiles/nope.json", "planner", 404},
	}
	for _, b := range bad {
		resp, body := f.get(t, b.path, b.who)
		if resp.StatusCode != b.status || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, `"detail"`) {
			t.Errorf("%s as %q: %d %s %s, want %d problem+json", b.path, b.who, resp.StatusCode, resp.Header.Get("Content-Type"), body, b.status)
		}
	}

	resp, body = f.get(t, "/tiles/desa.json", "company")
	var tj struct {
		TileJSON     string    `json:"tilejson"`
		Tiles        []string  `json:"tiles"`
		Bounds       []float64 `json:"bounds"`
		MaxZoom      int       `json:"maxzoom"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	if err := json.Unmarshal([]byte(body), &tj); err != nil || resp.StatusCode != 200 || tj.TileJSON != "3.0.0" ||
		len(tj.Tiles) != 1 || !strings.HasSuffix(tj.Tiles[0], "/tiles/desa/{z}/{x}/{y}.mvt") || len(tj.Bounds) != 4 ||
		tj.Bounds[0] < 106.99 || tj.Bounds[2] > 107.02 || tj.MaxZoom != 16 || len(tj.VectorLayers) != 1 || tj.VectorLayers[0].Fields["name"] == "" {
		t.Errorf("TileJSON: %d %s (%v)", resp.StatusCode, body, err)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPlansTilesPerCompany: two company users never share a plans tile; each
// sees its own plans in full and the other's by company, village and sector only.
func TestPlansTilesPerCompany(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Sukamaju", 0.01, true)
	ctx := context.Background()
	for i, cid := range f.cids {
		if _, err := f.owner.EnsurePlan(ctx, geo.Plan{CompanyID: cid, Year: 2026, VillageCode: "99.01.01.2001", Sector: "kesehatan",
			Budget: int64(1000000 * (i + 7)), TargetHouseholds: 40, Status: "submitted"}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	p := tilePath("plans", tileAt, "geojson")
	type plan struct {
		Properties map[string]any `json:"properties"`
	}
	read := func(who string) (map[string]map[string]any, string) {
		resp, body := f.get(t, p, who)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", who, resp.StatusCode, body)
		}
		var fc struct{ Features []plan }
		if err := json.Unmarshal([]byte(body), &fc); err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]any{}
		for _, ft := range fc.Features {
			out[ft.Properties["company"].(string)] = ft.Properties
		}
		return out, resp.Header.Get("ETag")
	}
	a, etagA := read("company")
	b, etagB := read("company-b")
	pl, _ := read("planner")
	if len(a) != 2 || len(b) != 2 || len(pl) != 2 {
		t.Fatalf("plans seen: a %v, b %v, planner %v", a, b, pl)
	}
	if a["PT-A"]["budget"] == nil || a["PT-B"]["budget"] != nil || a["PT-B"]["sector"] != "kesehatan" {
		t.Errorf("company A's view: %v", a)
	}
	if b["PT-B"]["budget"] == nil || b["PT-A"]["budget"] != nil {
		t.Errorf("company B's view: %v", b)
	}
	if pl["PT-A"]["budget"] == nil || pl["PT-B"]["budget"] == nil {
		t.Errorf("planner's view: %v", pl)
	}
	if etagA == etagB {
		t.Errorf("companies A and B got the same plans tile (ETag %s)", etagA)
	}
	// Ask again in the other order: the cache must still keep them apart.
	if b2, _ := read("company-b"); b2["PT-A"]["budget"] != nil {
		t.Errorf("company B got company A's cached tile: %v", b2)
	}
}

// addHouseholds inserts n in-need households (with home locations) at a point.
func addHouseholds(t *testing.T, s *geo.Store, prefix string, n int, lon, lat float64) {
	t.Helper()
	_, err := s.Pool.Exec(context.Background(), `
		WITH h AS (INSERT INTO household (register, period, external_id, members, children_u5, stunted)
			SELECT 'demo', '2026', $1 || g, 4, 1, 1 FROM generate_series(1, $2) g RETURNING id)
		INSERT INTO pii.household_person (household_id, head_name, location)
		SELECT id, 'Nama Rahasia', ST_SetSRID(ST_MakePoint($3, $4), 4326) FROM h`, prefix, n, lon, lat)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool.Exec(context.Background(), `SELECT bump_layer('need')`); err != nil {
		t.Fatal(err)
	}
}

var countKey = regexp.MustCompile(`"(households|in_need)"\s*:\s*(\d+)`)

// TestCompanyNeverGetsHouseholds: the need grid is planners'/GIS staff's only;
// its cells hold ≥ 10 households; a company gets no household counts anywhere.
func TestCompanyNeverGetsHouseholds(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Sukamaju", 0.01, true)
	addHouseholds(t, f.owner, "a", 25, 107.002, -6.198)
	addHouseholds(t, f.owner, "b", 4, 107.008, -6.192) // too few: never shown on its own
	ctx := context.Background()
	if _, err := f.owner.EnsurePlan(ctx, geo.Plan{CompanyID: f.cids[1], Year: 2026, VillageCode: "99.01.01.2001", Sector: "kesehatan",
		Budget: 5, TargetHouseholds: 3, Status: "submitted"}, "test"); err != nil {
		t.Fatal(err)
	}
	for z := 8; z <= 16; z++ {
		tl := maptile.At(orb.Point{107.002, -6.198}, maptile.Zoom(z))
		resp, body := f.get(t, tilePath("need", tl, "geojson"), "planner")
		if resp.StatusCode != 200 {
			t.Fatalf("need z%d: %d %s", z, resp.StatusCode, body)
		}
		ms := countKey.FindAllStringSubmatch(body, -1)
		if len(ms) == 0 {
			t.Errorf("need z%d: no cell shows the 25 households: %s", z, body)
		}
		for _, m := range ms {
			if m[2] != "25" {
				t.Errorf("need z%d: a cell shows %s households (want only the cell of 25; the 4 must stay hidden)", z, m[2])
			}
		}
		if strings.Contains(body, "Nama") {
			t.Fatalf("need tile leaks a name")
		}
	}
	if resp, body := f.get(t, "/ogc/collections/need/items", "planner"); resp.StatusCode != 200 || !regexp.MustCompile(`"households"\s*:\s*25\b`).MatchString(body) {
		t.Errorf("OGC need as planner: %d %.300s", resp.StatusCode, body)
	}

	// The company: no need layer, and no counts in any layer it may read.
	for _, layer := range []string{"need"} {
		for _, path := range []string{tilePath(layer, tileAt, "geojson"), tilePath(layer, tileAt, "mvt"),
			"/ogc/collections/" + layer, "/ogc/collections/" + layer + "/items", "/tiles/" + layer + ".json"} {
			if resp, _ := f.get(t, path, "company"); resp.StatusCode != 403 {
				t.Errorf("company %s: %d, want 403", path, resp.StatusCode)
			}
		}
	}
	_, cols := f.get(t, "/ogc/collections", "company")
	if strings.Contains(cols, `"id":"need"`) || !strings.Contains(cols, `"id":"desa"`) {
		t.Errorf("company's collections: %.500s", cols)
	}
	for _, layer := range []string{"desa", "kecamatan", "companies", "plans"} {
		for _, path := range []string{tilePath(layer, tileAt, "geojson"), "/ogc/collections/" + layer + "/items"} {
			resp, body := f.get(t, path, "company")
			if resp.StatusCode != 200 {
				t.Fatalf("company %s: %d %s", path, resp.StatusCode, body)
			}
			if m := countKey.FindString(body); m != "" {
				t.Errorf("company %s carries a household count %s", path, m)
			}
			if strings.Contains(body, "target_households\":3") || strings.Contains(body, "budget_per_year") {
				t.Errorf("company %s shows another company's plan details or budgets: %.300s", path, body)
			}
		}
	}
}

// TestStaleCacheAcrossProcesses: with the server running and its cache warm, a
// boundary set activated by the CLI in another process is served at the next fetch.
func TestStaleCacheAcrossProcesses(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Lama", 0.01, true)
	next := f.village(t, "Baru", 0.02, false)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f.srv.ListenLayers(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := 0; !f.srv.LayersLive(); i++ {
		if i > 500 {
			t.Fatal("layer listener did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	bin := buildCLI(t)
	p := tilePath("desa", tileAt, "geojson")
	for i := 0; i < 2; i++ { // the second answer comes from the cache
		if _, body := f.get(t, p, "planner"); !strings.Contains(body, `"Lama"`) {
			t.Fatalf("before: %.300s", body)
		}
	}
	cmd := exec.Command(bin, "boundaries", "activate", fmt.Sprint(next))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+f.url)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sinergi boundaries activate: %v\n%s", err, out)
	}
	_, body := f.get(t, p, "planner")
	if !strings.Contains(body, `"Baru"`) {
		t.Fatalf("after the CLI activated set %d the tile is stale: %.300s", next, body)
	}
	_, metrics := f.get(t, "/metrics", "")
	if !strings.Contains(metrics, "sinergi_tile_cache_hits_total 1") {
		t.Errorf("expected exactly one cache hit before the change:\n%s", grepLines(metrics, "sinergi_tile"))
	}

	// Tokens of tile requests are cached too: revoking one from another process
	// takes effect at the next request, whether its tile is cached (gis) or not
	// (planner).
	if resp, _ := f.get(t, p, "gis"); resp.StatusCode != 200 {
		t.Fatalf("gis: %d", resp.StatusCode)
	}
	revoke := func(user string) {
		cmd := exec.Command(bin, "users", "revoke", user)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+f.url)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sinergi users revoke: %v\n%s", err, out)
		}
	}
	revoke("u-planner")
	if resp, body := f.get(t, tilePath("desa", maptile.At(orb.Point{107.015, -6.185}, 13), "geojson"), "planner"); resp.StatusCode != 401 {
		t.Fatalf("a revoked token still renders tiles: %d %.200s", resp.StatusCode, body)
	}
	revoke("u-gis")
	if resp, body := f.get(t, p, "gis"); resp.StatusCode != 401 {
		t.Fatalf("a revoked token still reads cached tiles: %d %.200s", resp.StatusCode, body)
	}
}

// TestRevokedTokenWithoutListener: with no listener running, the token cache is
// still never trusted past a revocation.
func TestRevokedTokenWithoutListener(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Sukamaju", 0.01, true)
	p := tilePath("desa", tileAt, "mvt")
	for _, who := range []string{"planner", "gis", "planner", "gis"} {
		if resp, _ := f.get(t, p, who); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", who, resp.StatusCode)
		}
	}
	if _, err := f.owner.RevokeTokens(context.Background(), "u-gis", "test"); err != nil {
		t.Fatal(err)
	}
	// A writer reports success only after the freshness lease (geo.FreshnessLease).
	if err := f.owner.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.get(t, p, "gis"); resp.StatusCode != 401 {
		t.Errorf("revoked gis token on a cached tile: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/ogc/collections", "gis"); resp.StatusCode != 401 {
		t.Errorf("revoked gis token on OGC: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, p, "planner"); resp.StatusCode != 200 {
		t.Errorf("planner after another user's revocation: %d", resp.StatusCode)
	}
}

var cliOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

// buildCLI builds cmd/sinergi once per test binary.
func buildCLI(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..")
		dir, err := os.MkdirTemp("", "sinergi-cli-")
		if err != nil {
			cliOnce.err = err
			return
		}
		cliOnce.path = filepath.Join(dir, "sinergi")
		cmd := exec.Command("go", "build", "-o", cliOnce.path, "./cmd/sinergi")
		cmd.Dir = root
		cliOnce.out, cliOnce.err = cmd.CombinedOutput()
	})
	if cliOnce.err != nil {
		t.Fatalf("build cmd/sinergi: %v\n%s", cliOnce.err, cliOnce.out)
	}
	return cliOnce.path
}

// serveReal runs the server on a loopback port until the test ends.
func serveReal(t *testing.T, srv *api.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func loadRealVillages(t *testing.T, s *geo.Store) {
	t.Helper()
	geotest.ActivateShared(t, s, "bekasi_desa.geojson", geo.LevelDesa)
}

// TestGDALReadsOGCAndMVT: GDAL's OAPIF driver lists the collections and copies all
// 187 real villages to a GeoPackage; GDAL's MVT driver reads one of our tiles.
func TestGDALReadsOGCAndMVT(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Skip("gdal-bin not installed (scripts/deps.sh installs it)")
	}
	f := newLayerFixture(t, api.DefaultConfig())
	loadRealVillages(t, f.owner)
	base := serveReal(t, f.srv)
	dir := t.TempDir()
	hdr := filepath.Join(dir, "headers.txt")
	if err := os.WriteFile(hdr, []byte("Authorization: Bearer "+f.tokens["gis"]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gdal := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "GDAL_HTTP_HEADER_FILE="+hdr, "CPL_DEBUG=OFF")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	out := gdal("ogrinfo", "-ro", "-q", "OAPIF:"+base+"/ogc")
	for _, want := range []string{"desa", "kecamatan", "companies", "need"} {
		if !strings.Contains(out, want) {
			t.Errorf("ogrinfo does not list %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "plans") {
		t.Errorf("gis staff must not see the plans collection:\n%s", out)
	}
	gpkg := filepath.Join(dir, "desa.gpkg")
	gdal("ogr2ogr", "-f", "GPKG", gpkg, "OAPIF:"+base+"/ogc", "desa")
	info := gdal("ogrinfo", "-ro", "-so", gpkg, "desa")
	if !strings.Contains(info, "Feature Count: 187") {
		t.Errorf("the GeoPackage copy of desa does not hold 187 features:\n%s", info)
	}
	// Paging: limit 50 gives a next link and 187 matched.
	resp, body := f.get(t, "/ogc/collections/desa/items?limit=50&offset=150&properties=name", "gis")
	if resp.StatusCode != 200 || !strings.Contains(body, `"numberMatched":187`) || !strings.Contains(body, `"numberReturned":37`) ||
		strings.Contains(body, `"rel":"next"`) || !strings.Contains(body, `"rel":"prev"`) || strings.Contains(body, "kecamatan_code") {
		t.Errorf("items page: %d %.400s", resp.StatusCode, body[max(0, len(body)-600):])
	}
	resp, body = f.get(t, "/ogc/collections/desa/items?bbox=107.1,-6.3,107.12,-6.28&limit=5", "gis")
	if resp.StatusCode != 200 || strings.Contains(body, `"numberMatched":187`) || strings.Contains(body, `"numberMatched":0`) {
		t.Errorf("bbox: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := f.get(t, "/ogc/collections/desa/items/32.16.03.2004", "gis"); resp.StatusCode != 200 || !strings.Contains(body, "Sukawangi") {
		t.Errorf("one item: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := f.get(t, "/ogc/collections/desa/items/00.00", "gis"); resp.StatusCode != 404 {
		t.Errorf("missing item: %d", resp.StatusCode)
	}
	if resp, _ := f.get(t, "/ogc/collections/desa/items?bbox=1,2,3", "gis"); resp.StatusCode != 400 {
		t.Errorf("bad bbox: %d", resp.StatusCode)
	}

	// MVT: one tile over Cikarang, read by GDAL's MVT driver.
	tl := maptile.At(orb.Point{107.15, -6.3}, 12)
	resp, body = f.get(t, tilePath("desa", tl, "mvt"), "gis")
	if resp.StatusCode != 200 || len(body) == 0 {
		t.Fatalf("mvt: %d", resp.StatusCode)
	}
	tdir := filepath.Join(dir, "12", fmt.Sprint(tl.X))
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	tfile := filepath.Join(tdir, fmt.Sprintf("%d.mvt", tl.Y))
	if err := os.WriteFile(tfile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	mvtInfo := gdal("ogrinfo", "-ro", "-so", "-al", "MVT:"+tfile)
	if !strings.Contains(mvtInfo, "Layer name: desa") || strings.Contains(mvtInfo, "Feature Count: 0") {
		t.Errorf("GDAL MVT driver:\n%s", mvtInfo)
	}

	// The OpenAPI document lists the layer routes.
	resp, body = f.get(t, "/api/openapi.json", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"/tiles/{layer}/{z}/{x}/{y}"`) || !strings.Contains(body, `"/ogc/collections/{id}/items"`) ||
		!strings.Contains(body, `"/api/v1/villages"`) {
		t.Errorf("openapi: %d %.300s", resp.StatusCode, body)
	}
	// Every operation has a written summary, not the "METHOD /path" fallback, so a
	// new route cannot land undescribed.
	var doc struct {
		Paths map[string]map[string]struct {
			Summary string `json:"summary"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("openapi: %v", err)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if strings.HasPrefix(op.Summary, strings.ToUpper(method)+" /") {
				t.Errorf("openapi: %s %s has no summary in routeDocs", strings.ToUpper(method), path)
			}
		}
	}
}

// TestDesaTileScoresByRole: with a score run of the active set, desa tiles carry
// scores; planners get counts, companies only ranks, the hot-spot label and the
// smoothed score — the disclosure-controlled ones stored with the run (c_*), never
// the exact ones.
func TestDesaTileScoresByRole(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	set := f.village(t, "Sukamaju", 0.01, true)
	ctx := context.Background()
	_, err := f.owner.Pool.Exec(ctx, `
		WITH r AS (INSERT INTO score_run (period, set_id, weights_id, k) VALUES ('2026', $1, 1, 0.33) RETURNING id)
		INSERT INTO village_score (run_id, code, kecamatan_code, households, in_need, h, m0, m0_eb, density, hotspot, rank, rank_kecamatan, detail,
			c_rank, c_rank_kecamatan, c_m0_eb)
		SELECT id, '99.01.01.2001', '99.01.01', 40, 3, 0.075, 0.05, 0.061, 2.5, 'hot', 1, 1, '{}', 2, 3, 0.042 FROM r`, set)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.Pool.Exec(ctx, `SELECT bump_layer('desa')`); err != nil {
		t.Fatal(err)
	}
	p := tilePath("desa", tileAt, "geojson")
	_, planner := f.get(t, p, "planner")
	for _, want := range []string{`"in_need": 3`, `"rank": 1`, `"hotspot": "hot"`, `"m0": 0.05`} {
		if !strings.Contains(planner, want) {
			t.Errorf("planner's desa tile lacks %s: %.500s", want, planner)
		}
	}
	_, company := f.get(t, p, "company")
	for _, want := range []string{`"rank": 2`, `"rank_kecamatan": 3`, `"hotspot": "hot"`, `"m0_eb": 0.042`} {
		if !strings.Contains(company, want) {
			t.Errorf("company's desa tile lacks %s: %.500s", want, company)
		}
	}
	for _, no := range []string{"in_need", "households", `"h"`, "density", `"m0"`, "0.061", `"rank": 1`} {
		if strings.Contains(company, no) {
			t.Errorf("company's desa tile carries %s: %.500s", no, company)
		}
	}
	if _, body := f.get(t, "/ogc/collections/desa/items", "company"); strings.Contains(body, "in_need") || !strings.Contains(body, `"rank": 2`) || strings.Contains(body, "0.061") {
		t.Errorf("company's OGC desa: %.500s", body)
	}
}

// BenchmarkTileCacheHit measures the CPU of a cached tile answer through the
// whole middleware stack (request id, JSON log line, metrics, token cache,
// version barrier, negotiation), in process, beside a bare Fiber handler sending
// the same bytes: go test -run '^$' -bench TileCacheHit ./api/. It prints no
// wall-clock limit; compare the two ns/op.
func BenchmarkTileCacheHit(b *testing.B) {
	_, owner, web := geotest.Migrated(b)
	ctx := context.Background()
	geotest.ActivateShared(b, owner, "bekasi_desa.geojson", geo.LevelDesa)
	_, tok, err := owner.AddUser(ctx, geo.NewUser{Name: "bench", Role: geo.RolePlanner, Password: "kata-sandi-bench"})
	if err != nil {
		b.Fatal(err)
	}
	path := tilePath("desa", maptile.At(orb.Point{107.15, -6.25}, 12), "mvt")
	run := func(b *testing.B, h func(*fasthttp.RequestCtx)) {
		var rc fasthttp.RequestCtx
		rc.Request.SetRequestURI(path)
		rc.Request.Header.Set("Authorization", "Bearer "+tok)
		rc.Request.Header.Set("Accept-Encoding", "gzip")
		h(&rc)
		if rc.Response.StatusCode() != 200 {
			b.Fatalf("%d %s", rc.Response.StatusCode(), rc.Response.Body())
		}
		body := append([]byte(nil), rc.Response.Body()...)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			// A server resets the user values (Fiber's locals) between requests;
			// kept, the strict barrier's versions of the first request would be reused.
			rc.ResetUserValues()
			rc.Response.Reset()
			h(&rc)
		}
		if string(rc.Response.Body()) != string(body) {
			b.Fatal("answer changed")
		}
	}
	for _, fresh := range []string{"strict", "notify"} {
		b.Run("sinergi-"+fresh, func(b *testing.B) {
			cfg := api.DefaultConfig()
			cfg.TileFreshness = fresh
			// The handler serve uses (its fast path for request lines included).
			srv := api.New(cfg, web, owner, slog.New(api.NewLogHandler(io.Discard, nil)))
			lctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() { _ = srv.ListenLayers(lctx) }()
			for !srv.LayersLive() {
				time.Sleep(5 * time.Millisecond)
			}
			run(b, srv.App().Handler())
		})
	}
	b.Run("bare-fiber", func(b *testing.B) {
		body := bytes.Repeat([]byte("x"), 2000)
		app := fiber.New()
		app.Get("/*", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, "application/vnd.mapbox-vector-tile")
			c.Set(fiber.HeaderContentEncoding, "gzip")
			c.Set(fiber.HeaderETag, `"0123456789abcdef01234567"`)
			return c.Send(body)
		})
		run(b, app.Handler())
	})
}

// TestRequestLogLine checks that LogHandler's fast path writes the same request
// line as slog's JSON handler (but for the time and duration), for a signed-in
// tile request, an anonymous one and a request id that needs JSON escaping
// (which goes through slog).
func TestRequestLogLine(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	_, tok, err := owner.AddUser(ctx, geo.NewUser{Name: "log-planner", Role: geo.RolePlanner, Password: "kata-sandi-log"})
	if err != nil {
		t.Fatal(err)
	}
	lines := func(h func(io.Writer) slog.Handler) []map[string]any {
		var buf bytes.Buffer
		srv := api.New(api.DefaultConfig(), web, owner, slog.New(h(&buf)))
		for _, p := range []string{"/tiles/desa/12/3265/2133.mvt", "/healthz", "/tidak/ada"} {
			req := httptest.NewRequest(http.MethodGet, p, nil)
			req.Header.Set("X-Request-Id", "req-1")
			if strings.HasPrefix(p, "/tidak") {
				req.Header.Set("X-Request-Id", `id"é\`) // needs escaping: slog writes it
			}
			if strings.HasPrefix(p, "/tiles") {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			resp, err := srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			if m["msg"] != "request" {
				continue
			}
			if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
				t.Errorf("time in %q: %v", l, err)
			}
			if _, ok := m["duration_us"].(float64); !ok {
				t.Errorf("no duration_us in %q", l)
			}
			delete(m, "time")
			delete(m, "duration_us")
			out = append(out, m)
		}
		return out
	}
	fast := lines(func(w io.Writer) slog.Handler { return api.NewLogHandler(w, nil) })
	plain := lines(func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) })
	if len(fast) != 3 || fmt.Sprint(fast) != fmt.Sprint(plain) {
		t.Fatalf("request lines differ:\nfast  %v\nslog  %v", fast, plain)
	}
	if fast[0]["user"] != "log-planner" || fast[0]["role"] != "planner" || fast[0]["request_id"] != "req-1" {
		t.Errorf("tile request line: %v", fast[0])
	}
	if fast[2]["request_id"] != `id"é\` {
		t.Errorf("request id logged as %q", fast[2]["request_id"])
	}
}

// TestFreshnessLeaseAcrossServers: two servers over one database, as behind a
// load balancer. B's cache is warm and its freshness lease current (no listener
// runs, so NOTIFY cannot help); a planner deletes a company through A, and the
// very next request to B — sent the moment A answered — no longer shows it: A
// answers a write only after B's lease has run out (geo.FreshnessLease).
func TestFreshnessLeaseAcrossServers(t *testing.T) {
	f := newLayerFixture(t, api.DefaultConfig())
	f.village(t, "Sukamaju", 0.01, true)
	b := api.New(api.DefaultConfig(), f.web, f.owner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.RefreshLease(ctx)
	getB := func(path string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens["planner"])
		resp, err := b.App().Test(req, 60000)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	area := orb.MultiPolygon{{{{107, -6.2}, {107.003, -6.2}, {107.003, -6.197}, {107, -6.197}, {107, -6.2}}}}
	cid, _, err := f.owner.UpsertCompany(ctx, geo.Company{Key: "pt-c", Name: "PT-C", Sectors: []string{"kesehatan"},
		BudgetPerYear: 1e9, Area: area}, "test")
	if err != nil {
		t.Fatal(err)
	}
	p := tilePath("companies", tileAt, "geojson")
	for i := 0; i < 3; i++ {
		if code, body := getB(p); code != 200 || !strings.Contains(body, "PT-C") {
			t.Fatalf("before: %d %.300s", code, body)
		}
	}
	del := httptest.NewRequest("DELETE", fmt.Sprintf("/api/v1/companies/%d", cid), nil)
	del.Header.Set("Authorization", "Bearer "+f.tokens["planner"])
	start := time.Now()
	resp, err := f.srv.App().Test(del, 60000)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("delete company: %d", resp.StatusCode)
	}
	if took := time.Since(start); took < geo.WriterWait {
		t.Errorf("a write answered after %v, before the freshness lease (%v) ran out", took, geo.WriterWait)
	}
	if code, body := getB(p); code != 200 || strings.Contains(body, "PT-C") {
		t.Fatalf("server B served a deleted company from its cache: %d %.300s", code, body)
	}
	// Reads do not wait.
	start = time.Now()
	getB(p)
	if took := time.Since(start); took >= geo.WriterWait {
		t.Logf("a read took %v (machine busy?)", took)
	}
}
