package matching

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Household deprivation indicators, in the fixed order of the bits of a
// deprivation pattern (bit j set = deprived in HouseholdIndicators[j]).
const (
	IndStunting       = "stunting"        // the household has a stunted child under five
	IndExtremePoverty = "extreme_poverty" // P3KE desil 1
	IndUnemployment   = "unemployment"    // the household has an unemployed adult
)

// NumHouseholdIndicators is the number of household deprivation indicators.
const NumHouseholdIndicators = 3

// NumPatterns is the number of distinct deprivation patterns (2^indicators).
const NumPatterns = 1 << NumHouseholdIndicators

// HouseholdIndicators lists the household indicators in pattern-bit order.
var HouseholdIndicators = [NumHouseholdIndicators]string{IndStunting, IndExtremePoverty, IndUnemployment}

// Sector keys are the company sectors of geo.Sectors (Bahasa Indonesia).
const (
	SectorHealth         = "kesehatan"
	SectorEconomy        = "ekonomi"
	SectorEducation      = "pendidikan"
	SectorInfrastructure = "infrastruktur"
	SectorEnvironment    = "lingkungan"
)

// sectorAliases maps English sector names (used in URLs such as sort=sector:health)
// to the sector keys.
var sectorAliases = map[string]string{
	"health": SectorHealth, "economy": SectorEconomy, "education": SectorEducation,
	"infrastructure": SectorInfrastructure, "environment": SectorEnvironment,
}

// CanonicalSector returns the sector key for an Indonesian or English sector name.
func CanonicalSector(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := sectorAliases[s]; ok {
		return c
	}
	return s
}

// VillageIndicatorSpec says how a village indicator (CSV-loaded, e.g. clean water
// access in percent) turns into a need share in [0, 1].
type VillageIndicatorSpec struct {
	// HigherIsBetter: need = 1 − value/Scale (e.g. school participation);
	// otherwise need = value/Scale (e.g. share of houses without sanitation).
	HigherIsBetter bool `json:"higher_is_better"`
	// Scale is the value meaning 100 % (100 for percentages, 1 for shares).
	Scale float64 `json:"scale"`
}

// Need converts a raw value into a need share clamped to [0, 1].
func (s VillageIndicatorSpec) Need(v float64) float64 {
	scale := s.Scale
	if scale <= 0 {
		scale = 100
	}
	x := v / scale
	if s.HigherIsBetter {
		x = 1 - x
	}
	return math.Min(1, math.Max(0, x))
}

// Weights is one version of the scoring configuration: the Alkire–Foster
// indicator weights and poverty cut-off k, and how indicators map to sectors.
type Weights struct {
	// Version is the weights_version row id (0 = not stored yet).
	Version int64 `json:"version"`
	// K is the poverty cut-off: a household is in need when its weighted
	// deprivation score is ≥ K.
	K float64 `json:"k"`
	// Indicators are the household indicator weights; Normalize makes them sum to 1.
	Indicators map[string]float64 `json:"indicators"`
	// Sectors maps a sector to its components (household or village indicators)
	// and their weights.
	Sectors map[string]map[string]float64 `json:"sectors"`
	// VillageIndicators describes the village indicators sectors may use.
	VillageIndicators map[string]VillageIndicatorSpec `json:"village_indicators"`
}

// DefaultWeights returns the documented defaults: equal thirds for stunting,
// extreme poverty and unemployment, k = 1/3 (one full deprivation suffices),
// health ← stunting, economy ← extreme poverty and unemployment (half each),
// education ← school participation, infrastructure ← road access, environment ←
// clean water access (village indicators in percent, higher is better).
func DefaultWeights() Weights {
	return Weights{
		K:          1.0 / 3,
		Indicators: map[string]float64{IndStunting: 1.0 / 3, IndExtremePoverty: 1.0 / 3, IndUnemployment: 1.0 / 3},
		Sectors: map[string]map[string]float64{
			SectorHealth:         {IndStunting: 1},
			SectorEconomy:        {IndExtremePoverty: 0.5, IndUnemployment: 0.5},
			SectorEducation:      {"school_participation": 1},
			SectorInfrastructure: {"road_access": 1},
			SectorEnvironment:    {"clean_water": 1},
		},
		VillageIndicators: map[string]VillageIndicatorSpec{
			"school_participation": {HigherIsBetter: true, Scale: 100},
			"road_access":          {HigherIsBetter: true, Scale: 100},
			"clean_water":          {HigherIsBetter: true, Scale: 100},
		},
	}
}

