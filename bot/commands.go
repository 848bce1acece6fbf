package bot

import (
	"context"
	"errors"
	"html"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// handlerTimeout bounds the work one update may cause.
const handlerTimeout = 30 * time.Second

// request is one command being handled.
type request struct {
	chat   storage.Chat
	user   models.User
	loc    *locales.Localizer // the user's language (SPEC §7)
	args   string
	button bool // came from an inline button rather than typed
}

// command handles one command; private-only commands are refused in groups.
type command struct {
	run         func(b *Bot, ctx context.Context, r request)
	privateOnly bool
}

var commands = map[string]command{
	"start":       {run: (*Bot).cmdStart},
	"help":        {run: (*Bot).cmdHelp},
	"newtoken":    {run: (*Bot).cmdNewToken, privateOnly: true},
	"regenerate":  {run: (*Bot).cmdRegenerate, privateOnly: true},
	"revoke":      {run: (*Bot).cmdRevoke, privateOnly: true},
	"tokens":      {run: (*Bot).cmdTokens, privateOnly: true},
	"subscribe":   {run: (*Bot).cmdSubscribe, privateOnly: true},
	"unsubscribe": {run: (*Bot).cmdUnsubscribe, privateOnly: true},
}

// Specs: https://core.telegram.org/bots/api#update
func (b *Bot) handleUpdate(ctx context.Context, _ *tg.Bot, u *models.Update) {
	ctx, cancel := context.WithTimeout(ctx, handlerTimeout)
	defer cancel()
	switch {
	case u.Message != nil:
		b.handleMessage(ctx, u.Message)
	case u.EditedMessage != nil:
		b.handleEdited(ctx, u.EditedMessage)
	case u.CallbackQuery != nil:
		b.handleCallback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil:
		b.handleMyChatMember(ctx, u.MyChatMember)
	}
}

// remember records the user and the chat an update came from and returns
// the chat as stored. A new chat starts in the user's language.
func (b *Bot) remember(ctx context.Context, chat models.Chat, from models.User) (storage.Chat, error) {
	private := chat.Type == models.ChatTypePrivate
	if err := b.db.UpsertUser(ctx, storage.User{
		ID: from.ID, Username: from.Username, FirstName: from.FirstName,
		LanguageCode: from.LanguageCode, Started: private,
	}); err != nil {
		return storage.Chat{}, err
	}
	return b.db.EnsureChat(ctx, storage.Chat{
		ID: chat.ID, Type: string(chat.Type), Title: chat.Title, Language: locales.Normalize(from.LanguageCode),
	})
}

func (b *Bot) handleMessage(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot {
		return // channel posts and other bots
	}
	cmd, args, ok := b.parseCommand(m.Text, m.Entities)
	if !ok {
		if m.Chat.Type == models.ChatTypePrivate && m.Text != "" && !strings.HasPrefix(m.Text, "/") {
			b.remember(ctx, m.Chat, *m.From)
			b.reply(ctx, m.Chat.ID, b.loc.For(m.From.LanguageCode).T("hint.not_command", nil), nil)
		}
		return
	}
	chat, err := b.remember(ctx, m.Chat, *m.From)
	r := request{chat: chat, user: *m.From, loc: b.loc.For(m.From.LanguageCode), args: args}
	if err != nil {
		b.log.Error("remember chat", "chat_id", m.Chat.ID, "error", err)
		b.reply(ctx, m.Chat.ID, r.loc.T("error.internal", nil), nil)
		return
	}
	b.dispatch(ctx, cmd, r)
}

func (b *Bot) dispatch(ctx context.Context, cmd string, r request) {
	c, ok := commands[cmd]
	switch {
	case !ok:
		if r.chat.Type == string(models.ChatTypePrivate) {
			b.reply(ctx, r.chat.ID, r.loc.T("error.unknown_command", nil), nil)
		}
	case c.privateOnly && r.chat.Type != string(models.ChatTypePrivate):
		b.reply(ctx, r.chat.ID, r.loc.T("error.private_only", nil), nil)
	default:
		c.run(b, ctx, r)
	}
}

func (b *Bot) handleEdited(ctx context.Context, m *models.Message) {
	if m.From == nil || m.Chat.Type != models.ChatTypePrivate {
		return
	}
	if _, _, ok := b.parseCommand(m.Text, m.Entities); ok {
		b.reply(ctx, m.Chat.ID, b.loc.For(m.From.LanguageCode).T("hint.edited", nil), nil)
	}
}

// maxArgs bounds what a command argument may be; longer text is cut.
const maxArgs = 256

// parseCommand splits "/cmd@bot args". It reports ok=false for text that is
// not a command and for a command addressed to another bot (which is
// ignored, not answered).
func (b *Bot) parseCommand(text string, entities []models.MessageEntity) (cmd, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	// Telegram marks commands with a bot_command entity at offset 0; its
	// length is in UTF-16 units.
	end := len(text)
	if i := strings.IndexAny(text, " \n\t"); i >= 0 {
		end = i
	}
	for _, e := range entities {
		if e.Type == models.MessageEntityTypeBotCommand && e.Offset == 0 {
			if n := utf16Prefix(text, e.Length); n > 0 && n <= len(text) {
				end = n
			}
		}
	}
	cmd, args = text[1:end], strings.TrimSpace(text[end:])
	if at := strings.IndexByte(cmd, '@'); at >= 0 {
		if !strings.EqualFold(cmd[at+1:], b.botUsername()) {
			return "", "", false
		}
		cmd = cmd[:at]
	}
	if len(args) > maxArgs {
		args = args[:maxArgs]
	}
	return strings.ToLower(cmd), args, cmd != ""
}

// utf16Prefix converts a length in UTF-16 code units at the start of s to bytes.
func utf16Prefix(s string, units int) int {
	n := 0
	for i, r := range s {
		if n >= units {
			return i
		}
		n += len(utf16.Encode([]rune{r}))
	}
	return len(s)
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// webhookName reads a webhook name argument: the first word, lowercased.
func webhookName(args string) (string, bool) {
	name := strings.ToLower(strings.Fields(args + " ")[0])
	return name, nameRE.MatchString(name)
}

func (b *Bot) cmdStart(ctx context.Context, r request) {
	b.reply(ctx, r.chat.ID, r.loc.T("start.greeting", map[string]any{"Name": html.EscapeString(r.user.FirstName)}), nil)
}

func (b *Bot) cmdHelp(ctx context.Context, r request) {
	b.reply(ctx, r.chat.ID, r.loc.T("help.text", nil), nil)
}

func (b *Bot) hookURL(token string) string { return b.cfg.PublicURL + "/hook/" + token }

func (b *Bot) cmdNewToken(ctx context.Context, r request) {
	if strings.TrimSpace(r.args) == "" {
		b.reply(ctx, r.chat.ID, r.loc.T("newtoken.usage", nil), nil)
		return
	}
	name, ok := webhookName(r.args)
	if !ok {
		b.reply(ctx, r.chat.ID, r.loc.T("error.name_invalid", map[string]any{"Name": html.EscapeString(truncate(name, 40))}), nil)
		return
	}
	token := storage.NewToken()
	wh, err := b.db.CreateWebhook(ctx, r.user.ID, name, storage.HashToken(token), r.chat.ID)
	switch {
	case errors.Is(err, storage.ErrDuplicate):
		b.reply(ctx, r.chat.ID, r.loc.T("newtoken.exists", map[string]any{"Name": name}), nil)
		return
	case err != nil:
		b.internalError(ctx, r, "create webhook", err)
		return
	}
	b.log.Info("webhook created", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("newtoken.created", map[string]any{"Name": name, "URL": html.EscapeString(b.hookURL(token))}), nil)
}

// ownWebhook resolves the webhook a command names, or offers the user's
// webhooks as buttons when the name is missing. ok=false means the user has
// been answered already.
func (b *Bot) ownWebhook(ctx context.Context, r request, cmd string) (storage.Webhook, bool) {
	if strings.TrimSpace(r.args) == "" {
		b.offerWebhooks(ctx, r, cmd)
		return storage.Webhook{}, false
	}
	name, ok := webhookName(r.args)
	if !ok {
		b.reply(ctx, r.chat.ID, r.loc.T("error.name_invalid", map[string]any{"Name": html.EscapeString(truncate(name, 40))}), nil)
		return storage.Webhook{}, false
	}
	wh, err := b.db.WebhookByName(ctx, r.user.ID, name)
	if errors.Is(err, storage.ErrNotFound) {
		b.reply(ctx, r.chat.ID, r.loc.T("error.not_found", map[string]any{"Name": name}), nil)
		return storage.Webhook{}, false
	}
	if err != nil {
		b.internalError(ctx, r, "webhook by name", err)
		return storage.Webhook{}, false
	}
	return wh, true
}

// offerWebhooks answers a command without its argument with one button per
// webhook of the user, each running the command for it.
func (b *Bot) offerWebhooks(ctx context.Context, r request, cmd string) {
	list, err := b.db.WebhooksByOwner(ctx, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "list webhooks", err)
		return
	}
	if len(list) == 0 {
		b.reply(ctx, r.chat.ID, r.loc.T("pick.none", nil), nil)
		return
	}
	rows := make([][]models.InlineKeyboardButton, 0, len(list))
	for _, w := range list {
		rows = append(rows, []models.InlineKeyboardButton{{Text: w.Name, CallbackData: cmd + " " + w.Name}})
	}
	b.reply(ctx, r.chat.ID, r.loc.T("pick.webhook", nil), &models.InlineKeyboardMarkup{InlineKeyboard: rows})
}

func (b *Bot) cmdRegenerate(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "regenerate")
	if !ok {
		return
	}
	token := storage.NewToken()
	if err := b.db.RegenerateToken(ctx, wh.ID, storage.HashToken(token)); err != nil {
		b.internalError(ctx, r, "regenerate", err)
		return
	}
	b.log.Info("webhook token regenerated", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("regenerate.done", map[string]any{"Name": wh.Name, "URL": html.EscapeString(b.hookURL(token))}), nil)
}

