package api

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// FuzzParseTileRequest: /tiles/{layer}/{z}/{x}/{y}.{ext} parsing never panics; a
// rejection is a 4xx problem with a detail; an accepted address is inside the
// pyramid and the layer's zoom range, in a known format.
func FuzzParseTileRequest(f *testing.F) {
	for _, l := range geo.Layers() {
		f.Add(l.Name, "12", "3285", "2120.mvt")
		f.Add(l.Name, "0", "0", "0.geojson")
	}
	for _, s := range [][4]string{
		{"villages", "22", "4194303", "4194303.pbf"}, {"villages", "23", "0", "0.mvt"}, {"villages", "-1", "0", "0.mvt"},
		{"villages", "12", "-1", "0.json"}, {"villages", "12", "4096", "0.mvt"}, {"villages", "99999999999", "0", "0.mvt"},
		{"villages", "12", "1", "1"}, {"villages", "12", "1", "1.png"}, {"villages", "12", "1", "1.mvt.mvt"},
		{"villages", "+1", "0x1", "1e3.mvt"}, {"villages", " 1", "1", "1.mvt"}, {"nope", "1", "1", "1.mvt"},
		{"' OR 1=1--", "1", "1", "1.mvt"}, {"villages", "9223372036854775808", "1", "1.mvt"}, {"", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, layer, z, x, yext string) {
		r, err := parseTileRequest(layer, z, x, yext)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Status < 400 || pe.Status > 499 || pe.Detail == "" {
				t.Fatalf("rejection is not a 4xx problem with a detail: %#v", err)
			}
			return
		}
		if err := r.coord.Valid(); err != nil {
			t.Fatalf("accepted an invalid tile %v: %v", r.coord, err)
		}
		if r.coord.Z < r.layer.MinZoom || r.coord.Z > r.layer.MaxZoom {
			t.Fatalf("accepted zoom %d outside %s's %d–%d", r.coord.Z, r.layer.Name, r.layer.MinZoom, r.layer.MaxZoom)
		}
		if r.format != geo.FormatGeoJSON && r.format != geo.FormatMVT {
			t.Fatalf("accepted format %q", r.format)
		}
		if r.layer.Name != layer {
			t.Fatalf("asked for layer %q, got %q", layer, r.layer.Name)
		}
	})
}

// FuzzParseBBox: the OGC bbox parameter is rejected as a 4xx problem or becomes
// a finite, ordered bound inside WGS 84.
func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"", "106.9,-6.6,107.4,-5.9", "-180,-90,180,90", "1,2,3", "1,2,3,4,5",
		"NaN,NaN,NaN,NaN", "-Inf,-90,+Inf,90", "1e309,0,1e309,0", "107,-6,106,-5", "a,b,c,d", " 1 , 2 , 3 , 4 ",
		"0x1p3,0,10,1", "' OR 1=1--,1,2,3", strings.Repeat("9", 400) + ",0,1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBBox(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Status < 400 || pe.Status > 499 || pe.Detail == "" {
				t.Fatalf("rejection is not a 4xx problem with a detail: %#v", err)
			}
			return
		}
		if b == nil {
			if s != "" {
				t.Fatalf("bbox %q: no bound and no error", s)
			}
			return
		}
		for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("bbox %q accepted with a non-finite value: %v", s, b)
			}
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] || b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
			t.Fatalf("bbox %q accepted out of range: %v", s, b)
		}
	})
}
