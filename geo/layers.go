package geo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Layer names served as tiles and OGC API Features collections.
const (
	LayerDesa      = "desa"
	LayerKecamatan = "kecamatan"
	LayerCompanies = "companies"
	LayerNeed      = "need"
	LayerPlans     = "plans"
)

// Layer describes one served layer: who may read it, its zoom range, the data
// versions its content depends on and the properties it carries.
type Layer struct {
	Name        string
	Title       string
	Description string
	// GeometryType is the OGC geometry type of its features.
	GeometryType string
	MinZoom      int
	MaxZoom      int
	// Roles may read the layer (DESIGN.md privacy table).
	Roles []Role
	// DependsOn names the layer_version rows whose change changes this layer's
	// content; the layer's data version is their sum (each only grows).
	DependsOn []string
	// Fields maps property names to a short description (TileJSON, OGC).
	Fields map[string]string
	// FieldMinZoom is the lowest zoom whose tiles carry a property (default 0;
	// OGC items carry every property). A z8 tile of a national village set holds
	// ~5,000 villages of a few pixels each: names and kecamatan attributes would
	// double its size for labels no map can show at that scale.
	FieldMinZoom map[string]int
	// PerCompany means a company user's view differs from another company's, so
	// cached answers are keyed by company.
	PerCompany bool
	// source is a query of (fid text, geom geometry(4326), props jsonb) for the
	// features whose geometry meets {bbox} (a 4326 geometry expression); it may use
	// @company (the viewer's company id or 0) and @full (whether the viewer sees
	// every property).
	source string
	// tile, when set, is how tiles of zooms tileGeomZooms read the layer instead
	// of source: from tile_geom (migration 009), which holds the geometries of the
	// active sets in Web Mercator already simplified per zoom.
	tile *tileSpec
}

// tileSpec describes a layer's features in tile_geom (alias tg): the FROM/WHERE
// clause (with {z}, the zoom, and {bbox3857}, the tile plus buffer), the feature
// id, the properties as one jsonb expression (GeoJSON) and as columns (MVT, which
// then needs no jsonb per feature). {score_join}, {score_props} and
// {score_cols} are filled in by layerSources for the desa layer.
type tileSpec struct {
	from  string
	fid   string
	props string
	cols  []tileCol
	// queries caches the tile queries built from the spec (fastTileSQL). A
	// spec is replaced, not changed, when the desa layer's score columns change,
	// so its queries go with it.
	queries sync.Map // fastSQLKey -> string
}

// tileCol is one MVT attribute: a property name and its SQL expression.
type tileCol struct{ name, expr string }

// tileGeomZooms are the zooms tile_geom holds per level (tile_geom_zooms in
// migration 009 must agree).
var tileGeomZooms = map[string][2]int{LayerDesa: {6, 16}, LayerKecamatan: {4, 16}}

// fastTile reports whether tiles of zoom z read the prepared geometries of tile_geom.
func (l Layer) fastTile(z int) bool {
	r, ok := tileGeomZooms[l.Name]
	return ok && l.tile != nil && z >= r[0] && z <= r[1]
}

