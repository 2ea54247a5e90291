package matching

import (
	"fmt"
	"math"
	"slices"
)

// The explain vector stores the parts of a NeedScore that the village_score
// table has no column for — the counts, rates and contributions behind each
// rank — as numbers in a fixed order: a float8[] of ~30 numbers per village in
// place of ~1 KB of JSON, which at 80,000 villages was most of a recompute's
// write. Unavailable values are NaN. Sector scores follow in the order of the
// run's sector list (SectorList); a sector without a score is NaN and decodes
// as absent.
const (
	xArea = iota
	xRegistered
	xDenominatorPopulation // 1 when the population table gave the denominator
	xApproximate
	xChildrenU5
	xStuntedChildren
	xUnemployedAdults
	xPopulation
	xDeprived                                           // NumHouseholdIndicators counts
	xCensored      = xDeprived + NumHouseholdIndicators // NumHouseholdIndicators counts
	xRates         = xCensored + NumHouseholdIndicators // indicators, then stunted_children
	xRatesEB       = xRates + NumHouseholdIndicators + 1
	xContributions = xRatesEB + NumHouseholdIndicators + 1
	xSectors       = xContributions + NumHouseholdIndicators
)

// ExplainCensored and ExplainSectors are 0-based positions in an explain
// vector, for readers outside Go (SQL arrays count from 1): the censored counts
// of HouseholdIndicators, and the sector scores in the run's sector order.
const (
	ExplainCensored = xCensored
	ExplainSectors  = xSectors
)

// SectorList is the order of sector scores in explain vectors made with w.
func SectorList(w Weights) []string {
	out := make([]string, 0, len(w.Sectors))
	for s := range w.Sectors {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// ExplainVector packs what s holds besides its table columns (see above).
// Deprived, Censored, Rates, RatesEB and Contributions must hold every key, as
// ScoreVillages makes them.
func (s *NeedScore) ExplainVector(sectors []string) []float64 {
	x := make([]float64, xSectors+len(sectors))
	x[xArea] = s.AreaKm2
	x[xRegistered] = float64(s.Registered)
	if s.DenominatorSource == "population" {
		x[xDenominatorPopulation] = 1
	}
	if s.Approximate {
		x[xApproximate] = 1
	}
	x[xChildrenU5], x[xStuntedChildren] = float64(s.ChildrenU5), float64(s.StuntedChildren)
	x[xUnemployedAdults], x[xPopulation] = float64(s.UnemployedAdults), float64(s.Population)
	val := func(m map[string]Value, k string) float64 {
		if v, ok := m[k]; ok {
			return float64(v)
		}
		return math.NaN()
	}
	for j, name := range HouseholdIndicators {
		x[xDeprived+j] = float64(s.Deprived[name])
		x[xCensored+j] = float64(s.Censored[name])
		x[xRates+j] = val(s.Rates, name)
		x[xRatesEB+j] = val(s.RatesEB, name)
		x[xContributions+j] = val(s.Contributions, name)
	}
	x[xRates+NumHouseholdIndicators] = val(s.Rates, StuntedChildrenRate)
	x[xRatesEB+NumHouseholdIndicators] = val(s.RatesEB, StuntedChildrenRate)
	for i, sec := range sectors {
		x[xSectors+i] = val(s.Sectors, sec)
	}
	return x
}

// SetExplainVector fills s from an explain vector made with the same sector list.
func (s *NeedScore) SetExplainVector(x []float64, sectors []string) error {
	if len(x) != xSectors+len(sectors) {
		return fmt.Errorf("explain vector has %d numbers, want %d", len(x), xSectors+len(sectors))
	}
	s.AreaKm2 = x[xArea]
	s.Registered = Count(x[xRegistered])
	s.DenominatorSource = "register"
	if x[xDenominatorPopulation] == 1 {
		s.DenominatorSource = "population"
	}
	s.Approximate = x[xApproximate] == 1
	s.ChildrenU5, s.StuntedChildren = Count(x[xChildrenU5]), Count(x[xStuntedChildren])
	s.UnemployedAdults, s.Population = Count(x[xUnemployedAdults]), Count(x[xPopulation])
	s.Deprived = make(map[string]Count, NumHouseholdIndicators)
	s.Censored = make(map[string]Count, NumHouseholdIndicators)
	s.Rates = make(map[string]Value, NumHouseholdIndicators+1)
	s.RatesEB = make(map[string]Value, NumHouseholdIndicators+1)
	s.Contributions = make(map[string]Value, NumHouseholdIndicators)
	for j, name := range HouseholdIndicators {
		s.Deprived[name] = Count(x[xDeprived+j])
		s.Censored[name] = Count(x[xCensored+j])
		s.Rates[name] = toValue(x[xRates+j])
		s.RatesEB[name] = toValue(x[xRatesEB+j])
		s.Contributions[name] = toValue(x[xContributions+j])
	}
	s.Rates[StuntedChildrenRate] = toValue(x[xRates+NumHouseholdIndicators])
	s.RatesEB[StuntedChildrenRate] = toValue(x[xRatesEB+NumHouseholdIndicators])
	s.Sectors = make(map[string]Value, len(sectors))
	for i, sec := range sectors {
		if v := x[xSectors+i]; !math.IsNaN(v) {
			s.Sectors[sec] = Value(v)
		}
	}
	return nil
}
