package api_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/static"
)

func TestBootSignedOutAndIn(t *testing.T) {
	f := newFixture(t)
	var out struct {
		Config map[string]any `json:"config"`
		User   *geo.User      `json:"user"`
	}
	resp, body := f.do(t, "GET", "/api/v1/boot", "", "")
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("signed out: %d %s", resp.StatusCode, body)
	}
	if out.User != nil || out.Config["regency_name"] == nil || out.Config["basemap_url"] == nil {
		t.Fatalf("signed out: want user null and the config, got %s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	resp, body = f.do(t, "GET", "/api/v1/boot", f.tokens[geo.RolePlanner], "")
	out.User = nil
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &out) != nil || out.User == nil || out.User.Role != geo.RolePlanner {
		t.Fatalf("planner: %d %s", resp.StatusCode, body)
	}
}

func TestMapPagePrecompressedWithScriptHashes(t *testing.T) {
	if !static.Built() {
		t.Skip("static/dist not built (scripts/test.sh builds it)")
	}
	f := newFixture(t)
	index := static.Assets()["index.html"]
	resp, body := f.do(t, "GET", "/", "", "", "Accept-Encoding", "gzip, deflate, br")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "br" || body != string(index.Brotli) {
		t.Fatalf("GET / with br accepted: %d, Content-Encoding %q, %d bytes (want the prebuilt %d)",
			resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body), len(index.Brotli))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if len(index.ScriptHashes) < 2 {
		t.Fatalf("index.html: %d inline scripts hashed, want the prefetch script and the app", len(index.ScriptHashes))
	}
	for _, h := range index.ScriptHashes {
		if !strings.Contains(csp, h) {
			t.Errorf("CSP %q lacks %s", csp, h)
		}
	}
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP lost the site-wide policy: %q", csp)
	}

	// Without br: the prebuilt gzip, which decompresses to the page.
	resp, body = f.do(t, "GET", "/", "", "", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("GET / gzip: %d %q: %v", resp.StatusCode, resp.Header.Get("Content-Encoding"), err)
	}
	if html, _ := io.ReadAll(zr); string(html) != string(index.Body) {
		t.Fatalf("gzip body is not index.html")
	}
	// Revisit: 304 on the ETag.
	resp, _ = f.do(t, "GET", "/", "", "", "If-None-Match", index.ETag)
	if resp.StatusCode != 304 {
		t.Errorf("If-None-Match %s: %d, want 304", index.ETag, resp.StatusCode)
	}

	// The Leaflet chunk named in the page is cached for good; an unknown path is still a problem 404.
	chunk := regexp.MustCompile(`modulepreload" href="([^"]+)"`).FindStringSubmatch(string(index.Body))
	if chunk == nil {
		t.Fatal("index.html has no modulepreload")
	}
	resp, _ = f.do(t, "GET", "/"+chunk[1], "", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("GET /%s: %d, Cache-Control %q", chunk[1], resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, _ = f.do(t, "GET", "/favicon.svg", "", "", "Accept-Encoding", "identity")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /favicon.svg identity: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Cache-Control"))
	}
	if resp, _ := f.do(t, "GET", "/no-such-file.js", "", ""); resp.StatusCode != 404 {
		t.Errorf("unknown file: %d, want 404", resp.StatusCode)
	}
}
