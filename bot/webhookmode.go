package bot

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// In TELEGRAM_MODE=webhook Telegram posts each update to PUBLIC_URL/telegram
// instead of the bot polling for it, so several herald processes behind one
// address can share a bot (getUpdates allows one poller per bot). Each update
// carries the secret token given to setWebhook; an update without it is
// refused with 401. The secret is random, made once and kept in the database,
// so every process sharing it checks the same one.
// Specs: https://core.telegram.org/bots/api#setwebhook

// ModeWebhook is Config.Mode for TELEGRAM_MODE=webhook.
const ModeWebhook = "webhook"

// webhookSecretKey is the settings row holding the secret token.
const webhookSecretKey = "telegram_webhook_secret"

// maxUpdateBytes bounds one update's body; updates are a few KiB.
const maxUpdateBytes = 1 << 20

// hookState caches the secret token once read from the database.
type hookState struct {
	mu     sync.Mutex
	secret string
}

// WebhookPath is where Telegram posts updates in webhook mode.
const WebhookPath = "/telegram"

// webhookSecret returns the secret token every process shares, making it on
// first use.
func (b *Bot) webhookSecret(ctx context.Context) (string, error) {
	b.hook.mu.Lock()
	defer b.hook.mu.Unlock()
	if b.hook.secret != "" {
		return b.hook.secret, nil
	}
	var raw [32]byte
	rand.Read(raw[:])
	s, err := b.db.EnsureSetting(ctx, webhookSecretKey, hex.EncodeToString(raw[:]))
	if err != nil {
		return "", err
	}
	b.hook.secret = s
	return s, nil
}

// setUpdateMode tells Telegram how updates reach the bot: by getUpdates
// (deleting a webhook left by another deployment, which would make polling
// fail) or by the webhook at PublicURL/telegram with the secret token.
func (b *Bot) setUpdateMode(ctx context.Context) error {
	if b.cfg.Mode != ModeWebhook {
		if _, err := b.tg.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
			return fmt.Errorf("deleteWebhook: %w", err)
		}
		return nil
	}
	secret, err := b.webhookSecret(ctx)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	if _, err := b.tg.SetWebhook(ctx, &tg.SetWebhookParams{
		URL:            b.cfg.PublicURL + WebhookPath,
		SecretToken:    secret,
		AllowedUpdates: allowedUpdates,
	}); err != nil {
		return fmt.Errorf("setWebhook: %w", err)
	}
	b.log.Info("telegram webhook set", "url", b.cfg.PublicURL+WebhookPath)
	return nil
}

// receive handles updates until ctx ends: by long polling, or, in webhook
// mode, as WebhookHandler is given them.
func (b *Bot) receive(ctx context.Context) {
	if b.cfg.Mode != ModeWebhook {
		b.tg.Start(ctx)
		return
	}
	<-ctx.Done()
}

// WebhookHandler serves POST /telegram in webhook mode: it checks the secret
// token (401 without it), handles the update and answers 200 once it is
// handled, so that an update a crash interrupted is posted again by Telegram.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, err := b.webhookSecret(r.Context())
		if err != nil {
			b.log.Warn("telegram update: webhook secret unavailable", "error", err)
			w.Header().Set("Retry-After", "5")
			writeHookJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily unavailable"})
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			writeHookJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong secret token"})
			return
		}
		var u models.Update
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxUpdateBytes)).Decode(&u); err != nil {
			writeHookJSON(w, http.StatusBadRequest, map[string]string{"error": "not a Telegram update"})
			return
		}
		// The update is handled to the end even if Telegram hangs up.
		b.handleUpdate(context.WithoutCancel(r.Context()), b.tg, &u)
		writeHookJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
}

func writeHookJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
