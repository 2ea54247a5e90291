package matching

import (
	"encoding/json"
	"testing"
)

// TestExplainVectorRoundTrip: a score rebuilt from its table columns and its
// explain vector is the score that was stored, JSON byte for byte — with
// village indicators (sector scores present or absent), population
// denominators, empty villages and unavailable values.
func TestExplainVectorRoundTrip(t *testing.T) {
	w := DefaultWeights()
	vs := benchVillages(3000)
	for i := range vs {
		switch i % 5 {
		case 0:
			vs[i].Village = map[string]float64{}
			for k := range w.VillageIndicators {
				vs[i].Village[k] = float64(i%100) / 100
			}
		case 1:
			vs[i].PopulationHouseholds = vs[i].Registered() * 2
			vs[i].Population = vs[i].PopulationHouseholds * 4
		case 2:
			vs[i].Patterns = [NumPatterns]int64{}
			vs[i].ChildrenU5, vs[i].StuntedChildren, vs[i].UnemployedAdults = 0, 0, 0
			vs[i].AreaKm2 = 0
		}
	}
	scores := ScoreVillages(vs, w)
	ApplyHotSpots(scores, map[string][]string{vs[0].Code: {vs[1].Code}, vs[1].Code: {vs[0].Code}}, HotSpotOptions{Permutations: 99, Seed: 1})
	sectors := SectorList(w)
	if len(sectors) == 0 {
		t.Fatal("no sectors in the default weights")
	}
	sawAbsentSector, sawVillage := false, false
	for i := range scores {
		s := &scores[i]
		// What village_score keeps in columns.
		r := NeedScore{Code: s.Code, KecamatanCode: s.KecamatanCode, Village: s.Village, Households: s.Households,
			InNeed: s.InNeed, H: s.H, A: s.A, M0: s.M0, HEB: s.HEB, M0EB: s.M0EB, Density: s.Density,
			HotSpot: s.HotSpot, Rank: s.Rank, RankKecamatan: s.RankKecamatan}
		if err := r.SetExplainVector(s.ExplainVector(sectors), sectors); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(s)
		got, _ := json.Marshal(&r)
		if string(got) != string(want) {
			t.Fatalf("village %s:\n got %s\nwant %s", s.Code, got, want)
		}
		sawAbsentSector = sawAbsentSector || len(s.Sectors) < len(sectors)
		sawVillage = sawVillage || len(s.Village) > 0
	}
	if !sawAbsentSector || !sawVillage {
		t.Fatalf("the data did not cover absent sectors (%v) and village indicators (%v)", sawAbsentSector, sawVillage)
	}
	var r NeedScore
	if err := r.SetExplainVector(make([]float64, 3), sectors); err == nil {
		t.Fatal("a short vector was accepted")
	}
}

// TestControlledRanksMatchControlScores: the lean company ranking equals the
// ranks and smoothed M0 of the full company view, on villages with small counts
// (suppressed and rounded), empty villages and population denominators.
func TestControlledRanksMatchControlScores(t *testing.T) {
	w := DefaultWeights()
	vs := benchVillages(4000)
	for i := range vs {
		switch i % 4 {
		case 0: // a handful of households: counts 1–4 are suppressed
			vs[i].Patterns = [NumPatterns]int64{int64(i % 7), int64(i % 3), int64(i % 5), 1, 0, int64(i % 2), 2, int64(i % 4)}
		case 1:
			vs[i].Patterns = [NumPatterns]int64{}
		case 2:
			vs[i].PopulationHouseholds = vs[i].Registered() + 3
		}
	}
	exact := ScoreVillages(vs, w)
	full := ControlScores(exact, w)
	lean := ControlledRanks(exact, w)
	suppressed := 0
	for i := range full {
		f, l := full[i], lean[i]
		if f.Rank != l.Rank || f.RankKecamatan != l.RankKecamatan || !(f.M0EB == l.M0EB || !f.M0EB.Valid() && !l.M0EB.Valid()) {
			t.Fatalf("village %s: full view rank %d/%d m0_eb %v, lean %d/%d %v", f.Code, f.Rank, f.RankKecamatan, f.M0EB,
				l.Rank, l.RankKecamatan, l.M0EB)
		}
		if f.InNeed == Suppressed {
			suppressed++
		}
	}
	if suppressed == 0 {
		t.Fatal("no suppressed count in the data: the test would not cover disclosure control")
	}
}
