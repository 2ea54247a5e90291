package geo

import (
	"math"

	"github.com/paulmach/orb"
)

// WGS84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
)

var wgs84E = math.Sqrt(wgs84E2)

// authalicQ is the y of the Lambert cylindrical equal-area projection of the
// WGS84 ellipsoid (Snyder, Map Projections, eq. 3-12), times a.
func authalicQ(latDeg float64) float64 {
	s := math.Sin(latDeg * math.Pi / 180)
	es := wgs84E * s
	return wgs84A * (1 - wgs84E2) / 2 * (s/(1-wgs84E2*s*s) + 1/(2*wgs84E)*math.Log((1+es)/(1-es)))
}

// ellipsoidAreaKm2 is the area of a lon/lat MultiPolygon on the WGS84 ellipsoid:
// the shoelace area in an equal-area projection, so exact up to the difference
// between projected-straight and geodesic edges (far below 0.01 % for village
// edges). It replaces ST_Area(geography) on the import path, where that call was
// the most expensive step of a national load; repaired or reprojected features
// still get PostGIS's geography area.
func ellipsoidAreaKm2(mp orb.MultiPolygon) float64 {
	k := wgs84A * math.Pi / 180
	var total float64
	for _, poly := range mp {
		for j, r := range poly {
			var a float64
			for i := 0; i+1 < len(r); i++ {
				x0, y0 := r[i][0]*k, authalicQ(r[i][1])
				x1, y1 := r[i+1][0]*k, authalicQ(r[i+1][1])
				a += x0*y1 - x1*y0
			}
			a = math.Abs(a) / 2
			if j > 0 {
				a = -a
			}
			total += a
		}
	}
	return total / 1e6
}
