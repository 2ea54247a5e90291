package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// runHashKey shows and rotates the secret that hashes NIK and No. KK.
//
// Rotation, and its honest limits: the clear NIK and No. KK are never stored, so
// existing hashes cannot be recomputed under a new key. `hashkey rotate` creates the
// new key file and records in the database that the new key id is now the expected
// one (the old id is kept in the history and on every row it hashed). From then on
// imports must use the new key (an import with the old key is refused), and a
// re-import of a register under the new key rewrites its rows' hashes, which
// relinks them. Until every register is re-imported, rows hashed under different
// keys do not link to each other across registers; `hashkey status` counts them.
func runHashKey(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: status or rotate")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "status":
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		status, err := st.HashKeyStatus(ctx)
		if err != nil {
			return err
		}
		key, src, kerr := geo.LoadHashKey(false)
		local := ""
		if kerr == nil {
			local = key.ID()
		}
		out := map[string]any{"local_key_id": local, "local_key_source": src, "database": status}
		return e.out(out, func(w io.Writer) {
			if kerr != nil {
				fmt.Fprintf(w, "kunci lokal / local key: none (%v)\n", kerr)
			} else {
				fmt.Fprintf(w, "kunci lokal / local key: id %s from %s\n", local, src)
			}
			fmt.Fprintf(w, "basis data / database expects key id: %q (previous: %v)\n", status.Current, status.Previous)
			for _, u := range status.Usage {
				id := u.KeyID
				if id == "" {
					id = "(unrecorded)"
				}
				fmt.Fprintf(w, "  key %-14s %9d households  registers %s\n", id, u.Households, u.Registers)
			}
		})
	case "rotate":
		fs := flag.NewFlagSet("hashkey rotate", flag.ContinueOnError)
		newFile := fs.String("new-key-file", "", "where to write the new key (must not exist), or an existing key file to switch to")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *newFile == "" {
			return usagef("--new-key-file is required")
		}
		old, oldSrc, err := geo.LoadHashKey(false)
		if err != nil {
			return fmt.Errorf("kunci lama tidak ditemukan (the current key is needed to rotate): %w", err)
		}
		var nk geo.HashKey
		created := false
		if _, err := os.Stat(*newFile); err == nil {
			if nk, err = geo.ReadHashKeyFile(*newFile); err != nil {
				return err
			}
		} else if errors.Is(err, os.ErrNotExist) {
			if nk, err = geo.NewHashKeyFile(*newFile); err != nil {
				return err
			}
			created = true
		} else {
			return err
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.RotateHashKey(ctx, old.ID(), nk.ID(), "cli"); err != nil {
			return err
		}
		status, err := st.HashKeyStatus(ctx)
		if err != nil {
			return err
		}
		var stale int64
		for _, u := range status.Usage {
			if u.KeyID != nk.ID() {
				stale += u.Households
			}
		}
		out := map[string]any{"old_key_id": old.ID(), "old_key_source": oldSrc, "new_key_id": nk.ID(),
			"new_key_file": *newFile, "created": created, "households_under_old_keys": stale}
		return e.out(out, func(w io.Writer) {
			fmt.Fprintf(w, "kunci baru / new key: id %s in %s%s\n", nk.ID(), *newFile, map[bool]string{true: " (new)", false: ""}[created])
			fmt.Fprintf(w, "kunci lama / old key id %s (%s) is retired: imports with it are now refused.\n", old.ID(), oldSrc)
			fmt.Fprintf(w, "Next: export SINERGI_HASH_KEY_FILE=%s on every machine that imports, then re-import each register\n", *newFile)
			fmt.Fprintf(w, "(%d households are still hashed under an old key and link across registers only among themselves).\n", stale)
			fmt.Fprintln(w, "Stored hashes cannot be recomputed: the clear NIK/No. KK are never kept. Destroy the old key once all registers are re-imported.")
		})
	}
	return usagef("unknown subcommand %q", sub)
}
