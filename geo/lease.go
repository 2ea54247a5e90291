package geo

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// FreshnessLease is how long a server may trust layer versions and the auth
// epoch it read from the database without reading them again: a read begun at
// time t vouches for every request that arrives before t + FreshnessLease.
//
// It is a lease in the sense of Gray and Cheriton (1989): readers hold it,
// writers wait it out. Every writer in this code base (the CLI, the API's
// writing routes, background jobs) lets WriterWait pass after its last write
// before it reports success (Store.Settle, called by Store.Close), so a client
// that saw the change reported cannot reach a server whose lease predates it.
// Only elapsed time is compared, each process on its own monotonic clock, so
// the clocks need not agree — only tick at (nearly) the same rate.
//
// A writer that does not wait (psql, another tool) is seen within
// FreshnessLease plus one refresh.
const FreshnessLease = 100 * time.Millisecond

// WriterWait is what a writer waits after its last write: the lease plus a
// margin for clock-rate error and scheduling.
const WriterWait = FreshnessLease + FreshnessLease/5

// writeTracer notes when the pool last ran a statement that may have written:
// any statement whose command tag is not a plain SELECT (COMMIT, INSERT,
// UPDATE, DELETE, COPY, ...). Every SELECT of a writing function in this code
// base (bump_layer) runs inside a transaction, whose COMMIT is noted.
type writeTracer struct {
	last atomic.Int64 // nanoseconds on clockBase's monotonic clock; 0 = never
}

// clockBase anchors monotonic readings as integers.
var clockBase = time.Now()

func monoNow() int64 { return int64(time.Since(clockBase)) + 1 }

func (w *writeTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (w *writeTracer) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	w.note(d.CommandTag.String(), d.Err)
}

func (w *writeTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (w *writeTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	w.note(d.CommandTag.String(), d.Err)
}

func (w *writeTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (w *writeTracer) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return ctx
}

func (w *writeTracer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {
	w.last.Store(monoNow())
}

func (w *writeTracer) note(tag string, err error) {
	if err == nil && (strings.HasPrefix(tag, "SELECT") || tag == "SHOW" || tag == "BEGIN" || tag == "SET" || tag == "LISTEN") {
		return
	}
	// Errors count too: a failed statement may end a transaction that did write
	// (a COMMIT that fails on the wire may still have committed).
	w.last.Store(monoNow())
}

// Settle waits until WriterWait has passed since this store last wrote, so every
// server's freshness lease taken before the write has run out (see
// FreshnessLease). It returns at once when the store never wrote or the wait is
// over, and early with ctx's error.
func (s *Store) Settle(ctx context.Context) error {
	if s.writes == nil {
		return nil
	}
	last := s.writes.last.Load()
	if last == 0 {
		return nil
	}
	wait := time.Duration(last + int64(WriterWait) - monoNow())
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
