package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Outbound forwarding (SPEC §9): a webhook's events POSTed on to another URL.
//
// Ingest does not know about forwarding (its group commit stays as it is).
// The forwarding worker calls TakeForwardEvents, which walks each active
// forward's new events and queues one forward_deliveries row per event in
// the transaction that moves the forward's cursor: the events are durable
// already, so nothing is lost between ingest and that walk.
//
// Event ids are UUIDv7 (time-ordered), but group commit may commit an event
// a moment after one with a greater id. So the cursor only moves over events
// older than a settle time (far longer than any commit takes), and events
// after it are told apart by forward_deliveries' unique (forward, event)
// key: an event committed late is still taken, and none is taken twice.
//
// forward_deliveries is a lease queue like deliveries (lease.go), each
// attempt's record kept in forward_attempts.

// Forward is a webhook's forwarding target.
type Forward struct {
	ID        int64     `db:"id"`
	WebhookID int64     `db:"webhook_id"`
	URL       string    `db:"url"`
	Secret    string    `db:"secret"` // whsec_…; never logged
	Paused    bool      `db:"paused"`
	CursorID  string    `db:"cursor_id"` // see the comment above
	ScanFrom  time.Time `db:"scan_from"`
	CreatedBy int64     `db:"created_by"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const forwardColumns = `f.id, f.webhook_id, f.url, f.secret, f.paused, f.cursor_id, f.scan_from, f.created_by, f.created_at, f.updated_at`

// ForwardDelivery is one message for a forward's URL: an event, or a test
// (EventID nil).
type ForwardDelivery struct {
	ID            int64     `db:"id"`
	ForwardID     int64     `db:"forward_id"`
	EventID       *string   `db:"event_id"`
	MessageID     string    `db:"message_id"` // the webhook-id header, the same on every attempt
	Status        string    `db:"status"`
	Attempts      int       `db:"attempts"`
	NextAttemptAt time.Time `db:"next_attempt_at"`
	LeaseOwner    string    `db:"lease_owner"`
	CreatedAt     time.Time `db:"created_at"`
}

const forwardDeliveryColumns = `id, forward_id, event_id, message_id, status, attempts, next_attempt_at, lease_owner, created_at`

// ForwardAttempt is one POST to a forward's URL and what came of it.
type ForwardAttempt struct {
	ID         int64     `db:"id"`
	DeliveryID int64     `db:"delivery_id"`
	ForwardID  int64     `db:"forward_id"`
	Attempt    int       `db:"attempt"` // 1 for the first
	At         time.Time `db:"at"`
	StatusCode int       `db:"status_code"` // 0: no HTTP answer (Excerpt says why)
	DurationMS int64     `db:"duration_ms"`
	OK         bool      `db:"ok"`
	Excerpt    string    `db:"excerpt"` // the answer's first bytes, or the error

	// Read with the attempt, not stored in it.
	EventID *string `db:"event_id"` // nil for a test message
	Final   bool    `db:"-"`        // set by ForwardAttempts: the delivery gave up after it
	Status  string  `db:"status"`   // the delivery's status now
}

// ForwardInfo is a forward with what sending for it needs to know.
type ForwardInfo struct {
	Forward
	WebhookName   string `db:"webhook_name"`
	OwnerID       int64  `db:"owner_id"`
	OwnerLanguage string `db:"owner_language"` // the owner's private chat's, else their Telegram language code
}

// initCursor places a forward's cursor at the webhook's newest event: only
// events after it are forwarded.
func (d *DB) initCursor(ctx context.Context, tx *sqlx.Tx, webhookID int64, now time.Time, settle time.Duration) (string, time.Time, error) {
	from := now.Add(-settle)
	var ids []string
	err := tx.SelectContext(ctx, &ids, d.q(`
		SELECT COALESCE(MAX(id), '') FROM events WHERE webhook_id = ? AND received_at >= ?`), webhookID, from)
	if err != nil {
		return "", time.Time{}, err
	}
	cursor := ""
	if len(ids) == 1 {
		cursor = ids[0]
	}
	return cursor, from, nil
}

// SetForward forwards a webhook's events to url from now on. A webhook
// already forwarded keeps its secret, pause and history and only changes
// URL (created false); a new forward takes secret (created true). settle is
// the forwarding worker's settle time.
func (d *DB) SetForward(ctx context.Context, webhookID int64, url, secret string, by int64, settle time.Duration) (Forward, bool, error) {
	now := d.Now()
	var f Forward
	created := false
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`UPDATE forwards SET url = ?, updated_at = ? WHERE webhook_id = ?`), url, now, webhookID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			cursor, from, err := d.initCursor(ctx, tx, webhookID, now, settle)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, d.q(`
				INSERT INTO forwards (webhook_id, url, secret, paused, cursor_id, scan_from, created_by, created_at, updated_at)
				VALUES (?, ?, ?, FALSE, ?, ?, ?, ?, ?)`), webhookID, url, secret, cursor, from, by, now, now); err != nil {
				return err
			}
			created = true
		}
		return tx.GetContext(ctx, &f, d.q(`SELECT `+forwardColumns+` FROM forwards f WHERE f.webhook_id = ?`), webhookID)
	})
	if isForeignKeyViolation(err) {
		return Forward{}, false, fmt.Errorf("storage: set forward: %w", ErrNotFound)
	}
	if err != nil {
		return Forward{}, false, fmt.Errorf("storage: set forward: %w", err)
	}
	return f, created, nil
}

// ForwardByWebhook returns a webhook's forward, or ErrNotFound.
func (d *DB) ForwardByWebhook(ctx context.Context, webhookID int64) (Forward, error) {
	var f Forward
	err := d.db.GetContext(ctx, &f, d.q(`SELECT `+forwardColumns+` FROM forwards f WHERE f.webhook_id = ?`), webhookID)
	if err != nil {
		return Forward{}, fmt.Errorf("storage: forward by webhook: %w", notFound(err))
	}
	return f, nil
}

// ForwardsByOwner returns the forwards of a user's webhooks by webhook id.
func (d *DB) ForwardsByOwner(ctx context.Context, ownerID int64) (map[int64]Forward, error) {
	var list []Forward
	err := d.db.SelectContext(ctx, &list, d.q(`
		SELECT `+forwardColumns+` FROM forwards f JOIN webhooks w ON w.id = f.webhook_id WHERE w.owner_id = ?`), ownerID)
	if err != nil {
		return nil, fmt.Errorf("storage: forwards by owner: %w", err)
	}
	out := make(map[int64]Forward, len(list))
	for _, f := range list {
		out[f.WebhookID] = f
	}
	return out, nil
}

// ForwardInfo returns a forward with its webhook's name and its owner's
// language, or ErrNotFound.
func (d *DB) ForwardInfo(ctx context.Context, forwardID int64) (ForwardInfo, error) {
	var fi ForwardInfo
	err := d.db.GetContext(ctx, &fi, d.q(`
		SELECT `+forwardColumns+`, w.name AS webhook_name, w.owner_id,
			COALESCE((SELECT c.language FROM chats c WHERE c.id = w.owner_id), u.language_code) AS owner_language
		FROM forwards f JOIN webhooks w ON w.id = f.webhook_id JOIN users u ON u.id = w.owner_id
		WHERE f.id = ?`), forwardID)
	if err != nil {
		return ForwardInfo{}, fmt.Errorf("storage: forward info: %w", notFound(err))
	}
	return fi, nil
}

// DeleteForward stops forwarding a webhook, dropping its settings, its
// pending messages and its history; ErrNotFound when it had none.
func (d *DB) DeleteForward(ctx context.Context, webhookID int64) error {
	defer d.writeLock()()
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM forwards WHERE webhook_id = ?`), webhookID)
	if err != nil {
		return fmt.Errorf("storage: delete forward: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: delete forward: %w", ErrNotFound)
	}
	return nil
}

