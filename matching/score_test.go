package matching

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// hh builds a household's deprivations: s = stunting, p = extreme poverty, u = unemployment.
func hh(flags string) Deprivations {
	var d Deprivations
	for _, f := range flags {
		switch f {
		case 's':
			d[0] = true
		case 'p':
			d[1] = true
		case 'u':
			d[2] = true
		}
	}
	return d
}

func repeat(flags string, n int) []Deprivations {
	out := make([]Deprivations, n)
	for i := range out {
		out[i] = hh(flags)
	}
	return out
}

func concat(parts ...[]Deprivations) []Deprivations {
	var out []Deprivations
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// villagesFrom aggregates households to pattern counts, as the SQL does.
func villagesFrom(codes []string, households [][]Deprivations) []VillageIndicators {
	out := make([]VillageIndicators, len(codes))
	for i, c := range codes {
		out[i] = VillageIndicators{Code: c, KecamatanCode: c[:1], AreaKm2: 2}
		for _, h := range households[i] {
			out[i].Patterns[h.Pattern()]++
		}
	}
	return out
}

// Three villages of ten households each:
//
//	A: 2 × {s}, 1 × {s,p}, 1 × {s,p,u}, 6 × none
//	B: 10 × none
//	C: 5 × {u}, 5 × {p,u}
var threeVillages = [][]Deprivations{
	concat(repeat("s", 2), repeat("sp", 1), repeat("spu", 1), repeat("", 6)),
	repeat("", 10),
	concat(repeat("u", 5), repeat("pu", 5)),
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAlkireFosterHandComputed(t *testing.T) {
	type want struct {
		q        int64
		h, a, m0 float64
		contrib  [3]float64 // percent: stunting, extreme poverty, unemployment
	}
	cases := []struct {
		name string
		w    Weights
		want [3]want
	}{
		{
			// Equal thirds, k = 1/3: every deprived household is in need.
			// A: scores 1/3, 1/3, 2/3, 1 → q=4, H=.4, A=(7/3)/4=7/12, M0=7/30;
			//    censored s=4, p=2, u=1 → w·C = 4/3, 2/3, 1/3 of 7/3 → 4/7, 2/7, 1/7.
			// C: 5 × 1/3 + 5 × 2/3 = 5 → q=10, H=1, A=.5, M0=.5; C: s=0,p=5,u=10 → 0, 1/3, 2/3.
			name: "equal weights, k=1/3",
			w:    weights(1, 1, 1, 1.0/3),
			want: [3]want{
				{4, 0.4, 7.0 / 12, 7.0 / 30, [3]float64{400.0 / 7, 200.0 / 7, 100.0 / 7}},
				{0, 0, 0, 0, [3]float64{0, 0, 0}},
				{10, 1, 0.5, 0.5, [3]float64{0, 100.0 / 3, 200.0 / 3}},
			},
		},
		{
			// k = 1/2: single deprivations drop out.
			// A: q=2 ({s,p}=2/3, {s,p,u}=1), H=.2, A=5/6, M0=1/6; C: s=2,p=2,u=1 → 40, 40, 20 %.
			// C: q=5 ({p,u}=2/3), H=.5, A=2/3, M0=1/3; C: p=5,u=5 → 0, 50, 50 %.
			name: "equal weights, k=1/2",
			w:    weights(1, 1, 1, 0.5),
			want: [3]want{
				{2, 0.2, 5.0 / 6, 1.0 / 6, [3]float64{40, 40, 20}},
				{0, 0, 0, 0, [3]float64{0, 0, 0}},
				{5, 0.5, 2.0 / 3, 1.0 / 3, [3]float64{0, 50, 50}},
			},
		},
		{
			// Stunting .5, poverty .25, unemployment .25, k = 1/3: {u} (0.25) is censored.
			// A: scores .5, .5, .75, 1 → q=4, H=.4, A=2.75/4=.6875, M0=.275;
			//    w·C = .5·4, .25·2, .25·1 = 2, .5, .25 of 2.75 → 800/11, 200/11, 100/11 %.
			// C: {p,u}=.5 in need, {u} not → q=5, H=.5, A=.5, M0=.25; C: p=5,u=5 → 0, 50, 50 %.
			name: "unequal weights, censoring",
			w:    weights(2, 1, 1, 1.0/3),
			want: [3]want{
				{4, 0.4, 0.6875, 0.275, [3]float64{800.0 / 11, 200.0 / 11, 100.0 / 11}},
				{0, 0, 0, 0, [3]float64{0, 0, 0}},
				{5, 0.5, 0.5, 0.25, [3]float64{0, 50, 50}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ScoreVillages(villagesFrom([]string{"A1", "B1", "C1"}, threeVillages), tc.w)
			for i, w := range tc.want {
				g := got[i]
				if int64(g.InNeed) != w.q || !near(float64(g.H), w.h) || !near(float64(g.A), w.a) || !near(float64(g.M0), w.m0) {
					t.Errorf("%s: q=%d H=%v A=%v M0=%v, want q=%d H=%v A=%v M0=%v", g.Code, g.InNeed, g.H, g.A, g.M0, w.q, w.h, w.a, w.m0)
				}
				for j, name := range HouseholdIndicators {
					if !near(float64(g.Contributions[name]), w.contrib[j]) {
						t.Errorf("%s: contribution of %s = %v, want %v", g.Code, name, g.Contributions[name], w.contrib[j])
					}
				}
				if g.Households != 10 || !near(float64(g.Density), float64(w.q)/2) {
					t.Errorf("%s: households %d density %v", g.Code, g.Households, g.Density)
				}
				// M0 = H × A holds exactly.
				if !near(float64(g.M0), float64(g.H*g.A)) {
					t.Errorf("%s: M0 %v ≠ H·A %v", g.Code, g.M0, g.H*g.A)
				}
			}
		})
	}
}

func weights(s, p, u, k float64) Weights {
	w := DefaultWeights()
	w.Indicators = map[string]float64{IndStunting: s, IndExtremePoverty: p, IndUnemployment: u}
	w.K = k
	if err := w.Normalize(); err != nil {
		panic(err)
	}
	return w
}

func TestRankingInvariantUnderHouseholdOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	codes := []string{"A1", "A2", "B1", "B2", "C1", "C2", "C3"}
	hs := make([][]Deprivations, len(codes))
	for i := range hs {
		for range 20 + r.IntN(200) {
			hs[i] = append(hs[i], Deprivations{r.Float64() < .1, r.Float64() < .15, r.Float64() < .2})
		}
	}
	w := DefaultWeights()
	base := ScoreVillages(villagesFrom(codes, hs), w)
	for range 5 {
		shuffled := make([][]Deprivations, len(hs))
		for i := range hs {
			shuffled[i] = append([]Deprivations(nil), hs[i]...)
			r.Shuffle(len(shuffled[i]), func(a, b int) { shuffled[i][a], shuffled[i][b] = shuffled[i][b], shuffled[i][a] })
		}
		got := ScoreVillages(villagesFrom(codes, shuffled), w)
		for i := range got {
			if got[i].Rank != base[i].Rank || got[i].RankKecamatan != base[i].RankKecamatan || got[i].M0EB != base[i].M0EB {
				t.Fatalf("%s: rank %d/%d M0EB %v after shuffling, was %d/%d %v", got[i].Code, got[i].Rank,
					got[i].RankKecamatan, got[i].M0EB, base[i].Rank, base[i].RankKecamatan, base[i].M0EB)
			}
		}
	}
	// Ranks are a permutation of 1..n and within-kecamatan ranks restart.
	seen := map[int]bool{}
	for _, s := range base {
		seen[s.Rank] = true
		if s.Code == "A1" || s.Code == "A2" {
			if s.RankKecamatan != 1 && s.RankKecamatan != 2 {
				t.Errorf("%s: rank in kecamatan %d", s.Code, s.RankKecamatan)
			}
		}
	}
	if len(seen) != len(codes) {
		t.Errorf("ranks not distinct: %v", seen)
	}
}

func TestPopulationDenominator(t *testing.T) {
	v := villagesFrom([]string{"A1"}, threeVillages[:1])
	v[0].PopulationHouseholds = 40 // the register lists 10 of the village's 40 households
	s := ScoreVillages(v, DefaultWeights())[0]
	if s.Households != 40 || s.Registered != 10 || s.DenominatorSource != "population" || !near(float64(s.H), 0.1) ||
		!near(float64(s.M0), 7.0/120) {
		t.Fatalf("population denominator: %+v", s)
	}
}

func TestSectorScores(t *testing.T) {
	v := villagesFrom([]string{"A1", "C1"}, [][]Deprivations{threeVillages[0], threeVillages[2]})
	v[0].Village = map[string]float64{"clean_water": 80, "school_participation": 95}
	s := ScoreVillages(v, DefaultWeights())
	// Environment ← clean water (higher is better): need = 1 − 80/100 = 20.
	if got := s[0].Sectors[SectorEnvironment]; !near(float64(got), 20) {
		t.Errorf("environment %v, want 20", got)
	}
	if _, ok := s[1].Sectors[SectorEnvironment]; ok {
		t.Errorf("a village without the indicator must have no environment score: %v", s[1].Sectors)
	}
	// Health ← stunting: the smoothed stunting rate × 100.
	if got, want := s[0].Sectors[SectorHealth], 100*s[0].RatesEB[IndStunting]; !near(float64(got), float64(want)) {
		t.Errorf("health %v, want %v", got, want)
	}
	// Economy ← half poverty, half unemployment.
	want := 50 * (s[1].RatesEB[IndExtremePoverty] + s[1].RatesEB[IndUnemployment])
	if got := s[1].Sectors[SectorEconomy]; !near(float64(got), float64(want)) {
		t.Errorf("economy %v, want %v", got, want)
	}
	if v, ok := SortValue(s[0], "sector:environment"); !ok || !near(float64(v), 20) {
		t.Errorf("sort by sector:environment = %v %v", v, ok)
	}
}

func TestParseWeights(t *testing.T) {
	w, err := ParseWeights([]byte(`{"stunting": 2, "extreme_poverty": 1, "unemployment": 1}`), 0.5)
	if err != nil || !near(w.Indicators[IndStunting], 0.5) || w.K != 0.5 || w.Sectors[SectorHealth] == nil {
		t.Fatalf("legacy weights: %+v %v", w, err)
	}
	w, err = ParseWeights([]byte(`{"indicators": {"stunting": 1}, "sectors": {"health": {"stunting": 1}}}`), 0)
	if err != nil || w.Indicators[IndStunting] != 1 || w.Sectors[SectorHealth][IndStunting] != 1 || len(w.Sectors) != 1 {
		t.Fatalf("structured weights: %+v %v", w, err)
	}
	for _, bad := range []string{`{"stunting": -1}`, `{"literacy": 1}`, `{"stunting": 0}`,
		`{"indicators": {"stunting": 1}, "sectors": {"x": {"nonsense": 1}}}`, `[1]`} {
		if _, err := ParseWeights([]byte(bad), 0); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	if _, err := ParseWeights([]byte(`{"stunting": 1}`), 1.5); err == nil {
		t.Error("k = 1.5 accepted")
	}
}

func TestCountAndValueJSON(t *testing.T) {
	b, _ := json.Marshal(map[string]any{"a": Count(10), "b": Suppressed, "c": NA, "d": Value(0.1234567)})
	// encoding/json escapes < as \u003c; decoders read it back as "<5".
	if string(b) != `{"a":10,"b":"\u003c5","c":null,"d":0.1234567}` {
		t.Fatalf("%s", b)
	}
	var back struct {
		B Count
		C Value
	}
	if err := json.Unmarshal([]byte(`{"B":"<5","C":null}`), &back); err != nil || back.B != Suppressed || back.C.Valid() {
		t.Fatalf("%+v %v", back, err)
	}
}

func TestDiscloseCount(t *testing.T) {
	for in, want := range map[Count]Count{0: 0, 1: Suppressed, 4: Suppressed, 5: 5, 7: 5, 8: 10, 12: 10, 13: 15, 1002: 1000,
		Suppressed: Suppressed} {
		if got := DiscloseCount(in); got != want {
			t.Errorf("DiscloseCount(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestControlledScoresDeriveFromShownOnly checks that every derived number of the
// controlled view is a function of the shown counts: two villages whose exact
// counts differ but round to the same shown counts get identical controlled rows.
func TestControlledScoresDeriveFromShownOnly(t *testing.T) {
	mk := func(code string, none, s, sp int) VillageIndicators {
		return villagesFrom([]string{code}, [][]Deprivations{concat(repeat("", none), repeat("s", s), repeat("sp", sp))})[0]
	}
	// Exact (q=12, n=101) and (q=13, n=99) both show q=10/15? 12→10, 13→15: choose same-rounding pairs instead.
	a := mk("A1", 90, 6, 6) // n=102→100, q=12→10, s-deprived 12→10, p 6→5
	b := mk("A2", 87, 7, 6) // n=100→100, q=13→15: differs, used as a control
	c := mk("B1", 89, 6, 7) // n=102→100, q=13→15
	d := mk("B2", 91, 5, 6) // n=102→100, q=11→10, s 11→10, p 6→5 — same shown as a
	e := mk("C1", 3, 1, 1)  // n=5, q=2 → "<5"
	w := DefaultWeights()
	exact := ScoreVillages([]VillageIndicators{a, b, c, d, e}, w)
	ctl := ControlScores(exact, w)
	if exact[0].M0 == exact[3].M0 {
		t.Fatal("test needs villages with different exact M0")
	}
	same := func(x, y NeedScore) bool {
		x.Code, y.Code, x.KecamatanCode, y.KecamatanCode = "", "", "", ""
		x.Rank, y.Rank, x.RankKecamatan, y.RankKecamatan = 0, 0, 0, 0
		return reflect.DeepEqual(jsonOf(x), jsonOf(y))
	}
	if !same(ctl[0], ctl[3]) {
		t.Errorf("same shown counts, different controlled rows:\n%s\n%s", jsonOf(ctl[0]), jsonOf(ctl[3]))
	}
	if ctl[4].InNeed != Suppressed || ctl[4].H.Valid() || ctl[4].M0EB.Valid() || ctl[4].Density.Valid() {
		t.Errorf("suppressed q must leave H, M0EB and density unavailable: %s", jsonOf(ctl[4]))
	}
	if ctl[0].H != Value(10.0/100) {
		t.Errorf("controlled H = %v, want shown 10/100", ctl[0].H)
	}
	if ctl[0].HotSpot.Z.Valid() {
		t.Error("controlled hot spot must not carry z")
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
