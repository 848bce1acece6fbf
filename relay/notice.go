package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/storage"
)

// processNotice sends one notice (storage.Notice) to its recipient and
// records the outcome. Notices are retried like deliveries; one whose
// recipient is gone too is dropped.
func (r *Relay) processNotice(ctx context.Context, n storage.Notice) {
	log := r.log.With("notice_id", n.ID, "chat_id", n.ChatID, "kind", n.Kind)
	chat, err := r.db.ChatByID(ctx, n.ChatID)
	if errors.Is(err, storage.ErrNotFound) {
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusFailed, time.Time{}, time.Time{}, "recipient unknown"))
		return
	}
	if err != nil {
		r.retryNotice(ctx, n, err)
		return
	}
	text, err := r.noticeText(chat.Language, n)
	if err != nil {
		log.Error("unreadable notice", "error", err)
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusFailed, time.Time{}, time.Time{}, err.Error()))
		return
	}
	_, err = r.send.Send(ctx, n.ChatID, agent.Message{HTML: text})
	if err == nil {
		var next time.Time
		if d := r.limits.ChatInterval(chat.Type); d > 0 {
			next = time.Now().Add(d)
		}
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusDelivered, time.Time{}, next, ""))
		log.Info("notice sent")
		return
	}
	var se *bot.SendError
	if !errors.As(err, &se) {
		se = &bot.SendError{Kind: bot.FailureRetry, Err: err}
	}
	switch se.Kind {
	case bot.FailureRateLimited:
		at := r.db.Now().Add(se.RetryAfter)
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusQueued, at, time.Time{}, "telegram: too many requests"))
		r.wakeAt(at)
	case bot.FailureChatGone, bot.FailureMigrated, bot.FailureRejected:
		log.Warn("notice undeliverable", "error", se.Err)
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusFailed, time.Time{}, time.Time{}, se.Err.Error()))
	default:
		r.retryNotice(ctx, n, se)
	}
}

func (r *Relay) retryNotice(ctx context.Context, n storage.Notice, cause error) {
	log := r.log.With("notice_id", n.ID, "chat_id", n.ChatID)
	wait, ok := r.retryIn(n.CreatedAt, n.Attempts)
	if !ok {
		r.record(log, r.db.FinishNotice(ctx, n, storage.StatusFailed, time.Time{}, time.Time{}, "gave up: "+cause.Error()))
		return
	}
	log.Warn("notice failed, will retry", "error", cause, "in", wait)
	r.record(log, r.db.FinishNotice(ctx, n, storage.StatusQueued, r.db.Now().Add(wait), time.Time{}, cause.Error()))
}

// noticeText renders a notice in lang.
func (r *Relay) noticeText(lang string, n storage.Notice) (string, error) {
	l := r.loc.For(lang)
	switch n.Kind {
	case storage.NoticeChatGone:
		var g storage.ChatGone
		if err := json.Unmarshal([]byte(n.Data), &g); err != nil {
			return "", fmt.Errorf("relay: notice data: %w", err)
		}
		chat := g.Title
		if chat == "" {
			chat = fmt.Sprint(g.ChatID)
		}
		hooks := make([]string, len(g.Webhooks))
		for i, w := range g.Webhooks {
			hooks[i] = "<b>" + html.EscapeString(w) + "</b>"
		}
		reason := g.Reason
		switch reason {
		case bot.GoneBlocked, bot.GoneKicked, bot.GoneNotFound, bot.GoneDeactivated:
		default:
			reason = "refused" // ("other" is reserved for plural forms)
		}
		data := map[string]any{"Chat": html.EscapeString(chat), "Webhooks": strings.Join(hooks, ", ")}
		return l.T("delivery.chat_gone."+reason, data) + "\n\n" + l.T("delivery.chat_gone.after", nil), nil
	}
	return "", fmt.Errorf("relay: unknown notice kind %q", n.Kind)
}
