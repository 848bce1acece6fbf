package bot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/storage"
)

// This file holds outbound forwarding's commands (SPEC §9): /forward and
// /deliveries.
//
//	/forward                 the user's webhooks as buttons
//	/forward name            its forward, with buttons (pause or resume, test, attempts, off)
//	/forward name URL        forward to URL: a new forward gets a signing secret, shown once
//	/forward name off        stop forwarding (the "Turn off" button asks first: "stop")
//	/forward name pause      stop for a while, settings kept; "resume" goes on
//	/forward name test       send a test message now and say what came of it
//	/deliveries name         the latest attempts

// Forwarder is outbound forwarding as the bot drives it (forward.Worker).
type Forwarder interface {
	// CheckURL validates a URL as typed and returns the one to store; a
	// refusal is a *forward.URLError.
	CheckURL(ctx context.Context, raw string) (string, error)
	// SendTest sends a test message to a forward's URL now.
	SendTest(ctx context.Context, forwardID int64) (storage.ForwardAttempt, error)
	// Settle is the forwarding cursor's settle time (storage.SetForward).
	Settle() time.Duration
	// Schedule is the wait after each failed attempt.
	Schedule() []time.Duration
	// Wake tells the forwarding workers that work may be waiting.
	Wake()
}

// deliveriesLimit is how many attempts /deliveries lists.
const deliveriesLimit = 10

func (b *Bot) cmdForward(ctx context.Context, r request) {
	if b.cfg.Forwarder == nil {
		b.answer(ctx, r, r.loc.T("forward.unavailable", nil))
		return
	}
	if strings.TrimSpace(r.args) == "" {
		b.answerUsageAndOffer(ctx, r)
		return
	}
	_, rest := splitFirst(r.args)
	action, extra := splitFirst(rest)
	if !looksLikeURL(action) {
		action = strings.ToLower(action)
	}
	wh, ok := b.ownWebhook(ctx, r, "forward")
	if !ok {
		return
	}
	switch action {
	case "":
		b.showForward(ctx, r, wh)
	case "off":
		b.forwardOff(ctx, r, wh)
	case "stop":
		b.confirmForwardOff(ctx, r, wh)
	case "pause", "resume":
		b.pauseForward(ctx, r, wh, action == "pause")
	case "test":
		b.testForward(ctx, r, wh)
	default:
		if extra != "" || !looksLikeURL(action) {
			b.answer(ctx, r, r.loc.T("forward.bad_action", map[string]any{"Action": html.EscapeString(truncate(rest, 40))}))
			return
		}
		b.setForward(ctx, r, wh, action)
	}
}

// looksLikeURL tells a URL argument from an action word.
func looksLikeURL(s string) bool { return strings.Contains(s, "://") || strings.Contains(s, ".") }

// answerUsageAndOffer answers a bare /forward: what it does, and the
// user's webhooks as buttons.
func (b *Bot) answerUsageAndOffer(ctx context.Context, r request) {
	list, err := b.db.WebhooksByOwner(ctx, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "list webhooks", err)
		return
	}
	if len(list) == 0 {
		b.answer(ctx, r, r.loc.T("forward.usage", nil))
		return
	}
	names := make([]string, len(list))
	for i, w := range list {
		names[i] = w.Name
	}
	b.offer(ctx, r, "forward", names, r.loc.T("forward.usage", nil)+"\n\n"+r.loc.T("pick.webhook", nil))
}

// forwardOf reads a webhook's forward; ok=false means the user has been
// answered (not forwarded, or an error).
func (b *Bot) forwardOf(ctx context.Context, r request, wh storage.Webhook) (storage.Forward, bool) {
	f, err := b.db.ForwardByWebhook(ctx, wh.ID)
	if isNotFound(err) {
		b.answer(ctx, r, r.loc.T("forward.not_set", map[string]any{"Name": wh.Name}))
		return storage.Forward{}, false
	}
	if err != nil {
		b.internalError(ctx, r, "forward by webhook", err)
		return storage.Forward{}, false
	}
	return f, true
}

