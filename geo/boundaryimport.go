package geo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// ImportOptions say how to read a boundary file and what to do with it.
type ImportOptions struct {
	Level  string   // desa | kecamatan
	Fields FieldMap // explicit property names; empty ones are recognised
	// SRS is the source CRS ("EPSG:32748") for files that declare none; it
	// overrides a declared one (with a warning).
	SRS string
	// SwapXY swaps every coordinate pair before anything else (for files written
	// latitude first). Without it, such files are detected and refused.
	SwapXY bool
	// DryRun validates and reports but writes nothing.
	DryRun bool
	// By names who loads the set (user name, or "cli").
	By string
	// SourceName is recorded as the set's source file (default: the file's base name).
	SourceName string
	// ToleranceM2 hides topology findings (overlaps, gaps) of at most this area.
	ToleranceM2 float64
	// SkipTopology leaves out the neighbour overlap/gap analysis.
	SkipTopology bool
	// GDAL limits the ogr2ogr subprocess (Shapefile, GeoPackage, KML).
	GDAL GDALLimits
	// MaxFileBytes refuses larger files (default 1 GiB); MaxUnzipBytes caps what
	// a zip may expand to (default 1 GiB).
	MaxFileBytes, MaxUnzipBytes int64
}

// Match says how a feature without a code was given one from the active set.
type Match struct {
	Feature     int     `json:"feature"`
	Name        string  `json:"name"`
	Code        string  `json:"code"`
	MatchedName string  `json:"matched_name"`
	Method      string  `json:"method"`  // overlap+name | overlap | name
	Overlap     float64 `json:"overlap"` // share of the feature's area inside the matched one
}

// BoundaryReport is the validation report of one import: what was read, what was
// repaired or rejected, how code-less features were matched, and the topology
// between neighbours. It is stored with the set (boundary_set.report).
type BoundaryReport struct {
	File        string             `json:"file"`
	Format      string             `json:"format"`
	Layer       string             `json:"layer,omitempty"`
	Level       string             `json:"level"`
	SourceCRS   string             `json:"source_crs"`
	Reprojected bool               `json:"reprojected"`
	AxisSwap    string             `json:"axis_swap,omitempty"` // detected | fixed | forced
	SetID       int64              `json:"set_id,omitempty"`
	DryRun      bool               `json:"dry_run"`
	Features    int                `json:"features"`
	Loaded      int                `json:"loaded"`
	Rejected    int                `json:"rejected"`
	Errors      int                `json:"errors"`
	Warnings    int                `json:"warnings"`
	Counts      map[string]int     `json:"counts"`
	Findings    []Finding          `json:"findings"`
	Matched     []Match            `json:"matched,omitempty"`
	Region      []float64          `json:"region,omitempty"` // expected extent [minx, miny, maxx, maxy]
	Topology    *Topology          `json:"topology,omitempty"`
	TimingsMS   map[string]float64 `json:"timings_ms"`
}

// ErrBadBoundaryFile marks errors caused by the file itself (unreadable, wrong
// format, unsafe zip, too big…), as opposed to failures of the system.
var ErrBadBoundaryFile = errors.New("bad boundary file")

type badFileError struct{ err error }

func (e badFileError) Error() string   { return e.err.Error() }
func (e badFileError) Unwrap() []error { return []error{e.err, ErrBadBoundaryFile} }
func badFile(err error) error          { return badFileError{err} }

// ImportError is returned when a file has error findings: nothing was written and
// Report says every problem found.
type ImportError struct{ Report *BoundaryReport }

func (e *ImportError) Error() string {
	var first []string
	for _, f := range e.Report.Findings {
		if f.Severity != SeverityError {
			continue
		}
		where := "file"
		if f.Feature > 0 {
			where = fmt.Sprintf("feature %d", f.Feature)
			if f.Code != "" {
				where += " (" + f.Code + ")"
			} else if f.Name != "" {
				where += " (" + f.Name + ")"
			}
		}
		first = append(first, where+": "+f.Detail)
		if len(first) == 3 {
			break
		}
	}
	more := ""
	if e.Report.Errors > len(first) {
		more = fmt.Sprintf("; and %d more", e.Report.Errors-len(first))
	}
	return fmt.Sprintf("%s: %d kesalahan, tidak ada yang dimuat (%d errors, nothing loaded): %s%s",
		e.Report.File, e.Report.Errors, e.Report.Errors, strings.Join(first, "; "), more)
}

