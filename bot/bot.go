// Package bot is everything that speaks Telegram: the commands people type,
// their buttons, the command menu, and sending notifications for the relay
// with Telegram's failures translated into what the relay acts on.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// Config is what the bot needs to know.
type Config struct {
	Token      string        // TELEGRAM_BOT_TOKEN
	APIURL     string        // TELEGRAM_API_URL
	PublicURL  string        // PUBLIC_URL, without a trailing slash
	Poll       time.Duration // long-polling timeout; 0 means 50s
	AdminIDs   []int64       // ADMIN_IDS: who may run /stats, /queue, /ban, /unban, /grant
	AccessMode string        // ACCESS_MODE: open (default), invite or admins
	// MaxWebhooks is how many webhooks one user may have (admins: no
	// limit); 0 means DefaultMaxWebhooks.
	MaxWebhooks int
	// Wake rings the relay's doorbell after the bot queued deliveries
	// (/test, /unmute); nil means nobody listens (the relay's poll finds
	// them).
	Wake func()
	// MuteSweep is how often mutes that ran out are ended; 0 means 15s.
	MuteSweep time.Duration
	// Mode is TELEGRAM_MODE: "polling" (the default) or "webhook", in which
	// Telegram posts updates to PublicURL/telegram (WebhookHandler).
	Mode string
	// Limits are Telegram's flood limits to keep; the zero value means
	// DefaultLimits (see limiter.go).
	Limits Limits
	// Asker answers questions asked by replying to a notification
	// (ask.go); nil means no LLM is configured.
	Asker Asker
	// Forwarder is outbound forwarding (forward.go, SPEC §9); nil means
	// /forward and /deliveries answer that it is not available.
	Forwarder Forwarder
}

// DefaultMaxWebhooks is the per-user webhook quota unless Config says otherwise.
const DefaultMaxWebhooks = 20

// Access modes (ACCESS_MODE, SPEC §2).
const (
	AccessOpen   = "open"
	AccessInvite = "invite"
	AccessAdmins = "admins"
)

// Bot handles updates and sends messages.
type Bot struct {
	tg  *tg.Bot
	db  *storage.DB
	loc *locales.Bundle
	log *slog.Logger
	cfg Config

	commands map[string]command
	limits   Limits    // Config.Limits with defaults
	pace     *limiter  // the bot-wide send rate (limiter.go)
	hook     hookState // TELEGRAM_MODE=webhook (webhookmode.go)
	asks     *askState // questions about notifications (ask.go)

	mu       sync.RWMutex
	username string // the bot's @username, learned from getMe
}

