package api

import "context"

// SetImportRowHook lets tests stop a background import after a given row.
func SetImportRowHook(f func(ctx context.Context, n int64)) { importRowHook = f }