// infoCap bounds how many notes of one kind (promoted, reoriented) are listed
// one by one; the counts stay exact.
const infoCap = 200

func (r *BoundaryReport) add(f Finding) {
	if r.Counts == nil {
		r.Counts = map[string]int{}
	}
	r.Counts[f.Kind]++
	switch f.Severity {
	case SeverityError:
		r.Errors++
	case SeverityWarning:
		r.Warnings++
	default:
		if r.Counts[f.Kind] > infoCap {
			return
		}
	}
	r.Findings = append(r.Findings, f)
}

func (r *BoundaryReport) timed(phase string, start time.Time) {
	r.TimingsMS[phase] = math.Round(float64(time.Since(start).Microseconds())/10) / 100
}

// testHookAfterLoad, when set by a test, runs inside the import transaction after
// the features are written, to simulate a failure half-way.
var testHookAfterLoad func(ctx context.Context, tx pgx.Tx) error

// errRollback ends a dry run (or an import with errors) without writing.
var errRollback = errors.New("rollback")

// ImportBoundaries reads a boundary file (GeoJSON natively; Shapefile, zipped
// Shapefile, GeoPackage or KML through ogr2ogr), validates it and loads it as a
// draft set in one transaction. Nothing users see changes until the set is
// activated. With errors in the file (or a dry run) nothing is written and the
// report says why; errors are returned as *ImportError.
func (s *Store) ImportBoundaries(ctx context.Context, path string, opt ImportOptions) (*BoundaryReport, error) {
	if opt.Level != LevelDesa && opt.Level != LevelKecamatan {
		return nil, fmt.Errorf("level %q: want desa or kecamatan", opt.Level)
	}
	if opt.By == "" {
		opt.By = "cli"
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 1 << 30
	}
	if opt.MaxUnzipBytes <= 0 {
		opt.MaxUnzipBytes = 1 << 30
	}
	base := filepath.Base(path)
	if opt.SourceName == "" {
		opt.SourceName = base
	}
	rep := &BoundaryReport{File: opt.SourceName, Level: opt.Level, DryRun: opt.DryRun, Counts: map[string]int{},
		Findings: []Finding{}, TimingsMS: map[string]float64{}}
	start := time.Now()
	if err := checkLocalPath(path); err != nil {
		return nil, badFile(err)
	}
	st, _ := os.Stat(path)
	if st.Size() > opt.MaxFileBytes {
		return nil, badFile(fmt.Errorf("%s: berkas terlalu besar (file is %d MB, limit %d MB)", opt.SourceName, st.Size()>>20, opt.MaxFileBytes>>20))
	}
	if st.Size() == 0 {
		return nil, badFile(fmt.Errorf("%s: berkas kosong (the file is empty)", opt.SourceName))
	}
	srsByGDAL := false
	jsonPath := path
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".geojson", ".json":
		rep.Format = "geojson"
	case ".zip", ".shp", ".gpkg", ".kml":
		tmp, err := os.MkdirTemp("", "sinergi-boundaries-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		src := path
		if ext == ".zip" {
			if src, err = unzipShapefile(path, tmp, opt.MaxUnzipBytes); err != nil {
				return nil, badFile(err)
			}
			ext = ".shp"
		}
		d := gdalInputDrivers[ext]
		rep.Format = d.format
		out, layer, noCRS, err := gdalToGeoJSON(ctx, opt.GDAL, d.drivers, src, tmp, opt.SRS)
		if err != nil {
			return nil, badFile(err)
		}
		rep.Layer = layer
		jsonPath = out
		srsByGDAL = opt.SRS != "" || !noCRS
		if srsByGDAL {
			rep.Reprojected = true
			rep.SourceCRS = "declared in file"
			if opt.SRS != "" {
				rep.SourceCRS = opt.SRS
			}
		}
		rep.timed("convert", start)
	default:
		return nil, badFile(fmt.Errorf("%s: format %q is not supported (GeoJSON, Shapefile .shp/.zip, GeoPackage .gpkg, KML)", opt.SourceName, ext))
	}

	t := time.Now()
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > opt.MaxFileBytes {
		return nil, badFile(fmt.Errorf("%s: converted data is %d MB, over the limit of %d MB", opt.SourceName, len(raw)>>20, opt.MaxFileBytes>>20))
	}
	p, err := parseBoundaryFeatures(raw, opt.SourceName, opt.Level, opt.Fields)
	raw = nil
	if err != nil {
		return nil, badFile(err)
	}
	rep.Features = p.total
	for _, f := range p.findings {
		rep.add(f)
	}
	rep.timed("read", t)

	// CRS: GDAL has already reprojected; otherwise honour --srs, then the file's crs member.
	srid := 4326
	if !srsByGDAL {
		switch {
		case opt.SRS != "":
			n, err := parseSRS(opt.SRS)
			if err != nil {
				return nil, badFile(err)
			}
			if p.srid != 0 && p.srid != n {
				rep.add(Finding{Kind: "crs_override", Severity: SeverityWarning,
					Detail: fmt.Sprintf("the file declares %s; --srs %s was used instead", p.crsName, opt.SRS)})
			}
			srid = n
			rep.SourceCRS = fmt.Sprintf("EPSG:%d", n)
		case p.srid != 0:
			srid = p.srid
			rep.SourceCRS = p.crsName
		default:
			rep.SourceCRS = "none (assumed EPSG:4326)"
		}
		rep.Reprojected = srid != 4326
	}

	region, err := s.expectedRegion(ctx)
	if err != nil {
		return nil, err
	}
	if region != nil {
		rep.Region = []float64{region.Min[0], region.Min[1], region.Max[0], region.Max[1]}
	}
	if srid == 4326 && len(p.feats) > 0 {
		verdict := axisCheck(p.bound, region)
		if opt.SwapXY {
			rep.AxisSwap = "forced"
			if verdict == "swapped" {
				rep.AxisSwap = "fixed"
			}
			for _, f := range p.feats {
				swapXY(f.Geom)
			}
			p.bound = orb.Bound{Min: orb.Point{p.bound.Min[1], p.bound.Min[0]}, Max: orb.Point{p.bound.Max[1], p.bound.Max[0]}}
			rep.add(Finding{Kind: "axis_swapped", Severity: SeverityInfo, Detail: "lintang/bujur ditukar atas permintaan (latitude/longitude swapped as asked by --swap-xy)"})
			verdict = axisCheck(p.bound, region)
		}
		switch verdict {
		case "swapped":
			rep.AxisSwap = "detected"
			rep.add(Finding{Kind: "axis_swapped", Severity: SeverityError, Detail: fmt.Sprintf(
				"koordinat tampak tertukar lintang/bujur (coordinates look like latitude/longitude swapped: x %.4f…%.4f, y %.4f…%.4f); fix the file or pass --swap-xy",
				p.bound.Min[0], p.bound.Max[0], p.bound.Min[1], p.bound.Max[1])})
		case "projected":
			rep.add(Finding{Kind: "crs_missing", Severity: SeverityError, Detail: fmt.Sprintf(
				"koordinat terproyeksi tanpa CRS (coordinates look projected — x %.0f…%.0f, y %.0f…%.0f — and the file declares no CRS); pass --srs EPSG:N (e.g. EPSG:32748 for UTM 48S)",
				p.bound.Min[0], p.bound.Max[0], p.bound.Min[1], p.bound.Max[1])})
		}
	}
	if rep.Counts["axis_swapped"] > 0 && rep.AxisSwap == "detected" || rep.Counts["crs_missing"] > 0 || len(p.feats) == 0 {
		// The geometry is meaningless in these coordinates: stop before the database.
		rep.Rejected = rep.Features - len(p.feats)
		if rep.Errors == 0 {
			rep.add(Finding{Kind: "no_features", Severity: SeverityError, Detail: "no usable feature"})
		}
		return rep, &ImportError{Report: rep}
	}

	// Codes given by the file: shape and uniqueness. Code-less features are matched
	// to the active set in the database.
	// Promotion and RFC 7946 orientation are plain Go over the parsed rings; codes
	// given by the file are checked for shape and uniqueness. Code-less features
	// are matched to the active set in the database.
	needMatch := false
	for i := range p.feats {
		f := &p.feats[i]
		if f.promoted {
			rep.add(Finding{Feature: f.ord, Code: f.Code, Name: f.Name, Kind: "promoted", Severity: SeverityInfo,
				Detail: "Polygon dijadikan MultiPolygon (Polygon promoted to MultiPolygon)"})
		}
		if orientRFC7946(f.Geom) {
			rep.add(Finding{Feature: f.ord, Code: f.Code, Name: f.Name, Kind: "reoriented", Severity: SeverityInfo,
				Detail: "arah cincin dibalik ke RFC 7946 (rings reoriented: exterior counter-clockwise)"})
		}
		if f.Code == "" {
			needMatch = true
			continue
		}
		if opt.Level == LevelDesa {
			finishVillageFields(&f.BoundaryFeature)
		} else if f.Name == "" {
			f.Name = f.Code
		}
	}
	table := "village"
	if opt.Level == LevelKecamatan {
		table = "kecamatan"
	}
	var setID int64
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if err := noJIT(ctx, tx); err != nil {
			return err
		}
		if err := stageBoundaries(ctx, tx, p.feats, srid, rep); err != nil {
			return err
		}
		if needMatch {
			t := time.Now()
			if err := matchToActive(ctx, tx, opt.Level, p.feats, rep); err != nil {
				return err
			}
			rep.timed("match", t)
		}
		checkCodes(opt.Level, p.feats, rep)
		if rep.Errors > 0 {
			rep.Rejected = rep.Features - len(p.feats)
			return errRollback
		}
		// The set is written even for a dry run — inside this transaction, which a
		// dry run rolls back — so that validation and topology run on the real
		// table and its GiST index.
		t := time.Now()
		if err := tx.QueryRow(ctx, `INSERT INTO boundary_set (level, source_file, loaded_by, feature_count)
			VALUES ($1, $2, $3, $4) RETURNING id`, opt.Level, opt.SourceName, opt.By, len(p.feats)).Scan(&setID); err != nil {
			return fmt.Errorf("create boundary set: %w", err)
		}
		if err := writeSet(ctx, tx, opt.Level, setID, p.feats, rep); err != nil {
			return err
		}
		rep.timed("write", t)
		if testHookAfterLoad != nil {
			if err := testHookAfterLoad(ctx, tx); err != nil {
				return err
			}
		}
		if region != nil {
			if err := checkRegion(ctx, tx, table, setID, *region, p.feats, rep); err != nil {
				return err
			}
		}
		rep.Rejected = rep.Features - len(p.feats) + rep.Counts["empty_after_repair"]
		rep.Loaded = rep.Features - rep.Rejected
		if rep.Errors > 0 {
			return errRollback
		}
		if !opt.SkipTopology {
			t := time.Now()
			topo, err := topology(ctx, tx, table, "set_id = $1", []any{setID}, opt.ToleranceM2)
			if err != nil {
				return fmt.Errorf("%s: topology: %w", opt.SourceName, err)
			}
			rep.Topology = topo
			rep.timed("topology", t)
		}
		if opt.DryRun {
			return errRollback
		}
		rep.SetID = setID
		rep.timed("total", start)
		if _, err := tx.Exec(ctx, `UPDATE boundary_set SET report = $2, feature_count = $3 WHERE id = $1`, setID, rep, rep.Loaded); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: opt.By, Action: "boundaries.import", Object: fmt.Sprintf("boundary_set:%d", setID),
			Detail: map[string]any{"level": opt.Level, "source": opt.SourceName, "format": rep.Format, "features": rep.Loaded,
				"warnings": rep.Warnings}})
	})
	rep.timed("total", start)
	if errors.Is(err, errRollback) {
		if rep.Errors > 0 {
			return rep, &ImportError{Report: rep}
		}
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// expectedRegion is the extent of the active sets grown by about 5 km, or nil
// when nothing is active yet.
func (s *Store) expectedRegion(ctx context.Context) (*orb.Bound, error) {
	var x0, y0, x1, y1 *float64
	err := s.Pool.QueryRow(ctx, `
		WITH e AS (SELECT ST_Extent(geom) AS b FROM (
			SELECT v.geom FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'
			UNION ALL
			SELECT k.geom FROM kecamatan k JOIN boundary_set s ON s.id = k.set_id AND s.status = 'active') g)
		SELECT ST_XMin(b) - 0.05, ST_YMin(b) - 0.05, ST_XMax(b) + 0.05, ST_YMax(b) + 0.05 FROM e`).Scan(&x0, &y0, &x1, &y1)
	if err != nil || x0 == nil {
		return nil, err
	}
	return &orb.Bound{Min: orb.Point{*x0, *y0}, Max: orb.Point{*x1, *y1}}, nil
}

// noJIT turns off PostgreSQL's JIT for this transaction: PostGIS functions carry
// high cost estimates, so even a 187-feature statement gets compiled, which cost
// about half a second per statement — more than the work itself.
func noJIT(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SET LOCAL jit = off`)
	return err
}

// stagedSource streams staged features into COPY.
type stagedSource struct {
	feats []stagedFeature
	srid  int
	i     int
}

func (s *stagedSource) Next() bool { s.i++; return s.i <= len(s.feats) }
func (s *stagedSource) Values() ([]any, error) {
	f := s.feats[s.i-1]
	var area *float64
	if s.srid == 4326 {
		a := ellipsoidAreaKm2(f.Geom)
		area = &a
	}
	return []any{f.ord, f.Code, f.Name, f.KecCode, f.KecName, f.Kind, jsonProps(f.Props),
		toGeomMultiPolygon(f.Geom).SetSRID(s.srid), area}, nil
}
func (s *stagedSource) Err() error { return nil }

// stageBoundaries copies the features into temp table bstage with COPY (binary
// geometries in the source CRS).
func stageBoundaries(ctx context.Context, tx pgx.Tx, feats []stagedFeature, srid int, rep *BoundaryReport) error {
	t := time.Now()
	if srid != 4326 {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)`, srid).Scan(&known); err != nil {
			return err
		}
		if !known {
			return badFile(fmt.Errorf("%s: CRS EPSG:%d is not known to PostGIS", rep.File, srid))
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE bstage (ord int PRIMARY KEY, code text, name text, kec_code text,
		kec_name text, kind text, props jsonb, src geometry, area_km2 float8) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bstage"},
		[]string{"ord", "code", "name", "kec_code", "kec_name", "kind", "props", "src", "area_km2"},
		&stagedSource{feats: feats, srid: srid}); err != nil {
		return fmt.Errorf("%s: stage features: %w", rep.File, err)
	}
	rep.timed("copy", t)
	return nil
}

