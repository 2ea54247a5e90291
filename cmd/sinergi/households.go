package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/bapeda-bekasi/sinergi/synth"
)

func runHouseholds(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: generate")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "generate":
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
	return usagef("unknown subcommand %q", sub)
}
