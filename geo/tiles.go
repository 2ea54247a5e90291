package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// TileFormat is a tile encoding.
type TileFormat string

// Tile formats.
const (
	FormatGeoJSON TileFormat = "geojson"
	FormatMVT     TileFormat = "mvt"
)

// TileCoord is a Web Mercator (XYZ, y down) tile address.
type TileCoord struct{ Z, X, Y int }

// MaxTileZoom is the deepest zoom any layer serves.
const MaxTileZoom = 22

// Valid checks the address is inside the tile pyramid.
func (t TileCoord) Valid() error {
	if t.Z < 0 || t.Z > MaxTileZoom {
		return fmt.Errorf("zoom %d is outside 0–%d", t.Z, MaxTileZoom)
	}
	n := 1 << t.Z
	if t.X < 0 || t.X >= n || t.Y < 0 || t.Y >= n {
		return fmt.Errorf("tile %d/%d/%d: x and y must be in 0–%d at zoom %d", t.Z, t.X, t.Y, n-1, t.Z)
	}
	return nil
}

func (t TileCoord) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

const (
	// earthCircumference is the Web Mercator world width in metres.
	earthCircumference = 40075016.685578488
	// TileBufferPx is the buffer around each tile, in pixels of a 256-px tile:
	// features are clipped to the tile plus this margin so strokes join at edges.
	TileBufferPx = 16
	// tileMargin is TileBufferPx as ST_TileEnvelope's margin (a share of the tile).
	tileMargin = float64(TileBufferPx) / 256
	// needFinestLevel is the finest need grid: cells of ~305 m at Bekasi's latitude.
	needFinestLevel = 17
	// needLevelOffset: a tile at zoom z shows cells of level z+4, 16×16 per tile.
	needLevelOffset = 4
)

// TileBounds returns a tile's bounds in Web Mercator metres, grown by margin (a
// share of the tile width).
func TileBounds(t TileCoord, margin float64) orb.Bound {
	size := earthCircumference / float64(int(1)<<t.Z)
	half := earthCircumference / 2
	minX := -half + float64(t.X)*size
	maxY := half - float64(t.Y)*size
	m := size * margin
	return orb.Bound{Min: orb.Point{minX - m, maxY - size - m}, Max: orb.Point{minX + size + m, maxY + m}}
}

// PixelSize is the width of one pixel of a 256-px tile at zoom z, in Web Mercator metres.
func PixelSize(z int) float64 { return earthCircumference / float64(int(1)<<z) / 256 }

// SimplifyTolerance is the Douglas–Peucker tolerance at zoom z: a quarter pixel.
// Each feature is simplified on its own, so neighbours may move apart or together
// by up to twice the tolerance; together with the rounding of GeoJSONDigits
// (≤ ¼ px) every feature stays within ½ px of its source and no gap or overlap
// between neighbours grows by more than one pixel.
func SimplifyTolerance(z int) float64 { return PixelSize(z) / 4 }

// GeoJSONDigits is the number of decimals of GeoJSON tile coordinates at zoom z:
// the fewest whose rounding moves a point by at most a quarter pixel.
func GeoJSONDigits(z int) int {
	pixelDeg := 360 / float64(int(1)<<z) / 256
	// A point moves by at most √2/2 · 10^-d degrees; 1° of latitude near the
	// equator is ≥ 1° of longitude in Mercator, so compare in degrees of longitude.
	d := int(math.Ceil(-math.Log10(pixelDeg / (2 * math.Sqrt2))))
	return max(d, 0)
}

// NeedLevel is the need grid level a tile at zoom z shows.
func NeedLevel(z int) int { return min(z+needLevelOffset, needFinestLevel) }

// Tile is one encoded tile, the data version it was made from and the auth epoch
// (see migration 006) read in the same snapshot.
type Tile struct {
	Body      []byte
	Version   int64
	AuthEpoch int64
}

