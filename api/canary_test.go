package api_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/maptile"
	"github.com/xuri/excelize/v2"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// The canary test plants households with distinctive personal fields and homes
// among ordinary ones in the real Bekasi villages, then calls every route of the
// router as every role (and with no token) and decodes every answer — JSON,
// GeoJSON, CSV, XLSX, MVT — looking for a canary's name, NIK, No. KK, address,
// register row id or keyed hash, or any point within canaryRadiusM of a canary's
// home. Only the officer's by-name-by-address list may hold them, and it must:
// that is the proof the detector works.

// canaryRadiusM is how near a published point may come to a home.
const canaryRadiusM = 50

// smallGeomM: a line or polygon whose bounding box diagonal is below this is
// treated like a point (a tiny polygon drawn around a home is a leak too);
// larger ones (village outlines, grid cells ≥ 250 m) are aggregates.
const smallGeomM = 200

type canary struct {
	village                    string
	id, kk, nik, name, address string
	home                       orb.Point
	hashes                     [][]byte // link key, NIK and KK hashes as stored
	tile12, tile15             maptile.Tile
	rejected                   bool // a row the import refuses: never stored
}

// personal lists the strings of a canary that no one but an officer may see.
// The register's own row id is left out where withID is false: a job's reject
// report names the rows of the uploaded file, so that they can be fixed.
func (c canary) personal(withID bool) []string {
	out := []string{c.kk, c.nik, c.name, c.address}
	if withID {
		out = append(out, c.id)
	}
	for _, h := range c.hashes {
		if len(h) == 0 {
			continue
		}
		out = append(out, hex.EncodeToString(h), strings.ToUpper(hex.EncodeToString(h)),
			base64.StdEncoding.EncodeToString(h), base64.RawURLEncoding.EncodeToString(h))
	}
	return out
}

type canaryFixture struct {
	srv      *api.Server
	owner    *geo.Store
	tokens   map[geo.Role]string
	canaries []canary
	villages []string // A, B, C: B holds a suppressed in-need count
	kec      string
	co1, co2 int64
	planIDs  []int64
	setID    int64
	jobID    string // an asynchronous import with a rejected canary row ("" when unsupported)
}

const registerHeader = "id_keluarga,no_kk,nik,nama_kepala,alamat,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,desil,penganggur\n"

