// Command loadgen drives the mixed load of scripts/bench_load.sh against a running
// sinergi server: a closed loop of C connections for a duration, each request
// drawn from a fixed mix
//
//	70 % tiles      — of which a fifth are tiles never requested before (taken once
//	                  each from -fresh, in order) and the rest from -tiles (requested
//	                  once by -warm before the clock starts)
//	25 % rankings   — half GET /api/v1/villages?limit=50&sort=…, half GET /api/v1/villages/{code}
//	 5 % matcher    — POST /api/v1/match (sector mode, not saved)
//
// An error is a socket error, a timeout, or any status other than 2xx/304. It
// prints a JSON summary on stdout (throughput, p50/p99 per class and overall,
// errors by kind), and with -log FILE one line per request:
// start_unix_ms,class,status,latency_ms (status 0 = socket error or timeout).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type result struct {
	start   time.Time
	class   string
	status  int
	latency time.Duration
	err     string
}

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "server base URL")
	token := flag.String("token", os.Getenv("LOADGEN_TOKEN"), "bearer token (a planner)")
	dur := flag.Duration("duration", 60*time.Second, "how long to run")
	conns := flag.Int("c", 32, "connections (concurrent closed-loop clients)")
	tilesFile := flag.String("tiles", "", "file of tile paths requested before (warmed)")
	freshFile := flag.String("fresh", "", "file of tile paths never requested before")
	codesFile := flag.String("villages", "", "file of village codes")
	year := flag.Int("year", 2026, "matcher year")
	warm := flag.Bool("warm", true, "request every -tiles path once before the clock starts")
	timeout := flag.Duration("timeout", 30*time.Second, "client timeout per request (a request past it is a hang)")
	logFile := flag.String("log", "", "write one line per request here")
	seed := flag.Uint64("seed", 1, "random seed of the mix")
	flag.Parse()

	tiles, fresh, codes := lines(*tilesFile), lines(*freshFile), lines(*codesFile)
	if len(tiles) == 0 || len(codes) == 0 {
		fail("need -tiles and -villages files with at least one line each")
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: false}
	client := &http.Client{Transport: tr, Timeout: *timeout}
	auth := "Bearer " + *token

	do := func(class, method, path string, body []byte) result {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, *base+path, rd)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept-Encoding", "gzip")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		r := result{start: time.Now(), class: class}
		resp, err := client.Do(req)
		if err != nil {
			r.latency = time.Since(r.start)
			r.err = err.Error()
			return r
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.latency = time.Since(r.start)
		r.status = resp.StatusCode
		if err != nil {
			r.status, r.err = 0, err.Error()
		}
		return r
	}

	if *warm {
		// Warm the "requested before" tiles (in parallel, not timed).
		var next atomic.Int64
		var wg sync.WaitGroup
		for range *conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < int64(len(tiles)); i = next.Add(1) - 1 {
					do("warm", "GET", tiles[i], nil)
				}
			}()
		}
		wg.Wait()
	}

	sorts := []string{"m0", "density", "volume", "sector:kesehatan", "sector:ekonomi"}
	matchBody, _ := json.Marshal(map[string]any{"mode": "sector", "year": *year, "save": false})
	var freshNext, freshOut atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	results := make([][]result, *conns)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(*seed, uint64(w)))
			for ctx.Err() == nil {
				p := rng.Float64()
				var r result
				switch {
				case p < 0.70:
					if rng.Float64() < 0.2 {
						if i := freshNext.Add(1) - 1; i < int64(len(fresh)) {
							r = do("tile_new", "GET", fresh[i], nil)
							break
						}
						freshOut.Add(1)
					}
					r = do("tile", "GET", tiles[rng.IntN(len(tiles))], nil)
				case p < 0.825:
					r = do("ranking", "GET", fmt.Sprintf("/api/v1/villages?limit=50&sort=%s", sorts[rng.IntN(len(sorts))]), nil)
				case p < 0.95:
					r = do("village", "GET", "/api/v1/villages/"+codes[rng.IntN(len(codes))], nil)
				default:
					r = do("match", "POST", "/api/v1/match", matchBody)
				}
				results[w] = append(results[w], r)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	all := slices.Concat(results...)
	slices.SortFunc(all, func(a, b result) int { return a.start.Compare(b.start) })

	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			fail(err.Error())
		}
		w := bufio.NewWriter(f)
		for _, r := range all {
			fmt.Fprintf(w, "%d,%s,%d,%.1f\n", r.start.UnixMilli(), r.class, r.status, float64(r.latency.Microseconds())/1000)
		}
		_ = w.Flush()
		_ = f.Close()
	}

	type stats struct {
		Requests int            `json:"requests"`
		P50ms    float64        `json:"p50_ms"`
		P99ms    float64        `json:"p99_ms"`
		MaxMs    float64        `json:"max_ms"`
		Errors   int            `json:"errors"`
		Statuses map[string]int `json:"statuses"`
	}
	summarise := func(rs []result) stats {
		s := stats{Requests: len(rs), Statuses: map[string]int{}}
		var lat []float64
		for _, r := range rs {
			lat = append(lat, float64(r.latency.Microseconds())/1000)
			key := fmt.Sprint(r.status)
			if r.status == 0 {
				key = "socket_error"
				if strings.Contains(r.err, "Timeout") || strings.Contains(r.err, "deadline") {
					key = "timeout"
				}
			}
			s.Statuses[key]++
			if !(r.status >= 200 && r.status < 300 || r.status == 304) {
				s.Errors++
			}
		}
		slices.Sort(lat)
		if n := len(lat); n > 0 {
			s.P50ms, s.P99ms, s.MaxMs = lat[n/2], lat[min(n-1, n*99/100)], lat[n-1]
		}
		return s
	}
	byClass := map[string][]result{}
	for _, r := range all {
		byClass[r.class] = append(byClass[r.class], r)
	}
	out := map[string]any{
		"duration_s":      elapsed.Seconds(),
		"connections":     *conns,
		"throughput_rps":  float64(len(all)) / elapsed.Seconds(),
		"overall":         summarise(all),
		"fresh_exhausted": freshOut.Load(),
	}
	classes := map[string]stats{}
	for k, v := range byClass {
		classes[k] = summarise(v)
	}
	out["classes"] = classes
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func lines(path string) []string {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err.Error())
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "loadgen:", msg)
	os.Exit(2)
}
