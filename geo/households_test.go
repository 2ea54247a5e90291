package geo_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
	"github.com/bapeda-bekasi/sinergi/synth"
)

// realVillages loads and activates bekasi_desa.geojson; it returns the set id.
func realVillages(t *testing.T, st *geo.Store) int64 {
	t.Helper()
	return geotest.ActivateShared(t, st, "bekasi_desa.geojson", geo.LevelDesa)
}

// synthCSV generates n households over the real villages as CSV.
func synthCSV(t *testing.T, n int, seed uint64, dirty float64) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join(geotest.SharedData(t), "bekasi_desa.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vs, err := synth.VillagesFromGeoJSON(f, seed)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := synth.WriteHouseholdsCSV(&b, vs, synth.HouseholdOptions{N: n, Seed: seed, Dirty: dirty}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type importRun struct {
	res     geo.ImportResult
	rejects []geo.Reject
	err     error
}

// importFile runs the full path the CLI takes: reader (with the regency extent) →
// Pipelined → ImportHouseholds.
func importFile(t *testing.T, ctx context.Context, st *geo.Store, data []byte, spec geo.ImportSpec) importRun {
	t.Helper()
	var run importRun
	ext, err := st.RegencyExtent(ctx, geo.DefaultExtentMargin)
	if err != nil {
		t.Fatal(err)
	}
	add := func(r geo.Reject) { run.rejects = append(run.rejects, r) }
	rd, err := geo.NewHouseholdReader(bytes.NewReader(data), "reg.csv", geo.ReaderOptions{Key: geotest.HashKey(), Extent: ext, OnReject: add})
	if err != nil {
		run.err = err
		return run
	}
	if spec.Register == "" {
		spec.Register, spec.Period = "p3ke", "2026"
	}
	spec.File, spec.OnReject = "reg.csv", add
	pull, stop := geo.Pipelined(ctx, rd.Next)
	run.res, run.err = st.ImportHouseholds(ctx, spec, pull)
	stop()
	return run
}

