package bot

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"slices"
	"strings"

	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/storage"
)

// This file holds the commands about a user's webhooks: /newtoken,
// /regenerate, /revoke, /tokens, /subscribe, /unsubscribe, /secret, /test
// and /history.

func (b *Bot) hookURL(token string) string { return b.cfg.PublicURL + "/hook/" + token }

func (b *Bot) cmdNewToken(ctx context.Context, r request) {
	if strings.TrimSpace(r.args) == "" {
		b.answer(ctx, r, r.loc.T("newtoken.usage", nil))
		return
	}
	// The whole argument is the name: "/newtoken My Orders!" must not
	// quietly create "my". A name that does not fit is refused with one
	// that would.
	raw := strings.TrimSpace(r.args)
	name, ok := webhookName(raw)
	if !ok || strings.ToLower(raw) != name {
		b.badNameSuggest(ctx, r, raw)
		return
	}
	if !b.mayCreate(r) {
		b.answer(ctx, r, b.accessDenied(r))
		return
	}
	if !b.reachable(ctx, r) {
		b.askToStart(ctx, r, "newtoken", name)
		return
	}
	limit := b.cfg.MaxWebhooks
	if b.isAdmin(r.user.ID) {
		limit = 0
	}
	token := storage.NewToken()
	wh, err := b.db.CreateWebhookLimited(ctx, r.user.ID, name, storage.HashToken(token), r.chat.ID, limit)
	switch {
	case errors.Is(err, storage.ErrDuplicate):
		b.answer(ctx, r, r.loc.T("newtoken.exists", map[string]any{"Name": name}))
		return
	case errors.Is(err, storage.ErrQuota):
		b.answer(ctx, r, r.loc.T("newtoken.quota", map[string]any{"Webhooks": r.loc.N("count.webhooks", limit, nil)}))
		return
	case err != nil:
		b.internalError(ctx, r, "create webhook", err)
		return
	}
	b.log.Info("webhook created", "webhook_id", wh.ID, "user_id", r.user.ID, "chat_id", r.chat.ID)
	b.sendURL(ctx, r, wh.Name, token, false)
}

// sendURL hands out a webhook URL: in a private chat, there; from a group,
// privately to the administrator who asked, and the group is told so (SPEC
// §4: a secret URL is never posted where other members can read it).
func (b *Bot) sendURL(ctx context.Context, r request, name, token string, regenerated bool) {
	data := map[string]any{"Name": name, "URL": html.EscapeString(b.hookURL(token)), "Chat": html.EscapeString(r.chat.Title)}
	if r.private() {
		key := "newtoken.created"
		if regenerated {
			key = "regenerate.done"
		}
		b.reply(ctx, r.chat.ID, r.loc.T(key, data), nil)
		return
	}
	ploc := b.privateLocalizer(ctx, r.user)
	key := "newtoken.created_group"
	if regenerated {
		key = "regenerate.done_group"
	}
	if err := b.say(ctx, r.user.ID, ploc.T(key, data), nil); err != nil {
		b.log.Warn("send URL privately", "user_id", r.user.ID, "error", redact(err.Error(), b.cfg.Token))
		b.reply(ctx, r.chat.ID, r.loc.T("group.url_lost", map[string]any{"Name": name}), nil)
		return
	}
	b.reply(ctx, r.chat.ID, r.loc.T("group.url_sent", map[string]any{"Name": name, "User": html.EscapeString(r.user.FirstName)}), nil)
}

// ownWebhook resolves the webhook a command names among the user's own, or
// offers the user's webhooks as buttons when the name is missing. ok=false
// means the user has been answered already.
func (b *Bot) ownWebhook(ctx context.Context, r request, cmd string) (storage.Webhook, bool) {
	if strings.TrimSpace(r.args) == "" {
		b.offerWebhooks(ctx, r, cmd)
		return storage.Webhook{}, false
	}
	name, ok := webhookName(r.args)
	if !ok {
		b.badName(ctx, r, name)
		return storage.Webhook{}, false
	}
	wh, err := b.db.WebhookByName(ctx, r.user.ID, name)
	if isNotFound(err) {
		b.answer(ctx, r, r.loc.T("error.not_found", map[string]any{"Name": name}))
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
		b.answer(ctx, r, r.loc.T("pick.none", nil))
		return
	}
	names := make([]string, len(list))
	for i, w := range list {
		names[i] = w.Name
	}
	b.offer(ctx, r, cmd, names, r.loc.T("pick.webhook", nil))
}

