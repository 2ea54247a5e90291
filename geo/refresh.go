package geo

import (
	"context"
	"errors"
	"fmt"
)

// RefreshScores recomputes need scores when a household period of the active
// village set has no scores, or its newest scores are stale (households, boundaries
// or weights changed since). It is called after household imports and boundary
// activations and reads only run metadata to decide; it reports whether it
// recomputed. A failure here does not undo the change that triggered it: the
// ranking then says it is stale until `sinergi score` runs.
func (s *Store) RefreshScores(ctx context.Context, by string) (bool, error) {
	setID, err := s.ActiveSetID(ctx, LevelDesa)
	if err != nil || setID == 0 {
		return false, err
	}
	periods, err := s.HouseholdPeriods(ctx)
	if err != nil {
		return false, err
	}
	needed := false
	for p := range periods {
		run, err := s.LatestRun(ctx, p, setID)
		if errors.Is(err, ErrNoScores) {
			needed = true
			break
		}
		if err != nil {
			return false, err
		}
		if needed, err = s.runStale(ctx, run); err != nil {
			return false, err
		}
		if needed {
			break
		}
	}
	if !needed {
		return false, nil
	}
	if _, err := s.RecomputeScores(ctx, by); err != nil {
		return false, fmt.Errorf("recompute scores: %w", err)
	}
	return true, nil
}
