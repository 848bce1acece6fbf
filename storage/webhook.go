package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Webhook is a URL a user created. Only the SHA-256 of its token is stored.
type Webhook struct {
	ID        int64     `db:"id"`
	OwnerID   int64     `db:"owner_id"`
	Name      string    `db:"name"`
	TokenHash []byte    `db:"token_hash"`
	Secret    string    `db:"secret"` // signing secret (SPEC §5); empty: requests need no signature
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

const webhookColumns = `w.id, w.owner_id, w.name, w.token_hash, w.secret, w.created_at, w.updated_at`

// ErrQuota is returned when a user already has as many webhooks as allowed.
var ErrQuota = errors.New("storage: quota reached")

// CreateWebhook creates a webhook and subscribes chatID to it, atomically.
// ErrDuplicate when the owner already has one by that name.
func (d *DB) CreateWebhook(ctx context.Context, ownerID int64, name string, tokenHash []byte, chatID int64) (Webhook, error) {
	return d.CreateWebhookLimited(ctx, ownerID, name, tokenHash, chatID, 0)
}

// CreateWebhookLimited is CreateWebhook for an owner allowed at most max
// webhooks (0: no limit); ErrQuota when they have that many already.
func (d *DB) CreateWebhookLimited(ctx context.Context, ownerID int64, name string, tokenHash []byte, chatID int64, max int) (Webhook, error) {
	now := d.Now()
	var w Webhook
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if max > 0 {
			var n int
			if err := tx.GetContext(ctx, &n, d.q(`SELECT COUNT(*) FROM webhooks WHERE owner_id = ?`), ownerID); err != nil {
				return err
			}
			if n >= max {
				return ErrQuota
			}
		}
		err := tx.GetContext(ctx, &w, d.q(`
			INSERT INTO webhooks (owner_id, name, token_hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)
			RETURNING id, owner_id, name, token_hash, secret, created_at, updated_at`), ownerID, name, tokenHash, now, now)
		if err != nil {
			return err
		}
		return d.subscribe(ctx, tx, w.ID, chatID, ownerID, now)
	})
	if isUniqueViolation(err) {
		return Webhook{}, fmt.Errorf("storage: create webhook: %w", ErrDuplicate)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("storage: create webhook: %w", err)
	}
	return w, nil
}

// WebhookByTokenHash finds the webhook a request is for. A webhook whose
// owner is banned is not found: its URL answers like an unknown one.
func (d *DB) WebhookByTokenHash(ctx context.Context, hash []byte) (Webhook, error) {
	var w Webhook
	err := d.db.GetContext(ctx, &w, d.q(`
		SELECT `+webhookColumns+` FROM webhooks w JOIN users u ON u.id = w.owner_id
		WHERE w.token_hash = ? AND NOT u.banned`), hash)
	if err != nil {
		return Webhook{}, fmt.Errorf("storage: webhook by token: %w", notFound(err))
	}
	return w, nil
}

// WebhookByName finds one of a user's webhooks.
func (d *DB) WebhookByName(ctx context.Context, ownerID int64, name string) (Webhook, error) {
	var w Webhook
	err := d.db.GetContext(ctx, &w, d.q(`
		SELECT `+webhookColumns+` FROM webhooks w WHERE w.owner_id = ? AND w.name = ?`), ownerID, name)
	if err != nil {
		return Webhook{}, fmt.Errorf("storage: webhook by name: %w", notFound(err))
	}
	return w, nil
}

// WebhookInfo is a webhook with what /tokens shows about it.
type WebhookInfo struct {
	Webhook
	Chats       int        `db:"chats"`
	LastEventAt *time.Time `db:"-"`
}

// WebhooksByOwner lists a user's webhooks by name, with their subscriber
// counts and the time of their newest event.
func (d *DB) WebhooksByOwner(ctx context.Context, ownerID int64) ([]WebhookInfo, error) {
	var out []WebhookInfo
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT `+webhookColumns+`,
			(SELECT COUNT(*) FROM subscriptions s WHERE s.webhook_id = w.id) AS chats
		FROM webhooks w WHERE w.owner_id = ? ORDER BY w.name`), ownerID)
	if err != nil {
		return nil, fmt.Errorf("storage: webhooks by owner: %w", err)
	}
	for i := range out {
		// One indexed lookup per webhook; a user has a handful.
		var ts []time.Time
		err := d.db.SelectContext(ctx, &ts, d.q(`
			SELECT received_at FROM events WHERE webhook_id = ? ORDER BY received_at DESC LIMIT 1`), out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("storage: webhooks by owner: last event: %w", err)
		}
		if len(ts) == 1 {
			out[i].LastEventAt = &ts[0]
		}
	}
	return out, nil
}

// RegenerateToken replaces a webhook's token hash: the old URL stops
// matching the moment this commits.
func (d *DB) RegenerateToken(ctx context.Context, webhookID int64, tokenHash []byte) error {
	res, err := d.db.ExecContext(ctx, d.q(`UPDATE webhooks SET token_hash = ?, updated_at = ? WHERE id = ?`),
		tokenHash, d.Now(), webhookID)
	if err != nil {
		return fmt.Errorf("storage: regenerate token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: regenerate token: %w", ErrNotFound)
	}
	return nil
}

// DeleteWebhook deletes a webhook with its subscriptions, events and
// deliveries.
func (d *DB) DeleteWebhook(ctx context.Context, webhookID int64) error {
	res, err := d.db.ExecContext(ctx, d.q(`DELETE FROM webhooks WHERE id = ?`), webhookID)
	if err != nil {
		return fmt.Errorf("storage: delete webhook: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: delete webhook: %w", ErrNotFound)
	}
	return nil
}

// SetWebhookSecret sets or (with "") clears a webhook's signing secret.
func (d *DB) SetWebhookSecret(ctx context.Context, webhookID int64, secret string) error {
	res, err := d.db.ExecContext(ctx, d.q(`UPDATE webhooks SET secret = ?, updated_at = ? WHERE id = ?`), secret, d.Now(), webhookID)
	if err != nil {
		return fmt.Errorf("storage: set webhook secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: set webhook secret: %w", ErrNotFound)
	}
	return nil
}