// ParseWeights reads the weights JSON of a weights_version row. The legacy flat
// form {"stunting": w, ...} (indicator weights only) is accepted; missing parts
// take their defaults. k is the row's cut-off (0 keeps the JSON's or the default).
func ParseWeights(raw []byte, k float64) (Weights, error) {
	w := DefaultWeights()
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return w, fmt.Errorf("weights: not a JSON object: %w", err)
	}
	if _, structured := probe["indicators"]; structured {
		var in Weights
		if err := json.Unmarshal(raw, &in); err != nil {
			return w, fmt.Errorf("weights: %w", err)
		}
		if in.Indicators != nil {
			w.Indicators = in.Indicators
		}
		if in.Sectors != nil {
			w.Sectors = in.Sectors
		}
		for name, spec := range in.VillageIndicators {
			w.VillageIndicators[name] = spec
		}
		if in.K > 0 {
			w.K = in.K
		}
	} else {
		flat := map[string]float64{}
		if err := json.Unmarshal(raw, &flat); err != nil {
			return w, fmt.Errorf("weights: want {\"indicators\": {...}} or {\"stunting\": w, ...}: %w", err)
		}
		w.Indicators = flat
	}
	if k > 0 {
		w.K = k
	}
	return w, w.Normalize()
}

// Normalize validates w and scales the indicator weights to sum to 1. Errors say
// which field is wrong, in Bahasa Indonesia and English.
func (w *Weights) Normalize() error {
	if !(w.K > 0 && w.K <= 1) {
		return fmt.Errorf("k harus di antara 0 dan 1 (k must be in (0, 1]), got %v", w.K)
	}
	sum := 0.0
	for name, v := range w.Indicators {
		if !isHouseholdIndicator(name) {
			return fmt.Errorf("indikator tidak dikenal %q (unknown household indicator; known: %s)", name,
				strings.Join(HouseholdIndicators[:], ", "))
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("bobot %s harus ≥ 0 (weight of %s must be ≥ 0), got %v", name, name, v)
		}
		sum += v
	}
	if sum <= 0 {
		return fmt.Errorf("jumlah bobot indikator harus > 0 (indicator weights must not all be zero)")
	}
	norm := make(map[string]float64, len(w.Indicators))
	for name, v := range w.Indicators {
		norm[name] = v / sum
	}
	w.Indicators = norm
	sectors := make(map[string]map[string]float64, len(w.Sectors))
	for sector, comps := range w.Sectors {
		key := CanonicalSector(sector)
		for c, v := range comps {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("bobot sektor %s/%s harus ≥ 0 (sector weight must be ≥ 0), got %v", key, c, v)
			}
			if !isHouseholdIndicator(c) {
				if _, ok := w.VillageIndicators[c]; !ok {
					return fmt.Errorf("sektor %s memakai indikator tak dikenal %q (sector %s uses unknown indicator %q; declare it in village_indicators)",
						key, c, key, c)
				}
			}
		}
		sectors[key] = comps
	}
	w.Sectors = sectors
	return nil
}

// vector returns the indicator weights in pattern-bit order.
func (w Weights) vector() [NumHouseholdIndicators]float64 {
	var v [NumHouseholdIndicators]float64
	for j, name := range HouseholdIndicators {
		v[j] = w.Indicators[name]
	}
	return v
}

// SectorNames returns the configured sectors, sorted.
func (w Weights) SectorNames() []string {
	out := make([]string, 0, len(w.Sectors))
	for s := range w.Sectors {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func isHouseholdIndicator(name string) bool {
	return indicatorIndex(name) >= 0
}

func indicatorIndex(name string) int {
	for j, n := range HouseholdIndicators {
		if n == name {
			return j
		}
	}
	return -1
}
