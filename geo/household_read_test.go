package geo_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// readAll reads every row of a register file, returning the good records and rejects.
func readAll(t *testing.T, in string, ext *geo.Extent) ([]geo.HouseholdRecord, []geo.Reject, error) {
	t.Helper()
	var rejects []geo.Reject
	rd, err := geo.NewHouseholdReader(strings.NewReader(in), "reg.csv", geo.ReaderOptions{Key: geotest.HashKey(), Extent: ext,
		OnReject: func(r geo.Reject) { rejects = append(rejects, r) }})
	if err != nil {
		return nil, nil, err
	}
	var good []geo.HouseholdRecord
	for {
		rec, ok, err := rd.Next()
		if err != nil {
			return good, rejects, err
		}
		if !ok {
			return good, rejects, nil
		}
		if !rec.Rejected {
			good = append(good, rec)
		}
	}
}

var bekasiBox = &geo.Extent{MinLon: 106.92, MinLat: -6.54, MaxLon: 107.35, MaxLat: -5.87}

const genHeader = "id_keluarga,no_kk,nik,nama_kepala,alamat,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,desil,penganggur\n"

func TestHouseholdReaderRejectsEachReason(t *testing.T) {
	in := genHeader +
		"A1,3216011203950001,3216015505800002,Siti Aminah,\"Kp. Babakan RT 001/RW 002, Desa X\",32.16.01.2001,107.10,-6.20,4,1,1,1,1,0\n" + // line 2: good
		"A2,3216011203950003,3216015505800004,Budi,Jl. Raya,32.16.01.2001,107.10,-6.20,tiga,1,0,0,2,0\n" + // 3: word for a number
		"A3,3216011203950005,3216015505800006,Ani,Jl. Raya,32.16.01.2001,-6.20,107.10,3,0,0,0,2,0\n" + // 4: swapped
		"A4,3216011203950007,3216015505800008,Dedi,Jl. Raya,32.16.01.2001,200,-6.20,3,0,0,0,2,0\n" + // 5: out of range
		"A5,3216011203950009,3216015505800010,Eko,Jl. Raya,32.16.01.2001,107.10,6.20,3,0,0,0,2,0\n" + // 6: sign dropped: outside
		"A6,3216011203950011,3216015505800012,Fitri,Jl. Raya,32.16.01.2001,107.10,-6.20,3,1,2,0,2,0\n" + // 7: stunted > under-fives
		"A7,3216011203950013,Gita\n" + // 8: 3 fields of 14
		"A8,3216011203950015,3216015505800016,Hadi,Jl. Raya,32.16.01.2001,0,0,3,0,0,0,2,0\n" + // 9: 0,0
		"A9,3216011203950017,3216015505800018,Ir\xe9ne,Jl. Raya,32.16.01.2001,107.10,-6.20,3,0,0,0,2,0\n" + // 10: Latin-1 in a UTF-8 file
		"A10,3216011203950019,3216015505800020,Joko,Jl. Raya,32.16.01.2001,\"107,1234\",\"-6,2000\",3,0,0,0,12,0\n" + // 11: decile 12
		"A11,3216011203950021,3216015505800022,Kiki,Jl. Raya,32.16.01.2001,,,2,0,0,ya,,1\n" + // 12: good, no location
		"A12,3216011203950023,3216015505800024,Lala,Jl. Raya,32.16.01.2001,\"107,1234\",\"-6,2000\",3,0,0,tidak,3,0\n" // 13: good, decimal commas
	good, rejects, err := readAll(t, in, bekasiBox)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{3: "jumlah_anggota bukan angka", 4: "swapped", 5: "out of range", 6: "outside the regency",
		7: "more stunted children", 8: "3 fields, the header has 14", 9: "coordinates 0,0", 10: "nama_kepala is not UTF-8",
		11: "decile 12"}
	if len(rejects) != len(want) {
		t.Fatalf("rejects %+v, want %d", rejects, len(want))
	}
	for _, r := range rejects {
		if w := want[r.Row]; w == "" || !strings.Contains(r.Reason, w) {
			t.Errorf("row %d rejected with %q, want %q", r.Row, r.Reason, w)
		}
		for _, secret := range []string{"3216011203950", "3216015505800", "Budi", "Gita", "Ir", "Jl. Raya", "tiga"} {
			if strings.Contains(r.Reason, secret) || strings.Contains(r.ID, secret) {
				t.Errorf("reject %+v leaks %q", r, secret)
			}
		}
	}
	if len(good) != 3 || good[0].ExternalID != "A1" || good[1].ExternalID != "A11" || good[2].ExternalID != "A12" {
		t.Fatalf("good rows %+v", good)
	}
	a1 := good[0]
	if a1.Line != 2 || a1.Members != 4 || a1.Stunted != 1 || !a1.ExtremePoor || a1.Decile != 1 || a1.HeadName != "Siti Aminah" ||
		a1.ReportedVillage != "32.16.01.2001" || a1.Lon != 107.10 || a1.Lat != -6.20 {
		t.Errorf("A1 parsed as %+v", a1)
	}
	if string(a1.KKHash) != string(geotest.HashKey().Sum("3216011203950001")) || len(a1.NIKHash) != 32 {
		t.Error("NIK/KK not hashed with the key")
	}
	if !math.IsNaN(good[1].Lon) || !good[1].ExtremePoor || good[1].UnemployedAdults != 1 {
		t.Errorf("A11 (no location) parsed as %+v", good[1])
	}
	if good[2].Lon != 107.1234 || good[2].Lat != -6.2 {
		t.Errorf("decimal commas parsed as %v,%v", good[2].Lon, good[2].Lat)
	}
}

