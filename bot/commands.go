package bot

import (
	"context"
	"errors"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// handlerTimeout bounds the work one update may cause; a question's LLM
// call has its own limit, LLM_TIMEOUT (ask.go). A variable for tests.
var handlerTimeout = 30 * time.Second

// request is one command being handled.
type request struct {
	chat      storage.Chat
	user      models.User
	account   storage.User       // the user as stored: started, banned, granted
	loc       *locales.Localizer // the chat's chosen language, else the user's (SPEC §7)
	args      string
	msgID     int  // the message that carried the command; 0 for a button
	addressed bool // typed as /cmd@thisbot
	button    bool // came from an inline button rather than typed
	// answer is the callback query's answer when the command came from a
	// button: refusals go there, as a notice over the chat, not into it.
	answer *string
}

func (r request) private() bool { return r.chat.Type == string(models.ChatTypePrivate) }

// role says who may run a command.
type role int

const (
	anyone     role = iota // /start, /help
	configurer             // in a group only its administrators (asked of Telegram); in a private chat its user
	botAdmin               // ADMIN_IDS, in a private chat with the bot
)

// command is one entry of the command table.
type command struct {
	run  func(b *Bot, ctx context.Context, r request)
	role role
	// sensitive commands carry a secret in their text: their message is
	// deleted whatever becomes of the command.
	sensitive bool
}

// commandTable maps command names to their handlers. It is built at run
// time because handlers (/start's deep links, buttons) dispatch commands.
func commandTable() map[string]command {
	return map[string]command{
		"start":       {run: (*Bot).cmdStart, role: anyone},
		"help":        {run: (*Bot).cmdHelp, role: anyone},
		"newtoken":    {run: (*Bot).cmdNewToken, role: configurer},
		"regenerate":  {run: (*Bot).cmdRegenerate, role: configurer},
		"regenerate?": {run: (*Bot).cmdRegenerateAsk, role: configurer}, // /tokens' button asks first
		"regenerate!": {run: (*Bot).cmdRegenerate, role: configurer},    // its confirmation
		"revoke":      {run: (*Bot).cmdRevoke, role: configurer},
		"revoke!":     {run: (*Bot).cmdRevokeConfirmed, role: configurer}, // the confirmation button
		"tokens":      {run: (*Bot).cmdTokens, role: configurer},
		"subscribe":   {run: (*Bot).cmdSubscribe, role: configurer},
		"unsubscribe": {run: (*Bot).cmdUnsubscribe, role: configurer},
		"secret":      {run: (*Bot).cmdSecret, role: configurer, sensitive: true},
		"test":        {run: (*Bot).cmdTest, role: configurer},
		"history":     {run: (*Bot).cmdHistory, role: configurer},
		"invite":      {run: (*Bot).cmdInvite, role: configurer}, // invite.go
		"mute":        {run: (*Bot).cmdMute, role: configurer},
		"unmute":      {run: (*Bot).cmdUnmute, role: configurer},
		"language":    {run: (*Bot).cmdLanguage, role: configurer},
		"forward":     {run: (*Bot).cmdForward, role: configurer},
		"deliveries":  {run: (*Bot).cmdDeliveries, role: configurer},
		"tasks":       {run: (*Bot).cmdTasks, role: anyone}, // any member of the chat (task.go)
		"stats":       {run: (*Bot).cmdStats, role: botAdmin},
		"queue":       {run: (*Bot).cmdQueue, role: botAdmin},
		"ban":         {run: (*Bot).cmdBan, role: botAdmin},
		"unban":       {run: (*Bot).cmdUnban, role: botAdmin},
		"grant":       {run: (*Bot).cmdGrant, role: botAdmin},
	}
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
	case u.ChannelPost != nil:
		b.handleChannelPost(ctx, u.ChannelPost)
	case u.CallbackQuery != nil:
		b.handleCallback(ctx, u.CallbackQuery)
	case u.MyChatMember != nil:
		b.handleMyChatMember(ctx, u.MyChatMember)
	}
}

