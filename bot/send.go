package bot

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/agent"
)

// sendTimeout bounds one sendMessage call.
const sendTimeout = 15 * time.Second

// Failure is what the relay should do about a message Telegram did not take.
type Failure int

// The kinds of failure, as the relay acts on them.
const (
	// FailureRetry: a network error or a 5xx; retry with backoff.
	FailureRetry Failure = iota
	// FailureRateLimited: 429; wait RetryAfter, and do not count it.
	FailureRateLimited
	// FailureChatGone: the bot was blocked or removed, or the chat does not
	// exist; stop delivering to the chat.
	FailureChatGone
	// FailureMigrated: the group became a supergroup with MigratedTo as its id.
	FailureMigrated
	// FailureRejected: Telegram refused this message (400); retrying the
	// same message will not help.
	FailureRejected
)

// SendError is a failed send, translated once from Telegram's answer.
type SendError struct {
	Kind       Failure
	RetryAfter time.Duration
	MigratedTo int64
	// Gone says why a chat is gone (FailureChatGone): GoneBlocked,
	// GoneKicked, GoneNotFound, GoneDeactivated or GoneOther.
	Gone string
	Err  error
}

// Why a chat is gone, as SendError.Gone and storage.ChatGone.Reason say it.
const (
	GoneBlocked     = "blocked"     // a user blocked the bot
	GoneKicked      = "kicked"      // the bot was removed from a group or channel
	GoneNotFound    = "not_found"   // Telegram does not know the chat (any more)
	GoneDeactivated = "deactivated" // the user deleted their account
	GoneOther       = "other"
)

// goneReason reads why a chat is gone from Telegram's description, the only
// place Telegram says it (the error code is 403 or 400 for all of them).
func goneReason(err error) string {
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "blocked by the user"):
		return GoneBlocked
	case strings.Contains(s, "kicked"), strings.Contains(s, "not a member"), strings.Contains(s, "chat was deleted"):
		return GoneKicked
	case strings.Contains(s, "deactivated"):
		return GoneDeactivated
	case strings.Contains(s, "chat not found"):
		return GoneNotFound
	}
	return GoneOther
}

func (e *SendError) Error() string { return "bot: send: " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// classify translates a go-telegram error into a *SendError.
// Specs: https://core.telegram.org/bots/api#making-requests (error_code, parameters)
func classify(err error) *SendError {
	var tooMany *tg.TooManyRequestsError
	var migrate *tg.MigrateError
	var netErr net.Error
	switch {
	case errors.As(err, &tooMany):
		return &SendError{Kind: FailureRateLimited, RetryAfter: time.Duration(max(tooMany.RetryAfter, 1)) * time.Second, Err: err}
	case errors.As(err, &migrate):
		return &SendError{Kind: FailureMigrated, MigratedTo: int64(migrate.MigrateToChatID), Err: err}
	case errors.Is(err, tg.ErrorForbidden):
		return &SendError{Kind: FailureChatGone, Gone: goneReason(err), Err: err}
	case errors.Is(err, tg.ErrorBadRequest):
		// "chat not found" is the one 400 that is about the chat, not the message.
		if strings.Contains(strings.ToLower(err.Error()), "chat not found") {
			return &SendError{Kind: FailureChatGone, Gone: GoneNotFound, Err: err}
		}
		return &SendError{Kind: FailureRejected, Err: err}
	case errors.Is(err, tg.ErrorUnauthorized), errors.Is(err, tg.ErrorNotFound):
		// A revoked bot token: nothing gets through until an admin fixes it;
		// keep retrying rather than fail every delivery.
		return &SendError{Kind: FailureRetry, Err: err}
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded):
		return &SendError{Kind: FailureRetry, Err: err}
	default:
		return &SendError{Kind: FailureRetry, Err: err}
	}
}

// Send delivers a rendered notification and returns Telegram's message id.
// It first waits for a slot of the bot-wide rate (Limits.Global, shared by
// every process on the database); pacing each chat is the queue's part
// (Limits.ChatInterval). A failure is a *SendError.
// Specs: https://core.telegram.org/bots/api#sendmessage
func (b *Bot) Send(ctx context.Context, chatID int64, msg agent.Message) (int64, error) {
	if err := b.pace.wait(ctx); err != nil {
		return 0, &SendError{Kind: FailureRetry, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	params := &tg.SendMessageParams{
		ChatID:              chatID,
		Text:                msg.HTML,
		ParseMode:           models.ParseModeHTML,
		DisableNotification: msg.DisableNotification,
		LinkPreviewOptions:  &models.LinkPreviewOptions{IsDisabled: tg.True()},
	}
	if kb := notificationKeyboard(msg); kb != nil {
		params.ReplyMarkup = kb
	}
	m, err := b.tg.SendMessage(ctx, params)
	if err != nil {
		// go-telegram already strips the token from the URLs in its errors.
		return 0, classify(err)
	}
	return int64(m.ID), nil
}

// Limits are the flood limits the bot keeps (Config.Limits with defaults).
func (b *Bot) Limits() Limits { return b.limits }

// replied makes a chat's queued notifications yield to a reply that just
// went there, so that together they stay within the chat's limit.
func (b *Bot) replied(ctx context.Context, chatID int64, chatType string) {
	if d := b.limits.ChatInterval(chatType); d > 0 {
		if err := b.db.PaceChat(ctx, chatID, time.Now().Add(d)); err != nil {
			b.log.Debug("pace chat after reply", "chat_id", chatID, "error", err)
		}
	}
}

// reply answers a command. Replies go straight to Telegram, ahead of any
// queued notifications (SPEC §8): they wait only for a slot of the bot-wide
// rate, which the queue's workers reserve at most a few at a time.
func (b *Bot) reply(ctx context.Context, chatID int64, text string, kb *models.InlineKeyboardMarkup) {
	if err := b.pace.wait(ctx); err != nil {
		return
	}
	defer b.replied(ctx, chatID, chatTypeOf(chatID))
	params := &tg.SendMessageParams{
		ChatID:             chatID,
		Text:               text,
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
	}
	if kb != nil {
		params.ReplyMarkup = kb
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if _, err := b.tg.SendMessage(ctx, params); err != nil {
		b.log.Warn("reply failed", "chat_id", chatID, "error", redact(err.Error(), b.cfg.Token))
	}
}

// chatTypeOf tells a private chat (a user's id, positive) from a group or
// channel (negative ids), which is all pacing needs to know.
func chatTypeOf(chatID int64) string {
	if chatID > 0 {
		return "private"
	}
	return "group"
}
