package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/synth"
)

func runHouseholds(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: import, erase or generate")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "import":
		return runHouseholdsImport(ctx, e, args)
	case "erase":
		return runHouseholdsErase(ctx, e, args)
	case "generate":
		return runHouseholdsGenerate(e, args)
	}
	return usagef("unknown subcommand %q", sub)
}

func runHouseholdsGenerate(e *env, args []string) error {
	fs := flag.NewFlagSet("households generate", flag.ContinueOnError)
	n := fs.Int("n", 0, "number of households")
	seed := fs.Uint64("seed", 1, "random seed")
	boundaries := fs.String("boundaries", "", "village GeoJSON to place households in (default: the demo regency)")
	population := fs.String("population", "", "CSV of population per village code, to weight households")
	dirty := fs.Float64("dirty", 0, "share of rows to spoil like real registers (0–1)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n <= 0 {
		return usagef("--n must be a positive number of households")
	}
	if *dirty < 0 || *dirty > 1 {
		return usagef("--dirty must be between 0 and 1")
	}
	var villages []synth.Village
	if *boundaries != "" {
		f, err := os.Open(*boundaries)
		if err != nil {
			return err
		}
		villages, err = synth.VillagesFromGeoJSON(f, *seed)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *boundaries, err)
		}
	} else {
		villages = synth.NewRegency(*seed).Villages
	}
	opt := synth.HouseholdOptions{N: *n, Seed: *seed, Dirty: *dirty}
	if *population != "" {
		f, err := os.Open(*population)
		if err != nil {
			return err
		}
		opt.Population, err = synth.PopulationFromCSV(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *population, err)
		}
	}
	w := bufio.NewWriterSize(e.stdout, 1<<16)
	if err := synth.WriteHouseholdsCSV(w, villages, opt); err != nil {
		return err
	}
	return w.Flush()
}

// importSummary is what `households import` prints (--json) and the API returns.
type importSummary struct {
	File        string `json:"file"`
	Register    string `json:"register"`
	Period      string `json:"period"`
	Source      string `json:"source"`
	RejectsFile string `json:"rejects_file,omitempty"`
	geo.ImportResult
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
	Seconds        float64  `json:"seconds"`
	RowsPerSecond  float64  `json:"rows_per_second"`
	HashKeyID      string   `json:"hash_key_id"`
}

func runHouseholdsImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("households import", flag.ContinueOnError)
	register := fs.String("register", "", "register key: eppgbm, p3ke, disnaker, survey, …")
	period := fs.String("period", "", "period of the register: YYYY, YYYY-MM, YYYY-S1, YYYY-Q1 …")
	source := fs.String("source", "", "who delivered the file (default: the file name)")
	strict := fs.Bool("strict", false, "load nothing when any row is rejected")
	retire := fs.Bool("retire-missing", false, "retire households of this register and period that the file no longer lists")
	gap := fs.Float64("gap", 50, "metres a point in a gap between villages may be from the nearest one")
	rejectsPath := fs.String("rejects", "", "reject report (default FILE.rejects.csv)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one FILE (CSV or GeoJSON)")
	}
	if *register == "" || *period == "" {
		return usagef("--register and --period are required")
	}
	file := pos[0]
	if *source == "" {
		*source = filepath.Base(file)
	}
	if *rejectsPath == "" {
		*rejectsPath = file + ".rejects.csv"
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, keySrc, err := geo.LoadHashKey(true)
	if err != nil {
		return err
	}
	extent, err := st.RegencyExtent(ctx, geo.DefaultExtentMargin)
	if err != nil {
		return err
	}
	rw, err := newRejectWriter(*rejectsPath)
	if err != nil {
		return err
	}
	defer rw.close()
	rd, err := geo.NewHouseholdReader(f, file, geo.ReaderOptions{Key: key, Extent: extent, OnReject: rw.add})
	if err != nil {
		return err
	}
	prog := newProgress(e.stderr, size, rd.BytesRead)
	if prog.tty {
		fmt.Fprintf(e.stderr, "kunci hash / hash key: %s (id %s)\n", keySrc, key.ID())
	}
	start := time.Now()
	next, stop := geo.Pipelined(ctx, rd.Next)
	res, err := st.ImportHouseholds(ctx, geo.ImportSpec{Register: *register, Period: *period, Source: *source,
		File: filepath.Base(file), By: "cli", GapTolerance: *gap, Strict: *strict, RetireMissing: *retire,
		KeyID: key.ID(), OnReject: rw.add, Progress: prog.phase}, prog.count(next))
	stop()
	prog.done()
	if cerr := rw.close(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, geo.ErrRejected) {
		return fmt.Errorf("%s: %d baris ditolak, tidak ada yang dimuat; lihat %s (%d rows rejected, nothing loaded; see the report)",
			file, rw.n, *rejectsPath, rw.n)
	}
	if err != nil {
		return err
	}
	refreshScores(ctx, e, st)
	sum := importSummary{File: file, Register: *register, Period: *period, Source: *source, ImportResult: res,
		IgnoredColumns: rd.Ignored, Seconds: time.Since(start).Seconds(), HashKeyID: key.ID()}
	if rw.n > 0 {
		sum.RejectsFile = *rejectsPath
	}
	if sum.Seconds > 0 {
		sum.RowsPerSecond = float64(res.Rows) / sum.Seconds
	}
	return e.out(sum, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %d baris/rows in %.1fs (%.0f/s): %d baru/new, %d berubah/updated, %d tetap/unchanged, %d ditolak/rejected",
			file, res.Rows, sum.Seconds, sum.RowsPerSecond, res.Inserted, res.Updated, res.Unchanged, res.Rejected)
		if *retire {
			fmt.Fprintf(w, ", %d dipensiunkan/retired", res.Retired)
		}
		fmt.Fprintln(w, ".")
		fmt.Fprintf(w, "desa / villages: %d ditetapkan/assigned, %d tanpa desa/unassigned (%d tanpa koordinat/without coordinates)\n",
			res.Assigned, res.Unassigned, res.NoLocation)
		if res.BatchID == 0 {
			fmt.Fprintln(w, "tidak ada perubahan / nothing changed (no batch recorded)")
		} else {
			fmt.Fprintf(w, "batch %d, register %s, periode/period %s, sumber/source %s\n", res.BatchID, *register, *period, *source)
		}
		if rw.n > 0 {
			fmt.Fprintf(w, "laporan penolakan / reject report: %s\n", *rejectsPath)
		}
		if len(rd.Ignored) > 0 {
			fmt.Fprintf(w, "kolom diabaikan / ignored columns: %v\n", rd.Ignored)
		}
	})
}

