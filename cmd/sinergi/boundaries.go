package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
)

const boundariesUsage = "boundaries import FILE --level desa|kecamatan [--code-field F] [--name-field F] [--parent-field F] " +
	"[--srs EPSG:N] [--swap-xy] [--tolerance M2] [--dry-run] [--activate] | list | diff A B | activate ID | " +
	"export [--level desa|kecamatan] [--format geojson|gpkg] [--out FILE] | synth --n N [--seed S]"

func runBoundaries(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: import, list, diff, activate, export or synth")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "import":
		return boundariesImport(ctx, e, args)
	case "list":
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		sets, err := st.BoundarySets(ctx)
		if err != nil {
			return err
		}
		return e.out(sets, func(w io.Writer) {
			fmt.Fprintf(w, "%-5s %-10s %-8s %8s  %-16s %-10s %s\n", "ID", "LEVEL", "STATUS", "FEATURES", "LOADED", "BY", "SOURCE")
			for _, s := range sets {
				fmt.Fprintf(w, "%-5d %-10s %-8s %8d  %-16s %-10s %s\n", s.ID, s.Level, s.Status, s.FeatureCount,
					s.LoadedAt.Format("2006-01-02 15:04"), s.LoadedBy, s.SourceFile)
			}
		})
	case "diff":
		if len(args) != 2 {
			return usagef("usage: boundaries diff A B (set ids: A old, B new)")
		}
		a, err1 := strconv.ParseInt(args[0], 10, 64)
		b, err2 := strconv.ParseInt(args[1], 10, 64)
		if err1 != nil || err2 != nil {
			return usagef("set ids must be numbers, got %q %q", args[0], args[1])
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		d, err := st.DiffBoundarySets(ctx, a, b)
		if err != nil {
			return err
		}
		return e.out(d, func(w io.Writer) { printDiff(w, d) })
	case "activate":
		if len(args) != 1 {
			return usagef("usage: boundaries activate ID")
		}
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return usagef("ID must be a number, got %q", args[0])
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := st.ActivateBoundaries(ctx, id, "cli")
		if err != nil {
			return err
		}
		refreshScores(ctx, e, st)
		return e.out(map[string]any{"id": id, "active": true, "activation": res}, func(w io.Writer) {
			if res.AlreadyActive {
				fmt.Fprintf(w, "boundary set %d is already active\n", id)
				return
			}
			fmt.Fprintf(w, "boundary set %d (%s) is now active", id, res.Level)
			if res.Previous != 0 {
				fmt.Fprintf(w, "; set %d is retired (activate it again to roll back)", res.Previous)
			}
			fmt.Fprintf(w, "\n  households re-assigned: %d (%d moved village); crosswalk rows: %d; plans flagged for review: %d; priority-list items flagged: %d\n",
				res.HouseholdsReassigned, res.HouseholdsMoved, res.Crosswalk, res.PlansFlagged, res.PriorityItemsFlagged)
		})
	case "export":
		fs := flag.NewFlagSet("boundaries export", flag.ContinueOnError)
		level := fs.String("level", geo.LevelDesa, "desa or kecamatan")
		format := fs.String("format", geo.ExportGeoJSON, "geojson or gpkg")
		out := fs.String("out", "", "write to FILE instead of standard output")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 0 {
			return usagef("export takes no positional arguments")
		}
		if *format != geo.ExportGeoJSON && *format != geo.ExportGPKG {
			return usagef("--format must be geojson or gpkg")
		}
		if *level != geo.LevelDesa && *level != geo.LevelKecamatan {
			return usagef("--level must be desa or kecamatan")
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		b, err := st.ExportActiveBoundaries(ctx, *level, *format, geo.GDALLimits{})
		if err != nil {
			return err
		}
		if *out == "" {
			_, err = e.stdout.Write(b)
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote the active %s set to %s (%d bytes)\n", *level, *out, len(b))
		return nil
	case "synth":
		fs := flag.NewFlagSet("boundaries synth", flag.ContinueOnError)
		n := fs.Int("n", 80000, "number of villages")
		seed := fs.Uint64("seed", 1, "seed")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		return geo.WriteSyntheticVillages(e.stdout, *n, *seed)
	}
	return usagef("unknown subcommand %q", sub)
}

func boundariesImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("boundaries import", flag.ContinueOnError)
	var opt geo.ImportOptions
	fs.StringVar(&opt.Level, "level", "", "desa or kecamatan")
	fs.StringVar(&opt.Fields.Code, "code-field", "", "property holding the code")
	fs.StringVar(&opt.Fields.Name, "name-field", "", "property holding the name")
	fs.StringVar(&opt.Fields.Parent, "parent-field", "", "property holding the kecamatan code (villages)")
	fs.StringVar(&opt.SRS, "srs", "", "source CRS for files that declare none, e.g. EPSG:32748")
	fs.BoolVar(&opt.SwapXY, "swap-xy", false, "swap latitude/longitude (for files written latitude first)")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "validate and report; write nothing")
	fs.BoolVar(&opt.SkipTopology, "no-topology", false, "skip the overlap/gap analysis")
	fs.Float64Var(&opt.ToleranceM2, "tolerance", 0, "report overlaps and gaps larger than this many m²")
	timeout := fs.Duration("gdal-timeout", 2*time.Minute, "time limit for ogr2ogr")
	activate := fs.Bool("activate", false, "activate the new set at once")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one FILE")
	}
	if opt.Level != geo.LevelDesa && opt.Level != geo.LevelKecamatan {
		return usagef("--level must be desa or kecamatan")
	}
	if *activate && opt.DryRun {
		return usagef("--activate and --dry-run exclude each other")
	}
	opt.GDAL.Timeout = *timeout
	opt.By = "cli"
	opt.SourceName = filepath.Base(pos[0])
	// Open and check the schema version rather than migrate: one query instead of
	// tern's lock and bookkeeping on every import (`sinergi migrate` does that).
	st, err := openOwner(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Ready(ctx); errors.Is(err, geo.ErrNotMigrated) {
		st.Close()
		if st, err = migrated(ctx); err != nil {
			return err
		}
		defer st.Close()
	} else if err != nil {
		return err
	}
	rep, err := st.ImportBoundaries(ctx, pos[0], opt)
	var ie *geo.ImportError
	if errors.As(err, &ie) {
		// The report is the useful part of the failure: print it, then fail.
		_ = e.out(ie.Report, func(w io.Writer) { printReport(w, ie.Report) })
		return err
	}
	if err != nil {
		return err
	}
	var act *geo.Activation
	if *activate {
		a, err := st.ActivateBoundaries(ctx, rep.SetID, "cli")
		if err != nil {
			return fmt.Errorf("set %d loaded as draft but not activated: %w", rep.SetID, err)
		}
		act = &a
		refreshScores(ctx, e, st)
	}
	return e.out(map[string]any{"id": rep.SetID, "level": opt.Level, "features": rep.Loaded, "active": act != nil,
		"dry_run": opt.DryRun, "report": rep, "activation": act}, func(w io.Writer) {
		printReport(w, rep)
		switch {
		case opt.DryRun:
			fmt.Fprintln(w, "dry run: nothing was written")
		case act != nil:
			fmt.Fprintf(w, "boundary set %d is active (households moved village: %d, plans flagged: %d)\n", rep.SetID,
				act.HouseholdsMoved, act.PlansFlagged)
		default:
			fmt.Fprintf(w, "boundary set %d loaded as a draft: review with `sinergi boundaries diff ACTIVE %d`, then `sinergi boundaries activate %d`\n",
				rep.SetID, rep.SetID, rep.SetID)
		}
	})
}

