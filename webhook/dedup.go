package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Deduplication (SPEC §3): senders retry, and some deliver the same event
// twice at once. An event carrying one of these ids is stored once per
// webhook within storage.DedupWindow; its copies get the original's id.

// deliveryHeaders carry a sender's delivery id, canonical keys, in the order
// they are preferred when a request has several.
var deliveryHeaders = [...]struct{ header, source string }{
	{"X-Github-Delivery", "github"},    // X-GitHub-Delivery
	{"X-Gitlab-Event-Uuid", "gitlab"},  // X-Gitlab-Event-UUID
	{"Webhook-Id", "webhook-id"},       // Standard Webhooks
	{"Idempotency-Key", "idempotency"}, // the IETF draft's header
}

// maxKeyLen bounds a stored key; longer ids are stored as their hash.
const maxKeyLen = 200

// dedupKey returns the delivery id of a request as "<source>:<id>", or "".
func dedupKey(h http.Header, body []byte) string {
	for _, d := range deliveryHeaders {
		if vs := h[d.header]; len(vs) > 0 {
			if v := strings.TrimSpace(vs[0]); v != "" {
				return key(d.source, v)
			}
		}
	}
	if id := stripeEventID(h, body); id != "" {
		return key("stripe", id)
	}
	return ""
}

// stripeEventID is the id of a Stripe event ("evt_…"), read only from a
// request that says it comes from Stripe: another sender's "id" field is
// its own business.
func stripeEventID(h http.Header, body []byte) string {
	if _, signed := h["Stripe-Signature"]; !signed && !strings.HasPrefix(h.Get("User-Agent"), "Stripe/") {
		return ""
	}
	var ev struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	if json.Unmarshal(body, &ev) != nil || ev.Object != "event" || !strings.HasPrefix(ev.ID, "evt_") {
		return ""
	}
	return ev.ID
}

// key makes a stored key: printable UTF-8 of bounded length, or a hash.
func key(source, id string) string {
	k := source + ":" + id
	if len(k) <= maxKeyLen && utf8.ValidString(k) && !strings.ContainsFunc(k, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return source + ":sha256:" + hex.EncodeToString(sum[:])
}
