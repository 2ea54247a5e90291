package geo

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Sectors are the CSR fields a company can work in.
var Sectors = []string{"pendidikan", "kesehatan", "lingkungan", "infrastruktur", "ekonomi"}

// Company is a CSR actor with an operating area and/or sites.
type Company struct {
	ID             int64            `json:"id"`
	Key            string           `json:"key"`
	Name           string           `json:"name"`
	Sectors        []string         `json:"sectors"`
	BudgetPerYear  int64            `json:"budget_per_year"`
	BudgetBySector map[string]int64 `json:"budget_by_sector,omitempty"`
	Area           orb.MultiPolygon `json:"-"`
	Sites          []orb.Point      `json:"-"`
	ReachKm        float64          `json:"reach_km"`
}

// ErrNotFound means the object asked for does not exist.
var ErrNotFound = errors.New("tidak ditemukan (not found)")

// ValidSector reports whether s is a known sector.
func ValidSector(s string) bool {
	for _, x := range Sectors {
		if x == s {
			return true
		}
	}
	return false
}

var companyKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9:._-]{1,79}$`)

// Validate checks a company's fields and says which is wrong.
func (c Company) Validate() error {
	if !companyKeyRE.MatchString(c.Key) {
		return fmt.Errorf("kunci %q tidak sah: huruf kecil, angka, '-', '_', '.', ':' (key %q invalid: lower-case letters, digits, - _ . :)", c.Key, c.Key)
	}
	if strings.TrimSpace(c.Name) == "" {
		return errors.New("nama wajib diisi (name is required)")
	}
	if len(c.Sectors) == 0 {
		return errors.New("minimal satu sektor (at least one sector)")
	}
	for _, sec := range c.Sectors {
		if !ValidSector(sec) {
			return fmt.Errorf("sektor %q tidak dikenal (unknown sector; use %s)", sec, strings.Join(Sectors, ", "))
		}
	}
	if c.BudgetPerYear < 0 {
		return errors.New("anggaran tidak boleh negatif (budget must not be negative)")
	}
	var sum int64
	for sec, b := range c.BudgetBySector {
		if !ValidSector(sec) || !slices.Contains(c.Sectors, sec) {
			return fmt.Errorf("anggaran sektor %q di luar sektor perusahaan (sector budget outside the company's sectors)", sec)
		}
		if b < 0 {
			return fmt.Errorf("anggaran sektor %s negatif (negative sector budget)", sec)
		}
		sum += b
	}
	if !(c.ReachKm >= 0) || c.ReachKm > 200 {
		return fmt.Errorf("jangkauan %v km di luar 0–200 (reach outside 0–200 km)", c.ReachKm)
	}
	for _, p := range c.Sites {
		if math.Abs(p[0]) > 180 || math.Abs(p[1]) > 90 {
			return fmt.Errorf("titik lokasi %v bukan lon/lat WGS84 (site is not lon/lat)", p)
		}
	}
	b := c.Area.Bound()
	if len(c.Area) > 0 && (math.Abs(b.Min[0]) > 180 || math.Abs(b.Max[0]) > 180 || math.Abs(b.Min[1]) > 90 || math.Abs(b.Max[1]) > 90) {
		return errors.New("wilayah operasi bukan lon/lat WGS84 (operating area is not lon/lat)")
	}
	return nil
}

// UpsertCompany inserts a company or updates the one with the same key, writing
// only when something differs. It returns the id and whether a row was written.
func (s *Store) UpsertCompany(ctx context.Context, c Company, by string) (int64, bool, error) {
	for _, sec := range c.Sectors {
		if !ValidSector(sec) {
			return 0, false, fmt.Errorf("company %s: unknown sector %q", c.Key, sec)
		}
	}
	var (
		id      int64
		written bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		id, written, err = upsertCompanyTx(ctx, tx, c, by)
		return err
	})
	return id, written, err
}

func upsertCompanyTx(ctx context.Context, tx pgx.Tx, c Company, by string) (int64, bool, error) {
	if c.BudgetBySector == nil {
		c.BudgetBySector = map[string]int64{}
	}
	var area, sites any
	if len(c.Area) > 0 {
		area = toGeomMultiPolygon(c.Area)
	}
	if mp := toGeomMultiPoint(c.Sites); mp != nil {
		sites = mp
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO company AS c (key, name, sectors, budget_per_year, budget_by_sector, area, sites, reach_km)
		VALUES ($1, $2, $3, $4, $5, ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(ST_MakeValid($6::geometry), 3))), $7, $8)
		ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, sectors = EXCLUDED.sectors,
			budget_per_year = EXCLUDED.budget_per_year, budget_by_sector = EXCLUDED.budget_by_sector,
			area = EXCLUDED.area, sites = EXCLUDED.sites, reach_km = EXCLUDED.reach_km, updated_at = now()
		WHERE (c.name, c.sectors, c.budget_per_year, c.budget_by_sector, c.reach_km)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.sectors, EXCLUDED.budget_per_year, EXCLUDED.budget_by_sector, EXCLUDED.reach_km)
			OR NOT (c.area IS NOT DISTINCT FROM EXCLUDED.area) OR NOT (c.sites IS NOT DISTINCT FROM EXCLUDED.sites)
		RETURNING id`,
		c.Key, c.Name, c.Sectors, c.BudgetPerYear, c.BudgetBySector, area, sites, c.ReachKm).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return id, false, tx.QueryRow(ctx, `SELECT id FROM company WHERE key = $1`, c.Key).Scan(&id)
	}
	if err != nil {
		return 0, false, fmt.Errorf("company %s: %w", c.Key, err)
	}
	if _, err := tx.Exec(ctx, `SELECT bump_layer('companies')`); err != nil {
		return 0, false, err
	}
	return id, true, auditTx(ctx, tx, AuditEntry{Actor: by, Action: "company.upsert", Object: "company:" + c.Key})
}

