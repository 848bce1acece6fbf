package bot

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/locales"
)

// This file holds the commands that configure a chat rather than a
// webhook: /mute, /unmute and /language.
//
// A mute holds deliveries back rather than dropping events: the relay
// still gets a delivery row for every event (status "muted", see
// storage.StatusMuted), which is not claimed and does not hold back the
// chat's other webhooks; /unmute, the mute's end or /unsubscribe queue
// them in their original order.

// maxMute is the longest timed mute; longer means "until /unmute".
const maxMute = 365 * 24 * time.Hour

var durationRE = regexp.MustCompile(`^(?:\d{1,4}[mhdw])+$`)
var durationPartRE = regexp.MustCompile(`(\d{1,4})([mhdw])`)

// parseMuteDuration reads 30m, 1h, 2h30m, 1d, 2w.
func parseMuteDuration(s string) (time.Duration, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !durationRE.MatchString(s) {
		return 0, false
	}
	var d time.Duration
	for _, m := range durationPartRE.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		d += time.Duration(n) * unit
	}
	return d, d >= time.Minute && d <= maxMute
}

// humanDuration says a duration in words, with the language's plurals:
// "1 day 2 hours", "2 часа 30 минут".
func humanDuration(loc *locales.Localizer, d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, minutes := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, loc.N("duration.days", days, nil))
	}
	if hours > 0 {
		parts = append(parts, loc.N("duration.hours", hours, nil))
	}
	if minutes > 0 || len(parts) == 0 {
		parts = append(parts, loc.N("duration.minutes", minutes, nil))
	}
	return strings.Join(parts, " ")
}

func (b *Bot) cmdMute(ctx context.Context, r request) {
	sub, ok := b.chatSubscription(ctx, r, "mute", false)
	if !ok {
		return
	}
	_, rest := splitFirst(r.args)
	var until *time.Time
	var d time.Duration
	if rest != "" {
		if d, ok = parseMuteDuration(rest); !ok {
			b.answer(ctx, r, r.loc.T("mute.bad_duration", map[string]any{"Name": sub.Name}))
			return
		}
		t := b.db.Now().Add(d)
		until = &t
	}
	if err := b.db.Mute(ctx, sub.WebhookID, r.chat.ID, until); err != nil {
		b.internalError(ctx, r, "mute", err)
		return
	}
	b.log.Info("webhook muted", "webhook_id", sub.WebhookID, "chat_id", r.chat.ID, "for", d)
	if until == nil {
		b.reply(ctx, r.chat.ID, r.loc.T("mute.done", map[string]any{"Name": sub.Name}), nil)
		return
	}
	b.reply(ctx, r.chat.ID, r.loc.T("mute.done_for", map[string]any{
		"Name": sub.Name, "For": humanDuration(r.loc, d), "Until": fmtTime(*until),
	}), nil)
}

func (b *Bot) cmdUnmute(ctx context.Context, r request) {
	sub, ok := b.chatSubscription(ctx, r, "unmute", true)
	if !ok {
		return
	}
	if !sub.Muted {
		b.answer(ctx, r, r.loc.T("unmute.not_muted", map[string]any{"Name": sub.Name}))
		return
	}
	n, err := b.db.Unmute(ctx, sub.WebhookID, r.chat.ID)
	if err != nil {
		b.internalError(ctx, r, "unmute", err)
		return
	}
	b.log.Info("webhook unmuted", "webhook_id", sub.WebhookID, "chat_id", r.chat.ID, "released", n)
	if n == 0 {
		b.reply(ctx, r.chat.ID, r.loc.T("unmute.done", map[string]any{"Name": sub.Name}), nil)
		return
	}
	b.reply(ctx, r.chat.ID, r.loc.T("unmute.done_held", map[string]any{
		"Name": sub.Name, "Events": r.loc.N("count.events", n, nil),
	}), nil)
	b.cfg.Wake() // after the reply, which should come first
}

// cmdLanguage sets the chat's language: its notifications and the bot's
// answers there, whatever language its members' Telegram apps use.
func (b *Bot) cmdLanguage(ctx context.Context, r request) {
	arg := strings.ToLower(strings.TrimSpace(r.args))
	if arg == "" {
		var row []models.InlineKeyboardButton
		for _, lang := range locales.Supported {
			row = append(row, models.InlineKeyboardButton{
				Text: b.loc.For(lang).T("language.name", nil), CallbackData: callbackData(r, "language", lang),
			})
		}
		b.reply(ctx, r.chat.ID, r.loc.T("language.pick", nil), &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}})
		return
	}
	lang := ""
	for _, l := range locales.Supported {
		if arg == l || strings.EqualFold(arg, b.loc.For(l).T("language.name", nil)) {
			lang = l
		}
	}
	if lang == "" {
		b.answer(ctx, r, r.loc.T("language.usage", nil))
		return
	}
	if err := b.db.SetChatLanguage(ctx, r.chat.ID, lang); err != nil {
		b.internalError(ctx, r, "set language", err)
		return
	}
	b.log.Info("chat language set", "chat_id", r.chat.ID, "language", lang)
	b.reply(ctx, r.chat.ID, b.loc.For(lang).T("language.done", nil), nil)
}
