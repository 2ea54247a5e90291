package geo_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

func TestMigrateFromEmptyAndRerun(t *testing.T) {
	url := geotest.NewDatabase(t)
	ctx := context.Background()
	r1, err := geo.Migrate(ctx, url)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if r1.From != 0 || int(r1.To) != geo.LatestVersion() {
		t.Fatalf("first migrate went %d→%d, want 0→%d", r1.From, r1.To, geo.LatestVersion())
	}
	r2, err := geo.Migrate(ctx, url)
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if r2.From != r2.To || int(r2.To) != geo.LatestVersion() {
		t.Fatalf("second migrate went %d→%d, want a no-op at %d", r2.From, r2.To, geo.LatestVersion())
	}
	s, err := geo.Open(ctx, url, geo.Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after migrate: %v", err)
	}
}

func TestReadyBeforeMigrate(t *testing.T) {
	url := geotest.NewDatabase(t)
	s, err := geo.Open(context.Background(), url, geo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Ready(context.Background()); !errors.Is(err, geo.ErrNotMigrated) {
		t.Fatalf("Ready on an empty database = %v, want ErrNotMigrated", err)
	}
}

func TestWebRoleCannotReadPII(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	var who string
	if err := web.Pool.QueryRow(ctx, "SELECT current_user").Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != geo.WebRole {
		t.Fatalf("web pool runs as %q, want %q", who, geo.WebRole)
	}
	for _, q := range []string{
		"SELECT count(*) FROM pii.household_person",
		"SELECT count(*) FROM pii.erasure",
		"INSERT INTO pii.erasure (register, external_id) VALUES ('demo', 'x')",
		"RESET ROLE",
	} {
		_, err := web.Pool.Exec(ctx, q)
		if q == "RESET ROLE" {
			// RESET ROLE works for a member, which is why production should log in as
			// sinergi_web directly (SINERGI_WEB_DATABASE_URL); the pool never issues it.
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("web role: %s: err = %v, want permission denied", q, err)
		}
	}
	// The owner can.
	if _, err := owner.Pool.Exec(ctx, "SELECT count(*) FROM pii.household_person"); err != nil {
		t.Fatalf("owner reading pii: %v", err)
	}
}

func TestTokensAndPasswords(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	u, token, err := owner.AddUser(ctx, geo.NewUser{Name: "rina", Role: geo.RolePlanner})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "sng_") || len(token) < 40 {
		t.Fatalf("token %q looks weak", token)
	}
	got, err := web.UserByToken(ctx, token)
	if err != nil || got.ID != u.ID || got.Role != geo.RolePlanner {
		t.Fatalf("UserByToken = %+v, %v", got, err)
	}
	// The token is stored hashed.
	var n int
	if err := owner.Pool.QueryRow(ctx, "SELECT count(*) FROM api_token WHERE token_hash = convert_to($1, 'UTF8')", token).Scan(&n); err != nil || n != 0 {
		t.Fatalf("token stored in clear? n=%d err=%v", n, err)
	}
	for _, bad := range []string{"", "sng_", token + "x", "Bearer " + token, strings.ToUpper(token)} {
		if _, err := web.UserByToken(ctx, bad); !errors.Is(err, geo.ErrUnauthenticated) {
			t.Errorf("UserByToken(%q) err = %v, want ErrUnauthenticated", bad, err)
		}
	}
	if _, _, err := web.Login(ctx, "rina", "whatever1", "127.0.0.1"); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Fatalf("login without a password set: %v", err)
	}
	if err := owner.SetPassword(ctx, "rina", "short", "test"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if err := owner.SetPassword(ctx, "rina", "kata-sandi-panjang", "test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := web.Login(ctx, "rina", "kata-sandi-salah", "127.0.0.1"); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := web.Login(ctx, "nobody", "kata-sandi-panjang", "127.0.0.1"); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Fatalf("unknown user: %v", err)
	}
	_, sid, err := web.Login(ctx, "rina", "kata-sandi-panjang", "127.0.0.1")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	if got, err := web.UserBySession(ctx, sid); err != nil || got.Name != "rina" {
		t.Fatalf("UserBySession = %+v, %v", got, err)
	}
	if err := web.Logout(ctx, sid, u, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := web.UserBySession(ctx, sid); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Fatalf("session after logout: %v", err)
	}
	// Revoked tokens stop working.
	if _, err := owner.RevokeTokens(ctx, "rina", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := web.UserByToken(ctx, token); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	// Failed logins are audited.
	var failed int
	if err := owner.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'login' AND NOT ok").Scan(&failed); err != nil || failed != 3 {
		t.Fatalf("failed login audit rows = %d (err %v), want 3", failed, err)
	}
}

