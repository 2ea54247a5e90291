package geo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PriorityItem is one village of a priority list (lokus), in order.
type PriorityItem struct {
	Position      int    `json:"position"`
	VillageCode   string `json:"code"`
	VillageName   string `json:"name"`
	KecamatanName string `json:"kecamatan_name"`
	Note          string `json:"note"`
	NeedsReview   bool   `json:"needs_review"`
}

// PriorityList is one version of a named priority list of a year.
type PriorityList struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Year      int            `json:"year"`
	Version   int            `json:"version"`
	Versions  int            `json:"versions"`
	CreatedBy string         `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
	Note      string         `json:"note"`
	Items     []PriorityItem `json:"items"`
}

// PriorityInput is a list to save: a new list, or a new version of the list with
// the same name and year (earlier versions are kept).
type PriorityInput struct {
	Name  string         `json:"name"`
	Year  int            `json:"year"`
	Note  string         `json:"note"`
	Items []PriorityItem `json:"items"`
}

// ErrPriorityInvalid wraps validation failures of a priority list.
var ErrPriorityInvalid = errors.New("daftar prioritas tidak valid (invalid priority list)")

// SavePriorityList validates in against the active village set and stores it as
// the next version of its list, with an audit row, in one transaction.
func (s *Store) SavePriorityList(ctx context.Context, in PriorityInput, by string) (PriorityList, error) {
	in.Name = strings.TrimSpace(in.Name)
	if by == "" {
		by = "cli"
	}
	if in.Name == "" || len(in.Name) > 200 {
		return PriorityList{}, fmt.Errorf("%w: nama wajib diisi, ≤ 200 karakter (name is required, at most 200 characters)", ErrPriorityInvalid)
	}
	if in.Year < 2000 || in.Year > 2100 {
		return PriorityList{}, fmt.Errorf("%w: tahun %d di luar 2000–2100 (year out of range)", ErrPriorityInvalid, in.Year)
	}
	if len(in.Items) == 0 {
		return PriorityList{}, fmt.Errorf("%w: daftar kosong (the list has no villages)", ErrPriorityInvalid)
	}
	var out PriorityList
	err := s.tx(ctx, func(tx pgx.Tx) error {
		setID, err := activeSetTx(ctx, tx, LevelDesa)
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for i, it := range in.Items {
			code := strings.TrimSpace(it.VillageCode)
			if j, dup := seen[code]; dup {
				return fmt.Errorf("%w: desa %s muncul dua kali, baris %d dan %d (village listed twice, items %d and %d)",
					ErrPriorityInvalid, code, j+1, i+1, j+1, i+1)
			}
			seen[code] = i
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM village WHERE set_id = $1 AND code = $2)`, setID, code).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: butir %d: kode desa tidak dikenal %q (item %d: unknown village code in the active boundary set)",
					ErrPriorityInvalid, i+1, code, i+1)
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO priority_list (name, year, created_by) VALUES ($1, $2, $3)
			ON CONFLICT (name, year) DO UPDATE SET name = EXCLUDED.name RETURNING id`, in.Name, in.Year, by).Scan(&out.ID); err != nil {
			return fmt.Errorf("store priority list: %w", err)
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM priority_list_version WHERE list_id = $1`,
			out.ID).Scan(&out.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO priority_list_version (list_id, version, created_by, note) VALUES ($1, $2, $3, $4)`,
			out.ID, out.Version, by, in.Note); err != nil {
			return err
		}
		for i, it := range in.Items {
			if _, err := tx.Exec(ctx, `INSERT INTO priority_item (list_id, version, position, village_code, note, needs_review)
				VALUES ($1, $2, $3, $4, $5, $6)`, out.ID, out.Version, i+1, strings.TrimSpace(it.VillageCode), it.Note, it.NeedsReview); err != nil {
				return err
			}
		}
		return auditTx(ctx, tx, AuditEntry{Actor: by, Action: "priorities.save", Object: fmt.Sprintf("priority_list:%d", out.ID),
			Detail: map[string]any{"name": in.Name, "year": in.Year, "version": out.Version, "villages": len(in.Items)}})
	})
	if err != nil {
		return PriorityList{}, err
	}
	return s.PriorityListVersion(ctx, out.ID, out.Version)
}

// PriorityLists returns the newest version of every list (of year, when non-zero).
func (s *Store) PriorityLists(ctx context.Context, year int) ([]PriorityList, error) {
	rows, err := s.Pool.Query(ctx, `SELECT l.id, max(v.version) FROM priority_list l
		JOIN priority_list_version v ON v.list_id = l.id
		WHERE $1 = 0 OR l.year = $1 GROUP BY l.id ORDER BY l.id`, year)
	if err != nil {
		return nil, err
	}
	type ref struct {
		id int64
		v  int
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ref, error) {
		var x ref
		return x, r.Scan(&x.id, &x.v)
	})
	if err != nil {
		return nil, err
	}
	out := make([]PriorityList, 0, len(refs))
	for _, r := range refs {
		l, err := s.PriorityListVersion(ctx, r.id, r.v)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// PriorityListVersion returns one version of a list (version 0: the newest).
func (s *Store) PriorityListVersion(ctx context.Context, id int64, version int) (PriorityList, error) {
	var l PriorityList
	err := s.Pool.QueryRow(ctx, `
		SELECT l.id, l.name, l.year, v.version, (SELECT count(*) FROM priority_list_version WHERE list_id = l.id),
			v.created_by, v.created_at, v.note
		FROM priority_list l JOIN priority_list_version v ON v.list_id = l.id
		WHERE l.id = $1 AND ($2 = 0 OR v.version = $2) ORDER BY v.version DESC LIMIT 1`, id, version).
		Scan(&l.ID, &l.Name, &l.Year, &l.Version, &l.Versions, &l.CreatedBy, &l.CreatedAt, &l.Note)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("daftar prioritas %d versi %d tidak ada (priority list %d version %d does not exist): %w",
			id, version, id, version, pgx.ErrNoRows)
	}
	if err != nil {
		return l, err
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT i.position, i.village_code, coalesce(v.name, ''), coalesce(v.kecamatan_name, ''), i.note, i.needs_review
		FROM priority_item i
		LEFT JOIN village v ON v.code = i.village_code
			AND v.set_id = (SELECT id FROM boundary_set WHERE level = 'desa' AND status = 'active')
		WHERE i.list_id = $1 AND i.version = $2 ORDER BY i.position`, l.ID, l.Version)
	if err != nil {
		return l, err
	}
	l.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[PriorityItem])
	return l, err
}
