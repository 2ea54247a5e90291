package matching

import (
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Deprivations says in which household indicators one household is deprived, in
// HouseholdIndicators order.
type Deprivations [NumHouseholdIndicators]bool

// Pattern returns the deprivation pattern: bit j set when deprived in indicator j.
func (d Deprivations) Pattern() int {
	p := 0
	for j, x := range d {
		if x {
			p |= 1 << j
		}
	}
	return p
}

// VillageIndicators is what the store aggregates per village and period: linked
// households per deprivation pattern plus the counts and denominators needed for
// rates. The Alkire–Foster index is a function of the pattern counts and the
// weights only, so one SQL aggregation serves every weights version.
type VillageIndicators struct {
	Code          string
	KecamatanCode string
	AreaKm2       float64
	// Patterns[p] counts the linked households whose deprivation pattern is p.
	Patterns [NumPatterns]int64
	// PopulationHouseholds is the village's household count from the population
	// table (0 = unknown). Registers that list only targeted households (e-PPGBM,
	// P3KE) need it as the denominator of rates.
	PopulationHouseholds int64
	// Population is the number of persons (0 = unknown).
	Population int64
	// ChildrenU5, StuntedChildren and UnemployedAdults are person counts.
	ChildrenU5, StuntedChildren, UnemployedAdults int64
	// Village holds the village indicators (CSV-loaded) by name.
	Village map[string]float64
}

// Registered is the number of linked households in the registers.
func (v VillageIndicators) Registered() int64 {
	var n int64
	for _, c := range v.Patterns {
		n += c
	}
	return n
}

// Count is a count as shown: exact, rounded, or Suppressed ("<5").
type Count int64

// Suppressed marks a count below the disclosure threshold; it is shown as "<5".
const Suppressed Count = -1

// MarshalJSON writes the number, or "<5" when suppressed.
func (c Count) MarshalJSON() ([]byte, error) {
	if c < 0 {
		return []byte(`"<5"`), nil
	}
	return strconv.AppendInt(nil, int64(c), 10), nil
}

// String is the number, or "<5" when suppressed.
func (c Count) String() string {
	if c < 0 {
		return "<5"
	}
	return strconv.FormatInt(int64(c), 10)
}

// Value is a derived number; NaN means "not available" and is written as null.
type Value float64

// NA is the unavailable value.
var NA = Value(math.NaN())

// Valid reports whether v is a number.
func (v Value) Valid() bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// MarshalJSON writes null for NaN and otherwise the number with 10 significant
// digits (enough to keep stored runs comparable, short enough to read).
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(v), 'g', 10, 64), nil
}

// UnmarshalJSON reads a number or null.
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = NA
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*v = Value(f)
	return nil
}

// NeedScore is one village's explained score for one period and weights version.
type NeedScore struct {
	Code          string  `json:"code"`
	KecamatanCode string  `json:"kecamatan_code"`
	AreaKm2       float64 `json:"area_km2"`
	// Village holds the village indicators (CSV-loaded) used by sector scores.
	Village map[string]float64 `json:"village_indicators,omitempty"`
	// Households is the denominator n of H and the rates: the population table's
	// household count when it is larger than the registered count, else the latter.
	Households Count `json:"households"`
	// Registered is the number of linked households found in the registers.
	Registered Count `json:"registered"`
	// DenominatorSource is "population" or "register".
	DenominatorSource string `json:"denominator_source"`
	// InNeed is q, the households whose deprivation score is ≥ k (the need volume).
	InNeed Count `json:"in_need"`
	// H = q/n (headcount ratio), A = mean score of the in-need (intensity), M0 = H·A.
	H  Value `json:"h"`
	A  Value `json:"a"`
	M0 Value `json:"m0"`
	// HEB is H smoothed by empirical Bayes; M0EB = HEB·A ranks the villages.
	HEB  Value `json:"h_eb"`
	M0EB Value `json:"m0_eb"`
	// Density is in-need households per km².
	Density Value `json:"density"`
	// Deprived counts households deprived in each indicator; Censored only those
	// also in need (the counts M0 is built from).
	Deprived map[string]Count `json:"deprived"`
	Censored map[string]Count `json:"censored"`
	// Rates are raw shares (deprived/households; stunted_children per child under
	// five); RatesEB the same smoothed by empirical Bayes.
	Rates   map[string]Value `json:"rates"`
	RatesEB map[string]Value `json:"rates_eb"`
	// Contributions are each indicator's percentage contribution to M0 (sum 100).
	Contributions map[string]Value `json:"contributions"`
	// People counts.
	ChildrenU5       Count `json:"children_u5"`
	StuntedChildren  Count `json:"stunted_children"`
	UnemployedAdults Count `json:"unemployed_adults"`
	Population       Count `json:"population"`
	// Sectors are sector need scores, 0–100 (weighted mean need share × 100).
	Sectors map[string]Value `json:"sectors"`
	// Approximate says a derived value counted a suppressed ("<5") count as 0.
	Approximate bool `json:"approximate,omitempty"`
	// HotSpot is the Getis-Ord Gi* context label (not part of the rank).
	HotSpot HotSpot `json:"hotspot"`
	// Rank is the position by M0EB in the regency, RankKecamatan within the kecamatan.
	Rank          int `json:"rank"`
	RankKecamatan int `json:"rank_kecamatan"`
}

