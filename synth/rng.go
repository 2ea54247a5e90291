package synth

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Stream tags keep the random streams of the generator's parts independent,
// so that changing how one part draws numbers does not shift the others.
const (
	tagOutline uint64 = iota + 1
	tagEstates
	tagKecamatan
	tagVillages
	tagNames
	tagPopulation
	tagSettlements
	tagRates
	tagHouseholds
	tagDirty
	tagIdentity
	tagCompanies
	tagPlans
)

// mix64 is the SplitMix64 finaliser: a bijective scrambler of 64-bit values.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashString is FNV-1a over s, scrambled.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// newRand returns a PCG-backed generator for the stream (seed, tag, sub).
func newRand(seed, tag, sub uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix64(seed^mix64(tag)), mix64(sub+mix64(tag<<32^seed))))
}

// unitFloat maps a 64-bit hash to [0, 1).
func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// gamma draws from Gamma(shape, 1) (Marsaglia–Tsang).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		return gamma(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// beta draws from Beta(a, b).
func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a)
	y := gamma(r, b)
	return x / (x + y)
}

// pick returns a uniformly chosen element of list.
func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }

// largestRemainder splits total into len(weights) non-negative integers
// proportional to weights (which must not all be zero), assigning the
// leftover units to the largest fractional parts (ties: lower index first).
func largestRemainder(total int, weights []float64) []int {
	out := make([]int, len(weights))
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if total <= 0 || sum <= 0 {
		return out
	}
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		q := float64(total) * w / sum
		out[i] = int(math.Floor(q))
		given += out[i]
		rems[i] = rem{i, q - math.Floor(q)}
	}
	slices.SortFunc(rems, func(a, b rem) int {
		if c := cmp.Compare(b.f, a.f); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	for k := 0; given < total; k = (k + 1) % len(rems) {
		out[rems[k].i]++
		given++
	}
	return out
}
