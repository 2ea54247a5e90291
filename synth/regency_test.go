package synth

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

var testSeeds = []uint64{1, 2, 7, 2026, 0xdeadbeef}

func dumpRegency(t *testing.T, r *Regency) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRegencyDeterministic(t *testing.T) {
	tests := []struct {
		name      string
		a, b      uint64
		wantEqual bool
	}{
		{"same seed 1", 1, 1, true},
		{"same seed 2026", 2026, 2026, true},
		{"seeds 1 and 2", 1, 2, false},
		{"seeds 0 and 1", 0, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := dumpRegency(t, NewRegency(tt.a))
			b := dumpRegency(t, NewRegency(tt.b))
			if got := bytes.Equal(a, b); got != tt.wantEqual {
				t.Errorf("equal dumps = %v, want %v", got, tt.wantEqual)
			}
		})
	}
}

var (
	villageCodeRe = regexp.MustCompile(`^99\.01\.\d{2}\.[12]\d{3}$`)
	kecCodeRe     = regexp.MustCompile(`^99\.01\.(0[1-9]|1\d|20)$`)
)

func TestRegencyStructure(t *testing.T) {
	for _, seed := range testSeeds {
		t.Run("seed"+strconv.Itoa(int(seed%1e6)), func(t *testing.T) {
			r := regencyFor(seed)
			if r.Code != "99.01" || r.Name == "" {
				t.Errorf("code/name = %q/%q", r.Code, r.Name)
			}
			if n := len(r.Kecamatan); n != 20 {
				t.Errorf("%d kecamatan, want 20", n)
			}
			if n := len(r.Villages); n < 170 || n > 190 {
				t.Errorf("%d villages, want 170–190", n)
			}
			if n := len(r.Estates); n < 4 || n > 5 {
				t.Errorf("%d estates, want 4–5", n)
			}
			kec := map[string]Kecamatan{}
			kecNames := map[string]bool{}
			for i, k := range r.Kecamatan {
				if !kecCodeRe.MatchString(k.Code) {
					t.Errorf("kecamatan code %q", k.Code)
				}
				if i > 0 && k.Code <= r.Kecamatan[i-1].Code {
					t.Errorf("kecamatan not sorted at %s", k.Code)
				}
				if k.Name == "" || kecNames[k.Name] {
					t.Errorf("kecamatan name %q empty or repeated", k.Name)
				}
				kecNames[k.Name] = true
				kec[k.Code] = k
			}
			codes := map[string]bool{}
			names := map[string]bool{}
			perKec := map[string]int{}
			kelurahan := 0
			for i, v := range r.Villages {
				if !villageCodeRe.MatchString(v.Code) {
					t.Errorf("village code %q does not match %s", v.Code, villageCodeRe)
				}
				if codes[v.Code] {
					t.Errorf("repeated village code %s", v.Code)
				}
				codes[v.Code] = true
				if i > 0 && v.Code <= r.Villages[i-1].Code {
					t.Errorf("villages not sorted at %s", v.Code)
				}
				if v.Name == "" || names[v.Name] {
					t.Errorf("village name %q empty or repeated", v.Name)
				}
				names[v.Name] = true
				k, ok := kec[v.KecCode]
				if !ok || !strings.HasPrefix(v.Code, v.KecCode+".") || k.Name != v.KecName {
					t.Errorf("village %s: kecamatan %s/%s inconsistent", v.Code, v.KecCode, v.KecName)
				}
				perKec[v.KecCode]++
				wantKind := KindDesa
				if v.Code[9] == '1' {
					wantKind = KindKelurahan
					kelurahan++
				}
				if v.Kind != wantKind {
					t.Errorf("village %s kind %q, want %q", v.Code, v.Kind, wantKind)
				}
				if v.Population < 3000 || v.Population > 40000 {
					t.Errorf("village %s population %d", v.Code, v.Population)
				}
				if n := len(v.Settlements); n < 1 || n > 4 {
					t.Errorf("village %s has %d settlements", v.Code, n)
				}
				for _, s := range v.Settlements {
					if !planar.MultiPolygonContains(v.Geom, s) {
						t.Errorf("village %s settlement %v outside", v.Code, s)
					}
				}
			}
			if kelurahan != 8 {
				t.Errorf("%d kelurahan, want 8", kelurahan)
			}
			for _, k := range r.Kecamatan {
				if perKec[k.Code] < 5 {
					t.Errorf("kecamatan %s has %d villages", k.Code, perKec[k.Code])
				}
			}
		})
	}
}

