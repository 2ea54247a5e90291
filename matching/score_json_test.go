package matching

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// reflected has NeedScore's fields without its MarshalJSON: encoding/json
// writes it by reflection, the reference AppendJSON must match.
type reflected NeedScore

// TestAppendJSONMatchesMarshal: AppendJSON writes the bytes encoding/json's
// reflection does,
// over random scores with every kind of value (suppressed counts, NaN values,
// nil and empty maps, tiny and huge floats, keys that need escaping).
func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := []string{"stunting", "extreme_poverty", "unemployment", "air_bersih", "a\"b", "<x>", "ümlaut", "tab\there"}
	val := func() Value {
		switch r.IntN(6) {
		case 0:
			return NA
		case 1:
			return Value(r.Float64() * 1e-8)
		case 2:
			return Value(r.Float64() * 1e22)
		case 3:
			return 0
		case 4:
			return Value(-r.Float64())
		}
		return Value(r.Float64())
	}
	cnt := func() Count {
		if r.IntN(4) == 0 {
			return Suppressed
		}
		return Count(r.IntN(100000))
	}
	flt := func() float64 { return float64(val()) }
	for i := range 5000 {
		s := NeedScore{Code: "32.16.01.2001", KecamatanCode: "32.16.01", AreaKm2: flt(),
			Households: cnt(), Registered: cnt(), DenominatorSource: "register", InNeed: cnt(),
			H: val(), A: val(), M0: val(), HEB: val(), M0EB: val(), Density: val(),
			ChildrenU5: cnt(), StuntedChildren: cnt(), UnemployedAdults: cnt(), Population: cnt(),
			Approximate: r.IntN(2) == 0, HotSpot: HotSpot{Z: val(), P: val(), Q: val(), Label: "hot"},
			Rank: r.IntN(80000), RankKecamatan: r.IntN(40)}
		if i%7 == 0 {
			s.Code = keys[r.IntN(len(keys))]
		}
		mv := func() map[string]Value {
			switch r.IntN(5) {
			case 0:
				return nil
			case 1:
				return map[string]Value{}
			}
			m := map[string]Value{}
			for range r.IntN(len(keys)) + 1 {
				m[keys[r.IntN(len(keys))]] = val()
			}
			return m
		}
		mc := func() map[string]Count {
			if r.IntN(5) == 0 {
				return nil
			}
			m := map[string]Count{}
			for range r.IntN(len(keys)) {
				m[keys[r.IntN(len(keys))]] = cnt()
			}
			return m
		}
		s.Rates, s.RatesEB, s.Contributions, s.Sectors = mv(), mv(), mv(), mv()
		s.Deprived, s.Censored = mc(), mc()
		if r.IntN(2) == 0 {
			s.Village = map[string]float64{}
			for range r.IntN(4) {
				f := flt()
				if math.IsNaN(f) {
					f = 1.5
				}
				s.Village[keys[r.IntN(len(keys))]] = f
			}
		}
		if math.IsNaN(s.AreaKm2) {
			s.AreaKm2 = 3.25
		}
		want, err := json.Marshal((*reflected)(&s))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AppendJSON(nil); string(got) != string(want) {
			t.Fatalf("score %d:\n got %s\nwant %s", i, got, want)
		}
		if got, err := json.Marshal(&s); err != nil || string(got) != string(want) {
			t.Fatalf("score %d through MarshalJSON: %v\n got %s\nwant %s", i, err, got, want)
		}
	}
}

func BenchmarkNeedScoreJSON(b *testing.B) {
	s := NeedScore{Code: "32.16.01.2001", KecamatanCode: "32.16.01", AreaKm2: 6.06, Households: 610, Registered: 610,
		DenominatorSource: "register", InNeed: 176, H: 0.2885, A: 0.367, M0: 0.106, HEB: 0.2958, M0EB: 0.1087, Density: 29.03,
		Deprived:      map[string]Count{"extreme_poverty": 8, "stunting": 62, "unemployment": 124},
		Censored:      map[string]Count{"extreme_poverty": 8, "stunting": 62, "unemployment": 124},
		Rates:         map[string]Value{"extreme_poverty": 0.0131, "stunted_children": 0.2237, "stunting": 0.1016, "unemployment": 0.2033},
		RatesEB:       map[string]Value{"extreme_poverty": 0.0161, "stunted_children": 0.2195, "stunting": 0.0988, "unemployment": 0.2093},
		Contributions: map[string]Value{"extreme_poverty": 4.12, "stunting": 31.96, "unemployment": 63.92},
		Sectors:       map[string]Value{"ekonomi": 11.27, "kesehatan": 9.88}, ChildrenU5: 295, StuntedChildren: 66, UnemployedAdults: 134,
		HotSpot: HotSpot{Z: 0.959, P: 0.097, Q: 0.4458, Label: "not_significant"}, Rank: 132, RankKecamatan: 6}
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal((*reflected)(&s))
		}
	})
	b.Run("append", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = s.AppendJSON(buf[:0])
		}
	})
}
