package demo_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/demo"
	"github.com/bapeda-bekasi/sinergi/geo/geotest"
)

// writesSince counts rows created or updated in any user table by transactions
// that started at or after xid, and reports row counts per table.
func writesSince(t *testing.T, st *geo.Store, xid int64) (int64, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool.Query(ctx, `SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var a [2]string
		err := r.Scan(&a[0], &a[1])
		return a, err
	})
	if err != nil {
		t.Fatal(err)
	}
	var written int64
	counts := map[string]int64{}
	for _, tb := range tables {
		id := pgx.Identifier{tb[0], tb[1]}.Sanitize()
		var n, w int64
		if err := st.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE xmin::text::bigint >= $1) FROM `+id, xid).Scan(&n, &w); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		counts[id] = n
		written += w
	}
	return written, counts
}

func TestDemoLoadIsIdempotent(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	opt := demo.Options{Seed: 7, Households: 3000, CredentialsFile: filepath.Join(t.TempDir(), "cred.json")}
	r1, err := demo.Load(ctx, owner, geotest.HashKey(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Villages < 150 || r1.Kecamatan < 15 || r1.Households.Inserted != 3000 || r1.Companies != 13 || r1.Plans == 0 {
		t.Fatalf("first load: %+v", r1)
	}
	if name, err := owner.Meta(ctx, geo.MetaRegencyName); err != nil || !strings.Contains(name, "99.01") {
		t.Fatalf("demo regency name %q (%v): the page must not present demo data as a real regency", name, err)
	}
	if !r1.ScoresComputed {
		t.Fatal("first demo load computed no scores")
	}
	if len(r1.Users) != 5 || r1.UsersWritten != 5 {
		t.Fatalf("users: %+v", r1.Users)
	}
	var xid int64
	if err := owner.Pool.QueryRow(ctx, `SELECT txid_current()`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	_, before := writesSince(t, owner, xid)
	r2, err := demo.Load(ctx, owner, geotest.HashKey(), opt)
	if err != nil {
		t.Fatal(err)
	}
	written, after := writesSince(t, owner, xid)
	if written != 0 {
		t.Errorf("second demo load wrote %d rows", written)
	}
	for k, n := range before {
		if after[k] != n {
			t.Errorf("%s: %d rows before, %d after the second load", k, n, after[k])
		}
	}
	if r2.Households.Inserted+r2.Households.Updated != 0 || r2.CompaniesWritten != 0 || r2.PlansWritten != 0 || r2.UsersWritten != 0 || r2.ScoresComputed {
		t.Errorf("second load reports writes: %+v", r2)
	}
	// The printed credentials work.
	for i, c := range r2.Users {
		if c != r1.Users[i] {
			t.Errorf("credentials changed between runs: %+v vs %+v", r1.Users[i], c)
		}
		u, err := owner.CheckToken(ctx, c.Token)
		if err != nil || u.Role != c.Role {
			t.Errorf("token of %s: %+v %v", c.Name, u, err)
		}
		if _, _, err := owner.Login(ctx, c.Name, c.Password, "test"); err != nil {
			t.Errorf("password of %s: %v", c.Name, err)
		}
	}
	// Households sit in demo villages: every one assigned.
	var unassigned int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM household WHERE village_code IS NULL`).Scan(&unassigned); err != nil || unassigned != 0 {
		t.Errorf("unassigned demo households: %d (%v)", unassigned, err)
	}
}

func TestDemoRefusesRealData(t *testing.T) {
	_, owner, _ := geotest.Migrated(t)
	ctx := context.Background()
	ring := orb.Ring{{107, -6.2}, {107.01, -6.2}, {107.01, -6.19}, {107, -6.19}, {107, -6.2}}
	if _, err := owner.CreateBoundarySet(ctx, geo.LevelDesa, "bekasi_desa.geojson", "test", []geo.BoundaryFeature{
		{Code: "32.16.01.2001", Name: "Nyata", KecCode: "32.16.01", Kind: "desa", Geom: orb.MultiPolygon{{ring}}}}); err != nil {
		t.Fatal(err)
	}
	_, err := demo.Load(ctx, owner, geotest.HashKey(), demo.Options{Seed: 1, Households: 10})
	if !errors.Is(err, demo.ErrNotDemo) {
		t.Fatalf("demo on a database with real boundaries: %v, want ErrNotDemo", err)
	}
	var n int
	if err := owner.Pool.QueryRow(ctx, `SELECT count(*) FROM household`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused demo wrote %d households (%v)", n, err)
	}
}
