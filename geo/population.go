package geo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PopulationSpec says how to read a population table.
type PopulationSpec struct {
	File   string
	Year   int    // 0: taken from a year column, or from a year in the population column's name (penduduk_sp2010 → 2010)
	Source string // default: the file name
	By     string
}

// PopulationResult counts what a population import did.
type PopulationResult struct {
	Rows      int      `json:"rows"`
	Year      int      `json:"year,omitempty"` // when one year was given or inferred
	Total     int64    `json:"total_population"`
	Inserted  int64    `json:"inserted"`
	Updated   int64    `json:"updated"`
	Unchanged int64    `json:"unchanged"`
	Unknown   []string `json:"unknown_codes,omitempty"` // codes not in the active desa set (loaded anyway)
}

var (
	popCodeCols  = []string{"kode_desa_kemendagri", "kode_desa", "kode_kemendagri", "village_code", "kode", "code"}
	popValueCols = []string{"penduduk", "jumlah_penduduk", "population", "penduduk_sp2010", "jiwa"}
	popYearCols  = []string{"tahun", "year"}
	popHHCols    = []string{"rumah_tangga", "jumlah_rumah_tangga", "jumlah_kk", "households"}
	yearInName   = regexp.MustCompile(`(19|20)\d\d`)
)

// ImportPopulation loads village population per year (rate denominators) from a CSV
// with a header: a Kemendagri village code column (kode_desa_kemendagri, kode_desa,
// …), a population column (penduduk, penduduk_sp2010, population, …), optionally a
// year and a household count. Rows are upserted by (code, year) in one transaction;
// any bad row fails the whole file with its row number, so a table is never half
// loaded. Codes missing from the active desa set are loaded and listed.
func (s *Store) ImportPopulation(ctx context.Context, r io.Reader, spec PopulationSpec) (PopulationResult, error) {
	var res PopulationResult
	if spec.Source == "" {
		spec.Source = spec.File
	}
	if spec.By == "" {
		spec.By = "cli"
	}
	br := bufio.NewReader(r)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	head, _ := br.Peek(4096)
	if len(bytes.TrimSpace(head)) == 0 {
		return res, fmt.Errorf("%s: berkas kosong (the file is empty)", spec.File)
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	if bytes.Count(head, []byte(";")) > bytes.Count(head, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return res, fmt.Errorf("%s: baris 1 (header): %w", spec.File, err)
	}
	find := func(names []string) int {
		for _, n := range names {
			for i, h := range header {
				if normHeader(h) == normHeader(n) {
					return i
				}
			}
		}
		return -1
	}
	ci, pi, yi, hi := find(popCodeCols), find(popValueCols), find(popYearCols), find(popHHCols)
	if ci < 0 || pi < 0 {
		return res, fmt.Errorf("%s: header perlu kolom kode desa dan penduduk (the header needs a village code column, e.g. kode_desa_kemendagri, and a population column, e.g. penduduk)", spec.File)
	}
	year := spec.Year
	if year == 0 && yi < 0 {
		if m := yearInName.FindString(header[pi]); m != "" {
			year, _ = strconv.Atoi(m)
		}
	}
	if year == 0 && yi < 0 {
		return res, fmt.Errorf("%s: tahun tidak diketahui (no year: give --year or a tahun column)", spec.File)
	}
	res.Year = year
	type row struct {
		code       string
		year, pop  int
		households *int
	}
	var rows []row // a population table has one row per village: small
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("%s: baris %d: %w", spec.File, line, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(header) {
			return res, fmt.Errorf("%s: baris %d: %d kolom, header punya %d (%d fields, the header has %d)", spec.File, line, len(rec), len(header), len(rec), len(header))
		}
		rw := row{code: strings.TrimSpace(rec[ci]), year: year}
		if !villageCodeRe.MatchString(rw.code) {
			return res, fmt.Errorf("%s: baris %d: kode desa %q bukan kode Kemendagri 32.16.KK.NNNN (not a Kemendagri village code)", spec.File, line, rw.code)
		}
		if rw.pop, err = parseThousands(rec[pi]); err != nil {
			return res, fmt.Errorf("%s: baris %d (%s): penduduk %q %v", spec.File, line, rw.code, rec[pi], err)
		}
		if yi >= 0 && spec.Year == 0 {
			if rw.year, err = strconv.Atoi(strings.TrimSpace(rec[yi])); err != nil || rw.year < 1900 || rw.year > 2100 {
				return res, fmt.Errorf("%s: baris %d (%s): tahun %q tidak sah (invalid year)", spec.File, line, rw.code, rec[yi])
			}
		}
		if hi >= 0 && strings.TrimSpace(rec[hi]) != "" {
			n, err := parseThousands(rec[hi])
			if err != nil {
				return res, fmt.Errorf("%s: baris %d (%s): rumah tangga %q %v", spec.File, line, rw.code, rec[hi], err)
			}
			rw.households = &n
		}
		k := rw.code + "/" + strconv.Itoa(rw.year)
		if prev, dup := seen[k]; dup {
			return res, fmt.Errorf("%s: baris %d: kode %s tahun %d sudah ada di baris %d (repeats row %d)", spec.File, line, rw.code, rw.year, prev, prev)
		}
		seen[k] = line
		rows = append(rows, rw)
		res.Total += int64(rw.pop)
	}
	if len(rows) == 0 {
		return res, fmt.Errorf("%s: tidak ada baris data (no data rows)", spec.File)
	}
	res.Rows = len(rows)
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE pop_stage (code text, year int, population int, households int) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pop_stage"}, []string{"code", "year", "population", "households"},
			pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
				return []any{rows[i].code, rows[i].year, rows[i].pop, rows[i].households}, nil
			})); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			WITH up AS (
				INSERT INTO village_population AS p (code, year, population, households, source)
				SELECT code, year, population, households, $1 FROM pop_stage
				ON CONFLICT (code, year) DO UPDATE SET population = EXCLUDED.population,
					households = EXCLUDED.households, source = EXCLUDED.source
				WHERE (p.population, p.households, p.source) IS DISTINCT FROM
					(EXCLUDED.population, EXCLUDED.households, EXCLUDED.source)
				RETURNING (xmax = 0) AS inserted)
			SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`, spec.Source).
			Scan(&res.Inserted, &res.Updated)
		if err != nil {
			return fmt.Errorf("%s: %w", spec.File, err)
		}
		res.Unchanged = int64(res.Rows) - res.Inserted - res.Updated
		rs, err := tx.Query(ctx, `SELECT DISTINCT s.code FROM pop_stage s
			WHERE EXISTS (SELECT 1 FROM boundary_set b WHERE b.level = 'desa' AND b.status = 'active')
			AND NOT EXISTS (SELECT 1 FROM village v JOIN boundary_set b ON b.id = v.set_id AND b.status = 'active' AND b.level = 'desa'
				WHERE v.code = s.code) ORDER BY 1`)
		if err != nil {
			return err
		}
		if res.Unknown, err = pgx.CollectRows(rs, pgx.RowTo[string]); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: spec.By, Action: "population.import", Object: "village_population",
			Detail: map[string]any{"file": spec.File, "rows": res.Rows, "inserted": res.Inserted, "updated": res.Updated}})
	})
	return res, err
}

// parseThousands parses a non-negative count, allowing "12.345" or "12,345".
func parseThousands(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("kosong (empty)")
	}
	if strings.ContainsAny(s, ".,") {
		groups := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == ',' })
		ok := len(groups) > 1 && len(groups[0]) <= 3
		for _, g := range groups[1:] {
			ok = ok && len(g) == 3
		}
		if !ok {
			return 0, errors.New("bukan bilangan bulat (not a whole number)")
		}
		s = strings.Join(groups, "")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("bukan bilangan bulat ≥ 0 (not a whole number ≥ 0)")
	}
	return n, nil
}
