package synth

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Test helpers written independently of the generator's own geometry code.

// signedArea is the shoelace area of a closed ring (positive = counter-clockwise).
func signedArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func within(p, q, x orb.Point) bool {
	return math.Min(p[0], q[0]) <= x[0] && x[0] <= math.Max(p[0], q[0]) &&
		math.Min(p[1], q[1]) <= x[1] && x[1] <= math.Max(p[1], q[1])
}

// segIntersect reports whether the closed segments pq and rs share a point.
func segIntersect(p, q, r, s orb.Point) bool {
	// Bounding boxes first: this also keeps rounding noise in the
	// orientation tests from joining disjoint collinear segments.
	if math.Max(p[0], q[0]) < math.Min(r[0], s[0]) || math.Max(r[0], s[0]) < math.Min(p[0], q[0]) ||
		math.Max(p[1], q[1]) < math.Min(r[1], s[1]) || math.Max(r[1], s[1]) < math.Min(p[1], q[1]) {
		return false
	}
	d1, d2 := cross(r, s, p), cross(r, s, q)
	d3, d4 := cross(p, q, r), cross(p, q, s)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && within(r, s, p)) || (d2 == 0 && within(r, s, q)) ||
		(d3 == 0 && within(p, q, r)) || (d4 == 0 && within(p, q, s))
}

// checkRing verifies a closed, simple ring with non-zero area (O(n²)).
func checkRing(r orb.Ring) error {
	if len(r) < 4 {
		return fmt.Errorf("ring has %d points", len(r))
	}
	if r[0] != r[len(r)-1] {
		return errors.New("ring not closed")
	}
	n := len(r) - 1
	for i := range n {
		if r[i] == r[i+1] {
			return fmt.Errorf("repeated vertex %d", i)
		}
	}
	if signedArea(r) == 0 {
		return errors.New("zero-area ring")
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Adjacent edges share one vertex; they must not fold back.
				var a, v, b orb.Point
				if j == i+1 {
					a, v, b = r[i], r[j], r[j+1]
				} else {
					a, v, b = r[j], r[0], r[1]
				}
				if cross(v, a, b) == 0 && (a[0]-v[0])*(b[0]-v[0])+(a[1]-v[1])*(b[1]-v[1]) > 0 {
					return fmt.Errorf("spike at vertex between edges %d and %d", i, j)
				}
				continue
			}
			if segIntersect(r[i], r[i+1], r[j], r[j+1]) {
				return fmt.Errorf("self-intersection between edges %d and %d", i, j)
			}
		}
	}
	return nil
}

// checkPolygon verifies rings, orientation (RFC 7946) and ring disjointness.
func checkPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return errors.New("polygon without rings")
	}
	for i, r := range p {
		if err := checkRing(r); err != nil {
			return fmt.Errorf("ring %d: %w", i, err)
		}
		if a := signedArea(r); (i == 0) != (a > 0) {
			return fmt.Errorf("ring %d has the wrong orientation (area %g)", i, a)
		}
	}
	for i := range p {
		for j := i + 1; j < len(p); j++ {
			if ringsCross(p[i], p[j]) {
				return fmt.Errorf("rings %d and %d cross", i, j)
			}
		}
	}
	return nil
}

func ringsCross(a, b orb.Ring) bool {
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			if segIntersect(a[i], a[i+1], b[j], b[j+1]) {
				return true
			}
		}
	}
	return false
}

// checkMultiPolygon verifies every polygon and that polygons do not overlap.
func checkMultiPolygon(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return errors.New("empty multipolygon")
	}
	for i, p := range mp {
		if err := checkPolygon(p); err != nil {
			return fmt.Errorf("polygon %d: %w", i, err)
		}
	}
	for i := range mp {
		for j := i + 1; j < len(mp); j++ {
			if ringsCross(mp[i][0], mp[j][0]) {
				return fmt.Errorf("polygons %d and %d touch or cross", i, j)
			}
			if planar.RingContains(mp[j][0], mp[i][0][0]) || planar.RingContains(mp[i][0], mp[j][0][0]) {
				return fmt.Errorf("polygons %d and %d overlap", i, j)
			}
		}
	}
	return nil
}

// relClose reports |a-b| <= tol*max(|a|,|b|).
func relClose(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

// sharedFile returns the path of a file in the shared Bekasi data folder
// (env SINERGI_SHARED_DATA, default ../../shared/data/bekasi). When the file
// is missing the test fails under CI (env CI set) and is skipped otherwise.
func sharedFile(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("SINERGI_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data", "bekasi")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared data file missing under CI: %v", err)
		}
		t.Skipf("shared data file missing: %v", err)
	}
	return p
}

// regencyCache avoids regenerating the same regency in many tests.
var regencyCache = map[uint64]*Regency{}

func regencyFor(seed uint64) *Regency {
	if r, ok := regencyCache[seed]; ok {
		return r
	}
	r := NewRegency(seed)
	regencyCache[seed] = r
	return r
}
