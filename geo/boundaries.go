package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Boundary levels.
const (
	LevelDesa      = "desa"
	LevelKecamatan = "kecamatan"
)

// BoundaryFeature is one village or kecamatan polygon ready to load.
type BoundaryFeature struct {
	Code, Name       string
	KecCode, KecName string // villages only
	Kind             string // desa | kelurahan (villages only)
	Geom             orb.MultiPolygon
	Props            map[string]any
}

// BoundarySet is one loaded version of a level's boundaries.
type BoundarySet struct {
	ID           int64           `json:"id"`
	Level        string          `json:"level"`
	SourceFile   string          `json:"source_file"`
	LoadedBy     string          `json:"loaded_by"`
	LoadedAt     time.Time       `json:"loaded_at"`
	Status       string          `json:"status"`
	FeatureCount int             `json:"feature_count"`
	Report       json.RawMessage `json:"report"`
	ActivatedBy  *string         `json:"activated_by"`
	ActivatedAt  *time.Time      `json:"activated_at"`
}

// Field names recognised in boundary files, most specific first.
var (
	codeFields    = []string{"kode_desa", "kode_kemendagri", "kdepum", "kode", "code", "kode_kecamatan", "kdcpum"}
	nameFields    = []string{"nama_desa", "namobj", "wadmkd", "nama", "name", "nama_kecamatan", "wadmkc"}
	kecCodeFields = []string{"kode_kecamatan", "kdcpum", "kecamatan_code", "kode_kecam"} // kode_kecam: Shapefile's 10-character cut
	kecNameFields = []string{"nama_kecamatan", "wadmkc", "kecamatan", "kecamatan_name", "nama_kecam"}
	kindFields    = []string{"jenis", "kind", "tipe"}
)

// FieldMap names the properties to read; empty fields are recognised automatically.
type FieldMap struct {
	Code, Name, Parent string
}

// ReadBoundaryGeoJSON reads a GeoJSON FeatureCollection of polygons for one level.
// Polygons are promoted to MultiPolygon. Errors name the source and the feature.
func ReadBoundaryGeoJSON(r io.Reader, source, level string, fm FieldMap) ([]BoundaryFeature, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", source, err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", source)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a GeoJSON FeatureCollection: %w", source, err)
	}
	if len(fc.Features) == 0 {
		return nil, fmt.Errorf("%s: the FeatureCollection has no features", source)
	}
	out := make([]BoundaryFeature, 0, len(fc.Features))
	for i, f := range fc.Features {
		where := fmt.Sprintf("%s: feature %d", source, i+1)
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		case nil:
			return nil, fmt.Errorf("%s: geometry is null", where)
		default:
			return nil, fmt.Errorf("%s: geometry is a %s, want Polygon or MultiPolygon", where, f.Geometry.GeoJSONType())
		}
		bf := BoundaryFeature{Geom: mp, Props: map[string]any(f.Properties)}
		bf.Code = pick(f.Properties, fm.Code, codeFields)
		bf.Name = pick(f.Properties, fm.Name, nameFields)
		if level == LevelDesa {
			bf.KecCode = pick(f.Properties, fm.Parent, kecCodeFields)
			bf.KecName = pick(f.Properties, "", kecNameFields)
			bf.Kind = strings.ToLower(pick(f.Properties, "", kindFields))
			if bf.KecCode == "" && len(bf.Code) >= 8 {
				bf.KecCode = bf.Code[:8] // a village code starts with its kecamatan's code
			}
			if bf.Kind != "desa" && bf.Kind != "kelurahan" {
				bf.Kind = kindFromCode(bf.Code)
			}
		}
		if bf.Code == "" {
			return nil, fmt.Errorf("%s: no code property (looked for %s; use --code-field)", where, strings.Join(codeFields, ", "))
		}
		if bf.Name == "" {
			bf.Name = bf.Code
		}
		out = append(out, bf)
	}
	return out, nil
}

// kindFromCode derives desa/kelurahan from a Kemendagri code: the last block starts
// with 1 for a kelurahan and 2 for a desa.
func kindFromCode(code string) string {
	if i := strings.LastIndexByte(code, '.'); i >= 0 && i+1 < len(code) && code[i+1] == '1' {
		return "kelurahan"
	}
	return "desa"
}

