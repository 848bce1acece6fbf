package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrLeaseLost is returned when a delivery's lease expired and another worker
// claimed it: the caller must drop its result.
var ErrLeaseLost = errors.New("storage: delivery lease lost")

// Delivery is one event for one chat: a row of the queue.
//
// The queue is the deliveries table. Ingest inserts rows as queued in the
// event's transaction. A worker claims due rows (queued and due, or
// processing with an expired lease), which sets them processing with a lease
// owner and deadline and counts an attempt; the attempt count doubles as a
// fencing token, so a worker whose lease ran out cannot complete a row that
// another worker took over. Finishing a row (delivered, failed) settles the
// event once none of its rows is pending.
type Delivery struct {
	ID         int64     `db:"id"`
	EventID    string    `db:"event_id"`
	ChatID     int64     `db:"chat_id"`
	Status     string    `db:"status"`
	Attempts   int       `db:"attempts"`
	LeaseOwner string    `db:"lease_owner"`
	CreatedAt  time.Time `db:"created_at"`
}

// claimQueries are the one dialect-specific statement of the queue. Both
// take only the oldest unsettled delivery of each chat, so one chat's
// messages go out one at a time and in order: a delivery waiting for its
// retry holds back the chat's later ones (as Telegram's retry_after would).
var claimQueries = map[Dialect]string{
	// FOR UPDATE SKIP LOCKED: concurrent claimers (other processes included)
	// take disjoint rows without waiting on each other.
	Postgres: `
		UPDATE deliveries SET status = 'processing', lease_owner = $1, lease_until = $2, attempts = attempts + 1
		WHERE id IN (
			SELECT d.id FROM deliveries d
			WHERE d.status IN ('queued', 'processing')
				AND ((d.status = 'queued' AND d.next_attempt_at <= $3) OR (d.status = 'processing' AND d.lease_until < $3))
				AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.chat_id = d.chat_id
					AND o.status IN ('queued', 'processing') AND o.id < d.id)
			ORDER BY d.next_attempt_at, d.id
			LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING id, event_id, chat_id, status, attempts, lease_owner, created_at`,
	// SQLite has one writer at a time (immediate transactions), so a plain
	// UPDATE … RETURNING is already exclusive.
	SQLite: `
		UPDATE deliveries SET status = 'processing', lease_owner = ?1, lease_until = ?2, attempts = attempts + 1
		WHERE id IN (
			SELECT d.id FROM deliveries d
			WHERE d.status IN ('queued', 'processing')
				AND ((d.status = 'queued' AND d.next_attempt_at <= ?3) OR (d.status = 'processing' AND d.lease_until < ?3))
				AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.chat_id = d.chat_id
					AND o.status IN ('queued', 'processing') AND o.id < d.id)
			ORDER BY d.next_attempt_at, d.id
			LIMIT ?4)
		RETURNING id, event_id, chat_id, status, attempts, lease_owner, created_at`,
}

