package api

import "context"

// refreshScores recomputes stale need scores after a data change made through the
// API. A failure is logged, not returned: the change itself has committed, and the
// ranking reports itself stale until the next recompute.
func (s *Server) refreshScores(ctx context.Context, by string) {
	if _, err := s.owner.RefreshScores(ctx, by); err != nil {
		s.log.Warn("need scores not recomputed", "err", err)
	}
}