// rejectWriter streams the reject report: row, id, reason — never a NIK, No. KK,
// name or address (geo.Reject holds none).
type rejectWriter struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *csv.Writer
	n    int64
	err  error
}

func newRejectWriter(path string) (*rejectWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("reject report: %w", err)
	}
	w := csv.NewWriter(f)
	err = w.Write([]string{"baris_row", "id", "alasan_reason"})
	return &rejectWriter{path: path, f: f, w: w}, err
}

func (r *rejectWriter) add(rj geo.Reject) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if err := r.w.Write([]string{strconv.FormatInt(rj.Row, 10), rj.ID, rj.Reason}); err != nil && r.err == nil {
		r.err = err
	}
}

func (r *rejectWriter) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return r.err
	}
	r.w.Flush()
	if err := r.w.Error(); err != nil && r.err == nil {
		r.err = err
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = err
	}
	r.f = nil
	return r.err
}

// progress prints rows, rows/s and an ETA to a terminal every second.
type progress struct {
	w     io.Writer
	tty   bool
	size  int64
	bytes func() int64
	start time.Time
	mu    sync.Mutex
	rows  int64
	ph    string
	stopc chan struct{}
	wg    sync.WaitGroup
}

func newProgress(w io.Writer, size int64, bytes func() int64) *progress {
	p := &progress{w: w, size: size, bytes: bytes, start: time.Now(), stopc: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	if p.tty {
		p.wg.Add(1)
		go p.loop()
	}
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stopc:
			return
		case <-t.C:
			p.print()
		}
	}
}

func (p *progress) print() {
	p.mu.Lock()
	rows, ph := p.rows, p.ph
	p.mu.Unlock()
	el := time.Since(p.start).Seconds()
	rate := float64(rows) / max(el, 0.001)
	if ph != "" {
		fmt.Fprintf(p.w, "\r%d baris/rows, %.0f/s, %s …        ", rows, rate, ph)
		return
	}
	eta := "?"
	if b := p.bytes(); b > 0 && p.size > 0 {
		left := el * float64(p.size-b) / float64(b)
		eta = (time.Duration(left) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%d baris/rows, %.0f/s, sisa/ETA %s        ", rows, rate, eta)
}

func (p *progress) phase(s string) {
	if os.Getenv("SINERGI_TRACE") != "" {
		// Phase timings for profiling (scripts/bench_households.sh sets it).
		fmt.Fprintf(p.w, "trace %.2fs %s\n", time.Since(p.start).Seconds(), s)
	}
	p.mu.Lock()
	p.ph = s
	p.mu.Unlock()
}

func (p *progress) count(next func() (geo.HouseholdRecord, bool, error)) func() (geo.HouseholdRecord, bool, error) {
	return func() (geo.HouseholdRecord, bool, error) {
		r, ok, err := next()
		if ok {
			p.mu.Lock()
			p.rows++
			p.mu.Unlock()
		}
		return r, ok, err
	}
}

func (p *progress) done() {
	if !p.tty {
		return
	}
	close(p.stopc)
	p.wg.Wait()
	p.print()
	fmt.Fprintln(p.w)
}

func runHouseholdsErase(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("households erase", flag.ContinueOnError)
	register := fs.String("register", "", "register the household is listed in")
	note := fs.String("note", "", "reference of the person's request (letter number, date)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *register == "" {
		return usagef("give one household ID and --register")
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := st.EraseHousehold(ctx, *register, pos[0], "cli", *note)
	if err != nil {
		return err
	}
	refreshScores(ctx, e, st)
	return e.out(res, func(w io.Writer) {
		fmt.Fprintf(w, "dihapus / erased: %s %s — %d baris/rows (semua periode/all periods), catatan penghapusan/erasure record %d\n",
			res.Register, res.ExternalID, res.Households, res.ErasureID)
		if len(res.Villages) == 0 {
			fmt.Fprintln(w, "tidak ada agregat desa yang berubah (no live village aggregate changes)")
		}
		for _, v := range res.Villages {
			code := v.VillageCode
			if code == "" {
				code = "(tanpa desa / unassigned)"
			}
			fmt.Fprintf(w, "  desa %s periode %s: rumah tangga −%d, anggota −%d, balita −%d, stunting −%d, miskin ekstrem −%d, penganggur −%d\n",
				code, v.Period, v.Households, v.Members, v.ChildrenU5, v.Stunted, v.ExtremePoor, v.UnemployedAdults)
		}
	})
}
