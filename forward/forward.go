// Package forward sends a webhook's events on to another URL (SPEC §9):
// each event with its summary, POSTed as JSON, signed per Standard
// Webhooks, retried on a fixed schedule, never to an address the SSRF guard
// refuses. Its workers are its own: a slow or dead target holds up nothing
// but its own messages, never Telegram delivery.
package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/relay/worker"
	"github.com/herald-relay/herald/storage"
)

// Summarizer gives an event's notification in a language, made once per
// event and language and shared with Telegram delivery (relay.Relay).
type Summarizer interface {
	Summary(ctx context.Context, eventID, lang string) (agent.Notification, error)
}

// SummaryFunc adapts a function to Summarizer.
type SummaryFunc func(ctx context.Context, eventID, lang string) (agent.Notification, error)

// Summary calls f.
func (f SummaryFunc) Summary(ctx context.Context, eventID, lang string) (agent.Notification, error) {
	return f(ctx, eventID, lang)
}

// DefaultSchedule is how long after each failed attempt the next one is
// made: at once, then about 1 minute, 5 minutes, 30 minutes and 3 hours
// later; after the fifth attempt the message is failed (SPEC §9).
var DefaultSchedule = []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 3 * time.Hour}

// Config tunes forwarding.
type Config struct {
	// AllowPrivate is FORWARD_ALLOW_PRIVATE: targets on loopback and
	// private addresses are allowed (metadata addresses never are).
	AllowPrivate bool
	Workers      int // messages in flight at once; default 8
	// PerForward bounds one target's messages in flight, so a slow one
	// cannot take every worker; default 2.
	PerForward int
	Batch      int // events queued per forward per walk; default 500
	// Timeout bounds one attempt: connecting, redirects, the answer and
	// reading it; default 10s. ConnectTimeout bounds each connection;
	// default 5s.
	Timeout, ConnectTimeout time.Duration
	// Work bounds one message (its summary and its attempt); default 60s.
	// It should exceed the LLM timeout plus Timeout.
	Work time.Duration
	// Lease is how long a claimed message is held without renewal (its
	// worker renews it every Lease/3 while it works); a crashed process's
	// messages are taken over after it. Default Work plus 30s.
	Lease time.Duration
	// Poll is the safety-net walk and claim; the doorbell (Wake) is what
	// normally starts work. Default 5s.
	Poll time.Duration
	// Settle: see storage.ForwardSettle (the default).
	Settle time.Duration
	// Schedule is the wait after each failed attempt; its length plus one
	// is the number of attempts. Default DefaultSchedule.
	Schedule []time.Duration
	// Retention is how long settled messages and their attempts are kept
	// for /deliveries; default 30 days.
	Retention time.Duration
	// Control replaces the SSRF guard (Guard(AllowPrivate)) as the
	// dialer's Control; for tests that must let one loopback receiver
	// through while the real guard judges everything else.
	Control func(network, address string, c syscall.RawConn) error
	// Lookup resolves host names for CheckURL; nil is the system resolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// UserAgent is sent with every request; default "Herald".
	UserAgent string
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.PerForward <= 0 {
		c.PerForward = 2
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = min(5*time.Second, c.Timeout)
	}
	if c.Work <= 0 {
		c.Work = time.Minute
	}
	c.Work = max(c.Work, c.Timeout+5*time.Second)
	if c.Lease <= 0 {
		c.Lease = c.Work + 30*time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.Settle <= 0 {
		c.Settle = storage.ForwardSettle
	}
	if c.Schedule == nil {
		c.Schedule = DefaultSchedule
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.UserAgent == "" {
		c.UserAgent = "Herald"
	}
}

// Worker forwards events: it queues a message per new event of each active
// forward, claims due messages and posts them with bounded concurrency.
type Worker struct {
	db        *storage.DB
	sum       Summarizer
	loc       *locales.Bundle
	log       *slog.Logger
	cfg       Config
	guard     guard
	lookup    lookupFunc
	client    *http.Client
	owner     string         // this process, in the leases it holds
	run       *worker.Runner // the workers
	lastPrune time.Time      // Run's loop only
}

// New makes a Worker; it does nothing until Run (SendTest and CheckURL
// work without it).
func New(db *storage.DB, sum Summarizer, loc *locales.Bundle, log *slog.Logger, cfg Config) *Worker {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		db: db, sum: sum, loc: loc, log: log, cfg: cfg,
		guard:  newGuard(cfg.AllowPrivate),
		lookup: defaultLookup,
		owner:  worker.Owner("forward"),
	}
	w.run = worker.New(worker.Config{Workers: cfg.Workers, Work: cfg.Work, Lease: cfg.Lease, Poll: cfg.Poll, Tick: w.tick, Log: log})
	if cfg.Lookup != nil {
		w.lookup = cfg.Lookup
	}
	control := cfg.Control
	if control == nil {
		control = w.guard.control
	}
	w.client = newClient(cfg.Timeout, cfg.ConnectTimeout, control)
	return w
}

// Wake rings the doorbell: an event arrived, or a message is due. It never
// blocks.
func (w *Worker) Wake() { w.run.Wake() }

// Settle is the cursor's settle time, for the bot's SetForward and
// PauseForward.
func (w *Worker) Settle() time.Duration { return w.cfg.Settle }

// Schedule is the retry schedule (the wait after each failed attempt).
func (w *Worker) Schedule() []time.Duration { return w.cfg.Schedule }

// CheckURL validates a forwarding URL as /forward receives it; a refusal
// is a *URLError. It returns the URL to store.
func (w *Worker) CheckURL(ctx context.Context, raw string) (string, error) {
	u, err := checkURL(ctx, raw, w.guard, w.lookup)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Run forwards until ctx ends, then waits for the messages in flight (each
// bounded by Config.Work). Leases cover whatever a crash leaves behind.
func (w *Worker) Run(ctx context.Context) error {
	// One process owns an SQLite file: what is in flight now was left by a
	// crash and may go again at once.
	if n, err := w.db.ResumeAbandonedForwards(ctx); err != nil {
		w.log.Warn("requeue abandoned forwards", "error", err)
	} else if n > 0 {
		w.log.Info("resuming forwards left by the previous run", "messages", n)
	}
	return w.run.Run(ctx, worker.Queue[storage.ForwardDelivery]{
		Name:  "forwards",
		Claim: w.claim,
		Work:  w.process,
		Key:   func(dl storage.ForwardDelivery) int64 { return dl.ID },
		Renew: func(ctx context.Context, ids []int64) error {
			_, err := w.db.RenewForwardLeases(ctx, w.owner, w.cfg.Lease, ids)
			return err
		},
		// A claim writes (on SQLite it waits for the one write lock, with
		// ingest): only when something may be claimed. Ingest rings this
		// doorbell for every burst, forwarded or not.
		Due: w.db.ForwardWorkDue,
	})
}

// tick queues a message per new event of each active forward, and prunes
// the history once an hour: the runner's upkeep at each wake.
func (w *Worker) tick(ctx context.Context) {
	if _, err := w.db.TakeForwardEvents(ctx, w.cfg.Settle, w.cfg.Batch); err != nil && ctx.Err() == nil {
		w.log.Warn("queue forwards", "error", err)
	}
	if now := time.Now(); now.Sub(w.lastPrune) > time.Hour {
		w.lastPrune = now
		if n, err := w.db.PruneForwardHistory(ctx, w.db.Now().Add(-w.cfg.Retention)); err != nil && ctx.Err() == nil {
			w.log.Warn("prune forward history", "error", err)
		} else if n > 0 {
			w.log.Debug("pruned forward history", "messages", n)
		}
	}
}

// claim leases up to n due messages. One claim takes at most one message
// per forward, so it is asked again while it takes any.
func (w *Worker) claim(ctx context.Context, n int) ([]storage.ForwardDelivery, error) {
	var out []storage.ForwardDelivery
	for len(out) < n {
		got, err := w.db.ClaimForwardDeliveries(ctx, w.owner, w.cfg.Lease, n-len(out), w.cfg.PerForward)
		out = append(out, got...)
		if err != nil || len(got) == 0 {
			return out, err
		}
	}
	return out, nil
}

// process makes one attempt at a claimed message and records it.
func (w *Worker) process(ctx context.Context, dl storage.ForwardDelivery) {
	log := w.log.With("forward_id", dl.ForwardID, "message_id", dl.MessageID, "attempt", dl.Attempts)
	a, fi, err := w.attempt(ctx, dl)
	if errors.Is(err, storage.ErrNotFound) {
		return // the forward was removed meanwhile, and its messages with it
	}
	if err != nil {
		// Herald's own trouble (the database): the target was not asked, so
		// the attempt does not count.
		log.Warn("forward not sent, will retry", "error", err)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := w.db.ReleaseForwardDelivery(rctx, dl, w.db.Now().Add(30*time.Second), err.Error()); err != nil {
			log.Warn("release forward", "error", err)
		}
		return
	}
	w.record(ctx, log.With("host", Host(fi.URL)), dl, a)
}

// record stores an attempt's outcome and schedules the next attempt (or
// gives up after the last). A test message gets one attempt.
func (w *Worker) record(ctx context.Context, log *slog.Logger, dl storage.ForwardDelivery, a storage.ForwardAttempt) {
	var next time.Time
	if !a.OK && dl.EventID != nil && dl.Attempts <= len(w.cfg.Schedule) {
		next = w.db.Now().Add(w.cfg.Schedule[dl.Attempts-1])
	}
	// What the target answered is recorded even if the work's time ran out
	// meanwhile: a message delivered and not recorded would go again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.db.FinishForwardAttempt(rctx, dl, a, next); err != nil {
		log.Warn("record forward attempt", "error", err)
		return
	}
	switch {
	case a.OK:
		log.Debug("forwarded", "status", a.StatusCode, "duration_ms", a.DurationMS)
	case next.IsZero():
		log.Warn("forward failed, giving up", "status", a.StatusCode, "error", a.Excerpt)
	default:
		log.Info("forward failed, will retry", "status", a.StatusCode, "error", a.Excerpt, "next_at", next)
	}
}

// SendTest sends a test message through the whole path (body, signature,
// guard, recording) to a forward's URL at once, paused or not, and returns
// the attempt. It gets one attempt, listed in /deliveries like the others.
func (w *Worker) SendTest(ctx context.Context, forwardID int64) (storage.ForwardAttempt, error) {
	dl, err := w.db.QueueForwardTest(ctx, forwardID, w.owner, w.cfg.Lease)
	if err != nil {
		return storage.ForwardAttempt{}, err
	}
	actx, cancel := context.WithTimeout(ctx, w.cfg.Work)
	defer cancel()
	a, fi, err := w.attempt(actx, dl)
	if err != nil {
		a = storage.ForwardAttempt{At: w.db.Now(), Excerpt: "not sent: internal error"}
	}
	w.record(ctx, w.log.With("forward_id", dl.ForwardID, "message_id", dl.MessageID, "host", Host(fi.URL), "test", true), dl, a)
	return a, err
}

// attempt builds a message's body and posts it once. An error means it was
// not sent (the forward is gone, or the database failed).
func (w *Worker) attempt(ctx context.Context, dl storage.ForwardDelivery) (storage.ForwardAttempt, storage.ForwardInfo, error) {
	fi, err := w.db.ForwardInfo(ctx, dl.ForwardID)
	if err != nil {
		return storage.ForwardAttempt{}, fi, err
	}
	body, err := w.body(ctx, fi, dl)
	if err != nil {
		return storage.ForwardAttempt{}, fi, err
	}
	return w.post(ctx, fi.URL, fi.Secret, dl.MessageID, body), fi, nil
}

// Message is the JSON body of a forwarded event (SPEC §9).
type Message struct {
	ID         string          `json:"id"`          // the event's id (a test message's own)
	Webhook    string          `json:"webhook"`     // the webhook's name
	ReceivedAt time.Time       `json:"received_at"` // when Herald accepted the event
	Summary    Summary         `json:"summary"`
	Payload    json.RawMessage `json:"payload"`        // the body as JSON when it is JSON, else as a string
	Test       bool            `json:"test,omitempty"` // a test message from the bot's button
}

// Summary is the event's notification in the webhook owner's language: as
// plain text ("text", what the Telegram message says) and structured (the
// fields of agent.Notification).
type Summary struct {
	Text string `json:"text"`
	agent.Notification
}

// body makes the JSON a message carries.
func (w *Worker) body(ctx context.Context, fi storage.ForwardInfo, dl storage.ForwardDelivery) ([]byte, error) {
	lang := locales.Normalize(fi.OwnerLanguage)
	var m Message
	if dl.EventID == nil {
		loc := w.loc.For(lang)
		n := agent.Notification{
			Source: "Herald", Event: "test", Title: loc.T("forward.test.title", nil),
			Summary: loc.T("forward.test.summary", map[string]any{"Name": fi.WebhookName}), Importance: agent.ImportanceNormal, Lang: lang,
		}
		payload, err := json.Marshal(map[string]any{"test": true, "webhook": fi.WebhookName, "message": n.Summary})
		if err != nil {
			return nil, err
		}
		m = Message{ID: dl.MessageID, Webhook: fi.WebhookName, ReceivedAt: w.db.Now(), Payload: payload, Test: true,
			Summary: Summary{Text: agent.Render(n, w.loc).Text(), Notification: n}}
	} else {
		ev, err := w.db.EventForDelivery(ctx, *dl.EventID)
		if err != nil {
			return nil, err
		}
		n, err := w.sum.Summary(ctx, ev.ID, lang)
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		m = Message{ID: ev.ID, Webhook: fi.WebhookName, ReceivedAt: ev.ReceivedAt.UTC(), Payload: payload(ev.Body),
			Summary: Summary{Text: agent.Render(n, w.loc).Text(), Notification: n}}
	}
	return json.Marshal(m)
}

// payload is an event's body for Message.Payload: itself when it is JSON,
// else a JSON string of it.
func payload(body []byte) json.RawMessage {
	if len(bytes.TrimSpace(body)) > 0 && json.Valid(body) {
		return json.RawMessage(body)
	}
	s, _ := json.Marshal(strings.ToValidUTF8(string(body), "\uFFFD"))
	return s
}

// maxRead bounds what is read of an answer; maxExcerpt what is kept.
const (
	maxRead    = 4 << 10
	maxExcerpt = 200
)

// post makes one signed POST and reports what came of it.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#webhook-headers-sending-metadata
func (w *Worker) post(ctx context.Context, target, secret, msgID string, body []byte) storage.ForwardAttempt {
	now := w.db.Now()
	a := storage.ForwardAttempt{At: now}
	sig, err := Sign(secret, msgID, now.Unix(), body)
	if err != nil {
		a.Excerpt = "not sent: " + err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		a.Excerpt = "not sent: invalid URL"
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.cfg.UserAgent)
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	began := time.Now()
	resp, err := w.client.Do(req)
	if err != nil {
		a.DurationMS = time.Since(began).Milliseconds()
		a.Excerpt = w.describe(err)
		return a
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxRead))
	resp.Body.Close()
	a.DurationMS = time.Since(began).Milliseconds()
	a.StatusCode = resp.StatusCode
	a.OK = resp.StatusCode >= 200 && resp.StatusCode < 300
	a.Excerpt = excerpt(data)
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		// Not followed (see newClient): say where it points.
		a.Excerpt = excerpt([]byte("redirect to " + Host(loc) + " not followed; " + a.Excerpt))
	}
	return a
}

// describe says why an attempt got no answer, in a line fit for
// /deliveries: without the URL (its path may hold a token).
func (w *Worker) describe(err error) string {
	var refused *RefusedError
	var dnsErr *net.DNSError
	var uerr *url.Error
	switch {
	case errors.As(err, &refused):
		return "refused: " + refused.Addr.String() + " is " + refused.Err.Error()
	case errors.Is(err, errRedirects):
		return fmt.Sprintf("more than %d redirects", maxRedirects)
	case errors.As(err, &dnsErr):
		return "host not found: " + dnsErr.Name
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return "no answer within " + w.cfg.Timeout.String()
	case errors.As(err, &uerr):
		return excerpt([]byte(uerr.Err.Error()))
	}
	return excerpt([]byte(err.Error()))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// excerpt is the start of an answer as one line of text, at most
// maxExcerpt bytes, cut on a character boundary.
func excerpt(data []byte) string {
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxExcerpt {
		return s
	}
	n := maxExcerpt - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
