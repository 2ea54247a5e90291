package geo_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

func bekasi(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(geotest.SharedData(t), name)
}

func needOGR(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Fatal("ogr2ogr is required (Debian gdal-bin; scripts/deps.sh installs it)")
	}
}

// ogr runs ogr2ogr for a test fixture.
func ogr(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ogr2ogr", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ogr2ogr %v: %v\n%s", args, err, out)
	}
}

func importBoundaryFile(t *testing.T, st *geo.Store, path string, opt geo.ImportOptions) *geo.BoundaryReport {
	t.Helper()
	rep, err := st.ImportBoundaries(context.Background(), path, opt)
	if err != nil {
		t.Fatalf("import %s: %v", filepath.Base(path), err)
	}
	return rep
}

func TestImportBekasiDesaReport(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	rep := importBoundaryFile(t, owner, bekasi(t, "bekasi_desa.geojson"), geo.ImportOptions{Level: geo.LevelDesa})
	if rep.SetID == 0 || rep.Loaded != 187 || rep.Errors != 0 || rep.Warnings != 0 {
		t.Fatalf("report: set %d loaded %d errors %d warnings %d", rep.SetID, rep.Loaded, rep.Errors, rep.Warnings)
	}
	// 186 Polygons promoted, the one MultiPolygon kept; every ring was clockwise.
	if rep.Counts["promoted"] != 186 || rep.Counts["reoriented"] != 187 {
		t.Fatalf("counts %v, want 186 promoted and 187 reoriented", rep.Counts)
	}
	// Zero tolerance: the independent count of the data's README.
	tp := rep.Topology
	if tp == nil || tp.OverlapCount != 329 || tp.GapCount != 776 {
		t.Fatalf("topology %+v, want 329 overlapping pairs and 776 gaps", tp)
	}
	if math.Abs(tp.OverlapAreaM2-0.36e6) > 0.02e6 || math.Abs(tp.GapAreaM2-0.34e6) > 0.02e6 {
		t.Fatalf("overlap %.0f m², gaps %.0f m²; want ≈0.36 and ≈0.34 km²", tp.OverlapAreaM2, tp.GapAreaM2)
	}
	if len(tp.Gaps[0].Features) < 2 || tp.Overlaps[0].A == "" || tp.Overlaps[0].B == "" {
		t.Fatalf("findings must name the villages: %+v %+v", tp.Gaps[0], tp.Overlaps[0])
	}
	// The draft is invisible until activated.
	if id, err := owner.ActiveSetID(ctx, geo.LevelDesa); err != nil || id != 0 {
		t.Fatalf("active set after import: %d %v, want none", id, err)
	}
	var parts, ccwBad int
	if err := owner.Pool.QueryRow(ctx, `SELECT (SELECT ST_NumGeometries(geom) FROM village WHERE set_id = $1 AND code = '32.16.03.2004'),
		(SELECT count(*) FROM village WHERE set_id = $1 AND NOT ST_IsPolygonCCW(geom))`, rep.SetID).Scan(&parts, &ccwBad); err != nil {
		t.Fatal(err)
	}
	if parts != 2 || ccwBad != 0 {
		t.Fatalf("Sukawangi parts %d (want 2), clockwise villages %d (want 0)", parts, ccwBad)
	}
	// The report is stored with the set.
	var stored geo.BoundaryReport
	var raw []byte
	if err := owner.Pool.QueryRow(ctx, `SELECT report FROM boundary_set WHERE id = $1`, rep.SetID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &stored); err != nil || stored.Topology == nil || stored.Topology.GapCount != 776 {
		t.Fatalf("stored report: %v %.200s", err, raw)
	}
	// A tolerance hides the smaller findings.
	dry := importBoundaryFile(t, owner, bekasi(t, "bekasi_desa.geojson"), geo.ImportOptions{Level: geo.LevelDesa, DryRun: true, ToleranceM2: 1000})
	if dry.SetID != 0 || dry.Topology.OverlapCount >= 329 || dry.Topology.OverlapCount == 0 || dry.Topology.GapCount >= 776 {
		t.Fatalf("dry run with 1000 m² tolerance: set %d, %d overlaps, %d gaps", dry.SetID, dry.Topology.OverlapCount, dry.Topology.GapCount)
	}
	var sets int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM boundary_set`).Scan(&sets); err != nil || sets != 1 {
		t.Fatalf("sets after dry run: %d %v, want 1", sets, err)
	}
	// Stored-set topology gives the same counts.
	st, err := owner.SetTopology(ctx, rep.SetID, 0)
	if err != nil || st.OverlapCount != 329 || st.GapCount != 776 {
		t.Fatalf("SetTopology: %+v %v", st, err)
	}
}

func TestKecamatanAltUpdateMatchedByNameAndOverlap(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	base := importBoundaryFile(t, owner, bekasi(t, "bekasi_kecamatan.geojson"), geo.ImportOptions{Level: geo.LevelKecamatan})
	if err := owner.ActivateBoundarySet(ctx, base.SetID, "test"); err != nil {
		t.Fatal(err)
	}
	alt := importBoundaryFile(t, owner, bekasi(t, "bekasi_kecamatan_alt.geojson"), geo.ImportOptions{Level: geo.LevelKecamatan})
	if alt.Loaded != 23 || len(alt.Matched) != 23 || alt.Errors != 0 {
		t.Fatalf("alt: loaded %d matched %d errors %d: %+v", alt.Loaded, len(alt.Matched), alt.Errors, alt.Findings)
	}
	want := map[string]string{"Cabang Bungin": "32.16.16", "Suka Karya": "32.16.14", "Serangbaru": "32.16.21",
		"Bojongmanggu": "32.16.23", "Kedungwaringin": "32.16.12", "Muaragembong": "32.16.17", "Setu": "32.16.18"}
	for _, m := range alt.Matched {
		if c, ok := want[m.Name]; ok {
			if m.Code != c {
				t.Errorf("%s matched to %s by %s, want %s", m.Name, m.Code, m.Method, c)
			}
			delete(want, m.Name)
		}
		if m.Overlap < 0.5 {
			t.Errorf("%s matched with overlap %.2f", m.Name, m.Overlap)
		}
		if m.Method != "overlap+name" && m.Method != "overlap" {
			t.Errorf("%s matched by %s", m.Name, m.Method)
		}
	}
	if len(want) != 0 {
		t.Fatalf("not matched: %v", want)
	}
	// "Cabang Bungin" normalises to the active "Cabangbungin"; "Bojongmanggu" is a
	// different spelling that only the overlap can match.
	methods := map[string]string{}
	for _, m := range alt.Matched {
		methods[m.Name] = m.Method
	}
	if methods["Cabang Bungin"] != "overlap+name" || methods["Bojongmanggu"] != "overlap" {
		t.Fatalf("methods %v", methods)
	}
	if alt.Topology.OverlapCount != 0 || alt.Topology.GapCount != 0 {
		t.Fatalf("the alt layer tiles perfectly; topology %+v", alt.Topology)
	}
	d, err := web.DiffBoundarySets(ctx, base.SetID, alt.SetID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Changed) != 23 || len(d.Renamed) != 5 || len(d.Added)+len(d.Removed)+len(d.Splits)+len(d.Merges) != 0 {
		t.Fatalf("diff: %d changed, %d renamed, %d added, %d removed, %d splits, %d merges", len(d.Changed), len(d.Renamed),
			len(d.Added), len(d.Removed), len(d.Splits), len(d.Merges))
	}
	for _, c := range d.Changed {
		if c.IoU < 0.75 || c.IoU > 0.97 {
			t.Errorf("%s IoU %.3f outside the README's 0.80–0.94", c.Code, c.IoU)
		}
		if c.Code == "32.16.17" && (c.AreaChangePct < 10 || c.NewAreaKm2 < 149 || c.NewAreaKm2 > 153) {
			t.Errorf("Muaragembong: %+v, want ≈131 → ≈151 km²", c)
		}
	}
	if d.MovesComputed {
		t.Fatal("a web store must not compute household moves")
	}
	// Activation and rollback keep both versions.
	if err := owner.ActivateBoundarySet(ctx, alt.SetID, "test"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM code_crosswalk WHERE from_set = $1 AND to_set = $2 AND relation = 'changed'`,
		base.SetID, alt.SetID).Scan(&n); err != nil || n != 23 {
		t.Fatalf("crosswalk rows: %d %v", n, err)
	}
	if err := owner.ActivateBoundarySet(ctx, base.SetID, "test"); err != nil {
		t.Fatal(err)
	}
	if id, _ := owner.ActiveSetID(ctx, geo.LevelKecamatan); id != base.SetID {
		t.Fatalf("after rollback the active set is %d, want %d", id, base.SetID)
	}
}

