package matching

// ScoreSummary aggregates a group of villages (a kecamatan, the regency) for a
// village's score card. Totals are sums of the counts as given, so for a
// disclosure-controlled table they are sums of shown counts (suppressed as 0) and
// carry nothing beyond the shown cells.
type ScoreSummary struct {
	Villages   int   `json:"villages"`
	Households Count `json:"households"`
	InNeed     Count `json:"in_need"`
	// IncludesSuppressed says some village's count was "<5" and is not in the totals.
	IncludesSuppressed bool `json:"includes_suppressed"`
	// H is total in need over total households; M0 the household-weighted mean M0;
	// Density total in need per km²; Sectors and M0EB are means over villages.
	H       Value            `json:"h"`
	M0      Value            `json:"m0"`
	M0EB    Value            `json:"m0_eb"`
	Density Value            `json:"density"`
	Sectors map[string]Value `json:"sectors"`
}

// Summarise aggregates scores.
func Summarise(scores []NeedScore) ScoreSummary {
	out := ScoreSummary{Villages: len(scores), Sectors: map[string]Value{}}
	var area, m0w, m0n, ebSum float64
	var ebN int
	secSum, secN := map[string]float64{}, map[string]int{}
	for _, s := range scores {
		var sup1, sup2 bool
		out.Households, sup1 = SumShown(out.Households, s.Households)
		out.InNeed, sup2 = SumShown(out.InNeed, s.InNeed)
		out.IncludesSuppressed = out.IncludesSuppressed || sup1 || sup2
		area += s.AreaKm2
		if s.M0.Valid() && s.Households > 0 {
			m0w += float64(s.M0) * float64(s.Households)
			m0n += float64(s.Households)
		}
		if s.M0EB.Valid() {
			ebSum += float64(s.M0EB)
			ebN++
		}
		for k, v := range s.Sectors {
			if v.Valid() {
				secSum[k] += float64(v)
				secN[k]++
			}
		}
	}
	out.H, out.M0, out.M0EB, out.Density = NA, NA, NA, NA
	if out.Households > 0 {
		out.H = Value(float64(out.InNeed) / float64(out.Households))
	}
	if m0n > 0 {
		out.M0 = Value(m0w / m0n)
	}
	if ebN > 0 {
		out.M0EB = Value(ebSum / float64(ebN))
	}
	if area > 0 {
		out.Density = Value(float64(out.InNeed) / area)
	}
	for k, n := range secN {
		out.Sectors[k] = Value(secSum[k] / float64(n))
	}
	return out
}
