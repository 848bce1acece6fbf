package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/herald-relay/herald/storage"
)

// Config is what the HTTP surface needs to know.
type Config struct {
	MaxBodyBytes int64 // MAX_BODY_BYTES: larger bodies get 413
	// RateLimit requests per RateWindow are accepted per webhook, burst
	// included (HOOK_RATE_LIMIT); 0 means no limit.
	RateLimit  int
	RateWindow time.Duration
	// MaxInflightBytes bounds the bytes (bodies, headers, stored copies)
	// all ingest requests may hold at once, so that a flood waits (and then
	// gets 503) instead of exhausting memory; 0 means 32 MiB, and it is at
	// least four of the largest requests. One webhook, and one client
	// address, may hold a quarter of it (see budget).
	MaxInflightBytes int64
	// BodyReadTimeout bounds the time a request's body may take to arrive
	// once Herald reads it (408 past it); 0 means 10 s.
	BodyReadTimeout time.Duration
	// Now is the clock signatures' timestamps are checked against; nil
	// means time.Now.
	Now func() time.Time
	// Version is this build's version, named by GET /.
	Version string
}

// Server serves the HTTP API over the database.
type Server struct {
	db       *storage.DB
	cfg      Config
	log      *slog.Logger
	bell     *doorbell
	extra    map[string]http.Handler
	cache    *webhookCache
	lookups  singleflight.Group                                              // concurrent cache misses of one token share one query
	lookup   func(ctx context.Context, hash []byte) (storage.Webhook, error) // db.WebhookByTokenHash; tests count it
	limits   *limits
	inflight *budget
	metrics  *metrics
}

// webhookCacheTTL is how long a token lookup is reused (see webhookCache).
const webhookCacheTTL = 2 * time.Second

// MaxHeaderBytes bounds a request's headers (HTTPServer): larger get 431
// before a handler sees them. Webhook senders send a few KiB, and nginx's
// default refuses more than 32 KiB; net/http's own default (1 MiB) let a
// thousand held connections cost 1.6 GB.
const MaxHeaderBytes = 32 << 10

// defaultBodyReadTimeout is Config.BodyReadTimeout's default: a 1 MiB body
// must come at 100 KiB/s or better, which every sending server does.
const defaultBodyReadTimeout = 10 * time.Second

// New makes a Server. wake is rung after committed events, with the chats
// they were queued for (nil: any chat), so the workers start at once
// instead of at their next poll; it must not block.
func New(db *storage.DB, cfg Config, log *slog.Logger, wake func(chats []int64)) *Server {
	if wake == nil {
		wake = func([]int64) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = 32 << 20
	}
	if cfg.BodyReadTimeout <= 0 {
		cfg.BodyReadTimeout = defaultBodyReadTimeout
	}
	// The largest request must fit a share, and four shares the total.
	largest := cfg.MaxBodyBytes + requestOverhead + MaxHeaderBytes
	cfg.MaxInflightBytes = max(cfg.MaxInflightBytes, 4*largest)
	return &Server{
		db: db, cfg: cfg, log: log, bell: &doorbell{wake: wake}, extra: map[string]http.Handler{},
		cache:    newWebhookCache(webhookCacheTTL),
		lookup:   db.WebhookByTokenHash,
		limits:   newLimits(cfg.RateLimit, cfg.RateWindow),
		inflight: newBudget(cfg.MaxInflightBytes, max(cfg.MaxInflightBytes/4, largest)),
		metrics:  newMetrics(db),
	}
}

// Mount adds a route served by another package (e.g. "POST /telegram").
func (s *Server) Mount(pattern string, h http.Handler) { s.extra[pattern] = h }

// HTTPServer is the http.Server to serve Handler with: every timeout set,
// and headers bounded by MaxHeaderBytes. errorLog gets net/http's own
// complaints (nil: the log package's standard logger).
func (s *Server) HTTPServer(errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// The whole request; an ingest body has its own, shorter deadline
		// (Config.BodyReadTimeout).
		ReadTimeout:    30 * time.Second,
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog:       errorLog,
	}
}

// webhookFor resolves the {token} of a request. Every way a token can be
// wrong — unknown, revoked, regenerated away, its owner banned — is the same
// ErrNotFound, so the answer tells a prober nothing.
func (s *Server) webhookFor(r *http.Request) (storage.Webhook, error) {
	token := r.PathValue("token")
	if len(token) == 0 || len(token) > 128 {
		return storage.Webhook{}, storage.ErrNotFound
	}
	h := storage.HashToken(token)
	wh, err := s.db.WebhookByTokenHash(r.Context(), h)
	if err != nil {
		return storage.Webhook{}, err
	}
	// The lookup is by hash; compare the hashes in constant time all the same.
	if subtle.ConstantTimeCompare(wh.TokenHash, h) != 1 {
		return storage.Webhook{}, storage.ErrNotFound
	}
	return wh, nil
}

