package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// jsonOfSize is a JSON object of exactly n bytes (n ≥ 10).
func jsonOfSize(n int) string {
	return `{"x":"` + strings.Repeat("a", n-len(`{"x":""}`)) + `"}`
}

// TestBodyLimitsPerRouteClass sends, to every POST/PUT route of the router, a
// body one byte over its class limit (413 problem naming the limit, nothing
// parsed) and one exactly at the limit (not 413). Upload routes keep the
// server-wide limit: here 3 MB, so a 2.5 MB register is not refused by size.
func TestBodyLimitsPerRouteClass(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	cfg := api.DefaultConfig()
	cfg.BodyLimit = 3 << 20
	srv := api.New(cfg, web, owner, slog.New(slog.NewTextHandler(io.Discard, nil)))
	want := map[string]int{ // the classes, by route, as documented in api/limits.go
		"POST /api/v1/login":                   api.SmallBodyLimit,
		"PUT /api/v1/weights":                  api.SmallBodyLimit,
		"POST /api/v1/users":                   api.SmallBodyLimit,
		"POST /api/v1/match":                   api.ListBodyLimit,
		"POST /api/v1/priorities":              api.ListBodyLimit,
		"POST /api/v1/plans":                   api.ListBodyLimit,
		"POST /api/v1/companies":               api.GeometryBodyLimit,
		"PUT /api/v1/companies/:id":            api.GeometryBodyLimit,
		"POST /api/v1/boundaries":              cfg.BodyLimit,
		"POST /api/v1/households/import":       cfg.BodyLimit,
		"POST /api/v1/plans/:id/approve":       api.SmallBodyLimit,
		"POST /api/v1/match/:id/accept":        api.SmallBodyLimit,
		"POST /api/v1/boundaries/:id/activate": api.SmallBodyLimit,
	}
	send := func(method, path, body string) (int, string, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.App().Test(req, 60000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	seen := map[string]bool{}
	for _, rt := range srv.App().GetRoutes(true) {
		if rt.Method != http.MethodPost && rt.Method != http.MethodPut {
			continue
		}
		key := rt.Method + " " + rt.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		path := samplePath(rt.Path)
		limit := api.BodyLimitFor(rt.Method, path, cfg.BodyLimit)
		if w, ok := want[key]; ok && w != limit {
			t.Errorf("%s: limit %d, want %d", key, limit, w)
		}
		if limit > cfg.BodyLimit {
			t.Errorf("%s: limit %d above the server-wide %d", key, limit, cfg.BodyLimit)
		}
		if limit == cfg.BodyLimit {
			continue // uploads: the server-wide limit (tested below and in TestBoundaryUploadLimit)
		}
		// No token: a body under the limit reaches authentication (401); over it, 413 first.
		code, ctype, body := send(rt.Method, path, jsonOfSize(limit+1))
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal([]byte(body), &p)
		if code != 413 || ctype != "application/problem+json" || p.Status != 413 ||
			!strings.Contains(p.Detail, fmt.Sprintf("limit of %d KB", limit>>10)) && !strings.Contains(p.Detail, fmt.Sprintf("limit of %d MB", limit>>20)) {
			t.Errorf("%s with %d bytes (limit %d): %d %s %.300s", key, limit+1, limit, code, ctype, body)
		}
		if code, _, body := send(rt.Method, path, jsonOfSize(limit)); code == 413 {
			t.Errorf("%s with exactly %d bytes refused: %.300s", key, limit, body)
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("the router has no route %s", key)
		}
	}

	// Uploads keep the large limit: a 2.5 MB register gets past the size check
	// (then authentication refuses it: no token), a 3.5 MB one does not.
	for _, size := range []int{5 << 19, 7 << 19} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("register", "survey")
		w, _ := mw.CreateFormFile("file", "reg.csv")
		_, _ = io.WriteString(w, strings.Repeat("x", size))
		_ = mw.Close()
		req := httptest.NewRequest("POST", "/api/v1/households/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		over := buf.Len() > cfg.BodyLimit
		resp, err := srv.App().Test(req, 60000)
		if err != nil {
			// Over the server-wide limit fasthttp refuses the body itself (a real
			// listener answers 413: TestBoundaryUploadLimit).
			if !over || !strings.Contains(err.Error(), "exceeds the given limit") {
				t.Fatal(err)
			}
			continue
		}
		resp.Body.Close()
		if over != (resp.StatusCode == 413) {
			t.Errorf("register upload of %d bytes (limit %d): %d", size, cfg.BodyLimit, resp.StatusCode)
		}
	}

	// GETs and unclassed routes: the default limit.
	if got := api.BodyLimitFor("GET", "/api/v1/villages", cfg.BodyLimit); got != api.DefaultBodyLimit {
		t.Errorf("GET default limit %d", got)
	}
	if got := api.BodyLimitFor("POST", "/API/v1/Login/", cfg.BodyLimit); got != api.SmallBodyLimit {
		t.Errorf("case-insensitive route match: %d, want %d", got, api.SmallBodyLimit)
	}
}
