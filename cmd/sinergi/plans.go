package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bapeda-bekasi/sinergi/geo"
)

const plansUsage = "plans import FILE (CSV: company_key,year,village_code,sector,budget,target_households[,status,program,realised_budget,lon,lat]) | list [--year Y] | coverage --year Y"

func runPlans(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: import, list or coverage")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("plans "+sub, flag.ContinueOnError)
	year := fs.Int("year", 0, "year")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		if len(pos) != 1 {
			return usagef("usage: plans import FILE")
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := st.ImportPlans(ctx, f, pos[0], "cli")
		if err != nil {
			return err
		}
		return e.out(res, func(w io.Writer) { fmt.Fprintf(w, "%s: %d rencana dimuat (plans loaded)\n", res.File, res.Plans) })
	case "list":
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		ps, err := st.Plans(ctx, geo.PlanFilter{Year: *year}, geo.CompanyViewer{AllBudgets: true})
		if err != nil {
			return err
		}
		return e.out(ps, func(w io.Writer) {
			fmt.Fprintf(w, "%-6s %-4s %-14s %-13s %-10s %14s  %s\n", "ID", "YEAR", "VILLAGE", "SECTOR", "STATUS", "BUDGET", "COMPANY")
			for _, p := range ps {
				fmt.Fprintf(w, "%-6d %-4d %-14s %-13s %-10s %14d  %s\n", p.ID, p.Year, p.VillageCode, p.Sector, p.Status, *p.Budget, p.CompanyName)
			}
		})
	case "coverage":
		if *year == 0 {
			return usagef("--year is required")
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		cells, err := st.Coverage(ctx, *year)
		if err != nil {
			return err
		}
		return e.out(cells, func(w io.Writer) {
			fmt.Fprintf(w, "%-14s %-13s %8s %14s %14s %4s  %s\n", "VILLAGE", "SECTOR", "NEED", "PLANNED", "SUBMITTED", "COS", "FLAGS")
			for _, c := range cells {
				flags := ""
				if c.Gap {
					flags += "gap "
				}
				if c.Overlap {
					flags += "overlap"
				}
				fmt.Fprintf(w, "%-14s %-13s %8.0f %14d %14d %4d  %s\n", c.VillageCode, c.Sector, c.Need, c.Planned, c.Submitted, c.Companies, flags)
			}
		})
	}
	return usagef("unknown subcommand %q", sub)
}
