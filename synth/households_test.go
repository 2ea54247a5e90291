package synth

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func collect(t *testing.T, villages []Village, opt HouseholdOptions) []Household {
	t.Helper()
	var hs []Household
	if err := Households(villages, opt, func(h Household) error {
		hs = append(hs, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return hs
}

func csvBytes(t *testing.T, villages []Village, opt HouseholdOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHouseholdsCSV(&b, villages, opt); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// firstLines returns the first n lines of b.
func firstLines(b []byte, n int) []byte {
	i := 0
	for ; n > 0 && i < len(b); n-- {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b
		}
		i += j + 1
	}
	return b[:i]
}

func TestHouseholdsCSVDeterministic(t *testing.T) {
	vs := regencyFor(1).Villages
	tests := []struct {
		name      string
		a, b      HouseholdOptions
		wantEqual bool
	}{
		{"same seed", HouseholdOptions{N: 5000, Seed: 9}, HouseholdOptions{N: 5000, Seed: 9}, true},
		{"same seed, dirty", HouseholdOptions{N: 5000, Seed: 9, Dirty: 0.1}, HouseholdOptions{N: 5000, Seed: 9, Dirty: 0.1}, true},
		{"different seed", HouseholdOptions{N: 5000, Seed: 9}, HouseholdOptions{N: 5000, Seed: 10}, false},
		{"dirty vs clean", HouseholdOptions{N: 5000, Seed: 9}, HouseholdOptions{N: 5000, Seed: 9, Dirty: 0.1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := firstLines(csvBytes(t, vs, tt.a), 1001)
			b := firstLines(csvBytes(t, vs, tt.b), 1001)
			if bytes.Count(a, []byte("\n")) != 1001 {
				t.Fatalf("expected 1001 lines")
			}
			if got := bytes.Equal(a, b); got != tt.wantEqual {
				t.Errorf("equal first 1000 rows = %v, want %v", got, tt.wantEqual)
			}
		})
	}
}

var (
	idRe     = regexp.MustCompile(`^HH-\d{7}$`)
	numRe    = regexp.MustCompile(`^9901\d{12}$`)
	addrRe   = regexp.MustCompile(`^(Kp\.|Jl\.|Gg\.) .+ RT \d{3}/RW \d{3}, (Desa|Kelurahan) .+$`)
	nameRe   = regexp.MustCompile(`^[A-Z][a-z]+( [A-Z][a-z]+)?$`)
	dateOKRe = regexp.MustCompile(`^9901\d{2}(0[1-9]|[12]\d|3[01]|4[1-9]|[56]\d|7[01])(0[1-9]|1[0-2])\d{2}\d{4}$`)
)

func TestHouseholdsFields(t *testing.T) {
	r := regencyFor(2)
	byCode := map[string]Village{}
	for _, v := range r.Villages {
		byCode[v.Code] = v
	}
	hs := collect(t, r.Villages, HouseholdOptions{N: 30000, Seed: 5})
	if len(hs) != 30000 {
		t.Fatalf("%d households, want 30000", len(hs))
	}
	seenID, seenKK, seenNIK := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i, h := range hs {
		v, ok := byCode[h.VillageCode]
		switch {
		case !ok:
			t.Fatalf("row %d: unknown village %s", i, h.VillageCode)
		case h.ExternalID != "HH-"+pad(i+1, 7) || !idRe.MatchString(h.ExternalID):
			t.Fatalf("row %d: id %s", i, h.ExternalID)
		case !numRe.MatchString(h.KK) || !numRe.MatchString(h.NIK):
			t.Fatalf("row %d: KK %s NIK %s", i, h.KK, h.NIK)
		case !dateOKRe.MatchString(h.NIK):
			t.Fatalf("row %d: NIK %s has no valid birth date block", i, h.NIK)
		case h.KK[4:6] != h.VillageCode[6:8] || h.NIK[4:6] != h.VillageCode[6:8]:
			t.Fatalf("row %d: KK/NIK kecamatan digits do not match %s", i, h.VillageCode)
		case !addrRe.MatchString(h.Address) || !strings.HasSuffix(h.Address, " "+v.Name):
			t.Fatalf("row %d: address %q", i, h.Address)
		case !nameRe.MatchString(h.HeadName):
			t.Fatalf("row %d: head name %q", i, h.HeadName)
		case h.Members < 1 || h.Members > 9:
			t.Fatalf("row %d: members %d", i, h.Members)
		case h.ChildrenU5 < 0 || h.ChildrenU5 > 3 || h.ChildrenU5 >= h.Members && h.Members > 0 && h.ChildrenU5 > 0:
			t.Fatalf("row %d: %d under-fives in %d members", i, h.ChildrenU5, h.Members)
		case h.Stunted < 0 || h.Stunted > h.ChildrenU5:
			t.Fatalf("row %d: %d stunted of %d", i, h.Stunted, h.ChildrenU5)
		case h.UnemployedAdults < 0 || h.UnemployedAdults > h.Adults():
			t.Fatalf("row %d: %d unemployed of %d adults", i, h.UnemployedAdults, h.Adults())
		case h.Decile < 0 || h.Decile > 10:
			t.Fatalf("row %d: decile %d", i, h.Decile)
		case h.Lon != round6(h.Lon) || h.Lat != round6(h.Lat):
			t.Fatalf("row %d: coordinates %v,%v not rounded to 6 decimals", i, h.Lon, h.Lat)
		case !planar.MultiPolygonContains(v.Geom, orb.Point{h.Lon, h.Lat}):
			t.Fatalf("row %d: point %v,%v outside village %s", i, h.Lon, h.Lat, v.Code)
		}
		if seenID[h.ExternalID] || seenKK[h.KK] || seenNIK[h.NIK] {
			t.Fatalf("row %d: repeated id/KK/NIK %s %s %s", i, h.ExternalID, h.KK, h.NIK)
		}
		seenID[h.ExternalID], seenKK[h.KK], seenNIK[h.NIK] = true, true, true
	}
}

// TestHouseholdsAllocation checks largest-remainder allocation by village
// population and by an explicit population map.
func TestHouseholdsAllocation(t *testing.T) {
	vs := regencyFor(1).Villages
	first3 := map[string]int{vs[0].Code: 100, vs[1].Code: 300, vs[2].Code: 600}
	tests := []struct {
		name   string
		n      int
		pop    map[string]int
		weight func(Village) float64
	}{
		{"village population", 12345, nil, func(v Village) float64 { return float64(v.Population) }},
		{"population map", 1001, first3, func(v Village) float64 { return float64(first3[v.Code]) }},
		{"fewer households than villages", 50, nil, func(v Village) float64 { return float64(v.Population) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := map[string]int{}
			last := ""
			if err := Households(vs, HouseholdOptions{N: tt.n, Seed: 1, Population: tt.pop}, func(h Household) error {
				if h.VillageCode < last {
					return errors.New("households not grouped by village in order")
				}
				last = h.VillageCode
				counts[h.VillageCode]++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, v := range vs {
				sum += tt.weight(v)
			}
			total := 0
			for _, v := range vs {
				want := float64(tt.n) * tt.weight(v) / sum
				if got := float64(counts[v.Code]); math.Abs(got-want) >= 1 {
					t.Errorf("village %s: %v households, want %.2f±1", v.Code, got, want)
				}
				total += counts[v.Code]
			}
			if total != tt.n {
				t.Errorf("total %d, want %d", total, tt.n)
			}
		})
	}
}

// TestHouseholdRates checks the aggregate rates over 200,000 households.
func TestHouseholdRates(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 households")
	}
	r := regencyFor(3)
	var n, members, u5, stunted, adults, unemployed, poor, registered, d1, d1poor, poorRegistered, poorD1 int
	var poorStunt, poorU5, richStunt, richU5, poorUnemp, poorAdults, richUnemp, richAdults int
	type vr struct{ n, poor int }
	perVillage := map[string]*vr{}
	err := Households(r.Villages, HouseholdOptions{N: 200000, Seed: 11}, func(h Household) error {
		n++
		members += h.Members
		u5 += h.ChildrenU5
		stunted += h.Stunted
		adults += h.Adults()
		unemployed += h.UnemployedAdults
		p := perVillage[h.VillageCode]
		if p == nil {
			p = &vr{}
			perVillage[h.VillageCode] = p
		}
		p.n++
		if h.ExtremePoor {
			poor++
			p.poor++
			poorStunt += h.Stunted
			poorU5 += h.ChildrenU5
			poorUnemp += h.UnemployedAdults
			poorAdults += h.Adults()
			if h.Decile > 0 {
				poorRegistered++
				if h.Decile == 1 {
					poorD1++
				}
			}
		} else {
			richStunt += h.Stunted
			richU5 += h.ChildrenU5
			richUnemp += h.UnemployedAdults
			richAdults += h.Adults()
		}
		if h.Decile > 0 {
			registered++
		}
		if h.Decile == 1 {
			d1++
			if h.ExtremePoor {
				d1poor++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ratio := func(a, b int) float64 { return float64(a) / float64(b) }
	tests := []struct {
		name     string
		got      float64
		min, max float64
	}{
		{"mean members", ratio(members, n), 3.5, 4.1},
		{"mean under-fives", ratio(u5, n), 0.38, 0.52},
		{"stunted / under-fives", ratio(stunted, u5), 0.15, 0.25},
		{"extreme poor share", ratio(poor, n), 0.02, 0.04},
		{"unemployed / adults", ratio(unemployed, adults), 0.05, 0.11},
		{"share with a decile", ratio(registered, n), 0.65, 0.75},
		{"P(extreme poor | desil 1)", ratio(d1poor, d1), 0.7, 1},
		{"P(desil 1 | extreme poor, registered)", ratio(poorD1, poorRegistered), 0.85, 1},
		{"stunting: poor / non-poor", ratio(poorStunt, poorU5) / ratio(richStunt, richU5), 1.3, 3},
		{"unemployment: poor / non-poor", ratio(poorUnemp, poorAdults) / ratio(richUnemp, richAdults), 1.3, 3},
	}
	for _, tt := range tests {
		if tt.got < tt.min || tt.got > tt.max || math.IsNaN(tt.got) {
			t.Errorf("%s = %.4f, want %.2f–%.2f", tt.name, tt.got, tt.min, tt.max)
		} else {
			t.Logf("%s = %.4f", tt.name, tt.got)
		}
	}
	// Villages differ: the extreme-poverty share must vary between villages.
	lo, hi := 1.0, 0.0
	for _, p := range perVillage {
		if p.n >= 1500 {
			s := ratio(p.poor, p.n)
			lo, hi = min(lo, s), max(hi, s)
		}
	}
	if hi-lo < 0.02 {
		t.Errorf("extreme-poor share ranges only %.3f–%.3f over villages", lo, hi)
	}
}

// rowProblem reports why a CSV record is not a clean household row, or "".
func rowProblem(rec []string, seen map[string]bool) string {
	if len(rec) != len(HouseholdCSVHeader) {
		return "field count"
	}
	if seen[rec[0]] {
		return "duplicate id"
	}
	if !utf8.ValidString(strings.Join(rec, "")) {
		return "not UTF-8"
	}
	for _, c := range []int{8, 9, 10, 11, 12, 13} {
		if _, err := strconv.Atoi(rec[c]); err != nil {
			return "non-numeric " + HouseholdCSVHeader[c]
		}
	}
	if rec[6] == "" || rec[7] == "" {
		return "blank coordinates"
	}
	lon, err1 := strconv.ParseFloat(rec[6], 64)
	lat, err2 := strconv.ParseFloat(rec[7], 64)
	if err1 != nil || err2 != nil {
		return "unparsable coordinates"
	}
	if lon < 106 || lon > 108.5 || lat < -7.5 || lat > -5.5 {
		return "coordinates out of area"
	}
	u5, _ := strconv.Atoi(rec[9])
	st, _ := strconv.Atoi(rec[10])
	if st > u5 {
		return "stunted > under-fives"
	}
	return ""
}

func TestWriteHouseholdsCSVDirty(t *testing.T) {
	vs := regencyFor(1).Villages
	tests := []struct {
		dirty float64
		n     int
	}{
		{0, 5000},
		{0.03, 20000},
		{0.2, 20000},
		{1, 2000},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.dirty, 'f', -1, 64), func(t *testing.T) {
			opt := HouseholdOptions{N: tt.n, Seed: 4, Dirty: tt.dirty}
			clean := collect(t, vs, opt)
			cr := csv.NewReader(bytes.NewReader(csvBytes(t, vs, opt)))
			cr.FieldsPerRecord = -1
			recs, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("dirty CSV does not parse: %v", err)
			}
			if len(recs) != tt.n+1 || strings.Join(recs[0], ",") != strings.Join(HouseholdCSVHeader, ",") {
				t.Fatalf("%d records / header %v", len(recs), recs[0])
			}
			want := make([]string, len(HouseholdCSVHeader))
			seen := map[string]bool{}
			dirty := 0
			kinds := map[string]int{}
			for i, rec := range recs[1:] {
				householdRecord(want, clean[i])
				if strings.Join(rec, "\x00") == strings.Join(want, "\x00") {
					if p := rowProblem(rec, seen); p != "" {
						t.Fatalf("clean row %d flagged: %s", i, p)
					}
				} else {
					dirty++
					p := rowProblem(rec, seen)
					if p == "" {
						t.Fatalf("spoiled row %d passes validation: %v", i, rec)
					}
					kinds[p]++
				}
				seen[rec[0]] = true
			}
			share := float64(dirty) / float64(tt.n)
			if math.Abs(share-tt.dirty) > 0.01 {
				t.Errorf("dirty share %.4f, want %.2f±0.01", share, tt.dirty)
			}
			if tt.dirty > 0 {
				for _, k := range []string{"field count", "duplicate id", "non-numeric jumlah_anggota", "blank coordinates", "not UTF-8", "unparsable coordinates", "coordinates out of area", "stunted > under-fives"} {
					if kinds[k] == 0 {
						t.Errorf("no spoiled row of kind %q (%v)", k, kinds)
					}
				}
			}
		})
	}
}

func TestHouseholdsErrors(t *testing.T) {
	vs := regencyFor(1).Villages
	stop := errors.New("stop")
	tests := []struct {
		name     string
		villages []Village
		opt      HouseholdOptions
		fn       func(Household) error
		want     string
	}{
		{"negative N", vs, HouseholdOptions{N: -1}, nil, "negative"},
		{"no villages", nil, HouseholdOptions{N: 10}, nil, "no villages"},
		{"empty population map", vs, HouseholdOptions{N: 10, Population: map[string]int{"x": 5}}, nil, "no weight"},
		{"callback error", vs, HouseholdOptions{N: 10}, func(Household) error { return stop }, "stop"},
		{"village without geometry", []Village{{Code: "99.01.01.2001", Population: 5}}, HouseholdOptions{N: 1}, nil, "no geometry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := tt.fn
			if fn == nil {
				fn = func(Household) error { return nil }
			}
			err := Households(tt.villages, tt.opt, fn)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if err := WriteHouseholdsCSV(io.Discard, vs, HouseholdOptions{N: 1, Dirty: 1.5}); err == nil {
		t.Error("Dirty 1.5 accepted")
	}
	if err := WriteHouseholdsCSV(io.Discard, vs, HouseholdOptions{N: 1, Dirty: math.NaN()}); err == nil {
		t.Error("Dirty NaN accepted")
	}
	// N = 0 writes the header only; villages without population weigh the same.
	var b bytes.Buffer
	if err := WriteHouseholdsCSV(&b, vs, HouseholdOptions{}); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("N=0: %v %q", err, b.String())
	}
	noPop := []Village{vs[0], vs[1]}
	noPop[0].Population, noPop[1].Population = 0, 0
	if hs := collect(t, noPop, HouseholdOptions{N: 10}); len(hs) != 10 || hs[0].VillageCode != vs[0].Code || hs[9].VillageCode != vs[1].Code {
		t.Errorf("equal weights: got %d households", len(hs))
	}
}

// TestHouseholdsMemory streams a million households and checks that the heap
// does not grow with N.
func TestHouseholdsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million households")
	}
	vs := regencyFor(1).Villages
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak uint64
	n := 0
	err := Households(vs, HouseholdOptions{N: 1_000_000, Seed: 1}, func(Household) error {
		n++
		if n%100_000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if grow := int64(peak) - int64(base); grow > 8<<20 {
		t.Errorf("heap grew by %d bytes while streaming", grow)
	} else {
		t.Logf("heap growth %d bytes", grow)
	}
}

func BenchmarkHouseholds(b *testing.B) {
	vs := NewRegency(1).Villages
	for b.Loop() {
		if err := WriteHouseholdsCSV(io.Discard, vs, HouseholdOptions{N: 100_000, Seed: 1, Dirty: 0.02}); err != nil {
			b.Fatal(err)
		}
	}
}
