package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/herald-relay/herald/storage"
)

var errEmptyBody = errors.New("webhook: empty body")

// hookResponse is the answer to an accepted event (SPEC §3).
type hookResponse struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Warning string `json:"warning,omitempty"`
}

// handleHookPost stores an event and answers 202 only once it is committed.
func (s *Server) handleHookPost(w http.ResponseWriter, r *http.Request) {
	// Bound the read before anything else; the token is checked after the
	// body is read so that an unknown token costs no more than a known one.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	wh, err := s.webhookFor(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.fail(w, r, errEmptyBody)
		return
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	var warning string
	if isJSON(contentType) && !json.Valid(body) {
		// Still accepted: delivered as text rather than lost.
		warning = "body is labelled JSON but does not parse; delivered as text"
		contentType = "text/plain; charset=utf-8"
	}
	headers, err := json.Marshal(keptHeaders(r.Header))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e := storage.Event{WebhookID: wh.ID, ContentType: contentType, Headers: string(headers), Body: body}
	n, err := s.db.InsertEvent(r.Context(), &e)
	if err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	s.log.Debug("event accepted", "webhook_id", wh.ID, "event_id", e.ID, "bytes", len(body), "deliveries", n)
	s.wake()
	writeJSON(w, http.StatusAccepted, hookResponse{ID: e.ID, Status: e.Status, Warning: warning})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// droppedHeaders are never stored: credentials (SPEC §3) and transport noise.
var droppedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Hub-Signature": true, "X-Hub-Signature-256": true, "X-Webhook-Signature": true,
	"Stripe-Signature": true, "Webhook-Signature": true, "X-Slack-Signature": true,
	"X-Shopify-Hmac-Sha256": true, "X-Gitlab-Token": true, "X-Telegram-Bot-Api-Secret-Token": true,
	"X-Api-Key": true, "Api-Key": true,
	"Connection": true, "Content-Length": true, "Accept-Encoding": true, "Keep-Alive": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// credentialWords catch vendor headers not in the list (X-Foo-Token,
// X-Bar-Secret, X-Baz-Signature).
var credentialWords = []string{"token", "secret", "signature", "password", "auth", "api-key", "apikey", "hmac"}

// keptHeaders is what is stored of a request's headers: everything a
// summary can use (event type, delivery id, user agent), no credentials.
func keptHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if droppedHeaders[k] || isCredentialHeader(k) {
			continue
		}
		out[k] = strings.Join(vs, ", ")
	}
	return out
}

func isCredentialHeader(k string) bool {
	lk := strings.ToLower(k)
	for _, w := range credentialWords {
		if strings.Contains(lk, w) {
			return true
		}
	}
	return false
}
