package webhook

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-relay/herald/storage"
)

// Config is what the HTTP surface needs to know.
type Config struct {
	MaxBodyBytes int64 // MAX_BODY_BYTES: larger bodies get 413
}

// Server serves the HTTP API over the database.
type Server struct {
	db    *storage.DB
	cfg   Config
	log   *slog.Logger
	wake  func()
	extra map[string]http.Handler
}

// New makes a Server. wake is rung after every committed event so the
// workers start at once instead of at their next poll; it must not block.
func New(db *storage.DB, cfg Config, log *slog.Logger, wake func()) *Server {
	if wake == nil {
		wake = func() {}
	}
	return &Server{db: db, cfg: cfg, log: log, wake: wake, extra: map[string]http.Handler{}}
}

// Mount adds a route served by another package (e.g. "POST /telegram").
func (s *Server) Mount(pattern string, h http.Handler) { s.extra[pattern] = h }

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

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ready(ctx); err != nil {
		s.log.Warn("not ready", "error", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "database unavailable or not migrated")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// fail answers for an error: the one place that maps errors to statuses. It
// logs the detail and tells the client only what is fit for them.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, attrs ...any) {
	var maxErr *http.MaxBytesError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found")
	case errors.As(err, &maxErr):
		writeError(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(maxErr.Limit, 10)+" bytes")
	case errors.Is(err, errEmptyBody):
		writeError(w, http.StatusBadRequest, "empty body: post the event as the request body")
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

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
