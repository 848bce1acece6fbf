package bot

import (
	"context"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// maxAnswer bounds a callback answer's text (Telegram takes 200 characters).
const maxAnswer = 190

// handleCallback runs the command a button carries ("regenerate orders",
// in a group "regenerate orders|<user id>"). Every callback query is
// answered, or the user's button keeps spinning.
// Specs: https://core.telegram.org/bots/api#answercallbackquery
func (b *Bot) handleCallback(ctx context.Context, q *models.CallbackQuery) {
	var answer string
	defer func() {
		params := &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: truncateRunes(answer, maxAnswer)}
		if _, err := b.tg.AnswerCallbackQuery(ctx, params); err != nil {
			b.log.Warn("answer callback", "error", err)
		}
	}()
	loc := b.loc.For(q.From.LanguageCode)
	msg := q.Message.Message
	if msg == nil {
		answer = loc.T("error.expired", nil)
		return
	}
	chat, account, err := b.remember(ctx, msg.Chat, q.From)
	if err != nil {
		b.log.Error("remember chat", "chat_id", msg.Chat.ID, "error", err)
		answer = loc.T("error.internal", nil)
		return
	}
	loc = b.localizer(chat, q.From)
	data, owner, hasOwner := strings.Cut(q.Data, "|")
	if hasOwner && owner != strconv.FormatInt(q.From.ID, 10) {
		answer = loc.T("error.not_your_button", nil)
		return
	}
	cmd, args, _ := strings.Cut(data, " ")
	r := request{chat: chat, user: q.From, account: account, loc: loc, args: args, button: true, answer: &answer}
	switch cmd {
	case "cancel":
		answer = loc.T("revoke.cancelled", nil)
		if args == "regenerate" {
			answer = loc.T("regenerate.cancelled", nil)
		}
		b.clearButtons(ctx, msg)
	case "revoke!", "regenerate!":
		b.clearButtons(ctx, msg)
		b.dispatch(ctx, cmd, r)
	case doneData:
		b.handleDone(ctx, msg, r) // any member's, never owner-bound (task.go)
	default:
		if _, ok := b.commands[cmd]; !ok {
			answer = loc.T("error.expired", nil)
			return
		}
		b.dispatch(ctx, cmd, r)
	}
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// clearButtons removes a message's inline keyboard once its choice is made.
func (b *Bot) clearButtons(ctx context.Context, msg *models.Message) {
	if _, err := b.tg.EditMessageReplyMarkup(ctx, &tg.EditMessageReplyMarkupParams{ChatID: msg.Chat.ID, MessageID: msg.ID}); err != nil {
		b.log.Debug("clear buttons", "chat_id", msg.Chat.ID, "error", err)
	}
}

// handleMyChatMember follows the bot's own membership: blocked by a user or
// removed from a group, the chat's deliveries stop; back, they resume. A
// group the bot joins is greeted.
// Specs: https://core.telegram.org/bots/api#chatmemberupdated
func (b *Bot) handleMyChatMember(ctx context.Context, u *models.ChatMemberUpdated) {
	gone := func(t models.ChatMemberType) bool {
		return t == models.ChatMemberTypeBanned || t == models.ChatMemberTypeLeft
	}
	if gone(u.NewChatMember.Type) {
		// What waits for the chat fails now rather than at its first
		// send, and the webhooks' owners are told (once: ChatGone queues
		// the notice only if the chat was active).
		why, reason := GoneKicked, "the bot was removed from the chat"
		if u.Chat.Type == models.ChatTypePrivate {
			why, reason = GoneBlocked, "the bot was blocked by the user"
		}
		if _, err := b.db.ChatGone(ctx, u.Chat.ID, reason, why); err != nil {
			b.log.Error("deactivate chat", "chat_id", u.Chat.ID, "error", err)
			return
		}
		b.log.Info("bot removed or blocked; deliveries to the chat stop", "chat_id", u.Chat.ID)
		return
	}
	chat, _, err := b.remember(ctx, u.Chat, u.From)
	if err != nil {
		b.log.Error("remember chat", "chat_id", u.Chat.ID, "error", err)
		return
	}
	joined := gone(u.OldChatMember.Type)
	if joined && (u.Chat.Type == models.ChatTypeGroup || u.Chat.Type == models.ChatTypeSupergroup) {
		b.log.Info("bot added to a group; its deliveries resume", "chat_id", u.Chat.ID)
		b.greetGroup(ctx, chat, u.From)
	}
}