func TestImportThroughGDALAndCRSVariants(t *testing.T) {
	needOGR(t)
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	src := bekasi(t, "bekasi_desa.geojson")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	orig := importBoundaryFile(t, owner, src, geo.ImportOptions{Level: geo.LevelDesa, SkipTopology: true})
	if err := owner.ActivateBoundarySet(ctx, orig.SetID, "test"); err != nil {
		t.Fatal(err)
	}
	ogr(t, "-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", p("desa.shp"), src)
	ogr(t, "-f", "GPKG", p("desa.gpkg"), src)
	ogr(t, "-f", "KML", p("desa.kml"), src)
	ogr(t, "-f", "GeoJSON", "-t_srs", "EPSG:32748", p("utm.geojson"), src)
	if err := os.MkdirAll(p("noprj"), 0o755); err != nil {
		t.Fatal(err)
	}
	ogr(t, "-f", "ESRI Shapefile", "-t_srs", "EPSG:32748", p("noprj/utm.shp"), src)
	os.Remove(p("noprj/utm.prj"))
	ogr(t, "-f", "GeoJSON", p("utm_nocrs.geojson"), p("noprj/utm.shp"))
	ogr(t, "-f", "GeoJSON", "-dialect", "SQLite", "-sql",
		"SELECT kode_desa, nama_desa, SwapCoordinates(geometry) AS geometry FROM bekasi_desa", p("swapped.geojson"), src)
	zipFiles(t, p("desa.zip"), map[string]string{"shp/desa.shp": p("desa.shp"), "shp/desa.shx": p("desa.shx"),
		"shp/desa.dbf": p("desa.dbf"), "shp/desa.prj": p("desa.prj"), "shp/desa.cpg": p("desa.cpg")})

	for _, tc := range []struct {
		file, format string
		opt          geo.ImportOptions
	}{
		{"desa.shp", "shapefile", geo.ImportOptions{}},
		{"desa.zip", "shapefile", geo.ImportOptions{}},
		{"desa.gpkg", "geopackage", geo.ImportOptions{}},
		{"desa.kml", "kml", geo.ImportOptions{}},
		{"utm.geojson", "geojson", geo.ImportOptions{}},
		{"noprj/utm.shp", "shapefile", geo.ImportOptions{SRS: "EPSG:32748"}},
		{"utm_nocrs.geojson", "geojson", geo.ImportOptions{SRS: "EPSG:32748"}},
		{"swapped.geojson", "geojson", geo.ImportOptions{SwapXY: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			tc.opt.Level = geo.LevelDesa
			tc.opt.SkipTopology = true
			rep := importBoundaryFile(t, owner, p(tc.file), tc.opt)
			if rep.Format != tc.format || rep.Loaded != 187 || rep.Errors != 0 || len(rep.Matched) != 0 {
				t.Fatalf("%s: format %s loaded %d errors %d matched %d: %+v", tc.file, rep.Format, rep.Loaded, rep.Errors, len(rep.Matched), rep.Findings)
			}
			// The same villages as the original: every code kept, shapes equal
			// within what a reprojection round trip changes.
			d, err := owner.DiffBoundarySets(ctx, orig.SetID, rep.SetID)
			if err != nil {
				t.Fatal(err)
			}
			if d.Unchanged+len(d.Renamed) != 187 || len(d.Changed) != 0 {
				t.Fatalf("%s vs the GeoJSON: %d unchanged, %d renamed, %d changed, %d added", tc.file, d.Unchanged, len(d.Renamed), len(d.Changed), len(d.Added))
			}
		})
	}
	// Projected coordinates without a CRS, and swapped axes, are refused with a reason.
	for file, want := range map[string]string{"noprj/utm.shp": "--srs", "utm_nocrs.geojson": "--srs", "swapped.geojson": "--swap-xy"} {
		_, err := owner.ImportBoundaries(ctx, p(file), geo.ImportOptions{Level: geo.LevelDesa})
		var ie *geo.ImportError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Base(file)) {
			t.Errorf("%s: err %v, want an ImportError naming the file and %s", file, err, want)
		}
	}
	if ie := new(geo.ImportError); true {
		_, err := owner.ImportBoundaries(ctx, p("swapped.geojson"), geo.ImportOptions{Level: geo.LevelDesa, DryRun: true})
		if !errors.As(err, &ie) || ie.Report.AxisSwap != "detected" {
			t.Errorf("swapped: %v", err)
		}
	}
}