// PauseForward pauses or resumes a webhook's forward and reports whether
// that changed anything. While paused, new events are not forwarded (a
// resumed forward starts again from the newest event) and pending messages
// wait. ErrNotFound when the webhook is not forwarded.
func (d *DB) PauseForward(ctx context.Context, webhookID int64, paused bool, settle time.Duration) (bool, error) {
	now := d.Now()
	changed := false
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var cur []bool
		if err := tx.SelectContext(ctx, &cur, d.q(`SELECT paused FROM forwards WHERE webhook_id = ?`), webhookID); err != nil {
			return err
		}
		if len(cur) == 0 {
			return ErrNotFound
		}
		if cur[0] == paused {
			return nil
		}
		changed = true
		if paused {
			_, err := tx.ExecContext(ctx, d.q(`UPDATE forwards SET paused = TRUE, updated_at = ? WHERE webhook_id = ?`), now, webhookID)
			return err
		}
		cursor, from, err := d.initCursor(ctx, tx, webhookID, now, settle)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, d.q(`
			UPDATE forwards SET paused = FALSE, cursor_id = ?, scan_from = ?, updated_at = ? WHERE webhook_id = ?`),
			cursor, from, now, webhookID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: pause forward: %w", err)
	}
	return changed, nil
}

// TakeForwardEvents queues, for every active forward, a message per event
// of its webhook that arrived since the forward was set up (or resumed) and
// has none yet — at most limit per forward per call — and moves each
// forward's cursor over events older than settle. It returns how many
// messages it queued. Concurrent callers (other processes) skip the
// forwards another one is walking.
func (d *DB) TakeForwardEvents(ctx context.Context, settle time.Duration, limit int) (int, error) {
	var ids []int64
	err := d.db.SelectContext(ctx, &ids, `
		SELECT f.id FROM forwards f
		WHERE NOT f.paused AND EXISTS (SELECT 1 FROM events e
			WHERE e.webhook_id = f.webhook_id AND e.received_at >= f.scan_from AND e.id > f.cursor_id)
		ORDER BY f.id`)
	if err != nil {
		return 0, fmt.Errorf("storage: take forward events: %w", err)
	}
	total := 0
	for _, id := range ids {
		n, err := d.takeForward(ctx, id, settle, limit)
		if err != nil {
			return total, fmt.Errorf("storage: take forward events: %w", err)
		}
		total += n
	}
	return total, nil
}