func TestAddUserValidation(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	id := int64(999)
	cases := []geo.NewUser{
		{Name: "x", Role: geo.RolePlanner},                            // name too short
		{Name: "budi", Role: "boss"},                                  // unknown role
		{Name: "budi", Role: geo.RoleCompany},                         // company without id
		{Name: "budi", Role: geo.RolePlanner, CompanyID: &id},         // id without company role
		{Name: "budi", Role: geo.RoleCompany, CompanyID: &id},         // missing company
		{Name: "budi", Role: geo.RoleOfficer, Area: []string{"3216"}}, // malformed area
	}
	for _, c := range cases {
		if _, _, err := owner.AddUser(ctx, c); err == nil {
			t.Errorf("AddUser(%+v) succeeded", c)
		}
	}
	if _, _, err := owner.AddUser(ctx, geo.NewUser{Name: "budi", Role: geo.RoleOfficer, Area: []string{"32.16.01.2001"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := owner.AddUser(ctx, geo.NewUser{Name: "budi", Role: geo.RoleGIS}); !errors.Is(err, geo.ErrUserExists) {
		t.Fatalf("duplicate user: %v", err)
	}
}

func TestLoadRealBekasiVillages(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	id := geotest.ActivateShared(t, owner, "bekasi_desa.geojson", geo.LevelDesa)
	var villages, kec, parts int
	var area float64
	err := owner.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT kecamatan_code), sum(area_km2),
		(SELECT ST_NumGeometries(geom) FROM village WHERE set_id = $1 AND code = '32.16.03.2004')
		FROM village WHERE set_id = $1`, id).Scan(&villages, &kec, &area, &parts)
	if err != nil {
		t.Fatal(err)
	}
	if villages != 187 || kec != 23 || parts != 2 {
		t.Fatalf("villages=%d kecamatan=%d parts of 32.16.03.2004=%d, want 187, 23, 2", villages, kec, parts)
	}
	// The README's independent figure: 1,251.8 km² in UTM 48S; geodesic areas agree within 0.5%.
	if math.Abs(area-1251.8)/1251.8 > 0.005 {
		t.Fatalf("total area %.1f km², want ≈1251.8", area)
	}
	// Rings are stored counter-clockwise (RFC 7946) although the file's are clockwise.
	var cw int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM village WHERE set_id = $1 AND NOT ST_IsPolygonCCW(geom)`, id).Scan(&cw); err != nil || cw != 0 {
		t.Fatalf("clockwise villages after load: %d (err %v)", cw, err)
	}
	vs, err := web.ActiveVillages(ctx)
	if err != nil || len(vs) != 187 {
		t.Fatalf("ActiveVillages via the web role: %d, %v", len(vs), err)
	}
	b, err := web.ActiveVillagesGeoJSON(ctx)
	if err != nil || !strings.Contains(string(b), `"Sukawangi"`) || !strings.Contains(string(b), `"MultiPolygon"`) {
		t.Fatalf("GeoJSON: %.200s… err %v", b, err)
	}
}

func TestReadBoundaryGeoJSONErrors(t *testing.T) {
	cases := map[string]string{
		"":                                "empty",
		"{\"type\":\"FeatureCollection\"": "not a GeoJSON",
		`{"type":"FeatureCollection","features":[]}`: "no features",
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"1"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`:                      "feature 1: geometry is a Point",
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"x":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`: "no code property",
	}
	for in, want := range cases {
		_, err := geo.ReadBoundaryGeoJSON(strings.NewReader(in), "f.geojson", geo.LevelDesa, geo.FieldMap{})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "f.geojson") {
			t.Errorf("input %.40q: err = %v, want it to name the file and say %q", in, err, want)
		}
	}
}

func TestHouseholdImportAssignAndIdempotence(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	feats := []geo.BoundaryFeature{
		square("99.01.01.2001", 107.00, -6.20, 0.01),
		square("99.01.01.2002", 107.01, -6.20, 0.01), // shares the x=107.01 border with 2001
	}
	id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "squares", "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	key := geotest.HashKey()
	recs := []geo.HouseholdRecord{
		{ExternalID: "a", Lon: 107.005, Lat: -6.195, Members: 4, ChildrenU5: 1, Stunted: 1, KKHash: key.Sum("3216000000000001"), HeadName: "Siti"},
		{ExternalID: "b", Lon: 107.01, Lat: -6.195, Members: 3, ReportedVillage: "99.01.01.2002"}, // on the border
		{ExternalID: "c", Lon: 107.0202, Lat: -6.195, Members: 2},                                 // ~22 m east of 2002: a gap
		{ExternalID: "d", Lon: 108.0, Lat: -6.195, Members: 2},                                    // far outside
		{ExternalID: "e", Lon: math.NaN(), Lat: math.NaN(), Members: 1},                           // no location
	}
	load := func() geo.ImportResult {
		i := 0
		res, err := owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "t.csv"},
			func() (geo.HouseholdRecord, bool, error) {
				if i == len(recs) {
					return geo.HouseholdRecord{}, false, nil
				}
				i++
				return recs[i-1], true, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r1 := load()
	if r1.Rows != 5 || r1.Inserted != 5 || r1.Unassigned != 2 {
		t.Fatalf("first import %+v", r1)
	}
	want := map[string][2]string{"a": {"99.01.01.2001", "inside"}, "b": {"99.01.01.2002", "overlap"},
		"c": {"99.01.01.2002", "nearest"}, "d": {"", "none"}, "e": {"", "none"}}
	rows, _ := owner.Pool.Query(ctx, `SELECT external_id, coalesce(village_code, ''), assign_method FROM household`)
	got := map[string][2]string{}
	for rows.Next() {
		var id, code, m string
		if err := rows.Scan(&id, &code, &m); err != nil {
			t.Fatal(err)
		}
		got[id] = [2]string{code, m}
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("household %s assigned %v, want %v", k, got[k], w)
		}
	}
	r2 := load()
	if r2.Inserted != 0 || r2.Updated != 0 || r2.Unchanged != 5 || r2.BatchID != 0 {
		t.Fatalf("re-import %+v, want nothing changed", r2)
	}
	recs[0].Stunted = 0
	r3 := load()
	if r3.Updated != 1 || r3.Inserted != 0 {
		t.Fatalf("changed-row import %+v, want 1 updated", r3)
	}
	var n int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM pii.household_person WHERE head_name = 'Siti'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("personal data row: %d %v", n, err)
	}
}

func square(code string, x0, y0, d float64) geo.BoundaryFeature {
	ring := orb.Ring{{x0, y0}, {x0 + d, y0}, {x0 + d, y0 + d}, {x0, y0 + d}, {x0, y0}}
	return geo.BoundaryFeature{Code: code, Name: code, KecCode: code[:8], Kind: "desa", Geom: orb.MultiPolygon{{ring}}}
}
