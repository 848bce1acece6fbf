package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/herald-relay/herald/storage"
)

var (
	errEmptyBody = errors.New("webhook: empty body")
	// errShortBody is a body that ended (or whose connection broke) before
	// its Content-Length or last chunk: the sender's doing (400).
	errShortBody = errors.New("webhook: body cut short by the sender")
	// errSlowBody is a body not received within Config.BodyReadTimeout (408).
	errSlowBody = errors.New("webhook: body not received in time")
	errBusy     = errors.New("webhook: too many requests in progress")
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
	// and headers against Config.MaxInflightBytes (the stored copy's
	// extras, the answer).
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
		// Refused unread: a client that waits for "100 Continue" sends
		// nothing more, one that sends it all at once is drained.
		s.tooLarge(w, r, r.ContentLength, !expectsContinue(r), "webhook_id", wh.ID)
		return
	}
	if ok, retryAfter := s.limits.check(wh.ID, start); !ok {
		s.tooMany(w, retryAfter)
		return
	}
	// The request holds its headers (already read), its body and the
	// stored copy of both: it waits for room for all of them.
	cost := s.cfg.MaxBodyBytes
	if r.ContentLength >= 0 {
		cost = r.ContentLength
	}
	c := s.inflight.claim(wh.ID, clientAddr(r), cost+requestOverhead+headerBytes(r.Header))
	if err := s.inflight.acquire(ctx, c, inflightWait); err != nil {
		s.fail(w, r, err, "webhook_id", wh.ID)
		return
	}
	defer s.inflight.release(c)

	// A sender gets a bounded time to send its body, so that a slow one
	// holds its room only that long. The deadline is lifted once the body
	// is in: past it the connection's reader would cancel the request
	// while the event is being stored.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout))
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	rc.SetReadDeadline(time.Time{})
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			// Read past the limit: the sender is sending, drain it.
			s.tooLarge(w, r, -1, true, "webhook_id", wh.ID)
			return
		}
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

// readBody reads a body of at most limit bytes: a *http.MaxBytesError past
// it, errSlowBody when the read deadline passes, errShortBody when the body
// ends early or its connection breaks (every read error is the sender's:
// the body comes from its connection).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	var buf []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= limit {
		// The size is known: one allocation, no regrowing.
		buf = make([]byte, n)
		_, err = io.ReadFull(body, buf)
	} else {
		buf, err = io.ReadAll(body)
	}
	if err == nil {
		return buf, nil
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, errSlowBody
	}
	return nil, fmt.Errorf("%w: %w", errShortBody, err)
}

const (
	// maxDrainBytes and drainTimeout bound what is read and thrown away of
	// a body refused as too large, so that its sender reads the 413.
	maxDrainBytes = 16 << 20
	drainTimeout  = 5 * time.Second
)

// tooLarge answers 413 to a body over MAX_BODY_BYTES and closes the
// connection. When drain is set it first reads and discards the rest of the
// body (remaining bytes, -1 when unknown), at most maxDrainBytes within
// drainTimeout, as nginx's lingering close does: a client that sends its
// whole body before reading the answer (no "Expect: 100-continue": Python's
// clients, many SDKs) would otherwise have its connection reset under it and
// never read the 413. A rest larger than the bound is not waited for: that
// client would be reset anyway.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request, remaining int64, drain bool, attrs ...any) {
	drain = drain && remaining <= maxDrainBytes
	rc := http.NewResponseController(w)
	if drain {
		// The answer goes out while the body is still being read.
		rc.EnableFullDuplex()
	}
	w.Header().Set("Connection", "close")
	s.fail(w, r, &http.MaxBytesError{Limit: s.cfg.MaxBodyBytes}, attrs...)
	if !drain {
		return
	}
	if err := rc.Flush(); err != nil {
		return
	}
	rc.SetReadDeadline(time.Now().Add(drainTimeout))
	io.CopyN(io.Discard, r.Body, maxDrainBytes)
}

// expectsContinue reports a request that waits for "100 Continue" before it
// sends its body.
func expectsContinue(r *http.Request) bool {
	for _, v := range r.Header["Expect"] {
		if strings.EqualFold(strings.TrimSpace(v), "100-continue") {
			return true
		}
	}
	return false
}

// headerBytes is about what a request's headers take on the wire (and, read,
// in memory).
func headerBytes(h http.Header) int64 {
	var n int
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // ": " and CRLF
		}
	}
	return int64(n)
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
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Expect": true,
}

// A header is taken for a credential, and not stored, by its name's shape,
// whatever the vendor (X-Foo-Token, X-Access-Key, Api_key, X-Sig): the
// list above only spares the look. The rule is a superset of the one the
// agent masks payload keys and header names by (agent/mask.go), so nothing
// it would mask is ever stored.

