package matching

import (
	"math"
	"testing"
)

// lattice returns rook neighbours of an r×c grid, cells numbered row-major.
func lattice(r, c int) [][]int {
	nb := make([][]int, r*c)
	for i := range r {
		for j := range c {
			k := i*c + j
			if i > 0 {
				nb[k] = append(nb[k], k-c)
			}
			if i < r-1 {
				nb[k] = append(nb[k], k+c)
			}
			if j > 0 {
				nb[k] = append(nb[k], k-1)
			}
			if j < c-1 {
				nb[k] = append(nb[k], k+1)
			}
		}
	}
	return nb
}

// textbookGiStar is Getis & Ord's (1992/1995) Gi* with a dense weight matrix
// W (w_ii = 1), written out term by term, independently of GiStar:
//
//	Gi* = [Σ_j w_ij x_j − X̄ Σ_j w_ij] / ( S √{ [n Σ_j w_ij² − (Σ_j w_ij)²] / (n−1) } )
//	X̄ = Σ_j x_j / n,  S = √( Σ_j x_j² / n − X̄² )
func textbookGiStar(x []float64, w [][]float64) []float64 {
	n := float64(len(x))
	var sx, sxx float64
	for _, v := range x {
		sx += v
		sxx += v * v
	}
	xbar := sx / n
	s := math.Sqrt(sxx/n - xbar*xbar)
	out := make([]float64, len(x))
	for i := range x {
		var wx, sw, sw2 float64
		for j := range x {
			wx += w[i][j] * x[j]
			sw += w[i][j]
			sw2 += w[i][j] * w[i][j]
		}
		out[i] = (wx - xbar*sw) / (s * math.Sqrt((n*sw2-sw*sw)/(n-1)))
	}
	return out
}

func dense(nb [][]int) [][]float64 {
	w := make([][]float64, len(nb))
	for i := range nb {
		w[i] = make([]float64, len(nb))
		w[i][i] = 1
		for _, j := range nb[i] {
			w[i][j] = 1
		}
	}
	return w
}

func TestGiStarLatticeAgainstTextbook(t *testing.T) {
	nb := lattice(5, 5)
	// A hand case: 1 everywhere, 26 in the centre. X̄ = 2, S = √24. For the centre
	// (W = 5, local sum 30): (30 − 10) / (√24 · √((125 − 25)/24)) = 20/10 = 2; its
	// rook neighbours have the same local sum and W, so 2 as well. Corner (0,0):
	// W = 3, sum 3 → (3 − 6) / (√24 · √((75 − 9)/24)) = −3/√66.
	x := make([]float64, 25)
	for i := range x {
		x[i] = 1
	}
	x[12] = 26
	z := GiStar(x, nb)
	for _, c := range []int{12, 7, 11, 13, 17} {
		if !near(z[c], 2) {
			t.Errorf("cell %d: Gi* = %v, want 2", c, z[c])
		}
	}
	if !near(z[0], -3/math.Sqrt(66)) {
		t.Errorf("corner Gi* = %v, want −3/√66 = %v", z[0], -3/math.Sqrt(66))
	}
	// Arbitrary values against the dense textbook formula.
	for i := range x {
		x[i] = float64((i*37)%11) + 0.5*float64(i%3)
	}
	z = GiStar(x, nb)
	want := textbookGiStar(x, dense(nb))
	for i := range z {
		if math.Abs(z[i]-want[i]) > 1e-12 {
			t.Errorf("cell %d: Gi* = %v, textbook %v", i, z[i], want[i])
		}
	}
}

