package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Telegram's flood limits are kept in the database so that they hold for the
// bot as a whole, however many herald processes share it (SPEC §8).
//
// The per-chat limits need no lock of their own: a chat's deliveries go out
// one at a time (the claim takes only a chat's oldest), so whoever finishes
// one writes the chat's next allowed time into chat_pacing, in the same
// transaction, and the claim skips the chat until then.
//
// The bot-wide limit is a generic cell rate algorithm on one row of
// send_rates: a sender reserves the next free slot by moving the row's
// theoretical arrival time on by one interval, and waits for its slot.

// ReserveSend reserves the next slot of the bot-wide rate name, one slot
// per interval, and returns its time: the caller may send then, not
// before. Concurrent callers, in any process, get distinct slots at least
// interval apart.
func (d *DB) ReserveSend(ctx context.Context, name string, interval time.Duration) (time.Time, error) {
	now := d.Now()
	var slot time.Time
	if d.dialect == Postgres {
		// One statement: the row lock is held only for the update.
		var tat time.Time
		err := d.db.GetContext(ctx, &tat, `
			INSERT INTO send_rates (name, tat) VALUES ($1, $2::timestamptz + $3 * interval '1 microsecond')
			ON CONFLICT (name) DO UPDATE SET tat = GREATEST(send_rates.tat, $2::timestamptz) + $3 * interval '1 microsecond'
			RETURNING tat`, name, now, interval.Microseconds())
		if err != nil {
			return time.Time{}, fmt.Errorf("storage: reserve send: %w", err)
		}
		return tat.UTC().Add(-interval), nil
	}
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var tats []time.Time
		if err := tx.SelectContext(ctx, &tats, `SELECT tat FROM send_rates WHERE name = ?`, name); err != nil {
			return err
		}
		slot = now
		if len(tats) == 1 && tats[0].After(now) {
			slot = tats[0].UTC()
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO send_rates (name, tat) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET tat = excluded.tat`,
			name, slot.Add(interval))
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("storage: reserve send: %w", err)
	}
	return slot, nil
}

// PaceChat records that the next message to a chat may not go before at
// (a later time already recorded stands).
func (d *DB) PaceChat(ctx context.Context, chatID int64, at time.Time) error {
	defer d.writeLock()()
	if err := d.paceChat(ctx, d.db, chatID, at); err != nil {
		return fmt.Errorf("storage: pace chat: %w", err)
	}
	return nil
}

func (d *DB) paceChat(ctx context.Context, ex sqlx.ExecerContext, chatID int64, at time.Time) error {
	_, err := ex.ExecContext(ctx, d.q(`
		INSERT INTO chat_pacing (chat_id, next_at) VALUES (?, ?)
		ON CONFLICT (chat_id) DO UPDATE SET next_at = CASE WHEN excluded.next_at > chat_pacing.next_at
			THEN excluded.next_at ELSE chat_pacing.next_at END`), chatID, at.UTC().Truncate(time.Microsecond))
	return err
}

// ChatPacedUntil returns the time before which the chat gets no message
// (zero when it is not paced).
func (d *DB) ChatPacedUntil(ctx context.Context, chatID int64) (time.Time, error) {
	var ts []time.Time
	if err := d.db.SelectContext(ctx, &ts, d.q(`SELECT next_at FROM chat_pacing WHERE chat_id = ?`), chatID); err != nil {
		return time.Time{}, fmt.Errorf("storage: chat paced until: %w", err)
	}
	if len(ts) == 0 {
		return time.Time{}, nil
	}
	return ts[0].UTC(), nil
}

// writeLock takes this handle's SQLite write lock (see DB.writer) and
// returns its release; on PostgreSQL it does nothing. Every transaction
// takes it (inTx), and so do the queue's single-statement writes.
func (d *DB) writeLock() func() {
	if d.dialect != SQLite {
		return func() {}
	}
	d.writer.Lock()
	return d.writer.Unlock
}
