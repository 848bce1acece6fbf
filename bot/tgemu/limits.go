package tgemu

import (
	"math"
	"time"
)

// Limits configures the flood control the fake enforces on sendMessage when
// enabled with WithLimits, WithCustomLimits or Server.EnforceLimits. Telegram
// documents its limits only loosely
// (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// about one message per second in a chat, with short bursts tolerated, 20
// messages per minute in a group, 30 messages per second overall. Over a
// limit the call fails with 429 "Too Many Requests: retry after N" and
// parameters.retry_after = N.
type Limits struct {
	// PerChatPerSecond is the sustained rate in a single chat.
	PerChatPerSecond float64
	// PerChatBurst is how many messages a chat takes at once before the
	// sustained rate applies (a token bucket of that size).
	PerChatBurst int
	// PerGroupPerMinute caps messages to one group or supergroup in any
	// sliding minute.
	PerGroupPerMinute int
	// GlobalPerSecond caps messages to all chats in any sliding second.
	GlobalPerSecond int
}

// DefaultLimits returns the limits used by WithLimits: 1 message/s per chat
// with bursts of 3, 20 messages/min per group, 30 messages/s overall.
func DefaultLimits() Limits {
	return Limits{PerChatPerSecond: 1, PerChatBurst: 3, PerGroupPerMinute: 20, GlobalPerSecond: 30}
}

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter implements Limits. It is guarded by Server.mu.
type limiter struct {
	cfg    Limits
	chats  map[int64]*bucket
	groups map[int64][]time.Time
	global []time.Time
}

func newLimiter(cfg Limits) *limiter {
	return &limiter{cfg: cfg, chats: map[int64]*bucket{}, groups: map[int64][]time.Time{}}
}

// take records a message to chatID at now, or returns the number of seconds
// to wait (at least 1) when a limit is reached; nothing is recorded then.
func (l *limiter) take(chatID int64, group bool, now time.Time) int {
	wait := time.Duration(0)

	b := l.chats[chatID]
	if l.cfg.PerChatPerSecond > 0 && l.cfg.PerChatBurst > 0 {
		if b == nil {
			b = &bucket{tokens: float64(l.cfg.PerChatBurst), last: now}
			l.chats[chatID] = b
		}
		b.tokens = math.Min(float64(l.cfg.PerChatBurst), b.tokens+now.Sub(b.last).Seconds()*l.cfg.PerChatPerSecond)
		b.last = now
		if b.tokens < 1 {
			wait = max(wait, time.Duration((1-b.tokens)/l.cfg.PerChatPerSecond*float64(time.Second)))
		}
	}

	prune := func(ts []time.Time, window time.Duration) []time.Time {
		k := 0
		for k < len(ts) && !ts[k].After(now.Add(-window)) {
			k++
		}
		return ts[k:]
	}
	if group && l.cfg.PerGroupPerMinute > 0 {
		l.groups[chatID] = prune(l.groups[chatID], time.Minute)
		if ts := l.groups[chatID]; len(ts) >= l.cfg.PerGroupPerMinute {
			wait = max(wait, ts[len(ts)-l.cfg.PerGroupPerMinute].Add(time.Minute).Sub(now))
		}
	}
	if l.cfg.GlobalPerSecond > 0 {
		l.global = prune(l.global, time.Second)
		if len(l.global) >= l.cfg.GlobalPerSecond {
			wait = max(wait, l.global[len(l.global)-l.cfg.GlobalPerSecond].Add(time.Second).Sub(now))
		}
	}

	if wait > 0 {
		return max(1, int(math.Ceil(wait.Seconds())))
	}
	if b != nil {
		b.tokens--
	}
	if group && l.cfg.PerGroupPerMinute > 0 {
		l.groups[chatID] = append(l.groups[chatID], now)
	}
	if l.cfg.GlobalPerSecond > 0 {
		l.global = append(l.global, now)
	}
	return 0
}
