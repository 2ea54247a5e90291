package api

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bapeda-bekasi/sinergi/geo"
)

// barrierReaders is how many version reads may be in flight at once. Measured
// (scripts/bench_tiles.sh, warm): with 2 or 4 overlapping reads a request waits
// less in theory, but on a busy machine the extra reads slow every round trip and
// throughput fell (6.1k req/s with 1, 4.4k with 2, 4.1k with 4), so one.
const barrierReaders = 1

// versionBarrier hands each request layer versions (and the auth epoch) read by a
// query that began after the request arrived, so a change committed before a
// request — by any process — is always seen, without waiting for its NOTIFY to
// travel (NOTIFY is delivered after the writer's COMMIT returns, so a client that
// fetches right after a CLI change could otherwise still get the old tile).
//
// Group commit: requests join the next read that has not started yet; it starts
// as soon as fewer than barrierReaders reads are running, so every request that
// joined it arrived before its query was sent, and one query serves them all.
//
// Lease: a completed read vouches for every request that arrives within
// geo.FreshnessLease of the moment it was sent, because every writer waits
// geo.WriterWait after committing before it reports success (geo.Store.Settle).
// Such requests take the read's answer without joining a new one; refreshLease
// keeps the lease current while requests use it, so a busy server reads the
// versions about every FreshnessLease/2 instead of once per request.
type versionBarrier struct {
	store *geo.Store

	lease atomic.Pointer[versionLease]
	used  atomic.Bool // a request took the lease since the last refresh

	mu      sync.Mutex
	running int          // reads in flight
	next    *versionRead // not started yet; newcomers join it
}

type versionRead struct {
	done chan struct{}
	v    geo.Versions
	err  error
}

func (r *versionRead) result() (*geo.Versions, error) {
	if r.err != nil {
		return nil, r.err
	}
	return &r.v, nil
}

// versionLease is a completed read and when it was sent.
type versionLease struct {
	v    geo.Versions
	sent time.Time // with its monotonic reading
}

// read returns versions no older than the request: the lease's while it lasts,
// else those of a read that begins after now.
//
// The versions returned are shared by every request they serve: read only.
func (b *versionBarrier) read(ctx context.Context) (*geo.Versions, error) {
	if l := b.lease.Load(); l != nil && time.Since(l.sent) < geo.FreshnessLease {
		if !b.used.Load() {
			b.used.Store(true)
		}
		return &l.v, nil
	}
	return b.join(ctx)
}

// join waits for a read that begins after now.
func (b *versionBarrier) join(ctx context.Context) (*geo.Versions, error) {
	b.mu.Lock()
	if b.next == nil {
		b.next = &versionRead{done: make(chan struct{})}
	}
	r := b.next
	if b.running < barrierReaders {
		b.running++
		b.next = nil
		go b.run(r)
	}
	b.mu.Unlock()
	// A read ends within barrierTimeout; waiting on the request's context too
	// would cost it a timer, needed only when its deadline comes sooner.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > barrierTimeout {
		<-r.done
		return r.result()
	}
	select {
	case <-r.done:
		return r.result()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// barrierTimeout bounds one version read.
const barrierTimeout = 5 * time.Second

// run performs r, then the read that gathered meanwhile, until none is waiting.
func (b *versionBarrier) run(r *versionRead) {
	for r != nil {
		// Detached from any one request: the joiners' contexts end at different times.
		ctx, cancel := context.WithTimeout(context.Background(), barrierTimeout)
		sent := time.Now()
		r.v, r.err = b.store.ReadVersions(ctx)
		cancel()
		if r.err == nil {
			b.renew(&versionLease{v: r.v, sent: sent})
		}
		close(r.done)
		b.mu.Lock()
		r, b.next = b.next, nil
		if r == nil {
			b.running--
		}
		b.mu.Unlock()
	}
}

// renew installs l unless a read sent later already did.
func (b *versionBarrier) renew(l *versionLease) {
	for {
		old := b.lease.Load()
		if old != nil && !l.sent.After(old.sent) {
			return
		}
		if b.lease.CompareAndSwap(old, l) {
			return
		}
	}
}

// refreshLease renews the lease every FreshnessLease/2 while requests use it,
// until ctx ends; an idle server sends nothing. A read takes a millisecond or
// two, so the renewed lease is in place long before the old one runs out.
func (b *versionBarrier) refreshLease(ctx context.Context) {
	t := time.NewTicker(geo.FreshnessLease / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if b.used.Swap(false) {
			_, _ = b.join(ctx)
		}
	}
}
