package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// payloadsDir is the shared corpus, found relative to the repository.
const payloadsDir = "../../shared/payloads"

type vector struct {
	ID        string            `json:"id"`
	Scheme    string            `json:"scheme"`
	Secret    *string           `json:"secret"`
	Timestamp *int64            `json:"timestamp"`
	Body      *string           `json:"body"`
	BodyFile  string            `json:"body_file"`
	Headers   map[string]string `json:"headers"`
	Expected  string            `json:"expected"`
	VerifyAt  json.RawMessage   `json:"verify_at"`
}

// supportedSchemes are the vector schemes Herald verifies; a request signed
// any other way carries none of the headers Herald knows, so a webhook with
// a secret refuses it as unsigned. Grafana's timestamped variant uses header
// names its user configures (X-Signature, X-Timestamp here), which cannot be
// detected.
var supportedSchemes = map[string]bool{
	"github-sha256": true, "stripe": true, "slack-v0": true, "standard-webhooks": true,
	"gitlab-token": true, "pagerduty-v1": true, "shopify": true, "grafana-hmac": true,
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(payloadsDir, "signatures.json"))
	if err != nil {
		t.Skipf("the shared payload corpus is absent (%s): skipping signature vectors", payloadsDir)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// when is the moment a vector is verified at: its verify_at, the real
// clock for "now", else its own timestamp.
func (v vector) when() time.Time {
	if n, err := strconv.ParseInt(string(v.VerifyAt), 10, 64); err == nil {
		return time.Unix(n, 0)
	}
	if len(v.VerifyAt) > 0 && v.VerifyAt[0] == '"' {
		return time.Now()
	}
	if v.Timestamp != nil {
		return time.Unix(*v.Timestamp, 0)
	}
	return time.Now()
}

func TestVerifySignature_SharedVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.ID, func(t *testing.T) {
			var body []byte
			switch {
			case v.Body != nil:
				body = []byte(*v.Body)
			case v.BodyFile != "":
				b, err := os.ReadFile(filepath.Join(payloadsDir, v.BodyFile))
				if err != nil {
					t.Fatal(err)
				}
				body = b
			}
			secret := ""
			if v.Secret != nil {
				secret = *v.Secret
			}
			h := http.Header{}
			for k, val := range v.Headers {
				h.Set(k, val)
			}
			err := verifySignature(secret, h, body, v.when())
			supported := supportedSchemes[v.Scheme] && v.ID != "grafana-hmac-with-timestamp"
			switch {
			case !supported:
				if err != errNoSignature {
					t.Fatalf("a %s request: got %v, want it refused as unsigned", v.Scheme, err)
				}
			case v.Expected == "valid" && err != nil:
				t.Fatalf("valid vector refused: %v", err)
			case v.Expected == "invalid" && err == nil:
				t.Fatal("invalid vector accepted")
			}
			if err != nil {
				assertNoLeak(t, err.reason, secret, body, h)
			}
		})
	}
}

// assertNoLeak fails when a rejection reveals the secret or a MAC the
// request should have carried.
func assertNoLeak(t *testing.T, reason, secret string, body []byte, h http.Header) {
	t.Helper()
	if len(secret) >= 4 && strings.Contains(reason, secret) {
		t.Errorf("reason %q contains the secret", reason)
	}
	candidates := [][]byte{mac([]byte(secret), body)}
	for _, ts := range []string{h.Get("X-Slack-Request-Timestamp"), h.Get("Webhook-Timestamp")} {
		if ts != "" {
			candidates = append(candidates, mac([]byte(secret), []byte("v0:"+ts+":"), body),
				mac([]byte(secret), []byte(h.Get("Webhook-Id")+"."+ts+"."), body))
		}
	}
	for _, m := range candidates {
		for _, enc := range []string{hex.EncodeToString(m), base64.StdEncoding.EncodeToString(m)} {
			if strings.Contains(reason, enc[:16]) {
				t.Errorf("reason %q reveals the expected MAC", reason)
			}
		}
	}
}

func hexMAC(secret string, parts ...string) string {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return hex.EncodeToString(m.Sum(nil))
}

