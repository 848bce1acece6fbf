package playground

import (
	"encoding/json"
	"io/fs"
	"net/http"
)

// Handler serves everything under Path: the page, its static files, its
// JSON API and the emulated Bot API. Mount it at Path+"/" and at "GET "+Path.
func (p *Playground) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(APIPath+"/", p.tg)
	mux.HandleFunc("GET "+Path, p.handlePage)
	mux.HandleFunc("GET "+Path+"/{$}", p.handlePage)
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET "+Path+"/static/", http.StripPrefix(Path+"/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET "+Path+"/api/state", p.handleState)
	mux.HandleFunc("GET "+Path+"/api/samples", p.handleSamples)
	mux.HandleFunc("GET "+Path+"/api/texts", p.handleTexts)
	mux.HandleFunc("POST "+Path+"/api/send", p.handleSend)
	mux.HandleFunc("POST "+Path+"/api/press", p.handlePress)
	mux.HandleFunc("POST "+Path+"/api/group", p.handleGroup)
	mux.HandleFunc(Path+"/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return secureHeaders(mux)
}

// secureHeaders keeps the page to its own scripts and styles: even a bug in
// rendering could not run a payload's script.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// handlePage serves the page itself.
func (p *Playground) handlePage(w http.ResponseWriter, r *http.Request) {
	page, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the page is missing from this build")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(page)
}