// cmdRevoke deletes at once when typed with a name; from a button it asks
// first (a stray tap should not delete a webhook).
func (b *Bot) cmdRevoke(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "revoke")
	if !ok {
		return
	}
	if r.button {
		kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
			{Text: r.loc.T("button.confirm_revoke", nil), CallbackData: "revoke! " + wh.Name},
			{Text: r.loc.T("button.cancel", nil), CallbackData: "cancel"},
		}}}
		b.reply(ctx, r.chat.ID, r.loc.T("revoke.confirm", map[string]any{"Name": wh.Name}), kb)
		return
	}
	b.revoke(ctx, r, wh)
}

func (b *Bot) revoke(ctx context.Context, r request, wh storage.Webhook) {
	if err := b.db.DeleteWebhook(ctx, wh.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		b.internalError(ctx, r, "delete webhook", err)
		return
	}
	b.log.Info("webhook revoked", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("revoke.done", map[string]any{"Name": wh.Name}), nil)
}

func (b *Bot) cmdTokens(ctx context.Context, r request) {
	list, err := b.db.WebhooksByOwner(ctx, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "list webhooks", err)
		return
	}
	if len(list) == 0 {
		b.reply(ctx, r.chat.ID, r.loc.T("tokens.empty", nil), nil)
		return
	}
	var sb strings.Builder
	sb.WriteString(r.loc.T("tokens.header", nil))
	rows := make([][]models.InlineKeyboardButton, 0, len(list))
	for _, w := range list {
		last := r.loc.T("tokens.never", nil)
		if w.LastEventAt != nil {
			last = w.LastEventAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		sb.WriteString("\n")
		sb.WriteString(r.loc.T("tokens.item", map[string]any{"Name": w.Name, "Chats": r.loc.N("tokens.chats", w.Chats, nil), "Last": last}))
		rows = append(rows, []models.InlineKeyboardButton{
			{Text: w.Name + " · " + r.loc.T("button.regenerate", nil), CallbackData: "regenerate " + w.Name},
			{Text: w.Name + " · " + r.loc.T("button.revoke", nil), CallbackData: "revoke " + w.Name},
		})
	}
	b.reply(ctx, r.chat.ID, sb.String(), &models.InlineKeyboardMarkup{InlineKeyboard: rows})
}

