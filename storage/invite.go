package storage

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Invite links (/invite, SPEC §4): whoever opens one subscribes their own
// private chat to a webhook, read-only — a subscription, not a share of
// the webhook: commands that change or read a webhook's configuration
// stay its owner's. A webhook has at most one live link (the invites row;
// see migration 00007 for what ends it). Only the SHA-256 of a code is
// stored (HashToken).

// Invite is the webhook a live invite link is for, as its follower sees it.
type Invite struct {
	WebhookID   int64  `db:"webhook_id"`
	WebhookName string `db:"name"`
	OwnerID     int64  `db:"owner_id"`
	OwnerName   string `db:"first_name"` // the owner's Telegram first name
}

// CreateInvite makes codeHash the webhook's invite link, replacing the one
// it had (whose link stops working; who joined with it stays subscribed).
// The link lives while the webhook keeps its token: /regenerate ends it.
// ErrNotFound when the webhook does not exist.
func (d *DB) CreateInvite(ctx context.Context, webhookID int64, codeHash []byte, by int64) error {
	res, err := d.db.ExecContext(ctx, d.q(`
		INSERT INTO invites (webhook_id, code_hash, token_hash, created_by, created_at)
		SELECT w.id, ?, w.token_hash, ?, ? FROM webhooks w WHERE w.id = ?
		ON CONFLICT (webhook_id) DO UPDATE SET code_hash = excluded.code_hash, token_hash = excluded.token_hash,
			created_by = excluded.created_by, created_at = excluded.created_at`),
		codeHash, by, d.Now(), webhookID)
	if err != nil {
		return fmt.Errorf("storage: create invite: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: create invite: %w", ErrNotFound)
	}
	return nil
}

// EndInvite deletes a webhook's invite link and unsubscribes every chat
// that joined with an invite link, in one transaction. It reports whether
// there was a live link and how many chats it unsubscribed. As with
// Unsubscribe, what a mute held for those chats is still delivered.
func (d *DB) EndInvite(ctx context.Context, webhookID int64) (hadLink bool, removed int, err error) {
	err = d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`
			DELETE FROM invites WHERE webhook_id = ?
			AND token_hash = (SELECT token_hash FROM webhooks WHERE id = ?)`), webhookID, webhookID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		hadLink = n > 0
		// A link ended by /regenerate leaves its row behind.
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM invites WHERE webhook_id = ?`), webhookID); err != nil {
			return err
		}
		var chats []int64
		if err := tx.SelectContext(ctx, &chats, d.q(`
			DELETE FROM subscriptions WHERE webhook_id = ? AND invited RETURNING chat_id`), webhookID); err != nil {
			return err
		}
		for _, c := range chats {
			if _, err := d.releaseHeld(ctx, tx, webhookID, c); err != nil {
				return err
			}
		}
		removed = len(chats)
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("storage: end invite: %w", err)
	}
	return hadLink, removed, nil
}

// JoinInvite subscribes chatID, the private chat of userID, to the webhook
// whose live invite link has codeHash. created is false when the chat was
// subscribed already. ErrNotFound when no live link has that code: never
// made, replaced by a newer one, turned off, ended by /regenerate, its
// webhook revoked or its owner banned.
func (d *DB) JoinInvite(ctx context.Context, codeHash []byte, chatID, userID int64) (inv Invite, created bool, err error) {
	err = d.inTx(ctx, func(tx *sqlx.Tx) error {
		query := `
			SELECT i.webhook_id, w.name, w.owner_id, u.first_name
			FROM invites i JOIN webhooks w ON w.id = i.webhook_id AND w.token_hash = i.token_hash
			JOIN users u ON u.id = w.owner_id
			WHERE i.code_hash = ? AND NOT u.banned`
		if d.dialect == Postgres {
			// An EndInvite waits for this join, then removes it too.
			query += ` FOR SHARE OF i`
		}
		if err := tx.GetContext(ctx, &inv, d.q(query), codeHash); err != nil {
			return notFound(err)
		}
		res, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO subscriptions (webhook_id, chat_id, created_by, created_at, invited) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (webhook_id, chat_id) DO NOTHING`), inv.WebhookID, chatID, userID, d.Now(), userID != inv.OwnerID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n > 0
		return nil
	})
	if isForeignKeyViolation(err) {
		err = ErrNotFound // the webhook was revoked meanwhile
	}
	if err != nil {
		return Invite{}, false, fmt.Errorf("storage: join invite: %w", err)
	}
	return inv, created, nil
}

// InviteState is what /tokens shows of a webhook's invite link.
type InviteState struct {
	Link    bool // a live link exists
	Invited int  // chats subscribed with an invite link
}

// InviteStates returns the invite state of each of a user's webhooks that
// has a live link or invited subscribers, by webhook id.
func (d *DB) InviteStates(ctx context.Context, ownerID int64) (map[int64]InviteState, error) {
	var rows []struct {
		WebhookID int64 `db:"id"`
		Link      bool  `db:"link"`
		Invited   int   `db:"invited"`
	}
	err := d.db.SelectContext(ctx, &rows, d.q(`
		SELECT w.id,
			EXISTS (SELECT 1 FROM invites i WHERE i.webhook_id = w.id AND i.token_hash = w.token_hash) AS link,
			(SELECT COUNT(*) FROM subscriptions s WHERE s.webhook_id = w.id AND s.invited) AS invited
		FROM webhooks w WHERE w.owner_id = ?`), ownerID)
	if err != nil {
		return nil, fmt.Errorf("storage: invite states: %w", err)
	}
	out := make(map[int64]InviteState, len(rows))
	for _, r := range rows {
		if r.Link || r.Invited > 0 {
			out[r.WebhookID] = InviteState{Link: r.Link, Invited: r.Invited}
		}
	}
	return out, nil
}