// printReport writes the human summary of a validation report.
func printReport(w io.Writer, r *geo.BoundaryReport) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "%s (%s, level %s): %d features, %d loadable, %d rejected; %d errors, %d warnings\n",
		r.File, r.Format, r.Level, r.Features, r.Loaded, r.Rejected, r.Errors, r.Warnings)
	crs := r.SourceCRS
	if r.Reprojected {
		crs += " → EPSG:4326"
	}
	fmt.Fprintf(bw, "  CRS: %s", crs)
	if r.AxisSwap != "" {
		fmt.Fprintf(bw, "; lat/lon swap: %s", r.AxisSwap)
	}
	fmt.Fprintln(bw)
	var kinds []string
	for _, k := range []string{"promoted", "reoriented", "repaired", "matched_overlap_name", "matched_overlap", "matched_name"} {
		if n := r.Counts[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", strings.ReplaceAll(k, "_", " "), n))
		}
	}
	if len(kinds) > 0 {
		fmt.Fprintf(bw, "  %s\n", strings.Join(kinds, ", "))
	}
	shown := 0
	for _, f := range r.Findings {
		if f.Severity == geo.SeverityInfo {
			continue
		}
		if shown == 40 {
			fmt.Fprintf(bw, "  … more in --json\n")
			break
		}
		shown++
		where := "file"
		if f.Feature > 0 {
			where = fmt.Sprintf("feature %d", f.Feature)
		}
		label := f.Code
		if label == "" {
			label = f.Name
		} else if f.Name != "" {
			label += " " + f.Name
		}
		if label != "" {
			where += " " + label
		}
		fmt.Fprintf(bw, "  %-7s %s: %s\n", strings.ToUpper(f.Severity), where, f.Detail)
	}
	for _, m := range r.Matched {
		if m.Method != "overlap+name" {
			fmt.Fprintf(bw, "  matched feature %d %q → %s %s by %s (overlap %.0f%%)\n", m.Feature, m.Name, m.Code, m.MatchedName, m.Method, m.Overlap*100)
		}
	}
	if t := r.Topology; t != nil {
		fmt.Fprintf(bw, "  topology (tolerance %g m²): %d overlapping pairs (%.3f km²), %d gaps (%.3f km²)\n",
			t.ToleranceM2, t.OverlapCount, t.OverlapAreaM2/1e6, t.GapCount, t.GapAreaM2/1e6)
		for i, o := range t.Overlaps {
			if i == 3 {
				break
			}
			fmt.Fprintf(bw, "    overlap %s / %s: %.0f m²\n", o.A, o.B, o.AreaM2)
		}
		for i, g := range t.Gaps {
			if i == 3 {
				break
			}
			fmt.Fprintf(bw, "    gap at %.5f,%.5f: %.0f m² between %s\n", g.Point[0], g.Point[1], g.AreaM2, strings.Join(g.Features, ", "))
		}
	}
}