// StuntedChildrenRate is the key of the child stunting prevalence in Rates.
const StuntedChildrenRate = "stunted_children"

// scoreEps absorbs float rounding in score ≥ k (e.g. 3 × 1/3).
const scoreEps = 1e-9

// PatternScore is the weighted deprivation score of pattern p.
func (w Weights) PatternScore(p int) float64 {
	v := w.vector()
	s := 0.0
	for j := range NumHouseholdIndicators {
		if p&(1<<j) != 0 {
			s += v[j]
		}
	}
	return s
}

// InNeed reports whether a household with pattern p is in need under w.
func (w Weights) InNeed(p int) bool { return p != 0 && w.PatternScore(p) >= w.K-scoreEps }

// ScoreVillages computes the explained need index for every village: counts, H,
// A, M0 and contributions (Alkire–Foster), rates, empirical-Bayes smoothed H and
// rates, need density, sector scores, and ranks by M0EB. Hot spots are added by
// ApplyHotSpots. The result is in the order of vs and does not depend on the order
// of households within a village (only pattern counts enter).
func ScoreVillages(vs []VillageIndicators, w Weights) []NeedScore {
	out := make([]NeedScore, len(vs))
	var inNeed [NumPatterns]bool // the weights decide it once per pattern, not per village
	for p := range inNeed {
		inNeed[p] = w.InNeed(p)
	}
	parallelFor(len(vs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			scoreVillage(&out[i], &vs[i], &inNeed)
		}
	})
	derive(out, w)
	return out
}

// scoreVillage fills the counts of s from v's household patterns.
func scoreVillage(out *NeedScore, v *VillageIndicators, inNeed *[NumPatterns]bool) {
	{
		s := NeedScore{Code: v.Code, KecamatanCode: v.KecamatanCode, AreaKm2: v.AreaKm2, Village: v.Village,
			DenominatorSource: "register", Deprived: make(map[string]Count, NumHouseholdIndicators), Censored: make(map[string]Count, NumHouseholdIndicators)}
		reg := v.Registered()
		n := reg
		if v.PopulationHouseholds > reg {
			n, s.DenominatorSource = v.PopulationHouseholds, "population"
		}
		s.Households, s.Registered = Count(n), Count(reg)
		var q int64
		var dep, cen [NumHouseholdIndicators]int64
		for p, c := range v.Patterns {
			need := inNeed[p]
			if need {
				q += c
			}
			for j := range NumHouseholdIndicators {
				if p&(1<<j) != 0 {
					dep[j] += c
					if need {
						cen[j] += c
					}
				}
			}
		}
		s.InNeed = Count(q)
		for j, name := range HouseholdIndicators {
			s.Deprived[name], s.Censored[name] = Count(dep[j]), Count(cen[j])
		}
		s.ChildrenU5, s.StuntedChildren = Count(v.ChildrenU5), Count(v.StuntedChildren)
		s.UnemployedAdults, s.Population = Count(v.UnemployedAdults), Count(v.Population)
		*out = s
	}
}

// parallelFor runs fn over [0, n) in one chunk per core (one chunk below 4,096
// items, where starting goroutines costs more than it saves).
func parallelFor(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), 1+n/4096)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := range workers {
		lo, hi := n*k/workers, n*(k+1)/workers
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// derive fills every value computed from the counts (exact or disclosure-
// controlled): H, A, M0, contributions, rates, smoothing, density, sectors, ranks.
// A suppressed count makes what depends on it unavailable.
func derive(out []NeedScore, w Weights) {
	wv := w.vector()
	nIdx := len(HouseholdIndicators)
	hy, hn := make([]float64, len(out)), make([]float64, len(out))
	ry := make([][]float64, nIdx+1)
	rn := make([][]float64, nIdx+1)
	for j := range ry {
		ry[j], rn[j] = make([]float64, len(out)), make([]float64, len(out))
	}
	parallelFor(len(out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			deriveCounts(&out[i], i, wv, hy, hn, ry, rn)
		}
	})
	heb := SmoothEB(hy, hn)
	rateEB := make([][]float64, nIdx+1)
	for j := range rateEB {
		rateEB[j] = SmoothEB(ry[j], rn[j])
	}
	parallelFor(len(out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := &out[i]
			s.HEB, s.M0EB = toValue(heb[i]), NA
			if s.HEB.Valid() && s.A.Valid() {
				s.M0EB = s.HEB * s.A
			}
			s.RatesEB = make(map[string]Value, nIdx+1)
			for j, name := range HouseholdIndicators {
				s.RatesEB[name] = toValue(rateEB[j][i])
			}
			s.RatesEB[StuntedChildrenRate] = toValue(rateEB[nIdx][i])
			s.Sectors = sectorScores(w, s.RatesEB, s.Village)
		}
	})
	RankScores(out)
}

