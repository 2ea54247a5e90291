package synth

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// Property names recognised by VillagesFromGeoJSON, in order of preference.
// Matching is exact first, then case-insensitive.
var (
	codeFields    = []string{"kode_desa", "kode", "KDEPUM", "code"}
	nameFields    = []string{"nama_desa", "nama", "NAMOBJ", "WADMKD", "name"}
	kecCodeFields = []string{"kode_kecamatan"}
	kecNameFields = []string{"nama_kecamatan", "WADMKC"}
	kindFields    = []string{"jenis"}
)

// Column names recognised by PopulationFromCSV, in order of preference
// (case-insensitive).
var (
	popCodeColumns  = []string{"kode_desa_kemendagri", "kode_desa", "kode"}
	popValueColumns = []string{"penduduk_sp2010", "penduduk", "population", "jumlah_penduduk"}
)

type geoJSONFeature struct {
	Properties map[string]any `json:"properties"`
	Geometry   *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

// VillagesFromGeoJSON reads village polygons from a GeoJSON FeatureCollection
// (e.g. ../shared/data/bekasi/bekasi_desa.geojson).
//
// Recognised properties: code (kode_desa, kode, KDEPUM, code), name
// (nama_desa, nama, NAMOBJ, WADMKD, name), kecamatan code (kode_kecamatan;
// otherwise the first three blocks of a dotted village code), kecamatan name
// (nama_kecamatan, WADMKC) and kind (jenis; otherwise from the code: a fourth
// block starting with 1 is a kelurahan, with 2 a desa). A Polygon is promoted
// to a MultiPolygon; unclosed rings are closed and rings are re-oriented to
// RFC 7946 (exterior counter-clockwise, holes clockwise), nothing else is
// repaired. The villages are returned sorted by Code. Settlements (1–4) are
// generated deterministically inside each village from (seed, code);
// Population is 0. Errors name the feature index and the reason.
func VillagesFromGeoJSON(r io.Reader, seed uint64) ([]Village, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, fmt.Errorf("synth: reading GeoJSON: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("synth: GeoJSON type %q, want FeatureCollection", fc.Type)
	}
	seen := map[string]int{}
	villages := make([]Village, 0, len(fc.Features))
	for i, raw := range fc.Features {
		var f geoJSONFeature
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("synth: feature %d: %w", i, err)
		}
		code := propString(f.Properties, codeFields)
		if code == "" {
			return nil, fmt.Errorf("synth: feature %d: no village code (looked for %s)", i, strings.Join(codeFields, ", "))
		}
		if j, dup := seen[code]; dup {
			return nil, fmt.Errorf("synth: feature %d: village code %s repeats feature %d", i, code, j)
		}
		seen[code] = i
		if f.Geometry == nil {
			return nil, fmt.Errorf("synth: feature %d (%s): no geometry", i, code)
		}
		geom, err := parseMultiPolygon(f.Geometry.Type, f.Geometry.Coordinates)
		if err != nil {
			return nil, fmt.Errorf("synth: feature %d (%s): %w", i, code, err)
		}
		v := Village{
			Code:    code,
			Name:    propString(f.Properties, nameFields),
			KecCode: propString(f.Properties, kecCodeFields),
			KecName: propString(f.Properties, kecNameFields),
			Kind:    strings.ToLower(propString(f.Properties, kindFields)),
			Geom:    geom,
		}
		parts := strings.Split(code, ".")
		if v.KecCode == "" && len(parts) == 4 {
			v.KecCode = strings.Join(parts[:3], ".")
		}
		if v.Kind == "" && len(parts) == 4 && parts[3] != "" {
			switch parts[3][0] {
			case '1':
				v.Kind = KindKelurahan
			case '2':
				v.Kind = KindDesa
			}
		}
		r := newRand(seed, tagSettlements, hashString(code))
		v.Settlements = makeSettlements(r, geom, 1+r.IntN(4))
		villages = append(villages, v)
	}
	if len(villages) == 0 {
		return nil, errors.New("synth: GeoJSON has no features")
	}
	slices.SortFunc(villages, func(a, b Village) int { return strings.Compare(a.Code, b.Code) })
	return villages, nil
}

