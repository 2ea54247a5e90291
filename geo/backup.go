package geo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Backup writes the project's schemas (public and pii, data included) to file in
// pg_dump's custom format. The PostGIS extension itself is not part of the backup:
// the target database must have it, as every database of the project cluster does.
func Backup(ctx context.Context, url, file string) error {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		return errors.New("pg_dump not found (install postgresql-client-15)")
	}
	cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--schema=public", "--schema=pii",
		"--file="+file, "--dbname="+url)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(file)
		return fmt.Errorf("pg_dump: %w: %s", err, firstLine(stderr.String()))
	}
	return nil
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	ErasuresReapplied int `json:"erasures_reapplied"`
}

// Restore replaces the project's schemas in the database at url with the backup in
// file, in one transaction: on any error the database is left as it was. Erasure
// requests recorded in the live database before the restore are applied again
// afterwards, so a person's right to erasure survives restoring an older backup.
func Restore(ctx context.Context, url, file string) (RestoreResult, error) {
	var res RestoreResult
	for _, tool := range []string{"pg_restore", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			return res, fmt.Errorf("%s not found (install postgresql-client-15)", tool)
		}
	}
	if _, err := os.Stat(file); err != nil {
		return res, err
	}
	// The table of contents without the public schema's own entry and PostGIS's
	// catalogue rows, which belong to the extension.
	toc, err := output(ctx, "pg_restore", "--list", file)
	if err != nil {
		return res, fmt.Errorf("%s is not a Sinergi backup: %w", file, err)
	}
	var keep strings.Builder
	sc := bufio.NewScanner(strings.NewReader(toc))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, " SCHEMA - public ") || strings.Contains(l, "spatial_ref_sys") {
			continue
		}
		keep.WriteString(l + "\n")
	}
	listFile, err := os.CreateTemp("", "sinergi-restore-*.list")
	if err != nil {
		return res, err
	}
	defer os.Remove(listFile.Name())
	if _, err := listFile.WriteString(keep.String()); err != nil {
		return res, err
	}
	listFile.Close()
	script, err := os.CreateTemp("", "sinergi-restore-*.sql")
	if err != nil {
		return res, err
	}
	defer os.Remove(script.Name())
	script.Close()
	if _, err := output(ctx, "pg_restore", "--no-owner", "--use-list="+listFile.Name(), "--file="+script.Name(), file); err != nil {
		return res, err
	}

	erasures, err := liveErasures(ctx, url)
	if err != nil {
		return res, err
	}
	// psql --single-transaction wraps the drop, the restore and the re-applied
	// erasures in one transaction.
	versions, err := liveVersions(ctx, url)
	if err != nil {
		return res, err
	}
	prelude := dropProjectObjectsSQL
	post := reapplyErasuresSQL(erasures) + versionsForwardSQL(versions)
	cmd := exec.CommandContext(ctx, "psql", "--no-psqlrc", "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1",
		"--dbname="+url, "-c", prelude, "-f", script.Name(), "-c", post)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &bytes.Buffer{}
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("restore %s (nothing changed): %w: %s", file, err, errorLine(stderr.String()))
	}
	res.ErasuresReapplied = len(erasures)
	// psql wrote, not a Store: wait out the freshness lease here (FreshnessLease).
	select {
	case <-time.After(WriterWait):
	case <-ctx.Done():
	}
	return res, nil
}

type erasure struct{ register, externalID, requestedAt, requestedBy, note string }

func liveErasures(ctx context.Context, url string) ([]erasure, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('pii.erasure') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT register, external_id, requested_at::text, requested_by, note FROM pii.erasure ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (erasure, error) {
		var e erasure
		err := r.Scan(&e.register, &e.externalID, &e.requestedAt, &e.requestedBy, &e.note)
		return e, err
	})
}