// afIndex computes the Alkire–Foster H, A and M0 of a village from its
// household count n, in-need count q and censored counts, and the numerator and
// denominator of H for smoothing (NaN when H is unavailable); wc = Σ w_j C_j.
// A suppressed n or q makes H, A and M0 unavailable. In a controlled table a
// "<5" censored count enters as 0 (approximate says so): the value stays a
// function of what is shown.
func afIndex(n, q Count, cen *[NumHouseholdIndicators]Count, wv *[NumHouseholdIndicators]float64) (h, a, m0 Value, hy, hn, wc float64, approximate bool) {
	h, a, m0 = NA, NA, NA
	hy, hn = math.NaN(), math.NaN()
	if n > 0 && q >= 0 {
		h = Value(float64(q) / float64(n))
		hy, hn = float64(q), float64(n)
	} else if n == 0 && q >= 0 {
		// No household at all: nothing is deprived; smoothing returns the prior.
		h = 0
		hy, hn = 0, 0
	}
	for j, c := range cen {
		if c < 0 {
			approximate = approximate || wv[j] > 0
			continue
		}
		wc += wv[j] * float64(c)
	}
	if n >= 0 && q >= 0 {
		if n > 0 {
			m0 = Value(math.Min(1, wc/float64(n)))
		} else {
			m0 = 0
		}
		if q > 0 {
			a = Value(math.Min(1, wc/float64(q)))
		} else {
			a = 0
		}
	}
	return h, a, m0, hy, hn, wc, approximate
}

// deriveCounts fills the values of s (village i) computed from its own counts
// and records its rates' numerators and denominators for smoothing.
func deriveCounts(s *NeedScore, i int, wv [NumHouseholdIndicators]float64, hy, hn []float64, ry, rn [][]float64) {
	nIdx := len(HouseholdIndicators)
	{
		n, q := s.Households, s.InNeed
		var cen [NumHouseholdIndicators]Count
		for j, name := range HouseholdIndicators {
			cen[j] = s.Censored[name]
		}
		var wc float64
		s.H, s.A, s.M0, hy[i], hn[i], wc, s.Approximate = afIndex(n, q, &cen, &wv)
		s.Rates = make(map[string]Value, nIdx+1)
		s.Contributions = make(map[string]Value, nIdx)
		if n >= 0 && q >= 0 {
			for j, name := range HouseholdIndicators {
				if wc > 0 {
					s.Contributions[name] = Value(100 * wv[j] * float64(s.Censored[name]) / wc)
				} else {
					s.Contributions[name] = 0
				}
			}
		} else {
			for _, name := range HouseholdIndicators {
				s.Contributions[name] = NA
			}
		}
		for j, name := range HouseholdIndicators {
			d := s.Deprived[name]
			ry[j][i], rn[j][i] = math.NaN(), math.NaN()
			s.Rates[name] = NA
			if d >= 0 && n >= 0 {
				ry[j][i], rn[j][i] = float64(d), float64(n)
				if n > 0 {
					s.Rates[name] = Value(float64(d) / float64(n))
				} else {
					s.Rates[name] = 0
				}
			}
		}
		ry[nIdx][i], rn[nIdx][i] = math.NaN(), math.NaN()
		s.Rates[StuntedChildrenRate] = NA
		if s.StuntedChildren >= 0 && s.ChildrenU5 >= 0 {
			ry[nIdx][i], rn[nIdx][i] = float64(s.StuntedChildren), float64(s.ChildrenU5)
			if s.ChildrenU5 > 0 {
				s.Rates[StuntedChildrenRate] = Value(float64(s.StuntedChildren) / float64(s.ChildrenU5))
			}
		}
		s.Density = NA
		if q >= 0 && s.AreaKm2 > 0 {
			s.Density = Value(float64(q) / s.AreaKm2)
		}
	}
}

func toValue(x float64) Value {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return NA
	}
	return Value(x)
}

