package geo

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseBoundaryFeatures fuzzes the import reader (the hand-written coordinate
// scanner): never panic; errors name the source; accepted features hold finite
// coordinates; findings point at features that exist.
func FuzzParseBoundaryFeatures(f *testing.F) {
	seeds := []string{
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"32.16.01.2001","nama":"Sukamaju"},"geometry":{"type":"Polygon","coordinates":[[[107,-6.2],[107.01,-6.2],[107.01,-6.19],[107,-6.19],[107,-6.2]]]}}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"kode":"32.16.01.2001"},"geometry":{"type":"MultiPolygon","coordinates":[[[[107,-6.2],[107.01,-6.2],[107,-6.2]]],[]]}}]}`,
		`{"type":"FeatureCollection","features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[1e309,-6.2],[-1e999,1],[1,1],[2,2]]]}}]}`,
		`{"type":"FeatureCollection","features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[1,2,3,4,5]]]}}]}`,
		`{"type":"FeatureCollection","features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[ 1 , 2 ] ,[3,4],[5,6],[1,2]] ] }}]}`,
		`{"type":"FeatureCollection","features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[["1","2"]]]}}]}`,
		`{"type":"FeatureCollection","features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4]`,
		`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:32748"}},"features":[{"properties":{"kode":"1"},"geometry":{"type":"Polygon","coordinates":[[[700000,9300000],[700100,9300000],[700100,9300100],[700000,9300000]]]}}]}`,
		`{"type":"FeatureCollection","crs":{"properties":{"code":99999999999}},"features":[]}`,
		`{"type":"FeatureCollection","features":[{"properties":null,"geometry":null}]}`,
		`{"type":"FeatureCollection","features":[null]}`,
		`{}`, `[]`, ` `, `nul`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), LevelDesa)
	}
	f.Add([]byte(seeds[0]), LevelKecamatan)
	f.Fuzz(func(t *testing.T, in []byte, level string) {
		const src = "fuzz-input.geojson"
		p, err := parseBoundaryFeatures(in, src, level, FieldMap{})
		if err != nil {
			if !strings.Contains(err.Error(), src) {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		if len(p.feats) > p.total {
			t.Fatalf("%d features accepted of %d in the file", len(p.feats), p.total)
		}
		for _, sf := range p.feats {
			if sf.ord < 1 || sf.ord > p.total {
				t.Fatalf("feature position %d outside 1–%d", sf.ord, p.total)
			}
			for _, poly := range sf.Geom {
				for _, r := range poly {
					for _, pt := range r {
						if math.IsNaN(pt[0]) || math.IsNaN(pt[1]) || math.IsInf(pt[0], 0) || math.IsInf(pt[1], 0) {
							t.Fatalf("feature %d: non-finite coordinate %v accepted", sf.ord, pt)
						}
					}
				}
			}
		}
		for _, fd := range p.findings {
			if fd.Feature < 0 || fd.Feature > p.total {
				t.Fatalf("finding about feature %d of %d: %+v", fd.Feature, p.total, fd)
			}
			if fd.Detail == "" {
				t.Fatalf("finding without detail: %+v", fd)
			}
		}
	})
}