// offer shows one button per name, each running cmd for it, two in a row.
func (b *Bot) offer(ctx context.Context, r request, cmd string, names []string, text string) {
	var rows [][]models.InlineKeyboardButton
	for i, n := range names {
		if i%2 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], models.InlineKeyboardButton{Text: n, CallbackData: callbackData(r, cmd, n)})
	}
	b.reply(ctx, r.chat.ID, text, &models.InlineKeyboardMarkup{InlineKeyboard: rows})
}

func (b *Bot) cmdRegenerate(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "regenerate")
	if !ok {
		return
	}
	// Check first that the new URL can reach its owner: once regenerated,
	// the old URL is dead and the new token exists nowhere else.
	if !b.reachable(ctx, r) {
		b.askToStart(ctx, r, "regenerate", wh.Name)
		return
	}
	token := storage.NewToken()
	if err := b.db.RegenerateToken(ctx, wh.ID, storage.HashToken(token)); err != nil {
		b.internalError(ctx, r, "regenerate", err)
		return
	}
	b.log.Info("webhook token regenerated", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.sendURL(ctx, r, wh.Name, token, true)
}

// cmdRegenerateAsk is /tokens' "New URL" button: one tap must not break
// every sender of the webhook, so it asks first, as Delete does.
func (b *Bot) cmdRegenerateAsk(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "regenerate")
	if !ok {
		return
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: r.loc.T("button.confirm_regenerate", nil), CallbackData: callbackData(r, "regenerate!", wh.Name)},
		{Text: r.loc.T("button.cancel", nil), CallbackData: callbackData(r, "cancel", "regenerate")},
	}}}
	b.reply(ctx, r.chat.ID, r.loc.T("regenerate.confirm", map[string]any{"Name": wh.Name}), kb)
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
			{Text: r.loc.T("button.confirm_revoke", nil), CallbackData: callbackData(r, "revoke!", wh.Name)},
			{Text: r.loc.T("button.cancel", nil), CallbackData: callbackData(r, "cancel", "")},
		}}}
		b.reply(ctx, r.chat.ID, r.loc.T("revoke.confirm", map[string]any{"Name": wh.Name}), kb)
		return
	}
	b.revoke(ctx, r, wh)
}

// cmdRevokeConfirmed is the "Yes, delete" button.
func (b *Bot) cmdRevokeConfirmed(ctx context.Context, r request) {
	name, _ := webhookName(r.args)
	wh, err := b.db.WebhookByName(ctx, r.user.ID, name)
	if isNotFound(err) {
		b.answer(ctx, r, r.loc.T("error.expired", nil))
		return
	}
	if err != nil {
		b.internalError(ctx, r, "webhook by name", err)
		return
	}
	b.revoke(ctx, r, wh)
}