// CompanyView is a company as one caller may see it: budgets only when the
// caller may see them (planners, and a company user for its own company).
type CompanyView struct {
	ID             int64            `json:"id"`
	Key            string           `json:"key"`
	Name           string           `json:"name"`
	Sectors        []string         `json:"sectors"`
	BudgetPerYear  *int64           `json:"budget_per_year,omitempty"`
	BudgetBySector map[string]int64 `json:"budget_by_sector,omitempty"`
	ReachKm        float64          `json:"reach_km"`
	Area           json.RawMessage  `json:"area,omitempty"`  // GeoJSON MultiPolygon
	Sites          json.RawMessage  `json:"sites,omitempty"` // GeoJSON MultiPoint
	AreaKm2        float64          `json:"area_km2"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

// CompanyViewer says whose budgets a caller may see.
type CompanyViewer struct {
	AllBudgets bool   // planners
	Own        *int64 // a company user's own company
}

func (v CompanyViewer) seesBudget(id int64) bool {
	return v.AllBudgets || (v.Own != nil && *v.Own == id)
}

const companySelect = `SELECT id, key, name, sectors, budget_per_year, budget_by_sector, reach_km,
	ST_AsGeoJSON(area, 6)::text, ST_AsGeoJSON(sites, 6)::text,
	COALESCE(ST_Area(area::geography) / 1e6, 0), updated_at FROM company`

func scanCompany(r pgx.CollectableRow) (CompanyView, error) {
	var c CompanyView
	var budget int64
	var area, sites *string
	err := r.Scan(&c.ID, &c.Key, &c.Name, &c.Sectors, &budget, &c.BudgetBySector, &c.ReachKm, &area, &sites, &c.AreaKm2, &c.UpdatedAt)
	c.BudgetPerYear = &budget
	if area != nil {
		c.Area = json.RawMessage(*area)
	}
	if sites != nil {
		c.Sites = json.RawMessage(*sites)
	}
	return c, err
}

func (v CompanyViewer) redact(c CompanyView) CompanyView {
	if !v.seesBudget(c.ID) {
		c.BudgetPerYear, c.BudgetBySector = nil, nil
	}
	if len(c.BudgetBySector) == 0 {
		c.BudgetBySector = nil
	}
	return c
}

// Companies lists every company, by name.
func (s *Store) Companies(ctx context.Context, v CompanyViewer) ([]CompanyView, error) {
	rows, err := s.Pool.Query(ctx, companySelect+` ORDER BY name, id`)
	if err != nil {
		return nil, err
	}
	cs, err := pgx.CollectRows(rows, scanCompany)
	for k := range cs {
		cs[k] = v.redact(cs[k])
	}
	return cs, err
}

// CompanyByID returns one company, or ErrNotFound.
func (s *Store) CompanyByID(ctx context.Context, id int64, v CompanyViewer) (CompanyView, error) {
	rows, err := s.Pool.Query(ctx, companySelect+` WHERE id = $1`, id)
	if err != nil {
		return CompanyView{}, err
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCompany)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("perusahaan %d: %w", id, ErrNotFound)
	}
	return v.redact(c), err
}

// ErrCompanyExists means another company already has the key.
var ErrCompanyExists = errors.New("kunci perusahaan sudah dipakai (company key already in use)")

// CreateCompany inserts a new company.
func (s *Store) CreateCompany(ctx context.Context, c Company, by string) (int64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	var id int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM company WHERE key = $1)`, c.Key).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrCompanyExists
		}
		var err error
		id, _, err = upsertCompanyTx(ctx, tx, c, by)
		return err
	})
	return id, err
}