// asyncRejectedUpload uploads, as a background job, a register whose canary row
// is refused (more stunted children than children), so that the job's status
// and reject report are swept too.
func (f *canaryFixture) asyncRejectedUpload(t *testing.T) {
	t.Helper()
	home := villagePoints(t, f.owner, f.villages[0], 40, 55)[0]
	c := canary{village: f.villages[0], home: home, id: "KANARI-TOLAK-QX", kk: "3216997700999001", nik: "3216998800999002",
		name: "Kanaria Zzyxwati Tolak", address: "Gang Burung Kenari Tolak 9 RT 09/RW 09", rejected: true}
	c.tile12, c.tile15 = maptile.At(home, 12), maptile.At(home, 15)
	f.canaries = append(f.canaries, c)
	csvText := registerHeader + fmt.Sprintf("%s,%s,%s,%s,%s,%s,%.7f,%.7f,4,1,2,1,1,0\n", c.id, c.kk, c.nik, c.name, c.address, c.village, home[0], home[1])
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("register", "survey")
	_ = mw.WriteField("period", "2026")
	fw, _ := mw.CreateFormFile("file", "kanari-tolak.csv")
	_, _ = io.WriteString(fw, csvText)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/households/import?async=true", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.tokens[geo.RoleGIS])
	resp, err := f.srv.App().Test(req, 60000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Logf("asynchronous import not available (%d): job routes swept with sample ids only", resp.StatusCode)
		return
	}
	loc := resp.Header.Get("Location")
	f.jobID = loc[strings.LastIndex(loc, "/")+1:]
	if leaks := (&leakScanner{canaries: f.canaries, rowIDsOK: true}).scan("application/json", body, maptile.Tile{}); len(leaks) > 0 {
		t.Errorf("async import answer: %v", leaks)
	}
	for range 240 {
		req := httptest.NewRequest("GET", loc, nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[geo.RoleGIS])
		resp, err := f.srv.App().Test(req, 60000)
		if err != nil {
			t.Fatal(err)
		}
		jb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(jb), `"running"`) {
			t.Logf("job %s: %d %.600s", f.jobID, resp.StatusCode, jb)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("job %s still running after a minute", f.jobID)
}

// canaryVillages picks three villages of one kecamatan, each with room for a
// home 250 m inside its boundary.
func canaryVillages(t *testing.T, owner *geo.Store) (string, []string) {
	t.Helper()
	var kec string
	var codes []string
	err := owner.Pool.QueryRow(context.Background(), `
		WITH v AS (
		  SELECT v.code, v.kecamatan_code, ST_Buffer(v.geom::geography, -250)::geometry AS inner_g
		  FROM village v JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active' AND b.level = 'desa')
		SELECT kecamatan_code, (array_agg(code ORDER BY code))[1:3]
		FROM v WHERE NOT ST_IsEmpty(inner_g) AND ST_Area(inner_g::geography) > 1e6
		GROUP BY 1 HAVING count(*) >= 3 ORDER BY 1 LIMIT 1`).Scan(&kec, &codes)
	if err != nil {
		t.Fatal(err)
	}
	return kec, codes
}

// villagePoints returns n points inside village code, at least 250 m from its
// boundary, farthest first from the village's point on surface (where other
// companies' plans are drawn): the first makes a canary's home.
func villagePoints(t *testing.T, owner *geo.Store, code string, n, seed int) []orb.Point {
	t.Helper()
	rows, err := owner.Pool.Query(context.Background(), `
		WITH v AS (SELECT v.geom, ST_Buffer(v.geom::geography, -250)::geometry AS inner_g FROM village v
		           JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active' WHERE v.code = $1)
		SELECT ST_X(p.geom), ST_Y(p.geom) FROM v, ST_Dump(ST_GeneratePoints(v.inner_g, $2, $3)) p
		ORDER BY ST_Distance(p.geom::geography, ST_PointOnSurface(v.geom)::geography) DESC`, code, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	var out []orb.Point
	for rows.Next() {
		var p orb.Point
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func newCanaryFixture(t *testing.T) *canaryFixture {
	t.Helper()
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("c7", 32))
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	f := &canaryFixture{owner: owner, tokens: map[geo.Role]string{}}
	f.setID = geotest.ActivateShared(t, owner, "bekasi_desa.geojson", geo.LevelDesa)
	geotest.ActivateShared(t, owner, "bekasi_kecamatan.geojson", geo.LevelKecamatan)
	f.kec, f.villages = canaryVillages(t, owner)

	// A: 40 households, 20 in need; B: 40 households, 3 in need (suppressed);
	// C: 3 households, all in need (both counts suppressed). One canary in each,
	// in need, so it counts in the suppressed cells.
	var csvb strings.Builder
	csvb.WriteString(registerHeader)
	plan := []struct{ n, needy int }{{40, 20}, {40, 3}, {3, 3}}
	for vi, code := range f.villages {
		pts := villagePoints(t, owner, code, 40, 7+vi)
		c := canary{village: code, home: pts[0],
			id:      fmt.Sprintf("KANARI-%d-QX", vi+1),
			kk:      fmt.Sprintf("32169%d7700%06d", vi+1, 424242+vi),
			nik:     fmt.Sprintf("32169%d8800%06d", vi+1, 737373+vi),
			name:    fmt.Sprintf("Kanaria Zzyxwati %c", 'A'+vi),
			address: fmt.Sprintf("Gang Burung Kenari %d RT 0%d/RW 0%d", 17+vi, vi+1, vi+4)}
		c.tile12 = maptile.At(c.home, 12)
		c.tile15 = maptile.At(c.home, 15)
		f.canaries = append(f.canaries, c)
		fmt.Fprintf(&csvb, "%s,%s,%s,%s,%s,%s,%.7f,%.7f,4,1,1,1,1,0\n", c.id, c.kk, c.nik, c.name, c.address, code, c.home[0], c.home[1])
		for i := 1; i < plan[vi].n; i++ {
			p := pts[i%len(pts)]
			stunted := 0
			if i < plan[vi].needy {
				stunted = 1
			}
			fmt.Fprintf(&csvb, "W-%d-%d,3216%02d%010d,3216%02d%010d,Warga Biasa %d,Jalan Umum %d,%s,%.7f,%.7f,3,1,%d,0,5,0\n",
				vi, i, vi, i, vi, i+500, i, i, code, p[0]+0.00001*float64(i%3), p[1], stunted)
		}
	}

	co1, _, err := owner.UpsertCompany(ctx, geo.Company{Key: "pt-kanari-satu", Name: "PT Kanari Satu", Sectors: []string{"kesehatan", "ekonomi"},
		BudgetPerYear: 2_000_000_000, ReachKm: 5,
		Area: orb.MultiPolygon{squareAround(villagePoints(t, owner, f.villages[1], 40, 99)[39], 0.006)}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	co2, _, err := owner.UpsertCompany(ctx, geo.Company{Key: "pt-kanari-dua", Name: "PT Kanari Dua", Sectors: []string{"kesehatan"},
		BudgetPerYear: 1_000_000_000, ReachKm: 8, Sites: []orb.Point{villagePoints(t, owner, f.villages[0], 40, 98)[39]}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	f.co1, f.co2 = co1, co2
	for i, p := range []geo.Plan{
		{CompanyID: co1, Year: 2026, VillageCode: f.villages[1], Sector: "kesehatan", Budget: 100_000_000, TargetHouseholds: 3},
		{CompanyID: co2, Year: 2026, VillageCode: f.villages[0], Sector: "kesehatan", Budget: 50_000_000, TargetHouseholds: 10},
	} {
		id, err := owner.CreatePlan(ctx, p, "test")
		if err != nil {
			t.Fatalf("plan %d: %v", i, err)
		}
		f.planIDs = append(f.planIDs, id)
	}
	for _, r := range geo.Roles {
		nu := geo.NewUser{Name: "k-" + string(r), Role: r}
		switch r {
		case geo.RoleCompany:
			nu.CompanyID = &co1
		case geo.RoleOfficer:
			nu.Area = slices.Clone(f.villages)
		}
		_, tok, err := owner.AddUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[r] = tok
	}
	f.srv = api.New(api.DefaultConfig(), web, owner, slog.New(slog.NewTextHandler(io.Discard, nil)))

	// The real import path: multipart upload by a GIS user (scores are refreshed by it).
	up := &fixture{srv: f.srv, owner: owner}
	code, body := up.upload(t, f.tokens[geo.RoleGIS], "kanari.csv", csvb.String(), map[string]string{"register": "survey", "period": "2026"})
	if code != 200 || !strings.Contains(body, `"rejected":0`) {
		t.Fatalf("register upload: %d %.1000s", code, body)
	}
	f.asyncRejectedUpload(t)
	for i := range f.canaries {
		c := &f.canaries[i]
		if c.rejected {
			continue
		}
		var link, nikH, kkH []byte
		if err := owner.Pool.QueryRow(ctx, `SELECT h.link_key, p.nik_hash, p.kk_hash FROM household h
			JOIN pii.household_person p ON p.household_id = h.id WHERE h.external_id = $1`, c.id).Scan(&link, &nikH, &kkH); err != nil {
			t.Fatalf("canary %s not stored: %v", c.id, err)
		}
		c.hashes = [][]byte{link, nikH, kkH}
		var assigned string
		if err := owner.Pool.QueryRow(ctx, `SELECT coalesce(village_code, '') FROM household WHERE external_id = $1`, c.id).Scan(&assigned); err != nil || assigned != c.village {
			t.Fatalf("canary %s assigned to %q, want %s (%v)", c.id, assigned, c.village, err)
		}
	}
	// The import response itself is for a GIS user: no personal data in it either.
	leaks := (&leakScanner{canaries: f.canaries, rowIDsOK: true}).scan("application/json", []byte(body), maptile.Tile{})
	if len(leaks) > 0 {
		t.Errorf("import response: %v", leaks)
	}
	return f
}

func squareAround(p orb.Point, d float64) orb.Polygon {
	return orb.Polygon{{{p[0] - d, p[1] - d}, {p[0] + d, p[1] - d}, {p[0] + d, p[1] + d}, {p[0] - d, p[1] + d}, {p[0] - d, p[1] - d}}}
}

// leakScanner decodes a body and reports canary fields and points near homes.
type leakScanner struct {
	canaries []canary
	leaks    []string
	rowIDsOK bool // reject reports for GIS users: register row ids allowed
}

func (s *leakScanner) add(format string, a ...any) {
	if len(s.leaks) < 20 {
		s.leaks = append(s.leaks, fmt.Sprintf(format, a...))
	}
}

func (s *leakScanner) text(where, txt string) {
	for _, c := range s.canaries {
		for _, p := range c.personal(!s.rowIDsOK) {
			if strings.Contains(txt, p) {
				s.add("%s: personal field %q of canary %s", where, p, c.id)
			}
		}
	}
}

func (s *leakScanner) point(where string, p orb.Point) {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
		return
	}
	for _, c := range s.canaries {
		if d := orbgeo.Distance(p, c.home); d <= canaryRadiusM {
			s.add("%s: point %.6f,%.6f is %.0f m from canary %s's home", where, p[0], p[1], d, c.id)
		}
	}
}

// geometry checks every point of points-only geometries, and lines or polygons
// small enough to pinpoint a home.
func (s *leakScanner) geometry(where string, g orb.Geometry) {
	switch g := g.(type) {
	case nil:
	case orb.Point:
		s.point(where, g)
	case orb.MultiPoint:
		for _, p := range g {
			s.point(where, p)
		}
	case orb.Collection:
		for _, x := range g {
			s.geometry(where, x)
		}
	default:
		b := g.Bound()
		if orbgeo.Distance(b.Min, b.Max) < smallGeomM {
			s.point(where+" (small "+g.GeoJSONType()+")", b.Center())
		}
	}
}

// scan decodes body by its content type; tile is the MVT's address.
func (s *leakScanner) scan(ctype string, body []byte, tile maptile.Tile) []string {
	s.leaks = nil
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			s.add("gzip: %v", err)
			return s.leaks
		}
		if body, err = io.ReadAll(zr); err != nil {
			s.add("gzip: %v", err)
			return s.leaks
		}
	}
	s.text("body", string(body))
	switch {
	case strings.Contains(ctype, "json"):
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			s.add("undecodable JSON (%v): %.100s", err, body)
			break
		}
		s.json("$", v)
	case strings.Contains(ctype, "text/csv"):
		cr := csv.NewReader(bytes.NewReader(body))
		cr.FieldsPerRecord = -1 // a note line about the period and weights comes first
		recs, err := cr.ReadAll()
		if err != nil {
			s.add("undecodable CSV: %v", err)
		}
		for i, r := range recs {
			s.row(fmt.Sprintf("csv row %d", i+1), r)
		}
	case strings.Contains(ctype, "spreadsheetml"):
		if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil {
			s.add("XLSX is not a zip: %v", err)
			break
		}
		x, err := excelize.OpenReader(bytes.NewReader(body))
		if err != nil {
			s.add("undecodable XLSX: %v", err)
			break
		}
		defer x.Close()
		for _, sh := range x.GetSheetList() {
			rows, err := x.GetRows(sh)
			if err != nil {
				s.add("XLSX sheet %s: %v", sh, err)
			}
			for i, r := range rows {
				s.text(fmt.Sprintf("xlsx %s row %d", sh, i+1), strings.Join(r, "\x1f"))
				s.row(fmt.Sprintf("xlsx %s row %d", sh, i+1), r)
			}
		}
	case strings.Contains(ctype, "mapbox-vector-tile") || strings.Contains(ctype, "protobuf"):
		layers, err := mvt.Unmarshal(body)
		if err != nil {
			s.add("undecodable MVT: %v", err)
			break
		}
		layers.ProjectToWGS84(tile)
		for _, l := range layers {
			for i, ft := range l.Features {
				where := fmt.Sprintf("mvt %s feature %d", l.Name, i)
				s.geometry(where, ft.Geometry)
				for k, v := range ft.Properties {
					s.text(where+" property "+k, fmt.Sprint(v))
				}
			}
		}
	}
	return s.leaks
}

// row checks adjacent numeric cells that read as lon,lat (or lat,lon).
func (s *leakScanner) row(where string, r []string) {
	for i := 0; i+1 < len(r); i++ {
		a, e1 := strconv.ParseFloat(strings.TrimSpace(r[i]), 64)
		b, e2 := strconv.ParseFloat(strings.TrimSpace(r[i+1]), 64)
		if e1 == nil && e2 == nil {
			s.point(where, orb.Point{a, b})
			s.point(where, orb.Point{b, a})
		}
	}
}

var geometryTypes = []string{"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}

// json walks a decoded document: geometry objects, lon/lat members and bare
// coordinate pairs are points; every string is searched.
func (s *leakScanner) json(where string, v any) {
	switch v := v.(type) {
	case map[string]any:
		if typ, _ := v["type"].(string); slices.Contains(geometryTypes, typ) {
			var pts []orb.Point
			collectPositions(v["coordinates"], &pts)
			if typ == "Point" || typ == "MultiPoint" {
				for _, p := range pts {
					s.point(where, p)
				}
			} else if len(pts) > 0 {
				b := orb.MultiPoint(pts).Bound()
				if orbgeo.Distance(b.Min, b.Max) < smallGeomM {
					s.point(where+" (small "+typ+")", b.Center())
				}
			}
		}
		for _, pair := range [][2]string{{"lon", "lat"}, {"longitude", "latitude"}, {"lng", "lat"}, {"x", "y"}} {
			x, ok1 := v[pair[0]].(float64)
			y, ok2 := v[pair[1]].(float64)
			if ok1 && ok2 {
				s.point(where+"."+pair[0], orb.Point{x, y})
			}
		}
		for k, x := range v {
			if k == "coordinates" {
				continue
			}
			s.json(where+"."+k, x)
		}
	case []any:
		if len(v) >= 2 {
			x, ok1 := v[0].(float64)
			y, ok2 := v[1].(float64)
			if ok1 && ok2 {
				s.point(where, orb.Point{x, y})
			}
		}
		for i, x := range v {
			s.json(fmt.Sprintf("%s[%d]", where, i), x)
		}
	case string:
		s.text(where, v)
	}
}

func collectPositions(v any, out *[]orb.Point) {
	a, ok := v.([]any)
	if !ok {
		return
	}
	if len(a) >= 2 {
		x, ok1 := a[0].(float64)
		y, ok2 := a[1].(float64)
		if ok1 && ok2 {
			*out = append(*out, orb.Point{x, y})
			return
		}
	}
	for _, e := range a {
		collectPositions(e, out)
	}
}

// canaryCall is one request of the sweep.
type canaryCall struct {
	method, path, body string
	tile               maptile.Tile
	sample             bool // filled by samplePath: ids that need not exist
}

// callsFor expands a route into realistic requests: codes of the canary
// villages, tiles and bounding boxes around each home, every export format.
func (f *canaryFixture) callsFor(method, route string, role geo.Role) []canaryCall {
	get := func(paths ...string) []canaryCall {
		var out []canaryCall
		for _, p := range paths {
			out = append(out, canaryCall{method: method, path: p})
		}
		return out
	}
	companies := []int64{f.co1, f.co2}
	if role == geo.RoleCompany {
		companies = []int64{f.co1}
	}
	perCompany := func(suffix string) []canaryCall {
		var out []canaryCall
		for _, id := range companies {
			out = append(out, get(fmt.Sprintf("/api/v1/companies/%d%s", id, suffix))...)
		}
		return out
	}
	A, B, C := f.villages[0], f.villages[1], f.villages[2]
	switch method + " " + route {
	case "GET /api/v1/villages":
		return get("/api/v1/villages", "/api/v1/villages?format=geojson", "/api/v1/villages?format=csv", "/api/v1/villages?format=xlsx",
			"/api/v1/villages?format=csv&exact=true", "/api/v1/villages?format=xlsx&exact=true", "/api/v1/villages?kecamatan="+f.kec+"&sort=volume")
	case "GET /api/v1/villages/:code":
		return get("/api/v1/villages/"+A, "/api/v1/villages/"+B, "/api/v1/villages/"+C)
	case "GET /api/v1/villages/:code/households":
		return get("/api/v1/villages/"+B+"/households?purpose=verifikasi+kanari", "/api/v1/villages/"+C+"/households?purpose=verifikasi+kanari")
	case "GET /api/v1/companies/:id":
		return perCompany("")
	case "GET /api/v1/companies/:id/rings":
		return perCompany("/rings")
	case "GET /api/v1/companies/:id/neighbours":
		return append(perCompany("/neighbours"), perCompany("/neighbours?within_km=20")...)
	case "GET /api/v1/companies/:id/suggestions":
		return perCompany("/suggestions?year=2026")
	case "GET /api/v1/coverage":
		return get("/api/v1/coverage?year=2026")
	case "GET /api/v1/plans":
		return get("/api/v1/plans", "/api/v1/plans?year=2026")
	case "GET /api/v1/boundaries/active":
		return get("/api/v1/boundaries/active", "/api/v1/boundaries/active?format=geojson", "/api/v1/boundaries/active?level=kecamatan")
	case "GET /api/v1/boundaries/:id/diff":
		return get(fmt.Sprintf("/api/v1/boundaries/%d/diff", f.setID))
	case "GET /api/v1/audit":
		return get("/api/v1/audit", "/api/v1/audit?action=households.read")
	case "GET /tiles/:file":
		var out []canaryCall
		for _, l := range geo.Layers() {
			out = append(out, get("/tiles/"+l.Name+".json")...)
		}
		return out
	case "GET /tiles/:layer/:z/:x/:y":
		var out []canaryCall
		for _, l := range geo.Layers() {
			for _, c := range f.canaries {
				for _, tl := range []maptile.Tile{c.tile12, c.tile15} {
					if int(tl.Z) < l.MinZoom || int(tl.Z) > l.MaxZoom {
						continue
					}
					for _, ext := range []string{"geojson", "mvt"} {
						out = append(out, canaryCall{method: method, tile: tl,
							path: fmt.Sprintf("/tiles/%s/%d/%d/%d.%s", l.Name, tl.Z, tl.X, tl.Y, ext)})
					}
				}
			}
		}
		return out
	case "GET /ogc/collections/:id":
		var out []canaryCall
		for _, l := range geo.Layers() {
			out = append(out, get("/ogc/collections/"+l.Name)...)
		}
		return out
	case "GET /ogc/collections/:id/items":
		var out []canaryCall
		for _, l := range geo.Layers() {
			for _, c := range f.canaries {
				bbox := fmt.Sprintf("%.5f,%.5f,%.5f,%.5f", c.home[0]-0.01, c.home[1]-0.01, c.home[0]+0.01, c.home[1]+0.01)
				out = append(out, get("/ogc/collections/"+l.Name+"/items?limit=1000&bbox="+url.QueryEscape(bbox))...)
			}
		}
		return out
	case "GET /ogc/collections/:id/items/:fid":
		return get("/ogc/collections/desa/items/"+B, fmt.Sprintf("/ogc/collections/companies/items/%d", f.co1),
			fmt.Sprintf("/ogc/collections/plans/items/%d", f.planIDs[0]))
	case "GET /api/v1/jobs/:id", "GET /api/v1/jobs/:id/rejects.csv":
		if f.jobID != "" {
			return get(strings.Replace(route, ":id", f.jobID, 1))
		}
	case "POST /api/v1/login":
		return []canaryCall{{method: method, path: route, body: `{"username":"k-planner","password":"wrong-on-purpose"}`}}
	case "POST /api/v1/match":
		return []canaryCall{
			{method: method, path: route, body: `{"mode":"sector","year":2026,"save":false}`},
			{method: method, path: route, body: `{"mode":"locus","year":2026,"locus_top":3,"save":false}`}}
	}
	// Anything else (new routes included): sample parameters; writes get an
	// empty body and ids that do not exist, so the sweep changes nothing.
	c := canaryCall{method: method, path: samplePath(route), sample: true}
	if method != http.MethodGet && method != http.MethodDelete {
		c.body = "{}"
	}
	return []canaryCall{c}
}

// personalRoute is the one route whose answers carry personal data, for officers.
const personalRoute = "GET /api/v1/villages/:code/households"

func TestCanariesNeverLeak(t *testing.T) {
	f := newCanaryFixture(t)
	type routeKey struct{ method, path string }
	var routes []routeKey
	seen := map[routeKey]bool{}
	for _, rt := range f.srv.App().GetRoutes(true) {
		k := routeKey{rt.Method, rt.Path}
		if rt.Method == http.MethodHead || rt.Method == "USE" || strings.Contains(rt.Path, "*") || seen[k] {
			continue
		}
		if rt.Path == "/" {
			continue // the map page: no data
		}
		seen[k] = true
		routes = append(routes, k)
	}
	// Reads first, then writes (refused or harmless), so reads see the planted state.
	slices.SortStableFunc(routes, func(a, b routeKey) int {
		return map[bool]int{true: 0, false: 1}[a.method == http.MethodGet] - map[bool]int{true: 0, false: 1}[b.method == http.MethodGet]
	})
	do := func(method, path, token, body string) (*http.Response, []byte) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, path, r)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := f.srv.App().Test(req, 120000)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	roles := append([]geo.Role{""}, geo.Roles...)
	var calls, decoded int
	answered := map[string]bool{} // GET paths (query included) some role got a 2xx for
	officerSaw := map[string]bool{}
	for _, rk := range routes {
		key := rk.method + " " + rk.path
		for _, role := range roles {
			for _, c := range f.callsFor(rk.method, rk.path, role) {
				resp, body := do(c.method, c.path, f.tokens[role], c.body)
				calls++
				who := string(role)
				if who == "" {
					who = "no token"
				}
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s as %s: %d %.300s", c.method, c.path, who, resp.StatusCode, body)
				}
				if resp.StatusCode >= 300 && resp.StatusCode != 304 {
					// Refusals are problem documents; they are scanned too.
					if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
						continue
					}
				}
				decoded++
				if resp.StatusCode < 300 {
					answered[c.method+" "+c.path] = true
				} else if !answered[c.method+" "+c.path] && !c.sample {
					answered[c.method+" "+c.path] = false
				}
				// A job's reject report names register row ids (not in the list of
				// personal fields: name, NIK, KK, address, keyed hashes) to whoever
				// may read the job.
				sc := &leakScanner{canaries: f.canaries, rowIDsOK: strings.HasPrefix(rk.path, "/api/v1/jobs/")}
				leaks := sc.scan(resp.Header.Get("Content-Type"), body, c.tile)
				if role == geo.RoleOfficer && key == personalRoute && resp.StatusCode == 200 {
					if len(leaks) == 0 {
						t.Errorf("officer %s: the canaries of this village are missing — the detector cannot be trusted: %.500s", c.path, body)
					}
					for _, l := range leaks {
						officerSaw[strings.SplitN(l, ":", 2)[0]] = true
						if strings.Contains(l, "m from canary") {
							officerSaw["point"] = true
						}
						if strings.Contains(l, "Kanaria Zzyxwati") {
							officerSaw["name"] = true
						}
					}
					continue
				}
				for _, l := range leaks {
					t.Errorf("%s %s as %s (%d %s) leaks: %s", c.method, c.path, who, resp.StatusCode, resp.Header.Get("Content-Type"), l)
				}
			}
		}
	}
	// Realistic parameters: every GET of the sweep must have been answered for
	// some role, or its body was never examined.
	for k, ok := range answered {
		if !ok && strings.HasPrefix(k, "GET ") {
			t.Errorf("%s: no role got a 2xx answer; its parameters are not realistic", k)
		}
	}
	if !officerSaw["point"] || !officerSaw["name"] {
		t.Errorf("the officer's list must show the canaries' names and homes (detector self-check): saw %v", officerSaw)
	}
	t.Logf("%d routes, %d requests, %d bodies decoded", len(routes), calls, decoded)
}

// TestSuppressedCountNotRecoverable reads, as the company user, every view that
// carries village B's suppressed in-need count (3) or a total containing it, and
// fails if the exact count (or a rate or density exact enough to give it back)
// appears, or if a total minus the shown other villages gives it back.
func TestSuppressedCountNotRecoverable(t *testing.T) {
	f := newCanaryFixture(t)
	B := f.villages[1]
	get := func(role geo.Role, path string) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+f.tokens[role])
		resp, err := f.srv.App().Test(req, 120000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	type score struct {
		Households json.RawMessage     `json:"households"`
		InNeed     json.RawMessage     `json:"in_need"`
		H          *float64            `json:"h"`
		M0EB       *float64            `json:"m0_eb"`
		Rank       int                 `json:"rank"`
		M0         *float64            `json:"m0"`
		Density    *float64            `json:"density"`
		AreaKm2    float64             `json:"area_km2"`
		Deprived   map[string]any      `json:"deprived"`
		Rates      map[string]*float64 `json:"rates"`
	}
	type row struct {
		Code          string `json:"code"`
		KecamatanCode string `json:"kecamatan_code"`
		Score         *score `json:"score"`
	}
	type ranking struct {
		Villages []row `json:"villages"`
	}
	// The planner's exact view: the numbers that must stay hidden.
	code, _, body := get(geo.RolePlanner, "/api/v1/villages")
	var exact ranking
	if err := json.Unmarshal(body, &exact); code != 200 || err != nil {
		t.Fatalf("planner ranking: %d %v %.300s", code, err, body)
	}
	var ex *score
	for _, r := range exact.Villages {
		if r.Code == B {
			ex = r.Score
		}
	}
	if ex == nil || string(ex.InNeed) != "3" || string(ex.Households) != "40" {
		t.Fatalf("planner view of %s: %+v (want 3 in need of 40)", B, ex)
	}
	secrets := map[string]float64{"in_need": 3}
	for k, v := range map[string]*float64{"h": ex.H, "m0": ex.M0, "density": ex.Density, "rates.stunting": ex.Rates["stunting"]} {
		if v != nil && *v != 0 {
			secrets[k] = *v
		}
	}

	code, _, body = get(geo.RoleCompany, "/api/v1/villages")
	var shown ranking
	if err := json.Unmarshal(body, &shown); code != 200 || err != nil {
		t.Fatalf("company ranking: %d %v", code, err)
	}
	// The smoothed score is shown to companies as recomputed from shown counts;
	// the exact one (from the suppressed count) must not reach them either.
	for _, r := range shown.Villages {
		if r.Code == B && r.Score != nil && ex.M0EB != nil && (r.Score.M0EB == nil || *r.Score.M0EB != *ex.M0EB) {
			secrets["m0_eb"] = *ex.M0EB
		}
		if r.Code == B && r.Score != nil && r.Score.Rank != ex.Rank && ex.Rank > 0 {
			secrets["rank"] = float64(ex.Rank) // the exact order would tell a suppressed count apart
		}
	}
	others := map[string]int64{} // group → sum of the other villages' shown in-need counts
	for _, r := range shown.Villages {
		if r.Score == nil {
			continue
		}
		if r.Code == B {
			var s string
			if json.Unmarshal(r.Score.InNeed, &s) != nil || s != "<5" {
				t.Errorf("company ranking shows %s's in-need count as %s, want \"<5\"", B, r.Score.InNeed)
			}
			continue
		}
		n, err := strconv.ParseInt(string(r.Score.InNeed), 10, 64)
		if err != nil {
			continue // suppressed elsewhere: counts 0 in a total of shown counts
		}
		others["regency"] += n
		if r.KecamatanCode == f.kec {
			others["kecamatan"] += n
		}
	}

	// Every company view: the number must not appear next to B, and no total may
	// give it back.
	paths := []string{"/api/v1/villages", "/api/v1/villages?format=geojson", "/api/v1/villages/" + B,
		"/api/v1/villages/" + f.villages[0], "/api/v1/villages?kecamatan=" + f.kec,
		fmt.Sprintf("/api/v1/companies/%d/rings", f.co1), fmt.Sprintf("/api/v1/companies/%d/suggestions?year=2026", f.co1),
		fmt.Sprintf("/api/v1/companies/%d/neighbours", f.co1), "/api/v1/plans",
		fmt.Sprintf("/ogc/collections/desa/items/%s", B), "/ogc/collections/desa/items?limit=1000"}
	var tiles []maptile.Tile
	for _, c := range f.canaries[:2] {
		tiles = append(tiles, c.tile12, c.tile15)
	}
	for _, tl := range tiles {
		paths = append(paths, fmt.Sprintf("/tiles/desa/%d/%d/%d.geojson", tl.Z, tl.X, tl.Y), fmt.Sprintf("/tiles/desa/%d/%d/%d.mvt", tl.Z, tl.X, tl.Y))
	}
	var totals int
	for _, p := range paths {
		code, ctype, body := get(geo.RoleCompany, p)
		if code != 200 {
			t.Errorf("company GET %s: %d %.200s", p, code, body)
			continue
		}
		var doc any
		if strings.Contains(ctype, "json") {
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		} else {
			tl := tiles[slices.IndexFunc(tiles, func(tl maptile.Tile) bool {
				return strings.Contains(p, fmt.Sprintf("/%d/%d/%d.", tl.Z, tl.X, tl.Y))
			})]
			layers, err := mvt.Unmarshal(body)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			layers.ProjectToWGS84(tl)
			var feats []any
			for _, l := range layers {
				for _, ft := range l.Features {
					feats = append(feats, map[string]any(ft.Properties))
				}
			}
			doc = feats
		}
		for _, leak := range suppressedLeaks(doc, B, secrets, false) {
			hint := ""
			if (strings.HasPrefix(leak, "m0_eb") || strings.HasPrefix(leak, "rank")) && (strings.HasPrefix(p, "/tiles/") || strings.HasPrefix(p, "/ogc/")) {
				// Known at the time of writing: the desa layer gives companies
				// village_score's m0_eb and rank, computed from exact counts (geo/layers.go
				// scoreColumnsCompany), while the JSON API gives them matching.ControlScores'.
				hint = " — the desa layer must carry the controlled value for companies (matching.ControlScores), not village_score's exact one"
			}
			t.Errorf("company GET %s: %s%s", p, leak, hint)
		}
		if strings.Contains(p, "/tiles/desa/") && namesVillage(doc, B) == 0 && strings.Contains(p, fmt.Sprintf("/%d/%d/%d.", f.canaries[1].tile15.Z, f.canaries[1].tile15.X, f.canaries[1].tile15.Y)) {
			t.Errorf("company GET %s: village %s is not in its own tile: the tile check examined nothing", p, B)
		}
		// Totals: kecamatan and regency score cards.
		if m, ok := doc.(map[string]any); ok {
			for group := range others {
				sum, ok := m[group].(map[string]any)
				if !ok {
					continue
				}
				totals++
				tot, ok := sum["in_need"].(float64)
				if !ok {
					continue
				}
				if rec := int64(tot) - others[group]; rec >= 1 && rec <= 4 {
					t.Errorf("company GET %s: %s total %v minus the shown other villages (%d) gives back a suppressed count %d",
						p, group, tot, others[group], rec)
				}
				if h, ok := sum["h"].(float64); ok {
					if hh, ok := sum["households"].(float64); ok && math.Abs(h*hh-tot) > 0.01 {
						t.Errorf("company GET %s: %s rate %v is not derived from the shown totals (%v of %v)", p, group, h, tot, hh)
					}
				}
			}
		}
	}
	if totals < 4 {
		t.Errorf("only %d kecamatan/regency totals read; the detail view should give two per village", totals)
	}
	// Self-check: the planner's exact view does show the count next to B.
	_, _, body = get(geo.RolePlanner, "/api/v1/villages/"+B)
	var doc any
	_ = json.Unmarshal(body, &doc)
	if len(suppressedLeaks(doc, B, secrets, false)) == 0 {
		t.Errorf("the detector finds nothing in the planner's exact view of %s: it cannot be trusted", B)
	}
}

// suppressedLeaks walks doc for objects naming village code and reports members
// equal to a secret (exact in-need count, rate, density) in their subtree.
func suppressedLeaks(doc any, code string, secrets map[string]float64, inside bool) []string {
	var out []string
	switch v := doc.(type) {
	case map[string]any:
		names := v["code"] == code || v["village_code"] == code || v["fid"] == code || v["id"] == code
		if c, ok := v["code"].(string); ok && c != code {
			inside = false // another village's object
		}
		inside = inside || names
		for k, x := range v {
			if inside {
				if want, ok := secrets[k]; ok {
					if got, ok := number(x); ok && math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) {
						out = append(out, fmt.Sprintf("%s = %v is the value of the exact view (it carries the suppressed count)", k, x))
					}
				}
				if k == "rates" || k == "deprived" {
					if m, ok := x.(map[string]any); ok {
						for sk, sx := range m {
							if got, ok := number(sx); ok {
								if want, ok := secrets[k+"."+sk]; ok && math.Abs(got-want) <= 1e-9 {
									out = append(out, fmt.Sprintf("%s.%s = %v is the exact value", k, sk, sx))
								}
								if k == "deprived" && got == secrets["in_need"] {
									out = append(out, fmt.Sprintf("deprived.%s = %v is the exact suppressed count", sk, sx))
								}
							}
						}
					}
				}
			}
			out = append(out, suppressedLeaks(x, code, secrets, inside)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, suppressedLeaks(x, code, secrets, inside)...)
		}
	}
	return out
}

// namesVillage counts objects naming village code.
func namesVillage(doc any, code string) int {
	n := 0
	switch v := doc.(type) {
	case map[string]any:
		if v["code"] == code || v["village_code"] == code {
			n++
		}
		for _, x := range v {
			n += namesVillage(x, code)
		}
	case []any:
		for _, x := range v {
			n += namesVillage(x, code)
		}
	}
	return n
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}
