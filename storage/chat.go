package storage

import (
	"context"
	"fmt"
	"time"
)

// Chat is a Telegram chat the bot is in: a private chat, a group or a channel.
type Chat struct {
	ID        int64     `db:"id"`
	Type      string    `db:"type"`
	Title     string    `db:"title"`
	Language  string    `db:"language"`
	Active    bool      `db:"active"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// EnsureChat records a chat the bot heard from. A new chat takes c.Language;
// an existing one keeps the language it has (a /language choice outlives
// the language_code of whoever writes next) and becomes active again.
func (d *DB) EnsureChat(ctx context.Context, c Chat) (Chat, error) {
	now := d.Now()
	var out Chat
	err := d.db.GetContext(ctx, &out, d.q(`
		INSERT INTO chats (id, type, title, language, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, TRUE, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			type = excluded.type,
			title = excluded.title,
			active = TRUE,
			updated_at = excluded.updated_at
		RETURNING id, type, title, language, active, created_at, updated_at`),
		c.ID, c.Type, c.Title, c.Language, now, now)
	if err != nil {
		return Chat{}, fmt.Errorf("storage: ensure chat: %w", err)
	}
	return out, nil
}

// ChatByID returns one chat.
func (d *DB) ChatByID(ctx context.Context, id int64) (Chat, error) {
	var c Chat
	err := d.db.GetContext(ctx, &c, d.q(`
		SELECT id, type, title, language, active, created_at, updated_at FROM chats WHERE id = ?`), id)
	if err != nil {
		return Chat{}, fmt.Errorf("storage: chat by id: %w", notFound(err))
	}
	return c, nil
}

// SetChatActive marks a chat reachable or not (the bot blocked, kicked or
// back). Deliveries are only queued for active chats.
func (d *DB) SetChatActive(ctx context.Context, id int64, active bool) error {
	_, err := d.db.ExecContext(ctx, d.q(`UPDATE chats SET active = ?, updated_at = ? WHERE id = ?`), active, d.Now(), id)
	if err != nil {
		return fmt.Errorf("storage: set chat active: %w", err)
	}
	return nil
}
