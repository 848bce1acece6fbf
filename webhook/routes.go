// Package webhook is Herald's HTTP surface: the ingest endpoint every sender
// posts to, event status, health, and (in webhook mode) Telegram's updates.
package webhook

import "net/http"

// Handler returns every route Herald serves (SPEC §3).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleRoot)
	mux.HandleFunc("POST /hook/{token}", s.handleHookPost)
	mux.HandleFunc("GET /hook/{token}", s.handleHookGet)
	mux.HandleFunc("GET /hook/{token}/events/{id}", s.handleEventGet)
	mux.HandleFunc("GET /hook/{token}/events", s.handleEventList)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metrics.handler)
	for pattern, h := range s.extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return s.metrics.count(mux)
}