func zipFiles(t *testing.T, out string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

const squareFC = `{"type":"FeatureCollection","features":[%s]}`

func sq(code string, x, y, d float64) string {
	return fmt.Sprintf(`{"type":"Feature","properties":{"kode_desa":%q,"nama_desa":"Desa %s"},"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}}`,
		code, code, x, y, x+d, y, x+d, y+d, x, y+d, x, y)
}

func TestImportBadInput(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := sq("32.16.01.2001", 107, -6.2, 0.01) + "," + sq("32.16.01.2002", 107.01, -6.2, 0.01)
	bowtie := `{"type":"Feature","properties":{"kode_desa":"32.16.01.2003"},"geometry":{"type":"Polygon","coordinates":[[[107.02,-6.2],[107.03,-6.19],[107.03,-6.2],[107.02,-6.19],[107.02,-6.2]]]}}`
	point := `{"type":"Feature","properties":{"kode_desa":"32.16.01.2004"},"geometry":{"type":"Point","coordinates":[107,-6.2]}}`
	null := `{"type":"Feature","properties":{"kode_desa":"32.16.01.2005"},"geometry":null}`
	full := fmt.Sprintf(squareFC, good)

	// File-level failures: a clear error naming the file, nothing written.
	for name, tc := range map[string]struct{ body, want string }{
		"empty.geojson":     {"", "kosong"},
		"truncated.geojson": {full[:len(full)/2], "not a GeoJSON"},
		"text.geojson":      {"kode,nama\n1,a\n", "not a GeoJSON"},
		"nofeat.geojson":    {`{"type":"FeatureCollection","features":[]}`, "no features"},
		"data.csv":          {"a,b\n", "not supported"},
	} {
		_, err := owner.ImportBoundaries(ctx, write(name, tc.body), geo.ImportOptions{Level: geo.LevelDesa})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), name) || !errors.Is(err, geo.ErrBadBoundaryFile) {
			t.Errorf("%s: err %v, want a bad-file error naming the file and saying %q", name, err, tc.want)
		}
	}
	// Feature-level problems: one report lists all of them.
	bad := write("bad.geojson", fmt.Sprintf(squareFC, strings.Join([]string{good, point, null,
		sq("32.16.01.2001", 107.05, -6.2, 0.01), // duplicate code
		sq("3216012009", 107.06, -6.2, 0.01),    // malformed code
	}, ",")))
	_, err := owner.ImportBoundaries(ctx, bad, geo.ImportOptions{Level: geo.LevelDesa})
	var ie *geo.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("bad.geojson: %v, want an ImportError", err)
	}
	kinds := map[string]int{}
	for _, f := range ie.Report.Findings {
		if f.Severity == geo.SeverityError {
			kinds[f.Kind] = f.Feature
		}
	}
	if kinds["non_polygon"] != 3 || kinds["null_geometry"] != 4 || kinds["duplicate_code"] != 5 || kinds["malformed_code"] != 6 {
		t.Fatalf("error findings by kind → feature: %v", kinds)
	}
	if !strings.Contains(err.Error(), "bad.geojson") || !strings.Contains(err.Error(), "feature 3") {
		t.Fatalf("error text %q should name the file and the feature", err)
	}
	// A self-intersecting polygon is repaired, and the report says what changed.
	rep := importBoundaryFile(t, owner, write("bowtie.geojson", fmt.Sprintf(squareFC, good+","+bowtie)), geo.ImportOptions{Level: geo.LevelDesa})
	var repaired *geo.Finding
	for i, f := range rep.Findings {
		if f.Kind == "repaired" {
			repaired = &rep.Findings[i]
		}
	}
	if repaired == nil || repaired.Feature != 3 || !strings.Contains(repaired.Detail, "Self-intersection") || !strings.Contains(repaired.Detail, "2 part") {
		t.Fatalf("repair finding: %+v", repaired)
	}
	var parts int
	if err := owner.Pool.QueryRow(ctx, `SELECT ST_NumGeometries(geom) FROM village WHERE set_id = $1 AND code = '32.16.01.2003'`, rep.SetID).Scan(&parts); err != nil || parts != 2 {
		t.Fatalf("repaired bowtie parts %d %v", parts, err)
	}
	if err := owner.ActivateBoundarySet(ctx, rep.SetID, "test"); err != nil {
		t.Fatal(err)
	}
	// Outside the expected region (the active set's extent): refused.
	_, err = owner.ImportBoundaries(ctx, write("far.geojson", fmt.Sprintf(squareFC, good+","+sq("32.16.01.2009", 110, -7, 0.01))),
		geo.ImportOptions{Level: geo.LevelDesa})
	if !errors.As(err, &ie) || ie.Report.Counts["outside_region"] != 1 {
		t.Fatalf("far feature: %v", err)
	}
	// Zips: no .shp, a path out of the archive, a bomb.
	zipBody := func(name string, entries map[string][]byte) string {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, b := range entries {
			w, _ := zw.Create(n)
			w.Write(b)
		}
		zw.Close()
		return write(name, buf.String())
	}
	for name, tc := range map[string]struct {
		entries map[string][]byte
		want    string
	}{
		"noshp.zip":  {map[string][]byte{"readme.txt": []byte("x"), "a.dbf": []byte("x")}, "no .shp"},
		"escape.zip": {map[string][]byte{"../evil.shp": []byte("x")}, "outside the archive"},
		"bomb.zip":   {map[string][]byte{"a.shp": make([]byte, 8<<20)}, "limit"},
		"notzip.zip": {nil, "not a valid zip"},
	} {
		path := zipBody(name, tc.entries)
		if tc.entries == nil {
			path = write(name, "PK\x03\x04 not really")
		}
		_, err := owner.ImportBoundaries(ctx, path, geo.ImportOptions{Level: geo.LevelDesa, MaxUnzipBytes: 1 << 20})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want it to name the zip and say %q", name, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "evil.shp")); err == nil {
		t.Fatal("the zip wrote outside its folder")
	}
	// Over the size limit.
	_, err = owner.ImportBoundaries(ctx, write("big.geojson", full), geo.ImportOptions{Level: geo.LevelDesa, MaxFileBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "terlalu besar") {
		t.Fatalf("size limit: %v", err)
	}
	// A database failure half-way leaves nothing behind.
	var before int
	owner.Pool.QueryRow(ctx, `SELECT count(*) FROM boundary_set`).Scan(&before)
	defer geo.SetBoundaryImportHook(func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SELECT 1 / 0`)
		return err
	})()
	_, err = owner.ImportBoundaries(ctx, write("fails.geojson", full), geo.ImportOptions{Level: geo.LevelDesa})
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("half-way failure: %v", err)
	}
	var after, villages int
	owner.Pool.QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM village) FROM boundary_set`).Scan(&after, &villages)
	if after != before || villages != 3 {
		t.Fatalf("after a failed import: %d sets (was %d), %d villages (want the active 3)", after, before, villages)
	}
	if id, _ := owner.ActiveSetID(ctx, geo.LevelDesa); id != rep.SetID {
		t.Fatalf("active set changed to %d", id)
	}
}

