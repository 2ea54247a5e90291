package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// upload posts a register as multipart form data.
func (f *fixture) upload(t *testing.T, token, name, content string, fields map[string]string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/households/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := f.srv.App().Test(req, 60000)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

const secretName = "Zulaikha Unikawati"

const registerCSV = "id_keluarga,no_kk,nik,nama_kepala,alamat,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,desil,penganggur\n" +
	"R1,3216011203950001,3216015505800002," + secretName + ",Kp. Rahasia RT 001/RW 002,99.01.01.2001,107.005,-6.195,4,1,1,1,1,0\n" +
	"R2,3216011203950003,3216015505800004,Budi Santoso,Kp. Lain,99.01.01.2001,107.006,-6.196,3,0,0,0,3,1\n" +
	"R3,3216011203950005,3216015505800006,Ani,Kp. Lain,99.01.01.2001,107.004,-6.194,2,0,0,0,,0\n" +
	"R4,3216011203950007,3216015505800008,Dedi,Kp. Lain,99.01.01.2001,107.004,-6.194,2,0,1,0,,0\n"

func TestHouseholdImportRouteAndOfficerRead(t *testing.T) {
	t.Setenv("SINERGI_HASH_KEY", strings.Repeat("ab", 32))
	f := newFixture(t)
	ctx := context.Background()
	_, offTok, err := f.owner.AddUser(ctx, geo.NewUser{Name: "petugas", Role: geo.RoleOfficer, Area: []string{"99.01.01.2001"}})
	if err != nil {
		t.Fatal(err)
	}
	form := map[string]string{"register": "survey", "period": "2026"}

	for _, r := range []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleOfficer, geo.RoleAdmin} {
		if code, body := f.upload(t, f.tokens[r], "reg.csv", registerCSV, form); code != 403 {
			t.Errorf("%s uploading a register: %d %s", r, code, body)
		}
	}
	code, body := f.upload(t, f.tokens[geo.RoleGIS], "reg.csv", registerCSV, form)
	if code != 200 {
		t.Fatalf("gis upload: %d %s", code, body)
	}
	var res struct {
		Inserted int64        `json:"inserted"`
		Rejected int64        `json:"rejected"`
		Assigned int64        `json:"assigned"`
		Rejects  []geo.Reject `json:"rejects"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 3 || res.Rejected != 1 || res.Assigned != 3 || len(res.Rejects) != 1 || res.Rejects[0].Row != 5 ||
		!strings.Contains(res.Rejects[0].Reason, "stunted") {
		t.Fatalf("upload result %s", body)
	}
	if strings.Contains(body, "3216015505800008") || strings.Contains(body, "Dedi") {
		t.Fatalf("the reject report leaks personal data: %s", body)
	}
	// Strict: nothing loaded, 422 with the report.
	code, body = f.upload(t, f.tokens[geo.RoleGIS], "reg.csv", registerCSV, map[string]string{"register": "survey", "period": "2025", "strict": "true"})
	if code != 422 || !strings.Contains(body, "nothing loaded") {
		t.Fatalf("strict upload: %d %s", code, body)
	}
	if code, body := f.upload(t, f.tokens[geo.RoleGIS], "reg.csv", registerCSV, map[string]string{"register": "nope", "period": "2026"}); code != 422 || !strings.Contains(body, "unknown register") {
		t.Fatalf("unknown register: %d %s", code, body)
	}
	if code, body := f.upload(t, f.tokens[geo.RoleGIS], "empty.csv", "", form); code != 422 || !strings.Contains(body, "empty.csv") {
		t.Fatalf("empty file: %d %s", code, body)
	}

	path := "/api/v1/villages/99.01.01.2001/households"
	// The officer, in area, with a purpose.
	resp, body := f.do(t, "GET", path+"?purpose=verifikasi+lapangan+posyandu", offTok, "")
	if resp.StatusCode != 200 || !strings.Contains(body, secretName) || !strings.Contains(body, `"count":3`) {
		t.Fatalf("officer read: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("personal data may be cached")
	}
	var audited int64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'households.read' AND actor = 'petugas'
		AND ok AND purpose = 'verifikasi lapangan posyandu' AND object = 'village:99.01.01.2001'`).Scan(&audited); err != nil || audited != 1 {
		t.Fatalf("audit rows %d %v", audited, err)
	}
	// Refusals: no purpose, outside the area (the fixture's officer has none), other roles.
	if resp, body := f.do(t, "GET", path, offTok, ""); resp.StatusCode != 400 || !strings.Contains(body, "purpose") {
		t.Errorf("no purpose: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "GET", "/api/v1/villages/99.01.01.2002/households?purpose=verifikasi", offTok, ""); resp.StatusCode != 403 || !strings.Contains(body, "outside your assigned area") {
		t.Errorf("outside the area: %d %s", resp.StatusCode, body)
	}
	if resp, body := f.do(t, "GET", path+"?purpose=verifikasi", f.tokens[geo.RoleOfficer], ""); resp.StatusCode != 403 {
		t.Errorf("officer without that village: %d %s", resp.StatusCode, body)
	}
	var refused int64
	if err := f.owner.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'households.read' AND NOT ok`).Scan(&refused); err != nil || refused != 3 {
		t.Errorf("refused reads audited: %d %v", refused, err)
	}
	// Personal fields are unreadable through every non-officer path.
	for _, r := range []geo.Role{geo.RolePlanner, geo.RoleCompany, geo.RoleGIS, geo.RoleAdmin} {
		if resp, _ := f.do(t, "GET", path+"?purpose=verifikasi", f.tokens[r], ""); resp.StatusCode != 403 {
			t.Errorf("%s reading households: %d", r, resp.StatusCode)
		}
		for _, p := range []string{"/api/v1/villages", "/api/v1/villages?format=geojson", "/api/v1/villages?format=csv",
			"/api/v1/villages/99.01.01.2001", "/api/v1/audit", "/api/v1/boundaries", "/api/v1/me", "/ogc/collections",
			"/tiles/need/12/3265/2120.geojson", "/tiles/desa/12/3265/2120.geojson"} {
			_, b := f.do(t, "GET", p, f.tokens[r], "")
			if strings.Contains(b, secretName) || strings.Contains(b, "Kp. Rahasia") {
				t.Errorf("%s GET %s shows personal data", r, p)
			}
		}
	}
	// Even called directly with a non-officer's credential, the database function refuses.
	_, err = f.owner.OfficerHouseholds(ctx, geo.OfficerRequest{Credential: f.tokens[geo.RolePlanner], Village: "99.01.01.2001", Purpose: "ingin tahu"})
	if !errors.Is(err, geo.ErrOfficerForbidden) {
		t.Errorf("planner credential through the function: %v", err)
	}
	_, err = f.owner.OfficerHouseholds(ctx, geo.OfficerRequest{Credential: "sng_forged", Village: "99.01.01.2001", Purpose: "ingin tahu"})
	if !errors.Is(err, geo.ErrUnauthenticated) {
		t.Errorf("forged credential through the function: %v", err)
	}
	// The web role can read token hashes; a hash is not a credential.
	var stolen string
	if err := f.owner.Pool.QueryRow(ctx, `SELECT encode(t.token_hash, 'hex') FROM api_token t JOIN app_user u ON u.id = t.user_id
		WHERE u.name = 'petugas'`).Scan(&stolen); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.OfficerHouseholds(ctx, geo.OfficerRequest{Credential: stolen, Village: "99.01.01.2001", Purpose: "ingin tahu"}); !errors.Is(err, geo.ErrUnauthenticated) {
		t.Errorf("a stolen token hash through the function: %v", err)
	}
	// Rate limit: the database counts successful reads per hour.
	if _, err := f.owner.Pool.Exec(ctx, `UPDATE app_meta SET value = '2' WHERE key = 'officer_reads_per_hour'`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, "GET", path+"?purpose=verifikasi+kedua", offTok, ""); resp.StatusCode != 200 {
		t.Fatalf("second read: %d", resp.StatusCode)
	}
	if resp, body := f.do(t, "GET", path+"?purpose=verifikasi+ketiga", offTok, ""); resp.StatusCode != 429 {
		t.Fatalf("third read within the hour: %d %s", resp.StatusCode, body)
	}
}
