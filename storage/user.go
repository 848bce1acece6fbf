package storage

import (
	"context"
	"fmt"
	"time"
)

// User is a Telegram user who talked to the bot.
type User struct {
	ID           int64     `db:"id"`
	Username     string    `db:"username"`
	FirstName    string    `db:"first_name"`
	LanguageCode string    `db:"language_code"`
	Started      bool      `db:"started"`
	Banned       bool      `db:"banned"`
	Granted      bool      `db:"granted"` // admitted by a /grant link (ACCESS_MODE=invite)
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

// UpsertUser records a user as Telegram describes them now. started is only
// ever raised (a user who opened a private chat with the bot stays started).
func (d *DB) UpsertUser(ctx context.Context, u User) error {
	now := d.Now()
	_, err := d.db.ExecContext(ctx, d.q(`
		INSERT INTO users (id, username, first_name, language_code, started, banned, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, FALSE, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			username = excluded.username,
			first_name = excluded.first_name,
			language_code = excluded.language_code,
			started = users.started OR excluded.started,
			updated_at = excluded.updated_at`),
		u.ID, u.Username, u.FirstName, u.LanguageCode, u.Started, now, now)
	if err != nil {
		return fmt.Errorf("storage: upsert user: %w", err)
	}
	return nil
}

// UserByID returns one user.
func (d *DB) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := d.db.GetContext(ctx, &u, d.q(`
		SELECT id, username, first_name, language_code, started, banned, granted, created_at, updated_at
		FROM users WHERE id = ?`), id)
	if err != nil {
		return User{}, fmt.Errorf("storage: user by id: %w", notFound(err))
	}
	return u, nil
}

// SetBanned bans or unbans a user; a banned user's webhooks answer 404.
func (d *DB) SetBanned(ctx context.Context, id int64, banned bool) error {
	_, err := d.db.ExecContext(ctx, d.q(`UPDATE users SET banned = ?, updated_at = ? WHERE id = ?`), banned, d.Now(), id)
	if err != nil {
		return fmt.Errorf("storage: set banned: %w", err)
	}
	return nil
}

// EnsureUser makes sure a user row exists for id (an admin may ban someone
// who never talked to the bot) and reports whether it existed.
func (d *DB) EnsureUser(ctx context.Context, id int64) (bool, error) {
	now := d.Now()
	res, err := d.db.ExecContext(ctx, d.q(`
		INSERT INTO users (id, created_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO NOTHING`), id, now, now)
	if err != nil {
		return false, fmt.Errorf("storage: ensure user: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 0, nil
}
