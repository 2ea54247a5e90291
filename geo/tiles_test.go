package geo_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/project"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// loadBekasi loads and activates the real villages (and, if asked, a kecamatan file).
func loadBekasi(t *testing.T, s *geo.Store, files ...string) {
	t.Helper()
	for _, f := range files {
		level := geo.LevelDesa
		if f != "bekasi_desa.geojson" {
			level = geo.LevelKecamatan
		}
		geotest.ActivateShared(t, s, f, level)
	}
}

// tilesCovering lists the tiles of zoom z covering a lon/lat bound.
func tilesCovering(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	lo := maptile.At(orb.Point{b.Min.X(), b.Max.Y()}, z)
	hi := maptile.At(orb.Point{b.Max.X(), b.Min.Y()}, z)
	var out []maptile.Tile
	for x := lo.X; x <= hi.X; x++ {
		for y := lo.Y; y <= hi.Y; y++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	return out
}

func coord(t maptile.Tile) geo.TileCoord { return geo.TileCoord{Z: int(t.Z), X: int(t.X), Y: int(t.Y)} }

func TestTileGeometryDigitsAndTolerance(t *testing.T) {
	// Rounding to GeoJSONDigits(z) moves a point by at most a quarter pixel.
	for z := 0; z <= geo.MaxTileZoom; z++ {
		d := geo.GeoJSONDigits(z)
		move := math.Sqrt2 / 2 * math.Pow(10, -float64(d)) // degrees
		pixelDeg := 360 / math.Pow(2, float64(z)) / 256
		if move > pixelDeg/4*1.0000001 {
			t.Errorf("z%d: %d digits move points by %.3g°, more than a quarter pixel (%.3g°)", z, d, move, pixelDeg/4)
		}
		if d > 0 && math.Sqrt2/2*math.Pow(10, -float64(d-1)) <= pixelDeg/4 {
			t.Errorf("z%d: %d digits is more than needed", z, d)
		}
	}
	if got := geo.GeoJSONDigits(12); got != 4 {
		t.Errorf("GeoJSONDigits(12) = %d, want 4", got)
	}
}

// TestDesaTilesClipCoverSimplify checks on the real villages: every coordinate of a
// z12 tile lies in the tile plus its buffer; the z12 tiles together cover the
// villages' area within 1%; simplification keeps each feature within half a pixel
// of its source (so neighbours never drift apart by more than a pixel); a village
// shared by four tiles appears in each.
func TestDesaTilesClipCoverSimplify(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	loadBekasi(t, owner, "bekasi_desa.geojson")
	ctx := context.Background()
	l, _ := geo.LayerByName(geo.LayerDesa)
	v := geo.Viewer{Role: geo.RolePlanner}
	var ext [4]float64
	if err := owner.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(geom) e FROM village) q`).Scan(&ext[0], &ext[1], &ext[2], &ext[3]); err != nil {
		t.Fatal(err)
	}
	bound := orb.Bound{Min: orb.Point{ext[0], ext[1]}, Max: orb.Point{ext[2], ext[3]}}
	const z = 12
	tiles := tilesCovering(bound, z)
	if len(tiles) < 20 {
		t.Fatalf("only %d z12 tiles cover Bekasi", len(tiles))
	}
	digits := geo.GeoJSONDigits(z)
	eps := 0.5 * math.Pow(10, -float64(digits)) * 1.0001
	var covered float64
	var worstHausdorffPx float64
	for _, tl := range tiles {
		tile, err := web.Tile(ctx, l, coord(tl), geo.FormatGeoJSON, v)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := geojson.UnmarshalFeatureCollection(tile.Body)
		if err != nil {
			t.Fatalf("tile %v: %v\n%.300s", tl, err, tile.Body)
		}
		mb := geo.TileBounds(coord(tl), float64(geo.TileBufferPx)/256)
		lo, hi := project.Mercator.ToWGS84(mb.Min), project.Mercator.ToWGS84(mb.Max)
		var geoms, codes []string
		for _, f := range fc.Features {
			for _, p := range allPoints(f.Geometry) {
				if p[0] < lo[0]-eps || p[0] > hi[0]+eps || p[1] < lo[1]-eps || p[1] > hi[1]+eps {
					t.Fatalf("tile %v feature %v: point %v outside the tile plus buffer %v–%v", tl, f.ID, p, lo, hi)
				}
			}
			b, _ := json.Marshal(geojson.NewGeometry(f.Geometry))
			geoms = append(geoms, string(b))
			codes = append(codes, f.ID.(string))
		}
		if len(geoms) == 0 {
			continue
		}
		var area, hd float64
		err = owner.Pool.QueryRow(ctx, `
			WITH g AS (SELECT ST_MakeValid(ST_GeomFromGeoJSON(x)) AS g, c FROM unnest($4::text[], $5::text[]) AS u(x, c)),
			env AS (SELECT ST_TileEnvelope($1, $2, $3) AS e, ST_TileEnvelope($1, $2, $3, margin => 0.0625) AS eb)
			SELECT
				(SELECT coalesce(ST_Area(ST_Intersection(ST_Union(g.g), ST_Transform(env.e, 4326))::geography), 0) FROM g),
				(SELECT coalesce(max(ST_HausdorffDistance(ST_Transform(g.g, 3857),
					ST_ClipByBox2D(ST_Transform(v.geom, 3857), env.eb))), 0)
				 FROM g JOIN village v ON v.code = g.c)
			FROM env`, tl.Z, tl.X, tl.Y, geoms, codes).Scan(&area, &hd)
		if err != nil {
			t.Fatal(err)
		}
		covered += area
		worstHausdorffPx = max(worstHausdorffPx, hd/geo.PixelSize(z))
	}
	var want float64
	if err := owner.Pool.QueryRow(ctx, `SELECT ST_Area(ST_Union(geom)::geography) FROM village`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if rel := math.Abs(covered-want) / want; rel > 0.01 {
		t.Errorf("z12 tiles cover %.2f km², villages %.2f km²: off by %.2f%% (> 1%%)", covered/1e6, want/1e6, rel*100)
	} else {
		t.Logf("z12 tiles cover %.3f km² of %.3f km² (%.4f%% off) over %d tiles", covered/1e6, want/1e6, math.Abs(covered-want)/want*100, len(tiles))
	}
	// A feature within ½ px of its source keeps any gap/overlap with a neighbour
	// within 1 px of the source's own.
	if worstHausdorffPx > 0.5 {
		t.Errorf("a simplified village is %.2f px from its source (> 0.5 px)", worstHausdorffPx)
	}
	t.Logf("worst Hausdorff distance to the source at z12: %.3f px", worstHausdorffPx)

	// A village containing a z13 tile corner (well inside it) is in all four tiles.
	var code string
	var cx, cy int
	err := owner.Pool.QueryRow(ctx, `
		WITH c AS (SELECT x, y, ST_Transform(ST_SetSRID(ST_MakePoint(-20037508.342789244 + x * 40075016.685578488 / 8192,
			20037508.342789244 - y * 40075016.685578488 / 8192), 3857), 4326) AS p
			FROM generate_series($1::int, $2::int) x, generate_series($3::int, $4::int) y)
		, vb AS MATERIALIZED (SELECT code, ST_Buffer(geom, -0.002) AS g FROM village)
		SELECT v.code, c.x, c.y FROM c JOIN vb v ON ST_Contains(v.g, c.p) ORDER BY v.code LIMIT 1`,
		maptile.At(orb.Point{ext[0], ext[3]}, 13).X, maptile.At(orb.Point{ext[2], ext[1]}, 13).X,
		maptile.At(orb.Point{ext[0], ext[3]}, 13).Y, maptile.At(orb.Point{ext[2], ext[1]}, 13).Y).Scan(&code, &cx, &cy)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][2]int{{-1, -1}, {0, -1}, {-1, 0}, {0, 0}} {
		tc := geo.TileCoord{Z: 13, X: cx + d[0], Y: cy + d[1]}
		tile, err := web.Tile(ctx, l, tc, geo.FormatGeoJSON, v)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := geojson.UnmarshalFeatureCollection(tile.Body)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range fc.Features {
			found = found || f.ID == code
		}
		if !found {
			t.Errorf("village %s contains the corner of tile %v but is missing from it", code, tc)
		}
	}

	// MVT of the same tile has bytes; an empty tile is a valid empty answer.
	mvt, err := web.Tile(ctx, l, geo.TileCoord{Z: 13, X: cx, Y: cy}, geo.FormatMVT, v)
	if err != nil || len(mvt.Body) == 0 {
		t.Fatalf("mvt: %d bytes, %v", len(mvt.Body), err)
	}
	empty, err := web.Tile(ctx, l, geo.TileCoord{Z: 12, X: 0, Y: 0}, geo.FormatGeoJSON, v)
	if err != nil || string(empty.Body) != `{"type" : "FeatureCollection", "features" : []}` && string(empty.Body) != `{"type":"FeatureCollection","features":[]}` {
		t.Fatalf("empty GeoJSON tile: %q %v", empty.Body, err)
	}
	emptyMVT, err := web.Tile(ctx, l, geo.TileCoord{Z: 12, X: 0, Y: 0}, geo.FormatMVT, v)
	if err != nil || len(emptyMVT.Body) != 0 {
		t.Fatalf("empty MVT tile: %d bytes %v", len(emptyMVT.Body), err)
	}
}

func allPoints(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.Ring:
		out = append(out, g...)
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, allPoints(p)...)
		}
	case orb.Collection:
		for _, x := range g {
			out = append(out, allPoints(x)...)
		}
	}
	return out
}

// TestTileGeomFollowsActivation: tile_geom (migration 009) holds the active set's
// boundaries, one row per zoom, in the transaction that activates a set; desa MVT
// tiles read them, with the zoom's properties only and the newly active geometry.
func TestTileGeomFollowsActivation(t *testing.T) {
	_, owner, web := geotest.Migrated(t)
	ctx := context.Background()
	square := func(x, d float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, -6.2}, {x + d, -6.2}, {x + d, -6.2 + d}, {x, -6.2 + d}, {x, -6.2}}}}
	}
	set := func(name string, d float64) int64 {
		id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, name, "test", []geo.BoundaryFeature{
			{Code: "99.01.01.2001", Name: name, KecCode: "99.01.01", KecName: "Uji", Kind: "desa", Geom: square(107, d)},
			{Code: "99.01.01.2002", Name: name + " Dua", KecCode: "99.01.01", KecName: "Uji", Kind: "desa", Geom: square(107.05, d)}})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	rows := func() map[int64]int {
		out := map[int64]int{}
		r, err := owner.Pool.Query(ctx, `SELECT set_id, count(*)::int FROM tile_geom GROUP BY set_id`)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		var n int
		if _, err := pgx.ForEachRow(r, []any{&id, &n}, func() error { out[id] = n; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	l, _ := geo.LayerByName(geo.LayerDesa)
	zooms := l.MaxZoom - l.MinZoom + 1
	a := set("Lama", 0.01)
	if got := rows(); len(got) != 0 {
		t.Fatalf("a draft set has tile rows: %v", got)
	}
	if err := owner.ActivateBoundarySet(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	if got := rows(); len(got) != 1 || got[a] != 2*zooms {
		t.Fatalf("after activating set %d: rows per set %v, want %d", a, got, 2*zooms)
	}
	tc := coord(maptile.At(orb.Point{107.001, -6.199}, 12))
	extent := func() float64 { // the first feature's width in tile units
		tile, err := web.Tile(ctx, l, tc, geo.FormatMVT, geo.Viewer{Role: geo.RolePlanner})
		if err != nil {
			t.Fatal(err)
		}
		layers, err := mvt.Unmarshal(tile.Body)
		if err != nil || len(layers) != 1 || layers[0].Name != "desa" || len(layers[0].Features) == 0 {
			t.Fatalf("mvt: %v %v", layers, err)
		}
		f := layers[0].Features[0]
		for _, p := range []string{"code", "name", "area_km2"} {
			if f.Properties[p] == nil {
				t.Errorf("z12 MVT feature lacks %s: %v", p, f.Properties)
			}
		}
		return f.Geometry.Bound().Max.X() - f.Geometry.Bound().Min.X()
	}
	before := extent()
	b := set("Baru", 0.02)
	if err := owner.ActivateBoundarySet(ctx, b, "test"); err != nil {
		t.Fatal(err)
	}
	if got := rows(); len(got) != 1 || got[b] != 2*zooms {
		t.Fatalf("after activating set %d: rows per set %v", b, got)
	}
	if after := extent(); after < 1.5*before {
		t.Errorf("the z12 tile still shows the old village: width %.0f, before %.0f", after, before)
	}
	// Below FieldMinZoom the MVT carries no name.
	tile, err := web.Tile(ctx, l, coord(maptile.At(orb.Point{107.001, -6.199}, 9)), geo.FormatMVT, geo.Viewer{Role: geo.RolePlanner})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.Unmarshal(tile.Body)
	if err != nil || len(layers) != 1 || len(layers[0].Features) != 2 {
		t.Fatalf("z9 mvt: %v %v", layers, err)
	}
	if p := layers[0].Features[0].Properties; p["name"] != nil || p["code"] == nil {
		t.Errorf("z9 MVT properties: %v", p)
	}
}