func TestSplitMovesHouseholdsAndRollsBack(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	set1 := importBoundaryFile(t, owner, bekasi(t, "bekasi_desa.geojson"), geo.ImportOptions{Level: geo.LevelDesa, SkipTopology: true}).SetID
	if err := owner.ActivateBoundarySet(ctx, set1, "test"); err != nil {
		t.Fatal(err)
	}
	const old, west, east, other = "32.16.01.2001", "32.16.01.2010", "32.16.01.2011", "32.16.13.2001"
	// Pemekaran: the village is cut along the meridian of its centroid into two new codes.
	var wj, ej string
	if err := owner.Pool.QueryRow(ctx, `
		WITH v AS (SELECT geom, ST_X(ST_Centroid(geom)) AS cx, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1, ST_YMax(geom) y1
			FROM village WHERE set_id = $1 AND code = $2)
		SELECT ST_AsGeoJSON(ST_Intersection(geom, ST_MakeEnvelope(x0 - 1, y0 - 1, cx, y1 + 1, 4326))),
			ST_AsGeoJSON(ST_Intersection(geom, ST_MakeEnvelope(cx, y0 - 1, x1 + 1, y1 + 1, 4326))) FROM v`, set1, old).Scan(&wj, &ej); err != nil {
		t.Fatal(err)
	}
	b, err := owner.ActiveVillagesGeoJSON(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Type     string           `json:"type"`
		Features []map[string]any `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	kept := fc.Features[:0]
	for _, f := range fc.Features {
		if f["properties"].(map[string]any)["code"] != old {
			kept = append(kept, f)
		}
	}
	for code, g := range map[string]string{west: wj, east: ej} {
		kept = append(kept, map[string]any{"type": "Feature", "geometry": json.RawMessage(g),
			"properties": map[string]any{"code": code, "name": "Pemekaran " + code[len(code)-2:], "kecamatan_code": "32.16.01"}})
	}
	fc.Features = kept
	nb, _ := json.Marshal(fc)
	file := filepath.Join(t.TempDir(), "pemekaran.geojson")
	if err := os.WriteFile(file, nb, 0o644); err != nil {
		t.Fatal(err)
	}
	// Households: 10 in each half, 5 elsewhere.
	var recs []geo.HouseholdRecord
	addPoints := func(prefix, geomSQL string, args ...any) {
		rows, err := owner.Pool.Query(ctx, `SELECT ST_X(d.geom), ST_Y(d.geom) FROM ST_Dump(ST_GeneratePoints((`+geomSQL+`), $`+fmt.Sprint(len(args)+1)+`, 7)) d`,
			append(args, map[string]int{"w": 10, "e": 10, "o": 5}[prefix])...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for i := 0; rows.Next(); i++ {
			var x, y float64
			if err := rows.Scan(&x, &y); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, geo.HouseholdRecord{ExternalID: fmt.Sprintf("%s%d", prefix, i), Lon: x, Lat: y, Members: 3})
		}
	}
	addPoints("w", `SELECT ST_GeomFromGeoJSON($1)`, wj)
	addPoints("e", `SELECT ST_GeomFromGeoJSON($1)`, ej)
	addPoints("o", `SELECT geom FROM village WHERE set_id = $1 AND code = $2`, set1, other)
	i := 0
	if _, err := owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "t.csv"}, func() (geo.HouseholdRecord, bool, error) {
		if i == len(recs) {
			return geo.HouseholdRecord{}, false, nil
		}
		i++
		return recs[i-1], true, nil
	}); err != nil {
		t.Fatal(err)
	}
	// A plan and a priority list name the old village.
	cid, _, err := owner.UpsertCompany(ctx, geo.Company{Key: "pt-uji", Name: "PT Uji", Sectors: []string{"kesehatan"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	var planID int64
	if err := owner.Pool.QueryRow(ctx, `INSERT INTO plan (company_id, year, village_code, sector, budget) VALUES ($1, 2026, $2, 'kesehatan', 1000)
		RETURNING id`, cid, old).Scan(&planID); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Pool.Exec(ctx, `WITH l AS (INSERT INTO priority_list (name, year) VALUES ('lokus', 2026) RETURNING id),
		v AS (INSERT INTO priority_list_version (list_id, version) SELECT id, 1 FROM l RETURNING list_id)
		INSERT INTO priority_item (list_id, version, position, village_code) SELECT list_id, 1, 1, $1 FROM v`, old); err != nil {
		t.Fatal(err)
	}

	set2 := importBoundaryFile(t, owner, file, geo.ImportOptions{Level: geo.LevelDesa, SkipTopology: true}).SetID
	d, err := owner.DiffBoundarySets(ctx, set1, set2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Splits) != 1 || d.Splits[0].From[0] != old || strings.Join(d.Splits[0].To, ",") != west+","+east || d.Splits[0].Households != 20 {
		t.Fatalf("splits %+v, want %s → %s, %s with 20 households", d.Splits, old, west, east)
	}
	if !d.MovesComputed || d.HouseholdsMoving != 20 || len(d.Removed) != 1 || len(d.Added) != 2 || len(d.Changed) != 0 || d.Unchanged != 186 {
		t.Fatalf("diff: moving %d, removed %v, added %v, changed %d, unchanged %d", d.HouseholdsMoving, d.Removed, d.Added, len(d.Changed), d.Unchanged)
	}
	split := 0
	for _, c := range d.Crosswalk {
		if c.OldCode == old {
			if c.Relation != "split" || c.Share < 0.2 || c.Share > 0.8 {
				t.Errorf("crosswalk %+v", c)
			}
			split++
		}
	}
	if split != 2 {
		t.Fatalf("crosswalk rows for %s: %d, want 2", old, split)
	}
	codes := func() map[string]string {
		rows, err := owner.Pool.Query(ctx, `SELECT external_id, coalesce(village_code, '') FROM household`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var id, c string
			rows.Scan(&id, &c)
			m[id] = c
		}
		return m
	}
	planState := func() (string, bool, string, bool) {
		var pc, ic string
		var pr, ir bool
		if err := owner.Pool.QueryRow(ctx, `SELECT p.village_code, p.needs_review, i.village_code, i.needs_review FROM plan p, priority_item i WHERE p.id = $1`,
			planID).Scan(&pc, &pr, &ic, &ir); err != nil {
			t.Fatal(err)
		}
		return pc, pr, ic, ir
	}
	act, err := owner.ActivateBoundaries(ctx, set2, "test")
	if err != nil {
		t.Fatal(err)
	}
	if act.Previous != set1 || act.HouseholdsMoved != 20 || act.HouseholdsReassigned != 25 || act.PlansFlagged != 1 || act.PriorityItemsFlagged != 1 {
		t.Fatalf("activation %+v", act)
	}
	for id, c := range codes() {
		want := map[byte]string{'w': west, 'e': east, 'o': other}[id[0]]
		if c != want {
			t.Errorf("after the split household %s is in %q, want %s", id, c, want)
		}
	}
	if pc, pr, ic, ir := planState(); (pc != west && pc != east) || !pr || ic != pc || !ir {
		t.Fatalf("after the split: plan %s review %v, priority item %s review %v", pc, pr, ic, ir)
	}
	// Rollback: the old set again; households and plans come back.
	back, err := owner.ActivateBoundaries(ctx, set1, "test")
	if err != nil {
		t.Fatal(err)
	}
	if back.HouseholdsMoved != 20 || back.PlansFlagged != 1 {
		t.Fatalf("rollback %+v", back)
	}
	for id, c := range codes() {
		want := old
		if id[0] == 'o' {
			want = other
		}
		if c != want {
			t.Errorf("after rollback household %s is in %q, want %s", id, c, want)
		}
	}
	if pc, _, ic, _ := planState(); pc != old || ic != old {
		t.Fatalf("after rollback: plan %s, item %s, want %s", pc, ic, old)
	}
	var statuses string
	owner.Pool.QueryRow(ctx, `SELECT string_agg(status, ',' ORDER BY id) FROM boundary_set`).Scan(&statuses)
	if statuses != "active,retired" {
		t.Fatalf("set statuses %s", statuses)
	}
}

// TestRestrictedReassignmentEqualsFull: activation re-assigns only the households
// whose village can change (near a changed village, or not plainly inside one), and
// the diff counts moves over the same households. On the real villages with a set
// that splits, merges, shifts, shrinks, removes and recodes villages, and with
// generated households (plus households hugging the changed borders, some reporting
// a changed village, some assigned "nearest" with a wider gap tolerance, some
// without location), the result must equal re-assigning every household from
// scratch — forward, on rollback and forward again — and the diff's moves must be
// the real ones.
func TestRestrictedReassignmentEqualsFull(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	setA := realVillages(t, owner)
	if r := importFile(t, ctx, owner, synthCSV(t, 4000, 7, 0), geo.ImportSpec{}); r.err != nil {
		t.Fatal(r.err)
	}
	setB := importBoundaryFile(t, owner, bekasi(t, "bekasi_desa.geojson"), geo.ImportOptions{Level: geo.LevelDesa, SkipTopology: true}).SetID
	pick := func(offset int) string {
		t.Helper()
		var c string
		if err := owner.Pool.QueryRow(ctx, `SELECT code FROM village WHERE set_id = $1 ORDER BY code OFFSET $2 LIMIT 1`, setB, offset).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	split, shift, gone, recode, shrink := pick(10), pick(40), pick(70), pick(100), pick(130)
	var m1, m2 string // two touching villages, merged into m1
	if err := owner.Pool.QueryRow(ctx, `SELECT a.code, b.code FROM village a JOIN village b ON a.set_id = b.set_id AND a.code < b.code
		AND ST_Intersects(a.geom, b.geom) WHERE a.set_id = $1 AND a.code > $2 ORDER BY a.code, b.code LIMIT 1`, setB, pick(150)).Scan(&m1, &m2); err != nil {
		t.Fatal(err)
	}
	changed := []string{split, shift, gone, recode, shrink, m1, m2}
	for _, st := range []struct {
		q    string
		args []any
	}{
		// pemekaran: two new codes, cut at the centroid's meridian
		{`INSERT INTO village (set_id, code, name, kecamatan_code, kecamatan_name, kind, geom, area_km2)
		 SELECT set_id, code || x.suffix, name || x.suffix, kecamatan_code, kecamatan_name, kind,
			ST_Multi(ST_CollectionExtract(ST_Intersection(geom, x.env), 3)), area_km2 / 2
		 FROM village v CROSS JOIN LATERAL (VALUES
			('-W', ST_MakeEnvelope(ST_XMin(v.geom) - 1, -90, ST_X(ST_Centroid(v.geom)), 90, 4326)),
			('-E', ST_MakeEnvelope(ST_X(ST_Centroid(v.geom)), -90, ST_XMax(v.geom) + 1, 90, 4326))) AS x(suffix, env)
		 WHERE set_id = $1 AND code = $2`, []any{split}},
		{`DELETE FROM village WHERE set_id = $1 AND code = $2`, []any{split}},
		// a corrected line: shifted about 44 m east (overlaps one side, opens a gap on the other)
		{`UPDATE village SET geom = ST_Translate(geom, 0.0004, 0) WHERE set_id = $1 AND code = $2`, []any{shift}},
		{`DELETE FROM village WHERE set_id = $1 AND code = $2`, []any{gone}},
		{`UPDATE village SET code = code || '-R' WHERE set_id = $1 AND code = $2`, []any{recode}},
		{`UPDATE village SET geom = ST_Multi(ST_Buffer(geom, -0.0003)) WHERE set_id = $1 AND code = $2`, []any{shrink}},
		{`UPDATE village SET geom = ST_Multi((SELECT ST_Union(geom) FROM village WHERE set_id = $1 AND code IN ($2, $3)))
		  WHERE set_id = $1 AND code = $2`, []any{m1, m2}},
		{`DELETE FROM village WHERE set_id = $1 AND code = $2`, []any{m2}},
	} {
		if _, err := owner.Pool.Exec(ctx, st.q, append([]any{setB}, st.args...)...); err != nil {
			t.Fatalf("%s: %v", st.q, err)
		}
	}
	// Households hugging the changed villages' borders (inside, in gaps and overlaps,
	// just outside), a third reporting the changed village, imported with a 200 m gap
	// tolerance (so some are "nearest" beyond activation's 50 m); three without location.
	var recs []geo.HouseholdRecord
	rows, err := owner.Pool.Query(ctx, `SELECT v.code, ST_X(d.geom), ST_Y(d.geom) FROM village v
		CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(ST_Buffer(ST_Boundary(v.geom), 0.002), 150, 11)) d
		WHERE v.set_id = $1 AND v.code = ANY($2) ORDER BY v.code, d.path`, setA, changed)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; rows.Next(); i++ {
		var code string
		var x, y float64
		if err := rows.Scan(&code, &x, &y); err != nil {
			t.Fatal(err)
		}
		r := geo.HouseholdRecord{ExternalID: fmt.Sprintf("edge-%d", i), Lon: x, Lat: y, Members: 3, ChildrenU5: 1, Stunted: i % 2}
		if i%3 == 0 {
			r.ReportedVillage = code
		}
		recs = append(recs, r)
	}
	rows.Close()
	for i := range 3 {
		recs = append(recs, geo.HouseholdRecord{ExternalID: fmt.Sprintf("noloc-%d", i), Lon: math.NaN(), Lat: math.NaN(), Members: 2})
	}
	i := 0
	if _, err := owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "edge.csv", GapTolerance: 200},
		func() (geo.HouseholdRecord, bool, error) {
			if i == len(recs) {
				return geo.HouseholdRecord{}, false, nil
			}
			i++
			return recs[i-1], true, nil
		}); err != nil {
		t.Fatal(err)
	}
	var live, farNearest int64
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE h.assign_method = 'nearest' AND NOT EXISTS (
			SELECT 1 FROM village v WHERE v.set_id = $1 AND ST_DWithin(v.geom::geography, p.location::geography, 50)))
		FROM household h LEFT JOIN pii.household_person p ON p.household_id = h.id WHERE h.retired_at IS NULL`, setA).Scan(&live, &farNearest); err != nil {
		t.Fatal(err)
	}
	if farNearest == 0 {
		t.Fatal("fixture: no household assigned nearest beyond 50 m (the wider import tolerance is not exercised)")
	}

	type state struct{ code, method string }
	snapshot := func() map[int64]state {
		t.Helper()
		rows, err := owner.Pool.Query(ctx, `SELECT id, coalesce(village_code, ''), coalesce(assign_method, ''), coalesce(assigned_set, 0)
			FROM household WHERE retired_at IS NULL`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]state{}
		for rows.Next() {
			var id, set int64
			var s state
			if err := rows.Scan(&id, &s.code, &s.method, &set); err != nil {
				t.Fatal(err)
			}
			out[id] = s
		}
		return out
	}
	// checkDiff: the diff assigns both sides from scratch (50 m), so it predicts the
	// activation's moves once stored assignments are from-scratch ones too — not for
	// households an import assigned with a wider gap tolerance (the first step).
	step := func(from, to int64, checkDiff bool) {
		t.Helper()
		d, err := owner.DiffBoundarySets(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot()
		act, err := owner.ActivateBoundaries(ctx, to, "test")
		if err != nil {
			t.Fatal(err)
		}
		restricted := snapshot()
		if act.HouseholdsChecked <= 0 || act.HouseholdsChecked > live/2 || act.HouseholdsReassigned != live {
			t.Fatalf("activation %d→%d of %d households: %+v (restriction not effective?)", from, to, live, act)
		}
		var onNew int64
		if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM household WHERE retired_at IS NULL AND assigned_set = $1`, to).Scan(&onNew); err != nil || onNew != live {
			t.Fatalf("households on set %d: %d of %d (%v)", to, onNew, live, err)
		}
		// The reference: every household through the assignment rules again.
		n, err := owner.ReassignAllHouseholds(ctx, "test")
		if err != nil {
			t.Fatal(err)
		}
		full := snapshot()
		diffs := 0
		for id, s := range full {
			if restricted[id] != s {
				if diffs++; diffs <= 5 {
					t.Errorf("household %d: restricted %+v, full %+v (before %+v)", id, restricted[id], s, before[id])
				}
			}
		}
		if n != 0 || diffs != 0 {
			t.Fatalf("%d→%d: full re-assignment changed %d rows, %d differ from the restricted one", from, to, n, diffs)
		}
		moves := map[[2]string]int64{}
		var moved int64
		for id, s := range full {
			if b := before[id]; b.code != s.code {
				moves[[2]string{b.code, s.code}]++
				moved++
			}
		}
		got := map[[2]string]int64{}
		for _, m := range d.Moves {
			got[[2]string{m.From, m.To}] = m.Households
		}
		if moved == 0 || act.HouseholdsMoved != moved || checkDiff && (d.HouseholdsMoving != moved || fmt.Sprint(got) != fmt.Sprint(moves)) {
			t.Fatalf("%d→%d: %d households moved; activation says %d, diff says %d\ndiff  %v\nreal  %v", from, to, moved,
				act.HouseholdsMoved, d.HouseholdsMoving, got, moves)
		}
		t.Logf("%d→%d: %d households, %d checked, %d moved, diff %.0f ms", from, to, live, act.HouseholdsChecked, moved, d.TimingMS)
	}
	step(setA, setB, false) // with households assigned under a 200 m gap tolerance
	step(setB, setA, true)  // rollback
	step(setA, setB, true)
}
