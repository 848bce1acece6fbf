package storage

import (
	"context"
	"fmt"
	"time"
)

// Stats are the totals /stats shows an admin.
type Stats struct {
	Users            int   `db:"users"`
	Webhooks         int   `db:"webhooks"`
	Chats            int   `db:"chats"`         // active chats
	Events           int   `db:"events"`        // received since
	Delivered        int   `db:"delivered"`     // deliveries sent since
	FailedEvents     int   `db:"failed_events"` // events received since that failed
	PromptTokens     int64 `db:"prompt_tokens"` // LLM tokens of summaries made since
	CompletionTokens int64 `db:"completion_tokens"`
	Pending          int   `db:"pending"`  // the queue's depth: deliveries queued or in flight
	Retrying         int   `db:"retrying"` // of those, the ones that failed at least once
	Held             int   `db:"held"`     // deliveries held back by /mute
}

// Stats counts what happened since a moment (the last 24 hours for /stats)
// and what the queue holds now.
func (d *DB) Stats(ctx context.Context, since time.Time) (Stats, error) {
	since = since.UTC()
	var s Stats
	err := d.db.GetContext(ctx, &s, d.q(`
		SELECT
			(SELECT COUNT(*) FROM users) AS users,
			(SELECT COUNT(*) FROM webhooks) AS webhooks,
			(SELECT COUNT(*) FROM chats WHERE active) AS chats,
			(SELECT COUNT(*) FROM events WHERE received_at >= ?) AS events,
			(SELECT COUNT(*) FROM deliveries WHERE status = 'delivered' AND delivered_at >= ?) AS delivered,
			(SELECT COUNT(*) FROM events WHERE status = 'failed' AND received_at >= ?) AS failed_events,
			(SELECT COALESCE(SUM(prompt_tokens), 0) FROM summaries WHERE created_at >= ?) AS prompt_tokens,
			(SELECT COALESCE(SUM(completion_tokens), 0) FROM summaries WHERE created_at >= ?) AS completion_tokens,
			(SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing')) AS pending,
			(SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing') AND attempts > 0) AS retrying,
			(SELECT COUNT(*) FROM deliveries WHERE status = 'muted') AS held`),
		since, since, since, since, since)
	if err != nil {
		return Stats{}, fmt.Errorf("storage: stats: %w", err)
	}
	return s, nil
}

// QueueDepth is the queue's depth by state.
type QueueDepth struct {
	Pending int `db:"pending"` // queued or in flight: on their way
	Muted   int `db:"muted"`   // held back by /mute: kept until the chat is unmuted
}

// QueueDepth counts the deliveries not yet settled, by state, in one query
// (each count through its own partial index).
func (d *DB) QueueDepth(ctx context.Context) (QueueDepth, error) {
	var q QueueDepth
	err := d.db.GetContext(ctx, &q, `
		SELECT
			(SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing')) AS pending,
			(SELECT COUNT(*) FROM deliveries WHERE status = 'muted') AS muted`)
	if err != nil {
		return QueueDepth{}, fmt.Errorf("storage: queue depth: %w", err)
	}
	return q, nil
}

// StuckDelivery is a delivery that is taking long: retried, or waiting
// since before a moment.
type StuckDelivery struct {
	EventID       string    `db:"event_id"`
	Webhook       string    `db:"webhook"`
	ChatID        int64     `db:"chat_id"`
	Status        string    `db:"status"`
	Attempts      int       `db:"attempts"`
	Error         string    `db:"error"`
	NextAttemptAt time.Time `db:"next_attempt_at"`
	CreatedAt     time.Time `db:"created_at"`
}

// StuckDeliveries lists, oldest first, pending deliveries that failed at
// least once or were queued before waitingSince.
func (d *DB) StuckDeliveries(ctx context.Context, waitingSince time.Time, limit int) ([]StuckDelivery, error) {
	var out []StuckDelivery
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT dl.event_id, w.name AS webhook, dl.chat_id, dl.status, dl.attempts, dl.error, dl.next_attempt_at, dl.created_at
		FROM deliveries dl JOIN events e ON e.id = dl.event_id JOIN webhooks w ON w.id = e.webhook_id
		WHERE dl.status IN ('queued', 'processing') AND (dl.attempts > 0 OR dl.created_at < ?)
		ORDER BY dl.created_at, dl.id LIMIT ?`), waitingSince.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("storage: stuck deliveries: %w", err)
	}
	return out, nil
}

// FailedEvent is an event whose delivery was given up.
type FailedEvent struct {
	ID         string    `db:"id"`
	Webhook    string    `db:"webhook"`
	Error      string    `db:"error"`
	ReceivedAt time.Time `db:"received_at"`
}

// FailedEvents lists the newest failed events.
func (d *DB) FailedEvents(ctx context.Context, limit int) ([]FailedEvent, error) {
	var out []FailedEvent
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT e.id, w.name AS webhook, e.error, e.received_at
		FROM events e JOIN webhooks w ON w.id = e.webhook_id
		WHERE e.status = 'failed' ORDER BY e.received_at DESC, e.id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("storage: failed events: %w", err)
	}
	return out, nil
}