func TestHouseholdReaderFormats(t *testing.T) {
	// BOM, semicolons and English aliases in another column order.
	in := "\ufeffhousehold_id;lat;lon;members;under5;stunted;extreme_poor;decile;unemployed;name;nik\n" +
		"X-1;-6,25;107,05;5;2;1;yes;1;1;Rina;3216015505800002\n"
	good, rejects, err := readAll(t, in, bekasiBox)
	if err != nil || len(rejects) != 0 || len(good) != 1 {
		t.Fatalf("semicolon CSV: %+v %+v %v", good, rejects, err)
	}
	if g := good[0]; g.ExternalID != "X-1" || g.Lat != -6.25 || g.Lon != 107.05 || g.ChildrenU5 != 2 || !g.ExtremePoor || g.HeadName != "Rina" || g.KKHash != nil {
		t.Fatalf("parsed %+v", g)
	}
	// GeoJSON points, properties by the same names.
	gj := `{"type":"FeatureCollection","name":"x","features":[
		{"type":"Feature","properties":{"id_keluarga":"G1","jumlah_anggota":3,"balita":1,"balita_stunting":0,"miskin_ekstrem":true},"geometry":{"type":"Point","coordinates":[107.1,-6.3]}},
		{"type":"Feature","properties":{"id_keluarga":"G2","jumlah_anggota":2},"geometry":{"type":"LineString","coordinates":[[107.1,-6.3],[107.2,-6.3]]}},
		{"type":"Feature","id":"G3","properties":{"jumlah_anggota":"dua"},"geometry":{"type":"Point","coordinates":[107.1,-6.3]}}]}`
	good, rejects, err = readAll(t, gj, bekasiBox)
	if err != nil || len(good) != 1 || good[0].ExternalID != "G1" || !good[0].ExtremePoor || good[0].Lon != 107.1 {
		t.Fatalf("GeoJSON: %+v %v", good, err)
	}
	if len(rejects) != 2 || rejects[0].Row != 2 || !strings.Contains(rejects[0].Reason, "not a Point") ||
		rejects[1].Row != 3 || rejects[1].ID != "G3" || !strings.Contains(rejects[1].Reason, "not a number") {
		t.Fatalf("GeoJSON rejects %+v", rejects)
	}
	// Whole-file errors name the file and the reason.
	for in, want := range map[string]string{
		"":                             "empty",
		"\ufeff  \n":                   "empty",
		"id_keluarga,nama,alamat\n":    "no longitude/latitude",
		"nama,longitude,latitude\n":    "no household id",
		"id,lon,lng,lat\n1,2,3,4\n":    "both mean longitude",
		`{"type":"FeatureCollection"}`: "no features",
	} {
		_, _, err := readAll(t, in, nil)
		if err == nil || !strings.Contains(err.Error(), "reg.csv") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to name reg.csv and say %q", in, err, want)
		}
	}
}

func TestHouseholdReaderNeverLeaksIdentityNumbersAsIDs(t *testing.T) {
	// A register keyed by NIK must not copy the NIK into the reject report.
	in := "nik,longitude,latitude,jumlah_anggota\n3216015505800002,107.1,-6.2,empat\n"
	_, rejects, err := readAll(t, strings.Replace(in, "nik,", "id,", 1), nil)
	if err != nil || len(rejects) != 1 {
		t.Fatalf("%+v %v", rejects, err)
	}
	if rejects[0].ID != "" {
		t.Fatalf("reject id %q looks like an identity number and must be blank", rejects[0].ID)
	}
}

func TestPipelinedKeepsOrderAndErrors(t *testing.T) {
	n := 0
	boom := errors.New("disk read failed")
	next := func() (geo.HouseholdRecord, bool, error) {
		n++
		if n == 1500 {
			return geo.HouseholdRecord{}, false, boom
		}
		return geo.HouseholdRecord{Line: int64(n)}, true, nil
	}
	pull, stop := geo.Pipelined(t.Context(), next)
	defer stop()
	for i := 1; ; i++ {
		r, ok, err := pull()
		if err != nil {
			if !errors.Is(err, boom) || i != 1500 {
				t.Fatalf("error %v at %d, want %v at 1500", err, i, boom)
			}
			return
		}
		if !ok || r.Line != int64(i) {
			t.Fatalf("row %d: got %+v ok=%v", i, r, ok)
		}
	}
}

// BenchmarkHouseholdReader measures parsing, checking and hashing one generated row.
func BenchmarkHouseholdReader(b *testing.B) {
	row := "HH-0000001,3216011203950001,3216015505800002,Siti Aminah,\"Kp. Babakan RT 001/RW 002, Desa Sukamaju\",32.16.01.2001,107.123456,-6.234567,4,1,1,0,3,1\n"
	data := []byte(genHeader + strings.Repeat(row, 10000))
	b.SetBytes(int64(len(row)))
	b.ResetTimer()
	for i := 0; i < b.N; i += 10000 {
		rd, err := geo.NewHouseholdReader(bytes.NewReader(data), "b.csv", geo.ReaderOptions{Key: geotest.HashKey(), Extent: bekasiBox})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, ok, err := rd.Next()
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
	}
}

func TestIDHasherEqualsSum(t *testing.T) {
	k := geotest.HashKey()
	h := k.NewHasher()
	for _, id := range []string{"3216015505800002", "3216 0155 0580 0002", "", "tanpa", "1"} {
		if a, b := h.Sum(id), k.Sum(id); !bytes.Equal(a, b) {
			t.Errorf("%q: hasher %x, Sum %x", id, a, b)
		}
	}
}
