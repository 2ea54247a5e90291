package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// TestPrioritiesImportRealLokus imports the regent's 2020 stunting priority list
// by the names as printed (not the file's computed codes) against the real
// village layer, then scores and indicators commands on the same database.
func TestPrioritiesImportRealLokus(t *testing.T) {
	url, _, _ := geotest.Migrated(t)
	t.Setenv("DATABASE_URL", url)
	data := geotest.SharedData(t)
	if code, out, errs := runCLI(t, "", "boundaries", "import", filepath.Join(data, "bekasi_desa.geojson"), "--level", "desa", "--activate"); code != 0 {
		t.Fatalf("boundaries import: %d %s %s", code, out, errs)
	}
	file := filepath.Join(data, "bekasi_lokus_stunting_2020.csv")
	code, out, errs := runCLI(t, "", "priorities", "import", file, "--match", "name", "--name", "Lokus stunting", "--json")
	if code != 0 {
		t.Fatalf("priorities import: %d %s %s", code, out, errs)
	}
	var rep struct {
		Year    int
		Counts  map[string]int
		Matches []struct {
			Row        int
			Village    string
			Code, How  string
			Candidates []string
		}
		List struct {
			Version int
			Items   []struct {
				Code        string
				NeedsReview bool `json:"needs_review"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("match counts: %v", rep.Counts)
	if rep.Year != 2020 || len(rep.Matches) != 23 || len(rep.List.Items) != 23 || rep.Counts["none"] != 0 {
		t.Fatalf("report %+v", rep)
	}
	// Row 2: "Sukakarya, Karangbahagia" does not exist; the closest name in Karang
	// Bahagia is Sukaraya (32.16.10.2001), and a desa Sukakarya exists in kecamatan
	// Sukakarya: ambiguous, kept for review with both candidates named.
	m := rep.Matches[1]
	if m.How != "ambiguous" || m.Code != "32.16.10.2001" || len(m.Candidates) < 2 ||
		!strings.Contains(strings.Join(m.Candidates, ";"), "32.16.14.2003") || !rep.List.Items[1].NeedsReview {
		t.Fatalf("row 2: %+v, item %+v", m, rep.List.Items[1])
	}
	// Spacing variants match exactly: "Wibawa Mulya" = Wibawamulya, "Samudrajaya" = Samudra Jaya.
	for _, i := range []int{7, 21} {
		if rep.Matches[i].How != "exact" {
			t.Errorf("row %d %q: %s", rep.Matches[i].Row, rep.Matches[i].Village, rep.Matches[i].How)
		}
	}
	// Every match agrees with the file's own (computed) code column.
	want := []string{"32.16.19.2004", "32.16.10.2001", "32.16.17.2003", "32.16.22.2003", "32.16.22.2006", "32.16.22.2001",
		"32.16.22.2005", "32.16.22.2004", "32.16.22.2002", "32.16.22.2007", "32.16.06.2006", "32.16.12.2006", "32.16.12.2001",
		"32.16.12.2005", "32.16.07.2005", "32.16.09.2011", "32.16.09.2009", "32.16.09.2010", "32.16.09.2007", "32.16.21.2006",
		"32.16.21.2008", "32.16.01.2006", "32.16.04.2002"}
	for i, w := range want {
		if rep.Matches[i].Code != w {
			t.Errorf("row %d: %s, want %s", i+2, rep.Matches[i].Code, w)
		}
	}
	// Re-import makes version 2; by-code import works too.
	code, out, _ = runCLI(t, "", "priorities", "import", file, "--name", "Lokus stunting", "--json")
	if code != 0 || !strings.Contains(out, `"version": 2`) {
		t.Fatalf("re-import by code: %d %.400s", code, out)
	}
	// A misspelt village with no candidate fails with the row named, and saves nothing.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	_ = os.WriteFile(bad, []byte("urutan;nama_desa;nama_kecamatan;tahun\n1;Atlantis;Babelan;2021\n"), 0o600)
	if code, _, errs := runCLI(t, "", "priorities", "import", bad); code != 1 || !strings.Contains(errs, "baris 2") {
		t.Fatalf("unmatched row: %d %s", code, errs)
	}
	// Indicators (wide, semicolon, decimal comma) and a score run on the real layer.
	ind := filepath.Join(t.TempDir(), "ind.csv")
	_ = os.WriteFile(ind, []byte("kode_desa;tahun;clean_water;school_participation\n32.16.19.2004;2024;62,5;91\n3216010001;2024;80;95\n"), 0o600)
	if code, _, errs := runCLI(t, "", "indicators", "import", ind); code != 1 || !strings.Contains(errs, "--crosswalk") {
		t.Fatalf("BPS code without crosswalk: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "", "indicators", "import", ind, "--crosswalk", filepath.Join(data, "bekasi_penduduk_desa_sp2010.csv"))
	if code != 0 || !strings.Contains(out, "4 nilai") {
		t.Fatalf("indicators import: %d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", "score"); code != 0 || !strings.Contains(out, "no households") {
		t.Fatalf("score without households: %d %s %s", code, out, errs)
	}
}
