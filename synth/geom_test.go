package synth

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// star returns a strongly non-convex star-shaped open ring, counter-clockwise.
func star(r *rand.Rand, n int) []orb.Point {
	out := make([]orb.Point, n)
	for i := range out {
		th := 2 * math.Pi * float64(i) / float64(n)
		rad := 0.2 + 0.8*r.Float64()
		out[i] = orb.Point{107 + 0.1*rad*math.Cos(th), -6.3 + 0.1*rad*math.Sin(th)}
	}
	return out
}

func TestClipRingCases(t *testing.T) {
	// A "U" open at the top: cutting below the top keeps two prongs.
	u := []orb.Point{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}}
	// An "M": a V-shaped notch from the top down to (2, 1).
	m := []orb.Point{{0, 0}, {4, 0}, {4, 3}, {2, 1}, {0, 3}}
	tests := []struct {
		name       string
		ring       []orb.Point
		a, b, c    float64
		wantPieces int
		wantArea   float64
	}{
		{"all kept", u, 0, 1, 1, 1, 7},
		{"all dropped", u, 0, 1, -4, 0, 0},
		{"keep top of U: two prongs", u, 0, 1, -2, 2, 2},
		{"keep bottom of U", u, 0, -1, 2, 1, 5},
		{"keep left half", u, -1, 0, 1.5, 1, 3.5},
		{"cut through vertices", u, 0, 1, -1, 2, 4},
		{"line along an edge", u, 0, -1, 0, 0, 0},
		{"reflex notch vertex on the line", m, 0, 1, -1, 2, 4},
		{"notch vertex touching the kept side's edge", m, 0, -1, 1, 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipRing(tt.ring, tt.a, tt.b, tt.c)
			if len(got) != tt.wantPieces {
				t.Fatalf("%d pieces, want %d: %v", len(got), tt.wantPieces, got)
			}
			if a := regionArea(got); math.Abs(a-tt.wantArea) > 1e-12 {
				t.Errorf("area %g, want %g", a, tt.wantArea)
			}
			// Pieces may touch at a point (the M), so check them one by one.
			for _, p := range got {
				if err := checkPolygon(orb.Polygon{closeRing(p)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestClipRingRandom clips random non-convex rings by random lines: the two
// sides must add up to the whole, and every piece must be valid.
func TestClipRingRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	split := 0
	for i := range 2000 {
		ring := star(r, 8+r.IntN(40))
		total := ringArea(ring)
		th := 2 * math.Pi * r.Float64()
		a, b := math.Cos(th), math.Sin(th)
		p := orb.Point{107 + 0.08*(r.Float64()-0.5), -6.3 + 0.08*(r.Float64()-0.5)}
		c := -(a*p[0] + b*p[1])
		keep := clipRing(ring, a, b, c)
		drop := clipRing(ring, -a, -b, -c)
		if len(keep) > 1 {
			split++
		}
		if got := regionArea(keep) + regionArea(drop); !relClose(got, total, 1e-9) {
			t.Fatalf("case %d: sides add to %.15g, want %.15g", i, got, total)
		}
		for _, side := range [][][]orb.Point{keep, drop} {
			if len(side) == 0 {
				continue
			}
			if err := checkMultiPolygon(toMultiPolygon(side)); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
		}
	}
	if split < 100 {
		t.Errorf("only %d of 2000 clips split the ring: the test does not exercise splitting", split)
	}
}

// TestClipRingDegenerate clips lattice polygons by lattice lines, so that
// vertices and whole edges lie exactly on the clip line.
func TestClipRingDegenerate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	split, cases := 0, 0
	for cases < 3000 {
		ring := star(r, 6+r.IntN(14))
		for i, p := range ring {
			ring[i] = orb.Point{math.Round((p[0]-107)*100) / 10, math.Round((p[1]+6.3)*100) / 10}
		}
		ring = dedupe(ring)
		if len(ring) < 3 || checkRing(closeRing(ring)) != nil || ringArea(ring) <= 0 {
			continue
		}
		cases++
		total := ringArea(ring)
		a, b := float64(r.IntN(3)-1), float64(r.IntN(3)-1)
		if a == 0 && b == 0 {
			b = 1
		}
		c := -(a*ring[r.IntN(len(ring))][0] + b*ring[r.IntN(len(ring))][1])
		keep := clipRing(ring, a, b, c)
		drop := clipRing(ring, -a, -b, -c)
		if len(keep) > 1 {
			split++
		}
		if got := regionArea(keep) + regionArea(drop); math.Abs(got-total) > 1e-9 {
			t.Fatalf("ring %v line (%g,%g,%g): sides add to %g, want %g", ring, a, b, c, got, total)
		}
		for _, p := range append(keep, drop...) {
			if err := checkPolygon(orb.Polygon{closeRing(p)}); err != nil {
				t.Fatalf("ring %v line (%g,%g,%g): %v", ring, a, b, c, err)
			}
		}
	}
	if split < 50 {
		t.Errorf("only %d splits", split)
	}
}

// TestVoronoiCellsTileNonConvexRegion checks the core of the tiling on a
// strongly non-convex region.
func TestVoronoiCellsTileNonConvexRegion(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	m := newFrame(orb.Point{107, -6.3}).metric()
	multi := 0
	for range 30 {
		region := [][]orb.Point{star(r, 30)}
		seeds := randomPointsIn(r, region, 12)
		var sum float64
		for i := range seeds {
			cell := voronoiCell(region, seeds, i, m)
			if len(cell) == 0 {
				t.Fatalf("empty cell for seed %d", i)
			}
			if len(cell) > 1 {
				multi++
			}
			if !regionContains(cell, seeds[i]) {
				t.Errorf("seed %d not in its cell", i)
			}
			mp := toMultiPolygon(cell)
			if err := checkMultiPolygon(mp); err != nil {
				t.Fatal(err)
			}
			sum += planar.Area(mp)
		}
		if want := ringArea(region[0]); !relClose(sum, want, 1e-9) {
			t.Errorf("cells add to %.15g, want %.15g", sum, want)
		}
	}
	if multi == 0 {
		t.Error("no multi-piece cell: the test does not exercise splitting")
	}
}

func TestLargestRemainder(t *testing.T) {
	tests := []struct {
		total   int
		weights []float64
		want    []int
	}{
		{10, []float64{1, 1, 1}, []int{4, 3, 3}},
		{7, []float64{0.5, 0.25, 0.25}, []int{3, 2, 2}},
		{5, []float64{0, 3, 0}, []int{0, 5, 0}},
		{0, []float64{1, 2}, []int{0, 0}},
		{3, []float64{0, 0}, []int{0, 0}},
	}
	for _, tt := range tests {
		got := largestRemainder(tt.total, tt.weights)
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("largestRemainder(%d, %v) = %v, want %v", tt.total, tt.weights, got, tt.want)
				break
			}
		}
	}
}
