package geo

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
)

// WriteSyntheticVillages writes a GeoJSON FeatureCollection of n fictional
// villages for benchmarks at national scale (Indonesia has about 84,000). The
// villages tile a jittered grid exactly — neighbours share every vertex of their
// common edge, each edge has several wiggles — so the layer is valid, has no
// overlaps or gaps, and looks like a boundary layer to PostGIS (about 33 vertices
// per village, clockwise rings as many real files have). Codes use the fictional
// province numbers 90–99 (never real data); the same n and seed give the same bytes.
func WriteSyntheticVillages(w io.Writer, n int, seed uint64) error {
	if n <= 0 {
		return fmt.Errorf("n must be positive")
	}
	cols := int(math.Ceil(math.Sqrt(float64(n))))
	const (
		cell   = 0.02 // degrees, about 2.2 km
		x0, y0 = 100.0, -8.0
		seg    = 8 // segments per edge
	)
	h := func(a, b, c uint64) float64 { // deterministic uniform in [-1, 1)
		x := seed*0x9E3779B97F4A7C15 ^ a*0xBF58476D1CE4E5B9 ^ b*0x94D049BB133111EB ^ c*0xD6E8FEB86659FD93
		x ^= x >> 31
		x *= 0x9E3779B97F4A7C15
		x ^= x >> 29
		return float64(x>>11)/float64(1<<52) - 1
	}
	corner := func(i, j int) [2]float64 {
		return [2]float64{x0 + (float64(i)+0.2*h(uint64(i), uint64(j), 1))*cell, y0 + (float64(j)+0.2*h(uint64(i), uint64(j), 2))*cell}
	}
	// edge returns the points of the edge from corner p to corner q, excluding q;
	// kind/i/j identify the edge so both neighbours get the same wiggles.
	edge := func(p, q [2]float64, kind uint64, i, j int, reverse bool) [][2]float64 {
		pts := make([][2]float64, 0, seg)
		a, b := p, q                        // always computed in the same direction, so neighbours agree bit for bit
		nx, ny := -(b[1] - a[1]), b[0]-a[0] // perpendicular
		for k := 0; k < seg; k++ {
			t := float64(k) / seg
			off := 0.0
			if k > 0 {
				off = 0.04 * h(uint64(i)<<20|uint64(j), kind, uint64(k))
			}
			pts = append(pts, [2]float64{a[0] + t*(b[0]-a[0]) + off*nx, a[1] + t*(b[1]-a[1]) + off*ny})
		}
		if reverse {
			// Walk the same points backwards: q … (excluding p) then drop q, add p.
			rev := make([][2]float64, 0, seg)
			rev = append(rev, q)
			for k := seg - 1; k >= 1; k-- {
				rev = append(rev, pts[k])
			}
			return rev
		}
		return pts
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	buf := make([]byte, 0, 64)
	num := func(f float64) {
		buf = strconv.AppendFloat(buf[:0], f, 'f', 7, 64)
		bw.Write(buf)
	}
	for v := 0; v < n; v++ {
		i, j := v%cols, v/cols
		prov := 90 + v/79200
		kab := (v/800)%99 + 1
		kec := (v/20)%40 + 1
		desa := 2001 + v%20
		code := fmt.Sprintf("%02d.%02d.%02d.%04d", prov, kab, kec, desa)
		c00, c10, c11, c01 := corner(i, j), corner(i+1, j), corner(i+1, j+1), corner(i, j+1)
		// Clockwise: up the west edge, east along the north, down the east, west along the south.
		var ring [][2]float64
		ring = append(ring, edge(c00, c01, 2, i, j, false)...)   // west (vertical edge i, rows j)
		ring = append(ring, edge(c01, c11, 1, i, j+1, false)...) // north (horizontal edge at row j+1)
		ring = append(ring, edge(c10, c11, 2, i+1, j, true)...)  // east, walked downwards
		ring = append(ring, edge(c00, c10, 1, i, j, true)...)    // south, walked westwards
		ring = append(ring, c00)
		if v > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, `{"type":"Feature","properties":{"kode_desa":%q,"nama_desa":"Desa Sintetis %d","kode_kecamatan":%q,"nama_kecamatan":"Kecamatan Sintetis %d"},"geometry":{"type":"Polygon","coordinates":[[`,
			code, v+1, code[:8], v/20+1)
		for k, p := range ring {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('[')
			num(p[0])
			bw.WriteByte(',')
			num(p[1])
			bw.WriteByte(']')
		}
		bw.WriteString("]]}}")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
