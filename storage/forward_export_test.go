package storage

import (
	"context"
	"time"
)

// SetEventReceivedAt moves an event's arrival time, for tests that need an
// event the forwarding walk cannot see yet (as if not committed).
func SetEventReceivedAt(ctx context.Context, d *DB, id string, at time.Time) error {
	defer d.writeLock()()
	_, err := d.db.ExecContext(ctx, d.q(`UPDATE events SET received_at = ? WHERE id = ?`), at.UTC(), id)
	return err
}
