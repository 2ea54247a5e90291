package api

import (
	"context"
	"sync"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// versionBarrier hands each request layer versions (and the auth epoch) read by a
// query that began after the request arrived, so a change committed before a
// request — by any process — is always seen, without waiting for its NOTIFY to
// travel. Concurrent requests share one query: while a read runs, newcomers wait
// for the next one, so the database sees at most one read per round trip however
// many requests are in flight.
type versionBarrier struct {
	store *geo.Store

	mu      sync.Mutex
	running *versionRead
	pending *versionRead
}

type versionRead struct {
	done chan struct{}
	v    geo.Versions
	err  error
}

func (b *versionBarrier) read(ctx context.Context) (geo.Versions, error) {
	b.mu.Lock()
	var r *versionRead
	switch {
	case b.running == nil:
		r = &versionRead{done: make(chan struct{})}
		b.running = r
		go b.run(r)
	case b.pending == nil:
		b.pending = &versionRead{done: make(chan struct{})}
		r = b.pending
	default:
		r = b.pending
	}
	b.mu.Unlock()
	select {
	case <-r.done:
		return r.v, r.err
	case <-ctx.Done():
		return geo.Versions{}, ctx.Err()
	}
}

// run performs r, then whatever read queued up meanwhile, until none is pending.
func (b *versionBarrier) run(r *versionRead) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r.v, r.err = b.store.ReadVersions(ctx)
		cancel()
		close(r.done)
		b.mu.Lock()
		b.running, b.pending = b.pending, nil
		r = b.running
		b.mu.Unlock()
	}
}
