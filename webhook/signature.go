package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signed requests (SPEC §5). With a secret set on a webhook, a request is
// accepted when one of the signatures it carries verifies against that
// secret. Every comparison is constant-time (hmac.Equal); equality schemes
// compare SHA-256 digests so that not even the secret's length shows in the
// timing. A rejection says which header failed and how, never what the
// expected value was.

// signatureTolerance is how far a signed timestamp may be from now, either
// way: older is a replay, newer a clock too far off to trust.
const signatureTolerance = 5 * time.Minute

// sigError is a rejected signature; its reason is fit for the sender.
type sigError struct{ reason string }

func (e *sigError) Error() string { return "webhook: signature: " + e.reason }

// scheme is one way of signing, detected by the header it puts on a request
// (canonical form, as http.Header keys are).
type scheme struct {
	header string
	verify func(secret string, h http.Header, body []byte, now time.Time) *sigError
}

// schemes in the order their failures are reported when a request carries
// several and none verifies. PagerDuty and Grafana are beyond SPEC §5's
// list; they are as cheap as GitHub's and their senders are common.
var schemes = []scheme{
	// Specs: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
	{"X-Hub-Signature-256", verifyGitHub},
	{"X-Webhook-Signature", verifyGeneric},
	// Specs: https://docs.stripe.com/webhooks#verify-manually
	{"Stripe-Signature", verifyStripe},
	// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
	{"Webhook-Signature", verifyStandard},
	// Specs: https://api.slack.com/authentication/verifying-requests-from-slack
	{"X-Slack-Signature", verifySlack},
	// Specs: https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook
	{"X-Shopify-Hmac-Sha256", verifyShopify},
	// Specs: https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token
	{"X-Gitlab-Token", verifyGitLab},
	// Specs: https://developer.pagerduty.com/docs/webhooks/webhook-signatures/
	{"X-Pagerduty-Signature", verifyPagerDuty},
	// Specs: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/#hmac-signature
	{"X-Grafana-Alerting-Signature", verifyGrafana},
	{"Authorization", verifyBearer},
}

// errNoSignature is a request to a webhook with a secret that carries none
// of the headers above.
var errNoSignature = &sigError{"this webhook requires signed requests and none of the supported signature headers is present " +
	"(X-Hub-Signature-256, X-Webhook-Signature, Stripe-Signature, webhook-signature, X-Slack-Signature, " +
	"X-Shopify-Hmac-Sha256, X-Gitlab-Token, X-PagerDuty-Signature, X-Grafana-Alerting-Signature, Authorization: Bearer)"}