// authEpochSQL reads the auth epoch in a tile's statement.
const authEpochSQL = `coalesce((SELECT epoch FROM auth_epoch), 0)`

// ErrLayerForbidden means the viewer's role may not read the layer.
var ErrLayerForbidden = errors.New("this role may not read this layer")

func layerArgs(l Layer, v Viewer) pgx.NamedArgs {
	return pgx.NamedArgs{"company": v.CompanyID, "full": v.fullView(), "agg": v.Role != RoleCompany, "lname": l.Name}
}

// Tile renders one tile of a layer for a viewer: features meeting the tile plus a
// buffer of TileBufferPx, clipped to it, simplified by SimplifyTolerance, with
// the properties the layer's FieldMinZoom allows at that zoom. GeoJSON
// tiles are RFC 7946 FeatureCollections in EPSG:4326 with coordinates rounded to
// GeoJSONDigits; an empty tile is {"type":"FeatureCollection","features":[]}. MVT
// tiles have one layer named after the layer, extent 4096, buffer 256; an empty
// tile is a zero-length body (a valid tile with no layers). The version returned
// is the one read in the same statement as the features.
func (s *Store) Tile(ctx context.Context, l Layer, t TileCoord, f TileFormat, v Viewer) (Tile, error) {
	if !l.Allowed(v.Role) {
		return Tile{}, ErrLayerForbidden
	}
	if err := t.Valid(); err != nil {
		return Tile{}, err
	}
	args := layerArgs(l, v)
	args["z"], args["x"], args["y"] = t.Z, t.X, t.Y
	args["margin"] = tileMargin
	args["drop"] = l.droppedFields(t.Z)
	var q string
	if l.fastTile(t.Z) {
		spec, err := s.tileLayerSpec(ctx, l)
		if err != nil {
			return Tile{}, err
		}
		q = fastTileSQL(l, spec, t.Z, f)
	} else {
		src, err := s.layerSource(ctx, l)
		if err != nil {
			return Tile{}, err
		}
		args["tol"] = SimplifyTolerance(t.Z)
		args["level"] = NeedLevel(t.Z)
		q = tileSQL(l, src, f)
	}
	if q == "" {
		return Tile{}, fmt.Errorf("tile format %q: want geojson or mvt", f)
	}
	if f == FormatGeoJSON {
		args["digits"] = GeoJSONDigits(t.Z)
	}
	var out Tile
	if err := s.Pool.QueryRow(ctx, q, args).Scan(&out.Version, &out.AuthEpoch, &out.Body); err != nil {
		return Tile{}, fmt.Errorf("tile %s/%s.%s: %w", l.Name, t, f, err)
	}
	return out, nil
}

// tileSQL is a tile's query from a layer's source (geometries in 4326 at full
// detail): clip to the tile plus buffer, transform and simplify per request.
func tileSQL(l Layer, src string, f TileFormat) string {
	src = strings.ReplaceAll(src, "{bbox}", "(SELECT b4326 FROM env)")
	env := `WITH env AS (SELECT e, eb, ST_Transform(eb, 4326) AS b4326 FROM (SELECT ST_TileEnvelope(@z, @x, @y) AS e,
			ST_TileEnvelope(@z, @x, @y, margin => @margin) AS eb) q),
		src AS (` + src + `),
		clipped AS (SELECT src.fid, src.props - @drop::text[] AS props,
			ST_Simplify(ST_Transform(ST_ClipByBox2D(src.geom, box2d((SELECT b4326 FROM env))), 3857), @tol, true) AS g
			FROM src)`
	return tileSQLTail(l, env, f)
}