func count(t *testing.T, st *geo.Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestImportSyntheticRegisterIdempotentRetireStrict(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	realVillages(t, owner)
	data := synthCSV(t, 3000, 5, 0.02)

	r1 := importFile(t, ctx, owner, data, geo.ImportSpec{})
	if r1.err != nil {
		t.Fatal(r1.err)
	}
	res := r1.res
	if res.Rows != 3000 || res.Rejected == 0 || res.Inserted+res.Rejected != 3000 || int64(len(r1.rejects)) != res.Rejected {
		t.Fatalf("first import %+v with %d rejects", res, len(r1.rejects))
	}
	if res.Duplicates == 0 || res.Assigned+res.Unassigned != res.Inserted || res.Unassigned != res.NoLocation {
		// Every good synthetic point lies inside a village; only rows without coordinates are unassigned.
		t.Fatalf("first import %+v", res)
	}
	// Each generated household sits in the village it names: the assignment agrees.
	if bad := count(t, owner, `SELECT count(*) FROM household WHERE village_code IS DISTINCT FROM reported_village AND assign_method <> 'none'`); bad > 3 {
		t.Fatalf("%d households assigned to another village than the generator placed them in", bad)
	}
	if n := count(t, owner, `SELECT count(*) FROM pii.household_person`); n != res.Inserted {
		t.Fatalf("personal rows %d, households %d", n, res.Inserted)
	}

	// Re-import: nothing changes, no batch, no audit row.
	audits := count(t, owner, `SELECT count(*) FROM audit_log WHERE action = 'households.import'`)
	r2 := importFile(t, ctx, owner, data, geo.ImportSpec{})
	if r2.err != nil || r2.res.Inserted+r2.res.Updated != 0 || r2.res.Unchanged != res.Inserted || r2.res.BatchID != 0 {
		t.Fatalf("re-import %+v %v", r2.res, r2.err)
	}
	if a := count(t, owner, `SELECT count(*) FROM audit_log WHERE action = 'households.import'`); a != audits {
		t.Fatal("a no-op re-import wrote an audit row")
	}

	// One changed row updates exactly one household; a dropped row can be retired.
	// Pick loaded ids that occur once in the file (spoiled rows may repeat an id).
	text := string(data)
	var ids []string
	rows, err := owner.Pool.Query(ctx, `SELECT external_id FROM household ORDER BY external_id LIMIT 50`)
	if err != nil {
		t.Fatal(err)
	}
	all, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range all {
		if strings.Count(text, "\n"+id+",") == 1 {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		t.Fatal("no unique ids")
	}
	renamed, dropped := ids[0], ids[1]
	var out []string
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, renamed+","):
			f := strings.Split(l, ",")
			f[3] = "Nama Baru"
			out = append(out, strings.Join(f, ","))
		case strings.HasPrefix(l, dropped+","):
		default:
			out = append(out, l)
		}
	}
	newer := []byte(strings.Join(out, "\n"))
	r3 := importFile(t, ctx, owner, newer, geo.ImportSpec{})
	if r3.err != nil || r3.res.Updated != 1 || r3.res.Inserted != 0 || r3.res.Retired != 0 {
		t.Fatalf("changed name without --retire-missing: %+v %v", r3.res, r3.err)
	}
	if n := count(t, owner, `SELECT count(*) FROM pii.household_person p JOIN household h ON h.id = p.household_id
		WHERE h.external_id = $1 AND p.head_name = 'Nama Baru'`, renamed); n != 1 {
		t.Fatal("the new name was not stored")
	}
	r4 := importFile(t, ctx, owner, newer, geo.ImportSpec{RetireMissing: true})
	if r4.err != nil || r4.res.Retired != 1 || r4.res.Updated != 0 {
		t.Fatalf("--retire-missing: %+v %v", r4.res, r4.err)
	}
	if n := count(t, owner, `SELECT count(*) FROM household WHERE retired_at IS NOT NULL AND external_id = $1`, dropped); n != 1 {
		t.Fatalf("%s is not retired", dropped)
	}
	// Rejected rows' ids are present in the file, so they are not retired.
	if n := count(t, owner, `SELECT count(*) FROM household WHERE retired_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d retired, want only the dropped row", n)
	}

	// --strict loads nothing when anything is rejected.
	before := count(t, owner, `SELECT count(*) FROM household`)
	r5 := importFile(t, ctx, owner, synthCSV(t, 500, 9, 0.05), geo.ImportSpec{Register: "survey", Period: "2026", Strict: true})
	if !errors.Is(r5.err, geo.ErrRejected) {
		t.Fatalf("strict import err = %v", r5.err)
	}
	if after := count(t, owner, `SELECT count(*) FROM household`); after != before {
		t.Fatalf("strict import left %d rows", after-before)
	}
}

func TestImportKilledHalfwayLeavesNothing(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	realVillages(t, owner)
	data := synthCSV(t, 5000, 3, 0)
	ctx, cancel := context.WithCancel(context.Background())
	rd, err := geo.NewHouseholdReader(bytes.NewReader(data), "kill.csv", geo.ReaderOptions{Key: geotest.HashKey()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	_, err = owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "p3ke", Period: "2026", File: "kill.csv"},
		func() (geo.HouseholdRecord, bool, error) {
			n++
			if n == 2500 {
				cancel() // the process is killed in the middle of COPY
			}
			return rd.Next()
		})
	if err == nil {
		t.Fatal("a cancelled import succeeded")
	}
	for _, q := range []string{`SELECT count(*) FROM household`, `SELECT count(*) FROM pii.household_person`,
		`SELECT count(*) FROM import_batch`, `SELECT count(*) FROM audit_log WHERE action = 'households.import'`} {
		if c := count(t, owner, q); c != 0 {
			t.Errorf("%s = %d after a killed import", q, c)
		}
	}
	// Re-running completes it.
	r := importFile(t, context.Background(), owner, data, geo.ImportSpec{})
	if r.err != nil || r.res.Inserted != 5000 {
		t.Fatalf("re-run %+v %v", r.res, r.err)
	}
}

// TestAssignmentOnRealVillages checks the documented rules on the real layer, with
// points found in it: on a shared border, in an overlap sliver, in a gap, outside.
func TestAssignmentOnRealVillages(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	setID := realVillages(t, owner)
	type pt struct {
		lon, lat float64
		a, b     string // the villages involved, a < b
	}
	var border, sliver, gap, outside pt
	// A vertex of one village lying on the boundary of its neighbour.
	err := owner.Pool.QueryRow(ctx, `
		SELECT ST_X(p.geom), ST_Y(p.geom), a.code, b.code
		FROM village a JOIN village b ON a.set_id = b.set_id AND a.code < b.code AND ST_Intersects(a.geom, b.geom),
			LATERAL (SELECT (ST_DumpPoints(a.geom)).geom) p
		WHERE a.set_id = $1 AND ST_Touches(b.geom, p.geom)
			AND (SELECT count(*) FROM village v WHERE v.set_id = $1 AND ST_Intersects(v.geom, p.geom)) = 2
		ORDER BY a.code, b.code LIMIT 1`, setID).Scan(&border.lon, &border.lat, &border.a, &border.b)
	if err != nil {
		t.Fatalf("find a shared border point: %v", err)
	}
	// Inside the largest overlap of two villages.
	err = owner.Pool.QueryRow(ctx, `
		SELECT ST_X(p), ST_Y(p), a, b FROM (
			SELECT ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) p, a.code a, b.code b,
				ST_Area(ST_Intersection(a.geom, b.geom)) area
			FROM village a JOIN village b ON a.set_id = b.set_id AND a.code < b.code AND ST_Overlaps(a.geom, b.geom)
			WHERE a.set_id = $1) x
		WHERE (SELECT count(*) FROM village v WHERE v.set_id = $1 AND ST_Intersects(v.geom, p)) = 2
		ORDER BY area DESC LIMIT 1`, setID).
		Scan(&sliver.lon, &sliver.lat, &sliver.a, &sliver.b)
	if err != nil {
		t.Fatalf("find an overlap: %v", err)
	}
	// Inside a gap (a hole of the union) within 50 m of a village, and its nearest village.
	err = owner.Pool.QueryRow(ctx, `
		WITH u AS (SELECT (ST_Dump(ST_Union(geom))).geom g FROM village WHERE set_id = $1),
		holes AS (SELECT ST_MakePolygon(ST_InteriorRingN(g, n)) h FROM u, generate_series(1, ST_NumInteriorRings(g)) n),
		pts AS (SELECT ST_PointOnSurface(h) p FROM holes WHERE ST_Area(h::geography) > 200)
		SELECT ST_X(p), ST_Y(p), near.code, '' FROM pts CROSS JOIN LATERAL (
			SELECT code, ST_Distance(geom::geography, p::geography) d FROM village WHERE set_id = $1
			ORDER BY ST_Distance(geom::geography, p::geography), code LIMIT 1) near
		WHERE near.d BETWEEN 1 AND 40 AND NOT EXISTS (SELECT 1 FROM village v WHERE v.set_id = $1 AND ST_Intersects(v.geom, p))
		ORDER BY ST_X(p) LIMIT 1`, setID).Scan(&gap.lon, &gap.lat, &gap.a, &gap.b)
	if err != nil {
		t.Fatalf("find a gap: %v", err)
	}
	// 1 km west of the westernmost vertex: inside the extent margin, outside every village.
	err = owner.Pool.QueryRow(ctx, `SELECT ST_XMin(e) - 0.01, (ST_YMin(e) + ST_YMax(e)) / 2 FROM (
		SELECT ST_Extent(geom) e FROM village WHERE set_id = $1) x`, setID).Scan(&outside.lon, &outside.lat)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, owner, `SELECT count(*) FROM village WHERE set_id = $1 AND ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography, 500)`,
		setID, outside.lon, outside.lat); n != 0 {
		t.Fatalf("the outside point is within 500 m of %d villages", n)
	}
	recs := []geo.HouseholdRecord{
		{ExternalID: "border", Lon: border.lon, Lat: border.lat, Members: 3},
		{ExternalID: "border-named", Lon: border.lon, Lat: border.lat, Members: 3, ReportedVillage: border.b},
		{ExternalID: "sliver", Lon: sliver.lon, Lat: sliver.lat, Members: 3},
		{ExternalID: "sliver-named", Lon: sliver.lon, Lat: sliver.lat, Members: 3, ReportedVillage: sliver.b},
		{ExternalID: "gap", Lon: gap.lon, Lat: gap.lat, Members: 3},
		{ExternalID: "outside", Lon: outside.lon, Lat: outside.lat, Members: 3},
	}
	i := 0
	res, err := owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "points"},
		func() (geo.HouseholdRecord, bool, error) {
			if i == len(recs) {
				return geo.HouseholdRecord{}, false, nil
			}
			i++
			return recs[i-1], true, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Assigned != 5 || res.Unassigned != 1 {
		t.Fatalf("import %+v, want 5 assigned and 1 unassigned", res)
	}
	want := map[string][2]string{
		"border":       {border.a, "overlap"}, // on both: the lowest code
		"border-named": {border.b, "overlap"}, // on both: the one the register names
		"sliver":       {sliver.a, "overlap"},
		"sliver-named": {sliver.b, "overlap"},
		"gap":          {gap.a, "nearest"},
		"outside":      {"", "none"},
	}
	rows, err := owner.Pool.Query(ctx, `SELECT external_id, coalesce(village_code, ''), assign_method FROM household`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([3]string, error) {
		var v [3]string
		return v, r.Scan(&v[0], &v[1], &v[2])
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if w := want[g[0]]; w != [2]string{g[1], g[2]} {
			t.Errorf("%s assigned %s (%s), want %s (%s)", g[0], g[1], g[2], w[0], w[1])
		}
	}
	// The same rules hold when the set is re-activated (assignHouseholds path):
	// activate a copy of the set and compare.
	var n int64
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM household WHERE assigned_set = $1`, setID).Scan(&n); err != nil || n != 6 {
		t.Fatalf("assigned_set: %d %v", n, err)
	}
	if math.IsNaN(gap.lon) {
		t.Fatal("no gap point")
	}
}

