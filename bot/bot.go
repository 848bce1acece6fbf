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
	Token     string        // TELEGRAM_BOT_TOKEN
	APIURL    string        // TELEGRAM_API_URL
	PublicURL string        // PUBLIC_URL, without a trailing slash
	Poll      time.Duration // long-polling timeout; 0 means 50s
}

// Bot handles updates and sends messages.
type Bot struct {
	tg  *tg.Bot
	db  *storage.DB
	loc *locales.Bundle
	log *slog.Logger
	cfg Config

	mu       sync.RWMutex
	username string // the bot's @username, learned from getMe
}

// New makes a Bot; it does not contact Telegram until Run.
func New(cfg Config, db *storage.DB, loc *locales.Bundle, log *slog.Logger) (*Bot, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 50 * time.Second
	}
	b := &Bot{db: db, loc: loc, log: log, cfg: cfg}
	// The client's timeout must outlast a long poll; every other call gets
	// its own deadline from its context.
	client := &http.Client{Timeout: cfg.Poll + 15*time.Second}
	t, err := tg.New(cfg.Token,
		tg.WithServerURL(cfg.APIURL),
		tg.WithSkipGetMe(),
		tg.WithHTTPClient(cfg.Poll, client),
		tg.WithDefaultHandler(b.handleUpdate),
		tg.WithErrorsHandler(func(err error) { log.Warn("telegram", "error", redact(err.Error(), cfg.Token)) }),
		tg.WithAllowedUpdates(tg.AllowedUpdates{"message", "edited_message", "callback_query", "my_chat_member"}),
		tg.WithWorkers(4),
	)
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	b.tg = t
	return b, nil
}

// redact removes the bot token from a text before it is logged.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}

// Run introduces the bot to Telegram (getMe, the command menu, polling mode)
// and handles updates until ctx ends. Telegram being unreachable at start is
// waited out, not fatal: the HTTP side keeps accepting events meanwhile.
func (b *Bot) Run(ctx context.Context) error {
	if err := b.introduce(ctx); err != nil {
		return err
	}
	b.tg.Start(ctx)
	return nil
}

func (b *Bot) introduce(ctx context.Context) error {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		err := b.setup(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, tg.ErrorUnauthorized) {
			return fmt.Errorf("bot: Telegram refused TELEGRAM_BOT_TOKEN: %w", err)
		}
		b.log.Warn("telegram unreachable, retrying", "error", redact(err.Error(), b.cfg.Token), "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (b *Bot) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	me, err := b.tg.GetMe(ctx)
	if err != nil {
		return fmt.Errorf("getMe: %w", err)
	}
	b.mu.Lock()
	b.username = me.Username
	b.mu.Unlock()
	// Polling and a webhook exclude each other; a webhook left over from
	// another deployment would make getUpdates fail.
	if _, err := b.tg.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
		return fmt.Errorf("deleteWebhook: %w", err)
	}
	return b.setCommands(ctx)
}

// menuCommands are the commands in the menu, in order.
var menuCommands = []string{"start", "help", "newtoken", "tokens", "subscribe", "unsubscribe", "regenerate", "revoke"}

// setCommands registers the command menu for the default language and for
// each supported one (Telegram picks by the user's language).
func (b *Bot) setCommands(ctx context.Context) error {
	for _, lang := range append([]string{""}, locales.Supported[1:]...) {
		loc := b.loc.For(lang)
		cmds := make([]models.BotCommand, len(menuCommands))
		for i, c := range menuCommands {
			cmds[i] = models.BotCommand{Command: c, Description: loc.T("menu."+c, nil)}
		}
		if _, err := b.tg.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: cmds, LanguageCode: lang}); err != nil {
			return fmt.Errorf("setMyCommands %q: %w", lang, err)
		}
	}
	return nil
}

func (b *Bot) botUsername() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.username
}
