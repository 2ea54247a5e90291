package matching

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Hot-spot labels.
const (
	LabelHot            = "hot"
	LabelCold           = "cold"
	LabelNotSignificant = "not_significant"
)

// HotSpot is one village's Getis-Ord Gi* result.
type HotSpot struct {
	// Z is the Gi* statistic (a z-score under the normal approximation).
	Z Value `json:"z"`
	// P is the permutation pseudo p-value, Q the Benjamini–Hochberg adjusted one.
	P Value `json:"p"`
	Q Value `json:"q"`
	// Label is hot, cold or not_significant (at Q ≤ alpha).
	Label string `json:"label"`
}

// HotSpotOptions configure HotSpots.
type HotSpotOptions struct {
	// Permutations for the pseudo p-values (default 999).
	Permutations int
	// Seed makes the permutations reproducible (the same seed gives the same p).
	Seed uint64
	// Alpha is the false discovery rate (default 0.05).
	Alpha float64
	// Workers bounds parallelism (default GOMAXPROCS). Results do not depend on it.
	Workers int
}

// GiStar returns the Getis-Ord Gi* statistic of x for every area, with binary
// weights that include the area itself (w_ii = 1, w_ij = 1 for neighbours):
//
//	Gi* = (Σ_j w_ij x_j − x̄ W_i) / (S · sqrt((n S1_i − W_i²) / (n − 1)))
//
// with W_i = Σ_j w_ij, S1_i = Σ_j w_ij², x̄ the mean and S the population
// standard deviation of x. nbrs[i] lists i's neighbours (without i). An area
// whose neighbourhood is the whole map, or a constant x, gets 0.
func GiStar(x []float64, nbrs [][]int) []float64 {
	n := len(x)
	out := make([]float64, n)
	mean, sd := meanSD(x)
	for i := range x {
		sum := x[i]
		for _, j := range nbrs[i] {
			sum += x[j]
		}
		out[i] = giZ(sum, float64(len(nbrs[i])+1), mean, sd, n)
	}
	return out
}

func meanSD(x []float64) (float64, float64) {
	n := float64(len(x))
	var s, ss float64
	for _, v := range x {
		s += v
		ss += v * v
	}
	mean := s / n
	return mean, math.Sqrt(math.Max(0, ss/n-mean*mean))
}

// giZ is Gi* for a local sum over w binary weights (S1 = W).
func giZ(sum, w, mean, sd float64, n int) float64 {
	den := sd * math.Sqrt((float64(n)*w-w*w)/float64(n-1))
	if den <= 0 || math.IsNaN(den) {
		return 0
	}
	return (sum - mean*w) / den
}

// sharedDrawMax bounds the neighbourhood size served by the shared draws;
// larger neighbourhoods (rare: villages touch a handful of others) are drawn per
// area.
const sharedDrawMax = 64

// HotSpots computes Gi* with conditional-permutation pseudo p-values and
// Benjamini–Hochberg FDR control. For area i the permutations keep x_i in place
// and draw its |N(i)| neighbours' values at random, without replacement, from the
// other n−1 areas; p = (M+1)/(R+1) where M counts permutations at least as extreme
// as observed in the observed direction (the folded pseudo p-value of GeoDa and
// PySAL).
//
// The random draws are made once per call and shared by all areas, as PySAL's
// esda does ("crand"): permutation r draws an ordered set of K distinct indices
// from 0..n−2, and area i maps index j to j+1 when j ≥ i (so i itself is never
// drawn) and uses the first |N(i)| of them — a uniform draw without replacement
// from the other areas for every i. This costs one addition per drawn neighbour
// instead of one random number and a duplicate check, which makes 999
// permutations over 80,000 villages take well under a second instead of half a
// minute. Areas with more than sharedDrawMax neighbours draw their own. Results
// depend only on x, the neighbours, Seed and Permutations, not on Workers.
func HotSpots(x []float64, nbrs [][]int, opt HotSpotOptions) []HotSpot {
	n := len(x)
	if opt.Permutations <= 0 {
		opt.Permutations = 999
	}
	if opt.Alpha <= 0 {
		opt.Alpha = 0.05
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	z := GiStar(x, nbrs)
	p := make([]float64, n)
	if n < 3 {
		for i := range p {
			p[i] = 1
		}
	} else {
		draws, width := sharedDraws(nbrs, n, opt.Permutations, opt.Seed)
		var wg sync.WaitGroup
		const chunk = 256
		next := make(chan int, 16)
		for range opt.Workers {
			wg.Go(func() {
				var scratch []int
				for lo := range next {
					for i := lo; i < min(lo+chunk, n); i++ {
						if k := len(nbrs[i]); k > 0 && k < n-1 && k <= width {
							p[i] = sharedP(x, nbrs[i], i, draws, width, opt.Permutations)
						} else {
							p[i], scratch = permutationP(x, nbrs, i, opt.Permutations, opt.Seed, scratch)
						}
					}
				}
			})
		}
		for lo := 0; lo < n; lo += chunk {
			next <- lo
		}
		close(next)
		wg.Wait()
	}
	q := FDR(p)
	out := make([]HotSpot, n)
	for i := range out {
		h := HotSpot{Z: Value(z[i]), P: Value(p[i]), Q: Value(q[i]), Label: LabelNotSignificant}
		if q[i] <= opt.Alpha {
			switch {
			case z[i] > 0:
				h.Label = LabelHot
			case z[i] < 0:
				h.Label = LabelCold
			}
		}
		out[i] = h
	}
	return out
}

// sharedDraws returns perms rows of width distinct indices in 0..n−2 (row r at
// draws[r*width:]), width being the largest neighbourhood to permute (at most
// sharedDrawMax). A partial Fisher–Yates shuffle over a pool that persists across
// rows gives each row a uniform ordered sample whatever the pool's order.
func sharedDraws(nbrs [][]int, n, perms int, seed uint64) ([]int32, int) {
	width := 0
	for _, nb := range nbrs {
		if k := len(nb); k < n-1 && k <= sharedDrawMax {
			width = max(width, k)
		}
	}
	if width == 0 {
		return nil, 0
	}
	pool := make([]int32, n-1)
	for j := range pool {
		pool[j] = int32(j)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed_d4a5))
	draws := make([]int32, perms*width)
	for row := range perms {
		for c := range width {
			j := c + r.IntN(len(pool)-c)
			pool[c], pool[j] = pool[j], pool[c]
		}
		copy(draws[row*width:], pool[:width])
	}
	return draws, width
}

