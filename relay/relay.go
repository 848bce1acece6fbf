// Package relay is the pipeline that connects the others: it claims queued
// deliveries from the database, has each event summarized once per language,
// sends it to the chat, and records the outcome.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/relay/worker"
	"github.com/herald-relay/herald/storage"
)

// Sender delivers a rendered message to a chat. Failures are *bot.SendError.
// Send keeps the bot-wide rate itself; Limits tells the relay how to pace
// each chat.
type Sender interface {
	Send(ctx context.Context, chatID int64, msg agent.Message) (int64, error)
	Limits() bot.Limits
}

// Summarizer turns an event into a notification in a language; it never
// fails (it falls back to the built-in formatter).
type Summarizer interface {
	Summarize(ctx context.Context, ev agent.Event, lang string) (agent.Notification, agent.Usage)
}

// Config tunes the pipeline.
type Config struct {
	Workers int // deliveries in flight at once
	Batch   int // deliveries claimed per query
	// Lease is how long a claim holds without renewal; the holder renews it
	// every Lease/3 while it works, so it bounds how long a crashed
	// process's deliveries wait before another process takes them.
	Lease  time.Duration
	Poll   time.Duration // the safety-net poll; the doorbell is what normally starts work
	MaxAge time.Duration // how long a failing delivery is retried before it fails
	// RetryBase is the first backoff after a transient failure; it doubles
	// per attempt up to ten minutes.
	RetryBase time.Duration
	// Work bounds one delivery (summary and send); it should exceed the LLM
	// timeout.
	Work time.Duration
	// FoldAfter: when a chat's backlog would take longer than this to go
	// out within Telegram's limits, its pending events are folded into one
	// digest message. 0 means 90s; negative turns folding off.
	FoldAfter time.Duration
	// FoldMin is the least backlog worth a digest (default 3); FoldMax the
	// most events one digest folds (default 500; the rest go in the next),
	// which bounds the work of one digest.
	FoldMin, FoldMax int
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		// Most of a worker's time in a busy queue is spent waiting for a
		// slot of the bot-wide rate: 16 keep 28 messages a second going
		// even when a summary and a send take half a second.
		c.Workers = 16
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Work <= 0 {
		c.Work = time.Minute
	}
	if c.Lease <= 0 {
		c.Lease = 15 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.MaxAge <= 0 {
		c.MaxAge = 24 * time.Hour
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 5 * time.Second
	}
	if c.FoldAfter == 0 {
		c.FoldAfter = 90 * time.Second
	}
	if c.FoldMin <= 0 {
		c.FoldMin = 3
	}
	if c.FoldMax <= 0 {
		c.FoldMax = 500
	}
	c.FoldMin = max(c.FoldMin, 2)
	c.FoldMax = max(c.FoldMax, c.FoldMin)
}

// Relay runs the workers.
type Relay struct {
	db     *storage.DB
	sum    Summarizer
	send   Sender
	limits bot.Limits
	loc    *locales.Bundle
	log    *slog.Logger
	cfg    Config
	owner  string         // this process, in the leases it holds
	run    *worker.Runner // the workers of deliveries and notices
	sf     singleflight.Group

	noticesDue *worker.Bell // a notice was queued by this process
	holds      holds        // chats a claim can take nothing from now (WakeFor)

	depthMu sync.Mutex
	depth   int       // the queue's depth, for folding decisions
	depthAt time.Time // when depth was counted
}

// New makes a Relay.
func New(db *storage.DB, sum Summarizer, send Sender, loc *locales.Bundle, log *slog.Logger, cfg Config) *Relay {
	cfg.defaults()
	r := &Relay{
		db: db, sum: sum, send: send, limits: send.Limits(), loc: loc, log: log, cfg: cfg,
		owner: worker.Owner(""),
		run: worker.New(worker.Config{
			Workers: cfg.Workers, Work: cfg.Work, Lease: cfg.Lease, Poll: cfg.Poll, Gap: claimGap, Log: log,
		}),
	}
	r.noticesDue = r.run.NewBell()
	return r
}

// claimGap is the least time between a claim that found nothing and the
// next one a doorbell asks for (worker.Config.Gap): a new event waits at
// most that long.
const claimGap = 10 * time.Millisecond

// Wake rings the doorbell: work is waiting. It never blocks; rings while
// the workers are already busy fold into one.
func (r *Relay) Wake() { r.run.Wake() }

// WakeFor rings the doorbell for events queued for chats (ingest's ring),
// unless this process knows a claim could take nothing for any of them
// (holds): each is being sent to, or waits for its pacing, a retry_after
// or a backoff, and a wake is due when that ends. nil names every chat;
// an empty list none.
func (r *Relay) WakeFor(chats []int64) {
	if chats == nil {
		r.Wake()
		return
	}
	if len(chats) == 0 || r.holds.cover(chats, time.Now(), r.wakeAt) {
		return
	}
	r.Wake()
}

// wakeAt rings the doorbell at t: a chat's pacing or a retry comes due then.
func (r *Relay) wakeAt(t time.Time) {
	time.AfterFunc(max(time.Until(t), 0), r.Wake)
}

// waitFor notes that nothing for chat can go before t (holds), and wakes
// the relay then: at once scheduled when wake is set, else as soon as a
// ring for the chat is skipped.
func (r *Relay) waitFor(chat int64, t time.Time, wake bool) {
	if wake {
		r.wakeAt(t)
	}
	r.holds.until(chat, t, wake, r.wakeAt)
}

// Run claims and processes deliveries, and the notices owed to people,
// until ctx ends, then waits for the ones in flight (each bounded by
// Config.Work). Leases cover whatever a crash leaves behind.
func (r *Relay) Run(ctx context.Context) error {
	// An SQLite file has one herald process: what is processing now was
	// left by a crash, and can go again without waiting out its lease.
	if n, err := r.db.ResumeAbandoned(ctx); err != nil {
		r.log.Warn("requeue abandoned deliveries", "error", err)
	} else if n > 0 {
		r.log.Info("resuming deliveries left by the previous run", "deliveries", n)
	}
	deliveries := worker.Queue[storage.Delivery]{
		Name: "deliveries", Batch: r.cfg.Batch,
		Claim: func(ctx context.Context, n int) ([]storage.Delivery, error) {
			dls, err := r.db.ClaimDeliveries(ctx, r.owner, r.cfg.Lease, n)
			for _, d := range dls {
				r.holds.inFlight(d.ChatID)
			}
			return dls, err
		},
		Work: func(ctx context.Context, d storage.Delivery) {
			defer r.holds.done(d.ChatID)
			r.process(ctx, d)
		},
		// A chat's held deliveries are renewed together: a digest's too.
		Key: func(d storage.Delivery) int64 { return d.ChatID },
		Renew: func(ctx context.Context, chats []int64) error {
			_, err := r.db.RenewLeases(ctx, r.owner, r.cfg.Lease, chats, nil)
			return err
		},
	}
	// Notices are few: claimed when this process queued one, at each
	// poll (another process may have), and at start.
	notices := worker.Queue[storage.Notice]{
		Name: "notices", Bell: r.noticesDue,
		Claim: func(ctx context.Context, n int) ([]storage.Notice, error) {
			return r.db.ClaimNotices(ctx, r.owner, r.cfg.Lease, n)
		},
		Work: r.processNotice,
		Key:  func(n storage.Notice) int64 { return n.ID },
		Renew: func(ctx context.Context, ids []int64) error {
			_, err := r.db.RenewLeases(ctx, r.owner, r.cfg.Lease, nil, ids)
			return err
		},
	}
	return r.run.Run(ctx, deliveries, notices)
}

// process delivers one event to one chat, or, when the chat's backlog is a
// storm, a digest of its pending events, and records what happened.
func (r *Relay) process(ctx context.Context, d storage.Delivery) {
	log := r.log.With("event_id", d.EventID, "chat_id", d.ChatID, "attempt", d.Attempts)
	chat, backlog, err := r.db.ChatWithBacklog(ctx, d.ChatID, r.backlogLimit())
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("load chat: %w", err))
		return
	}
	interval := r.limits.ChatInterval(chat.Type)
	// A delivery folded into a digest whose outcome is unknown (its process
	// died, or its record failed) goes out folded again, storm or not now:
	// that digest may have reached the chat, and resending its events one
	// by one would repeat the storm it folded.
	if d.FoldedInto != 0 || r.storm(ctx, backlog, interval) {
		if r.deliverDigest(ctx, log, d, chat, interval, backlog) {
			return
		}
	}
	ev, err := r.db.EventForDelivery(ctx, d.EventID)
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("load event: %w", err))
		return
	}
	n, err := r.notification(ctx, ev, chat.Language)
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("summarize: %w", err))
		return
	}
	msg := agent.Render(n, r.loc)
	msgID, err := r.send.Send(ctx, d.ChatID, msg)
	r.outcome(ctx, log, []storage.Delivery{d}, interval, backlog, msgID, err, taskOf(ev.ID, n, msg)...)
}

