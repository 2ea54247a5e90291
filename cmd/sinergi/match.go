package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/matching"
)

const matchUsage = "match --mode sector|locus [--year Y] [--villages CODES | --priority-list ID] [--top P] [--max-per-cell M] [--save] [--accept ID]"

// matchResult is what `match --json` prints.
type matchResult struct {
	ID       int64                `json:"id,omitempty"`
	Elapsed  string               `json:"elapsed"`
	Proposal *matching.Proposal   `json:"proposal"`
	Check    matching.CheckReport `json:"check"`
}

func runMatch(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("match", flag.ContinueOnError)
	mode := fs.String("mode", "", "sector or locus")
	year := fs.Int("year", time.Now().Year(), "year of the need and of the plans")
	villages := fs.String("villages", "", "comma-separated village codes (locus candidates)")
	list := fs.Int64("priority-list", 0, "locus mode: candidates from the newest version of saved priority list ID, in order")
	top := fs.Int("top", 0, "locus mode: the top P villages by need when --villages is empty (default 10)")
	m := fs.Int("max-per-cell", 0, "at most M companies per (village, sector) cell (default 2)")
	save := fs.Bool("save", false, "save the proposal as a draft")
	accept := fs.Int64("accept", 0, "accept saved proposal ID: create approved plans")
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
	req := geo.MatchRequest{Mode: *mode, Year: *year, LocusTop: *top, MaxPerCell: *m, PriorityListID: *list}
	for _, c := range strings.Split(*villages, ",") {
		if c = strings.TrimSpace(c); c != "" {
			req.Villages = append(req.Villages, c)
		}
	}
	in, err := st.BuildMatchInput(ctx, req)
	if err != nil {
		return err
	}
	start := time.Now()
	p, err := matching.Solve(in)
	if err != nil {
		return err
	}
	res := matchResult{Elapsed: time.Since(start).Round(time.Microsecond).String(), Proposal: p, Check: matching.CheckProposal(in, p)}
	if !res.Check.OK() {
		return fmt.Errorf("proposal failed the checker: %s", strings.Join(res.Check.Violations, "; "))
	}
	if *save {
		if res.ID, err = st.SaveProposal(ctx, req, p, "cli"); err != nil {
			return err
		}
	}
	return e.out(res, func(w io.Writer) {
		fmt.Fprintf(w, "mode %s, tahun %d: %d penugasan, %d desa, kebutuhan tertutup %.0f dari %.0f (need covered) dalam %s\n",
			p.Mode, *year, len(p.Assignments), len(p.Teams), p.NeedCovered, p.NeedTotal, res.Elapsed)
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