func b64MAC(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifySignature_EdgeCases(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	const body = `{"event":"x"}`
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	whsec := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123"))
	whkey := []byte("0123456789abcdef0123")
	gh := "sha256=" + hexMAC(secret, body)
	tests := []struct {
		name    string
		secret  string
		headers []string
		ok      bool
		reason  string // part of the reason, when refused
	}{
		{"NoHeaders", secret, nil, false, "none of the supported signature headers"},
		{"GitHub", secret, []string{"X-Hub-Signature-256", gh}, true, ""},
		{"GitHubUpperHex", secret, []string{"X-Hub-Signature-256", "sha256=" + strings.ToUpper(hexMAC(secret, body))}, true, ""},
		{"GitHubSHA1Only", secret, []string{"X-Hub-Signature", "sha1=00"}, false, "none of the supported"},
		{"GitHubMalformed", secret, []string{"X-Hub-Signature-256", "sha1=" + hexMAC(secret, body)}, false, "malformed"},
		{"GitHubOtherSecret", secret, []string{"X-Hub-Signature-256", "sha256=" + hexMAC("other", body)}, false, "does not match"},
		{"Generic", secret, []string{"X-Webhook-Signature", "sha256=" + hexMAC(secret, body)}, true, ""},
		{"WrongSchemeHeaderAlsoPresent", secret, []string{"X-Webhook-Signature", "sha256=00", "X-Hub-Signature-256", gh}, true, ""},
		{"OnlyWrongSchemeHeader", secret, []string{"X-Webhook-Signature", "sha256=" + hexMAC("other", body)}, false, "X-Webhook-Signature"},
		{"StripeSeveralV1", secret, []string{"Stripe-Signature", "t=" + ts + ",v1=" + hexMAC("old", ts+"."+body) + ",v1=" + hexMAC(secret, ts+"."+body) + ",v0=00"}, true, ""},
		{"StripeOnlyV0", secret, []string{"Stripe-Signature", "t=" + ts + ",v0=" + hexMAC(secret, ts+"."+body)}, false, "no v1="},
		{"StripeNoTimestamp", secret, []string{"Stripe-Signature", "v1=" + hexMAC(secret, ts+"."+body)}, false, "no t="},
		{"StripeOld", secret, []string{"Stripe-Signature", "t=" + old + ",v1=" + hexMAC(secret, old+"."+body)}, false, "more than 5 minutes old"},
		{"StripeFuture", secret, []string{"Stripe-Signature", "t=" + future + ",v1=" + hexMAC(secret, future+"."+body)}, false, "in the future"},
		{"StripeWithinTolerance", secret, []string{"Stripe-Signature", "t=" + strconv.FormatInt(now.Unix()-299, 10) + ",v1=" + hexMAC(secret, strconv.FormatInt(now.Unix()-299, 10)+"."+body)}, true, ""},
		{"StandardRotated", whsec, []string{"Webhook-Id", "msg_1", "Webhook-Timestamp", ts,
			"Webhook-Signature", "v1," + b64MAC([]byte("previous key"), "msg_1."+ts+"."+body) + " v1," + b64MAC(whkey, "msg_1."+ts+"."+body)}, true, ""},
		{"StandardRawSecret", "not-base64!", []string{"Webhook-Id", "msg_1", "Webhook-Timestamp", ts,
			"Webhook-Signature", "v1," + b64MAC([]byte("not-base64!"), "msg_1."+ts+"."+body)}, true, ""},
		{"StandardNoID", whsec, []string{"Webhook-Timestamp", ts, "Webhook-Signature", "v1," + b64MAC(whkey, "."+ts+"."+body)}, false, "needs webhook-id"},
		{"StandardOld", whsec, []string{"Webhook-Id", "msg_1", "Webhook-Timestamp", old,
			"Webhook-Signature", "v1," + b64MAC(whkey, "msg_1."+old+"."+body)}, false, "more than 5 minutes old"},
		{"SlackBadTimestamp", secret, []string{"X-Slack-Request-Timestamp", "yesterday", "X-Slack-Signature", "v0=00"}, false, "Unix timestamp"},
		{"Slack", secret, []string{"X-Slack-Request-Timestamp", ts, "X-Slack-Signature", "v0=" + hexMAC(secret, "v0:"+ts+":"+body)}, true, ""},
		{"Shopify", secret, []string{"X-Shopify-Hmac-Sha256", b64MAC([]byte(secret), body)}, true, ""},
		{"GitLab", secret, []string{"X-Gitlab-Token", secret}, true, ""},
		{"GitLabPrefix", secret, []string{"X-Gitlab-Token", secret[:5]}, false, "X-Gitlab-Token"},
		{"Bearer", secret, []string{"Authorization", "Bearer " + secret}, true, ""},
		{"BearerLowerCase", secret, []string{"Authorization", "bearer " + secret}, true, ""},
		{"BearerWrong", secret, []string{"Authorization", "Bearer nope"}, false, "bearer token"},
		{"Basic", secret, []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+secret))}, false, "Bearer"},
		{"PagerDutySeveral", secret, []string{"X-PagerDuty-Signature", "v1=00,v1=" + hexMAC(secret, body)}, true, ""},
		{"Grafana", secret, []string{"X-Grafana-Alerting-Signature", hexMAC(secret, body)}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				h.Set(tt.headers[i], tt.headers[i+1])
			}
			err := verifySignature(tt.secret, h, []byte(body), now)
			if got := err == nil; got != tt.ok {
				t.Fatalf("accepted = %v (%v), want %v", got, err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.reason, tt.reason) {
					t.Errorf("reason %q, want it to mention %q", err.reason, tt.reason)
				}
				assertNoLeak(t, err.reason, tt.secret, []byte(body), h)
			}
		})
	}
}
