package bot

import (
	"context"
	"sync"
	"time"

	"github.com/herald-relay/herald/storage"
)

// Limits are Telegram's flood limits as Herald keeps them, a little under
// what Telegram enforces so that a send never arrives early because of
// network jitter.
// Specs: https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
// (about 1 message per second in a chat, 20 per minute in a group, 30 per
// second overall).
type Limits struct {
	// Global is how many messages per second the bot sends in all, across
	// every process that shares the database. 0 means the default; a
	// negative value turns the limit off.
	Global float64
	// Private is the least time between two messages to one private chat;
	// Group between two messages to a group, supergroup or channel. 0 means
	// the default; negative turns the limit off.
	Private, Group time.Duration
}

// DefaultLimits are the limits in force unless Config says otherwise:
// 28 messages a second overall (Telegram's 30 less room for the replies to
// commands, which go out at once), one message per 1.05 s in a private chat
// and per 3.1 s in a group (fewer than 20 in any minute).
func DefaultLimits() Limits {
	return Limits{Global: 28, Private: 1050 * time.Millisecond, Group: 3100 * time.Millisecond}
}

// NoLimits turns pacing off, for tests and benchmarks against a fake that
// does not enforce limits.
func NoLimits() Limits { return Limits{Global: -1, Private: -1, Group: -1} }

func (l Limits) withDefaults() Limits {
	def := DefaultLimits()
	if l.Global == 0 {
		l.Global = def.Global
	}
	if l.Private == 0 {
		l.Private = def.Private
	}
	if l.Group == 0 {
		l.Group = def.Group
	}
	return l
}

// ChatInterval is the least time between two messages to a chat of the
// given type (private, group, supergroup, channel); 0 when unlimited.
func (l Limits) ChatInterval(chatType string) time.Duration {
	d := l.Group
	if chatType == "private" || chatType == "" {
		d = l.Private
	}
	return max(d, 0)
}

// GlobalRate is the bot-wide messages per second; 0 when unlimited.
func (l Limits) GlobalRate() float64 { return max(l.Global, 0) }

// rateName is the send_rates row of the bot-wide limit.
const rateName = "telegram"

// limiter spaces the bot's messages to Limits.Global per second for the bot
// as a whole: on PostgreSQL each send reserves a slot in the database
// (storage.ReserveSend) and waits for it, so processes sharing the database
// share the limit. When the database cannot be reached the limiter falls
// back to spacing this process's sends alone, so that command replies still
// go out; on SQLite, which one process owns, that is all it does.
type limiter struct {
	db       *storage.DB
	interval time.Duration // 0: no limit

	mu   sync.Mutex
	next time.Time // the fallback's next free slot
}

func newLimiter(db *storage.DB, l Limits) *limiter {
	lim := &limiter{db: db}
	if g := l.GlobalRate(); g > 0 {
		lim.interval = time.Duration(float64(time.Second) / g)
	}
	return lim
}

// wait blocks until this process may send one message.
func (l *limiter) wait(ctx context.Context) error {
	if l == nil || l.interval <= 0 {
		return ctx.Err()
	}
	var slot time.Time
	if l.db.Dialect() == storage.SQLite {
		// An SQLite file has one herald process: the limit is this
		// process's alone, and kept here without a write per message.
		slot = l.localSlot()
	} else {
		var err error
		if slot, err = l.db.ReserveSend(ctx, rateName, l.interval); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			slot = l.localSlot()
		}
	}
	d := time.Until(slot)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (l *limiter) localSlot() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	return slot
}
