package matching

import (
	"fmt"
	"math"
	"slices"
)

// Need scores a matcher run can weight cells by (MODEL.md, "Need of a cell").
const (
	// NeedWeightSector weights a cell by its village's sector need score / 100
	// (the smoothed need share of that sector, 0–1). The default.
	NeedWeightSector = "sector"
	// NeedWeightM0 weights every cell of a village by the village's smoothed M0.
	NeedWeightM0 = "m0"
	// NeedWeightHouseholds counts households (w = 1).
	NeedWeightHouseholds = "households"
)

// NeedWeights lists the accepted need weights, the default first.
var NeedWeights = []string{NeedWeightSector, NeedWeightM0, NeedWeightHouseholds}

// ValidNeedWeight reports whether name is a known need weight ("" = default).
func ValidNeedWeight(name string) bool { return name == "" || slices.Contains(NeedWeights, name) }

// SectorNeed is one cell's need derived from a village's score.
type SectorNeed struct {
	Sector     string
	Households float64 // h_c: in-need households of the sector (whole households)
	Weight     float64 // w_c: value of one of them under the chosen need weight
}

// SectorNeeds turns one village's stored score (computed with weights w) into the
// matcher's cells, as MODEL.md defines them:
//
//	h_(v,s) = round( Σ_j ω_sj · q_vj / Σ_j ω_sj )
//
// over the components j of sector s in w.Sectors with weight ω_sj > 0 and a value:
// a household indicator contributes q_vj = its censored count (in-need households
// deprived in j, so the poverty cut-off k and the indicator weights act), a village
// indicator q_vj = its need share × the village's households. Components without a
// value are left out with their weight, exactly as the sector score does, so a
// sector without any value has no cell. The weight w_c is the chosen need score
// (NeedWeights). Cells with h = 0 or w = 0 are dropped. The result is in sector
// order of sectors.
func SectorNeeds(sc NeedScore, w Weights, sectors []string, weightBy string) ([]SectorNeed, error) {
	if !ValidNeedWeight(weightBy) {
		return nil, fmt.Errorf("bobot kebutuhan %q tidak dikenal, pakai %v (unknown need weight)", weightBy, NeedWeights)
	}
	if weightBy == "" {
		weightBy = NeedWeightSector
	}
	var out []SectorNeed
	for _, sector := range sectors {
		comps := w.Sectors[sector]
		// Sum in a fixed order so the same score gives the same cells bit for bit.
		names := make([]string, 0, len(comps))
		for c := range comps {
			names = append(names, c)
		}
		slices.Sort(names)
		num, den := 0.0, 0.0
		for _, c := range names {
			wt := comps[c]
			if wt <= 0 {
				continue
			}
			if isHouseholdIndicator(c) {
				q, ok := sc.Censored[c]
				if !ok || q < 0 {
					continue
				}
				num += wt * float64(q)
				den += wt
				continue
			}
			v, ok := sc.Village[c]
			if !ok || sc.Households < 0 {
				continue
			}
			num += wt * w.VillageIndicators[c].Need(v) * float64(sc.Households)
			den += wt
		}
		if den == 0 {
			continue
		}
		h := math.Round(num / den)
		if h <= 0 {
			continue
		}
		var wc float64
		switch weightBy {
		case NeedWeightSector:
			if v, ok := sc.Sectors[sector]; ok && v.Valid() {
				wc = float64(v) / 100
			}
		case NeedWeightM0:
			if sc.M0EB.Valid() {
				wc = float64(sc.M0EB)
			}
		case NeedWeightHouseholds:
			wc = 1
		}
		if !(wc > 0) || math.IsInf(wc, 0) {
			continue
		}
		out = append(out, SectorNeed{Sector: sector, Households: h, Weight: wc})
	}
	return out, nil
}