func TestBoundaryActivationReassigns(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	setID := realVillages(t, owner)
	if r := importFile(t, ctx, owner, synthCSV(t, 1000, 2, 0), geo.ImportSpec{}); r.err != nil {
		t.Fatal(r.err)
	}
	// A second set where one village was renumbered: its households move with it.
	if _, err := owner.Pool.Exec(ctx, `
		INSERT INTO boundary_set (level, source_file) VALUES ('desa', 'renumbered');
		INSERT INTO village (set_id, code, name, kecamatan_code, kind, geom, area_km2)
		SELECT currval('boundary_set_id_seq'), CASE WHEN code = '32.16.01.2001' THEN '32.16.01.2999' ELSE code END,
			name, kecamatan_code, kind, geom, area_km2 FROM village WHERE set_id = `+strconv.FormatInt(setID, 10)); err != nil {
		t.Fatal(err)
	}
	var set2 int64
	if err := owner.Pool.QueryRow(ctx, `SELECT max(id) FROM boundary_set`).Scan(&set2); err != nil {
		t.Fatal(err)
	}
	before := count(t, owner, `SELECT count(*) FROM household WHERE village_code = '32.16.01.2001'`)
	if before == 0 {
		t.Fatal("no households in 32.16.01.2001")
	}
	if err := owner.ActivateBoundarySet(ctx, set2, "test"); err != nil {
		t.Fatal(err)
	}
	if after := count(t, owner, `SELECT count(*) FROM household WHERE village_code = '32.16.01.2999' AND assigned_set = $1`, set2); after != before {
		t.Fatalf("%d households moved to the renumbered village, want %d", after, before)
	}
	if stale := count(t, owner, `SELECT count(*) FROM household WHERE assigned_set <> $1`, set2); stale != 0 {
		t.Fatalf("%d households still assigned in the old set", stale)
	}
}