// writeSet writes the staged features into the set in one statement: reprojected
// to EPSG:4326, invalid geometry repaired with ST_MakeValid (then forced back to
// MultiPolygon and RFC 7946 rings), area computed geodesically. Validity is
// judged after reprojection (a transform can make or break a ring). What was
// repaired becomes a finding.
func writeSet(ctx context.Context, tx pgx.Tx, level string, setID int64, feats []stagedFeature, rep *BoundaryReport) error {
	insert := `INSERT INTO village (set_id, code, name, kecamatan_code, kecamatan_name, kind, geom, area_km2, props)
			SELECT $1, s.code, s.name, s.kec_code, coalesce(s.kec_name, ''), s.kind, n.geom,
				CASE WHEN n.valid AND s.area_km2 IS NOT NULL THEN s.area_km2 ELSE ST_Area(n.geom::geography) / 1e6 END, s.props
			FROM bstage s JOIN n USING (ord) WHERE NOT ST_IsEmpty(n.geom) RETURNING 1`
	if level == LevelKecamatan {
		insert = `INSERT INTO kecamatan (set_id, code, name, geom, area_km2, props)
			SELECT $1, s.code, s.name, n.geom,
				CASE WHEN n.valid AND s.area_km2 IS NOT NULL THEN s.area_km2 ELSE ST_Area(n.geom::geography) / 1e6 END, s.props
			FROM bstage s JOIN n USING (ord) WHERE NOT ST_IsEmpty(n.geom) RETURNING 1`
	}
	rows, err := tx.Query(ctx, `
		WITH v AS (
			SELECT ord, g, ST_IsValid(g) AS valid
			FROM (SELECT ord, CASE WHEN ST_SRID(src) = 4326 THEN src ELSE ST_Transform(src, 4326) END AS g FROM bstage) t
		), n AS MATERIALIZED (
			SELECT ord, valid,
				CASE WHEN valid THEN NULL ELSE ST_IsValidReason(g) END AS reason,
				CASE WHEN valid THEN NULL ELSE ST_Area(g::geography) END AS area_before,
				(CASE WHEN valid THEN g ELSE ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3))) END)::geometry(MultiPolygon, 4326) AS geom
			FROM v
		), ins AS (`+insert+`)
		SELECT ord, reason, coalesce(area_before, 0), ST_Area(geom::geography), ST_NumGeometries(geom), ST_IsEmpty(geom)
		FROM n WHERE NOT valid ORDER BY ord`, setID)
	if err != nil {
		return fmt.Errorf("%s: write %s: %w", rep.File, level, err)
	}
	defer rows.Close()
	byOrd := make(map[int]*stagedFeature, len(feats))
	for i := range feats {
		byOrd[feats[i].ord] = &feats[i]
	}
	for rows.Next() {
		var ord, parts int
		var reason string
		var before, after float64
		var empty bool
		if err := rows.Scan(&ord, &reason, &before, &after, &parts, &empty); err != nil {
			return err
		}
		f := byOrd[ord]
		if empty {
			rep.add(Finding{Feature: ord, Code: f.Code, Name: f.Name, Kind: "empty_after_repair", Severity: SeverityError,
				Detail: fmt.Sprintf("geometri tidak sah tanpa luas setelah diperbaiki (invalid geometry — %s — has no area after repair); rejected", reason)})
			continue
		}
		rep.add(Finding{Feature: ord, Code: f.Code, Name: f.Name, Kind: "repaired", Severity: SeverityWarning, Detail: fmt.Sprintf(
			"geometri tidak sah diperbaiki dengan ST_MakeValid (invalid geometry repaired: %s; area %.4f → %.4f km², %d part(s) after)",
			reason, before/1e6, after/1e6, parts)})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: write %s: %w", rep.File, level, err)
	}
	rows.Close()
	// Fresh statistics, so that the region check, topology and diff that follow
	// plan their spatial joins for the set just written.
	table := "village"
	if level == LevelKecamatan {
		table = "kecamatan"
	}
	if len(feats) >= 5000 { // small sets plan well without; ANALYZE costs a fixed ~0.1–0.5 s
		if _, err := tx.Exec(ctx, `ANALYZE `+table); err != nil {
			return err
		}
	}
	return nil
}