// hookFor resolves the {token} of an ingest request like webhookFor, from
// the cache when it can (cached reports so).
func (s *Server) hookFor(r *http.Request, now time.Time) (wh storage.Webhook, hash [32]byte, cached bool, err error) {
	token := r.PathValue("token")
	if len(token) == 0 || len(token) > 128 {
		return storage.Webhook{}, hash, false, storage.ErrNotFound
	}
	hash = sha256.Sum256([]byte(token))
	if wh, ok := s.cache.get(hash, now); ok {
		return wh, hash, true, nil
	}
	// When the entry of a busy webhook expires, every request in flight
	// misses at once: one query answers them all.
	ctx := r.Context()
	res := s.lookups.DoChan(string(hash[:]), func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		return s.refresh(ctx, hash, now)
	})
	select {
	case v := <-res:
		if v.Err != nil {
			return storage.Webhook{}, hash, false, v.Err
		}
		return v.Val.(storage.Webhook), hash, false, nil
	case <-ctx.Done():
		return storage.Webhook{}, hash, false, ctx.Err()
	}
}

// lookupTimeout bounds a token lookup shared by several requests (each of
// them stops waiting when its own request ends).
const lookupTimeout = 10 * time.Second

// refresh looks a token hash up in the database and caches the answer.
func (s *Server) refresh(ctx context.Context, hash [32]byte, now time.Time) (storage.Webhook, error) {
	s.cache.forget(hash)
	wh, err := s.lookup(ctx, hash[:])
	if err != nil {
		return storage.Webhook{}, err
	}
	// The lookup is by hash; compare the hashes in constant time all the same.
	if subtle.ConstantTimeCompare(wh.TokenHash, hash[:]) != 1 {
		return storage.Webhook{}, storage.ErrNotFound
	}
	s.cache.put(hash, wh, now)
	return wh, nil
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 when an event could be stored now: the
// database answers, is migrated and takes writes (storage.DB.Ready, which
// reuses its verdict for a second, so probes stay cheap).
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ready(ctx); err != nil {
		s.log.Warn("not ready", "error", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "database unavailable, not migrated or not writable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// fail answers for an error: the one place that maps errors to statuses. It
// logs the detail and tells the client only what is fit for them.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, attrs ...any) {
	var maxErr *http.MaxBytesError
	var sigErr *sigError
	var targetErr *targetError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.As(err, &targetErr):
		writeError(w, http.StatusBadRequest, targetErr.reason)
	case errors.Is(err, storage.ErrNotSubscribed):
		// A bot cannot write first to someone who never started it.
		writeError(w, http.StatusNotFound, "chat not subscribed to this webhook: it must subscribe first (/subscribe, or an /invite link); nothing was stored")
	case errors.Is(err, storage.ErrChatInactive):
		writeError(w, http.StatusNotFound, "chat unreachable: it blocked the bot or removed it; nothing was stored")
	case errors.As(err, &maxErr):
		writeError(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(maxErr.Limit, 10)+" bytes")
	case errors.As(err, &sigErr):
		s.log.Debug("signature rejected", append(attrs, "reason", sigErr.reason)...)
		writeError(w, http.StatusUnauthorized, sigErr.reason)
	case errors.Is(err, errEmptyBody):
		writeError(w, http.StatusBadRequest, "empty body: post the event as the request body")
	case errors.Is(err, errShortBody):
		// The sender's doing (it closed, or its connection broke), not a
		// storage failure: nothing for an operator to act on.
		s.log.Debug("body cut short by the sender", append(attrs, "error", err)...)
		writeError(w, http.StatusBadRequest, "body ended before its announced length: nothing was stored, send the whole body")
	case errors.Is(err, errSlowBody):
		s.log.Debug("body not received in time", attrs...)
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestTimeout, "body not received within "+s.cfg.BodyReadTimeout.String()+": nothing was stored")
	case errors.Is(err, errBusy):
		if busy, ok := errors.AsType[*busyError](err); ok {
			attrs = append(attrs, "full", busy.full)
		}
		s.log.Warn("ingest saturated, asking the sender to retry", attrs...)
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "too many requests in progress, retry later")
	case errors.Is(err, context.Canceled):
		// The client went away; nothing to answer.
	default:
		s.log.Error("request failed", append(attrs, "method", r.Method, "route", r.Pattern, "error", err)...)
		// Storage trouble: tell the sender to come back rather than drop
		// the event (SPEC §3: never a hang, never a silent drop).
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily unable to store events, retry later")
	}
}

// writeJSON answers v with its length, so that an answer flushed while the
// request is still being read (tooLarge) is complete as soon as it is sent.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