// showForward shows a webhook's forward with its buttons.
func (b *Bot) showForward(ctx context.Context, r request, wh storage.Webhook) {
	f, ok := b.forwardOf(ctx, r, wh)
	if !ok {
		return
	}
	state := r.loc.T("forward.state_active", nil)
	toggle := models.InlineKeyboardButton{Text: r.loc.T("forward.button.pause", nil), CallbackData: callbackData(r, "forward", wh.Name+" pause")}
	if f.Paused {
		state = r.loc.T("forward.state_paused", nil)
		toggle = models.InlineKeyboardButton{Text: r.loc.T("forward.button.resume", nil), CallbackData: callbackData(r, "forward", wh.Name+" resume")}
	}
	text := r.loc.T("forward.status", map[string]any{"Name": wh.Name, "Host": html.EscapeString(forward.Host(f.URL)), "State": state})
	if q, err := b.db.ForwardQueueOf(ctx, f.ID); err == nil {
		text += b.queueLines(r, q)
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{toggle, {Text: r.loc.T("forward.button.test", nil), CallbackData: callbackData(r, "forward", wh.Name+" test")}},
		{
			{Text: r.loc.T("forward.button.deliveries", nil), CallbackData: callbackData(r, "deliveries", wh.Name)},
			{Text: r.loc.T("forward.button.off", nil), CallbackData: callbackData(r, "forward", wh.Name+" stop")},
		},
	}}
	b.reply(ctx, r.chat.ID, text, kb)
}

// queueLines tells what waits for a forward's URL, if anything.
func (b *Bot) queueLines(r request, q storage.ForwardQueue) string {
	var sb strings.Builder
	if q.Pending > 0 {
		sb.WriteString("\n" + r.loc.N("forward.deliveries.pending", q.Pending, nil))
		if q.NextAt != nil {
			sb.WriteString(" " + r.loc.T("forward.deliveries.next", map[string]any{"Time": fmtSeconds(*q.NextAt)}))
		}
	}
	if q.Failed > 0 {
		sb.WriteString("\n" + r.loc.N("forward.deliveries.failed_total", q.Failed, nil))
	}
	return sb.String()
}

// setForward forwards a webhook to a URL. A new forward's signing secret is
// shown once: here in a private chat; from a group, privately to the
// administrator who asked (SPEC §4: a secret is never posted where other
// members can read it), and if the bot cannot write to them, nothing is
// set up.
func (b *Bot) setForward(ctx context.Context, r request, wh storage.Webhook, raw string) {
	if !r.private() {
		// The URL may hold a token of the receiver's (Slack's and
		// Zapier's do): off the group's screen.
		if !b.deleteMessage(ctx, r.chat.ID, r.msgID) && r.msgID != 0 {
			defer b.answer(ctx, r, r.loc.T("forward.url_visible", nil))
		}
	}
	target, err := b.cfg.Forwarder.CheckURL(ctx, raw)
	if err != nil {
		b.answer(ctx, r, b.urlProblem(r, wh.Name, err))
		return
	}
	host := html.EscapeString(forward.Host(target))
	data := map[string]any{"Name": wh.Name, "Host": host}
	existing, err := b.db.ForwardByWebhook(ctx, wh.ID)
	isNew := isNotFound(err)
	if err != nil && !isNew {
		b.internalError(ctx, r, "forward by webhook", err)
		return
	}
	if isNew && !b.reachable(ctx, r) {
		b.askToStartForSecret(ctx, r)
		return
	}
	secret := forward.NewSecret()
	f, created, err := b.db.SetForward(ctx, wh.ID, target, secret, r.user.ID, b.cfg.Forwarder.Settle())
	if err != nil {
		b.internalError(ctx, r, "set forward", err)
		return
	}
	b.log.Info("forward set", "webhook_id", wh.ID, "forward_id", f.ID, "host", forward.Host(target), "new", created, "user_id", r.user.ID)
	if !created {
		text := r.loc.T("forward.changed", data)
		if existing.Paused || f.Paused {
			text += "\n" + r.loc.T("forward.still_paused", data)
		}
		b.answer(ctx, r, text)
		return
	}
	secretData := map[string]any{"Name": wh.Name, "Host": host, "Secret": html.EscapeString(f.Secret), "Chat": html.EscapeString(r.chat.Title)}
	if r.private() {
		b.answer(ctx, r, r.loc.T("forward.created", secretData))
		return
	}
	ploc := b.privateLocalizer(ctx, r.user)
	if err := b.say(ctx, r.user.ID, ploc.T("forward.created_group", secretData), nil); err != nil {
		b.log.Warn("send forward secret privately", "user_id", r.user.ID, "error", redact(err.Error(), b.cfg.Token))
		// A forward whose secret nobody has is of no use: undo it.
		if err := b.db.DeleteForward(ctx, wh.ID); err != nil && !isNotFound(err) {
			b.log.Error("undo forward", "webhook_id", wh.ID, "error", err)
		}
		b.answer(ctx, r, r.loc.T("forward.secret_lost", data))
		return
	}
	b.answer(ctx, r, r.loc.T("forward.secret_sent", map[string]any{"Name": wh.Name, "Host": host, "User": html.EscapeString(r.user.FirstName)}))
}