// matchToActive gives code-less features a code of the active set of the same
// level, by largest overlap and by normalised name, and records how.
func matchToActive(ctx context.Context, tx pgx.Tx, level string, feats []stagedFeature, rep *BoundaryReport) error {
	active, err := activeSetTx(ctx, tx, level)
	if err != nil {
		return err
	}
	table := "village"
	if level == LevelKecamatan {
		table = "kecamatan"
	}
	type cand struct {
		code, name string
		share      float64
	}
	best := map[int]cand{}
	names := map[string][]cand{} // normalised name → active features
	if active != 0 {
		// table is one of two fixed names.
		rows, err := tx.Query(ctx, `
			WITH n AS MATERIALIZED (
				SELECT ord, ST_MakeValid(CASE WHEN ST_SRID(src) = 4326 THEN src ELSE ST_Transform(src, 4326) END) AS geom
				FROM bstage WHERE code = '')
			SELECT n.ord, a.code, a.name, ST_Area(ST_Intersection(n.geom, a.geom)) / nullif(ST_Area(n.geom), 0)
			FROM n JOIN `+table+` a ON a.set_id + 0 = $1 AND a.geom && n.geom AND ST_Intersects(a.geom, n.geom)`, active)
		if err != nil {
			return err
		}
		for rows.Next() {
			var ord int
			var c cand
			var share *float64
			if err := rows.Scan(&ord, &c.code, &c.name, &share); err != nil {
				rows.Close()
				return err
			}
			if share != nil {
				c.share = *share
			}
			if b, ok := best[ord]; !ok || c.share > b.share {
				best[ord] = c
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT code, name FROM `+table+` WHERE set_id = $1`, active)
		if err != nil {
			return err
		}
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.code, &c.name); err != nil {
				rows.Close()
				return err
			}
			names[normName(c.name)] = append(names[normName(c.name)], c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	var ords []int32
	var codes, kecs, kinds, fnames []string
	for i := range feats {
		f := &feats[i]
		if f.Code != "" {
			continue
		}
		if active == 0 {
			rep.add(Finding{Feature: f.ord, Name: f.Name, Kind: "missing_code", Severity: SeverityError,
				Detail: "tidak ada kode dan belum ada set aktif untuk dicocokkan (no code property, and no active set to match against); use --code-field"})
			continue
		}
		ov, hasOv := best[f.ord]
		hasOv = hasOv && ov.share >= 0.5
		var byName *cand
		if cs := names[normName(f.Name)]; len(cs) == 1 && f.Name != "" {
			byName = &cs[0]
		} else if len(cs) > 1 && hasOv {
			for j := range cs {
				if cs[j].code == ov.code {
					byName = &cs[j]
				}
			}
		}
		m := Match{Feature: f.ord, Name: f.Name, Overlap: math.Round(ov.share*1000) / 1000}
		switch {
		case hasOv && byName != nil && byName.code == ov.code:
			m.Code, m.MatchedName, m.Method = ov.code, ov.name, "overlap+name"
		case hasOv && byName != nil:
			m.Code, m.MatchedName, m.Method = ov.code, ov.name, "overlap"
			rep.add(Finding{Feature: f.ord, Name: f.Name, Code: ov.code, Kind: "match_conflict", Severity: SeverityWarning, Detail: fmt.Sprintf(
				"nama cocok dengan %s %s tetapi luasan cocok dengan %s %s (the name matches %s but the largest overlap, %.0f%%, is %s; overlap used)",
				byName.code, byName.name, ov.code, ov.name, byName.code, ov.share*100, ov.code)})
		case hasOv:
			m.Code, m.MatchedName, m.Method = ov.code, ov.name, "overlap"
		case byName != nil:
			m.Code, m.MatchedName, m.Method = byName.code, byName.name, "name"
		default:
			rep.add(Finding{Feature: f.ord, Name: f.Name, Kind: "unmatched", Severity: SeverityError, Detail: fmt.Sprintf(
				"tidak cocok dengan wilayah aktif mana pun (no code, no active %s with this name, and no overlap ≥ 50%% — best %.0f%%); use --code-field", level, ov.share*100)})
			continue
		}
		rep.Matched = append(rep.Matched, m)
		rep.Counts["matched_"+strings.ReplaceAll(m.Method, "+", "_")]++
		f.Code = m.Code
		if f.Name == "" {
			f.Name = m.MatchedName
		}
		if level == LevelDesa {
			finishVillageFields(&f.BoundaryFeature)
		}
		ords = append(ords, int32(f.ord))
		codes = append(codes, f.Code)
		kecs = append(kecs, f.KecCode)
		kinds = append(kinds, f.Kind)
		fnames = append(fnames, f.Name)
	}
	if len(ords) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `WITH m AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[]) AS m(ord, code, kec, kind, name))
		UPDATE bstage b SET code = m.code, kec_code = m.kec, kind = m.kind, name = m.name FROM m WHERE b.ord = m.ord`, ords, codes, kecs, kinds, fnames)
	return err
}

// checkCodes reports malformed and duplicate codes.
func checkCodes(level string, feats []stagedFeature, rep *BoundaryReport) {
	first := map[string]int{}
	want := "32.16.KK.NNNN"
	if level == LevelKecamatan {
		want = "32.16.KK"
	}
	for _, f := range feats {
		if f.Code == "" {
			continue
		}
		if !codeWellFormed(level, f.Code) {
			rep.add(Finding{Feature: f.ord, Code: f.Code, Name: f.Name, Kind: "malformed_code", Severity: SeverityError,
				Detail: fmt.Sprintf("kode %q tidak berbentuk kode Kemendagri %s (malformed code, want the shape %s)", f.Code, level, want)})
		}
		if j, ok := first[f.Code]; ok {
			rep.add(Finding{Feature: f.ord, Code: f.Code, Name: f.Name, Kind: "duplicate_code", Severity: SeverityError,
				Detail: fmt.Sprintf("kode ganda (duplicate code %s: also feature %d)", f.Code, j)})
			continue
		}
		first[f.Code] = f.ord
	}
}

// checkRegion reports features that lie entirely outside the expected region.
func checkRegion(ctx context.Context, tx pgx.Tx, table string, setID int64, region orb.Bound, feats []stagedFeature, rep *BoundaryReport) error {
	// table is one of two fixed names.
	rows, err := tx.Query(ctx, `SELECT s.ord, ST_XMin(v.geom), ST_YMin(v.geom) FROM `+table+` v JOIN bstage s ON s.code = v.code
		WHERE v.set_id = $5 AND NOT ST_Intersects(v.geom, ST_MakeEnvelope($1, $2, $3, $4, 4326)) ORDER BY s.ord`,
		region.Min[0], region.Min[1], region.Max[0], region.Max[1], setID)
	if err != nil {
		return err
	}
	defer rows.Close()
	byOrd := map[int]*stagedFeature{}
	for i := range feats {
		byOrd[feats[i].ord] = &feats[i]
	}
	for rows.Next() {
		var ord int
		var x, y float64
		if err := rows.Scan(&ord, &x, &y); err != nil {
			return err
		}
		f := byOrd[ord]
		rep.add(Finding{Feature: ord, Code: f.Code, Name: f.Name, Kind: "outside_region", Severity: SeverityError, Detail: fmt.Sprintf(
			"di luar wilayah yang diharapkan (outside the expected region %.3f,%.3f…%.3f,%.3f; the feature starts at %.4f,%.4f) — wrong CRS or wrong file?",
			region.Min[0], region.Min[1], region.Max[0], region.Max[1], x, y)})
	}
	return rows.Err()
}

// sortedFindings orders findings by severity, then feature.
func sortedFindings(fs []Finding) []Finding {
	rank := map[string]int{SeverityError: 0, SeverityWarning: 1, SeverityInfo: 2}
	out := append([]Finding(nil), fs...)
	sort.SliceStable(out, func(i, j int) bool {
		if rank[out[i].Severity] != rank[out[j].Severity] {
			return rank[out[i].Severity] < rank[out[j].Severity]
		}
		return out[i].Feature < out[j].Feature
	})
	return out
}
