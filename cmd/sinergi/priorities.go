package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// Column names recognised in priority-list CSVs, most specific first.
var (
	prioCodeCols    = []string{"kode_desa", "kode_kemendagri", "code", "kode"}
	prioVillageCols = []string{"nama_desa_dilaporkan", "nama_desa", "desa", "village", "nama"}
	prioKecCols     = []string{"nama_kecamatan_dilaporkan", "nama_kecamatan", "kecamatan", "district"}
	prioOrderCols   = []string{"urutan", "no", "position", "peringkat"}
	prioYearCols    = []string{"tahun_lokus", "tahun", "year"}
	prioNoteCols    = []string{"catatan", "note"}
)

func runPriorities(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usagef("missing subcommand: import")
	}
	fs := flag.NewFlagSet("priorities import", flag.ContinueOnError)
	name := fs.String("name", "", "list name (default: the file name)")
	year := fs.Int("year", 0, "year (default: the file's tahun column)")
	by := fs.String("match", "auto", "auto (code when the file has one), code or name")
	dry := fs.Bool("dry-run", false, "report the matches without saving")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one FILE")
	}
	if *by != "auto" && *by != "code" && *by != "name" {
		return usagef("--match must be auto, code or name")
	}
	file := pos[0]
	recs, err := readCSVFile(file)
	if err != nil {
		return err
	}
	head := recs[0]
	col := func(names []string) int {
		for _, n := range names {
			for i, h := range head {
				if strings.EqualFold(strings.TrimSpace(h), n) {
					return i
				}
			}
		}
		return -1
	}
	ci, vi, ki, oi, yi, ni := col(prioCodeCols), col(prioVillageCols), col(prioKecCols), col(prioOrderCols), col(prioYearCols), col(prioNoteCols)
	useCode := *by == "code" || (*by == "auto" && ci >= 0)
	if useCode && ci < 0 {
		return fmt.Errorf("%s: no code column (looked for %s)", file, strings.Join(prioCodeCols, ", "))
	}
	if !useCode && vi < 0 {
		return fmt.Errorf("%s: no village name column (looked for %s)", file, strings.Join(prioVillageCols, ", "))
	}
	st, err := migrated(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	vs, err := st.ActiveVillages(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		return geo.ErrNoActiveVillages
	}
	byCode := map[string]geo.VillageSummary{}
	for _, v := range vs {
		byCode[v.Code] = v
	}
	get := func(r []string, i int) string {
		if i < 0 || i >= len(r) {
			return ""
		}
		return strings.TrimSpace(r[i])
	}
	type row struct {
		order int
		m     geo.NameMatch
		note  string
	}
	var rows []row
	for n, r := range recs[1:] {
		line := n + 2
		m := geo.NameMatch{Row: line, Village: get(r, vi), Kecamatan: get(r, ki), How: geo.MatchNone}
		if useCode {
			if v, ok := byCode[get(r, ci)]; ok {
				m.Code, m.Name, m.How = v.Code, v.Name, geo.MatchCode
			}
		} else {
			m = geo.MatchVillageName(vs, line, get(r, vi), get(r, ki))
		}
		order, err := strconv.Atoi(get(r, oi))
		if err != nil {
			order = n + 1
		}
		if *year == 0 {
			if y, err := strconv.Atoi(get(r, yi)); err == nil {
				*year = y
			}
		}
		rows = append(rows, row{order, m, get(r, ni)})
	}
	if *year == 0 {
		return usagef("the file has no year column: pass --year")
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	counts := map[string]int{}
	var missing []string
	in := geo.PriorityInput{Name: *name, Year: *year, Note: "impor dari " + filepath.Base(file)}
	for _, r := range rows {
		counts[r.m.How]++
		if r.m.Code == "" {
			missing = append(missing, fmt.Sprintf("baris %d: %s, %s", r.m.Row, r.m.Village, r.m.Kecamatan))
			continue
		}
		note := r.note
		if r.m.How == geo.MatchFuzzy || r.m.How == geo.MatchAmbiguous {
			note = strings.TrimSpace(note + fmt.Sprintf(" [dicocokkan %s dari %q, %q]", r.m.How, r.m.Village, r.m.Kecamatan))
		}
		in.Items = append(in.Items, geo.PriorityItem{VillageCode: r.m.Code, Note: note, NeedsReview: r.m.How == geo.MatchAmbiguous})
	}
	matches := make([]geo.NameMatch, len(rows))
	for i, r := range rows {
		matches[i] = r.m
	}
	report := map[string]any{"file": file, "name": *name, "year": *year, "counts": counts, "matches": matches, "dry_run": *dry}
	var saved *geo.PriorityList
	if len(missing) > 0 && !*dry {
		return errors.New(file + ": " + strconv.Itoa(len(missing)) + " baris tidak cocok dengan desa mana pun (rows match no village): " +
			strings.Join(missing, "; "))
	}
	if !*dry {
		l, err := st.SavePriorityList(ctx, in, "cli")
		if err != nil {
			return err
		}
		saved = &l
		report["list"] = l
	}
	return e.out(report, func(w io.Writer) {
		for _, m := range matches {
			fmt.Fprintf(w, "baris %2d  %-10s %-22s %-16s → %s %s", m.Row, m.How, m.Village, m.Kecamatan, m.Code, m.Name)
			if len(m.Candidates) > 0 {
				fmt.Fprintf(w, "  (kandidat: %s)", strings.Join(m.Candidates, "; "))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "cocok: %v\n", counts)
		if saved != nil {
			fmt.Fprintf(w, "disimpan: daftar %d %q %d versi %d (%d desa)\n", saved.ID, saved.Name, saved.Year, saved.Version, len(saved.Items))
		}
	})
}

// readCSVFile reads a whole CSV (comma or semicolon separated, optional UTF-8
// BOM) and requires a header and one data row.
func readCSVFile(file string) ([][]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	text := strings.TrimPrefix(string(b), "\ufeff")
	r := csv.NewReader(strings.NewReader(text))
	first, _, _ := strings.Cut(text, "\n")
	if strings.Count(first, ";") > strings.Count(first, ",") {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: needs a header row and at least one data row", file)
	}
	return recs, nil
}
