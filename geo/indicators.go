package geo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// VillageIndicatorValue is one village indicator value (e.g. clean water access
// in percent) of a Kemendagri village code and year.
type VillageIndicatorValue struct {
	Code      string
	Year      int
	Indicator string
	Value     float64
	Source    string
}

// ImportVillageIndicators upserts values in one transaction (all or nothing) with
// an import batch and audit row, and marks the need layer changed so scores are
// recomputed. Codes must be Kemendagri codes (convert BPS codes first).
func (s *Store) ImportVillageIndicators(ctx context.Context, vals []VillageIndicatorValue, file, by string) (int64, error) {
	if by == "" {
		by = "cli"
	}
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, v := range vals {
			b.Queue(`INSERT INTO village_indicator (code, year, indicator, value, source) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (code, year, indicator) DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source`,
				v.Code, v.Year, v.Indicator, v.Value, v.Source)
		}
		br := tx.SendBatch(ctx, b)
		for i := range vals {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("%s: value %d (%s %d %s): %w", file, i+1, vals[i].Code, vals[i].Year, vals[i].Indicator, err)
			}
			n++
		}
		if err := br.Close(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO import_batch (kind, source_file, loaded_by, rows_total, rows_loaded, status, finished_at)
			VALUES ('indicators', $1, $2, $3, $3, 'done', now())`, file, by, n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('need')`); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "indicators.import", Object: "file:" + file,
			Detail: map[string]any{"values": n}})
	})
	return n, err
}
