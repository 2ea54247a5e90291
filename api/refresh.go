package api

import (
	"context"

	"github.com/gofiber/fiber/v2"
)

// refreshScores recomputes stale need scores after a data change made through the
// API. A failure is logged, not returned: the change itself has committed, and the
// ranking reports itself stale until the next recompute.
func (s *Server) refreshScores(ctx context.Context, by string) {
	if _, err := s.owner.RefreshScores(ctx, by); err != nil {
		s.log.Warn("need scores not recomputed", "err", err)
	}
}

// settleAfterWrite holds the answer to a request that may have written (any
// method but GET, HEAD and OPTIONS) until every server's freshness lease taken
// before its last write ran out (geo.FreshnessLease), so a client that got the
// answer and asks any server next gets what it changed — a tile included. The
// wait (geo.WriterWait) starts at the store's last write, so it is spent only by
// requests that wrote.
func (s *Server) settleAfterWrite(c *fiber.Ctx) {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return
	}
	s.settle(c.UserContext())
}

// settle waits out the freshness lease after the last write of both stores.
func (s *Server) settle(ctx context.Context) {
	if s.owner != nil {
		_ = s.owner.Settle(ctx)
	}
	if s.web != nil {
		_ = s.web.Settle(ctx)
	}
}