// propString returns the first non-empty property among keys (exact match
// first, then case-insensitive) as a trimmed string.
func propString(props map[string]any, keys []string) string {
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return strings.TrimSpace(x)
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			return x.String()
		}
		return ""
	}
	for _, k := range keys {
		if s := str(props[k]); s != "" {
			return s
		}
	}
	// Case-insensitive: look the keys up in a deterministic order.
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, k := range keys {
		for _, name := range names {
			if strings.EqualFold(name, k) {
				if s := str(props[name]); s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// parseMultiPolygon decodes Polygon or MultiPolygon coordinates.
func parseMultiPolygon(typ string, coords json.RawMessage) (orb.MultiPolygon, error) {
	var mp [][][][2]float64
	switch typ {
	case "Polygon":
		var p [][][2]float64
		if err := json.Unmarshal(coords, &p); err != nil {
			return nil, fmt.Errorf("bad Polygon coordinates: %w", err)
		}
		mp = [][][][2]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(coords, &mp); err != nil {
			return nil, fmt.Errorf("bad MultiPolygon coordinates: %w", err)
		}
	default:
		return nil, fmt.Errorf("geometry type %q is not Polygon or MultiPolygon", typ)
	}
	var out orb.MultiPolygon
	for pi, p := range mp {
		if len(p) == 0 {
			return nil, fmt.Errorf("polygon %d has no rings", pi)
		}
		var poly orb.Polygon
		for ri, ring := range p {
			rg := make(orb.Ring, 0, len(ring)+1)
			for _, c := range ring {
				if math.IsNaN(c[0]) || math.IsNaN(c[1]) || math.IsInf(c[0], 0) || math.IsInf(c[1], 0) {
					return nil, fmt.Errorf("polygon %d ring %d: non-finite coordinate", pi, ri)
				}
				rg = append(rg, orb.Point{c[0], c[1]})
			}
			if len(rg) > 0 && rg[0] != rg[len(rg)-1] {
				rg = append(rg, rg[0])
			}
			if len(rg) < 4 {
				return nil, fmt.Errorf("polygon %d ring %d: %d points, need at least 3 distinct", pi, ri, len(ring))
			}
			a := ringArea(rg[:len(rg)-1])
			if a == 0 {
				return nil, fmt.Errorf("polygon %d ring %d: zero area", pi, ri)
			}
			if (ri == 0) != (a > 0) {
				slices.Reverse(rg)
			}
			poly = append(poly, rg)
		}
		out = append(out, poly)
	}
	if len(out) == 0 {
		return nil, errors.New("empty geometry")
	}
	return out, nil
}

// PopulationFromCSV reads village populations from a CSV with a header row, a
// village-code column (kode_desa_kemendagri, kode_desa, kode) and a
// population column (penduduk_sp2010, penduduk, population,
// jumlah_penduduk), e.g. ../shared/data/bekasi/bekasi_penduduk_desa_sp2010.csv.
// Column names are matched case-insensitively. Thousands separators
// ("12.345", "12,345") are accepted. Errors name the row (1 = header) and
// the reason; a repeated code and a row whose field count differs from the
// header's (e.g. an unquoted "1,234") are errors.
func PopulationFromCSV(r io.Reader) (map[string]int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("synth: population CSV row 1 (header): %w", err)
	}
	col := func(names []string) int {
		for _, n := range names {
			for i, h := range header {
				h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
				if strings.EqualFold(h, n) {
					return i
				}
			}
		}
		return -1
	}
	ci, pi := col(popCodeColumns), col(popValueColumns)
	if ci < 0 {
		return nil, fmt.Errorf("synth: population CSV row 1 (header): no code column (looked for %s)", strings.Join(popCodeColumns, ", "))
	}
	if pi < 0 {
		return nil, fmt.Errorf("synth: population CSV row 1 (header): no population column (looked for %s)", strings.Join(popValueColumns, ", "))
	}
	out := map[string]int{}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("synth: population CSV row %d: %w", row, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("synth: population CSV row %d: %d fields, the header has %d", row, len(rec), len(header))
		}
		code := strings.TrimSpace(rec[ci])
		if code == "" {
			return nil, fmt.Errorf("synth: population CSV row %d: empty village code", row)
		}
		n, err := parseCount(rec[pi])
		if err != nil {
			return nil, fmt.Errorf("synth: population CSV row %d (%s): population %q: %v", row, code, rec[pi], err)
		}
		if _, dup := out[code]; dup {
			return nil, fmt.Errorf("synth: population CSV row %d: village code %s repeats", row, code)
		}
		out[code] = n
	}
	return out, nil
}

// parseCount parses a non-negative integer, allowing thousands separators.
func parseCount(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	if strings.ContainsAny(s, ".,") {
		groups := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' })
		ok := len(groups) > 1 && len(groups[0]) >= 1 && len(groups[0]) <= 3
		for _, g := range groups[1:] {
			ok = ok && len(g) == 3
		}
		if !ok || strings.Contains(s, ".,") || strings.Contains(s, ",.") {
			return 0, errors.New("not a whole number")
		}
		s = strings.Join(groups, "")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New("not a whole number")
	}
	if n < 0 {
		return 0, errors.New("negative")
	}
	return n, nil
}
