package storage

import (
	"context"
	"fmt"
	"time"
)

// Chat is a Telegram chat the bot is in: a private chat, a group or a channel.
type Chat struct {
	ID          int64     `db:"id"`
	Type        string    `db:"type"`
	Title       string    `db:"title"`
	Language    string    `db:"language"`
	LanguageSet bool      `db:"language_set"` // chosen with /language
	Active      bool      `db:"active"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

const chatColumns = `id, type, title, language, language_set, active, created_at, updated_at`

// EnsureChat records a chat the bot heard from and marks it active again. A
// new chat takes c.Language. A private chat follows its user's language
// (c.Language) until someone chooses one with /language; a group keeps the
// language it started with, or the one chosen.
func (d *DB) EnsureChat(ctx context.Context, c Chat) (Chat, error) {
	now := d.Now()
	var out Chat
	err := d.db.GetContext(ctx, &out, d.q(`
		INSERT INTO chats (id, type, title, language, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, TRUE, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			type = excluded.type,
			title = excluded.title,
			language = CASE WHEN chats.language_set OR excluded.type <> 'private' THEN chats.language ELSE excluded.language END,
			active = TRUE,
			updated_at = excluded.updated_at
		RETURNING `+chatColumns),
		c.ID, c.Type, c.Title, c.Language, now, now)
	if err != nil {
		return Chat{}, fmt.Errorf("storage: ensure chat: %w", err)
	}
	return out, nil
}

// ChatByID returns one chat.
func (d *DB) ChatByID(ctx context.Context, id int64) (Chat, error) {
	var c Chat
	err := d.db.GetContext(ctx, &c, d.q(`SELECT `+chatColumns+` FROM chats WHERE id = ?`), id)
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

// SetChatLanguage records a /language choice: from now on the chat's
// notifications and replies are in lang, whatever its members' Telegram
// language.
func (d *DB) SetChatLanguage(ctx context.Context, id int64, lang string) error {
	res, err := d.db.ExecContext(ctx, d.q(`UPDATE chats SET language = ?, language_set = TRUE, updated_at = ? WHERE id = ?`), lang, d.Now(), id)
	if err != nil {
		return fmt.Errorf("storage: set chat language: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("storage: set chat language: %w", ErrNotFound)
	}
	return nil
}
