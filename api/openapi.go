package api

import (
	"regexp"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// routeDocs describes routes by "METHOD /path" (Fiber syntax). Routes without an
// entry are still listed, from the router itself, with a generic summary.
var routeDocs = map[string]string{
	"GET /healthz":                          "Proses hidup (process up)",
	"GET /readyz":                           "Basis data terjangkau dan termigrasi (database reachable and migrated)",
	"GET /metrics":                          "Metrik Prometheus (Prometheus metrics)",
	"GET /api/openapi.json":                 "Dokumen ini: definisi OpenAPI 3.0 (this document)",
	"GET /api/v1/config":                    "Konfigurasi halaman peta (map page settings)",
	"POST /api/v1/login":                    "Masuk dengan nama dan kata sandi; membuka sesi cookie (sign in; opens a session cookie)",
	"POST /api/v1/logout":                   "Keluar (sign out)",
	"GET /api/v1/me":                        "Pengguna yang sedang masuk (the signed-in user)",
	"GET /api/v1/users":                     "Daftar pengguna (admin) (list users)",
	"POST /api/v1/users":                    "Tambah pengguna (admin) (add a user)",
	"GET /api/v1/audit":                     "Log audit (admin) (audit log)",
	"GET /api/v1/villages":                  "Desa berperingkat; ?format=json|csv|xlsx|geojson (ranked villages)",
	"GET /api/v1/boundaries":                "Set batas wilayah (boundary sets)",
	"GET /api/v1/villages/:code":            "Detail desa dan rincian skor (village detail and score breakdown)",
	"GET /api/v1/villages/:code/households": "Daftar rumah tangga satu desa; petugas saja, wajib tujuan (officer only, purpose required)",
	"GET /api/v1/weights":                   "Bobot indikator aktif (current indicator weights)",
	"PUT /api/v1/weights":                   "Versi bobot baru (new weights version)",
	"GET /api/v1/priorities":                "Daftar desa prioritas (priority lists)",
	"POST /api/v1/priorities":               "Versi daftar prioritas baru (new priority list version)",
	"POST /api/v1/boundaries":               "Unggah batas wilayah (multipart), dry_run (upload boundaries)",
	"GET /api/v1/boundaries/:id/diff":       "Beda set batas dengan yang aktif (diff against the active set)",
	"POST /api/v1/boundaries/:id/activate":  "Aktifkan set batas (activate a boundary set)",
	"GET /api/v1/boundaries/active":         "Set batas aktif; ?format=geojson|gpkg (the active set)",
	"POST /api/v1/households/import":        "Impor register rumah tangga (import a household register)",
	"GET /api/v1/companies":                 "Perusahaan (companies)",
	"POST /api/v1/companies":                "Tambah/ubah perusahaan (add or update a company)",
	"GET /api/v1/companies/:id/neighbours":  "Perusahaan tetangga (neighbouring companies)",
	"GET /api/v1/companies/:id/suggestions": "Saran desa untuk perusahaan (village suggestions)",
	"GET /api/v1/plans":                     "Rencana CSR (CSR plans)",
	"POST /api/v1/plans":                    "Ajukan rencana CSR (submit a CSR plan)",
	"POST /api/v1/plans/:id/approve":        "Setujui rencana (approve a plan)",
	"POST /api/v1/match":                    "Jalankan pencocokan (run the matcher)",
	"GET /api/v1/match/costs":               "Biaya satuan per sektor, versi terbaru dan sebelumnya (unit costs per sector, current and earlier versions)",
	"PUT /api/v1/match/costs":               "Versi biaya satuan baru (new unit-cost version)",
	"GET /api/v1/match/rules":               "Pin dan pengecualian pencocokan (matcher pins and exclusions)",
	"POST /api/v1/match/rules":              "Tambah pin atau pengecualian (add a pin or an exclusion)",
	"GET /api/v1/match/:id":                 "Usulan pencocokan tersimpan (a saved matcher proposal)",
	"POST /api/v1/match/:id/accept":         "Terima usulan; membuat rencana disetujui (accept a proposal: approved plans)",
	"POST /api/v1/villages/select":          "Desa yang bersinggungan dengan area gambar, urut peringkat (villages meeting a drawn area, in rank order)",
	"GET /api/v1/jobs/:id":                  "Kemajuan pekerjaan impor (import job progress)",
	"DELETE /api/v1/jobs/:id":               "Batalkan pekerjaan impor (cancel an import job)",
	"GET /api/v1/jobs/:id/rejects.csv":      "Laporan baris ditolak (rejected rows report)",
	"GET /api/v1/companies/:id":             "Satu perusahaan (one company)",
	"PUT /api/v1/companies/:id":             "Ubah perusahaan; perusahaan hanya miliknya sendiri (update a company; a company only its own)",
	"DELETE /api/v1/companies/:id":          "Hapus perusahaan (delete a company)",
	"GET /api/v1/boot":                      "Data awal halaman: konfigurasi dan pengguna (page start-up: configuration and user)",
	"GET /api/v1/coverage":                  "Cakupan: kebutuhan vs rencana per desa dan sektor (coverage: need vs plans)",
	"GET /api/v1/companies/:id/rings":       "Desa cincin 1 dan 2 perusahaan (ring-1 and ring-2 villages)",
	"POST /api/v1/plans/:id/status":         "Ubah status rencana (change a plan's status)",
	"GET /tiles/:file":                      "TileJSON 3.0.0 untuk /tiles/{layer}.json (TileJSON of a layer)",
	"GET /tiles/:layer/:z/:x/:y":            "Petak {y}.geojson atau {y}.mvt; ETag/304, gzip/br (a GeoJSON or MVT tile)",
	"GET /ogc":                              "OGC API Features: halaman awal (landing page)",
	"GET /ogc/conformance":                  "OGC API Features: kelas kesesuaian (conformance classes)",
	"GET /ogc/collections":                  "OGC API Features: koleksi yang boleh dibaca peran ini (collections this role may read)",
	"GET /ogc/collections/:id":              "OGC API Features: satu koleksi (one collection)",
	"GET /ogc/collections/:id/items":        "OGC API Features: fitur; bbox, limit, offset, properties (features)",
	"GET /ogc/collections/:id/items/:fid":   "OGC API Features: satu fitur (one feature)",
}

var fiberParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)\??`)

// publicRoutes need no sign-in.
var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /metrics": true, "GET /api/openapi.json": true,
	"GET /api/v1/config": true, "GET /api/v1/boot": true, "POST /api/v1/login": true,
}

// openAPI serves GET /api/openapi.json, generated from the router's routes so it
// never lists a route that does not exist or misses one that does.
func (s *Server) openAPI(c *fiber.Ctx) error {
	paths := map[string]fiber.Map{}
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Path == "/" || strings.Contains(r.Path, "*") {
			continue
		}
		if !strings.HasPrefix(r.Path, "/api") && !strings.HasPrefix(r.Path, "/tiles") && !strings.HasPrefix(r.Path, "/ogc") &&
			r.Path != "/healthz" && r.Path != "/readyz" && r.Path != "/metrics" {
			continue
		}
		fpath := strings.TrimSuffix(r.Path, "/")
		if fpath == "" {
			continue
		}
		key := r.Method + " " + fpath
		summary, ok := routeDocs[key]
		if !ok {
			summary = r.Method + " " + fpath
		}
		oaPath := fiberParam.ReplaceAllString(fpath, "{$1}")
		var params []fiber.Map
		for _, m := range fiberParam.FindAllStringSubmatch(fpath, -1) {
			params = append(params, fiber.Map{"name": m[1], "in": "path", "required": true, "schema": fiber.Map{"type": "string"}})
		}
		op := fiber.Map{
			"summary":     summary,
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/", "_", "{", "", "}", "", ".", "_", "-", "_").Replace(oaPath),
			"responses": fiber.Map{
				"200":     fiber.Map{"description": "OK"},
				"default": fiber.Map{"description": "Kesalahan (error) as application/problem+json", "content": fiber.Map{"application/problem+json": fiber.Map{"schema": fiber.Map{"$ref": "#/components/schemas/Problem"}}}},
			},
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if !publicRoutes[key] {
			op["security"] = []fiber.Map{{"bearer": []string{}}, {"cookie": []string{}}}
		}
		if paths[oaPath] == nil {
			paths[oaPath] = fiber.Map{}
		}
		paths[oaPath][strings.ToLower(r.Method)] = op
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return c.JSON(fiber.Map{
		"openapi": "3.0.3",
		"info": fiber.Map{"title": "Sinergi TJSLP API", "version": "1",
			"description": "REST API Sinergi (Bapeda " + s.cfg.RegencyName + "). Errors are application/problem+json (RFC 9457)."},
		"servers": []fiber.Map{{"url": c.BaseURL()}},
		"paths":   paths,
		"components": fiber.Map{
			"securitySchemes": fiber.Map{
				"bearer": fiber.Map{"type": "http", "scheme": "bearer"},
				"cookie": fiber.Map{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
			"schemas": fiber.Map{"Problem": fiber.Map{"type": "object", "properties": fiber.Map{
				"type": fiber.Map{"type": "string"}, "title": fiber.Map{"type": "string"}, "status": fiber.Map{"type": "integer"},
				"detail": fiber.Map{"type": "string"}, "instance": fiber.Map{"type": "string"}}}},
		},
	})
}
