package synth

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/bapeda-bekasi/sinergi/data"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// The demo regency's code and name. The code 99.01 does not exist among
// Kemendagri codes, so demo rows can never be mistaken for real ones
// (Kabupaten Bekasi is 32.16).
const (
	RegencyCode = "99.01"
	RegencyName = "Kabupaten Sinergi Demo"
)

// Village kinds, as in the Kemendagri code lists: the first digit of the
// fourth code block is 1 for a kelurahan and 2 for a desa.
const (
	KindDesa      = "desa"
	KindKelurahan = "kelurahan"
)

// Regency is a generated demo regency.
type Regency struct {
	Code, Name string      // "99.01", "Kabupaten Sinergi Demo"
	Outline    orb.Polygon // lon/lat WGS84, counter-clockwise exterior
	Kecamatan  []Kecamatan // 20, sorted by Code
	Villages   []Village   // 176–184, sorted by Code
	Estates    []Estate    // 4–5 industrial estates
}

// Kecamatan is a district of the demo regency. Its villages tile Geom exactly
// (up to floating-point noise).
type Kecamatan struct {
	Code, Name string // Code "99.01.KK", KK = 01..20 numbered west to east
	Geom       orb.MultiPolygon
}

// Village is a desa or kelurahan, generated or read from real boundaries.
type Village struct {
	// Code is "99.01.KK.NNNN" for generated villages: NNNN starts with 1 for
	// a kelurahan and 2 for a desa. KecCode/KecName name its kecamatan; Kind
	// is KindDesa or KindKelurahan.
	Code, Name, KecCode, KecName, Kind string
	// Geom is valid, with closed, counter-clockwise exterior rings (RFC 7946).
	Geom orb.MultiPolygon
	// Population is the number of residents: 3,000–40,000 for generated
	// villages, 0 for villages read with VillagesFromGeoJSON.
	Population int
	// Settlements are 1–4 settlement centres inside Geom, around which
	// households are clustered.
	Settlements []orb.Point
}

// Estate is an industrial estate ("kawasan industri").
type Estate struct {
	Name   string      // "Kawasan Industri ..."
	Area   orb.Polygon // 3–15 km², inside the regency outline
	Center orb.Point   // area centroid
}

// Layout constants of the demo regency.
const (
	centreLon     = 107.175
	centreLat     = -6.275
	kmPerDegLat   = 110.574
	kmPerDegLonEq = 111.320
	numKecamatan  = 20
	numKelurahan  = 8
	minVillages   = 5 // per kecamatan
)

// frame converts between degrees and a local kilometre grid (equirectangular
// projection around a reference latitude; fine at this scale).
type frame struct {
	origin orb.Point
	kx, ky float64 // km per degree of longitude / latitude
}

func newFrame(origin orb.Point) frame {
	return frame{origin, kmPerDegLonEq * math.Cos(origin[1]*math.Pi/180), kmPerDegLat}
}

func (f frame) deg(x, y float64) orb.Point {
	return orb.Point{f.origin[0] + x/f.kx, f.origin[1] + y/f.ky}
}

func (f frame) km(p orb.Point) (x, y float64) {
	return (p[0] - f.origin[0]) * f.kx, (p[1] - f.origin[1]) * f.ky
}

// distKm is the approximate ground distance between two lon/lat points.
func (f frame) distKm(p, q orb.Point) float64 {
	return math.Hypot((p[0]-q[0])*f.kx, (p[1]-q[1])*f.ky)
}

// areaKm2 converts an area in square degrees to km².
func (f frame) areaKm2(deg2 float64) float64 { return deg2 * f.kx * f.ky }

// metric is the Voronoi metric of the frame: x differences weighted by (kx/ky)².
func (f frame) metric() metric { r := f.kx / f.ky; return metric{wx: r * r} }

