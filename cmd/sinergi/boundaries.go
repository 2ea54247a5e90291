package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func runBoundaries(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: import, list or activate")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "import":
		fs := flag.NewFlagSet("boundaries import", flag.ContinueOnError)
		level := fs.String("level", "", "desa or kecamatan")
		var fm geo.FieldMap
		fs.StringVar(&fm.Code, "code-field", "", "property holding the code")
		fs.StringVar(&fm.Name, "name-field", "", "property holding the name")
		fs.StringVar(&fm.Parent, "parent-field", "", "property holding the kecamatan code (villages)")
		activate := fs.Bool("activate", false, "activate the new set at once")
		pos, err := parseFlags(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("give exactly one FILE")
		}
		if *level != geo.LevelDesa && *level != geo.LevelKecamatan {
			return usagef("--level must be desa or kecamatan")
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		feats, err := geo.ReadBoundaryGeoJSON(f, pos[0], *level, fm)
		if err != nil {
			return err
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		id, err := st.CreateBoundarySet(ctx, *level, filepath.Base(pos[0]), "cli", feats)
		if err != nil {
			return err
		}
		if *activate {
			if err := st.ActivateBoundarySet(ctx, id, "cli"); err != nil {
				return fmt.Errorf("set %d loaded as draft but not activated: %w", id, err)
			}
		}
		return e.out(map[string]any{"id": id, "level": *level, "features": len(feats), "active": *activate}, func(w io.Writer) {
			state := "draft (activate with `sinergi boundaries activate " + strconv.FormatInt(id, 10) + "`)"
			if *activate {
				state = "active"
			}
			fmt.Fprintf(w, "boundary set %d: %d %s features from %s, %s\n", id, len(feats), *level, pos[0], state)
		})
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
			fmt.Fprintf(w, "%-5s %-10s %-8s %8s  %-20s %s\n", "ID", "LEVEL", "STATUS", "FEATURES", "LOADED", "SOURCE")
			for _, s := range sets {
				fmt.Fprintf(w, "%-5d %-10s %-8s %8d  %-20s %s\n", s.ID, s.Level, s.Status, s.FeatureCount,
					s.LoadedAt.Format("2006-01-02 15:04"), s.SourceFile)
			}
		})
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
		if err := st.ActivateBoundarySet(ctx, id, "cli"); err != nil {
			return err
		}
		return e.out(map[string]any{"id": id, "active": true}, func(w io.Writer) {
			fmt.Fprintf(w, "boundary set %d is now active; the previous one is retired (activate it again to roll back)\n", id)
		})
	}
	return usagef("unknown subcommand %q", sub)
}
