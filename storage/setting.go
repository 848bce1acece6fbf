package storage

import (
	"context"
	"fmt"
)

// EnsureSetting returns the value stored under key, storing value first if
// there is none: every process that asks gets the first value stored.
func (d *DB) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := d.db.ExecContext(ctx, d.q(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`), key, value); err != nil {
		return "", fmt.Errorf("storage: ensure setting: %w", err)
	}
	var out string
	if err := d.db.GetContext(ctx, &out, d.q(`SELECT value FROM settings WHERE key = ?`), key); err != nil {
		return "", fmt.Errorf("storage: ensure setting: %w", notFound(err))
	}
	return out, nil
}