// askToStartForSecret answers a group administrator the bot cannot write
// to privately: a button opens the private chat; the command is then sent
// again (a deep link cannot carry the URL).
func (b *Bot) askToStartForSecret(ctx context.Context, r request) {
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: r.loc.T("button.start_bot", nil), URL: "https://t.me/" + b.botUsername()},
	}}}
	b.reply(ctx, r.chat.ID, r.loc.T("forward.start_first", map[string]any{"User": html.EscapeString(r.user.FirstName)}), kb)
}

// urlProblem explains a URL that CheckURL refused.
func (b *Bot) urlProblem(r request, name string, err error) string {
	var ue *forward.URLError
	if !errors.As(err, &ue) {
		return r.loc.T("error.internal", nil)
	}
	data := map[string]any{"Name": name, "Host": html.EscapeString(truncate(ue.Host, 80)), "Max": forward.MaxURL}
	switch ue.Reason {
	case forward.ReasonScheme:
		return r.loc.T("forward.error_url.scheme", data)
	case forward.ReasonHost:
		return r.loc.T("forward.error_url.host", data)
	case forward.ReasonTooLong:
		return r.loc.T("forward.error_url.too_long", data)
	case forward.ReasonPrivate:
		return r.loc.T("forward.error_url.private", data)
	case forward.ReasonNotFound:
		return r.loc.T("forward.error_url.lookup", data)
	}
	return r.loc.T("forward.error_url.syntax", data)
}

func (b *Bot) forwardOff(ctx context.Context, r request, wh storage.Webhook) {
	err := b.db.DeleteForward(ctx, wh.ID)
	if isNotFound(err) {
		b.answer(ctx, r, r.loc.T("forward.not_set", map[string]any{"Name": wh.Name}))
		return
	}
	if err != nil {
		b.internalError(ctx, r, "delete forward", err)
		return
	}
	b.log.Info("forward removed", "webhook_id", wh.ID, "user_id", r.user.ID)
	b.answer(ctx, r, r.loc.T("forward.off", map[string]any{"Name": wh.Name}))
}

// confirmForwardOff asks before the "Turn off" button deletes a forward
// (its secret is gone for good).
func (b *Bot) confirmForwardOff(ctx context.Context, r request, wh storage.Webhook) {
	f, ok := b.forwardOf(ctx, r, wh)
	if !ok {
		return
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: r.loc.T("forward.button.confirm_off", nil), CallbackData: callbackData(r, "forward", wh.Name+" off")},
		{Text: r.loc.T("button.cancel", nil), CallbackData: callbackData(r, "cancel", "")},
	}}}
	b.reply(ctx, r.chat.ID, r.loc.T("forward.confirm_off", map[string]any{"Name": wh.Name, "Host": html.EscapeString(forward.Host(f.URL))}), kb)
}

func (b *Bot) pauseForward(ctx context.Context, r request, wh storage.Webhook, pause bool) {
	changed, err := b.db.PauseForward(ctx, wh.ID, pause, b.cfg.Forwarder.Settle())
	data := map[string]any{"Name": wh.Name}
	switch {
	case isNotFound(err):
		b.answer(ctx, r, r.loc.T("forward.not_set", data))
		return
	case err != nil:
		b.internalError(ctx, r, "pause forward", err)
		return
	}
	key := "forward.resumed"
	switch {
	case pause && changed:
		key = "forward.paused"
	case pause:
		key = "forward.already_paused"
	case !changed:
		key = "forward.already_active"
	}
	if changed {
		b.log.Info("forward paused or resumed", "webhook_id", wh.ID, "paused", pause, "user_id", r.user.ID)
	}
	b.answer(ctx, r, r.loc.T(key, data))
	if changed && !pause {
		b.cfg.Forwarder.Wake() // retries held by the pause are due
	}
}

// testForward sends a test message at once and says what came of it.
func (b *Bot) testForward(ctx context.Context, r request, wh storage.Webhook) {
	f, ok := b.forwardOf(ctx, r, wh)
	if !ok {
		return
	}
	a, err := b.cfg.Forwarder.SendTest(ctx, f.ID)
	if isNotFound(err) {
		b.answer(ctx, r, r.loc.T("forward.not_set", map[string]any{"Name": wh.Name}))
		return
	}
	if err != nil {
		b.internalError(ctx, r, "forward test", err)
		return
	}
	host := html.EscapeString(forward.Host(f.URL))
	if a.OK {
		b.answer(ctx, r, r.loc.T("forward.test_ok", map[string]any{"Host": host, "Status": a.StatusCode, "Duration": a.DurationMS}))
		return
	}
	b.answer(ctx, r, r.loc.T("forward.test_failed", map[string]any{"Host": host, "Reason": attemptResult(r, a)}))
}