func pick(p geojson.Properties, explicit string, names []string) string {
	if explicit != "" {
		return propString(p[explicit])
	}
	for _, n := range names {
		for k, v := range p {
			if strings.EqualFold(k, n) {
				if s := propString(v); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

func propString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%.0f", t), ".0")
	default:
		return strings.TrimSpace(fmt.Sprint(t))
	}
}

// CreateBoundarySet loads features into a new draft set in one transaction and
// returns its id. Geometries are made valid, forced to MultiPolygon and RFC 7946
// (counter-clockwise) orientation; areas are computed geodesically.
func (s *Store) CreateBoundarySet(ctx context.Context, level, source, by string, feats []BoundaryFeature) (int64, error) {
	if level != LevelDesa && level != LevelKecamatan {
		return 0, fmt.Errorf("level %q: want desa or kecamatan", level)
	}
	if by == "" {
		by = "cli"
	}
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO boundary_set (level, source_file, loaded_by, feature_count)
			VALUES ($1, $2, $3, $4) RETURNING id`, level, source, by, len(feats)).Scan(&id); err != nil {
			return fmt.Errorf("create boundary set: %w", err)
		}
		if level == LevelDesa {
			rows := make([][]any, len(feats))
			for i, f := range feats {
				rows[i] = []any{id, f.Code, f.Name, f.KecCode, f.KecName, f.Kind, toGeomMultiPolygon(f.Geom), 0.0, jsonProps(f.Props)}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"village"},
				[]string{"set_id", "code", "name", "kecamatan_code", "kecamatan_name", "kind", "geom", "area_km2", "props"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("%s: load villages: %w", source, describeCopyErr(err, feats))
			}
			_, err := tx.Exec(ctx, `UPDATE village SET
				geom = ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))),
				area_km2 = ST_Area(geom::geography) / 1e6
				WHERE set_id = $1`, id)
			if err != nil {
				return fmt.Errorf("%s: normalise villages: %w", source, err)
			}
		} else {
			rows := make([][]any, len(feats))
			for i, f := range feats {
				rows[i] = []any{id, f.Code, f.Name, toGeomMultiPolygon(f.Geom), 0.0, jsonProps(f.Props)}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"kecamatan"},
				[]string{"set_id", "code", "name", "geom", "area_km2", "props"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("%s: load kecamatan: %w", source, describeCopyErr(err, feats))
			}
			if _, err := tx.Exec(ctx, `UPDATE kecamatan SET
				geom = ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))),
				area_km2 = ST_Area(geom::geography) / 1e6
				WHERE set_id = $1`, id); err != nil {
				return fmt.Errorf("%s: normalise kecamatan: %w", source, err)
			}
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "boundaries.import", Object: fmt.Sprintf("boundary_set:%d", id),
			Detail: map[string]any{"level": level, "source": source, "features": len(feats)}})
	})
	return id, err
}

// describeCopyErr turns a duplicate-key failure into a message naming the code.
func describeCopyErr(err error, feats []BoundaryFeature) error {
	if strings.Contains(err.Error(), "23505") {
		seen := map[string]int{}
		for i, f := range feats {
			if j, ok := seen[f.Code]; ok {
				return fmt.Errorf("duplicate code %s in features %d and %d", f.Code, j+1, i+1)
			}
			seen[f.Code] = i
		}
	}
	return err
}

func jsonProps(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return p
}

// ActivateBoundarySet makes a set the active one of its level in one transaction:
// the previous active set is retired (kept), households are re-assigned when the
// level is desa, and the layer's data version is bumped so caches refresh.
// See ActivateBoundaries for what else happens.
func (s *Store) ActivateBoundarySet(ctx context.Context, id int64, by string) error {
	_, err := s.ActivateBoundaries(ctx, id, by)
	return err
}

// Activation says what activating a set did.
type Activation struct {
	ID                   int64  `json:"id"`
	Level                string `json:"level"`
	Previous             int64  `json:"previous"` // the set retired (0: none)
	AlreadyActive        bool   `json:"already_active"`
	HouseholdsReassigned int64  `json:"households_reassigned"` // rows re-written for the new set
	HouseholdsMoved      int64  `json:"households_moved"`      // of which the village changed
	// HouseholdsChecked is how many households were run through the assignment
	// rules: those near a village whose geometry changed, and those not plainly
	// inside a village before (the others cannot change; see reassignForActivation).
	HouseholdsChecked int64 `json:"households_checked"`
	// TimingMS splits the activation's time: diff (crosswalk), reassign (the
	// households checked), set_move (the others' assigned_set), total.
	TimingMS             map[string]float64 `json:"timing_ms,omitempty"`
	Crosswalk            int                `json:"crosswalk_rows"`
	PlansFlagged         int64              `json:"plans_flagged"`
	PriorityItemsFlagged int64              `json:"priority_items_flagged"`
}

// ActivateBoundaries switches a level to set id in one transaction, so readers
// see either the old set or the new one, never a mix: the previous active set is
// retired (kept: activating it again is the rollback), the old→new code
// crosswalk is recorded and applied to plans and the newest priority lists
// (flagged needs_review), households are re-assigned (desa), and the data
// versions of the layers are bumped so tile caches and scores refresh.
func (s *Store) ActivateBoundaries(ctx context.Context, id int64, by string) (Activation, error) {
	if by == "" {
		by = "cli"
	}
	res := Activation{ID: id, TimingMS: map[string]float64{}}
	start := time.Now()
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var level, status string
		err := tx.QueryRow(ctx, `SELECT level, status FROM boundary_set WHERE id = $1 FOR UPDATE`, id).Scan(&level, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("boundary set %d does not exist", id)
		}
		if err != nil {
			return err
		}
		res.Level = level
		if status == "active" {
			res.AlreadyActive = true
			return nil
		}
		// Serialise activations of one level.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.activate.' || $1))`, level); err != nil {
			return err
		}
		if res.Previous, err = activeSetTx(ctx, tx, level); err != nil {
			return err
		}
		if res.Previous != 0 {
			if err := noJIT(ctx, tx); err != nil {
				return err
			}
			t0 := time.Now()
			d, err := diffTx(ctx, tx, res.Previous, id, false)
			if err != nil {
				return err
			}
			res.TimingMS["diff"] = msSince(t0)
			res.Crosswalk = len(d.Crosswalk)
			if res.PlansFlagged, res.PriorityItemsFlagged, err = applyCrosswalk(ctx, tx, d); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE boundary_set SET status = 'retired' WHERE level = $1 AND status = 'active'`, level); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE boundary_set SET status = 'active', activated_by = $2, activated_at = now() WHERE id = $1`, id, by); err != nil {
			return err
		}
		if level == LevelDesa {
			r, err := reassignForActivation(ctx, tx, res.Previous, id)
			if err != nil {
				return err
			}
			res.TimingMS["reassign"], res.TimingMS["set_move"] = r.reassignMS, r.setMoveMS
			res.HouseholdsReassigned, res.HouseholdsChecked, res.HouseholdsMoved = r.written, r.checked, r.moved
			if _, err := tx.Exec(ctx, `SELECT bump_layer('need')`); err != nil {
				return err
			}
		}
		if res.PlansFlagged > 0 {
			if _, err := tx.Exec(ctx, `SELECT bump_layer('plans')`); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer($1)`, level); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "boundaries.activate", Object: fmt.Sprintf("boundary_set:%d", id),
			Detail: map[string]any{"level": level, "previous": res.Previous, "households_reassigned": res.HouseholdsReassigned,
				"households_moved": res.HouseholdsMoved,
				"crosswalk_rows":   res.Crosswalk, "plans_flagged": res.PlansFlagged, "priority_items_flagged": res.PriorityItemsFlagged}})
	})
	res.TimingMS["total"] = msSince(start)
	return res, err
}

// BoundarySets lists every set, newest first.
func (s *Store) BoundarySets(ctx context.Context) ([]BoundarySet, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, level, source_file, loaded_by, loaded_at, status, feature_count, report,
		activated_by, activated_at FROM boundary_set ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[BoundarySet])
}

// ActiveSetID returns the active set of a level, or 0 when there is none.
func (s *Store) ActiveSetID(ctx context.Context, level string) (int64, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `SELECT id FROM boundary_set WHERE level = $1 AND status = 'active'`, level).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// ActiveVillagesGeoJSON returns the active villages as a GeoJSON FeatureCollection
// with basic attributes, built by PostGIS.
func (s *Store) ActiveVillagesGeoJSON(ctx context.Context) ([]byte, error) {
	var b []byte
	err := s.Pool.QueryRow(ctx, `
		SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
			'type', 'Feature', 'id', v.code,
			'geometry', ST_AsGeoJSON(v.geom, 6)::json,
			'properties', json_build_object('code', v.code, 'name', v.name, 'kecamatan_code', v.kecamatan_code,
				'kecamatan_name', v.kecamatan_name, 'kind', v.kind, 'area_km2', round(v.area_km2::numeric, 3))
		) ORDER BY v.code), '[]'::json))::text
		FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'`).Scan(&b)
	return b, err
}

// VillageSummary is a village's basic attributes.
type VillageSummary struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	KecamatanCode string  `json:"kecamatan_code"`
	KecamatanName string  `json:"kecamatan_name"`
	Kind          string  `json:"kind"`
	AreaKm2       float64 `json:"area_km2"`
}

// ActiveVillages lists the active villages' attributes ordered by code.
func (s *Store) ActiveVillages(ctx context.Context) ([]VillageSummary, error) {
	rows, err := s.Pool.Query(ctx, `SELECT v.code, v.name, v.kecamatan_code, v.kecamatan_name, v.kind, round(v.area_km2::numeric, 3)::float8
		FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active' ORDER BY v.code`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[VillageSummary])
}
