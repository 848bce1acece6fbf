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
type Sender interface {
	Send(ctx context.Context, chatID int64, msg agent.Message) (int64, error)
}

// Summarizer turns an event into a notification in a language; it never
// fails (it falls back to the built-in formatter).
type Summarizer interface {
	Summarize(ctx context.Context, ev agent.Event, lang string) (agent.Notification, agent.Usage)
}

// Config tunes the pipeline.
type Config struct {
	Workers int           // deliveries in flight at once
	Batch   int           // deliveries claimed per query
	Lease   time.Duration // how long a claim is held before another worker may take it
	Poll    time.Duration // the safety-net poll; the doorbell is what normally starts work
	MaxAge  time.Duration // how long a failing delivery is retried before it fails
	// RetryBase is the first backoff after a transient failure; it doubles
	// per attempt up to ten minutes.
	RetryBase time.Duration
	// Work bounds one delivery (summary and send); it should exceed the LLM
	// timeout and stay below Lease.
	Work time.Duration
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.Work <= 0 {
		c.Work = time.Minute
	}
	if c.Lease <= c.Work {
		c.Lease = c.Work + 30*time.Second
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
}

// Relay runs the workers.
type Relay struct {
	db    *storage.DB
	sum   Summarizer
	send  Sender
	loc   *locales.Bundle
	log   *slog.Logger
	cfg   Config
	owner string
	bell  chan struct{}
	sf    singleflight.Group
}

// New makes a Relay.
func New(db *storage.DB, sum Summarizer, send Sender, loc *locales.Bundle, log *slog.Logger, cfg Config) *Relay {
	cfg.defaults()
	return &Relay{
		db: db, sum: sum, send: send, loc: loc, log: log, cfg: cfg,
		owner: leaseOwner(),
		bell:  make(chan struct{}, 1),
	}
}

// leaseOwner names this process in the leases it holds.
func leaseOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	crand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Wake rings the doorbell: work is waiting. It never blocks; rings while
// the workers are already busy fold into one.
func (r *Relay) Wake() {
	select {
	case r.bell <- struct{}{}:
	default:
	}
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
	defer wg.Wait()
	// In-flight work is not cut off by shutdown: it finishes within Work.
	workCtx := context.WithoutCancel(ctx)
	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	for {
		free := r.cfg.Workers - len(sem)
		var claimed []storage.Delivery
		if free > 0 {
			var err error
			claimed, err = r.db.ClaimDeliveries(ctx, r.owner, r.cfg.Lease, min(free, r.cfg.Batch))
			if err != nil && ctx.Err() == nil {
				r.log.Warn("claim deliveries", "error", err)
			}
		}
		for _, d := range claimed {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done(); r.Wake() }()
				dctx, cancel := context.WithTimeout(workCtx, r.cfg.Work)
				defer cancel()
				r.process(dctx, d)
			}()
		}
		if len(claimed) > 0 && len(claimed) == min(free, r.cfg.Batch) {
			if ctx.Err() != nil {
				return nil
			}
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.bell:
		case <-poll.C:
		}
	}
}

// process delivers one event to one chat and records what happened.
func (r *Relay) process(ctx context.Context, d storage.Delivery) {
	log := r.log.With("event_id", d.EventID, "chat_id", d.ChatID, "attempt", d.Attempts)
	ev, err := r.db.EventForDelivery(ctx, d.EventID)
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("load event: %w", err))
		return
	}
	chat, err := r.db.ChatByID(ctx, d.ChatID)
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("load chat: %w", err))
		return
	}
	n, err := r.notification(ctx, ev, chat.Language)
	if err != nil {
		r.retry(ctx, log, d, fmt.Errorf("summarize: %w", err))
		return
	}
	msgID, err := r.send.Send(ctx, d.ChatID, agent.Render(n, r.loc))
	if err == nil {
		if err := r.db.CompleteDelivery(ctx, d, msgID); err != nil {
			log.Warn("record delivery", "error", err)
			return
		}
		log.Debug("delivered", "message_id", msgID)
		return
	}
	var se *bot.SendError
	if !errors.As(err, &se) {
		se = &bot.SendError{Kind: bot.FailureRetry, Err: err}
	}
	switch se.Kind {
	case bot.FailureRateLimited:
		// Telegram said when; it is not the message's fault.
		log.Info("rate limited by telegram", "retry_after", se.RetryAfter)
		r.record(log, r.db.RetryDelivery(ctx, d, r.db.Now().Add(se.RetryAfter), "telegram: too many requests", false))
	case bot.FailureChatGone, bot.FailureMigrated:
		log.Warn("chat unreachable; its deliveries stop", "error", se.Err)
		r.record(log, r.db.SetChatActive(ctx, d.ChatID, false))
		r.record(log, r.db.FailDelivery(ctx, d, "chat unreachable: "+se.Err.Error()))
	case bot.FailureRejected:
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
	wait := min(r.cfg.RetryBase<<min(d.Attempts-1, 20), 10*time.Minute)
	wait = wait*4/5 + time.Duration(rand.Int64N(int64(wait)*2/5+1))
	log.Warn("delivery failed, will retry", "error", cause, "in", wait)
	r.record(log, r.db.RetryDelivery(ctx, d, now.Add(wait), cause.Error(), true))
}

func (r *Relay) record(log *slog.Logger, err error) {
	if err != nil {
		// The lease will expire and the delivery be claimed again.
		log.Warn("record delivery outcome", "error", err)
	}
}

// notification returns the event's notification in lang, made once: it is
// read back from the database when a retry, a restart or another chat of
// the same language already made it.
func (r *Relay) notification(ctx context.Context, ev storage.QueuedEvent, lang string) (agent.Notification, error) {
	if n, err := r.storedNotification(ctx, ev.ID, lang); !errors.Is(err, storage.ErrNotFound) {
		return n, err
	}
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