// credentialParts are looked for anywhere in a name folded to lower-case
// letters and digits ("X-Access-Key" → "xaccesskey", "Api_key" → "apikey").
var credentialParts = []string{
	"auth", "token", "secret", "signature", "password", "passwd", "passphrase", "credential",
	"apikey", "accesskey", "privatekey", "secretkey", "signingkey", "encryptionkey",
	"cookie", "session", "hmac", "bearer", "cardnumber", "creditcard", "securitycode",
}

// credentialWords must be a whole word of the name, between '-', '_', '.'
// or spaces ("X-Key", "X-Sig", "X-Pass"), so that "Pinned" or "Keyword"
// stay.
var credentialWords = map[string]bool{
	"key": true, "sig": true, "mac": true, "pwd": true, "pass": true, "pin": true, "otp": true,
	"jwt": true, "cvv": true, "cvv2": true, "cvc": true, "cvc2": true, "pan": true, "card": true, "ssn": true,
}

// idKeys are what a "key" names in the headers that carry an id, not a
// credential: Idempotency-Key (the IETF draft), Bitbucket's X-Event-Key.
var idKeys = map[string]bool{"idempotency": true, "event": true}

// credentialNames caches isCredentialHeader's verdicts: senders send the
// same few header names again and again, and the check is most of the cost
// of storing headers. Names are the senders' choice: past maxCachedNames
// the rest are checked every time.
var credentialNames = struct {
	sync.RWMutex
	m map[string]bool
}{m: map[string]bool{}}

const maxCachedNames = 4096

// credentialHeader is isCredentialHeader, cached.
func credentialHeader(k string) bool {
	credentialNames.RLock()
	v, ok := credentialNames.m[k]
	credentialNames.RUnlock()
	if ok {
		return v
	}
	v = isCredentialHeader(k)
	credentialNames.Lock()
	if len(credentialNames.m) < maxCachedNames {
		credentialNames.m[strings.Clone(k)] = v
	}
	credentialNames.Unlock()
	return v
}

// isCredentialHeader reports a header whose name says it holds a credential.
// It allocates nothing for names up to 128 bytes.
func isCredentialHeader(k string) bool {
	var fbuf, wbuf [128]byte
	folded, words := fbuf[:0], wbuf[:0] // letters and digits; the same with words apart
	for i := 0; i < len(k); i++ {
		c := k[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			folded = append(folded, c)
			words = append(words, c)
		} else if c == '-' || c == '_' || c == '.' || c == ' ' {
			words = append(words, ' ')
		}
	}
	for _, p := range credentialParts {
		if bytes.Contains(folded, []byte(p)) {
			return true
		}
	}
	key, id := false, false
	for len(words) > 0 {
		w := words
		if i := bytes.IndexByte(words, ' '); i >= 0 {
			w, words = words[:i], words[i+1:]
		} else {
			words = nil
		}
		switch {
		case string(w) == "key":
			key = true
		case credentialWords[string(w)]:
			return true
		case idKeys[string(w)]:
			id = true
		}
	}
	return key && !id
}

const (
	// maxStoredHeaderName: a header with a longer name is not stored.
	maxStoredHeaderName = 128
	// maxStoredHeaderValue: a longer value (repeated headers joined) is
	// stored cut to this many bytes, at a character boundary, ending in "…".
	maxStoredHeaderValue = 1 << 10
	// maxStoredHeaders bounds the stored headers' JSON: headers are stored
	// by name in order, one that would take them past it is left out (and
	// the next, shorter ones are still stored).
	maxStoredHeaders = 8 << 10
)

// appendHeaders appends what is stored of a request's headers, a JSON
// object by name: everything a summary can use (event type, delivery id,
// user agent), no credentials, within the bounds above. Repeated headers
// are joined with ", ".
func appendHeaders(b []byte, h http.Header) []byte {
	var arr [32]string
	keys := arr[:0]
	for k := range h {
		if len(k) <= maxStoredHeaderName && !droppedHeaders[k] && !credentialHeader(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	start := len(b)
	b = append(b, '{')
	for _, k := range keys {
		mark := len(b)
		if mark > start+1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendHeaderValue(b, h[k])
		if len(b)-start+1 > maxStoredHeaders {
			b = b[:mark]
		}
	}
	return append(b, '}')
}

// appendHeaderValue appends the values of a header joined with ", ", as a
// JSON string cut to maxStoredHeaderValue bytes.
func appendHeaderValue(b []byte, vs []string) []byte {
	if len(vs) == 0 {
		return append(b, `""`...)
	}
	left := maxStoredHeaderValue
	b = append(b, '"')
	for j, v := range vs {
		if j > 0 {
			if left < 2 {
				return append(b, `…"`...)
			}
			b = append(b, ", "...)
			left -= 2
		}
		if len(v) > left {
			cut := left
			for cut > 0 && !utf8.RuneStart(v[cut]) {
				cut--
			}
			b = appendJSONStringPart(b, v[:cut], false, false)
			return append(b, `…"`...)
		}
		b = appendJSONStringPart(b, v, false, false)
		left -= len(v)
	}
	return append(b, '"')
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