func TestEraseHousehold(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	realVillages(t, owner)
	data := synthCSV(t, 400, 4, 0)
	if r := importFile(t, ctx, owner, data, geo.ImportSpec{}); r.err != nil {
		t.Fatal(r.err)
	}
	var code string
	var members, stunted int64
	if err := owner.Pool.QueryRow(ctx, `SELECT village_code, members, stunted FROM household WHERE external_id = 'HH-0000010'`).
		Scan(&code, &members, &stunted); err != nil {
		t.Fatal(err)
	}
	res, err := owner.EraseHousehold(ctx, "p3ke", "HH-0000010", "test", "surat 12/2026")
	if err != nil {
		t.Fatal(err)
	}
	if res.Households != 1 || len(res.Villages) != 1 || res.Villages[0].VillageCode != code ||
		res.Villages[0].Households != 1 || res.Villages[0].Members != members || res.Villages[0].Stunted != stunted {
		t.Fatalf("erasure %+v, want village %s −1 household, −%d members, −%d stunted", res, code, members, stunted)
	}
	if n := count(t, owner, `SELECT count(*) FROM household h JOIN pii.household_person p ON p.household_id = h.id WHERE h.external_id = 'HH-0000010'`); n != 0 {
		t.Fatal("personal data still there")
	}
	if n := count(t, owner, `SELECT count(*) FROM pii.household_person p WHERE NOT EXISTS (SELECT 1 FROM household h WHERE h.id = p.household_id)`); n != 0 {
		t.Fatalf("%d orphan personal rows", n)
	}
	if n := count(t, owner, `SELECT count(*) FROM pii.erasure WHERE register = 'p3ke' AND external_id = 'HH-0000010' AND households = 1`); n != 1 {
		t.Fatal("no erasure record")
	}
	// A re-import of the same register does not bring the person back.
	r := importFile(t, ctx, owner, data, geo.ImportSpec{})
	if r.err != nil || r.res.ErasedSkipped != 1 || r.res.Inserted != 0 {
		t.Fatalf("re-import after erasure %+v %v", r.res, r.err)
	}
	if len(r.rejects) != 1 || !strings.Contains(r.rejects[0].Reason, "erased") {
		t.Fatalf("rejects %+v", r.rejects)
	}
	if _, err := owner.EraseHousehold(ctx, "p3ke", "HH-9999999", "test", ""); !errors.Is(err, geo.ErrNoHousehold) {
		t.Fatalf("erasing an unknown id: %v", err)
	}
}

