// Package webhook is Herald's HTTP surface: the ingest endpoint every sender
// posts to, event status, health, and (in webhook mode) Telegram's updates.
package webhook

import (
	"net/http"
	"path"
	"strings"
)

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
	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	}
	mux.HandleFunc("/", notFound)
	return s.metrics.count(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The mux would redirect a path with "..", "." or "//" to its
		// clean form: /hook/../x would get a 307 where every unknown
		// token gets the one 404. No client of ours sends such a path.
		if p := r.URL.EscapedPath(); p != cleanPath(p) && r.Method != http.MethodConnect {
			notFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// cleanPath is the canonical form of a path, as http.ServeMux makes it:
// path.Clean's, with a trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