// droppedFields lists the properties tiles of zoom z leave out (FieldMinZoom).
func (l Layer) droppedFields(z int) []string {
	out := []string{}
	for k, minz := range l.FieldMinZoom {
		if z < minz {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Allowed reports whether a role may read the layer.
func (l Layer) Allowed(r Role) bool { return slices.Contains(l.Roles, r) }

var villageFields = map[string]string{
	"code": "kode desa Kemendagri (village code)", "name": "nama desa (village name)",
	"kecamatan_code": "kode kecamatan", "kecamatan_name": "nama kecamatan", "kind": "desa | kelurahan",
	"area_km2": "luas km² (area)",
}

var layers = []Layer{
	{
		Name: LayerDesa, Title: "Desa/kelurahan", GeometryType: "MultiPolygon", MinZoom: 6, MaxZoom: 16,
		Description: "Batas desa aktif dengan skor kebutuhan (active villages with need scores when computed)",
		Roles:       []Role{RolePlanner, RoleCompany, RoleOfficer, RoleGIS},
		DependsOn:   []string{LayerDesa},
		Fields:      villageFields,
		FieldMinZoom: map[string]int{"name": 10, "kecamatan_code": 11, "kecamatan_name": 11, "kind": 11, "area_km2": 11,
			"households": 11, "in_need": 11, "h": 11, "a": 11, "h_eb": 11, "density": 11, "gi_z": 11, "gi_p": 11, "gi_q": 11,
			"rank_kecamatan": 11},
		source: `SELECT v.code AS fid, v.geom,
			jsonb_build_object('code', v.code, 'name', v.name, 'kecamatan_code', v.kecamatan_code,
				'kecamatan_name', v.kecamatan_name, 'kind', v.kind, 'area_km2', round(v.area_km2::numeric, 3))
				{score_props} AS props
			FROM village v JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active'
			{score_join}
			WHERE v.geom && {bbox}`,
		tile: &tileSpec{
			from: `FROM tile_geom tg JOIN village v ON v.set_id = tg.set_id AND v.code = tg.code
				{score_join}
				WHERE tg.level = 'desa' AND tg.z = {z} AND tg.geom && {bbox3857}`,
			fid: "v.code",
			props: `jsonb_build_object('code', v.code, 'name', v.name, 'kecamatan_code', v.kecamatan_code,
				'kecamatan_name', v.kecamatan_name, 'kind', v.kind, 'area_km2', round(v.area_km2::numeric, 3))
				{score_props}`,
			cols: []tileCol{{"code", "v.code"}, {"name", "v.name"}, {"kecamatan_code", "v.kecamatan_code"},
				{"kecamatan_name", "v.kecamatan_name"}, {"kind", "v.kind"}, {"area_km2", "round(v.area_km2::numeric, 3)::float8"}},
		},
	},
	{
		Name: LayerKecamatan, Title: "Kecamatan", GeometryType: "MultiPolygon", MinZoom: 4, MaxZoom: 16,
		Description: "Batas kecamatan aktif (active kecamatan boundaries)",
		Roles:       []Role{RolePlanner, RoleCompany, RoleOfficer, RoleGIS},
		DependsOn:   []string{LayerKecamatan},
		Fields:      map[string]string{"code": "kode kecamatan", "name": "nama kecamatan", "area_km2": "luas km² (area)"},
		source: `SELECT k.code AS fid, k.geom,
			jsonb_build_object('code', k.code, 'name', k.name, 'area_km2', round(k.area_km2::numeric, 3)) AS props
			FROM kecamatan k JOIN boundary_set b ON b.id = k.set_id AND b.status = 'active'
			WHERE k.geom && {bbox}`,
		tile: &tileSpec{
			from: `FROM tile_geom tg JOIN kecamatan k ON k.set_id = tg.set_id AND k.code = tg.code
				WHERE tg.level = 'kecamatan' AND tg.z = {z} AND tg.geom && {bbox3857}`,
			fid:   "k.code",
			props: `jsonb_build_object('code', k.code, 'name', k.name, 'area_km2', round(k.area_km2::numeric, 3))`,
			cols:  []tileCol{{"code", "k.code"}, {"name", "k.name"}, {"area_km2", "round(k.area_km2::numeric, 3)::float8"}},
		},
	},
	{
		// Company neighbours (DESIGN.md): every company may see the others' names,
		// sectors and operating areas, never their budgets.
		Name: LayerCompanies, Title: "Perusahaan", GeometryType: "Geometry", MinZoom: 4, MaxZoom: 16,
		Description: "Wilayah operasi perusahaan (companies' operating areas or sites; no budgets)",
		Roles:       []Role{RolePlanner, RoleCompany, RoleOfficer, RoleGIS},
		DependsOn:   []string{LayerCompanies},
		Fields: map[string]string{"id": "id perusahaan", "key": "kunci", "name": "nama perusahaan",
			"sectors": "sektor minat (sectors)", "reach_km": "jangkauan km (reach)"},
		source: `SELECT c.id::text AS fid, coalesce(c.area, c.sites) AS geom,
			jsonb_build_object('id', c.id, 'key', c.key, 'name', c.name, 'sectors', c.sectors, 'reach_km', c.reach_km) AS props
			FROM company c
			WHERE coalesce(c.area, c.sites) && {bbox}`,
	},
	{
		// Households in need per grid cell (need_cell, built by the owner role). The
		// privacy table gives density grids to planners; GIS staff see aggregates.
		// Companies get village aggregates only, so no need grid at all.
		Name: LayerNeed, Title: "Kepadatan rumah tangga membutuhkan", GeometryType: "Polygon", MinZoom: 4, MaxZoom: 16,
		Description: "Rumah tangga membutuhkan per sel grid ≥250 m, ≥10 rumah tangga per sel (in-need households per grid cell; never single households)",
		Roles:       []Role{RolePlanner, RoleGIS},
		DependsOn:   []string{LayerNeed},
		Fields: map[string]string{"households": "rumah tangga membutuhkan di sel (in-need households, ≥10)",
			"cell_m": "lebar sel (cell width, Web Mercator m)", "level": "tingkat grid (grid level)"},
		source: `SELECT n.level || '-' || n.cx || '-' || n.cy AS fid, ST_Transform(n.geom, 4326) AS geom,
			jsonb_build_object('households', n.households, 'level', n.level,
				'cell_m', round((40075016.686 / 2 ^ n.level)::numeric, 1)) AS props
			FROM need_cell n
			WHERE n.level = @level AND n.geom && ST_Transform({bbox}, 3857)`,
	},
	{
		// Company users see their own plans in full and others' by company, village
		// and sector only (DESIGN.md), so their answers are keyed by company.
		Name: LayerPlans, Title: "Rencana CSR", GeometryType: "MultiPoint", MinZoom: 8, MaxZoom: 18,
		Description: "Rencana kerja CSR di lokasi program atau di titik dalam desanya (CSR plans at their sites or a point in their village)",
		Roles:       []Role{RolePlanner, RoleCompany},
		DependsOn:   []string{LayerPlans, LayerDesa, LayerCompanies},
		PerCompany:  true,
		Fields: map[string]string{"id": "id rencana", "company_id": "id perusahaan", "company": "nama perusahaan",
			"village_code": "kode desa", "village_name": "nama desa", "sector": "sektor", "year": "tahun",
			"budget": "anggaran (own plans / planners only)", "target_households": "target rumah tangga (own plans / planners only)",
			"status": "status (own plans / planners only)"},
		source: `SELECT p.id::text AS fid,
			CASE WHEN @full OR p.company_id = @company THEN coalesce(p.sites, ST_Multi(ST_PointOnSurface(v.geom)))
				ELSE ST_Multi(ST_PointOnSurface(v.geom)) END AS geom,
			CASE WHEN @full OR p.company_id = @company THEN
				jsonb_build_object('id', p.id, 'company_id', p.company_id, 'company', c.name, 'village_code', p.village_code,
					'village_name', v.name, 'sector', p.sector, 'year', p.year, 'budget', p.budget,
					'target_households', p.target_households, 'status', p.status)
			ELSE jsonb_build_object('id', p.id, 'company_id', p.company_id, 'company', c.name, 'village_code', p.village_code,
					'village_name', v.name, 'sector', p.sector) END AS props
			FROM plan p
			JOIN company c ON c.id = p.company_id
			JOIN village v ON v.code = p.village_code
			JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active'
			WHERE p.status <> 'rejected' AND v.geom && {bbox}`,
	},
}

// Layers returns the served layers in a fixed order.
func Layers() []Layer { return slices.Clone(layers) }

// LayerByName finds a served layer.
func LayerByName(name string) (Layer, bool) {
	for _, l := range layers {
		if l.Name == name {
			return l, true
		}
	}
	return Layer{}, false
}

// Viewer is who reads a layer: what they may see depends on the role and, for
// company users, on the company.
type Viewer struct {
	Role      Role
	CompanyID int64
}

// ViewerOf returns the viewer of a signed-in user.
func ViewerOf(u User) Viewer {
	v := Viewer{Role: u.Role}
	if u.CompanyID != nil {
		v.CompanyID = *u.CompanyID
	}
	return v
}

// Visibility is the part of a cache key that says which answers a viewer may share:
// the role, or the company for company users (one company never gets another's).
func (v Viewer) Visibility() string {
	if v.Role == RoleCompany {
		return "company:" + strconv.FormatInt(v.CompanyID, 10)
	}
	return string(v.Role)
}

// fullView says whether the viewer sees every property of every plan.
func (v Viewer) fullView() bool { return v.Role == RolePlanner }

// LayerVersions reads every layer's data version.
func (s *Store) LayerVersions(ctx context.Context) (map[string]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT layer, version FROM layer_version`)
	if err != nil {
		return nil, fmt.Errorf("read layer versions: %w", err)
	}
	out := map[string]int64{}
	var (
		name string
		v    int64
	)
	_, err = pgx.ForEachRow(rows, []any{&name, &v}, func() error { out[name] = v; return nil })
	if err != nil {
		return nil, fmt.Errorf("read layer versions: %w", err)
	}
	return out, nil
}

// Versions are the data versions of every layer and the auth epoch (which moves
// when a token is revoked or a user changes), read in one statement.
type Versions struct {
	Layers    map[string]int64
	AuthEpoch int64
}

// ReadVersions reads every layer's data version and the auth epoch in one query.
func (s *Store) ReadVersions(ctx context.Context) (Versions, error) {
	var (
		names []string
		vs    []int64
		out   Versions
	)
	err := s.Pool.QueryRow(ctx, `SELECT coalesce((SELECT epoch FROM auth_epoch), 0),
		coalesce(array_agg(layer), '{}'), coalesce(array_agg(version), '{}') FROM layer_version`).Scan(&out.AuthEpoch, &names, &vs)
	if err != nil {
		return Versions{}, fmt.Errorf("read layer versions: %w", err)
	}
	out.Layers = make(map[string]int64, len(names))
	for i, n := range names {
		out.Layers[n] = vs[i]
	}
	return out, nil
}

// DataVersion is a layer's data version computed from the layer_version rows it
// depends on.
func (l Layer) DataVersion(versions map[string]int64) int64 {
	var sum int64
	for _, d := range l.DependsOn {
		sum += versions[d]
	}
	return sum
}

// versionSQL is an expression of the layer's data version, read in the same
// statement (snapshot) as its features.
func (l Layer) versionSQL() string {
	if l.Name == LayerNeed {
		// The need grid is as new as the aggregate actually read, not the layer row.
		return `(SELECT version FROM need_cell_state)`
	}
	quoted := make([]string, len(l.DependsOn))
	for i, d := range l.DependsOn {
		quoted[i] = "'" + d + "'" // constants from the layer table, never input
	}
	return `(SELECT coalesce(sum(version), 0)::bigint FROM layer_version WHERE layer IN (` + strings.Join(quoted, ", ") + `))`
}

// scoreColumnsAll are the village_score columns (migration 004) the desa layer
// carries for roles that see all aggregates (planner, officer, gis).
var scoreColumnsAll = []string{"households", "in_need", "h", "a", "m0", "h_eb", "m0_eb", "density", "hotspot",
	"gi_z", "gi_p", "gi_q", "rank", "rank_kecamatan"}

// scoreColumnsCompany are the ones company users get: ranks, the hot-spot label
// and the smoothed score, never counts or rates/densities from which a small
// count could be recovered (DESIGN.md: disclosure control for companies). The
// ranks and the smoothed score are the disclosure-controlled ones stored with the
// run (companyScoreColumn), never the exact ones: an exact rank or M0 of a village
// with 3 households in need, next to the controlled API, gives the count away.
var scoreColumnsCompany = []string{"rank", "rank_kecamatan", "hotspot", "m0_eb"}

// companyScoreColumn maps a published score column to the village_score column
// (migration 007) holding its disclosure-controlled value for companies.
var companyScoreColumn = map[string]string{"rank": "c_rank", "rank_kecamatan": "c_rank_kecamatan", "m0_eb": "c_m0_eb"}

// companyScoreExpr is the SQL of score column c as companies get it.
func companyScoreExpr(c string) string {
	if cc, ok := companyScoreColumn[c]; ok {
		return "sc." + pgx.Identifier{cc}.Sanitize()
	}
	return scoreExpr(c)
}

// desaSQL caches the desa source with or without the village_score join; it is
// detected again after ForgetLayerSources (called when the desa layer changes).
type desaSQL struct {
	mu     sync.Mutex
	src    string
	tile   *tileSpec
	scores []string
}

// desaSources holds one desaSQL per store (tests open many databases).
var desaSources sync.Map // *Store -> *desaSQL

func (s *Store) desaSQL() *desaSQL {
	d, _ := desaSources.LoadOrStore(s, &desaSQL{})
	return d.(*desaSQL)
}

func tableColumns(ctx context.Context, s *Store, table string) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT column_name::text FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1`, table)
	if err != nil {
		return nil, fmt.Errorf("look for %s: %w", table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("look for %s: %w", table, err)
	}
	return cols, nil
}

func scoreProps(cols, want []string, expr func(string) string) (props, picked []string) {
	for _, c := range want {
		if slices.Contains(cols, c) {
			picked = append(picked, c)
			props = append(props, "'"+c+"', "+expr(c))
		}
	}
	return props, picked
}

// scoreExpr is the SQL of score column c as the desa layer publishes it, for the
// jsonb properties (GeoJSON, OGC) and the MVT columns alike.
func scoreExpr(c string) string { return "sc." + pgx.Identifier{c}.Sanitize() }

// layerSource returns the layer's source query with its placeholders filled. The
// desa layer joins the newest score run of the active set from village_score and
// score_run (migration 004) when those tables exist; without them it carries the
// village attributes only.
func (s *Store) layerSource(ctx context.Context, l Layer) (string, error) {
	src, _, err := s.layerSources(ctx, l)
	return src, err
}

// tileLayerSpec is the layer's tileSpec with its placeholders filled.
func (s *Store) tileLayerSpec(ctx context.Context, l Layer) (*tileSpec, error) {
	_, spec, err := s.layerSources(ctx, l)
	return spec, err
}

func (s *Store) layerSources(ctx context.Context, l Layer) (string, *tileSpec, error) {
	if l.Name != LayerDesa {
		return l.source, l.tile, nil
	}
	desaSource := s.desaSQL()
	desaSource.mu.Lock()
	defer desaSource.mu.Unlock()
	if desaSource.src != "" {
		return desaSource.src, desaSource.tile, nil
	}
	cols, err := tableColumns(ctx, s, "village_score")
	if err != nil {
		return "", nil, err
	}
	runCols, err := tableColumns(ctx, s, "score_run")
	if err != nil {
		return "", nil, err
	}
	fill := strings.NewReplacer("{score_props}", "", "{score_join}", "")
	var picked []string
	var mvtCols []tileCol
	if slices.Contains(cols, "code") && slices.Contains(cols, "run_id") && slices.Contains(runCols, "set_id") {
		all, allPicked := scoreProps(cols, scoreColumnsAll, scoreExpr)
		comp, compPicked := scoreProps(cols, scoreColumnsCompany, companyScoreExpr)
		if len(all) > 0 {
			picked = allPicked
			compObj := "'{}'::jsonb"
			if len(comp) > 0 {
				compObj = "jsonb_build_object(" + strings.Join(comp, ", ") + ")"
			}
			fill = strings.NewReplacer(
				"{score_props}", "|| coalesce(jsonb_strip_nulls(CASE WHEN @agg THEN jsonb_build_object("+strings.Join(all, ", ")+
					") ELSE "+compObj+" END), '{}'::jsonb)",
				// The newest run of the village's set holds every village of the set.
				"{score_join}", `LEFT JOIN village_score sc ON sc.run_id = (SELECT max(r.id) FROM score_run r
					WHERE r.set_id = v.set_id) AND sc.code = v.code`,
			)
			// The same properties as MVT columns: ST_AsMVT leaves NULLs out, as
			// jsonb_strip_nulls does; companies get their subset only.
			for _, c := range allPicked {
				e := scoreExpr(c)
				switch {
				case !slices.Contains(compPicked, c):
					e = "CASE WHEN @agg THEN " + e + " END"
				case companyScoreExpr(c) != e:
					e = "CASE WHEN @agg THEN " + e + " ELSE " + companyScoreExpr(c) + " END"
				}
				mvtCols = append(mvtCols, tileCol{c, e})
			}
		}
	}
	t := &tileSpec{from: fill.Replace(l.tile.from), fid: l.tile.fid, props: fill.Replace(l.tile.props),
		cols: append(slices.Clone(l.tile.cols), mvtCols...)}
	desaSource.src, desaSource.tile, desaSource.scores = fill.Replace(l.source), t, picked
	return desaSource.src, desaSource.tile, nil
}

// ForgetLayerSources makes the next query look again for village_score (after a
// migration or a score run; the tile server calls it when the desa layer changes).
func (s *Store) ForgetLayerSources() {
	d := s.desaSQL()
	d.mu.Lock()
	d.src = ""
	d.mu.Unlock()
}

// ScoreFields lists the village_score columns the desa layer carries now (empty
// until the scores migration and a score run exist).
func (s *Store) ScoreFields() []string {
	desaSource := s.desaSQL()
	desaSource.mu.Lock()
	defer desaSource.mu.Unlock()
	return slices.Clone(desaSource.scores)
}
