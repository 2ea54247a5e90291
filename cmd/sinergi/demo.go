package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
	"github.com/bapeda-bekasi/sinergi/geo/demo"
)

func runDemo(ctx context.Context, e *env, args []string) error {
	opt := demo.DefaultOptions()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.Uint64Var(&opt.Seed, "seed", opt.Seed, "random seed of the demo regency")
	fs.IntVar(&opt.Households, "households", opt.Households, "number of synthetic households")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if opt.Households < 0 || opt.Households > 20_000_000 {
		return usagef("--households must be between 0 and 20,000,000")
	}
	dbURL, err := databaseURL()
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	key, keySrc, err := geo.LoadHashKey(true)
	if err != nil {
		return err
	}
	opt.CredentialsFile = credentialsFile(dbURL)
	opt.Progress = func(s string) { fmt.Fprintf(e.stderr, "demo: %s (%.1fs)\n", s, time.Since(start).Seconds()) }
	fmt.Fprintf(e.stderr, "demo: hash key from %s\n", keySrc)
	res, err := demo.Load(ctx, st, key, opt)
	if err != nil {
		return err
	}
	return e.out(res, func(w io.Writer) {
		fmt.Fprintf(w, "Demo regency %s loaded in %.1fs: %d villages, %d kecamatan, %d households (%d new, %d updated, %d unassigned), %d companies, %d plans.\n",
			res.Regency, time.Since(start).Seconds(), res.Villages, res.Kecamatan, res.Households.Rows, res.Households.Inserted,
			res.Households.Updated, res.Households.Unassigned, res.Companies, res.Plans)
		fmt.Fprintln(w, "Demo users (sign in on the map with name and password; scripts use the token as 'Authorization: Bearer …'):")
		for _, c := range res.Users {
			extra := ""
			if c.Company != "" {
				extra = " (" + c.Company + ")"
			}
			fmt.Fprintf(w, "  %-8s %-14s password %-18s token %s%s\n", c.Role, c.Name, c.Password, c.Token, extra)
		}
		fmt.Fprintf(w, "Credentials are kept in %s (mode 0600).\n", opt.CredentialsFile)
	})
}

// credentialsFile is where the demo keeps its users' secrets, one file per database.
func credentialsFile(dbURL string) string {
	name := "default"
	if u, err := url.Parse(dbURL); err == nil {
		name = u.Hostname() + "-" + u.Port() + "-" + filepath.Base(u.Path)
	}
	return filepath.Join(filepath.Dir(geo.DefaultHashKeyFile()), "demo-credentials-"+sanitize(name)+".json")
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}
