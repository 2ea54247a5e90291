package geo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// Extra flags (columns flag_<name>) are read as yes/no values, stored in
// household.flags, take part in idempotence, and a bad value rejects the row.
func TestHouseholdExtraFlags(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	id, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "sq", "test", []geo.BoundaryFeature{square("99.01.01.2001", 107.00, -6.20, 0.01)})
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	load := func(csv string) (geo.ImportResult, []geo.Reject) {
		t.Helper()
		var rejects []geo.Reject
		rd, err := geo.NewHouseholdReader(strings.NewReader(csv), "flags.csv", geo.ReaderOptions{Key: geotest.HashKey(),
			OnReject: func(r geo.Reject) { rejects = append(rejects, r) }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := owner.ImportHouseholds(ctx, geo.ImportSpec{Register: "survey", Period: "2026", File: "flags.csv"}, rd.Next)
		if err != nil {
			t.Fatal(err)
		}
		return res, rejects
	}
	const head = "id_keluarga;longitude;latitude;jumlah_anggota;flag_disabilitas;Bendera_Air_Bersih\n"
	csv := head + "a;107,005;-6,195;3;ya;0\nb;107,006;-6,195;2;tidak;1\nc;107,007;-6,195;2;mungkin;1\n"
	r1, rej := load(csv)
	if r1.Inserted != 2 || len(rej) != 1 || !strings.Contains(rej[0].Reason, "flag_disabilitas") {
		t.Fatalf("first import %+v, rejects %+v", r1, rej)
	}
	var flags string
	if err := owner.Pool.QueryRow(ctx, `SELECT flags::text FROM household WHERE external_id = 'a'`).Scan(&flags); err != nil {
		t.Fatal(err)
	}
	if flags != `{"air_bersih": false, "disabilitas": true}` {
		t.Fatalf("flags of a = %s", flags)
	}
	if r2, _ := load(csv); r2.Inserted+r2.Updated != 0 {
		t.Fatalf("re-import with flags changed rows: %+v", r2)
	}
	if r3, _ := load(strings.Replace(csv, "a;107,005;-6,195;3;ya;0", "a;107,005;-6,195;3;ya;1", 1)); r3.Updated != 1 {
		t.Fatalf("a changed flag did not update the row: %+v", r3)
	}
}
