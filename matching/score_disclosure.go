package matching

import "maps"

// DisclosureThreshold is the smallest count shown; smaller counts are "<5".
const DisclosureThreshold = 5

// DisclosureBase is the base counts are rounded to.
const DisclosureBase = 5

// DiscloseCount applies statistical disclosure control to one count: 1 to
// DisclosureThreshold−1 is Suppressed, otherwise rounded to the nearest multiple
// of DisclosureBase (halves up). Zero is shown: it identifies nobody, and hiding it
// would make most villages' indices unavailable. Suppressed stays suppressed.
func DiscloseCount(c Count) Count {
	if c == 0 {
		return 0
	}
	if c < DisclosureThreshold {
		return Suppressed
	}
	return Count((int64(c) + DisclosureBase/2) / DisclosureBase * DisclosureBase)
}

// ControlScores returns the disclosure-controlled view of exact scores (the
// company view of DESIGN.md). Every count is controlled with DiscloseCount, and
// every rate, density, index, smoothed value, contribution, sector score and rank
// is recomputed from the shown counts only — never from the exact ones — so no
// suppressed value can be recovered from them. Hot spots keep only their label.
func ControlScores(exact []NeedScore, w Weights) []NeedScore {
	out := make([]NeedScore, len(exact))
	for i, e := range exact {
		s := e
		s.Households = DiscloseCount(e.Households)
		s.Registered = DiscloseCount(e.Registered)
		s.InNeed = DiscloseCount(e.InNeed)
		s.ChildrenU5 = DiscloseCount(e.ChildrenU5)
		s.StuntedChildren = DiscloseCount(e.StuntedChildren)
		s.UnemployedAdults = DiscloseCount(e.UnemployedAdults)
		if e.Population > 0 {
			s.Population = DiscloseCount(e.Population)
		}
		s.Deprived = controlMap(e.Deprived)
		s.Censored = controlMap(e.Censored)
		s.Village = maps.Clone(e.Village)
		s.HotSpot = HotSpot{Z: NA, P: NA, Q: NA, Label: e.HotSpot.Label}
		out[i] = s
	}
	derive(out, w)
	return out
}

func controlMap(m map[string]Count) map[string]Count {
	out := make(map[string]Count, len(m))
	for k, v := range m {
		out[k] = DiscloseCount(v)
	}
	return out
}

// SumShown totals shown counts (suppressed ones count as 0) and reports whether
// any was suppressed. Totals of a controlled table are built this way, so a total
// carries no information beyond the shown cells.
func SumShown(cs ...Count) (Count, bool) {
	var t Count
	var sup bool
	for _, c := range cs {
		if c < 0 {
			sup = true
			continue
		}
		t += c
	}
	return t, sup
}

// ControlledRank is what the company view gives one village's ranking: its rank
// in the regency and in its kecamatan and its smoothed M0.
type ControlledRank struct {
	Rank, RankKecamatan int
	M0EB                Value
}

// ControlledRanks computes, for every village, the Rank, RankKecamatan and
// M0EB that ControlScores(exact, w) would give — the same functions of the
// controlled counts (TestControlledRanksMatchControlScores) — without building
// the rest of the company view. Score runs store these beside the exact
// scores for the tiles and OGC items; at 80,000 villages the whole view took
// ~0.35 s of the recompute.
func ControlledRanks(exact []NeedScore, w Weights) []ControlledRank {
	wv := w.vector()
	lean := make([]NeedScore, len(exact))
	hy, hn := make([]float64, len(exact)), make([]float64, len(exact))
	a := make([]Value, len(exact))
	parallelFor(len(exact), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e := &exact[i]
			var cen [NumHouseholdIndicators]Count
			for j, name := range HouseholdIndicators {
				cen[j] = DiscloseCount(e.Censored[name])
			}
			q := DiscloseCount(e.InNeed)
			_, a[i], _, hy[i], hn[i], _, _ = afIndex(DiscloseCount(e.Households), q, &cen, &wv)
			lean[i] = NeedScore{Code: e.Code, KecamatanCode: e.KecamatanCode, InNeed: q}
		}
	})
	heb := SmoothEB(hy, hn)
	for i := range lean {
		lean[i].M0EB = NA
		if h := toValue(heb[i]); h.Valid() && a[i].Valid() {
			lean[i].M0EB = h * a[i]
		}
	}
	RankScores(lean)
	out := make([]ControlledRank, len(lean))
	for i, s := range lean {
		out[i] = ControlledRank{Rank: s.Rank, RankKecamatan: s.RankKecamatan, M0EB: s.M0EB}
	}
	return out
}
