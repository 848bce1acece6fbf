package bot

import (
	"context"
	"html"
	"strings"

	"github.com/herald-relay/herald/storage"
)

// Invite links (SPEC §4): /invite <name> makes a deep link,
// https://t.me/<bot>?start=join-<code>; whoever opens it subscribes their
// own private chat to that webhook. That is all they get: every command
// that reads or changes a webhook (/regenerate, /revoke, /secret, /test,
// /history, /invite…) looks it up among its caller's own, so to them it
// does not exist, while /unsubscribe and /mute act on what their chat
// receives, whoever owns it. A webhook has one live link: a new /invite
// replaces it (who joined stays), /invite <name> off ends it and removes
// everyone who joined with one, /regenerate ends it (the URL changed;
// subscribers stay), /revoke deletes it with every subscription. It never
// expires otherwise. Following a link creates no webhook, so ACCESS_MODE
// does not restrict it (the owner, admitted, decides who reads); banned
// users are refused like any command of theirs. Only the code's hash is
// stored.

// invitePrefix starts the deep-link parameter of an /invite link. A code
// is a storage.NewToken (43 characters of [A-Za-z0-9_-]): the parameter
// stays within Telegram's 64.
const invitePrefix = "join-"

// cmdInvite makes the invite link of one of the user's webhooks, or with
// "off" ends it. In a group, whose administrators alone may run it, the
// link is posted there: it is meant to be shared, and reveals no URL.
func (b *Bot) cmdInvite(ctx context.Context, r request) {
	wh, ok := b.ownWebhook(ctx, r, "invite")
	if !ok {
		return
	}
	_, rest := splitFirst(r.args)
	switch strings.ToLower(rest) {
	case "":
	case "off":
		b.endInvite(ctx, r, wh)
		return
	default:
		b.answer(ctx, r, r.loc.T("invite.usage", map[string]any{"Name": wh.Name}))
		return
	}
	code := storage.NewToken()
	if err := b.db.CreateInvite(ctx, wh.ID, storage.HashToken(code), r.user.ID); err != nil {
		b.internalError(ctx, r, "create invite", err)
		return
	}
	link := "https://t.me/" + b.botUsername() + "?start=" + invitePrefix + code
	b.log.Info("invite link made", "webhook_id", wh.ID, "user_id", r.user.ID, "chat_id", r.chat.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("invite.link", map[string]any{"Name": wh.Name, "Link": html.EscapeString(link)}), nil)
}

func (b *Bot) endInvite(ctx context.Context, r request, wh storage.Webhook) {
	had, removed, err := b.db.EndInvite(ctx, wh.ID)
	if err != nil {
		b.internalError(ctx, r, "end invite", err)
		return
	}
	b.log.Info("invite link turned off", "webhook_id", wh.ID, "user_id", r.user.ID, "unsubscribed", removed)
	data := map[string]any{"Name": wh.Name}
	switch {
	case removed > 0:
		b.reply(ctx, r.chat.ID, r.loc.N("invite.off", removed, data), nil)
		b.cfg.Wake() // what a mute held for them is still delivered
	case had:
		b.reply(ctx, r.chat.ID, r.loc.T("invite.off_nobody", data), nil)
	default:
		b.answer(ctx, r, r.loc.T("invite.none", data))
	}
}

// joinInvite follows an invite link: /start join-<code> in the private
// chat of whoever opened it.
func (b *Bot) joinInvite(ctx context.Context, r request, code string) {
	inv, created, err := b.db.JoinInvite(ctx, storage.HashToken(code), r.chat.ID, r.user.ID)
	if isNotFound(err) {
		// Forged, turned off, replaced or revoked alike: nothing to tell
		// apart, and the greeting still shows what the bot is.
		greeting := r.loc.T("start.greeting", map[string]any{"Name": html.EscapeString(r.user.FirstName)})
		b.reply(ctx, r.chat.ID, r.loc.T("invite.invalid", nil)+"\n\n"+greeting, nil)
		return
	}
	if err != nil {
		b.internalError(ctx, r, "join invite", err)
		return
	}
	data := map[string]any{"Name": inv.WebhookName, "Owner": html.EscapeString(inv.OwnerName)}
	if !created {
		b.reply(ctx, r.chat.ID, r.loc.T("invite.already", data), nil)
		return
	}
	b.log.Info("subscribed with an invite link", "webhook_id", inv.WebhookID, "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("invite.joined", data), nil)
	if inv.OwnerID == r.user.ID {
		return
	}
	// The owner sees who reads their events, and how to stop it.
	who := r.user.FirstName
	if r.user.Username != "" {
		who += " (@" + r.user.Username + ")"
	}
	text := b.chatLocalizer(ctx, inv.OwnerID).T("invite.owner_joined", map[string]any{"User": html.EscapeString(who), "Name": inv.WebhookName, "ChatID": r.chat.ID})
	if err := b.say(ctx, inv.OwnerID, text, nil); err != nil {
		b.log.Debug("tell the owner about an invited subscriber", "user_id", inv.OwnerID, "error", redact(err.Error(), b.cfg.Token))
	}
}