func TestHotSpotsPermutation(t *testing.T) {
	const side = 10
	nb := lattice(side, side)
	x := make([]float64, side*side)
	for i := range x {
		x[i] = float64((i * 7919) % 5) // background noise 0–4
	}
	for r := range 4 {
		for c := range 4 {
			x[r*side+c] = 40 // a hot block in the top-left corner
		}
	}
	opt := HotSpotOptions{Permutations: 999, Seed: 42, Workers: 1}
	a := HotSpots(x, nb, opt)
	opt.Workers = 4
	b := HotSpots(x, nb, opt)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("cell %d: results depend on the number of workers: %+v vs %+v", i, a[i], b[i])
		}
		if !(a[i].P > 0 && a[i].P <= 1 && a[i].Q >= a[i].P && a[i].Q <= 1) {
			t.Fatalf("cell %d: p %v q %v", i, a[i].P, a[i].Q)
		}
	}
	// Interior cells of the block (four neighbours, all high) are hot. The corner
	// cell has only two neighbours: drawing two of the fifteen other 40s by chance
	// has probability 15/99·14/98 ≈ 0.022, so it cannot pass FDR on its own.
	if !(a[0].P < a[99].P) || a[0].Z <= 0 {
		t.Errorf("corner of the block: %+v vs far corner %+v", a[0], a[99])
	}
	for _, c := range []int{11, 12, 21, 22} {
		if a[c].Label != LabelHot {
			t.Errorf("cell %d inside the block: %+v, want hot", c, a[c])
		}
	}
	for _, c := range []int{99, 88, 77, 59} {
		if a[c].Label == LabelHot {
			t.Errorf("cell %d far from the block labelled hot: %+v", c, a[c])
		}
	}
	opt.Seed = 43
	c := HotSpots(x, nb, opt)
	differ := false
	for i := range c {
		if c[i].P != a[i].P {
			differ = true
		}
	}
	if !differ {
		t.Error("a different seed gave identical p-values everywhere")
	}
	// Constant need: nothing is significant.
	for i := range x {
		x[i] = 3
	}
	for i, h := range HotSpots(x, nb, opt) {
		if h.Label != LabelNotSignificant || h.Z != 0 {
			t.Fatalf("constant x, cell %d: %+v", i, h)
		}
	}
}

// TestFDRHandComputed: p = .01, .04, .03, .005 → sorted .005, .01, .03, .04;
// p·N/rank = .02, .02, .04, .04; running minimum from the top keeps them.
func TestFDRHandComputed(t *testing.T) {
	got := FDR([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.02, 0.04, 0.04, 0.02}
	for i := range want {
		if !near(got[i], want[i]) {
			t.Errorf("q[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	// Monotonicity enforced: p = .01, .011 (N=2) → .02·… = .02, .011 → q = .011, .011.
	got = FDR([]float64{0.01, 0.011})
	if !near(got[0], 0.011) || !near(got[1], 0.011) {
		t.Errorf("%v", got)
	}
}

func TestApplyHotSpotsByCode(t *testing.T) {
	s := []NeedScore{{Code: "a", Density: 10}, {Code: "b", Density: 1}, {Code: "c", Density: NA}}
	ApplyHotSpots(s, map[string][]string{"a": {"b", "zz", "a"}, "b": {"a"}}, HotSpotOptions{Seed: 1, Permutations: 9})
	for _, x := range s {
		if x.HotSpot.Label == "" || !x.HotSpot.Z.Valid() {
			t.Fatalf("%+v", x)
		}
	}
}

// TestHotSpotPValuesExact checks the pseudo p-values against exact conditional
// permutation probabilities: through the shared draws (small neighbourhoods) and
// through the per-area draws (a neighbourhood larger than sharedDrawMax).
func TestHotSpotPValuesExact(t *testing.T) {
	const perms = 19999
	// Six areas, x = 0 1 2 3 4 10. Area 0's one neighbour is area 5 (10): a random
	// neighbour from the other five reaches a local sum ≥ 10 only by drawing area 5
	// again, so p = 1/5. Area 1 (x 1) with neighbours 4 and 5 (sum 15): two of the
	// others {0, 2, 3, 4, 10} reach ≥ 14 only as {4, 10}: p = 1/10.
	x := []float64{0, 1, 2, 3, 4, 10}
	nbrs := [][]int{{5}, {4, 5}, nil, nil, {1}, {0, 1}}
	hs := HotSpots(x, nbrs, HotSpotOptions{Permutations: perms, Seed: 7})
	for _, c := range []struct {
		i    int
		want float64
	}{{0, 0.2}, {1, 0.1}} {
		if p := float64(hs[c.i].P); math.Abs(p-c.want) > 0.01 {
			t.Errorf("area %d: p %.4f, want %.2f", c.i, p, c.want)
		}
	}
	// 68 areas, x_j = j; area 0 has the 65 neighbours 1..65 (sum 2145). A draw of
	// 65 of the 67 others leaves out two; the local sum is ≤ 2145 only when they
	// are 66 and 67: probability 1/C(67,2) = 1/2211, so p ≈ (perms/2211 + 1)/(perms + 1).
	n := 68
	x = make([]float64, n)
	nbrs = make([][]int, n)
	for j := range n {
		x[j] = float64(j)
	}
	for j := 1; j <= 65; j++ {
		nbrs[0] = append(nbrs[0], j)
		nbrs[j] = append(nbrs[j], 0)
	}
	hs = HotSpots(x, nbrs, HotSpotOptions{Permutations: perms, Seed: 7})
	want := (float64(perms)/2211 + 1) / float64(perms+1)
	if p := float64(hs[0].P); p < want/3 || p > want*3 {
		t.Errorf("area 0 with 65 neighbours: p %.5f, want about %.5f", p, want)
	}
}