// takeForward is TakeForwardEvents for one forward, in one transaction.
func (d *DB) takeForward(ctx context.Context, forwardID int64, settle time.Duration, limit int) (int, error) {
	now := d.Now()
	queued := 0
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var fs []Forward
		if err := tx.SelectContext(ctx, &fs, d.q(`
			SELECT `+forwardColumns+` FROM forwards f WHERE f.id = ? AND NOT f.paused `+d.skipLocked()), forwardID); err != nil {
			return err
		}
		if len(fs) == 0 {
			return nil // paused, deleted, or another process is on it
		}
		f := fs[0]
		var fresh []string
		if err := tx.SelectContext(ctx, &fresh, d.q(`
			SELECT e.id FROM events e
			WHERE e.webhook_id = ? AND e.received_at >= ? AND e.id > ?
				AND NOT EXISTS (SELECT 1 FROM forward_deliveries o WHERE o.forward_id = ? AND o.event_id = e.id)
			ORDER BY e.id LIMIT ?`), f.WebhookID, f.ScanFrom, f.CursorID, f.ID, limit); err != nil {
			return err
		}
		for _, id := range fresh {
			if _, err := tx.ExecContext(ctx, d.q(`
				INSERT INTO forward_deliveries (forward_id, event_id, message_id, status, attempts, next_attempt_at, created_at)
				VALUES (?, ?, ?, ?, 0, ?, ?)
				ON CONFLICT (forward_id, event_id) DO NOTHING`), f.ID, id, id, StatusQueued, now, now); err != nil {
				return err
			}
			queued++
		}
		// The cursor moves to the newest event that is surely committed
		// (older than settle) and up to which every event has its message
		// now: all of them, unless the limit left some for the next walk.
		upTo, capArgs := "", []any{}
		if len(fresh) == limit {
			upTo, capArgs = "AND e.id <= ?", []any{fresh[len(fresh)-1]}
		}
		var settled []struct {
			ID         string    `db:"id"`
			ReceivedAt time.Time `db:"received_at"`
		}
		args := append([]any{f.WebhookID, f.ScanFrom, f.CursorID, now.Add(-settle)}, capArgs...)
		if err := tx.SelectContext(ctx, &settled, d.q(`
			SELECT e.id, e.received_at FROM events e
			WHERE e.webhook_id = ? AND e.received_at >= ? AND e.id > ? AND e.received_at <= ? `+upTo+`
			ORDER BY e.id DESC LIMIT 1`), args...); err != nil {
			return err
		}
		if len(settled) == 0 {
			return nil
		}
		cursor, from := settled[0].ID, f.ScanFrom
		if at := settled[0].ReceivedAt.Add(-settle).UTC(); at.After(from) {
			from = at
		}
		_, err := tx.ExecContext(ctx, d.q(`UPDATE forwards SET cursor_id = ?, scan_from = ? WHERE id = ?`), cursor, from, f.ID)
		return err
	})
	return queued, err
}