// remember records the user and the chat an update came from and returns
// both as stored. A new chat starts in the user's language.
func (b *Bot) remember(ctx context.Context, chat models.Chat, from models.User) (storage.Chat, storage.User, error) {
	private := chat.Type == models.ChatTypePrivate
	if err := b.db.UpsertUser(ctx, storage.User{
		ID: from.ID, Username: from.Username, FirstName: from.FirstName,
		LanguageCode: from.LanguageCode, Started: private,
	}); err != nil {
		return storage.Chat{}, storage.User{}, err
	}
	c, err := b.db.EnsureChat(ctx, storage.Chat{
		ID: chat.ID, Type: string(chat.Type), Title: chat.Title, Language: locales.Normalize(from.LanguageCode),
	})
	if err != nil {
		return storage.Chat{}, storage.User{}, err
	}
	u, err := b.db.UserByID(ctx, from.ID)
	if err != nil {
		return storage.Chat{}, storage.User{}, err
	}
	return c, u, nil
}

// localizer picks the language to answer in: the chat's /language choice,
// else the language of whoever asked.
func (b *Bot) localizer(chat storage.Chat, user models.User) *locales.Localizer {
	if chat.LanguageSet {
		return b.loc.For(chat.Language)
	}
	return b.loc.For(user.LanguageCode)
}

// chatLocalizer is the language of a chat the bot knows, for answers that
// have no user to go by (channel posts, anonymous admins).
func (b *Bot) chatLocalizer(ctx context.Context, chatID int64) *locales.Localizer {
	if c, err := b.db.ChatByID(ctx, chatID); err == nil {
		return b.loc.For(c.Language)
	}
	return b.loc.For(locales.Default)
}

func (b *Bot) handleMessage(ctx context.Context, m *models.Message) {
	if m.MigrateToChatID != 0 || m.MigrateFromChatID != 0 {
		b.handleMigration(ctx, m)
		return
	}
	cmd, args, addressed, ok := b.parseCommand(m.Text, m.Entities)
	if m.SenderChat != nil {
		// An anonymous group admin, or someone writing as a channel: there
		// is no person whose rights could be checked or whom a URL could
		// be sent to.
		if ok && (addressed || b.commands[cmd].run != nil) {
			b.reply(ctx, m.Chat.ID, b.chatLocalizer(ctx, m.Chat.ID).T("error.anonymous", nil), nil)
		}
		return
	}
	if m.From == nil || m.From.IsBot {
		return // other bots
	}
	if !ok && m.Text != "" && b.repliesToBot(m) {
		b.handleAsk(ctx, m) // a question about a notification (ask.go)
		return
	}
	if !ok {
		if m.Chat.Type == models.ChatTypePrivate && m.Text != "" && !strings.HasPrefix(m.Text, "/") {
			chat, _, err := b.remember(ctx, m.Chat, *m.From)
			if err != nil {
				b.log.Error("remember chat", "chat_id", m.Chat.ID, "error", err)
			}
			b.reply(ctx, m.Chat.ID, b.localizer(chat, *m.From).T("hint.not_command", nil), nil)
		}
		return
	}
	chat, account, err := b.remember(ctx, m.Chat, *m.From)
	r := request{chat: chat, user: *m.From, account: account, loc: b.localizer(chat, *m.From),
		args: args, msgID: m.ID, addressed: addressed}
	if err != nil {
		b.log.Error("remember chat", "chat_id", m.Chat.ID, "error", err)
		b.reply(ctx, m.Chat.ID, r.loc.T("error.internal", nil), nil)
		return
	}
	b.dispatch(ctx, cmd, r)
}

// maxArgs bounds a command's argument; a longer one is refused, not cut
// (a cut secret would silently break every signature).
const maxArgs = 1024

func (b *Bot) dispatch(ctx context.Context, name string, r request) {
	c, known := b.commands[name]
	if !known {
		if r.private() || r.addressed {
			b.notice(ctx, r, r.loc.T("error.unknown_command", nil))
		}
		return
	}
	refuse := func(text string) {
		if c.sensitive {
			b.deleteMessage(ctx, r.chat.ID, r.msgID)
		}
		b.notice(ctx, r, text)
	}
	if r.account.Banned {
		refuse(r.loc.T("error.banned", nil))
		return
	}
	if len(r.args) > maxArgs {
		refuse(r.loc.T("error.too_long", map[string]any{"Max": maxArgs}))
		return
	}
	switch c.role {
	case botAdmin:
		if !b.isAdmin(r.user.ID) {
			refuse(r.loc.T("error.admin_only", nil))
			return
		}
		if !r.private() {
			refuse(r.loc.T("error.admin_private", nil))
			return
		}
	case configurer:
		if !r.private() {
			ok, err := b.isChatAdmin(ctx, r.chat.ID, r.user.ID)
			if err != nil {
				b.internalError(ctx, r, "getChatMember", err)
				return
			}
			if !ok {
				refuse(r.loc.T("error.group_admin_only", nil))
				return
			}
		}
	}
	c.run(b, ctx, r)
}