// ClaimDeliveries leases up to limit due deliveries to owner for lease. Rows
// come back oldest first. (An event reads as processing once one of its
// deliveries has been claimed; see eventColumns.)
func (d *DB) ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]Delivery, error) {
	now := d.Now()
	var out []Delivery
	err := d.db.SelectContext(ctx, &out, claimQueries[d.dialect], owner, now.Add(lease), now, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: claim deliveries: %w", err)
	}
	// RETURNING does not promise an order.
	slices.SortFunc(out, func(a, b Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CompleteDelivery records a delivery as sent with Telegram's message id.
func (d *DB) CompleteDelivery(ctx context.Context, dl Delivery, messageID int64) error {
	now := d.Now()
	return d.finish(ctx, "complete delivery", dl, func(tx *sqlx.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE deliveries SET status = ?, message_id = ?, delivered_at = ?, lease_until = NULL, error = ''
			WHERE id = ? AND status = ? AND lease_owner = ? AND attempts = ?`),
			StatusDelivered, messageID, now, dl.ID, StatusProcessing, dl.LeaseOwner, dl.Attempts)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// RetryDelivery hands a delivery back to the queue, due at at, with the
// reason it failed. An attempt that should not count (Telegram's 429: we
// were only too early) is given back.
func (d *DB) RetryDelivery(ctx context.Context, dl Delivery, at time.Time, reason string, countAttempt bool) error {
	giveBack := 0
	if !countAttempt {
		giveBack = 1
	}
	return d.finish(ctx, "retry delivery", dl, func(tx *sqlx.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL, error = ?, attempts = attempts - ?
			WHERE id = ? AND status = ? AND lease_owner = ? AND attempts = ?`),
			StatusQueued, at.UTC(), reason, giveBack, dl.ID, StatusProcessing, dl.LeaseOwner, dl.Attempts)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// FailDelivery gives up on a delivery for good, with the reason.
func (d *DB) FailDelivery(ctx context.Context, dl Delivery, reason string) error {
	return d.finish(ctx, "fail delivery", dl, func(tx *sqlx.Tx) (int64, error) {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE deliveries SET status = ?, lease_until = NULL, error = ?
			WHERE id = ? AND status = ? AND lease_owner = ? AND attempts = ?`),
			StatusFailed, reason, dl.ID, StatusProcessing, dl.LeaseOwner, dl.Attempts)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	})
}

// finish runs one fenced update of a delivery and then settles its event:
// once no delivery of the event is pending, the event is delivered, or
// failed with the first failure's reason.
func (d *DB) finish(ctx context.Context, op string, dl Delivery, update func(tx *sqlx.Tx) (int64, error)) error {
	now := d.Now()
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		// Deliveries of one event may finish at once; each must see the
		// others' outcome to settle the event, so they take turns on the
		// event's row. (SQLite's immediate transactions already take turns.)
		if d.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM events WHERE id = $1 FOR UPDATE`, dl.EventID); err != nil {
				return err
			}
		}
		n, err := update(tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrLeaseLost
		}
		var pending []struct {
			Status string `db:"status"`
			Error  string `db:"error"`
		}
		if err := tx.SelectContext(ctx, &pending, d.q(`
			SELECT status, error FROM deliveries WHERE event_id = ? AND status <> ? ORDER BY id`),
			dl.EventID, StatusDelivered); err != nil {
			return err
		}
		status, reason, deliveredAt := StatusDelivered, "", &now
		for _, p := range pending {
			if p.Status != StatusFailed {
				return nil // still in flight: the event stays processing
			}
			if status != StatusFailed {
				status, reason, deliveredAt = StatusFailed, p.Error, nil
			}
		}
		_, err = tx.ExecContext(ctx, d.q(`UPDATE events SET status = ?, error = ?, delivered_at = ? WHERE id = ?`),
			status, reason, deliveredAt, dl.EventID)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: %s: %w", op, err)
	}
	return nil
}

// PendingDeliveries counts deliveries not yet settled: the queue's depth.
func (d *DB) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	err := d.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing')`)
	if err != nil {
		return 0, fmt.Errorf("storage: pending deliveries: %w", err)
	}
	return n, nil
}

// DeliveriesOfEvent lists an event's deliveries, for status pages and tests.
func (d *DB) DeliveriesOfEvent(ctx context.Context, eventID string) ([]Delivery, error) {
	var out []Delivery
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT id, event_id, chat_id, status, attempts, lease_owner, created_at
		FROM deliveries WHERE event_id = ? ORDER BY id`), eventID)
	if err != nil {
		return nil, fmt.Errorf("storage: deliveries of event: %w", err)
	}
	return out, nil
}

// RequeueAbandoned hands every delivery under lease back to the queue at
// once. Only for a database one process owns (SQLite): at start, whatever is
// processing was left by this process's previous life, and need not wait
// for its lease to run out.
func (d *DB) RequeueAbandoned(ctx context.Context) (int, error) {
	res, err := d.db.ExecContext(ctx, d.q(`
		UPDATE deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL WHERE status = ?`),
		StatusQueued, d.Now(), StatusProcessing)
	if err != nil {
		return 0, fmt.Errorf("storage: requeue abandoned: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
