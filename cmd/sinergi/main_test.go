package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndErrors(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	if code, out, _ := runCLI(t, "", "help"); code != 0 || !strings.Contains(out, "boundaries import FILE") {
		t.Fatalf("help: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errs)
	}
	code, _, errs := runCLI(t, "", "migrate")
	if code != 1 || !strings.Contains(errs, "DATABASE_URL is not set") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("migrate without DATABASE_URL: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "users", "add", "--name", "x"); code != 2 || !strings.Contains(errs, "--name and --role are required") {
		t.Fatalf("users add without role: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "boundaries", "import", "f.geojson", "--level", "provinsi"); code != 2 || !strings.Contains(errs, "--level") {
		t.Fatalf("bad level: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "households", "generate", "--n", "0"); code != 2 {
		t.Fatalf("generate --n 0: %d %s", code, errs)
	}
}

func TestHouseholdsGenerateDeterministic(t *testing.T) {
	_, a, _ := runCLI(t, "", "households", "generate", "--n", "500", "--seed", "3")
	_, b, _ := runCLI(t, "", "households", "generate", "--n", "500", "--seed", "3")
	_, c, _ := runCLI(t, "", "households", "generate", "--n", "500", "--seed", "4")
	if a != b || a == c {
		t.Fatal("generator output is not a function of the seed")
	}
	recs, err := csv.NewReader(strings.NewReader(a)).ReadAll()
	if err != nil || len(recs) != 501 || recs[0][0] != "id_keluarga" {
		t.Fatalf("CSV: %d records, err %v", len(recs), err)
	}
}

func TestMigrateUsersBoundariesEndToEnd(t *testing.T) {
	url := geotest.NewDatabase(t)
	t.Setenv("DATABASE_URL", url)
	code, out, errs := runCLI(t, "", "migrate", "--json")
	var mr struct{ From, To int }
	if code != 0 || json.Unmarshal([]byte(out), &mr) != nil || mr.From != 0 || mr.To < 1 {
		t.Fatalf("migrate --json: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "migrate"); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %d %s", code, out)
	}
	code, out, errs = runCLI(t, "", "users", "add", "--name", "ani", "--role", "gis", "--json")
	if code != 0 || !strings.Contains(out, `"token": "sng_`) {
		t.Fatalf("users add: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "pendek\n", "users", "passwd", "ani"); code != 1 || !strings.Contains(errs, "too short") {
		t.Fatalf("short password: %d %s", code, errs)
	}
	if code, out, errs := runCLI(t, "kata-sandi-ani\n", "users", "passwd", "ani"); code != 0 || !strings.Contains(out, "password set") {
		t.Fatalf("passwd: %d %s %s", code, out, errs)
	}
	file := geotest.SharedData(t) + "/bekasi_kecamatan.geojson"
	code, out, errs = runCLI(t, "", "boundaries", "import", file, "--level", "kecamatan", "--activate", "--json")
	if code != 0 || !strings.Contains(out, `"features": 23`) {
		t.Fatalf("boundaries import: %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "boundaries", "list"); code != 0 || !strings.Contains(out, "active") || !strings.Contains(out, "bekasi_kecamatan.geojson") {
		t.Fatalf("boundaries list: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, "", "boundaries", "activate", "999"); code != 1 || !strings.Contains(errs, "does not exist") {
		t.Fatalf("activate missing set: %d %s", code, errs)
	}
}
