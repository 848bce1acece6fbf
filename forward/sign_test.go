package forward_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/forward"
)

// The reference vector of Standard Webhooks (its libraries' TestWebhookSign).
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign_ReferenceVector(t *testing.T) {
	got, err := forward.Sign(vectorSecret, vectorID, vectorTimestamp, []byte(vectorBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vectorSignature {
		t.Fatalf("Sign = %q, want %q", got, vectorSignature)
	}
	// The test's own verifier agrees with the vector, so what it accepts
	// from the worker is what any Standard Webhooks receiver accepts.
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", "v1,bm90IGl0 "+vectorSignature)
	if err := verify(vectorSecret, h, []byte(vectorBody), time.Unix(vectorTimestamp+60, 0)); err != nil {
		t.Fatalf("verifier refuses the reference vector: %v", err)
	}
	for name, tamper := range map[string]func(h http.Header, body *string){
		"Body":      func(h http.Header, body *string) { *body += " " },
		"ID":        func(h http.Header, body *string) { h.Set("webhook-id", "msg_other") },
		"Timestamp": func(h http.Header, body *string) { h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp+1)) },
		"Version": func(h http.Header, body *string) {
			h.Set("webhook-signature", strings.Replace(vectorSignature, "v1,", "v2,", 1))
		},
	} {
		t.Run("Tampered"+name, func(t *testing.T) {
			h2, body := h.Clone(), vectorBody
			h2.Set("webhook-signature", vectorSignature)
			tamper(h2, &body)
			if err := verify(vectorSecret, h2, []byte(body), time.Unix(vectorTimestamp, 0)); err == nil {
				t.Fatal("verifier accepted a tampered request")
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := forward.NewSecret(), forward.NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secret %q lacks the whsec_ prefix", a)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(key) < 24 || len(key) > 64 {
		t.Fatalf("secret key of %d bytes (%v), want 24 to 64", len(key), err)
	}
	if _, err := forward.Sign("whsec_not base64!", "m", 1, nil); err == nil {
		t.Fatal("signed with a malformed secret")
	}
}
