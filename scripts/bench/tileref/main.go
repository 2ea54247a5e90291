// Command tileref holds the reference programs of scripts/bench_tiles.sh:
//
//	tileref list  -db URL [-minz 8] [-maxz 15] [-cover extent|villages]
//	                                                   the z/x/y of every tile meeting the active villages'
//	                                                   bounding box (extent, the default: the area a map of
//	                                                   the regency requests; TileJSON's bounds) or meeting
//	                                                   a village itself (villages)
//	tileref mvt   -db URL -addr HOST:PORT              a bare Go handler: one ST_AsMVT query per tile, no cache
//	tileref bytes -addr HOST:PORT -from URL -token T -urls FILE
//	                                                   a bare Fiber handler serving, for the same URLs, the
//	                                                   gzipped bytes the server under test returned
//
// They are the yardsticks the tile server's cold and warm throughput are divided by.
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tileref list|mvt|bytes [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "list":
		err = list(ctx, os.Args[2:])
	case "mvt":
		err = mvt(ctx, os.Args[2:])
	case "bytes":
		err = serveBytes(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tileref:", err)
		os.Exit(1)
	}
}

func list(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("list", flag.ExitOnError)
	db := fs.String("db", os.Getenv("DATABASE_URL"), "database URL")
	minz := fs.Int("minz", 8, "lowest zoom")
	maxz := fs.Int("maxz", 15, "highest zoom")
	cover := fs.String("cover", "extent", "extent: tiles meeting the villages' bounding box; villages: tiles meeting a village")
	_ = fs.Parse(args)
	if *cover != "extent" && *cover != "villages" {
		return fmt.Errorf("-cover %q: want extent or villages", *cover)
	}
	pool, err := pgxpool.New(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `
		WITH e AS (SELECT ST_Transform(ST_SetSRID(ST_Extent(v.geom), 4326), 3857) AS b
			FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'),
		z AS (SELECT generate_series($1::int, $2::int) AS z),
		r AS (SELECT z, 40075016.685578488 / 2 ^ z AS s, e.b FROM z, e),
		t AS (SELECT z, x, y FROM r,
			generate_series(floor((ST_XMin(b) + 20037508.342789244) / s)::int, floor((ST_XMax(b) + 20037508.342789244) / s)::int) x,
			generate_series(floor((20037508.342789244 - ST_YMax(b)) / s)::int, floor((20037508.342789244 - ST_YMin(b)) / s)::int) y)
		SELECT z, x, y FROM t WHERE $3 OR EXISTS (SELECT 1 FROM village v JOIN boundary_set s ON s.id = v.set_id AND s.status = 'active'
			WHERE v.geom && ST_Transform(ST_TileEnvelope(z, x, y), 4326)
				AND ST_Intersects(v.geom, ST_Transform(ST_TileEnvelope(z, x, y), 4326)))
		ORDER BY z, x, y`, *minz, *maxz, *cover == "extent")
	if err != nil {
		return err
	}
	defer rows.Close()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for rows.Next() {
		var z, x, y int
		if err := rows.Scan(&z, &x, &y); err != nil {
			return err
		}
		fmt.Fprintf(w, "%d/%d/%d\n", z, x, y)
	}
	return rows.Err()
}

// refSQL is the plain per-tile query of pg_tileserv-style servers: the active
// villages meeting the tile, as MVT with the same properties the server sends.
const refSQL = `
	WITH env AS (SELECT ST_TileEnvelope($1, $2, $3) AS e)
	SELECT coalesce((SELECT ST_AsMVT(t, 'desa', 4096, 'geom') FROM (
		SELECT v.code, v.name, v.kecamatan_code, v.kecamatan_name, v.kind, round(v.area_km2::numeric, 3) AS area_km2,
			ST_AsMVTGeom(ST_Transform(v.geom, 3857), env.e, 4096, 256, true) AS geom
		FROM village v JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active', env
		WHERE v.geom && ST_Transform(env.e, 4326)) t WHERE t.geom IS NOT NULL), ''::bytea)`

func mvt(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mvt", flag.ExitOnError)
	db := fs.String("db", os.Getenv("DATABASE_URL"), "database URL")
	addr := fs.String("addr", "127.0.0.1:8091", "listen address")
	conns := fs.Int("conns", 4, "pool size (the server's web pool default)")
	_ = fs.Parse(args)
	cfg, err := pgxpool.ParseConfig(*db)
	if err != nil {
		return err
	}
	cfg.MaxConns = int32(*conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tiles/desa/{z}/{x}/{file}", func(w http.ResponseWriter, r *http.Request) {
		z, err1 := strconv.Atoi(r.PathValue("z"))
		x, err2 := strconv.Atoi(r.PathValue("x"))
		y, err3 := strconv.Atoi(strings.TrimSuffix(r.PathValue("file"), ".mvt"))
		if err := errors.Join(err1, err2, err3); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var b []byte
		if err := pool.QueryRow(r.Context(), refSQL, z, x, y).Scan(&b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
		_, _ = w.Write(b)
	})
	srv := &http.Server{Addr: *addr, Handler: mux}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func serveBytes(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bytes", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8092", "listen address")
	from := fs.String("from", "", "base URL of the server under test")
	token := fs.String("token", "", "bearer token for it")
	urls := fs.String("urls", "", "file of paths, one a line")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*urls)
	if err != nil {
		return err
	}
	type answer struct {
		body  []byte
		ctype string
		etag  string
	}
	answers := map[string]answer{}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	var total int
	for _, p := range strings.Fields(string(raw)) {
		req, _ := http.NewRequestWithContext(ctx, "GET", *from+p, nil)
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d %v", p, resp.StatusCode, err)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" { // tiny bodies go out raw; gzip them here alike
			b = gz(b)
		}
		answers[p] = answer{body: b, ctype: resp.Header.Get("Content-Type"), etag: resp.Header.Get("ETag")}
		total += len(b)
	}
	fmt.Fprintf(os.Stderr, "tileref bytes: %d answers, %d gzipped bytes\n", len(answers), total)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/*", func(c *fiber.Ctx) error {
		a, ok := answers[c.Path()]
		if !ok {
			return c.SendStatus(fiber.StatusNotFound)
		}
		c.Set(fiber.HeaderContentType, a.ctype)
		c.Set(fiber.HeaderContentEncoding, "gzip")
		c.Set(fiber.HeaderETag, a.etag)
		return c.Send(a.body)
	})
	go func() { <-ctx.Done(); _ = app.Shutdown() }()
	return app.Listen(*addr)
}

func gz(b []byte) []byte {
	var sb strings.Builder
	w := gzip.NewWriter(&sb)
	_, _ = w.Write(b)
	_ = w.Close()
	return []byte(sb.String())
}
