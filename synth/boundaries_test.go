package synth

import (
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func loadBekasi(t *testing.T) []Village {
	t.Helper()
	f, err := os.Open(sharedFile(t, "bekasi_desa.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := VillagesFromGeoJSON(f, 1)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVillagesFromGeoJSONBekasi(t *testing.T) {
	vs := loadBekasi(t)
	if len(vs) != 187 {
		t.Fatalf("%d villages, want 187", len(vs))
	}
	kinds := map[string]int{}
	for i, v := range vs {
		if i > 0 && v.Code <= vs[i-1].Code {
			t.Errorf("not sorted by code at %s", v.Code)
		}
		if !strings.HasPrefix(v.Code, "32.16.") || v.Name == "" || v.KecName == "" || !strings.HasPrefix(v.Code, v.KecCode+".") {
			t.Errorf("village %+v: bad code/name/kecamatan", v.Code)
		}
		kinds[v.Kind]++
		if v.Population != 0 {
			t.Errorf("village %s population %d, want 0", v.Code, v.Population)
		}
		for _, p := range v.Geom {
			for ri, r := range p {
				if r[0] != r[len(r)-1] {
					t.Errorf("village %s: ring not closed", v.Code)
				}
				if a := signedArea(r); (ri == 0) != (a > 0) {
					t.Errorf("village %s: ring %d orientation not RFC 7946", v.Code, ri)
				}
			}
		}
		if n := len(v.Settlements); n < 1 || n > 4 {
			t.Errorf("village %s: %d settlements", v.Code, n)
		}
		for _, s := range v.Settlements {
			if !planar.MultiPolygonContains(v.Geom, s) {
				t.Errorf("village %s: settlement %v outside", v.Code, s)
			}
		}
		if v.Code == "32.16.03.2004" && len(v.Geom) != 2 {
			t.Errorf("32.16.03.2004 has %d polygons, want 2", len(v.Geom))
		}
	}
	if kinds[KindKelurahan] != 8 || kinds[KindDesa] != 179 {
		t.Errorf("kinds %v, want 8 kelurahan and 179 desa", kinds)
	}
	found := false
	for _, v := range vs {
		found = found || v.Code == "32.16.03.2004"
	}
	if !found {
		t.Error("32.16.03.2004 missing")
	}
}

func TestHouseholdsOnBekasi(t *testing.T) {
	vs := loadBekasi(t)
	f, err := os.Open(sharedFile(t, "bekasi_penduduk_desa_sp2010.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pop, err := PopulationFromCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]Village{}
	for _, v := range vs {
		byCode[v.Code] = v
	}
	perVillage := map[string]int{}
	hs := collect(t, vs, HouseholdOptions{N: 20000, Seed: 3, Population: pop})
	for i, h := range hs {
		v := byCode[h.VillageCode]
		if !planar.MultiPolygonContains(v.Geom, orb.Point{h.Lon, h.Lat}) {
			t.Fatalf("household %d outside its village %s", i, h.VillageCode)
		}
		if h.KK[4:6] != h.VillageCode[6:8] || !strings.HasPrefix(h.NIK, "9901") {
			t.Fatalf("household %d: KK %s NIK %s for %s", i, h.KK, h.NIK, h.VillageCode)
		}
		perVillage[h.VillageCode]++
	}
	if len(perVillage) != 187 {
		t.Errorf("households in %d villages, want 187", len(perVillage))
	}
}

func TestPopulationFromCSVBekasi(t *testing.T) {
	f, err := os.Open(sharedFile(t, "bekasi_penduduk_desa_sp2010.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pop, err := PopulationFromCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, n := range pop {
		sum += n
	}
	if len(pop) != 187 || sum != 2630401 {
		t.Errorf("%d villages, sum %d; want 187 and 2,630,401", len(pop), sum)
	}
	if pop["32.16.18.2009"] != 5030 {
		t.Errorf("Ragemanunggal population %d, want 5030", pop["32.16.18.2009"])
	}
}

func TestVillagesFromGeoJSONVariants(t *testing.T) {
	const square = `[[107.0,-6.3],[107.0,-6.31],[107.01,-6.31],[107.01,-6.3]]` // clockwise, not closed
	tests := []struct {
		name            string
		in              string
		wantErr         string
		code, nm, kecC  string
		kecN, kind      string
		polygons, rings int
	}{
		{
			name: "kemendagri fields, polygon promoted",
			in:   `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode_desa":"32.16.01.1007","nama_desa":"Setia Asih","kode_kecamatan":"32.16.01","nama_kecamatan":"Tarumajaya","jenis":"Kelurahan"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}}]}`,
			code: "32.16.01.1007", nm: "Setia Asih", kecC: "32.16.01", kecN: "Tarumajaya", kind: "kelurahan", polygons: 1, rings: 1,
		},
		{
			name: "BIG fields, kind and kecamatan from the code",
			in:   `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"KDEPUM":"32.16.05.2001","NAMOBJ":"Sukamekar","WADMKC":"Tambun"},"geometry":{"type":"MultiPolygon","coordinates":[[` + square + `]]}}]}`,
			code: "32.16.05.2001", nm: "Sukamekar", kecC: "32.16.05", kecN: "Tambun", kind: "desa", polygons: 1, rings: 1,
		},
		{
			name: "case-insensitive keys, numeric code, hole",
			in:   `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"CODE":3216052001,"Name":"X"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[4,2],[4,4],[2,4],[2,2]]]}}]}`,
			code: "3216052001", nm: "X", polygons: 1, rings: 2,
		},
		{name: "not a collection", in: `{"type":"Feature"}`, wantErr: "FeatureCollection"},
		{name: "bad JSON", in: `{"type":`, wantErr: "reading GeoJSON"},
		{name: "no features", in: `{"type":"FeatureCollection","features":[]}`, wantErr: "no features"},
		{
			name:    "missing code",
			in:      `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode_desa":"a"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}},{"type":"Feature","properties":{"nama":"b"},"geometry":null}]}`,
			wantErr: "feature 1: no village code",
		},
		{
			name:    "line string",
			in:      `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"a"},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}`,
			wantErr: `feature 0 (a): geometry type "LineString"`,
		},
		{
			name:    "no geometry",
			in:      `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"a"},"geometry":null}]}`,
			wantErr: "feature 0 (a): no geometry",
		},
		{
			name:    "duplicate code",
			in:      `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"a"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}},{"type":"Feature","properties":{"kode":"a"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}}]}`,
			wantErr: "feature 1: village code a repeats feature 0",
		},
		{
			name:    "degenerate ring",
			in:      `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"a"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}}]}`,
			wantErr: "feature 0 (a): polygon 0 ring 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs, err := VillagesFromGeoJSON(strings.NewReader(tt.in), 7)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v := vs[0]
			if v.Code != tt.code || v.Name != tt.nm || v.KecCode != tt.kecC || v.KecName != tt.kecN || v.Kind != tt.kind {
				t.Errorf("got %q %q %q %q %q", v.Code, v.Name, v.KecCode, v.KecName, v.Kind)
			}
			if len(v.Geom) != tt.polygons || len(v.Geom[0]) != tt.rings {
				t.Fatalf("geometry %v", v.Geom)
			}
			if err := checkMultiPolygon(v.Geom); err != nil {
				t.Error(err)
			}
			for _, s := range v.Settlements {
				if !planar.MultiPolygonContains(v.Geom, s) {
					t.Errorf("settlement %v outside", s)
				}
			}
		})
	}
}

func TestPopulationFromCSV(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]int
		wantErr string
	}{
		{"sp2010 columns", "bps,penduduk_sp2010,kode_desa_kemendagri\n1,5030,32.16.18.2009\n2,\"12.345\",32.16.18.2010\n", map[string]int{"32.16.18.2009": 5030, "32.16.18.2010": 12345}, ""},
		{"plain columns, BOM, case", "\ufeffKode;x\n", nil, "no code column"},
		{"alternative names", "\ufeffKODE,Jumlah_Penduduk\n99.01.01.2001,1,234\n", nil, "row 2"},
		{"alternative names ok", "\ufeffKODE,Jumlah_Penduduk\n99.01.01.2001,\"1,234\"\n\n99.01.01.2002,7\n", map[string]int{"99.01.01.2001": 1234, "99.01.01.2002": 7}, ""},
		{"no population column", "kode,nama\n1,a\n", nil, "no population column"},
		{"bad number", "kode,penduduk\n99.01.01.2001,banyak\n", nil, "row 2 (99.01.01.2001)"},
		{"negative", "kode,penduduk\n99.01.01.2001,-5\n", nil, "negative"},
		{"decimal", "kode,penduduk\n99.01.01.2001,12.5\n", nil, "not a whole number"},
		{"empty code", "kode,penduduk\n,5\n", nil, "row 2: empty village code"},
		{"duplicate", "kode,penduduk\na,5\nb,6\na,7\n", nil, "row 4: village code a repeats"},
		{"short row", "kode,penduduk\na\n", nil, "row 2: 1 fields"},
		{"empty input", "", nil, "row 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PopulationFromCSV(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %d, want %d", k, got[k], v)
				}
			}
		})
	}
}
