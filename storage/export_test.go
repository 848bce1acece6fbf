package storage

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// InsertBatch stores events as one batch, as InsertEvent's writers do with
// whatever is waiting, and returns each event's outcome.
func InsertBatch(d *DB, events []*Event) []error {
	batch := make([]*insertReq, len(events))
	for i, e := range events {
		batch[i] = &insertReq{e: e, done: make(chan struct{})}
	}
	d.commitBatch(batch)
	errs := make([]error, len(batch))
	for i, r := range batch {
		errs[i] = r.err
	}
	return errs
}

// SetReadyTTL sets how long Ready's verdict is reused, and forgets it.
func SetReadyTTL(d *DB, ttl time.Duration) {
	d.ready.mu.Lock()
	defer d.ready.mu.Unlock()
	d.ready.ttl, d.ready.at = ttl, time.Time{}
}

// CountReadyChecks counts the checks Ready runs from now on.
func CountReadyChecks(d *DB) *atomic.Int32 {
	n := &atomic.Int32{}
	check := d.ready.check
	d.ready.check = func(ctx context.Context) error {
		n.Add(1)
		return check(ctx)
	}
	return n
}

// Checkpoint copies an SQLite database's write-ahead log into the
// database, so that the next write starts the log over.
func Checkpoint(ctx context.Context, d *DB) error {
	var busy, frames, copied int
	return d.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
}

// QueueNotices queues n chat-gone notices for chatID, for benchmarks of the
// notice queue.
func QueueNotices(ctx context.Context, d *DB, chatID int64, n int) error {
	return d.inTx(ctx, func(tx *sqlx.Tx) error {
		now := d.Now()
		for range n {
			if _, err := tx.ExecContext(ctx, d.q(`
				INSERT INTO notices (chat_id, kind, data, status, attempts, next_attempt_at, created_at)
				VALUES (?, ?, '{}', ?, 0, ?, ?)`), chatID, NoticeChatGone, StatusQueued, now, now); err != nil {
				return err
			}
		}
		return nil
	})
}
