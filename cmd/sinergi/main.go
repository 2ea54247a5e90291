// Command sinergi is Sinergi's one binary: the CLI for data stewards and the web
// server. Run `sinergi help` for the commands. DATABASE_URL selects the database.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// command is one CLI verb.
type command struct {
	name  string
	usage string
	run   func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: streams and global options.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool
}

// out prints the human summary, or v as JSON with --json.
func (e *env) out(v any, human func(w io.Writer)) error {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human(e.stdout)
	return nil
}

func commands() []command {
	return []command{
		{"serve", "serve [--addr 127.0.0.1:8080] [--basemap-url URL] [--cookie-secure auto|always|never] [--tile-cache-mb N] [--no-migrate]", runServe},
		{"migrate", "migrate", runMigrate},
		{"demo", "demo [--seed 1] [--households 200000]", runDemo},
		{"users", "users add --name N --role R [--company ID] [--area CODES] | passwd NAME | list | token NAME | revoke NAME", runUsers},
		{"boundaries", boundariesUsage, runBoundaries},
		{"backup", "backup FILE", runBackup},
		{"restore", "restore FILE [--no-safety-backup]", runRestore},
		{"score", "score [--period P] [--tolerance 5] [--seed S] [--permutations 999]", runScore},
		{"indicators", "indicators import FILE [--crosswalk FILE] [--year Y] [--source S]", runIndicators},
		{"priorities", "priorities import FILE [--name N] [--year Y] [--match auto|code|name] [--dry-run]", runPriorities},
		{"households", "households import FILE --register R --period P [--source S] [--strict] [--retire-missing] [--gap M] | erase ID --register R [--note N] | generate --n N [--seed S] [--boundaries FILE] [--population FILE] [--dirty P]", runHouseholds},
		{"population", "population import FILE [--year Y] [--source S]", runPopulation},
		{"hashkey", "hashkey status | rotate --new-key-file F", runHashKey},
		{"companies", companiesUsage, runCompanies},
		{"plans", plansUsage, runPlans},
		{"match", matchUsage, runMatch},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	// --json may appear anywhere.
	var rest []string
	for _, a := range args {
		if a == "--json" || a == "-json" {
			e.json = true
			continue
		}
		rest = append(rest, a)
	}
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == rest[0] {
			err := c.run(ctx, e, rest[1:])
			if err == nil {
				return 0
			}
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			var ue usageError
			if errors.As(err, &ue) {
				fmt.Fprintf(stderr, "sinergi %s: %s\nusage: sinergi %s\n", c.name, ue.msg, c.usage)
				return 2
			}
			fmt.Fprintf(stderr, "sinergi %s: %s\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "sinergi: unknown command %q (try `sinergi help`)\n", rest[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Sinergi — CSR (TJSLP) need targeting for Kabupaten Bekasi.")
	fmt.Fprintln(w, "Usage: sinergi <command> [flags] [--json]     (DATABASE_URL selects the database)")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s\n", c.usage)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// parseFlags parses flags that may come before, between or after positional
// arguments (`boundaries import FILE --level desa`).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// databaseURL returns DATABASE_URL or explains how to get one.
func databaseURL() (string, error) {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		return "", errors.New("DATABASE_URL is not set (start the project's PostGIS with: export DATABASE_URL=$(scripts/pg.sh start))")
	}
	return u, nil
}

// openOwner connects as the owner role (imports, aggregation, CLI).
func openOwner(ctx context.Context) (*geo.Store, error) {
	u, err := databaseURL()
	if err != nil {
		return nil, err
	}
	return geo.Open(ctx, u, geo.Options{})
}

// migrated runs migrations and opens an owner store.
func migrated(ctx context.Context) (*geo.Store, error) {
	u, err := databaseURL()
	if err != nil {
		return nil, err
	}
	if _, err := geo.Migrate(ctx, u); err != nil {
		return nil, err
	}
	return geo.Open(ctx, u, geo.Options{})
}