// forwardQueue is the forward_deliveries table as a lease queue (lease.go).
var forwardQueue = leaseQueue{table: "forward_deliveries", alias: "o", columns: forwardDeliveryColumns, renewBy: "id"}

func (dl ForwardDelivery) fence() fence { return fence{dl.ID, dl.LeaseOwner, dl.Attempts} }

// claimForwards takes, per forward, its oldest due message, skipping
// forwards that have perForward ($5) messages in flight already (one slow
// target must not take every worker). The due conditions sit at the level
// that locks, so PostgreSQL checks them again on a row another claimer
// changed.
var claimForwards = forwardQueue.claims(claim{where: `o.id IN (` + forwardHeads + `) AND ` + due("o", "$3"), order: "o.id"})

// forwardHeads is each unpaused forward's oldest due message, for forwards
// with fewer than $5 messages in flight.
var forwardHeads = `
	SELECT MIN(h.id) FROM forward_deliveries h JOIN forwards f ON f.id = h.forward_id
	WHERE NOT f.paused AND ` + due("h", "$3") + `
		AND (SELECT COUNT(*) FROM forward_deliveries p
			WHERE p.forward_id = h.forward_id AND p.status = 'processing' AND p.lease_until >= $3) < $5
	GROUP BY h.forward_id`

// ClaimForwardDeliveries leases to owner for lease up to limit due
// messages, at most one per forward per call and none of a forward that
// has perForward in flight. Each claim counts an attempt.
func (d *DB) ClaimForwardDeliveries(ctx context.Context, owner string, lease time.Duration, limit, perForward int) ([]ForwardDelivery, error) {
	out, err := claimLeasesNow[ForwardDelivery](ctx, d, claimForwards, owner, lease, limit, perForward)
	if err != nil {
		return nil, fmt.Errorf("storage: claim forward deliveries: %w", err)
	}
	return out, nil
}