// fastTileSQL is a tile's query from a layer's tileSpec: the geometries are
// stored in Web Mercator already simplified for zoom z (tile_geom, migration 009),
// so a tile only clips them (ST_AsMVTGeom clips MVT itself), and MVT attributes
// are plain columns. The zoom is part of the SQL text, so each zoom is its own
// prepared statement and reads its own partial index. Queries are built once per
// spec, zoom and format.
func fastTileSQL(l Layer, spec *tileSpec, z int, f TileFormat) string {
	key := fastSQLKey{z: z, f: f}
	if q, ok := spec.queries.Load(key); ok {
		return q.(string)
	}
	from := strings.NewReplacer("{bbox3857}", "(SELECT eb FROM env)", "{z}", strconv.Itoa(z)).Replace(spec.from)
	env := `WITH env AS (SELECT ST_TileEnvelope(@z, @x, @y) AS e, ST_TileEnvelope(@z, @x, @y, margin => @margin) AS eb)`
	var q string
	switch f {
	case FormatGeoJSON:
		q = tileSQLTail(l, env+`,
		clipped AS (SELECT `+spec.fid+` AS fid, (`+spec.props+`) - @drop::text[] AS props,
			ST_ClipByBox2D(tg.geom, box2d((SELECT eb FROM env))) AS g `+from+`)`, f)
	case FormatMVT:
		cols := []string{"ST_AsMVTGeom(tg.geom, (SELECT e FROM env), 4096, 256, true) AS geom"}
		drop := l.droppedFields(z)
		for _, c := range spec.cols {
			if !slices.Contains(drop, c.name) {
				cols = append(cols, c.expr+" AS "+pgx.Identifier{c.name}.Sanitize())
			}
		}
		q = env + `,
		mvt AS (SELECT ` + strings.Join(cols, ", ") + ` ` + from + `)
		SELECT ` + l.versionSQL() + `, ` + authEpochSQL + `, coalesce((SELECT ST_AsMVT(m.*, @lname, 4096, 'geom') FROM mvt m WHERE m.geom IS NOT NULL), ''::bytea)`
	}
	if q != "" {
		spec.queries.Store(key, q)
	}
	return q
}

// fastSQLKey names a query of tileSpec.queries.
type fastSQLKey struct {
	z int
	f TileFormat
}

// tileSQLTail encodes the clipped CTE (fid, props, g in 3857) as GeoJSON or MVT.
func tileSQLTail(l Layer, env string, f TileFormat) string {
	switch f {
	case FormatGeoJSON:
		return env + `
		SELECT ` + l.versionSQL() + `, ` + authEpochSQL + `, json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
			json_build_object('type', 'Feature', 'id', c.fid, 'geometry', ST_AsGeoJSON(ST_Transform(c.g, 4326), @digits)::json,
				'properties', c.props) ORDER BY c.fid), '[]'::json))::text::bytea
		FROM clipped c WHERE c.g IS NOT NULL AND NOT ST_IsEmpty(c.g)`
	case FormatMVT:
		return env + `,
		mvt AS (SELECT ST_AsMVTGeom(c.g, (SELECT e FROM env), 4096, 256, true) AS geom, c.props FROM clipped c
			WHERE c.g IS NOT NULL AND NOT ST_IsEmpty(c.g))
		SELECT ` + l.versionSQL() + `, ` + authEpochSQL + `, coalesce((SELECT ST_AsMVT(m.*, @lname, 4096, 'geom') FROM mvt m WHERE m.geom IS NOT NULL), ''::bytea)`
	}
	return ""
}

// FeatureQuery selects features for OGC API Features items.
type FeatureQuery struct {
	// BBox limits features to those intersecting it (lon/lat); nil means all.
	BBox *orb.Bound
	// Limit and Offset page through features ordered by id.
	Limit, Offset int
	// Properties keeps only these properties; nil keeps all.
	Properties []string
	// ID selects one feature.
	ID string
}

// FeaturePage is a GeoJSON FeatureCollection (or one Feature when ID was given)
// with the count of matching features.
type FeaturePage struct {
	Body     []byte
	Matched  int
	Returned int
	Version  int64
}

// ErrNoFeature means a feature id does not exist in the layer (or not for this viewer).
var ErrNoFeature = errors.New("no such feature")