// liveVersions reads the layer versions and the auth epoch before a restore
// (empty when the tables do not exist yet).
func liveVersions(ctx context.Context, url string) (map[string]int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	defer conn.Close(context.Background())
	out := map[string]int64{}
	var layers, epoch bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('public.layer_version') IS NOT NULL,
		to_regclass('public.auth_epoch') IS NOT NULL`).Scan(&layers, &epoch); err != nil {
		return nil, err
	}
	if layers {
		rows, err := conn.Query(ctx, `SELECT layer, version FROM layer_version`)
		if err != nil {
			return nil, err
		}
		var l string
		var v int64
		if _, err := pgx.ForEachRow(rows, []any{&l, &v}, func() error { out[l] = v; return nil }); err != nil {
			return nil, err
		}
	}
	if epoch {
		var e int64
		if err := conn.QueryRow(ctx, `SELECT coalesce(max(epoch), 0) FROM auth_epoch`).Scan(&e); err != nil {
			return nil, err
		}
		out[authEpochKey] = e
	}
	return out, nil
}

// authEpochKey holds the auth epoch in liveVersions' map (no layer has this name).
const authEpochKey = " auth_epoch"

// versionsForwardSQL moves every layer version and the auth epoch past both the
// restored value and the one before the restore. The backup's versions are
// older than the live ones: without this a server's cache could hold tiles
// under the very versions the restore brings back, rendered from other data,
// and a token cached under an older epoch could outlive its revocation. The
// bumps also NOTIFY every server.
func versionsForwardSQL(old map[string]int64) string {
	var b strings.Builder
	// The restore script empties search_path; bump_layer names its table unqualified.
	b.WriteString("SET search_path TO public;\n")
	for l, v := range old {
		if l == authEpochKey {
			fmt.Fprintf(&b, "UPDATE public.auth_epoch SET epoch = greatest(epoch, %d) + 1;\nNOTIFY %s;\n", v, AuthChannel)
			continue
		}
		fmt.Fprintf(&b, `INSERT INTO public.layer_version (layer, version) VALUES (%s, %d)
ON CONFLICT (layer) DO UPDATE SET version = greatest(layer_version.version, EXCLUDED.version);
`, quote(l), v)
	}
	b.WriteString("SELECT public.bump_layer(layer) FROM public.layer_version;\n")
	return b.String()
}

// reapplyErasuresSQL records the erasures again (when the backup predates them)
// and removes the households they name, in every period, as `households erase`
// does (their personal data goes with them).
func reapplyErasuresSQL(es []erasure) string {
	var b strings.Builder
	b.WriteString("SELECT 1;\n")
	for _, e := range es {
		fmt.Fprintf(&b, `INSERT INTO pii.erasure (register, external_id, requested_at, requested_by, note)
SELECT %[1]s, %[2]s, %[3]s::timestamptz, %[4]s, %[5]s
WHERE NOT EXISTS (SELECT 1 FROM pii.erasure WHERE register = %[1]s AND external_id = %[2]s AND requested_at = %[3]s::timestamptz);
DELETE FROM public.household WHERE register = %[1]s AND external_id = %[2]s;
`, quote(e.register), quote(e.externalID), quote(e.requestedAt), quote(e.requestedBy), quote(e.note))
	}
	return b.String()
}

// quote makes a SQL string literal (standard_conforming_strings is on in PG ≥ 9.1).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// dropProjectObjectsSQL drops schema pii and every table, view, sequence and
// function in public that is not part of an extension (PostGIS stays).
const dropProjectObjectsSQL = `
SET client_min_messages = warning;
DO $$
DECLARE r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sinergi_web') THEN
    CREATE ROLE sinergi_web NOLOGIN;
  END IF;
  DROP SCHEMA IF EXISTS pii CASCADE;
  FOR r IN
    SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP
    -- An object may already be gone with an earlier CASCADE (e.g. a column's sequence).
    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s IF EXISTS %s CASCADE',
        CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
          WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.oid::regclass);
    END IF;
  END LOOP;
  FOR r IN
    SELECT p.oid, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    IF EXISTS (SELECT 1 FROM pg_proc WHERE oid = r.oid) THEN
      EXECUTE format('DROP %s IF EXISTS %s CASCADE',
        CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.oid::regprocedure);
    END IF;
  END LOOP;
  FOR r IN
    SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    IF EXISTS (SELECT 1 FROM pg_type WHERE oid = r.oid) THEN
      EXECUTE format('DROP TYPE IF EXISTS %s CASCADE', r.oid::regtype);
    END IF;
  END LOOP;
END $$;`

func output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", name, err, firstLine(stderr.String()))
	}
	return stdout.String(), nil
}

// errorLine picks psql's first ERROR line, else the first line.
func errorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "ERROR") {
			return strings.TrimSpace(l)
		}
	}
	return firstLine(s)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
