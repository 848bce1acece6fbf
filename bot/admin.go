package bot

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/herald-relay/herald/storage"
)

// This file holds the commands of Herald's administrators (ADMIN_IDS):
// /stats, /queue, /ban, /unban and /grant.

func (b *Bot) cmdStats(ctx context.Context, r request) {
	s, err := b.db.Stats(ctx, b.db.Now().Add(-24*time.Hour))
	if err != nil {
		b.internalError(ctx, r, "stats", err)
		return
	}
	b.reply(ctx, r.chat.ID, r.loc.T("stats.text", map[string]any{
		"Users": s.Users, "Webhooks": s.Webhooks, "Chats": s.Chats,
		"Events": s.Events, "Delivered": s.Delivered, "Failed": s.FailedEvents,
		"Tokens": s.PromptTokens + s.CompletionTokens, "Prompt": s.PromptTokens, "Completion": s.CompletionTokens,
		"Pending": s.Pending, "Retrying": s.Retrying, "Held": s.Held,
	}), nil)
}

// stuckAfter is how long a delivery may wait before /queue calls it stuck.
const stuckAfter = 5 * time.Minute

// queueLimit is how many stuck deliveries and failed events /queue lists.
const queueLimit = 10

func (b *Bot) cmdQueue(ctx context.Context, r request) {
	stuck, err := b.db.StuckDeliveries(ctx, b.db.Now().Add(-stuckAfter), queueLimit)
	if err != nil {
		b.internalError(ctx, r, "stuck deliveries", err)
		return
	}
	failed, err := b.db.FailedEvents(ctx, queueLimit)
	if err != nil {
		b.internalError(ctx, r, "failed events", err)
		return
	}
	if len(stuck) == 0 && len(failed) == 0 {
		b.reply(ctx, r.chat.ID, r.loc.T("queue.empty", nil), nil)
		return
	}
	var sb strings.Builder
	if len(stuck) > 0 {
		sb.WriteString(r.loc.T("queue.stuck_header", nil))
		for _, d := range stuck {
			sb.WriteString("\n")
			sb.WriteString(r.loc.T("queue.stuck_item", map[string]any{
				"ID": d.EventID, "Webhook": d.Webhook, "Chat": d.ChatID,
				"Attempts": r.loc.N("queue.attempts", d.Attempts, nil), "Next": fmtTime(d.NextAttemptAt),
				"Since": fmtTime(d.CreatedAt),
			}))
			if d.Error != "" {
				sb.WriteString("\n   " + html.EscapeString(truncate(d.Error, 120)))
			}
		}
	}
	if len(failed) > 0 {
		if sb.Len() > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(r.loc.T("queue.failed_header", nil))
		for _, e := range failed {
			sb.WriteString("\n")
			sb.WriteString(r.loc.T("queue.failed_item", map[string]any{
				"ID": e.ID, "Webhook": e.Webhook, "Time": fmtTime(e.ReceivedAt), "Error": html.EscapeString(truncate(e.Error, 120)),
			}))
		}
	}
	b.reply(ctx, r.chat.ID, sb.String(), nil)
}

// userIDArg reads the user id argument of /ban and /unban.
func userIDArg(args string) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(args), 10, 64)
	return id, err == nil && id > 0
}

func (b *Bot) cmdBan(ctx context.Context, r request) {
	id, ok := userIDArg(r.args)
	if !ok {
		b.reply(ctx, r.chat.ID, r.loc.T("ban.usage", nil), nil)
		return
	}
	if b.isAdmin(id) {
		b.reply(ctx, r.chat.ID, r.loc.T("ban.admin", nil), nil)
		return
	}
	// A ban may come before the user ever wrote: it holds when they do.
	if _, err := b.db.EnsureUser(ctx, id); err != nil {
		b.internalError(ctx, r, "ensure user", err)
		return
	}
	if err := b.db.SetBanned(ctx, id, true); err != nil {
		b.internalError(ctx, r, "ban", err)
		return
	}
	hooks, err := b.db.WebhooksByOwner(ctx, id)
	if err != nil {
		b.internalError(ctx, r, "list webhooks", err)
		return
	}
	b.log.Info("user banned", "user_id", id, "by", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("ban.done", map[string]any{"ID": id, "Webhooks": r.loc.N("count.webhooks", len(hooks), nil)}), nil)
}

func (b *Bot) cmdUnban(ctx context.Context, r request) {
	id, ok := userIDArg(r.args)
	if !ok {
		b.reply(ctx, r.chat.ID, r.loc.T("unban.usage", nil), nil)
		return
	}
	u, err := b.db.UserByID(ctx, id)
	if isNotFound(err) || (err == nil && !u.Banned) {
		b.reply(ctx, r.chat.ID, r.loc.T("unban.not_banned", map[string]any{"ID": id}), nil)
		return
	}
	if err != nil {
		b.internalError(ctx, r, "user by id", err)
		return
	}
	if err := b.db.SetBanned(ctx, id, false); err != nil {
		b.internalError(ctx, r, "unban", err)
		return
	}
	b.log.Info("user unbanned", "user_id", id, "by", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("unban.done", map[string]any{"ID": id}), nil)
}

// grantTTL is how long a /grant link stays valid.
const grantTTL = 7 * 24 * time.Hour

// grantPrefix starts the deep-link parameter of a /grant link.
const grantPrefix = "grant-"

// cmdGrant makes a one-time deep link that admits one new user under
// ACCESS_MODE=invite. Only the code's hash is stored.
func (b *Bot) cmdGrant(ctx context.Context, r request) {
	code := storage.NewToken()
	if err := b.db.CreateGrant(ctx, storage.HashToken(code), r.user.ID, b.db.Now().Add(grantTTL)); err != nil {
		b.internalError(ctx, r, "create grant", err)
		return
	}
	link := "https://t.me/" + b.botUsername() + "?start=" + grantPrefix + code
	text := r.loc.T("grant.link", map[string]any{"Link": html.EscapeString(link), "Days": r.loc.N("duration.days", int(grantTTL/(24*time.Hour)), nil)})
	switch b.cfg.AccessMode {
	case AccessOpen:
		text += "\n\n" + r.loc.T("grant.note_open", nil)
	case AccessAdmins:
		text += "\n\n" + r.loc.T("grant.note_admins", nil)
	}
	b.log.Info("grant link made", "by", r.user.ID)
	b.reply(ctx, r.chat.ID, text, nil)
}

// redeemGrant admits the user with a /grant link's code.
func (b *Bot) redeemGrant(ctx context.Context, r request, code string) {
	if b.isAdmin(r.user.ID) || r.account.Granted {
		b.reply(ctx, r.chat.ID, r.loc.T("grant.already", nil), nil)
		return
	}
	err := b.db.RedeemGrant(ctx, storage.HashToken(code), r.user.ID)
	if isNotFound(err) {
		b.reply(ctx, r.chat.ID, r.loc.T("grant.invalid", nil), nil)
		return
	}
	if err != nil {
		b.internalError(ctx, r, "redeem grant", err)
		return
	}
	b.log.Info("user admitted by a grant link", "user_id", r.user.ID)
	b.reply(ctx, r.chat.ID, r.loc.T("grant.welcome", nil), nil)
}
