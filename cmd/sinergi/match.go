package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

const matchUsage = "match --mode sector|locus [--year Y] [--villages CODES | --priority-list ID] [--top P] [--max-per-cell M] " +
	"[--need-weight sector|m0|households] [--save] [--accept ID] | match costs [--set SECTOR=RUPIAH ...] [--note N] [--json]"

// matchResult is what `match --json` prints.
type matchResult struct {
	ID       int64                `json:"id,omitempty"`
	Basis    geo.MatchBasis       `json:"basis"`
	Elapsed  string               `json:"elapsed"`
	Proposal *matching.Proposal   `json:"proposal"`
	Check    matching.CheckReport `json:"check"`
}

func runMatch(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "costs" {
		return runMatchCosts(ctx, e, args[1:])
	}
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	mode := fs.String("mode", "", "sector or locus")
	year := fs.Int("year", time.Now().Year(), "year of the need and of the plans")
	villages := fs.String("villages", "", "comma-separated village codes (locus candidates)")
	list := fs.Int64("priority-list", 0, "locus mode: candidates from the newest version of saved priority list ID, in order")
	top := fs.Int("top", 0, "locus mode: the top P villages by need when --villages is empty (default 10)")
	m := fs.Int("max-per-cell", 0, "at most M companies per (village, sector) cell (default 2)")
	save := fs.Bool("save", false, "save the proposal as a draft")
	accept := fs.Int64("accept", 0, "accept saved proposal ID: create approved plans")
	needWeight := fs.String("need-weight", "", "weight of a cell's households: sector (default), m0 or households")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *list != 0 && *mode != matching.ModeLocus {
		return usagef("--priority-list needs --mode locus")
	}
	if *list != 0 && *villages != "" {
		return usagef("give --villages or --priority-list, not both")
	}
	if *list < 0 {
		return usagef("--priority-list must be a positive list id")
	}
	if !matching.ValidNeedWeight(*needWeight) {
		return usagef("--need-weight must be one of %s", strings.Join(matching.NeedWeights, ", "))
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if *accept > 0 {
		n, err := st.AcceptProposal(ctx, *accept, "cli")
		if err != nil {
			return err
		}
		return e.out(map[string]any{"id": *accept, "plans_created": n}, func(w io.Writer) {
			fmt.Fprintf(w, "usulan %d diterima: %d rencana disetujui (proposal accepted: %d approved plans)\n", *accept, n, n)
		})
	}
	if *mode != matching.ModeSector && *mode != matching.ModeLocus {
		return usagef("--mode must be sector or locus")
	}
	req := geo.MatchRequest{Mode: *mode, Year: *year, LocusTop: *top, MaxPerCell: *m, PriorityListID: *list, NeedWeight: *needWeight}
	for _, c := range strings.Split(*villages, ",") {
		if c = strings.TrimSpace(c); c != "" {
			req.Villages = append(req.Villages, c)
		}
	}
	in, basis, err := st.PrepareMatch(ctx, req)
	if err != nil {
		return err
	}
	start := time.Now()
	p, err := matching.Solve(in)
	if err != nil {
		return err
	}
	res := matchResult{Basis: basis, Elapsed: time.Since(start).Round(time.Microsecond).String(), Proposal: p, Check: matching.CheckProposal(in, p)}
	if !res.Check.OK() {
		return fmt.Errorf("proposal failed the checker: %s", strings.Join(res.Check.Violations, "; "))
	}
	if *save {
		if res.ID, err = st.SaveProposal(ctx, req, basis, p, "cli"); err != nil {
			return err
		}
	}
	return e.out(res, func(w io.Writer) {
		fmt.Fprintf(w, "mode %s, tahun %d: %d penugasan, %d desa, kebutuhan tertutup %.1f dari %.1f (need covered) dalam %s\n",
			p.Mode, *year, len(p.Assignments), len(p.Teams), p.NeedCovered, p.NeedTotal, res.Elapsed)
		fmt.Fprintf(w, "  dasar (basis): skor #%d periode %s, bobot versi %d, bobot kebutuhan %s, biaya satuan versi %d\n",
			basis.ScoreRunID, basis.Period, basis.WeightsVersion, basis.NeedWeight, basis.CostVersion)
		for _, a := range p.Assignments {
			fmt.Fprintf(w, "  %-14s %-13s %-32s %6.0f RT  Rp %14.0f  %s\n", a.VillageCode, a.SectorName, a.CompanyName, a.Households, a.Cost, a.Reason)
		}
		for _, c := range p.Companies {
			if c.Cells > 0 {
				fmt.Fprintf(w, "  %-32s terpakai Rp %.0f dari Rp %.0f, %d desa\n", c.Name, c.Used, c.Budget, c.Villages)
			}
		}
		for _, u := range p.Uncovered {
			fmt.Fprintf(w, "  belum tertutup %-14s kebutuhan %.0f: %s\n", u.VillageCode, u.Need, u.Reason)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  catatan: %s\n", n)
		}
		if res.ID > 0 {
			fmt.Fprintf(w, "usulan disimpan sebagai #%d (proposal saved); terima dengan: sinergi match --accept %d\n", res.ID, res.ID)
		}
	})
}

// runMatchCosts shows the matcher's unit costs (rupiah per in-need household per
// sector) or, with --set, records a new version of them.
func runMatchCosts(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("match costs", flag.ContinueOnError)
	change := map[string]float64{}
	fs.Func("set", "SECTOR=RUPIAH, e.g. kesehatan=1500000 (repeatable)", func(v string) error {
		sec, amount, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("%q: pakai SEKTOR=RUPIAH (use SECTOR=RUPIAH)", v)
		}
		sec = strings.ToLower(strings.TrimSpace(sec))
		x, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(amount), "_", ""), 64)
		if err != nil {
			return fmt.Errorf("%q: jumlah bukan angka (amount is not a number)", v)
		}
		if _, dup := change[sec]; dup {
			return fmt.Errorf("%q: sektor %s disebut dua kali (sector given twice)", v, sec)
		}
		change[sec] = x
		return nil
	})
	note := fs.String("note", "", "why the costs change (kept with the version)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if len(change) == 0 && *note != "" {
		return usagef("--note needs --set")
	}
	if len(change) > 0 {
		// Refuse bad input before touching the database (exit 2 like other usage errors).
		if err := geo.ValidateUnitCosts(change); err != nil {
			return usagef("%v", err)
		}
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	type costsResult struct {
		Current geo.UnitCostSet `json:"current"`
		Changed bool            `json:"changed"`
	}
	var res costsResult
	if len(change) > 0 {
		res.Current, res.Changed, err = st.SetUnitCosts(ctx, change, *note, "cli")
	} else {
		res.Current, err = st.CurrentUnitCosts(ctx)
	}
	if err != nil {
		return err
	}
	return e.out(res, func(w io.Writer) {
		switch {
		case res.Changed:
			fmt.Fprintf(w, "biaya satuan versi %d disimpan (unit costs version %d saved)\n", res.Current.Version, res.Current.Version)
		case len(change) > 0:
			fmt.Fprintf(w, "tidak ada perubahan, tetap versi %d (nothing changed)\n", res.Current.Version)
		}
		fmt.Fprintf(w, "biaya satuan versi %d, oleh %s, %s (rupiah per rumah tangga sasaran / per in-need household):\n",
			res.Current.Version, res.Current.UpdatedBy, res.Current.UpdatedAt.Format(time.RFC3339))
		for _, sec := range geo.Sectors {
			fmt.Fprintf(w, "  %-14s Rp %15s\n", sec, groupThousands(res.Current.Costs[sec]))
		}
	})
}

// groupThousands writes 1500000 as 1.500.000 (Indonesian grouping).
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}
