package bot

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/storage"
)

// Asking a notification (SPEC §10): a reply to one of the bot's
// notifications that asks something is answered by the LLM from that
// notification's events alone (a digest's: up to agent.AskMaxEvents of
// them), in the chat's language, as a reply to the question.
//
// In a private chat every reply to a notification is a question. In a
// group only a reply with a question mark or that mentions the bot is
// (members reply to each other under a notification too), and replies the
// bot cannot answer from an event (to its other messages, or to a
// notification whose event is gone) get no answer there: a group is not
// spammed.

// Asker answers questions about notifications: *agent.Agent.
type Asker interface {
	Ask(ctx context.Context, q agent.Question) (string, agent.Usage, error)
	// AskTimeout is how long Ask may take (LLM_TIMEOUT): the question
	// gets it whatever is left of the handler's time.
	AskTimeout() time.Duration
}

// Limits of asking.
const (
	askEvery  = 20 * time.Second // a chat's questions refill one per 20 s…
	askBurst  = 3                // …after a burst of three
	askChats  = 10000            // chats whose limiter is kept
	askIdle   = 10 * time.Minute // a limiter unused this long is full again: it may go
	askAtOnce = 2                // questions answered at once: commands keep their workers
	askQueue  = 10 * time.Second // how long a question waits for its turn
)

// askState is the bot's per-chat rate limit of questions and its bound on
// questions answered at once.
type askState struct {
	mu    sync.Mutex
	chats map[int64]*askLimit
	slots chan struct{}
}

type askLimit struct {
	lim    *rate.Limiter
	seen   time.Time
	warned bool // the chat was told it is over the limit, since its last question allowed
}

func newAskState() *askState {
	return &askState{chats: map[int64]*askLimit{}, slots: make(chan struct{}, askAtOnce)}
}

// allow reports whether chatID may ask a question now and, when it may
// not, whether to tell it (once, until a question is allowed again).
func (s *askState) allow(chatID int64, now time.Time) (ok, tell bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.chats[chatID]
	if l == nil {
		if len(s.chats) >= askChats {
			s.evictLocked(now)
		}
		l = &askLimit{lim: rate.NewLimiter(rate.Every(askEvery), askBurst)}
		s.chats[chatID] = l
	}
	l.seen = now
	if l.lim.AllowN(now, 1) {
		l.warned = false
		return true, false
	}
	tell = !l.warned
	l.warned = true
	return false, tell
}

// evictLocked drops the limiters of chats idle for askIdle (whose buckets
// are full again, so nothing is forgotten), or else one at random.
func (s *askState) evictLocked(now time.Time) {
	for id, l := range s.chats {
		if now.Sub(l.seen) > askIdle {
			delete(s.chats, id)
		}
	}
	for id := range s.chats {
		if len(s.chats) < askChats {
			return
		}
		delete(s.chats, id)
	}
}

// repliesToBot tells a reply to one of the bot's own messages.
func (b *Bot) repliesToBot(m *models.Message) bool {
	r := m.ReplyToMessage
	if r == nil || r.From == nil || !r.From.IsBot {
		return false
	}
	name := b.botUsername()
	return name == "" || strings.EqualFold(r.From.Username, name)
}

// isQuestion tells a group member's reply meant for the bot: it asks
// something or mentions the bot.
func isQuestion(text, botName string) bool {
	if strings.ContainsAny(text, "?？¿") {
		return true
	}
	return botName != "" && strings.Contains(strings.ToLower(text), "@"+strings.ToLower(botName))
}

