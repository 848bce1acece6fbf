package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Subscribe delivers a webhook's events to a chat from now on. It reports
// whether the subscription is new.
func (d *DB) Subscribe(ctx context.Context, webhookID, chatID, by int64) (bool, error) {
	var created bool
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, d.q(`SELECT COUNT(*) FROM subscriptions WHERE webhook_id = ? AND chat_id = ?`), webhookID, chatID); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		created = true
		return d.subscribe(ctx, tx, webhookID, chatID, by, d.Now())
	})
	if err != nil {
		return false, fmt.Errorf("storage: subscribe: %w", err)
	}
	return created, nil
}

func (d *DB) subscribe(ctx context.Context, tx *sqlx.Tx, webhookID, chatID, by int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, d.q(`
		INSERT INTO subscriptions (webhook_id, chat_id, created_by, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (webhook_id, chat_id) DO NOTHING`), webhookID, chatID, by, now)
	return err
}

// Unsubscribe stops delivering a webhook to a chat. It reports whether there
// was a subscription. Deliveries already queued for the chat are still sent,
// and so are those a mute was holding back: nothing accepted is lost.
func (d *DB) Unsubscribe(ctx context.Context, webhookID, chatID int64) (bool, error) {
	var n int64
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`DELETE FROM subscriptions WHERE webhook_id = ? AND chat_id = ?`), webhookID, chatID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = d.releaseHeld(ctx, tx, webhookID, chatID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("storage: unsubscribe: %w", err)
	}
	return n > 0, nil
}

// SubscribedChats lists the chats a webhook is delivered to.
func (d *DB) SubscribedChats(ctx context.Context, webhookID int64) ([]int64, error) {
	var ids []int64
	err := d.db.SelectContext(ctx, &ids, d.q(`SELECT chat_id FROM subscriptions WHERE webhook_id = ? ORDER BY chat_id`), webhookID)
	if err != nil {
		return nil, fmt.Errorf("storage: subscribed chats: %w", err)
	}
	return ids, nil
}

// StatusMuted is the status of a delivery held back because its chat muted
// the webhook (/mute). It is not pending in the queue's sense: it is not
// claimed and does not hold back the chat's other deliveries, but it keeps
// its event from settling. Unmuting queues it.
const StatusMuted = "muted"

// ChatSubscription is a webhook delivered to a chat, as /unsubscribe, /mute
// and /unmute see it.
type ChatSubscription struct {
	WebhookID  int64      `db:"webhook_id"`
	Name       string     `db:"name"`
	OwnerID    int64      `db:"owner_id"`
	Muted      bool       `db:"muted"`       // muted now (an expired mute reads false)
	MutedUntil *time.Time `db:"muted_until"` // nil while muted: until /unmute
	Held       int        `db:"held"`        // deliveries the mute holds back
}

// ChatSubscriptions lists the webhooks delivered to a chat, by name.
func (d *DB) ChatSubscriptions(ctx context.Context, chatID int64) ([]ChatSubscription, error) {
	var out []ChatSubscription
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT s.webhook_id, w.name, w.owner_id, s.muted, s.muted_until,
			(SELECT COUNT(*) FROM deliveries dl JOIN events e ON e.id = dl.event_id
				WHERE dl.chat_id = s.chat_id AND dl.status = 'muted' AND e.webhook_id = s.webhook_id) AS held
		FROM subscriptions s JOIN webhooks w ON w.id = s.webhook_id
		WHERE s.chat_id = ? ORDER BY w.name, w.owner_id`), chatID)
	if err != nil {
		return nil, fmt.Errorf("storage: chat subscriptions: %w", err)
	}
	now := d.Now()
	for i, s := range out {
		if s.Muted && s.MutedUntil != nil && !s.MutedUntil.After(now) {
			out[i].Muted, out[i].MutedUntil = false, nil
		}
	}
	return out, nil
}

// Mute holds back a webhook's deliveries to a chat until until, or until
// Unmute when until is nil. Events keep arriving and are kept. ErrNotFound
// when the chat is not subscribed.
func (d *DB) Mute(ctx context.Context, webhookID, chatID int64, until *time.Time) error {
	if until != nil {
		u := until.UTC()
		until = &u
	}
	res, err := d.db.ExecContext(ctx, d.q(`
		UPDATE subscriptions SET muted = TRUE, muted_until = ? WHERE webhook_id = ? AND chat_id = ?`), until, webhookID, chatID)
	if err != nil {
		return fmt.Errorf("storage: mute: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: mute: %w", ErrNotFound)
	}
	return nil
}

// Unmute ends a mute and queues the deliveries it held back, in their
// original order; it returns how many. ErrNotFound when the chat is not
// subscribed.
func (d *DB) Unmute(ctx context.Context, webhookID, chatID int64) (int, error) {
	var released int64
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE subscriptions SET muted = FALSE, muted_until = NULL WHERE webhook_id = ? AND chat_id = ?`), webhookID, chatID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		released, err = d.releaseHeld(ctx, tx, webhookID, chatID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: unmute: %w", err)
	}
	return int(released), nil
}

// releaseHeld queues the deliveries a mute held for one webhook and chat.
// Their age restarts: the relay's retry window (SPEC §8, 24 h) counts from
// when a delivery could first be attempted, not from when it was held.
func (d *DB) releaseHeld(ctx context.Context, tx *sqlx.Tx, webhookID, chatID int64) (int64, error) {
	now := d.Now()
	res, err := tx.ExecContext(ctx, d.q(`
		UPDATE deliveries SET status = ?, next_attempt_at = ?, created_at = ?
		WHERE status = ? AND chat_id = ? AND event_id IN (SELECT id FROM events WHERE webhook_id = ?)`),
		StatusQueued, now, now, StatusMuted, chatID, webhookID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ReleaseMutes ends the mutes whose time is up and queues every held
// delivery whose subscription is no longer muted (including one an event
// inserted while a concurrent /unmute committed). It returns how many
// deliveries it queued; call it periodically.
func (d *DB) ReleaseMutes(ctx context.Context) (int, error) {
	now := d.Now()
	var released int64
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, d.q(`
			UPDATE subscriptions SET muted = FALSE, muted_until = NULL
			WHERE muted AND muted_until IS NOT NULL AND muted_until <= ?`), now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE deliveries SET status = ?, next_attempt_at = ?, created_at = ?
			WHERE status = ? AND NOT EXISTS (
				SELECT 1 FROM events e JOIN subscriptions s ON s.webhook_id = e.webhook_id
				WHERE e.id = deliveries.event_id AND s.chat_id = deliveries.chat_id AND s.muted)`),
			StatusQueued, now, now, StatusMuted)
		if err != nil {
			return err
		}
		released, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: release mutes: %w", err)
	}
	return int(released), nil
}