// sectorScores is the weighted mean of each sector's component need shares ×
// 100: household indicators contribute their smoothed rate, village indicators
// their need share. Components without a value are left out (their weight too);
// a sector with no component value is absent.
func sectorScores(w Weights, ratesEB map[string]Value, village map[string]float64) map[string]Value {
	out := make(map[string]Value, len(w.Sectors))
	for sector, comps := range w.Sectors {
		num, den := 0.0, 0.0
		for c, wt := range comps {
			if wt == 0 {
				continue
			}
			if isHouseholdIndicator(c) {
				if r := ratesEB[c]; r.Valid() {
					num += wt * float64(r)
					den += wt
				}
				continue
			}
			if v, ok := village[c]; ok {
				num += wt * w.VillageIndicators[c].Need(v)
				den += wt
			}
		}
		if den > 0 {
			out[sector] = Value(100 * num / den)
		}
	}
	return out
}

// RankScores sets Rank (regency) and RankKecamatan by M0EB, highest first; ties
// go to the larger need volume, then the lower code, so ranks are deterministic.
// Villages without M0EB come last.
func RankScores(s []NeedScore) {
	// The order is total (codes are unique), so an unstable sort of small keys
	// gives the same ranks as sorting the scores themselves, ~20× faster at
	// 80,000 villages.
	type key struct {
		m0     Value
		inNeed Count
		code   string
		i      int
	}
	keys := make([]key, len(s))
	for i := range s {
		keys[i] = key{s[i].M0EB, s[i].InNeed, s[i].Code, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		av, bv := a.m0.Valid(), b.m0.Valid()
		switch {
		case av && !bv:
			return -1
		case !av && bv:
			return 1
		case av && a.m0 != b.m0:
			if a.m0 > b.m0 {
				return -1
			}
			return 1
		case a.inNeed != b.inNeed:
			if a.inNeed > b.inNeed {
				return -1
			}
			return 1
		}
		return strings.Compare(a.code, b.code)
	})
	perKec := make(map[string]int, len(s)/16+1)
	for r, k := range keys {
		sc := &s[k.i]
		sc.Rank = r + 1
		n := perKec[sc.KecamatanCode] + 1
		perKec[sc.KecamatanCode] = n
		sc.RankKecamatan = n
	}
}

// SortKeys lists the keys SortValue understands besides "sector:NAME" and "rate:NAME".
var SortKeys = []string{"m0", "m0_raw", "h", "h_raw", "volume", "density", "households", "code"}

// SortValue returns the value a ranking by key orders on (descending), and
// whether key is known. Keys: m0 (smoothed, the default rank), m0_raw, h, h_raw,
// volume, density, households, sector:NAME, rate:NAME (smoothed rate).
func SortValue(s NeedScore, key string) (Value, bool) {
	switch key {
	case "", "m0":
		return s.M0EB, true
	case "m0_raw":
		return s.M0, true
	case "h":
		return s.HEB, true
	case "h_raw":
		return s.H, true
	case "volume":
		return countValue(s.InNeed), true
	case "density":
		return s.Density, true
	case "households":
		return countValue(s.Households), true
	}
	if len(key) > 7 && key[:7] == "sector:" {
		v, ok := s.Sectors[CanonicalSector(key[7:])]
		if !ok {
			return NA, true
		}
		return v, true
	}
	if len(key) > 5 && key[:5] == "rate:" {
		v, ok := s.RatesEB[key[5:]]
		if !ok {
			return NA, true
		}
		return v, true
	}
	return NA, false
}

func countValue(c Count) Value {
	if c < 0 {
		return NA
	}
	return Value(c)
}

// lessByKey orders a before b for a descending ranking by key.
func lessByKey(a, b *NeedScore, key string) bool {
	if key == "code" {
		return a.Code < b.Code
	}
	va, _ := SortValue(*a, key)
	vb, _ := SortValue(*b, key)
	switch {
	case va.Valid() && !vb.Valid():
		return true
	case !va.Valid() && vb.Valid():
		return false
	case va.Valid() && va != vb:
		return va > vb
	}
	if a.InNeed != b.InNeed {
		return a.InNeed > b.InNeed
	}
	return a.Code < b.Code
}

// SortScores orders s for a ranking by key (descending; "code" ascending).
func SortScores(s []NeedScore, key string) {
	sort.SliceStable(s, func(i, j int) bool { return lessByKey(&s[i], &s[j], key) })
}

// ValidSortKey reports whether key can order a ranking.
func ValidSortKey(key string) bool {
	_, ok := SortValue(NeedScore{}, key)
	return ok || key == "code"
}

// UnmarshalJSON reads a number or "<5".
func (c *Count) UnmarshalJSON(b []byte) error {
	if string(b) == `"<5"` {
		*c = Suppressed
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*c = Count(n)
	return nil
}