// taskOf is the task a notification with a Done button carries (SPEC §10),
// created with the delivery's record so that no button is without its task.
func taskOf(eventID string, n agent.Notification, msg agent.Message) []storage.NewTask {
	if !msg.Done {
		return nil
	}
	title := n.Title
	if title == "" {
		title = n.Summary
	}
	return []storage.NewTask{{
		EventID: eventID, Title: oneLine(title), Source: oneLine(n.Source), Action: oneLine(n.Action),
		MessageHTML: msg.HTML, LinkURL: msg.LinkURL, LinkText: msg.LinkText,
	}}
}

// outcome records what became of a message that carried dls (one delivery,
// or the deliveries a digest folded, the chat's oldest first), and creates
// the tasks it carried with the record of its delivery.
func (r *Relay) outcome(ctx context.Context, log *slog.Logger, dls []storage.Delivery, interval time.Duration, backlog int, msgID int64, err error, tasks ...storage.NewTask) {
	// What Telegram answered is recorded even if the work's time ran out
	// meanwhile: a message sent and not recorded would go out again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	d, rest := dls[0], dls[1:]
	if err == nil {
		var next time.Time
		if interval > 0 {
			next = time.Now().Add(interval)
		}
		if err := r.db.CompleteDeliveries(ctx, dls, msgID, next, tasks...); err != nil {
			log.Warn("record delivery", "error", err)
			return
		}
		if !next.IsZero() {
			// The chat's next message is due then: wake for it if its
			// backlog has more, else if a ring for the chat comes meanwhile.
			r.waitFor(d.ChatID, next, backlog > len(dls))
		}
		log.Debug("delivered", "message_id", msgID, "events", len(dls))
		return
	}
	var se *bot.SendError
	if !errors.As(err, &se) {
		se = &bot.SendError{Kind: bot.FailureRetry, Err: err}
	}
	if se.Kind != bot.FailureChatGone {
		// A digest that did not go out unfolds: its events wait behind
		// the chat's oldest again.
		r.record(log, r.db.ReleaseDeliveries(ctx, rest))
	}
	switch se.Kind {
	case bot.FailureRateLimited:
		// Telegram said when; it is not the message's fault.
		log.Info("rate limited by telegram", "retry_after", se.RetryAfter)
		at := r.db.Now().Add(se.RetryAfter)
		r.record(log, r.db.RetryDelivery(ctx, d, at, "telegram: too many requests", false))
		r.waitFor(d.ChatID, at, true)
	case bot.FailureChatGone:
		log.Warn("chat unreachable; its deliveries stop and the owners are told", "error", se.Err, "reason", se.Gone)
		n, err := r.db.StopChat(ctx, d, "chat unreachable: "+se.Err.Error(), se.Gone)
		r.record(log, err)
		if n > 0 {
			r.noticesDue.Ring()
		}
	case bot.FailureMigrated:
		log.Info("group became a supergroup; its deliveries follow", "to_chat_id", se.MigratedTo)
		r.record(log, r.db.MigrateChat(ctx, d.ChatID, se.MigratedTo, &d))
		r.Wake()
	case bot.FailureRejected:
		if len(rest) > 0 {
			// Telegram refused the digest itself: send the events one by one.
			log.Error("telegram rejected a digest", "error", se.Err)
			r.retry(ctx, log, d, se)
			return
		}
		log.Error("telegram rejected the message", "error", se.Err)
		r.record(log, r.db.FailDelivery(ctx, d, "rejected by telegram: "+se.Err.Error()))
	default:
		r.retry(ctx, log, d, se)
	}
}

