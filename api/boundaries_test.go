package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// upload posts a multipart form with one file part per name→body.
func upload(t *testing.T, app interface {
	Test(*http.Request, ...int) (*http.Response, error)
}, token string, fields map[string]string, files map[string]string) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, body := range files {
		w, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/api/v1/boundaries", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Test(req, 60000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func squares(codes ...string) string {
	var fs []string
	for i, c := range codes {
		x := 107 + 0.01*float64(i)
		fs = append(fs, fmt.Sprintf(`{"type":"Feature","properties":{"kode_desa":%q,"nama_desa":"Desa %d"},"geometry":{"type":"Polygon","coordinates":[[[%g,-6.2],[%g,-6.2],[%g,-6.19],[%g,-6.19],[%g,-6.2]]]}}`,
			c, i, x, x+0.01, x+0.01, x, x))
	}
	return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
}

func TestBoundaryUploadDiffActivateExport(t *testing.T) {
	f := newFixture(t)
	app := f.srv.App()
	gis := f.tokens[geo.RoleGIS]
	file := map[string]string{"desa.geojson": squares("99.01.01.2001", "99.01.01.2002")}

	if resp, _ := upload(t, app, f.tokens[geo.RolePlanner], map[string]string{"level": "desa"}, file); resp.StatusCode != 403 {
		t.Fatalf("planner upload: %d, want 403", resp.StatusCode)
	}
	resp, body := upload(t, app, gis, map[string]string{"level": "desa", "dry_run": "true"}, file)
	if resp.StatusCode != 200 || !strings.Contains(body, `"dry_run":true`) || !strings.Contains(body, `"loaded":2`) {
		t.Fatalf("dry run: %d %s", resp.StatusCode, body)
	}
	resp, body = upload(t, app, gis, map[string]string{"level": "desa"}, file)
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var created struct {
		ID     int64              `json:"id"`
		Report geo.BoundaryReport `json:"report"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.ID == 0 || created.Report.Counts["promoted"] != 2 {
		t.Fatalf("upload body: %v %s", err, body)
	}
	// The upload is a draft: the villages list still shows the old set.
	if _, b := f.do(t, "GET", "/api/v1/villages", f.tokens[geo.RolePlanner], ""); !strings.Contains(b, `"count":1`) {
		t.Fatalf("villages before activation: %s", b)
	}
	resp, body = f.do(t, "GET", fmt.Sprintf("/api/v1/boundaries/%d/diff", created.ID), f.tokens[geo.RolePlanner], "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"added":[{"code":"99.01.01.2002"`) || !strings.Contains(body, `"moves_computed":true`) {
		t.Fatalf("diff: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "POST", fmt.Sprintf("/api/v1/boundaries/%d/activate", created.ID), f.tokens[geo.RolePlanner], ""); resp.StatusCode != 403 {
		t.Fatalf("planner activation: %d, want 403", resp.StatusCode)
	}
	resp, body = f.do(t, "POST", fmt.Sprintf("/api/v1/boundaries/%d/activate", created.ID), gis, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"previous":1`) {
		t.Fatalf("activate: %d %s", resp.StatusCode, body)
	}
	if _, b := f.do(t, "GET", "/api/v1/villages", f.tokens[geo.RolePlanner], ""); !strings.Contains(b, `"count":2`) {
		t.Fatalf("villages after activation: %s", b)
	}
	resp, body = f.do(t, "GET", "/api/v1/boundaries/active?format=geojson", f.tokens[geo.RoleCompany], "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"99.01.01.2002"`) || resp.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("active geojson: %d %.200s", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/boundaries/active?format=gpkg", gis, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "SQLite format 3") {
		t.Fatalf("active gpkg: %d %.40q", resp.StatusCode, body)
	}
	resp, body = f.do(t, "GET", "/api/v1/boundaries", gis, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"retired"`) || !strings.Contains(body, `"loaded_by":"u-gis"`) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	// Bad input: a problem naming the file; a report when features are at fault.
	resp, body = upload(t, app, gis, map[string]string{"level": "desa"}, map[string]string{"cut.geojson": file["desa.geojson"][:60]})
	if resp.StatusCode != 422 || !strings.Contains(body, "cut.geojson") || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("truncated upload: %d %s", resp.StatusCode, body)
	}
	resp, body = upload(t, app, gis, map[string]string{"level": "desa"}, map[string]string{"dup.geojson": squares("99.01.01.2001", "99.01.01.2001")})
	if resp.StatusCode != 422 || !strings.Contains(body, `"duplicate_code"`) || !strings.Contains(body, `"report"`) {
		t.Fatalf("duplicate upload: %d %s", resp.StatusCode, body)
	}
	resp, body = upload(t, app, gis, map[string]string{"level": "desa"}, map[string]string{"x.exe": "MZ"})
	if resp.StatusCode != 400 || !strings.Contains(body, "not supported") {
		t.Fatalf("exe upload: %d %s", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "/api/v1/boundaries/999/diff", gis, ""); resp.StatusCode != 404 {
		t.Fatalf("diff of a missing set: %d", resp.StatusCode)
	}
}

func TestBoundaryUploadLimit(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	_, tok, err := owner.AddUser(context.Background(), geo.NewUser{Name: "gis", Role: geo.RoleGIS})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.DefaultConfig()
	cfg.BodyLimit = 4 << 10
	srv := api.New(cfg, web, owner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// A real listener: fasthttp refuses the body before any handler runs.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("level", "desa")
	w, _ := mw.CreateFormFile("file", "big.geojson")
	io.WriteString(w, strings.Repeat(" ", 8<<10)+squares("32.16.01.2001"))
	mw.Close()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/boundaries", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("upload over the limit: %d, want 413", resp.StatusCode)
	}
	var n int
	owner.Pool.QueryRow(context.Background(), `SELECT count(*) FROM boundary_set`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d sets after a refused upload", n)
	}
}