// NewRegency generates the demo regency for seed. The same seed always
// gives the same regency, bit for bit.
//
// The outline is a perturbed ellipse of about 1,200 km² around lon 107.175,
// lat -6.275 (roughly lon 107.02–107.33, lat -6.47 to -6.08). Kecamatan are
// Lloyd-relaxed Voronoi cells of random seeds clipped to the outline;
// villages are Lloyd-relaxed Voronoi cells of seeds inside each kecamatan,
// clipped to that kecamatan, so villages nest in and tile their kecamatan,
// and kecamatan tile the outline.
func NewRegency(seed uint64) *Regency {
	f := newFrame(orb.Point{centreLon, centreLat})
	m := f.metric()

	outline := makeOutline(seed, f)
	region := [][]orb.Point{outline}
	estates := makeEstates(seed, f, outline)

	// Kecamatan: coarse Voronoi cells of the outline.
	kr := newRand(seed, tagKecamatan, 0)
	kecSeeds := relax(region, randomPointsIn(kr, region, numKecamatan), m, 3)
	kecCells := make([][][]orb.Point, numKecamatan)
	for i := range kecSeeds {
		kecCells[i] = sortPieces(voronoiCell(region, kecSeeds, i, m))
	}

	// Villages: fine Voronoi cells inside each kecamatan.
	vr := newRand(seed, tagVillages, 0)
	total := 176 + vr.IntN(9)
	areas := make([]float64, numKecamatan)
	for i, c := range kecCells {
		areas[i] = regionArea(c)
	}
	counts := largestRemainder(total-minVillages*numKecamatan, areas)
	type genVillage struct {
		pieces   [][]orb.Point
		kec      int
		centroid orb.Point
		kind     string
		name     string
		pop      int
	}
	var vs []genVillage
	for k, cell := range kecCells {
		n := counts[k] + minVillages
		seeds := relax(cell, randomPointsIn(vr, cell, n), m, 2)
		for i := range seeds {
			pieces := sortPieces(voronoiCell(cell, seeds, i, m))
			vs = append(vs, genVillage{pieces: pieces, kec: k, centroid: regionCentroid(pieces), kind: KindDesa})
		}
	}

	// About eight kelurahan: the villages nearest to the estates, taken
	// round-robin over the estates.
	taken := make([]bool, len(vs))
	for n := 0; n < numKelurahan; {
		for _, e := range estates {
			if n == numKelurahan {
				break
			}
			best := -1
			for i := range vs {
				if !taken[i] && (best < 0 || f.distKm(vs[i].centroid, e.Center) < f.distKm(vs[best].centroid, e.Center)) {
					best = i
				}
			}
			taken[best] = true
			vs[best].kind = KindKelurahan
			n++
		}
	}

	// Names and populations.
	names := newNamer(newRand(seed, tagNames, 0))
	pr := newRand(seed, tagPopulation, 0)
	for i := range vs {
		vs[i].name = names.village()
		median, sigma := 11000.0, 0.5
		if vs[i].kind == KindKelurahan {
			median, sigma = 26000, 0.3
		}
		p := median * math.Exp(sigma*pr.NormFloat64())
		vs[i].pop = int(math.Round(min(max(p, 3000), 40000)))
	}

	// Codes: kecamatan west to east; inside a kecamatan kelurahan (1xxx)
	// then desa (2xxx), each west to east.
	kecOrder := make([]int, numKecamatan)
	kecCentroid := make([]orb.Point, numKecamatan)
	for i := range kecOrder {
		kecOrder[i] = i
		kecCentroid[i] = regionCentroid(kecCells[i])
	}
	slices.SortFunc(kecOrder, func(a, b int) int { return cmp.Compare(kecCentroid[a][0], kecCentroid[b][0]) })

	reg := &Regency{
		Code:    RegencyCode,
		Name:    RegencyName,
		Outline: orb.Polygon{closeRing(outline)},
		Estates: estates,
	}
	for kk, k := range kecOrder {
		kecCode := RegencyCode + "." + pad(kk+1, 2)
		var members []int
		for i := range vs {
			if vs[i].kec == k {
				members = append(members, i)
			}
		}
		slices.SortFunc(members, func(a, b int) int {
			if vs[a].kind != vs[b].kind {
				if vs[a].kind == KindKelurahan {
					return -1
				}
				return 1
			}
			return cmp.Compare(vs[a].centroid[0], vs[b].centroid[0])
		})
		// A kecamatan is named after its most populous village, as real
		// kecamatan are usually named after their capital.
		capital := members[0]
		for _, i := range members {
			if vs[i].pop > vs[capital].pop {
				capital = i
			}
		}
		kecName := vs[capital].name
		reg.Kecamatan = append(reg.Kecamatan, Kecamatan{Code: kecCode, Name: kecName, Geom: toMultiPolygon(kecCells[k])})
		nKel, nDesa := 0, 0
		for _, i := range members {
			v := vs[i]
			var num int
			if v.kind == KindKelurahan {
				nKel++
				num = 1000 + nKel
			} else {
				nDesa++
				num = 2000 + nDesa
			}
			code := kecCode + "." + pad(num, 4)
			geom := toMultiPolygon(v.pieces)
			nSet := 1 + newRand(seed, tagSettlements, hashString(code)).IntN(3)
			if v.pop > 20000 {
				nSet++
			}
			reg.Villages = append(reg.Villages, Village{
				Code:        code,
				Name:        v.name,
				KecCode:     kecCode,
				KecName:     kecName,
				Kind:        v.kind,
				Geom:        geom,
				Population:  v.pop,
				Settlements: makeSettlements(newRand(seed, tagSettlements, hashString(code)+1), geom, nSet),
			})
		}
	}
	slices.SortFunc(reg.Villages, func(a, b Village) int { return strings.Compare(a.Code, b.Code) })
	return reg
}

