package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Event statuses, shared by events and deliveries (SPEC §3).
const (
	StatusQueued     = "queued"
	StatusProcessing = "processing"
	StatusDelivered  = "delivered"
	StatusFailed     = "failed"
)

// Event is one accepted webhook request.
type Event struct {
	ID          string     `db:"id"`
	WebhookID   int64      `db:"webhook_id"`
	ContentType string     `db:"content_type"`
	Headers     string     `db:"headers"` // JSON object of the kept headers
	Body        []byte     `db:"body"`
	Status      string     `db:"status"`
	Error       string     `db:"error"`
	ReceivedAt  time.Time  `db:"received_at"`
	DeliveredAt *time.Time `db:"delivered_at"`
	Attempts    int        `db:"attempts"` // the most any of its deliveries took
}

// eventColumns reads an event as e, with attempts derived from its
// deliveries, and a queued event reading as processing once a delivery of
// it was claimed (so claiming writes nothing but the deliveries).
const eventColumns = `e.id, e.webhook_id, e.content_type, e.headers, e.body,
	CASE WHEN e.status = 'queued' AND EXISTS (SELECT 1 FROM deliveries p WHERE p.event_id = e.id
		AND (p.status = 'processing' OR p.attempts > 0)) THEN 'processing' ELSE e.status END AS status,
	e.error, e.received_at, e.delivered_at,
	COALESCE((SELECT MAX(d.attempts) FROM deliveries d WHERE d.event_id = e.id), 0) AS attempts`

// InsertEvent stores an event and queues one delivery per subscribed,
// reachable chat, in one transaction: when it returns nil the event is
// durable. It fills e.ID (a UUIDv7, time-ordered), e.ReceivedAt and e.Status
// and returns the number of deliveries queued. An event with nobody to
// deliver to is delivered at once.
func (d *DB) InsertEvent(ctx context.Context, e *Event) (int, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return 0, fmt.Errorf("storage: insert event: id: %w", err)
	}
	now := d.Now()
	e.ID, e.ReceivedAt, e.Status, e.Error, e.DeliveredAt = id.String(), now, StatusQueued, "", nil
	var n int64
	err = d.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO events (id, webhook_id, content_type, headers, body, status, error, received_at)
			VALUES (?, ?, ?, ?, ?, ?, '', ?)`),
			e.ID, e.WebhookID, e.ContentType, e.Headers, e.Body, StatusQueued, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO deliveries (event_id, chat_id, status, attempts, next_attempt_at, created_at)
			SELECT ?, s.chat_id, ?, 0, ?, ?
			FROM subscriptions s JOIN chats c ON c.id = s.chat_id
			WHERE s.webhook_id = ? AND c.active
			ORDER BY s.chat_id`),
			e.ID, StatusQueued, now, now, e.WebhookID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 {
			e.Status, e.DeliveredAt = StatusDelivered, &now
			_, err = tx.ExecContext(ctx, d.q(`UPDATE events SET status = ?, delivered_at = ? WHERE id = ?`), StatusDelivered, now, e.ID)
		}
		return err
	})
	if isForeignKeyViolation(err) {
		// The webhook was deleted between its lookup and this insert.
		return 0, fmt.Errorf("storage: insert event: %w", ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: insert event: %w", err)
	}
	return int(n), nil
}

// EventByID returns an event of a webhook; another webhook's event is not found.
func (d *DB) EventByID(ctx context.Context, webhookID int64, id string) (Event, error) {
	var e Event
	err := d.db.GetContext(ctx, &e, d.q(`SELECT `+eventColumns+` FROM events e WHERE e.id = ? AND e.webhook_id = ?`), id, webhookID)
	if err != nil {
		return Event{}, fmt.Errorf("storage: event by id: %w", notFound(err))
	}
	return e, nil
}

// EventsByWebhook returns a webhook's newest events, newest first.
func (d *DB) EventsByWebhook(ctx context.Context, webhookID int64, limit int) ([]Event, error) {
	var out []Event
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT `+eventColumns+` FROM events e WHERE e.webhook_id = ?
		ORDER BY e.received_at DESC, e.id DESC LIMIT ?`), webhookID, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: events by webhook: %w", err)
	}
	return out, nil
}

// QueuedEvent is what the relay needs to summarize an event.
type QueuedEvent struct {
	Event
	WebhookName string `db:"webhook_name"`
}

// EventForDelivery returns an event with its webhook's name.
func (d *DB) EventForDelivery(ctx context.Context, id string) (QueuedEvent, error) {
	var e QueuedEvent
	err := d.db.GetContext(ctx, &e, d.q(`
		SELECT `+eventColumns+`, w.name AS webhook_name
		FROM events e JOIN webhooks w ON w.id = e.webhook_id WHERE e.id = ?`), id)
	if err != nil {
		return QueuedEvent{}, fmt.Errorf("storage: event for delivery: %w", notFound(err))
	}
	return e, nil
}
