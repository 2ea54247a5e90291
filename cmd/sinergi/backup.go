package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func runBackup(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one FILE")
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := geo.Backup(ctx, url, pos[0]); err != nil {
		return err
	}
	st, _ := os.Stat(pos[0])
	return e.out(map[string]any{"file": pos[0], "bytes": st.Size()}, func(w io.Writer) {
		fmt.Fprintf(w, "backup written to %s (%.1f MB, %.1fs); restore with `sinergi restore %s`\n",
			pos[0], float64(st.Size())/1e6, time.Since(start).Seconds(), pos[0])
	})
}

func runRestore(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	noSafety := fs.Bool("no-safety-backup", false, "do not back up the current state first")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give exactly one FILE")
	}
	url, err := databaseURL()
	if err != nil {
		return err
	}
	if _, err := os.Stat(pos[0]); err != nil {
		return err
	}
	// The undo: the state being replaced is kept, unless asked otherwise.
	safety := ""
	if !*noSafety {
		safety = filepath.Join(filepath.Dir(geo.DefaultHashKeyFile()), "pre-restore-"+time.Now().UTC().Format("20060102T150405Z")+".dump")
		if err := os.MkdirAll(filepath.Dir(safety), 0o700); err != nil {
			return err
		}
		if err := geo.Backup(ctx, url, safety); err != nil {
			return fmt.Errorf("safety backup of the current state failed, nothing restored: %w", err)
		}
	}
	res, err := geo.Restore(ctx, url, pos[0])
	if err != nil {
		return err
	}
	return e.out(map[string]any{"file": pos[0], "erasures_reapplied": res.ErasuresReapplied, "safety_backup": safety}, func(w io.Writer) {
		fmt.Fprintf(w, "restored %s; %d erasure request(s) re-applied\n", pos[0], res.ErasuresReapplied)
		if safety != "" {
			fmt.Fprintf(w, "the previous state is kept in %s (undo: sinergi restore %s)\n", safety, safety)
		}
	})
}
