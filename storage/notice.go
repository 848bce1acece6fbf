package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Notice is a message Herald owes someone about their webhooks, queued in
// the transaction that found out (so a crash cannot swallow it) and sent by
// the relay with a lease, like a delivery.
type Notice struct {
	ID         int64     `db:"id"`
	ChatID     int64     `db:"chat_id"` // the recipient
	Kind       string    `db:"kind"`
	Data       string    `db:"data"` // JSON; for NoticeChatGone a ChatGone
	Attempts   int       `db:"attempts"`
	LeaseOwner string    `db:"lease_owner"`
	CreatedAt  time.Time `db:"created_at"`
}

// NoticeChatGone tells a webhook's owner that a chat stopped receiving it.
const NoticeChatGone = "chat_gone"

// ChatGone is the data of a NoticeChatGone.
type ChatGone struct {
	ChatID   int64    `json:"chat_id"`
	ChatType string   `json:"chat_type"`
	Title    string   `json:"title"`    // the group's title, or the person's name for a private chat
	Webhooks []string `json:"webhooks"` // the owner's webhooks that stopped there, by name
	Reason   string   `json:"reason"`   // blocked, kicked, not_found, deactivated, or other
}

const noticeColumns = `id, chat_id, kind, data, attempts, lease_owner, created_at`

// queueChatGoneNotices queues one notice per owner of a webhook delivered to
// chatID, for owners Herald can write to (a private chat with the bot that
// is active, and not the chat that is gone).
func (d *DB) queueChatGoneNotices(ctx context.Context, tx *sqlx.Tx, chatID int64, reason string) (int, error) {
	var chat struct {
		Type  string `db:"type"`
		Title string `db:"title"`
		Name  string `db:"name"`
	}
	if err := tx.GetContext(ctx, &chat, d.q(`
		SELECT c.type, c.title, COALESCE((SELECT CASE WHEN u.first_name <> '' THEN u.first_name ELSE u.username END
			FROM users u WHERE u.id = c.id), '') AS name
		FROM chats c WHERE c.id = ?`), chatID); err != nil {
		return 0, notFound(err)
	}
	var rows []struct {
		OwnerID int64  `db:"owner_id"`
		Name    string `db:"name"`
	}
	if err := tx.SelectContext(ctx, &rows, d.q(`
		SELECT w.owner_id, w.name FROM subscriptions s
		JOIN webhooks w ON w.id = s.webhook_id
		JOIN chats oc ON oc.id = w.owner_id AND oc.active
		WHERE s.chat_id = ? AND w.owner_id <> ?
		ORDER BY w.owner_id, w.name`), chatID, chatID); err != nil {
		return 0, err
	}
	title := chat.Title
	if title == "" {
		title = chat.Name
	}
	now := d.Now()
	n := 0
	for i := 0; i < len(rows); {
		owner := rows[i].OwnerID
		gone := ChatGone{ChatID: chatID, ChatType: chat.Type, Title: title, Reason: reason}
		for ; i < len(rows) && rows[i].OwnerID == owner; i++ {
			gone.Webhooks = append(gone.Webhooks, rows[i].Name)
		}
		data, err := json.Marshal(gone)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO notices (chat_id, kind, data, status, attempts, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, 0, ?, ?)`), owner, NoticeChatGone, string(data), StatusQueued, now, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// noticeQueue is the notices table as a lease queue (lease.go).
var noticeQueue = leaseQueue{table: "notices", alias: "n", columns: noticeColumns, renewBy: "id"}

func (n Notice) fence() fence { return fence{n.ID, n.LeaseOwner, n.Attempts} }

// claimNotices takes due notices, oldest due first, skipping chats whose
// pacing time has not come.
var claimNotices = noticeQueue.claims(claim{where: due("n", "$3") + ` AND ` + notPaced("n"), order: "n.next_attempt_at, n.id"})

// ClaimNotices leases up to limit due notices to owner, skipping chats whose
// pacing time has not come.
func (d *DB) ClaimNotices(ctx context.Context, owner string, lease time.Duration, limit int) ([]Notice, error) {
	out, err := claimLeasesNow[Notice](ctx, d, claimNotices, owner, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: claim notices: %w", err)
	}
	return out, nil
}

// FinishNotice records a notice's outcome: sent (status delivered, the
// recipient's chat paced until nextAt), failed for good, or queued again at
// retryAt. It is fenced like deliveries: ErrLeaseLost when the lease is gone.
func (d *DB) FinishNotice(ctx context.Context, n Notice, status string, retryAt, nextAt time.Time, reason string) error {
	now := d.Now()
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var o outcome
		switch status {
		case StatusDelivered:
			o = outcome{`status = 'delivered', sent_at = ?, error = ''`, []any{now}}
		case StatusQueued:
			o = retried(retryAt, reason, true)
		default:
			o = failedWith(reason)
		}
		if err := lost(noticeQueue.end(ctx, d, tx, n.fence(), o)); err != nil {
			return err
		}
		if !nextAt.IsZero() {
			return d.paceChat(ctx, tx, n.ChatID, nextAt)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: finish notice: %w", err)
	}
	return nil
}

// NoticesFor lists the notices queued for a chat, oldest first, for tests
// and the admin's view.
func (d *DB) NoticesFor(ctx context.Context, chatID int64) ([]Notice, error) {
	var out []Notice
	err := d.db.SelectContext(ctx, &out, d.q(`SELECT `+noticeColumns+` FROM notices WHERE chat_id = ? ORDER BY id`), chatID)
	if err != nil {
		return nil, fmt.Errorf("storage: notices for: %w", err)
	}
	return out, nil
}
