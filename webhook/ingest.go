package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-relay/herald/storage"
)

var (
	errEmptyBody = errors.New("webhook: empty body")
	errShortBody = errors.New("webhook: body shorter than its Content-Length")
	errBusy      = errors.New("webhook: too many requests in progress")
)

// targetError is a malformed ?chat= or X-Herald-Chat (400).
type targetError struct{ reason string }

func (e *targetError) Error() string { return "webhook: target chat: " + e.reason }

// targetChat reads the one chat a request is for (SPEC §3): ?chat=<chat
// id> or the X-Herald-Chat header; 0 when neither is given. Both may be
// given if they agree. Untargeted requests pay a map lookup and a string
// comparison.
func targetChat(r *http.Request) (int64, error) {
	var vals []string
	if r.URL.RawQuery != "" {
		if q, ok := r.URL.Query()["chat"]; ok {
			vals = append(vals, q...)
		}
	}
	vals = append(vals, r.Header["X-Herald-Chat"]...)
	var target int64
	for i, v := range vals {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || id == 0 {
			return 0, &targetError{reason: "chat must be a Telegram chat id, an integer such as 123456789 or -1001234567890"}
		}
		if i > 0 && id != target {
			return 0, &targetError{reason: "?chat= and X-Herald-Chat name different chats; give one"}
		}
		target = id
	}
	return target, nil
}

// targetKey scopes a delivery id by the chat a request is for: the same id
// sent to two chats (one sender, two endpoint URLs) is two requests, while
// a redelivery to the same chat is answered with the original.
func targetKey(key string, target int64) string {
	if key == "" || target == 0 {
		return key
	}
	return key + "@chat:" + strconv.FormatInt(target, 10)
}

const (
	// requestOverhead is what an ingest request counts for beyond its body
	// against Config.MaxInflightBytes (headers, the stored copy's extras).
	requestOverhead = 8 << 10
	// inflightWait is how long a request waits for room before 503.
	inflightWait = 2 * time.Second
	// maxWebhookRechecks bounds how often one request is checked again
	// against a webhook that changed while it was being stored.
	maxWebhookRechecks = 2
)

// handleHookPost stores an event and answers 202 only once it is committed
// (SPEC §3). The order is cheapest refusal first: the token (cached), the
// declared size, the rate limit and the bound on work in progress are all
// checked before a byte of the body is read.
func (s *Server) handleHookPost(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { s.metrics.latency.Observe(time.Since(start).Seconds()) }()
	ctx := r.Context()

	wh, hash, cached, err := s.hookFor(r, start)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	target, err := targetChat(r)
	if err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		// Refused unread; closing the connection spares reading the rest.
		w.Header().Set("Connection", "close")
		s.fail(w, r, &http.MaxBytesError{Limit: s.cfg.MaxBodyBytes}, "webhook_id", wh.ID)
		return
	}
	if ok, retryAfter := s.limits.check(wh.ID, start); !ok {
		s.tooMany(w, retryAfter)
		return
	}
	cost := s.cfg.MaxBodyBytes
	if r.ContentLength >= 0 {
		cost = r.ContentLength
	}
	cost += requestOverhead
	if !s.inflight.TryAcquire(cost) {
		wctx, cancel := context.WithTimeout(ctx, inflightWait)
		err := s.inflight.Acquire(wctx, cost)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				err = errBusy
			}
			s.fail(w, r, err, "webhook_id", wh.ID)
			return
		}
	}
	defer s.inflight.Release(cost)

	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.fail(w, r, errEmptyBody, "webhook_id", wh.ID)
		return
	}
	contentType, warning := classifyBody(r.Header.Get("Content-Type"), body)
	e := storage.Event{ContentType: contentType, Headers: string(appendHeaders(nil, r.Header)), Body: body}
	key := targetKey(dedupKey(r.Header, body), target)

	taken := false
	for recheck := 0; ; recheck++ {
		if wh.Secret != "" {
			if sigErr := verifySignature(wh.Secret, r.Header, body, s.cfg.Now()); sigErr != nil {
				if cached {
					// The cached secret may be an old one: refuse only
					// against the webhook as it is now.
					cached = false
					if wh, err = s.refresh(ctx, hash, start); err != nil {
						s.fail(w, r, err)
						return
					}
					continue
				}
				s.fail(w, r, sigErr, "webhook_id", wh.ID)
				return
			}
		}
		if !taken {
			if ok, retryAfter := s.limits.take(wh.ID, start); !ok {
				s.tooMany(w, retryAfter)
				return
			}
			taken = true
		}
		e.WebhookID = wh.ID
		n, err := s.db.InsertEvent(ctx, &e, storage.IfWebhook(wh), storage.WithDedupKey(key), storage.WithTarget(target))
		switch {
		case err == nil:
			if s.log.Enabled(ctx, slog.LevelDebug) {
				s.log.Debug("event accepted", "webhook_id", wh.ID, "event_id", e.ID, "bytes", len(body), "deliveries", n)
			}
			s.metrics.accepted.Inc()
			s.bell.ring(e.QueuedTo)
			writeAccepted(w, http.StatusAccepted, e.ID, e.Status, warning, false)
		case errors.Is(err, storage.ErrDuplicate):
			s.log.Debug("redelivery answered with the original event", "webhook_id", wh.ID, "event_id", e.ID)
			s.metrics.duplicates.Inc()
			writeAccepted(w, http.StatusOK, e.ID, e.Status, warning, true)
		case errors.Is(err, storage.ErrWebhookChanged) && recheck < maxWebhookRechecks:
			cached = false
			if wh, err = s.refresh(ctx, hash, start); err != nil {
				s.fail(w, r, err)
				return
			}
			continue
		default:
			if errors.Is(err, storage.ErrNotFound) {
				s.cache.forget(hash)
			}
			s.fail(w, r, err, "webhook_id", wh.ID)
		}
		return
	}
}

