package bot

import (
	"context"
	"html"
	"net/url"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// Groups (SPEC §4): only a group's administrators configure the bot there,
// and a URL made in a group goes privately to the administrator who asked.
// A bot cannot write first to someone who never started it, so such an
// administrator gets a deep link instead: "start me and I'll do it". The
// link's start parameter names the command, the group and the name
// (newtoken_-1001234567890_orders, at most 64 characters); /start runs the
// command for that group once Telegram confirms again that the user
// administers it, so a forged link grants nothing.

// resumable are the commands a group deep link may carry: those that make
// a URL.
var resumable = map[string]bool{"newtoken": true, "regenerate": true}

// reachable reports whether the bot can write to the user privately: they
// started it and have not blocked it since. In a private chat it can.
// Specs: https://core.telegram.org/bots/api#sendchataction
func (b *Bot) reachable(ctx context.Context, r request) bool {
	if r.private() {
		return true
	}
	if !r.account.Started {
		return false
	}
	// A chat action is invisible unless the chat is open, and fails like
	// a message would (403 blocked, 400 chat not found).
	_, err := b.tg.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: r.user.ID, Action: models.ChatActionTyping})
	if err != nil {
		b.log.Debug("user unreachable privately", "user_id", r.user.ID, "error", redact(err.Error(), b.cfg.Token))
		return false
	}
	return true
}

// askToStart answers a URL-making command in a group from an
// administrator the bot cannot write to: a button opens the private chat
// and, with the start parameter, resumes the command there.
func (b *Bot) askToStart(ctx context.Context, r request, cmd, name string) {
	payload := cmd + "_" + strconv.FormatInt(r.chat.ID, 10) + "_" + name
	link := "https://t.me/" + b.botUsername() + "?start=" + url.QueryEscape(payload)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: r.loc.T("button.start_bot", nil), URL: link},
	}}}
	b.reply(ctx, r.chat.ID, r.loc.T("group.start_first", map[string]any{
		"User": html.EscapeString(r.user.FirstName), "Name": name,
	}), kb)
}

// resumeFromGroup runs the command a group deep link carries, for that
// group, and reports whether payload was one.
func (b *Bot) resumeFromGroup(ctx context.Context, r request, payload string) bool {
	cmd, rest, _ := strings.Cut(payload, "_")
	idText, name, ok := strings.Cut(rest, "_")
	if !resumable[cmd] || !ok {
		return false
	}
	chatID, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || chatID >= 0 {
		return false // only groups: a private chat is configured in itself
	}
	chat, err := b.db.ChatByID(ctx, chatID)
	if isNotFound(err) {
		b.reply(ctx, r.chat.ID, r.loc.T("error.link_invalid", nil), nil)
		return true
	}
	if err != nil {
		b.internalError(ctx, r, "chat by id", err)
		return true
	}
	// Refuse a non-administrator here, in private, rather than in the group
	// (dispatch asks Telegram again anyway).
	admin, err := b.isChatAdmin(ctx, chat.ID, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "getChatMember", err)
		return true
	}
	if !admin {
		b.reply(ctx, r.chat.ID, r.loc.T("error.group_admin_only", nil), nil)
		return true
	}
	gr := r
	gr.chat, gr.loc, gr.args, gr.msgID, gr.addressed = chat, b.localizer(chat, r.user), name, 0, false
	b.dispatch(ctx, cmd, gr)
	return true
}

// privateLocalizer is the language of a user's private chat with the bot.
func (b *Bot) privateLocalizer(ctx context.Context, u models.User) *locales.Localizer {
	if c, err := b.db.ChatByID(ctx, u.ID); err == nil {
		return b.localizer(c, u)
	}
	return b.loc.For(u.LanguageCode)
}

// greetGroup introduces the bot to a group it was just added to.
func (b *Bot) greetGroup(ctx context.Context, chat storage.Chat, by models.User) {
	loc := b.localizer(chat, by)
	b.reply(ctx, chat.ID, loc.T("group.hello", nil), nil)
}
