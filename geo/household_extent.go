package geo

import "context"

// DefaultExtentMargin widens the regency's extent for the "outside the regency"
// check: 0.05° is about 5.5 km, far more than any boundary simplification error,
// while 0,0, a dropped minus sign or a shifted decimal point land far beyond it.
const DefaultExtentMargin = 0.05

// RegencyExtent returns the active desa set's extent widened by margin degrees, or
// nil when no desa set is active. Household rows outside it are rejected.
func (s *Store) RegencyExtent(ctx context.Context, margin float64) (*Extent, error) {
	var x0, y0, x1, y1 *float64
	err := s.Pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT ST_Extent(v.geom) AS e FROM village v JOIN boundary_set b ON b.id = v.set_id
			WHERE b.level = 'desa' AND b.status = 'active') x`).Scan(&x0, &y0, &x1, &y1)
	if err != nil || x0 == nil {
		return nil, err
	}
	return &Extent{MinLon: *x0 - margin, MinLat: *y0 - margin, MaxLon: *x1 + margin, MaxLat: *y1 + margin}, nil
}
