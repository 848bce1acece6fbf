package relay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/storage"
)

// A storm is a chat whose backlog would take longer than Config.FoldAfter to
// trickle out within Telegram's limits (an alert storm into a group). Its
// pending events are folded into one digest message: counts by kind, the
// most important ones named. Nothing is dropped: every folded delivery is
// recorded as delivered in the digest's message, and each event stays
// readable through the API.

const (
	digestKinds   = 10  // kinds listed by count
	digestNamed   = 5   // events named
	digestTitle   = 150 // runes of a named event's title
	digestWebhook = 3   // webhook names in the header
)

// deliverDigest folds the chat's backlog behind head (held) into one
// message and sends it. It reports false when there turned out to be
// nothing to fold: head is then sent alone.
func (r *Relay) deliverDigest(ctx context.Context, log *slog.Logger, head storage.Delivery, chat storage.Chat, interval time.Duration, backlog int) bool {
	rest, err := r.db.ClaimChatBacklog(ctx, head, r.cfg.Lease, r.cfg.FoldMax-1)
	if errors.Is(err, storage.ErrLeaseLost) {
		log.Warn("fold backlog: the delivery was taken over", "error", err)
		return true
	}
	if err != nil {
		// Sent alone, head would be recorded no better; and a digest
		// being folded again must not go out one event at a time.
		r.retry(ctx, log, head, fmt.Errorf("fold backlog: %w", err))
		return true
	}
	if len(rest) == 0 {
		return false
	}
	dls := append([]storage.Delivery{head}, rest...)
	msg, tasks, err := r.digest(ctx, chat, dls)
	if err != nil {
		r.record(log, r.db.ReleaseDeliveries(ctx, rest))
		r.retry(ctx, log, head, fmt.Errorf("digest: %w", err))
		return true
	}
	log.Info("storm: folding the chat's backlog into a digest", "events", len(dls), "backlog", backlog, "again", head.FoldedInto != 0)
	msgID, err := r.send.Send(ctx, chat.ID, msg)
	r.outcome(ctx, log, dls, interval, backlog, msgID, err, tasks...)
	return true
}

type digestItem struct {
	imp   agent.Importance
	title string
	order int
}

func importanceRank(i agent.Importance) int {
	switch i {
	case agent.ImportanceHigh:
		return 0
	case agent.ImportanceLow:
		return 2
	}
	return 1
}

// digest renders the message for the folded deliveries dls (held, for one
// chat). Each event is read and described by the built-in formatter (a
// storm is no time for an LLM call per event), one at a time, so memory
// stays flat however many are folded. The events that need someone to act
// become tasks, listed by /tasks: the digest has no Done button (one button
// for many tasks would close them all), it says how many there are.
func (r *Relay) digest(ctx context.Context, chat storage.Chat, dls []storage.Delivery) (agent.Message, []storage.NewTask, error) {
	counts := map[string]int{}
	var kinds, webhooks []string
	var named []digestItem
	loud := false
	folded := 0
	var tasks []storage.NewTask
	err := r.db.EachHeldEvent(ctx, dls, func(ev storage.QueuedEvent) error {
		folded++
		n := agent.Format(toAgentEvent(ev), chat.Language, r.loc)
		kind := strings.Join(slices.DeleteFunc([]string{oneLine(n.Source), oneLine(n.Event)}, func(s string) bool { return s == "" }), " · ")
		if kind == "" {
			kind = ev.WebhookName
		}
		if counts[kind] == 0 {
			kinds = append(kinds, kind)
		}
		counts[kind]++
		if !slices.Contains(webhooks, ev.WebhookName) {
			webhooks = append(webhooks, ev.WebhookName)
		}
		loud = loud || n.Importance != agent.ImportanceLow
		title := oneLine(n.Title)
		if title == "" {
			title = oneLine(n.Summary)
		}
		if title == "" {
			title = kind
		}
		if n.Action != "" {
			tasks = append(tasks, storage.NewTask{EventID: ev.ID, Title: title, Source: oneLine(n.Source), Action: oneLine(n.Action)})
		}
		named = append(named, digestItem{imp: n.Importance, title: clampRunes(title, digestTitle), order: folded})
		// Keep only the most important few (ties: the earliest).
		slices.SortStableFunc(named, func(a, b digestItem) int {
			return cmp.Or(cmp.Compare(importanceRank(a.imp), importanceRank(b.imp)), cmp.Compare(a.order, b.order))
		})
		named = named[:min(len(named), digestNamed)]
		return nil
	})
	if err != nil {
		return agent.Message{}, nil, err
	}
	if folded != len(dls) {
		return agent.Message{}, nil, fmt.Errorf("%d of %d folded events still held", folded, len(dls))
	}
	slices.SortStableFunc(kinds, func(a, b string) int { return cmp.Compare(counts[b], counts[a]) })

	l := r.loc.For(chat.Language)
	var b strings.Builder
	hooks := make([]string, 0, digestWebhook)
	for _, w := range webhooks[:min(len(webhooks), digestWebhook)] {
		hooks = append(hooks, html.EscapeString(w))
	}
	hookList := strings.Join(hooks, ", ")
	if len(webhooks) > digestWebhook {
		hookList += " " + l.N("delivery.digest.more_webhooks", len(webhooks)-digestWebhook, nil)
	}
	b.WriteString(l.N("delivery.digest.header", len(dls), map[string]any{"Webhooks": hookList}))
	b.WriteString("\n" + l.T("delivery.digest.why", nil))
	b.WriteString("\n\n" + l.T("delivery.digest.kinds", nil))
	for _, k := range kinds[:min(len(kinds), digestKinds)] {
		b.WriteString("\n" + l.T("delivery.digest.kind", map[string]any{"Count": counts[k], "Kind": html.EscapeString(k)}))
	}
	if len(kinds) > digestKinds {
		b.WriteString("\n" + l.N("delivery.digest.more_kinds", len(kinds)-digestKinds, nil))
	}
	b.WriteString("\n\n" + l.T("delivery.digest.important", nil))
	for _, it := range named {
		id := "delivery.digest.item"
		if it.imp == agent.ImportanceHigh {
			id = "delivery.digest.item_high"
		}
		b.WriteString("\n" + l.T(id, map[string]any{"Title": html.EscapeString(it.title)}))
	}
	if len(tasks) > 0 {
		b.WriteString("\n\n" + l.N("task.digest", len(tasks), nil))
	}
	return agent.Message{HTML: b.String(), DisableNotification: !loud}, tasks, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clampRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