// handleAsk answers a reply to one of the bot's messages (repliesToBot).
func (b *Bot) handleAsk(ctx context.Context, m *models.Message) {
	private := m.Chat.Type == models.ChatTypePrivate
	if !private && !isQuestion(m.Text, b.botUsername()) {
		return
	}
	chat, account, err := b.remember(ctx, m.Chat, *m.From)
	if err != nil {
		b.log.Error("remember chat", "chat_id", m.Chat.ID, "error", err)
		return
	}
	// The chat's language, as its notifications are written in (SPEC §7).
	loc := b.loc.For(chat.Language)
	if account.Banned {
		if private {
			b.replyTo(ctx, m, loc.T("error.banned", nil))
		}
		return
	}
	evs, total, err := b.db.EventsOfMessage(ctx, m.Chat.ID, int64(m.ReplyToMessage.ID), agent.AskMaxEvents)
	// A notification is recorded a moment after Telegram took it: a reply
	// to one just sent may be quicker.
	for try := 0; err == nil && total == 0 && try < 8 && time.Since(time.Unix(int64(m.ReplyToMessage.Date), 0)) < 15*time.Second; try++ {
		time.Sleep(250 * time.Millisecond)
		evs, total, err = b.db.EventsOfMessage(ctx, m.Chat.ID, int64(m.ReplyToMessage.ID), agent.AskMaxEvents)
	}
	if err != nil {
		b.log.Error("events of a notification", "chat_id", m.Chat.ID, "error", err)
		b.replyTo(ctx, m, loc.T("error.internal", nil))
		return
	}
	if len(evs) == 0 {
		if private {
			b.replyTo(ctx, m, loc.T("ask.unknown", nil))
		}
		return
	}
	if ok, tell := b.asks.allow(m.Chat.ID, time.Now()); !ok {
		if tell {
			b.replyTo(ctx, m, loc.T("ask.rate_limited", nil))
		}
		return
	}
	if b.cfg.Asker == nil {
		b.replyTo(ctx, m, loc.T("ask.no_llm", nil))
		return
	}
	wait := time.NewTimer(askQueue)
	defer wait.Stop()
	select {
	case b.asks.slots <- struct{}{}:
		defer func() { <-b.asks.slots }()
	case <-wait.C:
		b.replyTo(ctx, m, loc.T("ask.busy", nil))
		return
	case <-ctx.Done():
		return
	}
	if _, err := b.tg.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: m.Chat.ID, Action: models.ChatActionTyping}); err != nil {
		b.log.Debug("typing", "chat_id", m.Chat.ID, "error", err)
	}
	q := agent.Question{Text: m.Text, Lang: loc.Lang(), Total: total}
	for _, ev := range evs {
		q.Events = append(q.Events, agentEvent(ev))
	}
	askCtx, cancel := askContext(ctx, b.cfg.Asker.AskTimeout())
	defer cancel()
	answer, usage, err := b.cfg.Asker.Ask(askCtx, q)
	switch {
	case errors.Is(err, agent.ErrNoLLM):
		b.replyTo(ctx, m, loc.T("ask.no_llm", nil))
		return
	case err != nil:
		b.replyTo(ctx, m, loc.T("ask.failed", nil))
		return
	}
	b.log.Debug("question answered", "chat_id", m.Chat.ID, "events", len(evs),
		"prompt_tokens", usage.PromptTokens, "completion_tokens", usage.CompletionTokens)
	// The model writes plain text: escaped, it is shown as written.
	b.replyTo(ctx, m, cutHTML(html.EscapeString(answer), agent.MaxMessageLen))
}

// askContext gives a question's LLM call its own time, d, rather than what
// is left of the handler's (which has a fixed limit shorter than a slow
// model): the handler's deadline does not cut it, a shutdown still does.
func askContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	own, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	stop := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.Canceled) {
			cancel()
		}
	})
	return own, func() { stop(); cancel() }
}

// replyTo answers message m with text (Telegram HTML) as a reply to it. It
// has its own deadline: an answer that took the handler's time still goes.
func (b *Bot) replyTo(ctx context.Context, m *models.Message, text string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	if err := b.pace.wait(ctx); err != nil {
		return
	}
	defer b.replied(ctx, m.Chat.ID, chatTypeOf(m.Chat.ID))
	params := &tg.SendMessageParams{
		ChatID:             m.Chat.ID,
		Text:               text,
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
		ReplyParameters:    &models.ReplyParameters{MessageID: m.ID, AllowSendingWithoutReply: true},
	}
	if _, err := b.tg.SendMessage(ctx, params); err != nil {
		b.log.Warn("answer failed", "chat_id", m.Chat.ID, "error", redact(err.Error(), b.cfg.Token))
	}
}

// agentEvent is a stored event as agent reads it.
func agentEvent(ev storage.QueuedEvent) agent.Event {
	var headers map[string]string
	json.Unmarshal([]byte(ev.Headers), &headers) // written by ingest; unreadable is just no headers
	return agent.Event{
		ID: ev.ID, Webhook: ev.WebhookName, ContentType: ev.ContentType,
		Headers: headers, Body: ev.Body, ReceivedAt: ev.ReceivedAt,
	}
}