func TestRegencyGeometryValid(t *testing.T) {
	for _, seed := range testSeeds {
		r := regencyFor(seed)
		if err := checkPolygon(r.Outline); err != nil {
			t.Errorf("seed %d outline: %v", seed, err)
		}
		if n := len(r.Outline[0]) - 1; n < 60 || n > 100 {
			t.Errorf("seed %d outline has %d vertices", seed, n)
		}
		for _, k := range r.Kecamatan {
			if err := checkMultiPolygon(k.Geom); err != nil {
				t.Errorf("seed %d kecamatan %s: %v", seed, k.Code, err)
			}
		}
		for _, v := range r.Villages {
			if err := checkMultiPolygon(v.Geom); err != nil {
				t.Errorf("seed %d village %s: %v", seed, v.Code, err)
			}
		}
		for _, e := range r.Estates {
			if err := checkPolygon(e.Area); err != nil {
				t.Errorf("seed %d estate %s: %v", seed, e.Name, err)
			}
		}
	}
}

func TestRegencyOutlineAndEstates(t *testing.T) {
	for _, seed := range testSeeds {
		r := regencyFor(seed)
		km2 := geo.Area(r.Outline) / 1e6
		if km2 < 1100 || km2 > 1300 {
			t.Errorf("seed %d: outline %.1f km², want about 1,200", seed, km2)
		}
		b := r.Outline.Bound()
		if b.Min[0] < 106.95 || b.Max[0] > 107.40 || b.Min[1] < -6.55 || b.Max[1] > -6.0 {
			t.Errorf("seed %d: outline bound %v too far from the planned area", seed, b)
		}
		for i, e := range r.Estates {
			if !strings.HasPrefix(e.Name, "Kawasan Industri ") {
				t.Errorf("estate name %q", e.Name)
			}
			a := geo.Area(e.Area) / 1e6
			if a < 3 || a > 15 {
				t.Errorf("seed %d estate %s: %.2f km²", seed, e.Name, a)
			}
			for _, p := range e.Area[0] {
				if !planar.PolygonContains(r.Outline, p) {
					t.Errorf("seed %d estate %s vertex %v outside the regency", seed, e.Name, p)
				}
			}
			if ringsCross(e.Area[0], r.Outline[0]) {
				t.Errorf("seed %d estate %s crosses the outline", seed, e.Name)
			}
			if !planar.PolygonContains(e.Area, e.Center) {
				t.Errorf("seed %d estate %s centre outside", seed, e.Name)
			}
			for _, o := range r.Estates[i+1:] {
				if ringsCross(e.Area[0], o.Area[0]) || planar.PolygonContains(o.Area, e.Center) {
					t.Errorf("seed %d estates %s and %s overlap", seed, e.Name, o.Name)
				}
			}
		}
	}
}

// TestRegencyTiling checks that villages tile their kecamatan and kecamatan
// tile the outline: equal area sums, and every sample point lies in exactly
// one village, of the right kecamatan.
func TestRegencyTiling(t *testing.T) {
	for _, seed := range testSeeds {
		r := regencyFor(seed)
		outlineArea := planar.Area(r.Outline)
		var kecSum float64
		for _, k := range r.Kecamatan {
			ka := planar.Area(k.Geom)
			kecSum += ka
			var vs float64
			for _, v := range r.Villages {
				if v.KecCode == k.Code {
					vs += planar.Area(v.Geom)
				}
			}
			if !relClose(vs, ka, 1e-9) {
				t.Errorf("seed %d kecamatan %s: villages %.15g, kecamatan %.15g", seed, k.Code, vs, ka)
			}
		}
		if !relClose(kecSum, outlineArea, 1e-9) {
			t.Errorf("seed %d: kecamatan sum %.15g, outline %.15g", seed, kecSum, outlineArea)
		}

		rnd := rand.New(rand.NewPCG(seed, 99))
		b := r.Outline.Bound()
		vb := make([]orb.Bound, len(r.Villages))
		for i, v := range r.Villages {
			vb[i] = v.Geom.Bound()
		}
		for range 5000 {
			p := orb.Point{b.Min[0] + rnd.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rnd.Float64()*(b.Max[1]-b.Min[1])}
			in := planar.PolygonContains(r.Outline, p)
			var hits []Village
			for i, v := range r.Villages {
				if vb[i].Contains(p) && planar.MultiPolygonContains(v.Geom, p) {
					hits = append(hits, v)
				}
			}
			kecHits := 0
			var kecCode string
			for _, k := range r.Kecamatan {
				if planar.MultiPolygonContains(k.Geom, p) {
					kecHits++
					kecCode = k.Code
				}
			}
			want := 0
			if in {
				want = 1
			}
			if len(hits) != want || kecHits != want {
				t.Fatalf("seed %d point %v (inside outline %v) in %d villages and %d kecamatan", seed, p, in, len(hits), kecHits)
			}
			if in && hits[0].KecCode != kecCode {
				t.Fatalf("seed %d point %v in village %s but kecamatan %s", seed, p, hits[0].Code, kecCode)
			}
		}
	}
}

func BenchmarkNewRegency(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		NewRegency(uint64(i))
	}
}