// verifySignature checks a request against a webhook's secret: nil when one
// of the signatures present verifies, else the first failure (in the order
// of schemes), or errNoSignature.
func verifySignature(secret string, h http.Header, body []byte, now time.Time) *sigError {
	var first *sigError
	for _, s := range schemes {
		if _, ok := h[s.header]; !ok {
			continue
		}
		err := s.verify(secret, h, body, now)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if first == nil {
		return errNoSignature
	}
	return first
}

// mac is HMAC-SHA256 over the concatenation of parts.
func mac(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// hexMatches reports whether hex-encoded sig is the MAC want.
func hexMatches(want []byte, sig string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

// b64Matches reports whether base64-encoded sig is the MAC want.
func b64Matches(want []byte, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	return err == nil && hmac.Equal(got, want)
}

// equalSecret compares a presented secret with the webhook's in constant
// time, length included.
func equalSecret(presented, secret string) bool {
	a, b := sha256.Sum256([]byte(presented)), sha256.Sum256([]byte(secret))
	return hmac.Equal(a[:], b[:])
}

// checkTimestamp reads a Unix timestamp and checks it is within the
// tolerance of now.
func checkTimestamp(header, v string, now time.Time) *sigError {
	ts, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return &sigError{header + " must be a Unix timestamp in seconds"}
	}
	d := now.Unix() - ts
	if d > int64(signatureTolerance/time.Second) {
		return &sigError{header + " is more than 5 minutes old: the request is stale or replayed"}
	}
	if d < -int64(signatureTolerance/time.Second) {
		return &sigError{header + " is more than 5 minutes in the future: check the sender's clock"}
	}
	return nil
}

// sha256Header verifies "sha256=<hex>" over the body (GitHub, generic).
func sha256Header(header, secret string, h http.Header, body []byte) *sigError {
	v := h.Get(header)
	hexSig, ok := strings.CutPrefix(v, "sha256=")
	if !ok || len(strings.TrimSpace(hexSig)) != 2*sha256.Size {
		return &sigError{header + " is malformed: want sha256=<64 hex digits>"}
	}
	if !hexMatches(mac([]byte(secret), body), hexSig) {
		return &sigError{header + " does not match the body signed with this webhook's secret (HMAC-SHA256)"}
	}
	return nil
}

func verifyGitHub(secret string, h http.Header, body []byte, _ time.Time) *sigError {
	return sha256Header("X-Hub-Signature-256", secret, h, body)
}

func verifyGeneric(secret string, h http.Header, body []byte, _ time.Time) *sigError {
	return sha256Header("X-Webhook-Signature", secret, h, body)
}

// verifyStripe: "t=<unix>,v1=<hex>[,v1=<hex>…]" over "<t>.<body>". Several
// v1 entries appear while a secret is being rolled; one must match. Other
// schemes (v0, the test-mode scheme) are ignored, as Stripe's libraries do.
func verifyStripe(secret string, h http.Header, body []byte, now time.Time) *sigError {
	var t string
	var sigs []string
	for _, item := range strings.Split(h.Get("Stripe-Signature"), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
		switch k {
		case "t":
			if t == "" {
				t = v
			}
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if t == "" {
		return &sigError{"Stripe-Signature has no t= timestamp"}
	}
	if len(sigs) == 0 {
		return &sigError{"Stripe-Signature has no v1= signature"}
	}
	if err := checkTimestamp("Stripe-Signature's t=", t, now); err != nil {
		return err
	}
	want := mac([]byte(secret), []byte(t), []byte("."), body)
	for _, s := range sigs {
		if hexMatches(want, s) {
			return nil
		}
	}
	return &sigError{"no v1= signature in Stripe-Signature matches the body signed with this webhook's secret"}
}

// verifyStandard: Standard Webhooks, "v1,<base64>" entries separated by
// spaces, over "<webhook-id>.<webhook-timestamp>.<body>". The key is the
// base64 after "whsec_" when the secret has that prefix, else the secret's
// own bytes.
func verifyStandard(secret string, h http.Header, body []byte, now time.Time) *sigError {
	id, ts := h.Get("Webhook-Id"), h.Get("Webhook-Timestamp")
	if id == "" || ts == "" {
		return &sigError{"webhook-signature needs webhook-id and webhook-timestamp headers"}
	}
	if err := checkTimestamp("webhook-timestamp", ts, now); err != nil {
		return err
	}
	key := []byte(secret)
	if b64, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if k, err := base64.StdEncoding.DecodeString(b64); err == nil {
			key = k
		}
	}
	want := mac(key, []byte(id), []byte("."), []byte(ts), []byte("."), body)
	for _, entry := range strings.Fields(h.Get("Webhook-Signature")) {
		if sig, ok := strings.CutPrefix(entry, "v1,"); ok && b64Matches(want, sig) {
			return nil
		}
	}
	return &sigError{"no v1 signature in webhook-signature matches the body signed with this webhook's secret"}
}

// verifySlack: "v0=<hex>" over "v0:<timestamp>:<body>".
func verifySlack(secret string, h http.Header, body []byte, now time.Time) *sigError {
	ts := h.Get("X-Slack-Request-Timestamp")
	if ts == "" {
		return &sigError{"X-Slack-Signature needs the X-Slack-Request-Timestamp header"}
	}
	if err := checkTimestamp("X-Slack-Request-Timestamp", ts, now); err != nil {
		return err
	}
	hexSig, ok := strings.CutPrefix(h.Get("X-Slack-Signature"), "v0=")
	if !ok {
		return &sigError{"X-Slack-Signature is malformed: want v0=<hex>"}
	}
	if !hexMatches(mac([]byte(secret), []byte("v0:"), []byte(strings.TrimSpace(ts)), []byte(":"), body), hexSig) {
		return &sigError{"X-Slack-Signature does not match the body signed with this webhook's secret"}
	}
	return nil
}

// verifyShopify: base64 of the body's HMAC (a trailing newline, as Ruby's
// encode64 leaves, is tolerated).
func verifyShopify(secret string, h http.Header, body []byte, _ time.Time) *sigError {
	if !b64Matches(mac([]byte(secret), body), h.Get("X-Shopify-Hmac-Sha256")) {
		return &sigError{"X-Shopify-Hmac-Sha256 does not match the body signed with this webhook's secret"}
	}
	return nil
}

// verifyGitLab: the secret itself, sent as a token.
func verifyGitLab(secret string, h http.Header, _ []byte, _ time.Time) *sigError {
	if !equalSecret(h.Get("X-Gitlab-Token"), secret) {
		return &sigError{"X-Gitlab-Token is not this webhook's secret token"}
	}
	return nil
}

// verifyPagerDuty: "v1=<hex>[,v1=<hex>…]" over the body.
func verifyPagerDuty(secret string, h http.Header, body []byte, _ time.Time) *sigError {
	want := mac([]byte(secret), body)
	for _, item := range strings.Split(h.Get("X-Pagerduty-Signature"), ",") {
		if sig, ok := strings.CutPrefix(strings.TrimSpace(item), "v1="); ok && hexMatches(want, sig) {
			return nil
		}
	}
	return &sigError{"no v1= signature in X-PagerDuty-Signature matches the body signed with this webhook's secret"}
}

// verifyGrafana: hex HMAC of the body in Grafana's default header.
func verifyGrafana(secret string, h http.Header, body []byte, _ time.Time) *sigError {
	if !hexMatches(mac([]byte(secret), body), h.Get("X-Grafana-Alerting-Signature")) {
		return &sigError{"X-Grafana-Alerting-Signature does not match the body signed with this webhook's secret"}
	}
	return nil
}

// verifyBearer: "Authorization: Bearer <secret>".
func verifyBearer(secret string, h http.Header, _ []byte, _ time.Time) *sigError {
	scheme, token, _ := strings.Cut(h.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return &sigError{"Authorization must be Bearer <this webhook's secret>"}
	}
	if !equalSecret(token, secret) { // exact: a secret may hold spaces
		return &sigError{"the bearer token is not this webhook's secret"}
	}
	return nil
}
