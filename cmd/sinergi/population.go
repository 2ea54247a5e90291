package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func runPopulation(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usagef("missing subcommand: import")
	}
	fs := flag.NewFlagSet("population import", flag.ContinueOnError)
	year := fs.Int("year", 0, "year of the figures (default: a tahun column, or the year in the population column's name)")
	source := fs.String("source", "", "where the figures come from (default: the file name)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one FILE")
	}
	if *year != 0 && (*year < 1900 || *year > 2100) {
		return usagef("--year must be between 1900 and 2100")
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
	if *source == "" {
		*source = filepath.Base(pos[0])
	}
	res, err := st.ImportPopulation(ctx, f, geo.PopulationSpec{File: pos[0], Year: *year, Source: *source, By: "cli"})
	if err != nil {
		return err
	}
	return e.out(res, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %d desa, tahun/year %d, jumlah penduduk/total population %d: %d baru/new, %d berubah/updated, %d tetap/unchanged\n",
			pos[0], res.Rows, res.Year, res.Total, res.Inserted, res.Updated, res.Unchanged)
		if len(res.Unknown) > 0 {
			fmt.Fprintf(w, "kode desa tidak dikenal di set aktif (unknown village codes in the active set), dimuat/loaded: %v\n", res.Unknown)
		}
	})
}
