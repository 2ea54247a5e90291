package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/bapeda-bekasi/sinergi/geo"
)

var (
	kemendagriCode = regexp.MustCompile(`^\d{2}\.\d{2}\.\d{2}\.\d{4}$`)
	bpsCode        = regexp.MustCompile(`^\d{10}$`)
)

// runIndicators loads village indicators from a CSV, long (code, year, indicator,
// value) or wide (code, year, one column per indicator). Codes are Kemendagri
// (32.16.KK.NNNN) or BPS (10 digits, translated with --crosswalk, e.g. the SP2010
// population file with bps_kode_desa and kode_desa_kemendagri columns).
func runIndicators(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usagef("missing subcommand: import")
	}
	fs := flag.NewFlagSet("indicators import", flag.ContinueOnError)
	crosswalk := fs.String("crosswalk", "", "CSV mapping BPS village codes to Kemendagri codes")
	year := fs.Int("year", 0, "year when the file has no year column")
	source := fs.String("source", "", "source label stored with every value (default: the file name)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE")
	}
	file := pos[0]
	if *source == "" {
		*source = file
	}
	recs, err := readCSVFile(file)
	if err != nil {
		return err
	}
	bps := map[string]string{}
	if *crosswalk != "" {
		cw, err := readCSVFile(*crosswalk)
		if err != nil {
			return err
		}
		bi, ki := findCol(cw[0], "bps_kode_desa", "kode_bps", "bps"), findCol(cw[0], "kode_desa_kemendagri", "kode_kemendagri", "kode_desa")
		if bi < 0 || ki < 0 {
			return fmt.Errorf("%s: needs columns bps_kode_desa and kode_desa_kemendagri", *crosswalk)
		}
		for _, r := range cw[1:] {
			if bi < len(r) && ki < len(r) {
				bps[strings.TrimSpace(r[bi])] = strings.TrimSpace(r[ki])
			}
		}
	}
	head := recs[0]
	ci := findCol(head, "kode_desa", "kode", "code", "kode_bps", "bps_kode_desa")
	yi := findCol(head, "tahun", "year")
	ii := findCol(head, "indikator", "indicator")
	vi := findCol(head, "nilai", "value")
	if ci < 0 {
		return fmt.Errorf("%s: no village code column (kode_desa, kode, code)", file)
	}
	long := ii >= 0 && vi >= 0
	var vals []geo.VillageIndicatorValue
	for n, r := range recs[1:] {
		line := n + 2
		code := strings.TrimSpace(r[ci])
		if bpsCode.MatchString(code) {
			k, ok := bps[code]
			if !ok {
				return fmt.Errorf("%s: baris %d: kode BPS %s tanpa padanan Kemendagri (BPS code with no Kemendagri match; pass --crosswalk)", file, line, code)
			}
			code = k
		}
		if !kemendagriCode.MatchString(code) {
			return fmt.Errorf("%s: baris %d: kode desa tidak dikenal %q (unknown village code; want 32.16.KK.NNNN or a BPS code)", file, line, code)
		}
		y := *year
		if yi >= 0 && yi < len(r) {
			if v, err := strconv.Atoi(strings.TrimSpace(r[yi])); err == nil {
				y = v
			}
		}
		if y < 1990 || y > 2100 {
			return fmt.Errorf("%s: baris %d: tahun tidak valid (invalid or missing year; pass --year)", file, line)
		}
		add := func(ind, raw string, col string) error {
			raw = strings.TrimSpace(raw)
			if raw == "" {
				return nil
			}
			v, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
			if err != nil {
				return fmt.Errorf("%s: baris %d kolom %s: %q bukan angka (not a number)", file, line, col, raw)
			}
			vals = append(vals, geo.VillageIndicatorValue{Code: code, Year: y, Indicator: ind, Value: v, Source: *source})
			return nil
		}
		if long {
			if err := add(strings.TrimSpace(r[ii]), r[vi], head[vi]); err != nil {
				return err
			}
			continue
		}
		for i, h := range head {
			if i == ci || i == yi || i >= len(r) {
				continue
			}
			if err := add(strings.ToLower(strings.TrimSpace(h)), r[i], h); err != nil {
				return err
			}
		}
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.ImportVillageIndicators(ctx, vals, file, "cli")
	if err != nil {
		return err
	}
	return e.out(map[string]any{"file": file, "values": n}, func(w io.Writer) {
		fmt.Fprintf(w, "%s: %d nilai indikator dimuat (values loaded); jalankan `sinergi score` untuk menghitung ulang\n", file, n)
	})
}

func findCol(head []string, names ...string) int {
	for _, n := range names {
		for i, h := range head {
			if strings.EqualFold(strings.TrimSpace(h), n) {
				return i
			}
		}
	}
	return -1
}
