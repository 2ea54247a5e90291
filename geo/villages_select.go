package geo

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
)

// Limits on an area drawn to select villages. A hand-drawn polygon has tens of
// vertices; the limit only keeps a hostile body from costing the database much.
const (
	MaxSelectVertices = 10000
	MaxSelectParts    = 50
)

// ErrBadArea wraps every reason a selection area is refused (the caller's fault).
var ErrBadArea = errors.New("area tidak sah (invalid area)")

// SelectedVillage is a village of the active set that intersects a drawn area.
type SelectedVillage struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	KecamatanCode string `json:"kecamatan_code"`
	KecamatanName string `json:"kecamatan_name"`
	// Rank is the village's rank in the newest score run of the period (nil
	// before the first scoring).
	Rank *int `json:"rank"`
}

// SelectionArea checks a drawn area and returns it as a MultiPolygon: a Polygon or
// MultiPolygon whose rings are closed, have at least four positions, lie in
// lon/lat range, and together stay within MaxSelectVertices and MaxSelectParts.
// Errors wrap ErrBadArea and say which part and ring failed.
func SelectionArea(g orb.Geometry) (orb.MultiPolygon, error) {
	var mp orb.MultiPolygon
	switch v := g.(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{v}
	case orb.MultiPolygon:
		mp = v
	case nil:
		return nil, fmt.Errorf("%w: geometri kosong (no geometry)", ErrBadArea)
	default:
		return nil, fmt.Errorf("%w: tipe %s tidak didukung (want Polygon or MultiPolygon, got %s)", ErrBadArea, g.GeoJSONType(), g.GeoJSONType())
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("%w: tidak ada poligon (no polygon)", ErrBadArea)
	}
	if len(mp) > MaxSelectParts {
		return nil, fmt.Errorf("%w: %d bagian, maksimum %d (too many parts)", ErrBadArea, len(mp), MaxSelectParts)
	}
	n := 0
	for i, p := range mp {
		if len(p) == 0 {
			return nil, fmt.Errorf("%w: poligon %d tanpa cincin (polygon %d has no ring)", ErrBadArea, i+1, i+1)
		}
		for j, r := range p {
			if len(r) < 4 {
				return nil, fmt.Errorf("%w: poligon %d cincin %d punya %d titik, minimal 4 (polygon %d ring %d has %d positions, needs 4)",
					ErrBadArea, i+1, j+1, len(r), i+1, j+1, len(r))
			}
			if r[0] != r[len(r)-1] {
				return nil, fmt.Errorf("%w: poligon %d cincin %d tidak tertutup (polygon %d ring %d is not closed: first and last positions differ)",
					ErrBadArea, i+1, j+1, i+1, j+1)
			}
			for _, pt := range r {
				if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return nil, fmt.Errorf("%w: poligon %d cincin %d: koordinat %v di luar jangkauan (coordinate out of range; want lon -180…180, lat -90…90)",
						ErrBadArea, i+1, j+1, pt)
				}
			}
			n += len(r)
		}
	}
	if n > MaxSelectVertices {
		return nil, fmt.Errorf("%w: %d titik, maksimum %d (too many vertices)", ErrBadArea, n, MaxSelectVertices)
	}
	return mp, nil
}

// SelectVillages returns the villages of the active desa set whose area overlaps
// area (touching a border only does not count), in rank order of the newest score
// run of period (empty: the latest period), unranked villages last by code. The
// area is checked with SelectionArea; PostGIS repairs a self-intersecting drawing
// (ST_MakeValid) instead of refusing it.
func (s *Store) SelectVillages(ctx context.Context, area orb.Geometry, period string) ([]SelectedVillage, error) {
	mp, err := SelectionArea(area)
	if err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `
		WITH a AS (SELECT ST_MakeValid($1::geometry) AS g),
		run AS (SELECT r.id FROM score_run r JOIN boundary_set bs ON bs.id = r.set_id AND bs.status = 'active' AND bs.level = 'desa'
			WHERE $2 = '' OR r.period = $2 ORDER BY r.period DESC, r.id DESC LIMIT 1)
		SELECT v.code, v.name, v.kecamatan_code, v.kecamatan_name, vs.rank
		FROM village v
		JOIN boundary_set bs ON bs.id = v.set_id AND bs.status = 'active' AND bs.level = 'desa'
		CROSS JOIN a
		LEFT JOIN village_score vs ON vs.run_id = (SELECT id FROM run) AND vs.code = v.code
		WHERE ST_Intersects(v.geom, a.g) AND NOT ST_Touches(v.geom, a.g)
		ORDER BY vs.rank NULLS LAST, v.code`, toGeomMultiPolygon(mp), period)
	if err != nil {
		return nil, fmt.Errorf("pilih desa dalam area (select villages in the area): %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[SelectedVillage])
	if out == nil {
		out = []SelectedVillage{}
	}
	return out, err
}
