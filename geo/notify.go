package geo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LayerChannel is the NOTIFY channel bump_layer() announces 'layer:version' on.
const LayerChannel = "sinergi_layers"

// AuthChannel is the NOTIFY channel on which migration 006's triggers announce a
// revoked token or a changed user.
const AuthChannel = "sinergi_auth"

// LayerListener receives layer data versions from ListenLayers.
type LayerListener interface {
	// LayersConnected is called after every (re)connection with every layer's
	// version, so changes made while disconnected are not missed.
	LayersConnected(versions map[string]int64)
	// LayerChanged is called for each notification.
	LayerChanged(layer string, version int64)
	// LayersDisconnected is called when the connection is lost; until the next
	// LayersConnected the listener must not trust the versions it holds.
	LayersDisconnected(err error)
	// AuthChanged is called when a token was revoked or a user changed.
	AuthChanged()
}

// ListenLayers listens for layer version changes on a dedicated connection (not
// one of the pool's) until ctx ends, reconnecting with backoff. Every server
// process runs one, so a change committed by any process — the CLI included —
// reaches every cache.
func (s *Store) ListenLayers(ctx context.Context, l LayerListener) error {
	const firstBackoff = 100 * time.Millisecond
	backoff := firstBackoff
	for {
		connected, err := s.listenOnce(ctx, l)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			backoff = firstBackoff // a connection that worked starts the back-off over
		}
		l.LayersDisconnected(err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// listenOnce listens on one connection until it fails; connected reports
// whether it got as far as LayersConnected.
func (s *Store) listenOnce(ctx context.Context, l LayerListener) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("layer listener: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+LayerChannel+"; LISTEN "+AuthChannel); err != nil {
		return false, fmt.Errorf("layer listener: listen: %w", err)
	}
	// Read versions only after LISTEN is in place, so no change falls in between.
	rows, err := conn.Query(ctx, `SELECT layer, version FROM layer_version`)
	if err != nil {
		return false, fmt.Errorf("layer listener: read versions: %w", err)
	}
	versions := map[string]int64{}
	var (
		name string
		v    int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&name, &v}, func() error { versions[name] = v; return nil }); err != nil {
		return false, fmt.Errorf("layer listener: read versions: %w", err)
	}
	l.LayersConnected(versions)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("layer listener: %w", err)
		}
		if n.Channel == AuthChannel {
			l.AuthChanged()
			continue
		}
		layer, ver, ok := ParseLayerNotification(n.Payload)
		if ok {
			l.LayerChanged(layer, ver)
		}
	}
}

// ParseLayerNotification splits a bump_layer payload 'layer:version'.
func ParseLayerNotification(payload string) (string, int64, bool) {
	i := strings.LastIndexByte(payload, ':')
	if i <= 0 {
		return "", 0, false
	}
	v, err := strconv.ParseInt(payload[i+1:], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return payload[:i], v, true
}
