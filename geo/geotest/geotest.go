// Package geotest gives tests a fresh, migrated PostGIS database of their own.
//
// Tests read SINERGI_TEST_DATABASE_URL (printed by scripts/pg.sh start; set by
// scripts/test.sh). Without it a test is skipped, except under CI, where it fails:
// store code is never tested against anything but a real PostGIS.
package geotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// AdminURL returns the URL tests create databases from, or skips/fails the test.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SINERGI_TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SINERGI_TEST_DATABASE_URL is not set; run the tests with scripts/test.sh")
		}
		t.Skip("SINERGI_TEST_DATABASE_URL not set (scripts/test.sh sets it)")
	}
	return u
}

// NewDatabase creates an empty database (PostGIS comes from the cluster's
// template1) and drops it when the test ends. It returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sinergi_t_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// Retried: with every package's tests running at once the cluster can
		// be out of connection slots for a moment, which left databases behind.
		var err error
		for try := range 5 {
			if try > 0 {
				time.Sleep(time.Second)
			}
			if err = dropDatabase(admin, name); err == nil {
				return
			}
		}
		t.Logf("drop %s: %v", name, err)
	})
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	return replaceDB(admin, cfg.Database, name)
}

func replaceDB(url, old, name string) string {
	// URLs from scripts/pg.sh look like postgres://u:p@host:port/db?params.
	for i := len(url) - len(old); i >= 0; i-- {
		if url[i:i+len(old)] == old && i > 0 && url[i-1] == '/' {
			return url[:i] + name + url[i+len(old):]
		}
	}
	return url
}

// Migrated returns a fresh migrated database: its URL, an owner store and a web store.
func Migrated(t testing.TB) (string, *geo.Store, *geo.Store) {
	t.Helper()
	url := NewDatabase(t)
	ctx := context.Background()
	if _, err := geo.Migrate(ctx, url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	owner, err := geo.Open(ctx, url, geo.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	web, err := geo.Open(ctx, url, geo.Options{Web: true, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(web.Close)
	return url, owner, web
}

// SharedData returns the folder of the real Bekasi data (../shared/data/bekasi
// beside the repository, or SINERGI_SHARED_DATA).
func SharedData(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("SINERGI_SHARED_DATA"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "data", "bekasi")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("real Bekasi data not found at %s (set SINERGI_SHARED_DATA)", d)
	}
	return d
}

// HashKey is a fixed key for tests.
func HashKey() geo.HashKey {
	return geo.HashKey([]byte("sinergi-test-key-0123456789abcdef"))
}

// ActivateShared loads one of the real Bekasi layers (e.g. "bekasi_desa.geojson")
// at level into a new boundary set, activates it and returns the set id.
func ActivateShared(t testing.TB, st *geo.Store, file, level string) int64 {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(SharedData(t), file)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	feats, err := geo.ReadBoundaryGeoJSON(f, path, level, geo.FieldMap{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.CreateBoundarySet(ctx, level, file, "test", feats)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ActivateBoundarySet(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	return id
}

func dropDatabase(admin, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}