// isAdmin tells a Herald administrator (ADMIN_IDS).
func (b *Bot) isAdmin(userID int64) bool { return slices.Contains(b.cfg.AdminIDs, userID) }

// isChatAdmin asks Telegram, every time, whether a user administers a
// group: rights change, and a stale answer would let a demoted admin
// configure the group.
// Specs: https://core.telegram.org/bots/api#getchatmember
func (b *Bot) isChatAdmin(ctx context.Context, chatID, userID int64) (bool, error) {
	m, err := b.tg.GetChatMember(ctx, &tg.GetChatMemberParams{ChatID: chatID, UserID: userID})
	if err != nil {
		return false, err
	}
	return m.Type == models.ChatMemberTypeOwner || m.Type == models.ChatMemberTypeAdministrator, nil
}

// mayCreate applies ACCESS_MODE to creating webhooks.
func (b *Bot) mayCreate(r request) bool {
	switch b.cfg.AccessMode {
	case AccessAdmins:
		return b.isAdmin(r.user.ID)
	case AccessInvite:
		return b.isAdmin(r.user.ID) || r.account.Granted
	}
	return true
}

// accessDenied is what a user who may not create webhooks is told.
func (b *Bot) accessDenied(r request) string {
	if b.cfg.AccessMode == AccessAdmins {
		return r.loc.T("access.admins_only", nil)
	}
	return r.loc.T("access.invite_only", nil)
}

// notice refuses a request: as the button's answer (a notice over the
// chat) when it came from a button, else as a reply.
func (b *Bot) notice(ctx context.Context, r request, text string) {
	if r.button && r.answer != nil {
		*r.answer = text
		return
	}
	b.reply(ctx, r.chat.ID, text, nil)
}

// answer replies to a request in its chat.
func (b *Bot) answer(ctx context.Context, r request, text string) {
	b.reply(ctx, r.chat.ID, text, nil)
}

func (b *Bot) handleEdited(ctx context.Context, m *models.Message) {
	if m.From == nil || m.From.IsBot || m.SenderChat != nil {
		return
	}
	cmd, _, addressed, ok := b.parseCommand(m.Text, m.Entities)
	if !ok {
		return
	}
	if _, known := b.commands[cmd]; m.Chat.Type == models.ChatTypePrivate || addressed || known {
		loc := b.loc.For(m.From.LanguageCode)
		if c, err := b.db.ChatByID(ctx, m.Chat.ID); err == nil {
			loc = b.localizer(c, *m.From)
		}
		b.reply(ctx, m.Chat.ID, loc.T("hint.edited", nil), nil)
	}
}

// handleChannelPost answers a command posted in a channel: a post has no
// author whose rights could be checked, so channels are not configured
// with commands.
func (b *Bot) handleChannelPost(ctx context.Context, m *models.Message) {
	if _, _, _, ok := b.parseCommand(m.Text, m.Entities); !ok {
		return
	}
	b.reply(ctx, m.Chat.ID, b.chatLocalizer(ctx, m.Chat.ID).T("error.channel", nil), nil)
}

// parseCommand splits "/cmd@bot args". It reports ok=false for text that is
// not a command and for a command addressed to another bot (which is
// ignored, not answered); addressed tells "/cmd@thisbot".
func (b *Bot) parseCommand(text string, entities []models.MessageEntity) (cmd, args string, addressed, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false, false
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
			return "", "", false, false
		}
		cmd, addressed = cmd[:at], true
	}
	return strings.ToLower(cmd), args, addressed, cmd != ""
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

// splitFirst splits args into its first word and the rest, the rest's
// inner spaces kept.
func splitFirst(args string) (first, rest string) {
	args = strings.TrimSpace(args)
	i := strings.IndexAny(args, " \t\n")
	if i < 0 {
		return args, ""
	}
	return args[:i], strings.TrimLeft(args[i:], " \t")
}