func TestHashKeyIDGuardAndRotation(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	realVillages(t, owner)
	data := synthCSV(t, 200, 6, 0)
	old := geotest.HashKey()
	if r := importFile(t, ctx, owner, data, geo.ImportSpec{KeyID: old.ID()}); r.err != nil {
		t.Fatal(r.err)
	}
	nk := geo.HashKey(bytes.Repeat([]byte("n"), 32))
	if r := importFile(t, ctx, owner, data, geo.ImportSpec{KeyID: nk.ID()}); !errors.Is(r.err, geo.ErrKeyMismatch) {
		t.Fatalf("import with another key: %v", r.err)
	}
	if err := owner.RotateHashKey(ctx, nk.ID(), old.ID(), "test"); err == nil {
		t.Fatal("rotation accepted the wrong old key")
	}
	if err := owner.RotateHashKey(ctx, old.ID(), nk.ID(), "test"); err != nil {
		t.Fatal(err)
	}
	st, err := owner.HashKeyStatus(ctx)
	if err != nil || st.Current != nk.ID() || len(st.Previous) != 1 || st.Previous[0] != old.ID() ||
		len(st.Usage) != 1 || st.Usage[0].KeyID != old.ID() || st.Usage[0].Households != 200 {
		t.Fatalf("status %+v %v", st, err)
	}
	if r := importFile(t, ctx, owner, data, geo.ImportSpec{KeyID: old.ID()}); !errors.Is(r.err, geo.ErrKeyMismatch) {
		t.Fatalf("import with the retired key: %v", r.err)
	}
	// A re-import under the new key rewrites every row (relinks).
	r := importFile(t, ctx, owner, data, geo.ImportSpec{KeyID: nk.ID()})
	if r.err != nil || r.res.Updated != 200 {
		t.Fatalf("re-import under the new key %+v %v", r.res, r.err)
	}
	if n := count(t, owner, `SELECT count(*) FROM household WHERE hash_key_id = $1`, nk.ID()); n != 200 {
		t.Fatalf("%d rows under the new key id", n)
	}
}

func TestImportPopulationSP2010(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	realVillages(t, owner)
	path := filepath.Join(geotest.SharedData(t), "bekasi_penduduk_desa_sp2010.csv")
	load := func() geo.PopulationResult {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := owner.ImportPopulation(ctx, f, geo.PopulationSpec{File: path})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := load()
	if res.Rows != 187 || res.Total != 2630401 || res.Year != 2010 || res.Inserted != 187 || len(res.Unknown) != 0 {
		t.Fatalf("population import %+v", res)
	}
	if sum := count(t, owner, `SELECT sum(population) FROM village_population WHERE year = 2010`); sum != 2630401 {
		t.Fatalf("stored sum %d", sum)
	}
	if again := load(); again.Unchanged != 187 || again.Inserted+again.Updated != 0 {
		t.Fatalf("re-import %+v", again)
	}
	for in, want := range map[string]string{
		"":                                       "empty",
		"kode_desa,penduduk\n32.16.01.2001,12\n": "no year",
		"kode_desa,tahun,penduduk\n3216010001,2020,12\n":       "not a Kemendagri village code",
		"kode_desa,tahun,penduduk\n32.16.01.2001,2020,1.2.3\n": "baris 2",
		"nama,penduduk\nx,1\n":                                 "village code column",
	} {
		_, err := owner.ImportPopulation(ctx, strings.NewReader(in), geo.PopulationSpec{File: "p.csv"})
		if err == nil || !strings.Contains(err.Error(), "p.csv") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", in, err, want)
		}
	}
}