// UpdateCompany replaces company id's fields (its key included).
func (s *Store) UpdateCompany(ctx context.Context, id int64, c Company, by string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.BudgetBySector == nil {
		c.BudgetBySector = map[string]int64{}
	}
	var area, sites any
	if len(c.Area) > 0 {
		area = toGeomMultiPolygon(c.Area)
	}
	if mp := toGeomMultiPoint(c.Sites); mp != nil {
		sites = mp
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE company SET key = $2, name = $3, sectors = $4, budget_per_year = $5,
			budget_by_sector = $6, area = ST_ForcePolygonCCW(ST_Multi(ST_CollectionExtract(ST_MakeValid($7::geometry), 3))),
			sites = $8, reach_km = $9, updated_at = now() WHERE id = $1`,
			id, c.Key, c.Name, c.Sectors, c.BudgetPerYear, c.BudgetBySector, area, sites, c.ReachKm)
		if companyKeyTaken(err) {
			return ErrCompanyExists
		}
		if err != nil {
			return fmt.Errorf("perusahaan %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("perusahaan %d: %w", id, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('companies')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "company.update", Object: fmt.Sprintf("company:%d", id)})
	})
}

// DeleteCompany removes a company with its plans and rules. A company still
// linked to user accounts cannot be deleted.
func (s *Store) DeleteCompany(ctx context.Context, id int64, by string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var users int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM app_user WHERE company_id = $1`, id).Scan(&users); err != nil {
			return err
		}
		if users > 0 {
			return fmt.Errorf("perusahaan %d masih punya %d akun pengguna (company still has %d user accounts): %w", id, users, users, ErrCompanyInUse)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM company WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("perusahaan %d: %w", id, ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('companies'), bump_layer('plans')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "company.delete", Object: fmt.Sprintf("company:%d", id)})
	})
}