func (b *Bot) cmdSubscribe(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "subscribe")
	if !ok {
		return
	}
	created, err := b.db.Subscribe(ctx, wh.ID, r.chat.ID, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "subscribe", err)
		return
	}
	key := "subscribe.done"
	if !created {
		key = "subscribe.already"
	}
	b.reply(ctx, r.chat.ID, r.loc.T(key, map[string]any{"Name": wh.Name}), nil)
}

func (b *Bot) cmdUnsubscribe(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "unsubscribe")
	if !ok {
		return
	}
	removed, err := b.db.Unsubscribe(ctx, wh.ID, r.chat.ID)
	if err != nil {
		b.internalError(ctx, r, "unsubscribe", err)
		return
	}
	key := "unsubscribe.done"
	if !removed {
		key = "unsubscribe.not_subscribed"
	}
	b.reply(ctx, r.chat.ID, r.loc.T(key, map[string]any{"Name": wh.Name}), nil)
}

func (b *Bot) internalError(ctx context.Context, r request, op string, err error) {
	b.log.Error("command failed", "op", op, "chat_id", r.chat.ID, "user_id", r.user.ID, "error", err)
	b.reply(ctx, r.chat.ID, r.loc.T("error.internal", nil), nil)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(c byte) bool { return c&0xC0 != 0x80 }