// pad formats the non-negative n with at least width digits.
func pad(n, width int) string { return string(appendPad(nil, n, width)) }

// sortPieces orders pieces largest first.
func sortPieces(p [][]orb.Point) [][]orb.Point {
	slices.SortStableFunc(p, func(a, b []orb.Point) int { return cmp.Compare(ringArea(b), ringArea(a)) })
	return p
}

// makeOutline returns the regency outline: a perturbed, slightly rotated
// ellipse, star-shaped around the centre (hence simple), counter-clockwise,
// with 80–96 vertices rounded to 6 decimals.
func makeOutline(seed uint64, f frame) []orb.Point {
	r := newRand(seed, tagOutline, 0)
	nv := 80 + r.IntN(17)
	type harmonic struct{ k, amp, phase float64 }
	var hs []harmonic
	for k := 2; k <= 7; k++ {
		hs = append(hs, harmonic{float64(k), (0.02 + 0.05*r.Float64()) * 2 / float64(k), 2 * math.Pi * r.Float64()})
	}
	ax, ay := 17.0, 21.5
	rot := (r.Float64() - 0.5) * 0.4
	cr, sr := math.Cos(rot), math.Sin(rot)
	xs := make([]float64, nv)
	ys := make([]float64, nv)
	step := 2 * math.Pi / float64(nv)
	for i := range nv {
		th := float64(i)*step + (r.Float64()-0.5)*0.5*step
		rad := 1.0
		for _, h := range hs {
			rad += h.amp * math.Cos(h.k*th+h.phase)
		}
		rad += 0.012 * r.NormFloat64()
		rad = max(rad, 0.55)
		x, y := ax*rad*math.Cos(th), ay*rad*math.Sin(th)
		xs[i], ys[i] = x*cr-y*sr, x*sr+y*cr
	}
	var area float64
	for i := range nv {
		j := (i + 1) % nv
		area += xs[i]*ys[j] - xs[j]*ys[i]
	}
	area /= 2
	target := 1160 + 80*r.Float64()
	s := math.Sqrt(target / area)
	out := make([]orb.Point, nv)
	for i := range nv {
		out[i] = roundPoint(f.deg(xs[i]*s, ys[i]*s))
	}
	return out
}

