package matching

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchVillages makes n villages in n/40 kecamatan with households drawn at the
// benchmark's rates (scripts/bench_scores.sh).
func benchVillages(n int) []VillageIndicators {
	r := rand.New(rand.NewPCG(7, 8))
	vs := make([]VillageIndicators, n)
	for i := range vs {
		v := &vs[i]
		v.Code = fmt.Sprintf("99.%02d.%02d.%04d", i/100000, (i/40)%100, i%10000)
		v.KecamatanCode = fmt.Sprintf("99.%02d.%02d", i/100000, (i/40)%100)
		v.AreaKm2 = 1 + r.Float64()*10
		hh := 50 + r.IntN(150)
		for range hh {
			s, e, u := r.Float64() < 0.05, r.Float64() < 0.06, r.Float64() < 0.12
			p := 0
			if s {
				p |= 1
			}
			if e {
				p |= 2
			}
			if u {
				p |= 4
			}
			v.Patterns[p]++
		}
		v.ChildrenU5 = int64(hh / 4)
		v.StuntedChildren = v.Patterns[1] + v.Patterns[3] + v.Patterns[5] + v.Patterns[7]
		v.UnemployedAdults = v.Patterns[4] + v.Patterns[5] + v.Patterns[6] + v.Patterns[7]
	}
	return vs
}

// BenchmarkScoreVillages80k times the index (ScoreVillages) and the company view
// (ControlScores) over 80,000 villages, the recompute benchmark's size.
func BenchmarkScoreVillages80k(b *testing.B) {
	vs := benchVillages(80000)
	w := DefaultWeights()
	b.Run("index", func(b *testing.B) {
		for b.Loop() {
			ScoreVillages(vs, w)
		}
	})
	sc := ScoreVillages(vs, w)
	b.Run("controlled", func(b *testing.B) {
		for b.Loop() {
			ControlScores(sc, w)
		}
	})
}
