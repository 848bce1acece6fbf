package storage

import (
	"context"
	"fmt"
	"time"
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
	// QueuedTo is the chats InsertEvent queued the event for, muted ones
	// left out (they hold it): what the workers' doorbell names. Not
	// stored; the deliveries are.
	QueuedTo []int64 `db:"-"`
}

// eventColumns reads an event as e, with attempts derived from its
// deliveries, and a queued event reading as processing once a delivery of
// it was claimed (so claiming writes nothing but the deliveries).
const eventColumns = `e.id, e.webhook_id, e.content_type, e.headers, e.body,
	CASE WHEN e.status = 'queued' AND EXISTS (SELECT 1 FROM deliveries p WHERE p.event_id = e.id
		AND (p.status = 'processing' OR p.attempts > 0)) THEN 'processing' ELSE e.status END AS status,
	e.error, e.received_at, e.delivered_at,
	COALESCE((SELECT MAX(d.attempts) FROM deliveries d WHERE d.event_id = e.id), 0) AS attempts`

// InsertEvent is in ingest.go: group commit and deduplication. The
// deliveries an event gets are decided there, in queueDeliveries.

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