// makeEstates places 4–5 industrial estates along an east–west corridor
// south of the regency's centre (like a toll-road industrial belt), fully
// inside the outline and apart from each other.
func makeEstates(seed uint64, f frame, outline []orb.Point) []Estate {
	r := newRand(seed, tagEstates, 0)
	n := 4 + r.IntN(2)
	names := data.EstateNames()
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	b := regionBound([][]orb.Point{outline})
	type placed struct {
		c      orb.Point
		radius float64
	}
	var done []placed
	var out []Estate
	for i := range n {
		areaKm2 := 3.5 + 8.5*r.Float64()
		for try := 0; ; try++ {
			fx := (float64(i) + 0.15 + 0.7*r.Float64()) / float64(n)
			spread := 0.03 + 0.0005*float64(try)
			c := orb.Point{
				b.Min[0] + (0.12+0.76*fx)*(b.Max[0]-b.Min[0]),
				centreLat - 0.03 + spread*r.NormFloat64(),
			}
			ring, radius := estateShape(r, f, c, areaKm2)
			ok := true
			for _, p := range done {
				if f.distKm(p.c, c) < p.radius+radius+2 {
					ok = false
					break
				}
			}
			if ok {
				ok = insideRing(ring, outline)
			}
			if !ok {
				if try > 5000 {
					panic("synth: cannot place industrial estates") // unreachable for this layout
				}
				continue
			}
			done = append(done, placed{c, radius})
			cen, _ := ringCentroid(ring)
			out = append(out, Estate{
				Name:   "Kawasan Industri " + names[i%len(names)],
				Area:   orb.Polygon{closeRing(ring)},
				Center: roundPoint(cen),
			})
			break
		}
	}
	return out
}

// estateShape returns a blobby, counter-clockwise open ring of areaKm2 around
// c and its largest radius in km.
func estateShape(r *rand.Rand, f frame, c orb.Point, areaKm2 float64) ([]orb.Point, float64) {
	nv := 10 + r.IntN(7)
	aspect := 1 + 0.8*r.Float64()
	rot := math.Pi * r.Float64()
	cr, sr := math.Cos(rot), math.Sin(rot)
	xs := make([]float64, nv)
	ys := make([]float64, nv)
	for i := range nv {
		th := 2 * math.Pi * float64(i) / float64(nv)
		rad := 1 + 0.12*(2*r.Float64()-1)
		x, y := aspect*rad*math.Cos(th), rad*math.Sin(th)
		xs[i], ys[i] = x*cr-y*sr, x*sr+y*cr
	}
	var area float64
	for i := range nv {
		j := (i + 1) % nv
		area += xs[i]*ys[j] - xs[j]*ys[i]
	}
	s := math.Sqrt(areaKm2 / (area / 2))
	cx, cy := f.km(c)
	out := make([]orb.Point, nv)
	var maxR float64
	for i := range nv {
		maxR = max(maxR, math.Hypot(xs[i], ys[i])*s)
		out[i] = roundPoint(f.deg(cx+xs[i]*s, cy+ys[i]*s))
	}
	return out, maxR
}

// insideRing reports whether the open ring inner lies inside the open ring
// outer: all vertices inside and no edges crossing.
func insideRing(inner, outer []orb.Point) bool {
	for _, p := range inner {
		if !ringContains(outer, p) {
			return false
		}
	}
	for i := range inner {
		a, b := inner[i], inner[(i+1)%len(inner)]
		for j := range outer {
			if segmentsIntersect(a, b, outer[j], outer[(j+1)%len(outer)]) {
				return false
			}
		}
	}
	return true
}

// orient is the sign of the cross product (b-a)×(c-a).
func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// segmentsIntersect reports whether the closed segments ab and cd share a point.
func segmentsIntersect(a, b, c, d orb.Point) bool {
	if max(a[0], b[0]) < min(c[0], d[0]) || max(c[0], d[0]) < min(a[0], b[0]) ||
		max(a[1], b[1]) < min(c[1], d[1]) || max(c[1], d[1]) < min(a[1], b[1]) {
		return false
	}
	d1, d2 := orient(c, d, a), orient(c, d, b)
	d3, d4 := orient(a, b, c), orient(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	onSeg := func(p, q, x orb.Point) bool {
		return min(p[0], q[0]) <= x[0] && x[0] <= max(p[0], q[0]) && min(p[1], q[1]) <= x[1] && x[1] <= max(p[1], q[1])
	}
	return (d1 == 0 && onSeg(c, d, a)) || (d2 == 0 && onSeg(c, d, b)) ||
		(d3 == 0 && onSeg(a, b, c)) || (d4 == 0 && onSeg(a, b, d))
}

// randomPointsIn draws n distinct uniform points inside region by rejection.
func randomPointsIn(r *rand.Rand, region [][]orb.Point, n int) []orb.Point {
	b := regionBound(region)
	out := make([]orb.Point, 0, n)
	for tries := 0; len(out) < n; tries++ {
		p := orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])}
		if regionContains(region, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
		if tries > 1000*n+10000 {
			// A sliver region: fall back to points along its interior.
			c := interiorPoint(region)
			out = append(out, orb.Point{c[0] + float64(len(out))*1e-9, c[1]})
		}
	}
	return out
}

