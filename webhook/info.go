package webhook

import (
	"html/template"
	"net/http"
	"strings"
)

// DocsURL is where GET / and a webhook's GET page point a person.
const DocsURL = "https://github.com/herald-relay/herald#readme"

// wantsHTML reports a browser's request: it lists text/html before any
// JSON. Scripts and curl (Accept: */* or nothing) get JSON, as the rest of
// the API answers (SPEC §3).
func wantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	h, j := strings.Index(accept, "text/html"), strings.Index(accept, "json")
	return h >= 0 && (j < 0 || h < j)
}

var infoPage = template.Must(template.New("info").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:.1em .3em;border-radius:3px}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p>{{if .Curl}}<p><code>{{.Curl}}</code></p>{{end}}<p><a href="{{.Docs}}">Herald's documentation</a></p></body></html>
`))

type info struct {
	Title, Text, Curl, Docs string
}

func (s *Server) writeInfo(w http.ResponseWriter, r *http.Request, page info, v any) {
	w.Header().Set("Cache-Control", "no-store")
	if wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		page.Docs = DocsURL
		infoPage.Execute(w, page)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// handleRoot is GET /: what this server is.
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	s.writeInfo(w, r, info{
		Title: "Herald " + s.cfg.Version,
		Text:  "This is a Herald server: it turns webhooks into Telegram messages. Webhook URLs are made by talking to its Telegram bot (/newtoken).",
	}, map[string]string{"name": "Herald", "version": s.cfg.Version, "docs": DocsURL})
}

// handleHookGet is GET /hook/{token}: someone opened a webhook URL in a
// browser. A valid token says the webhook exists and takes POST; any other
// gets the one 404 a POST gets. The webhook's name is not shown: the URL
// alone should tell nobody more than that it works.
func (s *Server) handleHookGet(w http.ResponseWriter, r *http.Request) {
	if _, err := s.webhookFor(r); err != nil {
		s.fail(w, r, err)
		return
	}
	const text = "This Herald webhook exists. It takes events as HTTP POST requests to this URL; each one is delivered to the Telegram chats subscribed to it."
	s.writeInfo(w, r, info{
		Title: "Herald webhook",
		Text:  text,
		Curl:  `curl -X POST '<this URL>' -H 'Content-Type: application/json' -d '{"event":"test"}'`,
	}, map[string]string{"status": "ok", "method": "POST", "message": text})
}
