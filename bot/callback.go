package bot

import (
	"context"
	"errors"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/storage"
)

// handleCallback runs the command a button carries ("regenerate orders").
// Every callback query is answered, or the user's button keeps spinning.
// Specs: https://core.telegram.org/bots/api#answercallbackquery
func (b *Bot) handleCallback(ctx context.Context, q *models.CallbackQuery) {
	var answer string
	defer func() {
		if _, err := b.tg.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: answer}); err != nil {
			b.log.Warn("answer callback", "error", err)
		}
	}()
	msg := q.Message.Message
	loc := b.loc.For(q.From.LanguageCode)
	if msg == nil {
		answer = loc.T("error.expired", nil)
		return
	}
	chat, err := b.remember(ctx, msg.Chat, q.From)
	if err != nil {
		b.log.Error("remember chat", "chat_id", msg.Chat.ID, "error", err)
		answer = loc.T("error.internal", nil)
		return
	}
	cmd, args, _ := strings.Cut(q.Data, " ")
	r := request{chat: chat, user: q.From, loc: loc, args: args, button: true}
	switch cmd {
	case "cancel":
		answer = loc.T("revoke.cancelled", nil)
		b.clearButtons(ctx, msg)
	case "revoke!":
		b.clearButtons(ctx, msg)
		if chat.Type != string(models.ChatTypePrivate) {
			b.reply(ctx, chat.ID, loc.T("error.private_only", nil), nil)
			return
		}
		name, _ := webhookName(args)
		wh, err := b.db.WebhookByName(ctx, q.From.ID, name)
		if errors.Is(err, storage.ErrNotFound) {
			answer = loc.T("error.expired", nil)
			return
		}
		if err != nil {
			b.internalError(ctx, r, "webhook by name", err)
			return
		}
		b.revoke(ctx, r, wh)
	default:
		if _, ok := commands[cmd]; !ok {
			answer = loc.T("error.expired", nil)
			return
		}
		b.dispatch(ctx, cmd, r)
	}
}

// clearButtons removes a message's inline keyboard once its choice is made.
func (b *Bot) clearButtons(ctx context.Context, msg *models.Message) {
	if _, err := b.tg.EditMessageReplyMarkup(ctx, &tg.EditMessageReplyMarkupParams{ChatID: msg.Chat.ID, MessageID: msg.ID}); err != nil {
		b.log.Debug("clear buttons", "chat_id", msg.Chat.ID, "error", err)
	}
}

// handleMyChatMember follows the bot's own membership: blocked by a user or
// removed from a group, the chat's deliveries stop; back, they resume.
// Specs: https://core.telegram.org/bots/api#chatmemberupdated
func (b *Bot) handleMyChatMember(ctx context.Context, u *models.ChatMemberUpdated) {
	var active bool
	switch u.NewChatMember.Type {
	case models.ChatMemberTypeBanned, models.ChatMemberTypeLeft:
		active = false
	default:
		active = true
	}
	if active {
		if _, err := b.remember(ctx, u.Chat, u.From); err != nil {
			b.log.Error("remember chat", "chat_id", u.Chat.ID, "error", err)
		}
		return
	}
	if err := b.db.SetChatActive(ctx, u.Chat.ID, false); err != nil {
		b.log.Error("deactivate chat", "chat_id", u.Chat.ID, "error", err)
		return
	}
	b.log.Info("bot removed or blocked; deliveries to the chat stop", "chat_id", u.Chat.ID)
}