// companyKeyTaken reports a unique violation (another company has the key).
func companyKeyTaken(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// ErrCompanyInUse means a company cannot be deleted yet.
var ErrCompanyInUse = errors.New("company in use")

// ImportCompaniesResult summarises a `companies import`.
type ImportCompaniesResult struct {
	File      string `json:"file"`
	Companies int    `json:"companies"`
	Written   int    `json:"written"`
}

// ReadCompanies parses a company file: CSV with site points (one row per site;
// rows with the same key add sites) or GeoJSON with operating-area polygons
// and/or site points. Errors name the row or feature.
//
// CSV columns: key, name, sectors (separated by ';'), budget_per_year, reach_km,
// lon, lat, and optionally budget_<sector>. GeoJSON properties: key, name,
// sectors (array or ';' string), budget_per_year, reach_km, budget_by_sector.
func ReadCompanies(r io.Reader, name string) ([]Company, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return readCompaniesCSV(r, name)
	case ".geojson", ".json":
		return readCompaniesGeoJSON(r, name)
	}
	return nil, fmt.Errorf("%s: format tidak dikenal; pakai .csv atau .geojson (unknown format; use .csv or .geojson)", name)
}

func splitSectors(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == '|' }) {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func readCompaniesCSV(r io.Reader, name string) ([]Company, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	col := map[string]int{}
	for k, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = k
	}
	for _, need := range []string{"key", "name", "sectors", "budget_per_year", "reach_km"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: kolom %q tidak ada (missing column %q)", name, need, need)
		}
	}
	get := func(rec []string, c string) string {
		if k, ok := col[c]; ok && k < len(rec) {
			return strings.TrimSpace(rec[k])
		}
		return ""
	}
	var out []Company
	byKey := map[string]int{}
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s row %d: %w", name, row, err)
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s row %d: %s", name, row, fmt.Sprintf(format, a...))
		}
		c := Company{Key: get(rec, "key"), Name: get(rec, "name"), Sectors: splitSectors(get(rec, "sectors")), BudgetBySector: map[string]int64{}}
		if c.BudgetPerYear, err = strconv.ParseInt(get(rec, "budget_per_year"), 10, 64); err != nil {
			return nil, bad("budget_per_year %q bukan bilangan bulat rupiah (not whole rupiah)", get(rec, "budget_per_year"))
		}
		if c.ReachKm, err = strconv.ParseFloat(get(rec, "reach_km"), 64); err != nil {
			return nil, bad("reach_km %q bukan angka (not a number)", get(rec, "reach_km"))
		}
		for _, sec := range Sectors {
			if v := get(rec, "budget_"+sec); v != "" {
				b, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, bad("budget_%s %q bukan bilangan bulat (not whole rupiah)", sec, v)
				}
				c.BudgetBySector[sec] = b
			}
		}
		if lon, lat := get(rec, "lon"), get(rec, "lat"); lon != "" || lat != "" {
			x, err1 := strconv.ParseFloat(lon, 64)
			y, err2 := strconv.ParseFloat(lat, 64)
			if err1 != nil || err2 != nil {
				return nil, bad("lon/lat %q/%q bukan angka (not numbers)", lon, lat)
			}
			c.Sites = []orb.Point{{x, y}}
		}
		if err := c.Validate(); err != nil {
			return nil, bad("%s: %v", c.Key, err)
		}
		if k, seen := byKey[c.Key]; seen {
			out[k].Sites = append(out[k].Sites, c.Sites...)
			continue
		}
		byKey[c.Key] = len(out)
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: tidak ada baris perusahaan (no company rows)", name)
	}
	return out, nil
}