// New makes a Bot; it does not contact Telegram until Run.
func New(cfg Config, db *storage.DB, loc *locales.Bundle, log *slog.Logger) (*Bot, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 50 * time.Second
	}
	if cfg.MaxWebhooks <= 0 {
		cfg.MaxWebhooks = DefaultMaxWebhooks
	}
	if cfg.AccessMode == "" {
		cfg.AccessMode = AccessOpen
	}
	if cfg.MuteSweep <= 0 {
		cfg.MuteSweep = 15 * time.Second
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	b := &Bot{db: db, loc: loc, log: log, cfg: cfg, commands: commandTable(), asks: newAskState()}
	b.limits = cfg.Limits.withDefaults()
	b.pace = newLimiter(db, b.limits)
	// The client's timeout must outlast a long poll; every other call gets
	// its own deadline from its context.
	client := &http.Client{Timeout: cfg.Poll + 15*time.Second}
	t, err := tg.New(cfg.Token,
		tg.WithServerURL(cfg.APIURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(cfg.Poll, client),
		tg.WithDefaultHandler(b.handleUpdate),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram", "error", redact(err.Error(), cfg.Token)) }),
		tg.WithAllowedUpdates(allowedUpdates),
		tg.WithWorkers(4),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.tg = t
	return b, nil
}

// allowedUpdates are the update kinds the bot handles.
// Specs: https://core.telegram.org/bots/api#getupdates (allowed_updates)
var allowedUpdates = tg.AllowedUpdates{"message", "edited_message", "channel_post", "callback_query", "my_chat_member"}

// redact removes the bot token from a text before it is logged.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}

// Run introduces the bot to Telegram (getMe, the command menu, polling mode)
// and handles updates until ctx ends. Telegram being unreachable at start is
// waited out, not fatal: the HTTP side keeps accepting events meanwhile. A
// token Telegram refuses ends Run with an error at once.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.introduce(ctx); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { defer close(done); b.sweepMutes(ctx) }()
	b.receive(ctx) // getUpdates, or webhook updates (webhookmode.go)
	<-done
	return nil
}

// sweepMutes ends the mutes whose time is up and hands what they held to
// the relay, until ctx ends.
func (b *Bot) sweepMutes(ctx context.Context) {
	t := time.NewTicker(b.cfg.MuteSweep)
	defer t.Stop()
	for {
		n, err := b.db.ReleaseMutes(ctx)
		if err != nil && ctx.Err() == nil {
			b.log.Warn("release mutes", "error", err)
		}
		if n > 0 {
			b.log.Info("mutes ended; held deliveries queued", "deliveries", n)
			b.cfg.Wake()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (b *Bot) introduce(ctx context.Context) error {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		err := b.setup(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, errWrongToken) || errors.Is(err, tg.ErrorUnauthorized) {
			return fmt.Errorf("bot: Telegram refused TELEGRAM_BOT_TOKEN: the token is wrong or revoked (copy it again from @BotFather): %w", err)
		}
		b.log.Warn("telegram unreachable, retrying", "error", redact(err.Error(), b.cfg.Token), "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// errWrongToken is a getMe that Telegram answered as it answers a token
// that is not a bot's.
var errWrongToken = errors.New("getMe refused")

func (b *Bot) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	me, err := b.tg.GetMe(ctx)
	// Telegram answers 401 Unauthorized to a token it cannot match and 404
	// Not Found to one its front cannot route (a mistyped or truncated
	// token): waiting cures neither. A 404 from a later call is not read as
	// the token's fault: getMe has just accepted it.
	if errors.Is(err, tg.ErrorUnauthorized) || errors.Is(err, tg.ErrorNotFound) {
		return fmt.Errorf("%w: %w", errWrongToken, err)
	}
	if err != nil {
		return fmt.Errorf("getMe: %w", err)
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	if err := b.setUpdateMode(ctx); err != nil { // webhookmode.go
		return err
	}
	if err := b.setCommands(ctx); err != nil {
		return err
	}
	// The first thing a new user needs: where the bot is.
	b.log.Info("connected to Telegram as @"+me.Username+": open https://t.me/"+me.Username, "bot", "@"+me.Username, "mode", b.cfg.Mode)
	return nil
}

// menuCommands are the commands in the menu, in order; adminCommands are
// added to it in the private chats of ADMIN_IDS.
var (
	menuCommands = []string{"start", "help", "newtoken", "tokens", "subscribe", "unsubscribe", "regenerate", "revoke",
		"secret", "test", "history", "invite", "mute", "unmute", "language", "tasks", "forward", "deliveries"}
	adminCommands = []string{"stats", "queue", "ban", "unban", "grant"}
)

// menu is the command menu in one language.
func (b *Bot) menu(loc *locales.Localizer, admin bool) []models.BotCommand {
	names := menuCommands
	if admin {
		names = append(slices.Clip(names), adminCommands...)
	}
	cmds := make([]models.BotCommand, len(names))
	for i, c := range names {
		cmds[i] = models.BotCommand{Command: c, Description: loc.T("menu."+c, nil)}
	}
	return cmds
}

// setCommands registers the command menu for the default language and for
// each supported one (Telegram picks by the user's language), and the
// admins' menus.
// Specs: https://core.telegram.org/bots/api#setmycommands
func (b *Bot) setCommands(ctx context.Context) error {
	for _, lang := range append([]string{""}, locales.Supported[1:]...) {
		params := &tg.SetMyCommandsParams{Commands: b.menu(b.loc.For(lang), false), LanguageCode: lang}
		if _, err := b.tg.SetMyCommands(ctx, params); err != nil {
			return fmt.Errorf("setMyCommands %q: %w", lang, err)
		}
	}
	for _, id := range b.cfg.AdminIDs {
		b.setAdminMenu(ctx, id)
	}
	return nil
}

// setAdminMenu gives an admin's private chat the menu with the admin
// commands. Telegram knows the chat only once the admin started the bot,
// so this is tried at start and again on the admin's /start.
func (b *Bot) setAdminMenu(ctx context.Context, adminID int64) {
	for _, lang := range append([]string{""}, locales.Supported[1:]...) {
		params := &tg.SetMyCommandsParams{
			Commands:     b.menu(b.loc.For(lang), true),
			Scope:        &models.BotCommandScopeChat{ChatID: adminID},
			LanguageCode: lang,
		}
		if _, err := b.tg.SetMyCommands(ctx, params); err != nil {
			b.log.Debug("admin command menu", "user_id", adminID, "error", err)
			return
		}
	}
}

func (b *Bot) botUsername() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.username
}