// retry hands a delivery back with exponential backoff (retryIn); after
// MaxAge it fails.
func (r *Relay) retry(ctx context.Context, log *slog.Logger, d storage.Delivery, cause error) {
	wait, ok := r.retryIn(d.CreatedAt, d.Attempts)
	if !ok {
		log.Error("giving up on delivery", "error", cause)
		r.record(log, r.db.FailDelivery(ctx, d, "gave up after "+r.cfg.MaxAge.String()+": "+cause.Error()))
		return
	}
	log.Warn("delivery failed, will retry", "error", cause, "in", wait)
	at := r.db.Now().Add(wait)
	r.record(log, r.db.RetryDelivery(ctx, d, at, cause.Error(), true))
	r.waitFor(d.ChatID, at, true)
}

// retryIn is how long a delivery or notice that failed attempts times
// waits before it is tried again: RetryBase doubling to 10 min, jittered
// (worker.Backoff). False when it was created MaxAge ago: it fails then.
func (r *Relay) retryIn(created time.Time, attempts int) (time.Duration, bool) {
	if r.db.Now().Sub(created) >= r.cfg.MaxAge {
		return 0, false
	}
	return worker.Backoff(r.cfg.RetryBase, attempts), true
}

func (r *Relay) record(log *slog.Logger, err error) {
	if err != nil {
		// The lease will expire and the delivery be claimed again.
		log.Warn("record delivery outcome", "error", err)
	}
}

