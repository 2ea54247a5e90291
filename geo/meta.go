package geo

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Meta reads a key of app_meta ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.Pool.QueryRow(ctx, `SELECT value FROM app_meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta sets a key of app_meta, writing only when the value differs. It reports
// whether it wrote.
func (s *Store) SetMeta(ctx context.Context, key, value string) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO app_meta AS m (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
		WHERE m.value IS DISTINCT FROM EXCLUDED.value`, key, value)
	return tag.RowsAffected() > 0, err
}

// MetaRegencyName is the app_meta key naming the regency the data describes; the
// map page shows it so the demo regency can't be mistaken for the real one.
const MetaRegencyName = "regency_name"