func (s *Server) tooMany(w http.ResponseWriter, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, http.StatusTooManyRequests, "rate limit of this webhook exceeded, retry after "+retryAfter+" s")
}

// readBody reads a body of at most limit bytes: 413 past it (MaxBytesReader
// stops reading there and has the connection closed after the answer).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 && n <= limit {
		// The size is known: one allocation, no regrowing.
		buf := make([]byte, n)
		if _, err := io.ReadFull(body, buf); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, errShortBody
			}
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}

var jsonContentType = []string{"application/json"}

// writeAccepted answers an event stored (202) or found stored (200,
// duplicate) without encoding/json's reflection: it is the hot path.
func writeAccepted(w http.ResponseWriter, code int, id, status, warning string, duplicate bool) {
	b := make([]byte, 0, 128)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, status)
	if duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	if warning != "" {
		b = append(b, `,"warning":`...)
		b = appendJSONString(b, warning)
	}
	b = append(b, "}\n"...)
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(code)
	w.Write(b)
}

// droppedHeaders are never stored: credentials (SPEC §3) and transport noise.
var droppedHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Hub-Signature": true, "X-Hub-Signature-256": true, "X-Webhook-Signature": true,
	"Stripe-Signature": true, "Webhook-Signature": true, "X-Slack-Signature": true,
	"X-Shopify-Hmac-Sha256": true, "X-Gitlab-Token": true, "X-Telegram-Bot-Api-Secret-Token": true,
	"X-Pagerduty-Signature": true, "X-Grafana-Alerting-Signature": true, "X-Twilio-Signature": true,
	"X-Api-Key": true, "Api-Key": true, "X-Herald-Chat": true, // X-Herald-Chat: where to deliver, not part of the event
	"Connection": true, "Content-Length": true, "Accept-Encoding": true, "Keep-Alive": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// credentialWords catch vendor headers not in the list (X-Foo-Token,
// X-Bar-Secret, X-Baz-Signature).
var credentialWords = []string{"token", "secret", "signature", "password", "auth", "api-key", "apikey", "hmac", "session"}

// isCredentialHeader reports a header whose name says it holds a credential.
func isCredentialHeader(k string) bool {
	for _, w := range credentialWords {
		if containsFold(k, w) {
			return true
		}
	}
	return false
}

// containsFold is strings.Contains ignoring ASCII case, for a lower-case
// word, without lower-casing (allocating) the name.
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

// appendHeaders appends what is stored of a request's headers, a JSON
// object by name: everything a summary can use (event type, delivery id,
// user agent), no credentials. Repeated headers are joined with ", ".
func appendHeaders(b []byte, h http.Header) []byte {
	var arr [32]string
	keys := arr[:0]
	for k := range h {
		if !droppedHeaders[k] && !isCredentialHeader(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		for j, v := range h[k] {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONStringPart(b, v, j == 0, j == len(h[k])-1)
		}
		if len(h[k]) == 0 {
			b = append(b, `""`...)
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	return appendJSONStringPart(b, s, true, true)
}

// appendJSONStringPart appends s as (part of) a JSON string, with the
// opening and closing quotes when asked.
func appendJSONStringPart(b []byte, s string, open, close bool) []byte {
	const hexDigits = "0123456789abcdef"
	if open {
		b = append(b, '"')
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	if close {
		b = append(b, '"')
	}
	return b
}