// badName answers an invalid name, shown cut and escaped.
func (b *Bot) badName(ctx context.Context, r request, name string) {
	b.answer(ctx, r, r.loc.T("error.name_invalid", map[string]any{"Name": html.EscapeString(truncate(name, 40))}))
}

// badNameSuggest answers a name that does not fit, with one that would
// when the text can be made into one ("My Orders!" → my-orders).
func (b *Bot) badNameSuggest(ctx context.Context, r request, raw string) {
	slug := suggestName(raw)
	if slug == "" {
		b.badName(ctx, r, raw)
		return
	}
	b.answer(ctx, r, r.loc.T("error.name_suggest", map[string]any{
		"Name": html.EscapeString(truncate(raw, 40)), "Suggestion": slug,
	}))
}

// translit spells Russian letters in Latin ones for suggestName.
var translit = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e", 'ж': "zh", 'з': "z", 'и': "i",
	'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "",
	'э': "e", 'ю': "yu", 'я': "ya",
}

// suggestName makes a valid webhook name of free text: lowercased, Russian
// spelt in Latin, every other run of characters a single "-", at most 32
// characters; "" when nothing usable is left.
func suggestName(s string) string {
	var sb strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch t, ok := translit[c]; {
		case ok:
			sb.WriteString(t)
			dash = false
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			sb.WriteRune(c)
			dash = false
		default:
			if !dash && sb.Len() > 0 {
				sb.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.Trim(sb.String(), "-")
	if len(out) > 32 {
		out = strings.TrimRight(out[:32], "-")
	}
	if !nameRE.MatchString(out) {
		return ""
	}
	return out
}

// callbackData makes a button's data: "cmd args". In a group a button
// works only for the one it was offered to, so it carries their id.
func callbackData(r request, cmd, args string) string {
	data := cmd
	if args != "" {
		data += " " + args
	}
	if !r.private() {
		data += "|" + strconv.FormatInt(r.user.ID, 10)
	}
	return data
}

// say sends a message and reports whether Telegram took it.
func (b *Bot) say(ctx context.Context, chatID int64, text string, kb models.ReplyMarkup) error {
	params := &tg.SendMessageParams{
		ChatID:             chatID,
		Text:               text,
		ParseMode:          models.ParseModeHTML,
		LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tg.True()},
		ReplyMarkup:        kb,
	}
	// Paced like reply (send.go): the bot-wide rate, and the chat's
	// notifications yield to it.
	if err := b.pace.wait(ctx); err != nil {
		return err
	}
	defer b.replied(ctx, chatID, chatTypeOf(chatID))
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	_, err := b.tg.SendMessage(ctx, params)
	return err
}

// deleteMessage deletes a message if the bot may (any in a private chat;
// in a group only as an administrator) and reports whether it did.
// Specs: https://core.telegram.org/bots/api#deletemessage
func (b *Bot) deleteMessage(ctx context.Context, chatID int64, msgID int) bool {
	if msgID == 0 {
		return false
	}
	if _, err := b.tg.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: chatID, MessageID: msgID}); err != nil {
		b.log.Debug("delete message", "chat_id", chatID, "error", err)
		return false
	}
	return true
}

func (b *Bot) internalError(ctx context.Context, r request, op string, err error) {
	b.log.Error("command failed", "op", op, "chat_id", r.chat.ID, "user_id", r.user.ID, "error", err)
	b.answer(ctx, r, r.loc.T("error.internal", nil))
}

// isNotFound tells storage's not-found.
func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

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

// fmtTime shows a moment to people: UTC, to the minute.
func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// handleMigration follows a group that became a supergroup as soon as
// Telegram says so — the old group's service message carries
// migrate_to_chat_id, the supergroup's first one migrate_from_chat_id —
// rather than at the next send's migrate_to_chat_id error. MigrateChat is
// safe to run twice (both messages, or a send that raced them).
// Specs: https://core.telegram.org/bots/api#message (migrate_to_chat_id)
func (b *Bot) handleMigration(ctx context.Context, m *models.Message) {
	from, to := m.Chat.ID, m.MigrateToChatID
	if to == 0 {
		from, to = m.MigrateFromChatID, m.Chat.ID
	}
	if err := b.db.MigrateChat(ctx, from, to, nil); err != nil {
		b.log.Error("follow group migration", "chat_id", from, "to", to, "error", err)
		return
	}
	b.log.Info("group became a supergroup; its subscriptions follow", "chat_id", from, "to", to)
}