func (b *Bot) revoke(ctx context.Context, r request, wh storage.Webhook) {
	if err := b.db.DeleteWebhook(ctx, wh.ID); err != nil && !isNotFound(err) {
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
		b.answer(ctx, r, r.loc.T("tokens.empty", nil))
		return
	}
	invites, err := b.db.InviteStates(ctx, r.user.ID) // invite.go
	if err != nil {
		b.internalError(ctx, r, "invite states", err)
		return
	}
	fwds, err := b.db.ForwardsByOwner(ctx, r.user.ID) // forward.go
	if err != nil {
		b.internalError(ctx, r, "list forwards", err)
		return
	}
	var sb strings.Builder
	sb.WriteString(r.loc.T("tokens.header", nil))
	rows := make([][]models.InlineKeyboardButton, 0, len(list))
	for _, w := range list {
		last := r.loc.T("tokens.never", nil)
		if w.LastEventAt != nil {
			last = fmtTime(*w.LastEventAt)
		}
		signing := r.loc.T("tokens.signed_none", nil)
		if w.Secret != "" {
			signing = r.loc.T("tokens.signed", nil)
		}
		chats := r.loc.N("tokens.chats", w.Chats, nil)
		if n := invites[w.ID].Invited; n > 0 {
			chats += " " + r.loc.N("invite.invited", n, nil)
		}
		sb.WriteString("\n")
		sb.WriteString(r.loc.T("tokens.item", map[string]any{
			"Name": w.Name, "Chats": chats, "Last": last, "Signing": signing,
		}))
		if invites[w.ID].Link {
			sb.WriteString(", " + r.loc.T("invite.link_on", nil))
		}
		if f, ok := fwds[w.ID]; ok {
			sb.WriteString(b.forwardLine(r, f, ok))
		}
		rows = append(rows, []models.InlineKeyboardButton{
			{Text: w.Name + " · " + r.loc.T("button.regenerate", nil), CallbackData: callbackData(r, "regenerate?", w.Name)},
			{Text: w.Name + " · " + r.loc.T("button.test", nil), CallbackData: callbackData(r, "test", w.Name)},
			{Text: w.Name + " · " + r.loc.T("button.revoke", nil), CallbackData: callbackData(r, "revoke", w.Name)},
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

// chatSubscription resolves the webhook a command names among those this
// chat receives (whoever owns it: the chat's administrators decide what
// arrives there), preferring the user's own when names collide. Without a
// name it offers them as buttons; mutedOnly offers only muted ones.
func (b *Bot) chatSubscription(ctx context.Context, r request, cmd string, mutedOnly bool) (storage.ChatSubscription, bool) {
	subs, err := b.db.ChatSubscriptions(ctx, r.chat.ID)
	if err != nil {
		b.internalError(ctx, r, "chat subscriptions", err)
		return storage.ChatSubscription{}, false
	}
	if strings.TrimSpace(r.args) == "" {
		var names []string
		for _, s := range subs {
			if (!mutedOnly || s.Muted) && !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
		switch {
		case len(names) > 0:
			b.offer(ctx, r, cmd, names, r.loc.T("pick.webhook", nil))
		case mutedOnly:
			b.answer(ctx, r, r.loc.T("unmute.none", nil))
		default:
			b.answer(ctx, r, r.loc.T("pick.none_here", nil))
		}
		return storage.ChatSubscription{}, false
	}
	name, ok := webhookName(r.args)
	if !ok {
		b.badName(ctx, r, name)
		return storage.ChatSubscription{}, false
	}
	found := -1
	for i, s := range subs {
		if s.Name == name && (found < 0 || s.OwnerID == r.user.ID) {
			found = i
		}
	}
	if found < 0 {
		b.answer(ctx, r, r.loc.T("error.not_subscribed", map[string]any{"Name": name}))
		return storage.ChatSubscription{}, false
	}
	return subs[found], true
}

func (b *Bot) cmdUnsubscribe(ctx context.Context, r request) {
	sub, ok := b.chatSubscription(ctx, r, "unsubscribe", false)
	if !ok {
		return
	}
	removed, err := b.db.Unsubscribe(ctx, sub.WebhookID, r.chat.ID)
	if err != nil {
		b.internalError(ctx, r, "unsubscribe", err)
		return
	}
	if !removed {
		b.answer(ctx, r, r.loc.T("error.not_subscribed", map[string]any{"Name": sub.Name}))
		return
	}
	key := "unsubscribe.done"
	if r.private() && sub.OwnerID != r.user.ID {
		key = "invite.left" // joined with an invite link (invite.go): /subscribe is not theirs
	}
	b.reply(ctx, r.chat.ID, r.loc.T(key, map[string]any{"Name": sub.Name}), nil)
	if sub.Held > 0 {
		b.cfg.Wake() // what a mute held is still delivered
	}
}

// maxSecret bounds a signing secret (Standard Webhooks keys are about 40
// characters; 256 leaves room for any scheme).
const maxSecret = 256

// cmdSecret sets or clears a webhook's signing secret (SPEC §5). The secret
// is the rest of the line after the name, inner spaces included. The
// message holding it is deleted when the bot may, and no answer repeats it.
func (b *Bot) cmdSecret(ctx context.Context, r request) {
	_, secret := splitFirst(r.args)
	hasSecret := secret != "" && !strings.EqualFold(secret, "off")
	deleted := false
	if hasSecret {
		deleted = b.deleteMessage(ctx, r.chat.ID, r.msgID)
	}
	wh, ok := b.ownWebhook(ctx, r, "secret")
	if !ok {
		return
	}
	data := map[string]any{"Name": wh.Name}
	switch {
	case secret == "":
		b.answer(ctx, r, r.loc.T("secret.usage", data))
		return
	case !hasSecret:
		if err := b.db.SetWebhookSecret(ctx, wh.ID, ""); err != nil {
			b.internalError(ctx, r, "clear secret", err)
			return
		}
		b.log.Info("webhook signing secret cleared", "webhook_id", wh.ID, "user_id", r.user.ID)
		b.reply(ctx, r.chat.ID, r.loc.T("secret.off", data), nil)
		return
	case strings.ContainsAny(secret, "\r\n"):
		b.reply(ctx, r.chat.ID, r.loc.T("secret.one_line", data)+b.notDeleted(r, deleted), nil)
		return
	case len(secret) > maxSecret:
		b.reply(ctx, r.chat.ID, r.loc.T("secret.too_long", map[string]any{"Name": wh.Name, "Max": maxSecret})+b.notDeleted(r, deleted), nil)
		return
	}
	if err := b.db.SetWebhookSecret(ctx, wh.ID, secret); err != nil {
		b.internalError(ctx, r, "set secret", err)
		return
	}
	b.log.Info("webhook signing secret set", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("secret.set", data)+b.notDeleted(r, deleted), nil)
}

// notDeleted is the warning added when a message holding a secret could
// not be deleted.
func (b *Bot) notDeleted(r request, deleted bool) string {
	switch {
	case deleted:
		return ""
	case r.private():
		return "\n\n" + r.loc.T("secret.not_deleted", nil)
	default:
		return "\n\n" + r.loc.T("secret.not_deleted_group", nil)
	}
}

// cmdTest sends a sample event through the whole pipeline: stored like a
// real one, then summarized, rendered and delivered by the relay to every
// chat the webhook goes to.
func (b *Bot) cmdTest(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "test")
	if !ok {
		return
	}
	body, err := json.Marshal(map[string]any{
		"event":   "test",
		"message": r.loc.T("test.sample", nil),
		"webhook": wh.Name,
		"sent_by": r.user.FirstName,
		"sent_at": b.db.Now().Format("2006-01-02T15:04:05Z"),
	})
	if err != nil {
		b.internalError(ctx, r, "test body", err)
		return
	}
	e := storage.Event{WebhookID: wh.ID, ContentType: "application/json",
		Headers: `{"Content-Type":"application/json","User-Agent":"Herald-Test"}`, Body: body}
	n, err := b.db.InsertEvent(ctx, &e)
	if err != nil {
		b.internalError(ctx, r, "insert test event", err)
		return
	}
	b.log.Info("test event queued", "webhook_id", wh.ID, "event_id", e.ID, "deliveries", n)
	if n == 0 {
		b.answer(ctx, r, r.loc.T("test.nobody", map[string]any{"Name": wh.Name}))
		return
	}
	b.reply(ctx, r.chat.ID, r.loc.T("test.sent", map[string]any{
		"Name": wh.Name, "ID": e.ID, "Chats": r.loc.N("tokens.chats", n, nil),
	}), nil)
	b.cfg.Wake() // after the reply, which should come first
}

// historyLimit is how many events /history shows.
const historyLimit = 10

func (b *Bot) cmdHistory(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "history")
	if !ok {
		return
	}
	events, err := b.db.EventsByWebhook(ctx, wh.ID, historyLimit)
	if err != nil {
		b.internalError(ctx, r, "history", err)
		return
	}
	if len(events) == 0 {
		b.reply(ctx, r.chat.ID, r.loc.T("history.empty", map[string]any{"Name": wh.Name}), nil)
		return
	}
	var sb strings.Builder
	sb.WriteString(r.loc.T("history.header", map[string]any{"Name": wh.Name, "Events": r.loc.N("count.events", len(events), nil)}))
	for _, e := range events {
		sb.WriteString("\n")
		sb.WriteString(r.loc.T("history.item", map[string]any{
			"Time": fmtTime(e.ReceivedAt), "Status": b.statusText(r, e.Status), "ID": e.ID,
		}))
		if e.Attempts > 1 {
			sb.WriteString(" " + r.loc.N("history.attempts", e.Attempts, nil))
		}
		if e.Status == storage.StatusFailed && e.Error != "" {
			sb.WriteString("\n   " + html.EscapeString(truncate(e.Error, 120)))
		}
	}
	b.reply(ctx, r.chat.ID, sb.String(), nil)
}

// statusText names an event status (SPEC §3) for people.
func (b *Bot) statusText(r request, status string) string {
	switch status {
	case storage.StatusQueued:
		return r.loc.T("status.queued", nil)
	case storage.StatusProcessing:
		return r.loc.T("status.processing", nil)
	case storage.StatusDelivered:
		return r.loc.T("status.delivered", nil)
	case storage.StatusFailed:
		return r.loc.T("status.failed", nil)
	}
	return html.EscapeString(status)
}
