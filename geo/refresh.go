package geo

import (
	"context"
	"errors"
	"fmt"
)

// RefreshScores recomputes need scores when the active village set has households
// but no scores, or its newest scores are stale (households, boundaries or weights
// changed since). It is called after household imports and boundary activations;
// it reports whether it recomputed. A failure here does not undo the change that
// triggered it: the ranking then says it is stale until `sinergi score` runs.
func (s *Store) RefreshScores(ctx context.Context, by string) (bool, error) {
	rk, err := s.Ranking(ctx, "")
	if err != nil && !errors.Is(err, ErrNoScores) {
		return false, err
	}
	if rk.Run != nil && !rk.Stale {
		return false, nil
	}
	periods, err := s.HouseholdPeriods(ctx)
	if err != nil {
		return false, err
	}
	if len(periods) == 0 {
		return false, nil
	}
	if _, err := s.RecomputeScores(ctx, by); err != nil {
		return false, fmt.Errorf("recompute scores: %w", err)
	}
	return true, nil
}
