package geo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// KeyUsage counts live households per hash key id.
type KeyUsage struct {
	KeyID      string `json:"key_id"` // "" for rows loaded before key ids were recorded
	Households int64  `json:"households"`
	Registers  string `json:"registers"`
}

// KeyStatus is what `sinergi hashkey status` shows.
type KeyStatus struct {
	Current  string     `json:"current_key_id"`   // the id the database expects
	Previous []string   `json:"previous_key_ids"` // ids retired by rotations, oldest first
	Usage    []KeyUsage `json:"usage"`
}

// HashKeyStatus reports the database's current key id and how many households
// were hashed under each key.
func (s *Store) HashKeyStatus(ctx context.Context) (KeyStatus, error) {
	var st KeyStatus
	err := s.Pool.QueryRow(ctx, `SELECT coalesce((SELECT value FROM app_meta WHERE key = 'hash_key_id'), ''),
		coalesce((SELECT string_to_array(value, ',') FROM app_meta WHERE key = 'hash_key_previous'), '{}')`).Scan(&st.Current, &st.Previous)
	if err != nil {
		return st, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT coalesce(hash_key_id, ''), count(*), string_agg(DISTINCT register, ',' ORDER BY register)
		FROM household WHERE retired_at IS NULL GROUP BY 1 ORDER BY 1`)
	if err != nil {
		return st, err
	}
	st.Usage, err = pgx.CollectRows(rows, pgx.RowToStructByPos[KeyUsage])
	return st, err
}

// RotateHashKey makes newID the key id the database expects, remembering the old
// one. Stored hashes are not (and cannot be) recomputed: the clear NIK and No. KK
// are never kept. Rows keep the id of the key that hashed them; a re-import of each
// register under the new key rehashes its rows, and only rows hashed under the same
// key link across registers. The change is audited.
func (s *Store) RotateHashKey(ctx context.Context, oldID, newID, by string) error {
	if oldID == newID {
		return fmt.Errorf("kunci baru sama dengan yang lama (the new key is the old key, id %s)", newID)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT coalesce((SELECT value FROM app_meta WHERE key = 'hash_key_id'), '')`).Scan(&cur)
		if err != nil {
			return err
		}
		if cur != "" && cur != oldID {
			return fmt.Errorf("%w: kunci lama %s, basis data %s (old key %s, database %s)", ErrKeyMismatch, oldID, cur, oldID, cur)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO app_meta (key, value) VALUES ('hash_key_previous', $1)
			ON CONFLICT (key) DO UPDATE SET value = app_meta.value || ',' || $1, updated_at = now()`, oldID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO app_meta (key, value) VALUES ('hash_key_id', $1)
			ON CONFLICT (key) DO UPDATE SET value = $1, updated_at = now()`, newID); err != nil {
			return err
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "hashkey.rotate", Object: "hash_key",
			Detail: map[string]any{"old_key_id": oldID, "new_key_id": newID}})
	})
}
