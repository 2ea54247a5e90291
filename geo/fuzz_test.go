package geo_test

import (
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// The seeds below run as ordinary tests under go test; scripts/fuzz.sh mutates them.

const fuzzSource = "fuzz-input.geojson"

var boundarySeeds = []string{
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"32.16.01.2001","nama":"Sukamaju","kode_kec":"32.16.01","nama_kec":"Tarumajaya"},"geometry":{"type":"Polygon","coordinates":[[[107,-6.2],[107.01,-6.2],[107.01,-6.19],[107,-6.19],[107,-6.2]]]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"KDEPUM":"32.16.01.2001","WADMKD":"X"},"geometry":{"type":"MultiPolygon","coordinates":[[[[107,-6.2],[107.01,-6.2],[107.01,-6.19],[107,-6.2]]]]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[107,-6.2]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"x"},"geometry":null}]}`,
	`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32748"}},"features":[]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[1e309,-6.2],[NaN,1],[1,1]]]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[]]}}]}`,
	`{"type":"Feature"}`,
	`[]`, `null`, ``, `{`, `{"features":[null]}`,
}

// FuzzReadBoundaryGeoJSON: the boundary reader never panics; an error names the
// source; every feature read is a non-empty MultiPolygon of finite coordinates.
func FuzzReadBoundaryGeoJSON(f *testing.F) {
	for _, s := range boundarySeeds {
		f.Add([]byte(s), geo.LevelDesa)
	}
	f.Add([]byte(boundarySeeds[0]), geo.LevelKecamatan)
	f.Fuzz(func(t *testing.T, in []byte, level string) {
		feats, err := geo.ReadBoundaryGeoJSON(strings.NewReader(string(in)), fuzzSource, level, geo.FieldMap{})
		if err != nil {
			if !strings.Contains(err.Error(), fuzzSource) {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		for i, bf := range feats {
			if len(bf.Geom) == 0 {
				t.Fatalf("feature %d: empty geometry accepted", i+1)
			}
			for _, p := range bf.Geom {
				for _, r := range p {
					for _, pt := range r {
						if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
							t.Fatalf("feature %d: non-finite coordinate %v accepted", i+1, pt)
						}
					}
				}
			}
		}
	})
}

var householdSeeds = []string{
	genHeader + "A1,3216011203950001,3216015505800002,Siti,\"Kp. Babakan, Desa X\",32.16.01.2001,107.10,-6.20,4,1,1,1,1,0\n",
	genHeader + "A2,3216011203950003,3216015505800004,Budi,Jl,32.16.01.2001,\"107,1\",\"-6,2\",tiga,1,2,ya,12,0\n",
	genHeader + "A3,1,2,Ani\n",
	genHeader + "A4,1,2,Ani,Jl,32.16.01.2001,NaN,Inf,1e309,-1,9223372036854775808,x,-5,1\n",
	"id_keluarga;no_kk;nik\nA1;1;2\n",
	"\xef\xbb\xbfid_keluarga,no_kk,nik,flag_disabilitas\nA1,1,2,ya\n",
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id_keluarga":"A1","no_kk":"1","nik":"2","kode_desa":"32.16.01.2001","jumlah_anggota":3},"geometry":{"type":"Point","coordinates":[107.1,-6.2]}}]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id_keluarga":"A1"},"geometry":{"type":"Point","coordinates":[1e400,"x"]}}]}`,
	`{"type":"FeatureCollection","features":[null,{"properties":null,"geometry":{"type":"Polygon","coordinates":[[[1,2]]]}}]}`,
	`{"features":`, `[1,2]`, ``, "\n\n", `"`, "a,a,a\n1,2,3\n",
}

// FuzzHouseholdReader: the register reader never panics and ends (EOF or error);
// errors name the file; good rows have a location inside the extent or none.
func FuzzHouseholdReader(f *testing.F) {
	for _, s := range householdSeeds {
		f.Add([]byte(s))
	}
	key := geotest.HashKey()
	f.Fuzz(func(t *testing.T, in []byte) {
		const name = "fuzz-register.csv"
		rd, err := geo.NewHouseholdReader(strings.NewReader(string(in)), name, geo.ReaderOptions{Key: key, Extent: bekasiBox})
		if err != nil {
			if !strings.Contains(err.Error(), name) && !errors.Is(err, io.EOF) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(in)+2 {
				t.Fatalf("reader returned more rows (%d) than the input has bytes (%d)", i, len(in))
			}
			rec, ok, err := rd.Next()
			if err != nil {
				if !strings.Contains(err.Error(), name) {
					t.Fatalf("error does not name the file: %v", err)
				}
				return
			}
			if !ok {
				return
			}
			if rec.Rejected {
				continue
			}
			if !math.IsNaN(rec.Lon) || !math.IsNaN(rec.Lat) {
				if math.IsNaN(rec.Lon) != math.IsNaN(rec.Lat) {
					t.Fatalf("row %d: half a location (%v, %v)", rec.Line, rec.Lon, rec.Lat)
				}
				if rec.Lon < bekasiBox.MinLon || rec.Lon > bekasiBox.MaxLon || rec.Lat < bekasiBox.MinLat || rec.Lat > bekasiBox.MaxLat {
					t.Fatalf("row %d: location (%v, %v) outside the extent accepted", rec.Line, rec.Lon, rec.Lat)
				}
			}
			if rec.Members < 0 || rec.ChildrenU5 < 0 || rec.Stunted < 0 || rec.UnemployedAdults < 0 || rec.Stunted > rec.ChildrenU5 {
				t.Fatalf("row %d: bad counts accepted: %+v", rec.Line, rec)
			}
			if rec.Decile < 0 || rec.Decile > 10 {
				t.Fatalf("row %d: decile %d accepted", rec.Line, rec.Decile)
			}
		}
	})
}
