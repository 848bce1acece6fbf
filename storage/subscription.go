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
// was a subscription. Deliveries already queued for the chat are still sent.
func (d *DB) Unsubscribe(ctx context.Context, webhookID, chatID int64) (bool, error) {
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM subscriptions WHERE webhook_id = ? AND chat_id = ?`), webhookID, chatID)
	if err != nil {
		return false, fmt.Errorf("storage: unsubscribe: %w", err)
	}
	n, _ := res.RowsAffected()
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
