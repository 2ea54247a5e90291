package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
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
	defTileMB, err := envInt("SINERGI_TILE_CACHE_MB", 256)
	if err != nil {
		return usagef("%v", err)
	}
	tileMB := fs.Int("tile-cache-mb", defTileMB, "tile cache size in MB; 0 turns the cache off (env SINERGI_TILE_CACHE_MB)")
	fs.StringVar(&cfg.TileFreshness, "tile-freshness", envOr("SINERGI_TILE_FRESHNESS", "strict"),
		"strict|notify: strict serves a cached tile only under layer versions read from the database within the freshness lease (100 ms; writers wait it out); notify trusts LISTEN/NOTIFY alone (env SINERGI_TILE_FRESHNESS)")
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the schema at start")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *tileMB == 0:
		cfg.TileCacheBytes = -1
	case *tileMB > 0:
		cfg.TileCacheBytes = int64(*tileMB) << 20
	default:
		return usagef("--tile-cache-mb must be 0 (off) or more")
	}
	switch cfg.TileFreshness {
	case "strict", "notify":
	default:
		return usagef("--tile-freshness must be strict or notify")
	}
	switch cfg.CookieSecure {
	case "auto", "always", "never":
	default:
		return usagef("--cookie-secure must be auto, always or never")
	}
	// One JSON line per request: written in batches (every 100 ms, or 64 KB),
	// not with a system call each.
	logOut := newBatchWriter(e.stderr, 64<<10, 100*time.Millisecond)
	defer logOut.Close()
	// slog's JSON handler, with a fast path for the per-request line (api.LogHandler).
	log := slog.New(api.NewLogHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
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

// envInt is the integer in environment variable k, or def when it is unset or empty.
func envInt(k string, def int) (int, error) {
	v := strings.TrimSpace(os.Getenv(k))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a whole number", k, v)
	}
	return n, nil
}

// batchWriter gathers writes (log lines) and hands them on in batches from its own
// goroutine: every interval, or soon after the buffer holds max bytes, and at
// Close. A request's log line is an append under a short lock, never a system
// call (slog's handler holds its own lock while writing, so a slow write there
// would stall every request). Past 4×max unwritten bytes (the output is stuck),
// writers write through themselves rather than grow the buffer. A line is never
// split.
type batchWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	max  int
	wmu  sync.Mutex // orders the writes to w
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

func newBatchWriter(w io.Writer, max int, interval time.Duration) *batchWriter {
	b := &batchWriter{w: w, buf: make([]byte, 0, max), max: max,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-b.kick:
			case <-b.stop:
				return
			}
			_ = b.Flush()
		}
	}()
	return b
}

func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	if len(b.buf)+len(p) > 4*b.max {
		b.mu.Unlock()
		if err := b.Flush(); err != nil {
			return 0, err
		}
		b.mu.Lock()
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= b.max
	b.mu.Unlock()
	if full {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *batchWriter) Flush() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf = make([]byte, 0, b.max)
	b.mu.Unlock()
	if len(out) == 0 {
		return nil
	}
	_, err := b.w.Write(out)
	return err
}

// Close stops the flusher and writes out the rest.
func (b *batchWriter) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
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
