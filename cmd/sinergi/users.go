package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/bapeda-bekasi/sinergi/geo"
)

func runUsers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: add, passwd, list, token or revoke")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		fs := flag.NewFlagSet("users add", flag.ContinueOnError)
		name := fs.String("name", "", "user name")
		role := fs.String("role", "", "planner|company|officer|gis|admin")
		company := fs.Int64("company", 0, "company id (company users)")
		area := fs.String("area", "", "comma-separated village codes (officers)")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		if *name == "" || *role == "" {
			return usagef("--name and --role are required")
		}
		r, err := geo.ParseRole(*role)
		if err != nil {
			return usagef("%v", err)
		}
		nu := geo.NewUser{Name: *name, Role: r, By: "cli"}
		if *company != 0 {
			nu.CompanyID = company
		}
		for _, c := range strings.Split(*area, ",") {
			if c = strings.TrimSpace(c); c != "" {
				nu.Area = append(nu.Area, c)
			}
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		u, token, err := st.AddUser(ctx, nu)
		if err != nil {
			return err
		}
		return e.out(map[string]any{"user": u, "token": token}, func(w io.Writer) {
			fmt.Fprintf(w, "user %s (%s) created. Token, shown only this once:\n%s\n", u.Name, u.Role, token)
		})
	case "passwd":
		if len(args) != 1 {
			return usagef("usage: users passwd NAME (the password is read from standard input)")
		}
		fmt.Fprintf(e.stderr, "Kata sandi baru / new password for %s: ", args[0])
		pw, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		fmt.Fprintln(e.stderr)
		pw = strings.TrimRight(pw, "\r\n")
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.SetPassword(ctx, args[0], pw, "cli"); err != nil {
			return err
		}
		return e.out(map[string]any{"user": args[0], "password_set": true}, func(w io.Writer) {
			fmt.Fprintf(w, "password set for %s; their open sessions were ended\n", args[0])
		})
	case "list":
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		us, err := st.Users(ctx)
		if err != nil {
			return err
		}
		return e.out(us, func(w io.Writer) {
			for _, u := range us {
				fmt.Fprintf(w, "%-20s %-8s", u.Name, u.Role)
				if u.CompanyID != nil {
					fmt.Fprintf(w, " company %d", *u.CompanyID)
				}
				if len(u.Area) > 0 {
					fmt.Fprintf(w, " area %s", strings.Join(u.Area, ","))
				}
				fmt.Fprintln(w)
			}
		})
	case "token":
		if len(args) != 1 {
			return usagef("usage: users token NAME")
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		tok, err := st.NewToken(ctx, args[0], "cli", "cli")
		if err != nil {
			return err
		}
		return e.out(map[string]any{"user": args[0], "token": tok}, func(w io.Writer) {
			fmt.Fprintf(w, "new token for %s, shown only this once:\n%s\n", args[0], tok)
		})
	case "revoke":
		if len(args) != 1 {
			return usagef("usage: users revoke NAME")
		}
		st, err := migrated(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		n, err := st.RevokeTokens(ctx, args[0], "cli")
		if err != nil {
			return err
		}
		return e.out(map[string]any{"user": args[0], "revoked_tokens": n}, func(w io.Writer) {
			fmt.Fprintf(w, "revoked %d token(s) and every session of %s\n", n, args[0])
		})
	}
	return usagef("unknown subcommand %q", sub)
}
