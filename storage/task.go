package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Task is an action item the agent found in an event delivered to a chat
// (SPEC §10): listed by /tasks until someone presses its Done button.
//
// Tasks are created by CompleteDeliveries, in the transaction that records
// their notification as delivered: a Done button never exists without its
// task (a crash between Telegram's answer and the commit leaves neither a
// recorded delivery nor a task; the delivery is sent again, with its task).
type Task struct {
	ID      int64  `db:"id"`
	ChatID  int64  `db:"chat_id"` // the chat whose /tasks lists it
	EventID string `db:"event_id"`
	// MessageChatID and MessageID are the notification that carries it:
	// MessageChatID stays the chat it was sent to when ChatID follows a
	// group that became a supergroup.
	MessageChatID int64  `db:"message_chat_id"`
	MessageID     int64  `db:"message_id"`
	Title         string `db:"title"`
	Source        string `db:"source"`
	Action        string `db:"action"`
	// MessageHTML is the notification as sent (Telegram HTML), LinkURL and
	// LinkText its URL button: what the message becomes again, with who
	// closed it, once closed. Empty for a task folded into a digest, whose
	// message is not edited.
	MessageHTML  string     `db:"message_html"`
	LinkURL      string     `db:"link_url"`
	LinkText     string     `db:"link_text"`
	CreatedAt    time.Time  `db:"created_at"`
	ClosedBy     *int64     `db:"closed_by"` // a Telegram user id; nil while open
	ClosedByName string     `db:"closed_by_name"`
	ClosedAt     *time.Time `db:"closed_at"`
}

// Open reports whether nobody closed the task yet.
func (t Task) Open() bool { return t.ClosedAt == nil }

const taskColumns = `id, chat_id, event_id, message_chat_id, message_id, title, source, action,
	message_html, link_url, link_text, created_at, closed_by, closed_by_name, closed_at`

// NewTask is a task to create with its event's delivery (CompleteDeliveries).
type NewTask struct {
	EventID     string
	Title       string
	Source      string
	Action      string
	MessageHTML string // empty: the message is not edited when the task is closed
	LinkURL     string
	LinkText    string
}

// insertTask creates a task for a delivery recorded in tx: in chatID, carried
// by message messageID. A chat has one task per event: a second is ignored.
func (d *DB) insertTask(ctx context.Context, tx *sqlx.Tx, chatID, messageID int64, t NewTask) error {
	_, err := tx.ExecContext(ctx, d.q(`
		INSERT INTO tasks (chat_id, event_id, message_chat_id, message_id, title, source, action,
			message_html, link_url, link_text, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (chat_id, event_id) DO NOTHING`),
		chatID, t.EventID, chatID, messageID, t.Title, t.Source, t.Action,
		t.MessageHTML, t.LinkURL, t.LinkText, d.Now())
	if err != nil {
		return fmt.Errorf("insert task: %w", err)
	}
	return nil
}

// OpenTasks returns up to limit of a chat's open tasks, oldest first, and
// how many it has in all.
func (d *DB) OpenTasks(ctx context.Context, chatID int64, limit int) ([]Task, int, error) {
	var total int
	if err := d.db.GetContext(ctx, &total, d.q(`
		SELECT COUNT(*) FROM tasks WHERE chat_id = ? AND closed_at IS NULL`), chatID); err != nil {
		return nil, 0, fmt.Errorf("storage: open tasks: %w", err)
	}
	var out []Task
	if err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT `+taskColumns+` FROM tasks WHERE chat_id = ? AND closed_at IS NULL
		ORDER BY id LIMIT ?`), chatID, limit); err != nil {
		return nil, 0, fmt.Errorf("storage: open tasks: %w", err)
	}
	return out, total, nil
}

// TaskByID returns one task, or ErrNotFound.
func (d *DB) TaskByID(ctx context.Context, id int64) (Task, error) {
	var t Task
	err := d.db.GetContext(ctx, &t, d.q(`SELECT `+taskColumns+` FROM tasks WHERE id = ?`), id)
	if err != nil {
		return Task{}, fmt.Errorf("storage: task by id: %w", notFound(err))
	}
	return t, nil
}

// TaskByMessage returns the task a notification carries (its Done button's),
// or ErrNotFound. A digest's message carries several; the first is returned.
func (d *DB) TaskByMessage(ctx context.Context, chatID, messageID int64) (Task, error) {
	var t Task
	err := d.db.GetContext(ctx, &t, d.q(`
		SELECT `+taskColumns+` FROM tasks WHERE message_chat_id = ? AND message_id = ?
		ORDER BY id LIMIT 1`), chatID, messageID)
	if err != nil {
		return Task{}, fmt.Errorf("storage: task by message: %w", notFound(err))
	}
	return t, nil
}

// CloseTask closes a task for the user userID (shown as name) and returns it
// as it now is. closed is false when someone had closed it already: the
// task then says who and when. ErrNotFound for an unknown task. Of two
// members pressing Done at once, exactly one closes it.
func (d *DB) CloseTask(ctx context.Context, id, userID int64, name string) (t Task, closed bool, err error) {
	err = d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE tasks SET closed_by = ?, closed_by_name = ?, closed_at = ?
			WHERE id = ? AND closed_at IS NULL`), userID, name, d.Now(), id)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		closed = n == 1
		return notFound(tx.GetContext(ctx, &t, d.q(`SELECT `+taskColumns+` FROM tasks WHERE id = ?`), id))
	})
	if err != nil {
		return Task{}, false, fmt.Errorf("storage: close task: %w", err)
	}
	return t, closed, nil
}

// migrateTasks hands a group's tasks to the supergroup it became (in
// MigrateChat's transaction). The messages stay where they were sent.
func (d *DB) migrateTasks(ctx context.Context, tx *sqlx.Tx, from, to int64) error {
	_, err := tx.ExecContext(ctx, d.q(`
		UPDATE tasks SET chat_id = ? WHERE chat_id = ?
			AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.chat_id = ? AND t.event_id = tasks.event_id)`),
		to, from, to)
	if err != nil {
		return fmt.Errorf("migrate tasks: %w", err)
	}
	return nil
}

// EventsOfMessage returns the events a message of the bot in chatID
// carried (one notification's, or a digest's), oldest first, up to limit,
// and how many it carried in all: what a reply to that message is about.
// None when the message is not a notification, or its events are gone.
// (The partial index deliveries_chat_message, migration 00008, serves it.)
func (d *DB) EventsOfMessage(ctx context.Context, chatID, messageID int64, limit int) ([]QueuedEvent, int, error) {
	var total int
	if err := d.db.GetContext(ctx, &total, d.q(`
		SELECT COUNT(*) FROM deliveries WHERE chat_id = ? AND message_id = ? AND message_id <> 0 AND status = ?`),
		chatID, messageID, StatusDelivered); err != nil {
		return nil, 0, fmt.Errorf("storage: events of message: %w", err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	var out []QueuedEvent
	if err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT e.id, e.webhook_id, e.content_type, e.headers, e.body, e.received_at, w.name AS webhook_name
		FROM deliveries dl JOIN events e ON e.id = dl.event_id JOIN webhooks w ON w.id = e.webhook_id
		WHERE dl.chat_id = ? AND dl.message_id = ? AND dl.message_id <> 0 AND dl.status = ?
		ORDER BY dl.id LIMIT ?`), chatID, messageID, StatusDelivered, limit); err != nil {
		return nil, 0, fmt.Errorf("storage: events of message: %w", err)
	}
	return out, total, nil
}
