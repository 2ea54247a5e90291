package geo_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/demo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// tableDigests returns an md5 of every project table's sorted rows.
func tableDigests(t *testing.T, st *geo.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool.Query(ctx, `SELECT schemaname, tablename FROM pg_tables
		WHERE schemaname IN ('public', 'pii') AND tablename <> 'spatial_ref_sys' ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var s, n string
		err := r.Scan(&s, &n)
		return pgx.Identifier{s, n}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, id := range names {
		var d string
		if err := st.Pool.QueryRow(ctx, `SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM `+id.Sanitize()+` x`).Scan(&d); err != nil {
			t.Fatalf("%s: %v", id.Sanitize(), err)
		}
		out[id.Sanitize()] = d
	}
	return out
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	url, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, owner, geotest.HashKey(), demo.Options{Seed: 3, Households: 2000}); err != nil {
		t.Fatal(err)
	}
	before := tableDigests(t, owner)
	versionsAtBackup := layerVersions(t, owner)
	file := filepath.Join(t.TempDir(), "sinergi.dump")
	if err := geo.Backup(ctx, url, file); err != nil {
		t.Fatal(err)
	}
	// Changes after the backup: a new user, a deleted plan, and an erasure request.
	if _, _, err := owner.AddUser(ctx, geo.NewUser{Name: "setelah-backup", Role: geo.RoleGIS}); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Pool.Exec(ctx, `DELETE FROM plan WHERE id = (SELECT min(id) FROM plan)`); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.EraseHousehold(ctx, "demo", "HH-0000007", "test", "permintaan warga"); err != nil {
		t.Fatal(err)
	}
	versionsBefore := layerVersions(t, owner)
	res, err := geo.Restore(ctx, url, file)
	if err != nil {
		t.Fatal(err)
	}
	// Every layer version and the auth epoch move past both the restored and the
	// replaced values, so no server's cache serves a tile or a token from before.
	for l, v := range layerVersions(t, owner) {
		if v <= versionsBefore[l] || v <= versionsAtBackup[l] {
			t.Errorf("%s: version %d after the restore, %d before it, %d in the backup", l, v, versionsBefore[l], versionsAtBackup[l])
		}
	}
	if res.ErasuresReapplied != 1 {
		t.Fatalf("erasures re-applied: %d, want 1", res.ErasuresReapplied)
	}
	owner.Pool.Reset() // type OIDs may have changed
	after := tableDigests(t, owner)
	for name, d := range before {
		if name == `"pii"."erasure"` || name == `"pii"."household_person"` || name == `"public"."household"` ||
			name == `"public"."layer_version"` || name == `"public"."auth_epoch"` {
			continue
		}
		if after[name] != d {
			t.Errorf("%s differs after the round trip", name)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d tables before, %d after", len(before), len(after))
	}
	var persons, erased, users int
	err = owner.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM pii.household_person),
		(SELECT count(*) FROM household WHERE external_id = 'HH-0000007'),
		(SELECT count(*) FROM app_user WHERE name = 'setelah-backup')`).Scan(&persons, &erased, &users)
	if err != nil {
		t.Fatal(err)
	}
	if persons != 1999 || erased != 0 || users != 0 {
		t.Fatalf("after restore: %d personal rows (want 1999), erased person present=%d, post-backup user=%d", persons, erased, users)
	}
	// The web role still works on the restored schema and still cannot read pii.
	web, err := geo.Open(ctx, url, geo.Options{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	if _, err := web.ActiveVillages(ctx); err != nil {
		t.Fatalf("web role after restore: %v", err)
	}
	if _, err := web.Pool.Exec(ctx, `SELECT 1 FROM pii.household_person LIMIT 1`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("web role reads pii after restore: %v", err)
	}
}

func TestRestoreBadFileChangesNothing(t *testing.T) {
	url, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	if _, _, err := owner.AddUser(ctx, geo.NewUser{Name: "tetap", Role: geo.RolePlanner}); err != nil {
		t.Fatal(err)
	}
	before := tableDigests(t, owner)
	bad := filepath.Join(t.TempDir(), "bad.dump")
	if err := os.WriteFile(bad, []byte("not a dump"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := geo.Restore(ctx, url, bad); err == nil || !strings.Contains(err.Error(), "bad.dump") {
		t.Fatalf("restore of a bad file: %v", err)
	}
	after := tableDigests(t, owner)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed after a failed restore", k)
		}
	}
}

// layerVersions reads every layer version and the auth epoch (as "auth_epoch").
func layerVersions(t *testing.T, st *geo.Store) map[string]int64 {
	t.Helper()
	owner := st
	owner.Pool.Reset()
	rows, err := owner.Pool.Query(context.Background(), `SELECT layer, version FROM layer_version
		UNION ALL SELECT 'auth_epoch', epoch FROM auth_epoch`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var l string
		var v int64
		if err := rows.Scan(&l, &v); err != nil {
			t.Fatal(err)
		}
		out[l] = v
	}
	if err := rows.Err(); err != nil || len(out) < 6 {
		t.Fatalf("layer versions: %v %v", out, err)
	}
	return out
}