// QueueForwardTest makes a test message for a forward, already leased to
// owner (the caller sends it at once), with a fresh message id.
func (d *DB) QueueForwardTest(ctx context.Context, forwardID int64, owner string, lease time.Duration) (ForwardDelivery, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return ForwardDelivery{}, fmt.Errorf("storage: queue forward test: %w", err)
	}
	now := d.Now()
	var dl ForwardDelivery
	err = d.inTx(ctx, func(tx *sqlx.Tx) error {
		return tx.GetContext(ctx, &dl, d.q(`
			INSERT INTO forward_deliveries (forward_id, event_id, message_id, status, attempts, next_attempt_at,
				lease_owner, lease_until, created_at)
			VALUES (?, NULL, ?, ?, 1, ?, ?, ?, ?)
			RETURNING `+forwardDeliveryColumns), forwardID, "test_"+id.String(), StatusProcessing, now, owner, now.Add(lease), now)
	})
	if isForeignKeyViolation(err) {
		return ForwardDelivery{}, fmt.Errorf("storage: queue forward test: %w", ErrNotFound)
	}
	if err != nil {
		return ForwardDelivery{}, fmt.Errorf("storage: queue forward test: %w", err)
	}
	return dl, nil
}

// FinishForwardAttempt records attempt a of the held message dl and what
// becomes of it: delivered when a.OK; else queued again at next, or failed
// when next is zero. ErrLeaseLost when dl is no longer held (nothing is
// recorded then).
func (d *DB) FinishForwardAttempt(ctx context.Context, dl ForwardDelivery, a ForwardAttempt, next time.Time) error {
	now := d.Now()
	status, errText := StatusDelivered, ""
	var deliveredAt *time.Time
	switch {
	case a.OK:
		deliveredAt = &now
	case next.IsZero():
		status, errText = StatusFailed, a.Excerpt
	default:
		status, errText = StatusQueued, a.Excerpt
	}
	if next.IsZero() {
		next = now
	}
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lost(forwardQueue.end(ctx, d, tx, dl.fence(), outcome{`status = ?, next_attempt_at = ?, error = ?, delivered_at = ?`,
			[]any{status, next.UTC(), errText, deliveredAt}})); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO forward_attempts (delivery_id, forward_id, attempt, at, status_code, duration_ms, ok, excerpt)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			dl.ID, dl.ForwardID, dl.Attempts, a.At.UTC(), a.StatusCode, a.DurationMS, a.OK, a.Excerpt)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: finish forward attempt: %w", err)
	}
	return nil
}

// ReleaseForwardDelivery hands a held message back, due at at, its attempt
// given back: it was never sent (Herald's own trouble, not the target's).
func (d *DB) ReleaseForwardDelivery(ctx context.Context, dl ForwardDelivery, at time.Time, reason string) error {
	defer d.writeLock()()
	if err := lost(forwardQueue.end(ctx, d, d.db, dl.fence(), retried(at, reason, false))); err != nil {
		return fmt.Errorf("storage: release forward delivery: %w", err)
	}
	return nil
}