func readCompaniesGeoJSON(r io.Reader, name string) ([]Company, error) {
	b, err := io.ReadAll(io.LimitReader(r, 200<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%s: bukan GeoJSON FeatureCollection (not a GeoJSON FeatureCollection): %w", name, err)
	}
	var out []Company
	byKey := map[string]int{}
	for k, f := range fc.Features {
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s feature %d: %s", name, k+1, fmt.Sprintf(format, a...))
		}
		c := Company{Key: f.Properties.MustString("key", ""), Name: f.Properties.MustString("name", ""), BudgetBySector: map[string]int64{}}
		switch v := f.Properties["sectors"].(type) {
		case string:
			c.Sectors = splitSectors(v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					c.Sectors = append(c.Sectors, strings.ToLower(strings.TrimSpace(s)))
				}
			}
		}
		budget, ok := f.Properties["budget_per_year"].(float64)
		if !ok || budget != math.Trunc(budget) {
			return nil, bad("budget_per_year wajib bilangan bulat rupiah (must be whole rupiah)")
		}
		c.BudgetPerYear = int64(budget)
		c.ReachKm = f.Properties.MustFloat64("reach_km", 5)
		if m, ok := f.Properties["budget_by_sector"].(map[string]any); ok {
			for sec, v := range m {
				x, ok := v.(float64)
				if !ok {
					return nil, bad("budget_by_sector.%s bukan angka (not a number)", sec)
				}
				c.BudgetBySector[sec] = int64(x)
			}
		}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			c.Area = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			c.Area = g
		case orb.Point:
			c.Sites = []orb.Point{g}
		case orb.MultiPoint:
			c.Sites = []orb.Point(g)
		default:
			return nil, bad("geometri %T tidak didukung; pakai Polygon, MultiPolygon, Point atau MultiPoint (unsupported geometry)", f.Geometry)
		}
		if err := c.Validate(); err != nil {
			return nil, bad("%s: %v", c.Key, err)
		}
		if j, seen := byKey[c.Key]; seen { // a second feature adds area or sites
			out[j].Area = append(out[j].Area, c.Area...)
			out[j].Sites = append(out[j].Sites, c.Sites...)
			continue
		}
		byKey[c.Key] = len(out)
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: tidak ada fitur perusahaan (no company features)", name)
	}
	return out, nil
}

// ImportCompanies upserts every company of the file in one transaction: all or nothing.
func (s *Store) ImportCompanies(ctx context.Context, cs []Company, file, by string) (ImportCompaniesResult, error) {
	res := ImportCompaniesResult{File: file, Companies: len(cs)}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		for _, c := range cs {
			_, written, err := upsertCompanyTx(ctx, tx, c, by)
			if err != nil {
				return err
			}
			if written {
				res.Written++
			}
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "company.import", Object: file,
			Detail: map[string]any{"companies": res.Companies, "written": res.Written}})
	})
	return res, err
}

// Plan is a company's CSR work plan for one village and sector in one year.
type Plan struct {
	ID               int64       `json:"id"`
	CompanyID        int64       `json:"company_id"`
	Year             int         `json:"year"`
	VillageCode      string      `json:"village_code"`
	Sector           string      `json:"sector"`
	Budget           int64       `json:"budget"`
	TargetHouseholds int         `json:"target_households"`
	Status           string      `json:"status"`
	Program          string      `json:"program,omitempty"`
	Sites            []orb.Point `json:"-"`
}

// EnsurePlan inserts a plan unless the company already has one for the same year,
// village and sector. It returns whether a row was written.
func (s *Store) EnsurePlan(ctx context.Context, p Plan, by string) (bool, error) {
	if !ValidSector(p.Sector) {
		return false, fmt.Errorf("plan: unknown sector %q", p.Sector)
	}
	var written bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO plan (company_id, year, village_code, sector, budget, target_households, status, created_by)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8
			WHERE NOT EXISTS (SELECT 1 FROM plan WHERE company_id = $1 AND year = $2 AND village_code = $3 AND sector = $4)`,
			p.CompanyID, p.Year, p.VillageCode, p.Sector, p.Budget, p.TargetHouseholds, p.Status, by)
		if err != nil {
			return fmt.Errorf("plan %d/%s/%s: %w", p.Year, p.VillageCode, p.Sector, err)
		}
		written = tag.RowsAffected() > 0
		if written {
			_, err = tx.Exec(ctx, `SELECT bump_layer('plans')`)
		}
		return err
	})
	return written, err
}
