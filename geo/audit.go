package geo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one row of the audit log: who did what, when, from where.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	Actor      string         `json:"actor"`
	Role       Role           `json:"role"`
	Action     string         `json:"action"`
	Object     string         `json:"object"`
	Purpose    string         `json:"purpose,omitempty"`
	RemoteAddr string         `json:"remote_addr,omitempty"`
	Failed     bool           `json:"failed,omitempty"`
	Detail     map[string]any `json:"detail,omitempty"`
}

// Audit writes one audit row outside any other transaction.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	return s.tx(ctx, func(tx pgx.Tx) error { return auditTx(ctx, tx, e) })
}

// auditTx writes an audit row inside tx, so the row exists exactly when the change does.
func auditTx(ctx context.Context, tx pgx.Tx, e AuditEntry) error {
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	actor := e.Actor
	if actor == "" {
		actor = "cli"
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (actor, actor_role, action, object, purpose, remote_addr, ok, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		actor, string(e.Role), e.Action, e.Object, e.Purpose, e.RemoteAddr, !e.Failed, e.Detail)
	if err != nil {
		return fmt.Errorf("write audit row: %w", err)
	}
	return nil
}

// AuditFilter selects audit rows.
type AuditFilter struct {
	Action string
	Actor  string
	Since  time.Time
	Limit  int
}

// AuditLog lists audit rows, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT id, at, actor, actor_role, action, object, purpose, remote_addr, NOT ok, detail
		FROM audit_log
		WHERE ($1 = '' OR action = $1) AND ($2 = '' OR actor = $2) AND at >= $3
		ORDER BY id DESC LIMIT $4`, f.Action, f.Actor, f.Since, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &e.Object, &e.Purpose, &e.RemoteAddr, &e.Failed, &e.Detail)
		return e, err
	})
}