// attemptResult is a failed attempt's outcome for people, escaped: the
// status and the answer's start, or why there was none.
func attemptResult(r request, a storage.ForwardAttempt) string {
	res := r.loc.T("forward.deliveries.no_answer", nil)
	if a.StatusCode > 0 {
		res = fmt.Sprintf("HTTP %d", a.StatusCode)
	}
	if a.Excerpt != "" {
		res += " — <i>" + html.EscapeString(a.Excerpt) + "</i>"
	}
	return res
}

// cmdDeliveries lists a forward's latest attempts, newest first.
func (b *Bot) cmdDeliveries(ctx context.Context, r request) {
	if b.cfg.Forwarder == nil {
		b.answer(ctx, r, r.loc.T("forward.unavailable", nil))
		return
	}
	if strings.TrimSpace(r.args) == "" {
		b.offerForwarded(ctx, r)
		return
	}
	wh, ok := b.ownWebhook(ctx, r, "deliveries")
	if !ok {
		return
	}
	f, ok := b.forwardOf(ctx, r, wh)
	if !ok {
		return
	}
	attempts, err := b.db.ForwardAttempts(ctx, f.ID, deliveriesLimit)
	if err != nil {
		b.internalError(ctx, r, "forward attempts", err)
		return
	}
	q, err := b.db.ForwardQueueOf(ctx, f.ID)
	if err != nil {
		b.internalError(ctx, r, "forward queue", err)
		return
	}
	host := html.EscapeString(forward.Host(f.URL))
	if len(attempts) == 0 {
		b.answer(ctx, r, r.loc.T("forward.deliveries.empty", map[string]any{"Name": wh.Name, "Host": host})+b.queueLines(r, q))
		return
	}
	paused := ""
	if f.Paused {
		paused = r.loc.T("forward.deliveries.paused", nil)
	}
	of := len(b.cfg.Forwarder.Schedule()) + 1
	var sb strings.Builder
	sb.WriteString(r.loc.T("forward.deliveries.header", map[string]any{"Name": wh.Name, "Host": host, "Paused": paused}))
	for _, a := range attempts {
		what := r.loc.T("forward.deliveries.test", nil)
		if a.EventID != nil {
			what = r.loc.T("forward.deliveries.event", map[string]any{"ID": html.EscapeString(*a.EventID)}) + " · " +
				r.loc.T("forward.deliveries.attempt", map[string]any{"Attempt": a.Attempt, "Of": of})
		}
		if a.Final {
			what += " · " + r.loc.T("forward.deliveries.gave_up", nil)
		}
		sb.WriteString("\n")
		if a.OK {
			sb.WriteString(r.loc.T("forward.deliveries.ok", map[string]any{
				"Time": fmtSeconds(a.At), "Status": a.StatusCode, "Duration": a.DurationMS, "What": what,
			}))
			continue
		}
		result := r.loc.T("forward.deliveries.no_answer", nil)
		if a.StatusCode > 0 {
			result = fmt.Sprintf("HTTP %d", a.StatusCode)
		}
		sb.WriteString(r.loc.T("forward.deliveries.failed", map[string]any{
			"Time": fmtSeconds(a.At), "Result": result, "Duration": a.DurationMS, "What": what,
		}))
		if a.Excerpt != "" {
			sb.WriteString("\n   <i>" + html.EscapeString(a.Excerpt) + "</i>")
		}
	}
	sb.WriteString("\n")
	sb.WriteString(b.queueLines(r, q))
	b.answer(ctx, r, strings.TrimRight(sb.String(), "\n"))
}

// offerForwarded answers a bare /deliveries with the user's forwarded
// webhooks as buttons.
func (b *Bot) offerForwarded(ctx context.Context, r request) {
	list, err := b.db.WebhooksByOwner(ctx, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "list webhooks", err)
		return
	}
	fwds, err := b.db.ForwardsByOwner(ctx, r.user.ID)
	if err != nil {
		b.internalError(ctx, r, "list forwards", err)
		return
	}
	var names []string
	for _, w := range list {
		if _, ok := fwds[w.ID]; ok {
			names = append(names, w.Name)
		}
	}
	if len(names) == 0 {
		b.answer(ctx, r, r.loc.T("forward.none", nil))
		return
	}
	b.offer(ctx, r, "deliveries", names, r.loc.T("pick.webhook", nil))
}

// forwardLine is the /tokens line about a webhook's forward ("" for none).
func (b *Bot) forwardLine(r request, f storage.Forward, ok bool) string {
	if !ok {
		return ""
	}
	data := map[string]any{"Host": html.EscapeString(forward.Host(f.URL))}
	if f.Paused {
		return "\n" + r.loc.T("forward.tokens_line_paused", data)
	}
	return "\n" + r.loc.T("forward.tokens_line", data)
}

// fmtSeconds shows a moment to people: UTC, to the second.
func fmtSeconds(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