// relax moves each seed to the centroid of its Voronoi cell within region,
// iterations times (Lloyd's algorithm). A seed whose centroid falls outside
// the region (possible for non-convex regions) stays where it is.
func relax(region [][]orb.Point, seeds []orb.Point, m metric, iterations int) []orb.Point {
	seeds = slices.Clone(seeds)
	for range iterations {
		next := make([]orb.Point, len(seeds))
		for i := range seeds {
			next[i] = seeds[i]
			cell := voronoiCell(region, seeds, i, m)
			if len(cell) == 0 {
				continue
			}
			c := regionCentroid(cell)
			if regionContains(region, c) && !slices.Contains(next[:i], c) {
				next[i] = c
			}
		}
		seeds = next
	}
	return seeds
}

// makeSettlements draws n settlement centres inside mp, rounded to 6
// decimals, preferably at least ~400 m apart.
func makeSettlements(r *rand.Rand, mp orb.MultiPolygon, n int) []orb.Point {
	b := mp.Bound()
	const minSep = 0.0036 // degrees, about 400 m
	var pts []orb.Point
	for len(pts) < n {
		found := false
		var best orb.Point
		for try := 0; try < 400; try++ {
			p := roundPoint(orb.Point{b.Min[0] + r.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + r.Float64()*(b.Max[1]-b.Min[1])})
			if !planar.MultiPolygonContains(mp, p) {
				continue
			}
			far := true
			for _, q := range pts {
				if math.Hypot(p[0]-q[0], p[1]-q[1]) < minSep {
					far = false
					break
				}
			}
			if far || try > 200 {
				best, found = p, true
				break
			}
		}
		if !found {
			// A very thin or tiny polygon: use a guaranteed interior point.
			c := interiorPoint(piecesOf(mp))
			if rc := roundPoint(c); planar.MultiPolygonContains(mp, rc) {
				c = rc
			}
			best = c
		}
		pts = append(pts, best)
	}
	return pts
}

// namer hands out unique village names built from data.VillagePrefixes and
// data.VillageSuffixes ("Suka" + "mekar" = "Sukamekar"). Some prefixes stand
// as a separate word ("Pantai Harapan", "Setia Asih").
type namer struct {
	r          *rand.Rand
	pre, suf   []string
	used       map[string]bool
	standalone map[string]bool
}

func newNamer(r *rand.Rand) *namer {
	return &namer{
		r:    r,
		pre:  data.VillagePrefixes(),
		suf:  data.VillageSuffixes(),
		used: map[string]bool{},
		standalone: map[string]bool{
			"Pantai": true, "Setia": true, "Tanah": true, "Bunga": true, "Telaga": true, "Muara": true,
		},
	}
}

func (n *namer) village() string {
	for {
		p, s := pick(n.r, n.pre), pick(n.r, n.suf)
		if p == s || strings.HasSuffix(strings.ToLower(p), strings.ToLower(s)) {
			continue
		}
		var name string
		if n.standalone[p] || n.r.IntN(100) < 6 || (isVowel(p[len(p)-1]) && isVowel(s[0])) {
			name = p + " " + s
		} else {
			name = p + strings.ToLower(s)
		}
		if n.used[name] || n.used[strings.ReplaceAll(name, " ", "")] {
			continue
		}
		n.used[name] = true
		n.used[strings.ReplaceAll(name, " ", "")] = true
		return name
	}
}

// isVowel reports whether the ASCII letter c is a vowel.
func isVowel(c byte) bool { return strings.IndexByte("aeiouAEIOU", c) >= 0 }