// Features returns a layer's features at full resolution (coordinates to 7
// decimals, ~1 cm) for OGC API Features. The need layer serves its finest grid.
func (s *Store) Features(ctx context.Context, l Layer, q FeatureQuery, v Viewer) (FeaturePage, error) {
	if !l.Allowed(v.Role) {
		return FeaturePage{}, ErrLayerForbidden
	}
	src, err := s.layerSource(ctx, l)
	if err != nil {
		return FeaturePage{}, err
	}
	args := layerArgs(l, v)
	args["level"] = needFinestLevel
	args["limit"], args["offset"] = q.Limit, q.Offset
	args["all_props"] = q.Properties == nil
	args["props"] = q.Properties
	args["fid"] = q.ID
	args["by_id"] = q.ID != ""
	if q.BBox != nil {
		args["minx"], args["miny"], args["maxx"], args["maxy"] = q.BBox.Min.X(), q.BBox.Min.Y(), q.BBox.Max.X(), q.BBox.Max.Y()
	} else {
		args["minx"], args["miny"], args["maxx"], args["maxy"] = -180.0, -85.05, 180.0, 85.05
	}
	src = strings.ReplaceAll(src, "{bbox}", "(SELECT b FROM box)")
	sql := `WITH box AS (SELECT ST_MakeEnvelope(@minx, @miny, @maxx, @maxy, 4326) AS b),
		src AS (` + src + `),
		hit AS (SELECT * FROM src WHERE ST_Intersects(src.geom, (SELECT b FROM box)) AND (NOT @by_id OR src.fid = @fid)),
		page AS (SELECT * FROM hit ORDER BY fid LIMIT @limit OFFSET @offset)
		SELECT ` + l.versionSQL() + `, (SELECT count(*) FROM hit)::int, (SELECT count(*) FROM page)::int,
			coalesce(json_agg(json_build_object('type', 'Feature', 'id', p.fid,
				'geometry', ST_AsGeoJSON(p.geom, 7)::json,
				'properties', CASE WHEN @all_props THEN p.props
					ELSE coalesce((SELECT jsonb_object_agg(k, val) FROM jsonb_each(p.props) AS e(k, val) WHERE k = ANY(@props::text[])), '{}'::jsonb) END)
				ORDER BY p.fid), '[]'::json)::text::bytea
		FROM page p`
	var out FeaturePage
	if err := s.Pool.QueryRow(ctx, sql, args).Scan(&out.Version, &out.Matched, &out.Returned, &out.Body); err != nil {
		return FeaturePage{}, fmt.Errorf("features of %s: %w", l.Name, err)
	}
	if q.ID != "" && out.Returned == 0 {
		return FeaturePage{}, ErrNoFeature
	}
	return out, nil
}

// LayerExtent returns the lon/lat bounds of a layer's features for a viewer (ok is
// false when the layer is empty).
func (s *Store) LayerExtent(ctx context.Context, l Layer, v Viewer) (orb.Bound, bool, error) {
	if !l.Allowed(v.Role) {
		return orb.Bound{}, false, ErrLayerForbidden
	}
	src, err := s.layerSource(ctx, l)
	if err != nil {
		return orb.Bound{}, false, err
	}
	src = strings.ReplaceAll(src, "{bbox}", "ST_MakeEnvelope(-180, -85.05, 180, 85.05, 4326)")
	args := layerArgs(l, v)
	args["level"] = needFinestLevel
	var minX, minY, maxX, maxY *float64
	err = s.Pool.QueryRow(ctx, `WITH src AS (`+src+`), e AS (SELECT ST_Extent(geom) AS b FROM src)
		SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM e`, args).Scan(&minX, &minY, &maxX, &maxY)
	if err != nil {
		return orb.Bound{}, false, fmt.Errorf("extent of %s: %w", l.Name, err)
	}
	if minX == nil {
		return orb.Bound{}, false, nil
	}
	return orb.Bound{Min: orb.Point{*minX, *minY}, Max: orb.Point{*maxX, *maxY}}, true, nil
}
