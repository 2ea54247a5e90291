package geo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNoHousehold means no household of that register has the id.
var ErrNoHousehold = errors.New("rumah tangga tidak ditemukan (no such household)")

// VillageDelta is how one village's aggregates drop when households are erased.
type VillageDelta struct {
	VillageCode      string `json:"village_code"` // "" = the household was unassigned
	Period           string `json:"period"`
	Households       int64  `json:"households"`
	Members          int64  `json:"members"`
	ChildrenU5       int64  `json:"children_u5"`
	Stunted          int64  `json:"stunted"`
	ExtremePoor      int64  `json:"extreme_poor"`
	UnemployedAdults int64  `json:"unemployed_adults"`
}

// ErasureResult says what an erasure removed.
type ErasureResult struct {
	ErasureID  int64          `json:"erasure_id"`
	Register   string         `json:"register"`
	ExternalID string         `json:"external_id"`
	Households int64          `json:"households"` // rows removed (one per period)
	Villages   []VillageDelta `json:"villages"`   // aggregates that change
}

// EraseHousehold removes a household's records of one register — every period, its
// personal data (pii.household_person) and its counts — on the person's request
// (UU 27/2022). An erasure record is kept in pii.erasure so that a re-import or a
// restore does not bring the data back (imports skip erased ids). The result says
// which village aggregates drop and by how much; the need layer's version is bumped.
func (s *Store) EraseHousehold(ctx context.Context, register, externalID, by, note string) (ErasureResult, error) {
	res := ErasureResult{Register: register, ExternalID: externalID}
	if by == "" {
		by = "cli"
	}
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sinergi.households.' || $1 || '.' || h.period))
			FROM household h WHERE h.register = $1 AND h.external_id = $2`, register, externalID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT coalesce(village_code, ''), period, count(*), sum(members), sum(children_u5), sum(stunted),
				count(*) FILTER (WHERE extreme_poor), sum(unemployed_adults)
			FROM household WHERE register = $1 AND external_id = $2 AND retired_at IS NULL
			GROUP BY 1, 2 ORDER BY 2, 1`, register, externalID)
		if err != nil {
			return err
		}
		res.Villages, err = pgx.CollectRows(rows, pgx.RowToStructByPos[VillageDelta])
		if err != nil {
			return fmt.Errorf("erase %s/%s: %w", register, externalID, err)
		}
		// Personal data goes with the household row (ON DELETE CASCADE); retired rows
		// are removed too but change no live aggregate.
		tag, err := tx.Exec(ctx, `DELETE FROM household WHERE register = $1 AND external_id = $2`, register, externalID)
		if err != nil {
			return fmt.Errorf("erase %s/%s: %w", register, externalID, err)
		}
		res.Households = tag.RowsAffected()
		if res.Households == 0 {
			return fmt.Errorf("%w: register %s, id %s", ErrNoHousehold, register, externalID)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO pii.erasure (register, external_id, requested_by, note, households, detail)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, register, externalID, by, note, res.Households,
			map[string]any{"villages": res.Villages}).Scan(&res.ErasureID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT bump_layer('need')`); err != nil {
			return err
		}
		codes := make([]string, 0, len(res.Villages))
		for _, v := range res.Villages {
			codes = append(codes, v.VillageCode)
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "households.erase", Object: "register:" + register,
			Detail: map[string]any{"erasure_id": res.ErasureID, "households": res.Households, "villages": codes}})
	})
	if err != nil {
		return res, err
	}
	return res, nil
}