func printDiff(w io.Writer, d *geo.BoundaryDiff) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	fmt.Fprintf(bw, "diff %s set %d (%d) → set %d (%d): %d unchanged, %d added, %d removed, %d renamed, %d changed, %d splits, %d merges\n",
		d.Level, d.From, d.FromCount, d.To, d.ToCount, d.Unchanged, len(d.Added), len(d.Removed), len(d.Renamed), len(d.Changed), len(d.Splits), len(d.Merges))
	for _, f := range d.Added {
		fmt.Fprintf(bw, "  + %s %s (%.3f km²)\n", f.Code, f.Name, f.AreaKm2)
	}
	for _, f := range d.Removed {
		fmt.Fprintf(bw, "  - %s %s (%.3f km²)\n", f.Code, f.Name, f.AreaKm2)
	}
	for _, c := range d.Renamed {
		fmt.Fprintf(bw, "  ~ %s renamed %q → %q\n", c.Code, c.OldName, c.NewName)
	}
	for _, c := range d.Changed {
		fmt.Fprintf(bw, "  ~ %s %s: %.3f → %.3f km² (%+.1f%%), IoU %.3f\n", c.Code, c.NewName, c.OldAreaKm2, c.NewAreaKm2, c.AreaChangePct, c.IoU)
	}
	for _, s := range d.Splits {
		fmt.Fprintf(bw, "  split %s → %s (households moving: %d)\n", s.From[0], strings.Join(s.To, ", "), s.Households)
	}
	for _, m := range d.Merges {
		fmt.Fprintf(bw, "  merge %s → %s (households moving: %d)\n", strings.Join(m.From, ", "), m.To[0], m.Households)
	}
	if d.MovesComputed {
		fmt.Fprintf(bw, "  households whose village changes: %d\n", d.HouseholdsMoving)
	}
}