// sharedP is the pseudo p-value of area i (neighbours nb) from the shared draws.
// Comparing local sums is the same as comparing Gi* values: for fixed i, Gi* is
// increasing in the local sum.
func sharedP(x []float64, nb []int, i int, draws []int32, width, perms int) float64 {
	obs := x[i]
	for _, j := range nb {
		obs += x[j]
	}
	k := len(nb)
	hi, lo := obs-1e-12*math.Abs(obs), obs+1e-12*math.Abs(obs)
	var ge, le int
	for row := range perms {
		sum := x[i]
		for _, j := range draws[row*width : row*width+k] {
			// j+1 when j ≥ i (skips i itself), without a branch: the draws are
			// random, so a branch would be mispredicted half the time.
			jj := int(j)
			sum += x[jj+1+(jj-i)>>63]
		}
		if sum >= hi {
			ge++
		}
		if sum <= lo {
			le++
		}
	}
	return float64(min(ge, le)+1) / float64(perms+1)
}

// permutationP is the pseudo p-value of area i drawn from its own random stream
// (seeded by Seed and i); HotSpots uses it for neighbourhoods too large for the
// shared draws.
func permutationP(x []float64, nbrs [][]int, i, perms int, seed uint64, scratch []int) (float64, []int) {
	n := len(x)
	k := len(nbrs[i])
	if k == 0 || k >= n-1 {
		return 1, scratch // nothing to permute: the neighbourhood is fixed
	}
	obs := x[i]
	for _, j := range nbrs[i] {
		obs += x[j]
	}
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	var ge, le int
	for range perms {
		sum := x[i]
		if 4*k <= n {
			// Rejection sampling of k distinct indices ≠ i: cheap while k ≪ n.
			scratch = scratch[:0]
			for len(scratch) < k {
				j := r.IntN(n - 1)
				if j >= i {
					j++ // skip i itself
				}
				if !slices.Contains(scratch, j) {
					scratch = append(scratch, j)
					sum += x[j]
				}
			}
		} else {
			// Partial Fisher–Yates over a fresh index list.
			scratch = scratch[:0]
			for j := range n {
				if j != i {
					scratch = append(scratch, j)
				}
			}
			for c := range k {
				j := c + r.IntN(len(scratch)-c)
				scratch[c], scratch[j] = scratch[j], scratch[c]
				sum += x[scratch[c]]
			}
		}
		if sum >= obs-1e-12*math.Abs(obs) {
			ge++
		}
		if sum <= obs+1e-12*math.Abs(obs) {
			le++
		}
	}
	m := min(ge, le)
	return float64(m+1) / float64(perms+1), scratch
}

// FDR returns Benjamini–Hochberg adjusted p-values (q-values): sort p ascending,
// q_(r) = min over s ≥ r of p_(s)·N/s, capped at 1. An area is significant at
// false discovery rate α when its q ≤ α.
func FDR(p []float64) []float64 {
	n := len(p)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	q := make([]float64, n)
	running := 1.0
	for r := n - 1; r >= 0; r-- {
		v := p[idx[r]] * float64(n) / float64(r+1)
		running = math.Min(running, v)
		q[idx[r]] = math.Min(1, running)
	}
	return q
}

// ApplyHotSpots computes hot spots of need density over the adjacency given as
// neighbour code lists and stores them in the scores. Villages without a density
// count as 0.
func ApplyHotSpots(scores []NeedScore, adjacency map[string][]string, opt HotSpotOptions) {
	at := make(map[string]int, len(scores))
	for i, s := range scores {
		at[s.Code] = i
	}
	x := make([]float64, len(scores))
	nbrs := make([][]int, len(scores))
	for i, s := range scores {
		if s.Density.Valid() {
			x[i] = float64(s.Density)
		}
		seen := map[int]bool{}
		for _, c := range adjacency[s.Code] {
			if j, ok := at[c]; ok && j != i && !seen[j] {
				seen[j] = true
				nbrs[i] = append(nbrs[i], j)
			}
		}
		sort.Ints(nbrs[i])
	}
	hs := HotSpots(x, nbrs, opt)
	for i := range scores {
		scores[i].HotSpot = hs[i]
	}
}