// ForwardAttempts returns a forward's newest attempts, newest first.
func (d *DB) ForwardAttempts(ctx context.Context, forwardID int64, limit int) ([]ForwardAttempt, error) {
	var out []ForwardAttempt
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT a.id, a.delivery_id, a.forward_id, a.attempt, a.at, a.status_code, a.duration_ms, a.ok, a.excerpt,
			o.event_id, o.status
		FROM forward_attempts a JOIN forward_deliveries o ON o.id = a.delivery_id
		WHERE a.forward_id = ? ORDER BY a.id DESC LIMIT ?`), forwardID, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: forward attempts: %w", err)
	}
	// The newest attempt of a failed message is the one it gave up after.
	seen := map[int64]bool{}
	for i := range out {
		a := &out[i]
		if !seen[a.DeliveryID] {
			seen[a.DeliveryID] = true
			a.Final = a.Status == StatusFailed
		}
	}
	return out, nil
}

// ForwardQueue is what waits for a forward's URL.
type ForwardQueue struct {
	Pending int        // queued or in flight
	NextAt  *time.Time // the earliest next attempt of those queued
	Failed  int        // messages given up on
}

// ForwardQueueOf counts a forward's pending and failed messages.
func (d *DB) ForwardQueueOf(ctx context.Context, forwardID int64) (ForwardQueue, error) {
	var row struct {
		Pending int `db:"pending"`
		Failed  int `db:"failed"`
	}
	err := d.db.GetContext(ctx, &row, d.q(`
		SELECT
			(SELECT COUNT(*) FROM forward_deliveries WHERE forward_id = ? AND status IN ('queued', 'processing')) AS pending,
			(SELECT COUNT(*) FROM forward_deliveries WHERE forward_id = ? AND status = 'failed') AS failed`),
		forwardID, forwardID)
	if err != nil {
		return ForwardQueue{}, fmt.Errorf("storage: forward queue: %w", err)
	}
	q := ForwardQueue{Pending: row.Pending, Failed: row.Failed}
	var next []time.Time
	err = d.db.SelectContext(ctx, &next, d.q(`
		SELECT next_attempt_at FROM forward_deliveries WHERE forward_id = ? AND status = 'queued'
		ORDER BY next_attempt_at LIMIT 1`), forwardID)
	if err != nil {
		return ForwardQueue{}, fmt.Errorf("storage: forward queue: %w", err)
	}
	if len(next) == 1 {
		t := next[0].UTC()
		q.NextAt = &t
	}
	return q, nil
}

// ForwardWorkDue reports whether a message of an unpaused forward may be
// claimed now (due, or held under an expired lease): a read, so that the
// worker takes the write lock of a claim only when there is work.
func (d *DB) ForwardWorkDue(ctx context.Context) (bool, error) {
	now := d.Now()
	var n []int
	err := d.db.SelectContext(ctx, &n, d.q(`
		SELECT 1 FROM forward_deliveries o JOIN forwards f ON f.id = o.forward_id
		WHERE NOT f.paused AND `+due("o", "?")+`
		LIMIT 1`), now, now)
	if err != nil {
		return false, fmt.Errorf("storage: forward work due: %w", err)
	}
	return len(n) > 0, nil
}

// RequeueAbandonedForwards hands every message under lease back to the
// queue, due now, as RequeueAbandoned does for deliveries: only for a
// database one process owns (SQLite), at start.
func (d *DB) RequeueAbandonedForwards(ctx context.Context) (int, error) {
	defer d.writeLock()()
	n, err := forwardQueue.requeueAbandoned(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("storage: requeue abandoned forwards: %w", err)
	}
	return int(n), nil
}

// ResumeAbandonedForwards is RequeueAbandonedForwards where it is safe,
// at the start of a process: on a database one process owns (SQLite). On
// PostgreSQL other processes may hold those leases, and it does nothing.
func (d *DB) ResumeAbandonedForwards(ctx context.Context) (int, error) {
	if !d.ownedByOne() {
		return 0, nil
	}
	return d.RequeueAbandonedForwards(ctx)
}

// RenewForwardLeases extends to now+lease the leases owner holds on the
// messages ids (those its workers are sending now) and reports how many it
// renewed, as RenewLeases does for deliveries.
func (d *DB) RenewForwardLeases(ctx context.Context, owner string, lease time.Duration, ids []int64) (int, error) {
	defer d.writeLock()()
	n, err := forwardQueue.renew(ctx, d, owner, d.Now().Add(lease), ids)
	if err != nil {
		return 0, fmt.Errorf("storage: renew forward leases: %w", err)
	}
	return int(n), nil
}

// PruneForwardHistory deletes settled messages (and their attempts) created
// before before, and returns how many messages it deleted. Their events are
// long behind every cursor, so nothing is taken again.
func (d *DB) PruneForwardHistory(ctx context.Context, before time.Time) (int, error) {
	defer d.writeLock()()
	res, err := d.db.ExecContext(ctx, d.q(`
		DELETE FROM forward_deliveries WHERE created_at < ? AND status IN ('delivered', 'failed')`), before.UTC())
	if err != nil {
		return 0, fmt.Errorf("storage: prune forward history: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ForwardSettle is how long after its arrival an event may still be
// committed behind a newer one (group commit, clocks of several processes);
// the forwarding cursor stays that far behind. Far longer than a commit
// takes; it only bounds how many events a walk looks at twice.
const ForwardSettle = 2 * time.Minute
