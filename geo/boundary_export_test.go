package geo

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetBoundaryImportHook lets the external tests fail an import half-way; it
// returns a function that removes the hook.
func SetBoundaryImportHook(fn func(ctx context.Context, tx pgx.Tx) error) func() {
	testHookAfterLoad = fn
	return func() { testHookAfterLoad = nil }
}
