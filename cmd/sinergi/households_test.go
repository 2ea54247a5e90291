package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// householdCLIEnv points the CLI at a fresh database and a hash key file in a
// temporary directory (created on first use); it returns the URL and the directory.
func householdCLIEnv(t *testing.T) (url, dir string) {
	t.Helper()
	url = geotest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	dir = t.TempDir()
	t.Setenv("SINERGI_HASH_KEY", "")
	t.Setenv("SINERGI_HASH_KEY_FILE", filepath.Join(dir, "hash.key"))
	return url, dir
}

func TestHouseholdsImportEraseHashKeyPopulationCLI(t *testing.T) {
	_, dir := householdCLIEnv(t)
	data := geotest.SharedData(t)
	desa := filepath.Join(data, "bekasi_desa.geojson")
	if code, _, errs := runCLI(t, "", "boundaries", "import", desa, "--level", "desa", "--activate"); code != 0 {
		t.Fatalf("boundaries import: %s", errs)
	}
	code, csv, errs := runCLI(t, "", "households", "generate", "--n", "2000", "--seed", "2", "--dirty", "0.02",
		"--boundaries", desa, "--population", filepath.Join(data, "bekasi_penduduk_desa_sp2010.csv"))
	if code != 0 {
		t.Fatalf("generate: %s", errs)
	}
	file := filepath.Join(dir, "p3ke.csv")
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}

	if code, _, errs := runCLI(t, "", "households", "import", file, "--period", "2026"); code != 2 || !strings.Contains(errs, "--register") {
		t.Fatalf("missing --register: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "households", "import", file, "--register", "p3ke", "--period", "2026", "--json")
	if code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	var sum struct {
		Rows, Inserted, Rejected, Unchanged int64
		BatchID                             int64  `json:"batch_id"`
		RejectsFile                         string `json:"rejects_file"`
		HashKeyID                           string `json:"hash_key_id"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if sum.Rows != 2000 || sum.Inserted+sum.Rejected != 2000 || sum.Rejected == 0 || sum.RejectsFile != file+".rejects.csv" || sum.BatchID == 0 {
		t.Fatalf("summary %+v", sum)
	}
	report, err := os.ReadFile(sum.RejectsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(report)), "\n")
	if int64(len(lines)-1) != sum.Rejected || lines[0] != "baris_row,id,alasan_reason" {
		t.Fatalf("report has %d lines for %d rejects: %q", len(lines), sum.Rejected, lines[0])
	}
	// The report holds no identity number (generated ones start with 3216), name or address.
	if strings.Contains(string(report), ",3216") || strings.Contains(string(report), "Kp. ") || strings.Contains(string(report), "Desa ") {
		t.Fatalf("the reject report leaks personal data:\n%s", report)
	}
	if strings.Contains(errs, "3216") {
		t.Fatalf("stderr leaks identity numbers: %s", errs)
	}
	code, out, _ = runCLI(t, "", "households", "import", file, "--register", "p3ke", "--period", "2026", "--json")
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum.Inserted != 0 || sum.Unchanged == 0 || sum.BatchID != 0 {
		t.Fatalf("re-import: %d %+v %v", code, sum, err)
	}
	victim := ""
	for _, id := range []string{"HH-0000001", "HH-0000002", "HH-0000003", "HH-0000004"} {
		if !strings.Contains(string(report), ","+id+",") && strings.Count(csv, "\n"+id+",") == 1 {
			victim = id
			break
		}
	}
	code, out, errs = runCLI(t, "", "households", "erase", victim, "--register", "p3ke", "--note", "surat 1/2026")
	if code != 0 || !strings.Contains(out, "erased") || !strings.Contains(out, "desa 32.16.") {
		t.Fatalf("erase: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "households", "erase", victim, "--register", "p3ke"); code != 1 || !strings.Contains(errs, "no such household") {
		t.Fatalf("erase twice: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, "", "population", "import", filepath.Join(data, "bekasi_penduduk_desa_sp2010.csv"))
	if code != 0 || !strings.Contains(out, "187 desa") || !strings.Contains(out, "2630401") {
		t.Fatalf("population import: %d %s %s", code, out, errs)
	}
	// Rotation: the old key is refused afterwards; the new one re-links on re-import.
	newKey := filepath.Join(dir, "new.key")
	code, out, errs = runCLI(t, "", "hashkey", "rotate", "--new-key-file", newKey)
	if code != 0 || !strings.Contains(out, "re-import each register") {
		t.Fatalf("rotate: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "households", "import", file, "--register", "p3ke", "--period", "2026"); code != 1 || !strings.Contains(errs, "hash key differs") {
		t.Fatalf("import with the old key after rotation: %d %s", code, errs)
	}
	t.Setenv("SINERGI_HASH_KEY_FILE", newKey)
	code, out, errs = runCLI(t, "", "households", "import", file, "--register", "p3ke", "--period", "2026", "--json")
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum.Unchanged != 0 {
		t.Fatalf("re-import under the new key: %d %+v %s", code, sum, errs)
	}
	if code, out, _ := runCLI(t, "", "hashkey", "status"); code != 0 || !strings.Contains(out, "local key: id") {
		t.Fatalf("status: %d %s", code, out)
	}
	empty := filepath.Join(dir, "empty.csv")
	_ = os.WriteFile(empty, nil, 0o600)
	if code, _, errs := runCLI(t, "", "households", "import", empty, "--register", "p3ke", "--period", "2026"); code != 1 || !strings.Contains(errs, "empty.csv") || !strings.Contains(errs, "empty") {
		t.Fatalf("empty file: %d %s", code, errs)
	}
}
