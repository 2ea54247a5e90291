package geo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bapeda-bekasi/sinergi/matching"
)

// WeightsVersion is one stored version of the scoring weights.
type WeightsVersion struct {
	matching.Weights
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Note      string    `json:"note"`
}

// CurrentWeights returns the newest weights version.
func (s *Store) CurrentWeights(ctx context.Context) (matching.Weights, error) {
	vs, err := s.WeightsVersions(ctx, 1)
	if err != nil {
		return matching.Weights{}, err
	}
	if len(vs) == 0 {
		w := matching.DefaultWeights()
		return w, w.Normalize()
	}
	return vs[0].Weights, nil
}

// WeightsVersions lists weights versions, newest first (limit ≤ 0: 50).
func (s *Store) WeightsVersions(ctx context.Context, limit int) ([]WeightsVersion, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.Pool.Query(ctx, `SELECT id, weights, k, created_by, created_at, note FROM weights_version
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (WeightsVersion, error) {
		var v WeightsVersion
		var raw []byte
		var id int64
		var k float64
		if err := r.Scan(&id, &raw, &k, &v.CreatedBy, &v.CreatedAt, &v.Note); err != nil {
			return v, err
		}
		w, err := matching.ParseWeights(raw, k)
		if err != nil {
			return v, fmt.Errorf("weights version %d: %w", id, err)
		}
		w.Version = id
		v.Weights = w
		return v, nil
	})
}

// WeightsVersionByID returns one weights version.
func (s *Store) WeightsVersionByID(ctx context.Context, id int64) (matching.Weights, error) {
	var raw []byte
	var k float64
	err := s.Pool.QueryRow(ctx, `SELECT weights, k FROM weights_version WHERE id = $1`, id).Scan(&raw, &k)
	if errors.Is(err, pgx.ErrNoRows) {
		return matching.Weights{}, fmt.Errorf("weights version %d does not exist", id)
	}
	if err != nil {
		return matching.Weights{}, err
	}
	w, err := matching.ParseWeights(raw, k)
	w.Version = id
	return w, err
}

// SaveWeights validates w and stores it as a new version (old versions are kept),
// with an audit row in the same transaction. It returns the stored weights.
func (s *Store) SaveWeights(ctx context.Context, w matching.Weights, by, note string) (matching.Weights, error) {
	if err := w.Normalize(); err != nil {
		return w, err
	}
	if by == "" {
		by = "cli"
	}
	stored := struct {
		Indicators        map[string]float64                       `json:"indicators"`
		Sectors           map[string]map[string]float64            `json:"sectors"`
		VillageIndicators map[string]matching.VillageIndicatorSpec `json:"village_indicators"`
	}{w.Indicators, w.Sectors, w.VillageIndicators}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO weights_version (weights, k, created_by, note) VALUES ($1, $2, $3, $4)
			RETURNING id`, stored, w.K, by, note).Scan(&w.Version); err != nil {
			return fmt.Errorf("store weights: %w", err)
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "weights.update", Object: fmt.Sprintf("weights_version:%d", w.Version),
			Detail: map[string]any{"k": w.K, "indicators": w.Indicators, "note": note}})
	})
	return w, err
}
