package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/bapeda-bekasi/sinergi/geo"
)

const companiesUsage = "companies import FILE (CSV with site points or GeoJSON with operating areas) | list"

func runCompanies(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: import or list")
	}
	switch args[0] {
	case "import":
		if len(args) != 2 {
			return usagef("usage: companies import FILE")
		}
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		cs, err := geo.ReadCompanies(f, args[1])
		f.Close()
		if err != nil {
			return err
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err := st.ImportCompanies(ctx, cs, args[1], "cli")
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		return e.out(res, func(w io.Writer) {
			fmt.Fprintf(w, "%s: %d perusahaan, %d ditulis (companies, written)\n", res.File, res.Companies, res.Written)
		})
	case "list":
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		cs, err := st.Companies(ctx, geo.CompanyViewer{AllBudgets: true})
		if err != nil {
			return err
		}
		return e.out(cs, func(w io.Writer) {
			fmt.Fprintf(w, "%-5s %-32s %-36s %16s %6s %8s\n", "ID", "KEY", "NAME", "BUDGET", "REACH", "AREA_KM2")
			for _, c := range cs {
				fmt.Fprintf(w, "%-5d %-32s %-36s %16d %6.1f %8.2f\n", c.ID, c.Key, c.Name, *c.BudgetPerYear, c.ReachKm, c.AreaKm2)
			}
		})
	}
	return usagef("unknown subcommand %q", args[0])
}
