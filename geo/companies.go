package geo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
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

// ValidSector reports whether s is a known sector.
func ValidSector(s string) bool {
	for _, x := range Sectors {
		if x == s {
			return true
		}
	}
	return false
}

// UpsertCompany inserts a company or updates the one with the same key, writing
// only when something differs. It returns the id and whether a row was written.
func (s *Store) UpsertCompany(ctx context.Context, c Company, by string) (int64, bool, error) {
	for _, sec := range c.Sectors {
		if !ValidSector(sec) {
			return 0, false, fmt.Errorf("company %s: unknown sector %q", c.Key, sec)
		}
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
	var (
		id      int64
		written bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO company AS c (key, name, sectors, budget_per_year, budget_by_sector, area, sites, reach_km)
			VALUES ($1, $2, $3, $4, $5, ST_ForcePolygonCCW(ST_Multi(ST_MakeValid($6::geometry))), $7, $8)
			ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, sectors = EXCLUDED.sectors,
				budget_per_year = EXCLUDED.budget_per_year, budget_by_sector = EXCLUDED.budget_by_sector,
				area = EXCLUDED.area, sites = EXCLUDED.sites, reach_km = EXCLUDED.reach_km, updated_at = now()
			WHERE (c.name, c.sectors, c.budget_per_year, c.budget_by_sector, c.reach_km)
				IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.sectors, EXCLUDED.budget_per_year, EXCLUDED.budget_by_sector, EXCLUDED.reach_km)
				OR NOT (c.area IS NOT DISTINCT FROM EXCLUDED.area) OR NOT (c.sites IS NOT DISTINCT FROM EXCLUDED.sites)
			RETURNING id`,
			c.Key, c.Name, c.Sectors, c.BudgetPerYear, c.BudgetBySector, area, sites, c.ReachKm).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.QueryRow(ctx, `SELECT id FROM company WHERE key = $1`, c.Key).Scan(&id)
		}
		if err != nil {
			return fmt.Errorf("company %s: %w", c.Key, err)
		}
		written = true
		if _, err := tx.Exec(ctx, `SELECT bump_layer('companies')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "company.upsert", Object: "company:" + c.Key})
	})
	return id, written, err
}

// Plan is a company's CSR work plan for one village and sector in one year.
type Plan struct {
	ID               int64  `json:"id"`
	CompanyID        int64  `json:"company_id"`
	Year             int    `json:"year"`
	VillageCode      string `json:"village_code"`
	Sector           string `json:"sector"`
	Budget           int64  `json:"budget"`
	TargetHouseholds int    `json:"target_households"`
	Status           string `json:"status"`
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
