// Package geo is Sinergi's PostGIS store: migrations, boundary sets, households,
// companies, plans, users and the audit log. PostGIS is the system of record and
// does the spatial work; this package orchestrates it with parameterised SQL.
package geo

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	pgxgeom "github.com/twpayne/pgx-geom"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// WebRole is the database role the web server runs as. It cannot read schema pii.
const WebRole = "sinergi_web"

// versionTable records applied migrations.
const versionTable = "public.schema_version"

// ErrNotMigrated means the database schema is older than this binary.
var ErrNotMigrated = errors.New("database schema is not migrated; run `sinergi migrate`")

// Store is a handle on the database through one connection pool. The CLI and import
// handlers use an owner store; the web server's read paths use a web store (role
// sinergi_web), so a bug in a handler cannot reach personal data.
type Store struct {
	Pool *pgxpool.Pool
	web  bool
	// writes notes when the pool last wrote, for Settle (geo/lease.go).
	writes *writeTracer
}

// Options configure Open.
type Options struct {
	// Web makes every connection SET ROLE sinergi_web (unless the URL already logs in as it).
	Web bool
	// MaxConns caps the pool size; 0 keeps pgx's default.
	MaxConns int32
}

// Open connects a pool to url. Geometry columns are decoded with go-geom codecs
// (pgx-geom) when PostGIS is installed in the database.
func Open(ctx context.Context, url string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	web := opt.Web
	writes := &writeTracer{}
	cfg.ConnConfig.Tracer = writes
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if web && conn.Config().User != WebRole {
			if _, err := conn.Exec(ctx, "SET ROLE "+WebRole); err != nil {
				return fmt.Errorf("set role %s: %w", WebRole, err)
			}
		}
		var hasPostGIS bool
		if err := conn.QueryRow(ctx, "SELECT to_regtype('geometry') IS NOT NULL").Scan(&hasPostGIS); err != nil {
			return err
		}
		if hasPostGIS {
			return pgxgeom.Register(ctx, conn)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{Pool: pool, web: web, writes: writes}, nil
}

// Close waits out the freshness lease after the store's last write (Settle:
// a server cannot serve what this process changed as it was before), then
// closes the pool.
func (s *Store) Close() {
	_ = s.Settle(context.Background())
	s.Pool.Close()
}

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To int32
}

// Migrate brings the schema at url to the newest version. It is idempotent and
// guarded by tern's advisory lock, so two starting processes don't race.
func Migrate(ctx context.Context, url string) (MigrateResult, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.Background())
	m, err := migrate.NewMigratorEx(ctx, conn, versionTable, &migrate.MigratorOptions{})
	if err != nil {
		return MigrateResult{}, fmt.Errorf("migrator: %w", err)
	}
	if err := m.LoadMigrations(Migrations()); err != nil {
		return MigrateResult{}, fmt.Errorf("load migrations: %w", err)
	}
	from, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("read schema version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return MigrateResult{}, fmt.Errorf("migrate: %w", err)
	}
	return MigrateResult{From: from, To: int32(len(m.Migrations))}, nil
}

// LatestVersion is the schema version this binary expects.
func LatestVersion() int {
	names, _ := migrate.FindMigrations(Migrations())
	return len(names)
}

// Ready checks the database is reachable and migrated to this binary's version.
func (s *Store) Ready(ctx context.Context) error {
	var v int
	err := s.Pool.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&v)
	if err != nil {
		var missing bool
		if qerr := s.Pool.QueryRow(ctx, "SELECT to_regclass($1) IS NULL", versionTable).Scan(&missing); qerr == nil && missing {
			return ErrNotMigrated
		}
		return fmt.Errorf("database: %w", err)
	}
	if v < LatestVersion() {
		return fmt.Errorf("%w (at version %d, need %d)", ErrNotMigrated, v, LatestVersion())
	}
	return nil
}

// tx runs fn in a transaction that commits when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}
