package synth

import (
	"cmp"
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// This file holds the small amount of computational geometry the generator
// needs. Internally a polygon piece is an open ring ([]orb.Point without the
// closing point), counter-clockwise, without holes. A region is a list of
// disjoint pieces.

// ringArea returns the signed (shoelace) area of the open ring r: positive
// when r is counter-clockwise.
func ringArea(r []orb.Point) float64 {
	n := len(r)
	if n < 3 {
		return 0
	}
	// Translate to the first vertex to keep the products small and exact-ish.
	o := r[0]
	var a float64
	for i := 1; i < n-1; i++ {
		a += (r[i][0]-o[0])*(r[i+1][1]-o[1]) - (r[i+1][0]-o[0])*(r[i][1]-o[1])
	}
	return a / 2
}

// ringCentroid returns the area centroid and signed area of the open ring r.
func ringCentroid(r []orb.Point) (orb.Point, float64) {
	o := r[0]
	var a, cx, cy float64
	for i := 1; i < len(r)-1; i++ {
		x1, y1 := r[i][0]-o[0], r[i][1]-o[1]
		x2, y2 := r[i+1][0]-o[0], r[i+1][1]-o[1]
		cr := x1*y2 - x2*y1
		a += cr
		cx += (x1 + x2) * cr
		cy += (y1 + y2) * cr
	}
	if a == 0 {
		return o, 0
	}
	return orb.Point{o[0] + cx/(3*a), o[1] + cy/(3*a)}, a / 2
}

// regionArea returns the total area of the pieces.
func regionArea(pieces [][]orb.Point) float64 {
	var a float64
	for _, p := range pieces {
		a += ringArea(p)
	}
	return a
}

// regionCentroid returns the area-weighted centroid of the pieces.
func regionCentroid(pieces [][]orb.Point) orb.Point {
	var x, y, a float64
	for _, p := range pieces {
		c, pa := ringCentroid(p)
		x += c[0] * pa
		y += c[1] * pa
		a += pa
	}
	if a == 0 {
		return pieces[0][0]
	}
	return orb.Point{x / a, y / a}
}

// ringContains reports whether p lies inside the open ring r (even–odd rule).
func ringContains(r []orb.Point, p orb.Point) bool {
	in := false
	j := len(r) - 1
	for i := range r {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
		j = i
	}
	return in
}

// regionContains reports whether p lies inside one of the pieces.
func regionContains(pieces [][]orb.Point, p orb.Point) bool {
	for _, r := range pieces {
		if ringContains(r, p) {
			return true
		}
	}
	return false
}

// regionBound returns the bounding box of the pieces.
func regionBound(pieces [][]orb.Point) orb.Bound {
	b := orb.Bound{Min: pieces[0][0], Max: pieces[0][0]}
	for _, r := range pieces {
		for _, p := range r {
			b = b.Extend(p)
		}
	}
	return b
}

// interiorPoint returns a point strictly inside the largest piece: the
// midpoint of the widest span of a horizontal scan line through the middle of
// that piece's bounding box.
func interiorPoint(pieces [][]orb.Point) orb.Point {
	best, bestA := 0, math.Inf(-1)
	for i, p := range pieces {
		if a := math.Abs(ringArea(p)); a > bestA {
			best, bestA = i, a
		}
	}
	r := pieces[best]
	b := regionBound([][]orb.Point{r})
	for _, f := range []float64{0.5, 0.37, 0.63, 0.25, 0.75, 0.1, 0.9} {
		y := b.Min[1] + f*(b.Max[1]-b.Min[1])
		var xs []float64
		j := len(r) - 1
		for i := range r {
			a, c := r[i], r[j]
			if (a[1] > y) != (c[1] > y) {
				xs = append(xs, a[0]+(y-a[1])*(c[0]-a[0])/(c[1]-a[1]))
			}
			j = i
		}
		slices.Sort(xs)
		bw, bx := 0.0, 0.0
		for k := 0; k+1 < len(xs); k += 2 {
			if w := xs[k+1] - xs[k]; w > bw {
				bw, bx = w, (xs[k]+xs[k+1])/2
			}
		}
		if bw > 0 {
			return orb.Point{bx, y}
		}
	}
	return r[0]
}

// Kinds of nodes met while walking a ring that crosses a clip line.
const (
	nodeVertex = iota
	nodeEntry  // the boundary crosses into the kept half-plane
	nodeExit   // the boundary crosses out of the kept half-plane
)

// clipRing clips the simple counter-clockwise open ring r to the half-plane
// a*x + b*y + c >= 0 and returns the resulting pieces, each a simple
// counter-clockwise open ring.
//
// Plain Sutherland–Hodgman would return a single ring joined by zero-width
// bridges along the clip line when a non-convex ring falls apart into
// several pieces. Instead the kept chains of the boundary are linked along
// the clip line: sorted along the line (direction (b, -a), which keeps the
// kept side on the left), crossings alternate exit, entry, exit, entry…, and
// each exit is joined to the entry that follows it.
//
// Vertices on the line (within rounding noise) are handled by symbolic perturbation: the
// line is moved an infinitesimal ε into the kept side, so such vertices count
// as outside, and crossings that coincide at such a vertex are ordered by
// where they would lie on the moved line.
func clipRing(r []orb.Point, a, b, c float64) [][]orb.Point {
	n := len(r)
	s := make([]float64, n)
	pos, neg := 0, 0
	for i, p := range r {
		ax, by := a*p[0], b*p[1]
		s[i] = ax + by + c
		// Values within rounding noise of the line count as on it.
		if math.Abs(s[i]) <= 1e-14*(math.Abs(ax)+math.Abs(by)+math.Abs(c)) {
			s[i] = 0
		}
		if s[i] > 0 {
			pos++
		} else if s[i] < 0 {
			neg++
		}
	}
	if neg == 0 {
		return [][]orb.Point{r}
	}
	if pos == 0 {
		return nil
	}
	dx, dy := b, -a
	type node struct {
		p    orb.Point
		kind int8
		t2   float64 // tie-break: movement along the line per unit ε
	}
	seq := make([]node, 0, n+4)
	for i := range n {
		j := (i + 1) % n
		if s[i] > 0 {
			seq = append(seq, node{p: r[i], kind: nodeVertex})
		}
		if (s[i] > 0) != (s[j] > 0) {
			in, out := i, j
			kind := int8(nodeExit)
			if s[j] > 0 {
				in, out = j, i
				kind = nodeEntry
			}
			var x orb.Point
			if s[out] == 0 {
				x = r[out]
			} else {
				t := s[in] / (s[in] - s[out])
				x = orb.Point{r[in][0] + (r[out][0]-r[in][0])*t, r[in][1] + (r[out][1]-r[in][1])*t}
			}
			t2 := (dx*(r[in][0]-r[out][0]) + dy*(r[in][1]-r[out][1])) / s[in]
			seq = append(seq, node{p: x, kind: kind, t2: t2})
		}
	}
	start := slices.IndexFunc(seq, func(nd node) bool { return nd.kind == nodeEntry })

	type chain struct {
		pts      []orb.Point
		te, tx   float64 // positions of the entry and exit along the clip line
		te2, tx2 float64 // tie-breaks
		maxS     float64 // largest distance value of the chain's vertices
	}
	var chains []chain
	var cur chain
	for k := range seq {
		nd := seq[(start+k)%len(seq)]
		switch nd.kind {
		case nodeEntry:
			cur = chain{pts: []orb.Point{nd.p}, te: dx*nd.p[0] + dy*nd.p[1], te2: nd.t2}
		case nodeVertex:
			cur.pts = append(cur.pts, nd.p)
			if v := a*nd.p[0] + b*nd.p[1] + c; v > cur.maxS {
				cur.maxS = v
			}
		case nodeExit:
			cur.pts = append(cur.pts, nd.p)
			cur.tx, cur.tx2 = dx*nd.p[0]+dy*nd.p[1], nd.t2
			// A chain hugging the line encloses (next to) nothing.
			if cur.maxS > 1e-15*math.Hypot(a, b) {
				chains = append(chains, cur)
			}
		}
	}
	if len(chains) == 0 {
		return nil
	}
	if len(chains) == 1 {
		return cleanPieces([][]orb.Point{chains[0].pts})
	}

	type event struct {
		t, t2 float64
		exit  bool
		chain int
	}
	events := make([]event, 0, 2*len(chains))
	for i, ch := range chains {
		events = append(events, event{ch.te, ch.te2, false, i}, event{ch.tx, ch.tx2, true, i})
	}
	slices.SortStableFunc(events, func(x, y event) int {
		if c := cmp.Compare(x.t, y.t); c != 0 {
			return c
		}
		if c := cmp.Compare(x.t2, y.t2); c != 0 {
			return c
		}
		// Still tied: close the current piece before opening the next.
		switch {
		case x.exit && !y.exit:
			return -1
		case !x.exit && y.exit:
			return 1
		}
		return 0
	})
	next := make([]int, len(chains))
	ok := true
	for k := 0; k+1 < len(events); k += 2 {
		if !events[k].exit || events[k+1].exit {
			ok = false
			break
		}
		next[events[k].chain] = events[k+1].chain
	}
	if ok {
		visited := make([]bool, len(chains))
		var out [][]orb.Point
		for k := range chains {
			if visited[k] {
				continue
			}
			var ring []orb.Point
			i := k
			for !visited[i] {
				visited[i] = true
				ring = append(ring, chains[i].pts...)
				i = next[i]
			}
			if i != k {
				ok = false
				break
			}
			out = append(out, ring)
		}
		if ok {
			return cleanPieces(out)
		}
	}
	// Numerically inconsistent crossings (not seen in practice): fall back
	// to the plain Sutherland–Hodgman ring.
	ring := make([]orb.Point, len(seq))
	for i, nd := range seq {
		ring[i] = nd.p
	}
	return cleanPieces([][]orb.Point{ring})
}

// minPieceArea is the area (square degrees, about 1 cm²) below which a piece is dropped.
const minPieceArea = 1e-18

// cleanPieces removes repeated vertices and drops degenerate pieces.
func cleanPieces(pieces [][]orb.Point) [][]orb.Point {
	out := pieces[:0]
	for _, r := range pieces {
		r = dedupe(r)
		if len(r) >= 3 && ringArea(r) > minPieceArea {
			out = append(out, r)
		}
	}
	return out
}

// dedupe removes consecutive (and wrap-around) vertices closer than about 1 µm.
func dedupe(r []orb.Point) []orb.Point {
	const eps = 1e-11
	near := func(p, q orb.Point) bool {
		return math.Abs(p[0]-q[0]) <= eps && math.Abs(p[1]-q[1]) <= eps
	}
	out := make([]orb.Point, 0, len(r))
	for _, p := range r {
		if len(out) > 0 && near(out[len(out)-1], p) {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && near(out[0], out[len(out)-1]) {
		out = out[:len(out)-1]
	}
	return out
}

// clipRegion clips every piece to the half-plane a*x + b*y + c >= 0.
func clipRegion(pieces [][]orb.Point, a, b, c float64) [][]orb.Point {
	var out [][]orb.Point
	for _, p := range pieces {
		out = append(out, clipRing(p, a, b, c)...)
	}
	return out
}

// metric weights the x (longitude) difference so that distances in degrees
// approximate ground distances: wx = cos²(latitude).
type metric struct{ wx float64 }

// voronoiCell returns region ∩ (Voronoi cell of seeds[i]) under metric m.
// The cell is the intersection of the half-planes closer to seeds[i] than to
// each other seed, so clipping the region by each half-plane in turn is exact
// even when the region is not convex.
func voronoiCell(region [][]orb.Point, seeds []orb.Point, i int, m metric) [][]orb.Point {
	p := seeds[i]
	// Nearest seeds first: they cut the most, so later clips are cheap.
	order := make([]int, 0, len(seeds)-1)
	for j := range seeds {
		if j != i {
			order = append(order, j)
		}
	}
	d2 := func(j int) float64 {
		dx, dy := seeds[j][0]-p[0], seeds[j][1]-p[1]
		return m.wx*dx*dx + dy*dy
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(d2(x), d2(y)) })
	cell := region
	for _, j := range order {
		q := seeds[j]
		// Keep (x - mid)·w <= 0 with w = W(q - p), i.e. -w·x + w·mid >= 0.
		wx, wy := m.wx*(q[0]-p[0]), q[1]-p[1]
		mx, my := (p[0]+q[0])/2, (p[1]+q[1])/2
		cell = clipRegion(cell, -wx, -wy, wx*mx+wy*my)
		if len(cell) == 0 {
			return nil
		}
	}
	return cell
}

// toMultiPolygon converts pieces to a MultiPolygon of closed rings.
func toMultiPolygon(pieces [][]orb.Point) orb.MultiPolygon {
	mp := make(orb.MultiPolygon, 0, len(pieces))
	for _, r := range pieces {
		mp = append(mp, orb.Polygon{closeRing(r)})
	}
	return mp
}

// closeRing returns a closed copy of the open ring r.
func closeRing(r []orb.Point) orb.Ring {
	out := make(orb.Ring, len(r)+1)
	copy(out, r)
	out[len(r)] = r[0]
	return out
}

// openRing returns r without its closing point (if closed).
func openRing(r orb.Ring) []orb.Point {
	if len(r) > 1 && r[0] == r[len(r)-1] {
		return slices.Clone(r[:len(r)-1])
	}
	return slices.Clone([]orb.Point(r))
}

// piecesOf returns the exterior rings of mp as open rings (holes ignored).
func piecesOf(mp orb.MultiPolygon) [][]orb.Point {
	out := make([][]orb.Point, 0, len(mp))
	for _, p := range mp {
		if len(p) > 0 {
			out = append(out, openRing(p[0]))
		}
	}
	return out
}

// round6 rounds to 6 decimal places (about 0.1 m).
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// roundPoint rounds both coordinates to 6 decimal places.
func roundPoint(p orb.Point) orb.Point { return orb.Point{round6(p[0]), round6(p[1])} }
