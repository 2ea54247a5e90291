package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/bapeda-bekasi/sinergi/api"
	"github.com/bapeda-bekasi/sinergi/geo"
)

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func runServe(ctx context.Context, e *env, args []string) error {
	cfg := api.DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("SINERGI_ADDR", "127.0.0.1:8080"), "listen address (env SINERGI_ADDR)")
	fs.StringVar(&cfg.BasemapURL, "basemap-url", envOr("SINERGI_BASEMAP_URL", cfg.BasemapURL), "basemap tile URL template; empty for none (env SINERGI_BASEMAP_URL)")
	fs.StringVar(&cfg.BasemapAttribution, "basemap-attribution", envOr("SINERGI_BASEMAP_ATTRIBUTION", cfg.BasemapAttribution), "basemap attribution")
	fs.StringVar(&cfg.CookieSecure, "cookie-secure", envOr("SINERGI_COOKIE_SECURE", cfg.CookieSecure), "auto|always|never: Secure flag on the session cookie")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "time limit for each request's database work")
	tileMB := fs.Int("tile-cache-mb", -1, "tile cache size in MB; 0 turns the cache off (default: SINERGI_TILE_CACHE_MB or 256)")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the schema at start")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *tileMB == 0:
		cfg.TileCacheBytes = -1
	case *tileMB > 0:
		cfg.TileCacheBytes = int64(*tileMB) << 20
	}
	switch cfg.CookieSecure {
	case "auto", "always", "never":
	default:
		return usagef("--cookie-secure must be auto, always or never")
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	url, err := databaseURL()
	if err != nil {
		return err
	}
	if !*noMigrate {
		mctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		r, err := geo.Migrate(mctx, url)
		cancel()
		if err != nil {
			// Keep serving: /readyz reports 503 until the database is there and migrated.
			log.Warn("migration at start failed; /readyz will say 503", "err", err)
		} else if r.From != r.To {
			log.Info("migrated", "from", r.From, "to", r.To)
		}
	}
	// The web pool runs as sinergi_web, which cannot read personal data. In
	// production, log in as that role directly with SINERGI_WEB_DATABASE_URL.
	webURL := envOr("SINERGI_WEB_DATABASE_URL", url)
	web, err := geo.Open(ctx, webURL, geo.Options{Web: true})
	if err != nil {
		return err
	}
	defer web.Close()
	owner, err := geo.Open(ctx, url, geo.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	defer owner.Close()
	srv := api.New(cfg, web, owner, log)
	log.Info("listening", "addr", *addr, "url", fmt.Sprintf("http://%s/", *addr))
	return srv.Listen(ctx, *addr)
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	r, err := geo.Migrate(ctx, url)
	if err != nil {
		return err
	}
	return e.out(r, func(w io.Writer) {
		if r.From == r.To {
			fmt.Fprintf(w, "schema up to date (version %d)\n", r.To)
		} else {
			fmt.Fprintf(w, "schema migrated from version %d to %d\n", r.From, r.To)
		}
	})
}