// storm reports whether a chat's backlog is a storm worth folding:
// the time its pending events would take to go out, at the chat's own limit
// or at the bot's (behind every other chat's backlog), exceeds FoldAfter.
func (r *Relay) storm(ctx context.Context, backlog int, interval time.Duration) bool {
	if r.cfg.FoldAfter < 0 || backlog < r.cfg.FoldMin {
		return false
	}
	if time.Duration(backlog)*interval > r.cfg.FoldAfter {
		return true
	}
	g := r.limits.GlobalRate()
	if g <= 0 {
		return false
	}
	// The bot's whole queue goes out at g a second: past this depth that
	// alone takes longer than FoldAfter. Counting stops there.
	deep := int(r.cfg.FoldAfter.Seconds()*g) + 1
	return r.queueDepth(ctx, deep) >= deep
}

// backlogLimit is how far a chat's backlog is counted: far enough for
// storm to decide (FoldAfter's worth of the fastest chat's pacing) and for
// outcome to tell whether a digest left some behind (FoldMax).
func (r *Relay) backlogLimit() int {
	n := r.cfg.FoldMax
	for _, iv := range []time.Duration{r.limits.ChatInterval("private"), r.limits.ChatInterval("group")} {
		if iv > 0 && r.cfg.FoldAfter > 0 {
			n = max(n, int(r.cfg.FoldAfter/iv))
		}
	}
	return n + 1
}

// queueDepth is the number of pending deliveries, counted up to limit at
// most once a second.
func (r *Relay) queueDepth(ctx context.Context, limit int) int {
	r.depthMu.Lock()
	defer r.depthMu.Unlock()
	if time.Since(r.depthAt) < time.Second {
		return r.depth
	}
	if n, err := r.db.PendingDeliveriesUpTo(ctx, limit); err == nil {
		r.depth, r.depthAt = n, time.Now()
	}
	return r.depth
}

// notification returns the event's notification in lang, made once: it is
// read back from the database when a retry, a restart or another chat of
// the same language already made it.
func (r *Relay) notification(ctx context.Context, ev storage.QueuedEvent, lang string) (agent.Notification, error) {
	v, err, _ := r.sf.Do(ev.ID+"/"+lang, func() (any, error) {
		if n, err := r.storedNotification(ctx, ev.ID, lang); !errors.Is(err, storage.ErrNotFound) {
			return n, err
		}
		n, usage := r.sum.Summarize(ctx, toAgentEvent(ev), lang)
		js, err := json.Marshal(n)
		if err != nil {
			return nil, err
		}
		if err := r.db.SaveSummary(ctx, storage.Summary{
			EventID: ev.ID, Language: lang, Notification: string(js),
			PromptTokens: usage.PromptTokens, CompletionTokens: usage.CompletionTokens,
		}); err != nil {
			return nil, err
		}
		// The first stored summary wins, should another process have raced us.
		return r.storedNotification(ctx, ev.ID, lang)
	})
	if err != nil {
		return agent.Notification{}, err
	}
	return v.(agent.Notification), nil
}

func (r *Relay) storedNotification(ctx context.Context, eventID, lang string) (agent.Notification, error) {
	s, err := r.db.SummaryFor(ctx, eventID, lang)
	if err != nil {
		return agent.Notification{}, err
	}
	var n agent.Notification
	if err := json.Unmarshal([]byte(s.Notification), &n); err != nil {
		return agent.Notification{}, fmt.Errorf("relay: stored summary: %w", err)
	}
	return n, nil
}

func toAgentEvent(ev storage.QueuedEvent) agent.Event {
	var headers map[string]string
	json.Unmarshal([]byte(ev.Headers), &headers) // written by ingest; an unreadable set is just no headers
	return agent.Event{
		ID: ev.ID, Webhook: ev.WebhookName, ContentType: ev.ContentType,
		Headers: headers, Body: ev.Body, ReceivedAt: ev.ReceivedAt,
	}
}
