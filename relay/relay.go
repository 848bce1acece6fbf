// Package relay is the pipeline that connects the others: it claims queued
// deliveries from the database, has each event summarized once per language,
// sends it to the chat, and records the outcome.
package relay

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/locales"
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
	owner  string
	bell   chan struct{}
	sf     singleflight.Group

	noticesDue chan struct{} // a notice was queued by this process
	noticesMu  sync.Mutex
	notices    map[int64]bool // notices this process's workers are sending (renew)
	holds      holds          // chats a claim can take nothing from now (WakeFor)

	depthMu sync.Mutex
	depth   int       // the queue's depth, for folding decisions
	depthAt time.Time // when depth was counted
}

// New makes a Relay.
func New(db *storage.DB, sum Summarizer, send Sender, loc *locales.Bundle, log *slog.Logger, cfg Config) *Relay {
	cfg.defaults()
	return &Relay{
		db: db, sum: sum, send: send, limits: send.Limits(), loc: loc, log: log, cfg: cfg,
		owner:      leaseOwner(),
		bell:       make(chan struct{}, 1),
		noticesDue: make(chan struct{}, 1),
	}
}

// leaseOwner names this process in the leases it holds.
func leaseOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	crand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// claimGap is the least time between a claim that found nothing and the
// next one a doorbell asks for (Run).
const claimGap = 10 * time.Millisecond

// Wake rings the doorbell: work is waiting. It never blocks; rings while
// the workers are already busy fold into one.
func (r *Relay) Wake() {
	select {
	case r.bell <- struct{}{}:
	default:
	}
}

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

// Run claims and processes deliveries until ctx ends, then waits for the
// deliveries in flight (each bounded by Config.Work). Leases cover whatever
// a crash leaves behind.
func (r *Relay) Run(ctx context.Context) error {
	if r.db.Dialect() == storage.SQLite {
		// An SQLite file has one herald process: what is processing now was
		// left by a crash, and can go again without waiting out its lease.
		if n, err := r.db.RequeueAbandoned(ctx); err != nil {
			r.log.Warn("requeue abandoned deliveries", "error", err)
		} else if n > 0 {
			r.log.Info("resuming deliveries left by the previous run", "deliveries", n)
		}
	}
	sem := make(chan struct{}, r.cfg.Workers)
	var wg sync.WaitGroup
	// In-flight work is not cut off by shutdown: it finishes within Work,
	// its leases renewed until then.
	workCtx := context.WithoutCancel(ctx)
	renewCtx, stopRenew := context.WithCancel(workCtx)
	renewDone := make(chan struct{})
	go func() { defer close(renewDone); r.renew(renewCtx) }()
	defer func() { wg.Wait(); stopRenew(); <-renewDone }()

	start := func(chat int64, fn func(ctx context.Context)) {
		if chat != 0 {
			r.holds.inFlight(chat)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() {
				if chat != 0 {
					r.holds.done(chat)
				}
				<-sem
				wg.Done()
				r.Wake()
			}()
			dctx, cancel := context.WithTimeout(workCtx, r.cfg.Work)
			defer cancel()
			fn(dctx)
		}()
	}
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	checkNotices := true  // at start: whatever an earlier run left
	var emptyAt time.Time // when a claim with free workers last found nothing
	for {
		free := r.cfg.Workers - len(sem)
		asked := min(free, r.cfg.Batch)
		var claimed []storage.Delivery
		if free > 0 {
			var err error
			claimed, err = r.db.ClaimDeliveries(ctx, r.owner, r.cfg.Lease, asked)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("claim deliveries", "error", err)
			}
			if len(claimed) == 0 {
				emptyAt = time.Now()
			}
		}
		for _, d := range claimed {
			start(d.ChatID, func(ctx context.Context) { r.process(ctx, d) })
		}
		if free -= len(claimed); free > 0 && checkNotices {
			notices, err := r.db.ClaimNotices(ctx, r.owner, r.cfg.Lease, free)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("claim notices", "error", err)
			}
			checkNotices = err != nil || len(notices) == free
			for _, n := range notices {
				r.noticeInFlight(n.ID, true)
				start(0, func(ctx context.Context) {
					defer r.noticeInFlight(n.ID, false)
					r.processNotice(ctx, n)
				})
			}
		}
		if len(claimed) > 0 && len(claimed) == asked {
			if ctx.Err() != nil {
				return nil
			}
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.bell:
			// Under a flood the doorbell rings for every ingest batch
			// while the chats with work wait out their pacing: a claim
			// that found nothing is not asked again sooner than
			// claimGap, which spares the database hundreds of empty
			// claims a second and costs a new event at most claimGap.
			if wait := claimGap - time.Since(emptyAt); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
		case <-r.noticesDue:
			checkNotices = true
		case <-poll.C:
			checkNotices = true
		}
	}
}

// renew keeps this process's leases alive until ctx ends.
func (r *Relay) renew(ctx context.Context) {
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Only what a worker is sending now: a delivery or notice whose
		// worker could not record its outcome (the database was away) must see
		// its lease run out and be claimed again, not be kept forever.
		if _, err := r.db.RenewLeases(ctx, r.owner, r.cfg.Lease, r.holds.inFlightChats(), r.noticesInFlight()); err != nil && ctx.Err() == nil {
			r.log.Warn("renew leases", "error", err)
		}
	}
}

// noticeInFlight notes that a worker took (on) or finished (off) notice id.
func (r *Relay) noticeInFlight(id int64, on bool) {
	r.noticesMu.Lock()
	defer r.noticesMu.Unlock()
	if r.notices == nil {
		r.notices = map[int64]bool{}
	}
	if on {
		r.notices[id] = true
	} else {
		delete(r.notices, id)
	}
}

// noticesInFlight lists the notices this process's workers are sending.
func (r *Relay) noticesInFlight() []int64 {
	r.noticesMu.Lock()
	defer r.noticesMu.Unlock()
	ids := make([]int64, 0, len(r.notices))
	for id := range r.notices {
		ids = append(ids, id)
	}
	return ids
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
			select {
			case r.noticesDue <- struct{}{}:
			default:
			}
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

// retry hands a delivery back with exponential backoff (RetryBase doubling
// to 10 min, jittered) until MaxAge after the event arrived; then it fails.
func (r *Relay) retry(ctx context.Context, log *slog.Logger, d storage.Delivery, cause error) {
	now := r.db.Now()
	if now.Sub(d.CreatedAt) >= r.cfg.MaxAge {
		log.Error("giving up on delivery", "error", cause)
		r.record(log, r.db.FailDelivery(ctx, d, "gave up after "+r.cfg.MaxAge.String()+": "+cause.Error()))
		return
	}
	wait := backoff(r.cfg.RetryBase, d.Attempts)
	log.Warn("delivery failed, will retry", "error", cause, "in", wait)
	r.record(log, r.db.RetryDelivery(ctx, d, now.Add(wait), cause.Error(), true))
	r.waitFor(d.ChatID, now.Add(wait), true)
}

// backoff is base doubling per attempt up to ten minutes, jittered ±20 %.
func backoff(base time.Duration, attempts int) time.Duration {
	wait := min(base<<min(max(attempts-1, 0), 20), 10*time.Minute)
	return wait*4/5 + time.Duration(rand.Int64N(int64(wait)*2/5+1))
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
