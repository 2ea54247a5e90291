package matching

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// MarshalJSON writes s with AppendJSON.
func (s NeedScore) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// AppendJSON appends the JSON of s to b: the bytes encoding/json's reflection
// writes for the struct (TestAppendJSONMatchesMarshal), several times faster —
// rankings and exports of 80,000 villages write 80,000 of these, and
// reflection and map-key sorting were most of the time.
func (s *NeedScore) AppendJSON(b []byte) []byte {
	b = append(b, `{"code":`...)
	b = appendJSONString(b, s.Code)
	b = append(b, `,"kecamatan_code":`...)
	b = appendJSONString(b, s.KecamatanCode)
	b = append(b, `,"area_km2":`...)
	b = appendJSONFloat(b, s.AreaKm2)
	if len(s.Village) > 0 {
		b = append(b, `,"village_indicators":`...)
		b = appendJSONMap(b, s.Village, func(f float64, b []byte) []byte { return appendJSONFloat(b, f) })
	}
	b = append(b, `,"households":`...)
	b = s.Households.appendJSON(b)
	b = append(b, `,"registered":`...)
	b = s.Registered.appendJSON(b)
	b = append(b, `,"denominator_source":`...)
	b = appendJSONString(b, s.DenominatorSource)
	b = append(b, `,"in_need":`...)
	b = s.InNeed.appendJSON(b)
	b = append(b, `,"h":`...)
	b = s.H.appendJSON(b)
	b = append(b, `,"a":`...)
	b = s.A.appendJSON(b)
	b = append(b, `,"m0":`...)
	b = s.M0.appendJSON(b)
	b = append(b, `,"h_eb":`...)
	b = s.HEB.appendJSON(b)
	b = append(b, `,"m0_eb":`...)
	b = s.M0EB.appendJSON(b)
	b = append(b, `,"density":`...)
	b = s.Density.appendJSON(b)
	b = append(b, `,"deprived":`...)
	b = appendJSONMap(b, s.Deprived, Count.appendJSON)
	b = append(b, `,"censored":`...)
	b = appendJSONMap(b, s.Censored, Count.appendJSON)
	b = append(b, `,"rates":`...)
	b = appendJSONMap(b, s.Rates, Value.appendJSON)
	b = append(b, `,"rates_eb":`...)
	b = appendJSONMap(b, s.RatesEB, Value.appendJSON)
	b = append(b, `,"contributions":`...)
	b = appendJSONMap(b, s.Contributions, Value.appendJSON)
	b = append(b, `,"children_u5":`...)
	b = s.ChildrenU5.appendJSON(b)
	b = append(b, `,"stunted_children":`...)
	b = s.StuntedChildren.appendJSON(b)
	b = append(b, `,"unemployed_adults":`...)
	b = s.UnemployedAdults.appendJSON(b)
	b = append(b, `,"population":`...)
	b = s.Population.appendJSON(b)
	b = append(b, `,"sectors":`...)
	b = appendJSONMap(b, s.Sectors, Value.appendJSON)
	if s.Approximate {
		b = append(b, `,"approximate":true`...)
	}
	b = append(b, `,"hotspot":{"z":`...)
	b = s.HotSpot.Z.appendJSON(b)
	b = append(b, `,"p":`...)
	b = s.HotSpot.P.appendJSON(b)
	b = append(b, `,"q":`...)
	b = s.HotSpot.Q.appendJSON(b)
	b = append(b, `,"label":`...)
	b = appendJSONString(b, s.HotSpot.Label)
	b = append(b, `},"rank":`...)
	b = strconv.AppendInt(b, int64(s.Rank), 10)
	b = append(b, `,"rank_kecamatan":`...)
	b = strconv.AppendInt(b, int64(s.RankKecamatan), 10)
	return append(b, '}')
}

func (c Count) appendJSON(b []byte) []byte {
	if c < 0 {
		return append(b, `"\u003c5"`...) // "<5", HTML-escaped as encoding/json does
	}
	return strconv.AppendInt(b, int64(c), 10)
}

func (v Value) appendJSON(b []byte) []byte {
	if !v.Valid() {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, float64(v), 'g', 10, 64)
}

// appendJSONMap writes m with its keys sorted, as encoding/json does; a nil map
// is null.
func appendJSONMap[V any](b []byte, m map[string]V, val func(V, []byte) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = val(m[k], b)
	}
	return append(b, '}')
}

// appendJSONString quotes s; strings that need escaping (rare here: codes and
// indicator names) go through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat writes f as encoding/json's float64 encoder does; NaN and
// infinities (on which json.Marshal fails) are null.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
