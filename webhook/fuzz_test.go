package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets. `go test` runs their seeds as ordinary tests; `go test
// -fuzz FuzzClassifyBody ./webhook` explores further (new failures land in
// testdata/fuzz and are replayed from then on).

func FuzzClassifyBody(f *testing.F) {
	seeds := []struct{ ct, body string }{
		{"application/json", `{"a":1}`},
		{"application/json", `{"n":1e999}`},
		{"application/json", `{"a":`},
		{"application/json", strings.Repeat("[", 10001) + strings.Repeat("]", 10001)},
		{"application/json", "{\"a\":\"\xff\"}"},
		{"application/json", `"\ud800"`},
		{"application/x-www-form-urlencoded", "payload=%7B%22a%22%3A1%7D"},
		{"application/x-www-form-urlencoded", "a=%z"},
		{"text/plain; charset=utf-8", "caf\xe9"},
		{"", "  [1,2]"},
		{"", "\x00"},
		{"TEXT/PLAIN\x00\xff", "x"},
		{"application/cloudevents+json", `{"specversion":"1.0"}`},
	}
	for _, s := range seeds {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		stored, warning := classifyBody(contentType, body)
		if !utf8.ValidString(stored) || len(stored) > maxContentType {
			t.Fatalf("stored content type %q is not clean", stored)
		}
		for _, r := range stored {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("stored content type %q has a control character", stored)
			}
		}
		mt := mediaType(stored)
		if (mt == "application/json" || strings.HasSuffix(mt, "+json")) && !json.Valid(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))) { // a byte order mark is not part of the body
			t.Fatalf("stored as %q but the body is not JSON", stored)
		}
		switch warning {
		case "", warnNotJSON, warnTooDeep, warnNotForm, warnNotUTF8:
		default:
			t.Fatalf("unknown warning %q", warning)
		}
		// What is stored of headers is JSON within its bound that reads
		// back as sent, long values cut, or is left out for the bound.
		h := http.Header{"X-Fuzz": {string(body)}, "Content-Type": {contentType}}
		headers := appendHeaders(nil, h)
		if len(headers) > maxStoredHeaders {
			t.Fatalf("stored headers take %d bytes, over %d", len(headers), maxStoredHeaders)
		}
		var back map[string]string
		if err := json.Unmarshal(headers, &back); err != nil {
			t.Fatalf("stored headers are not JSON: %v", err)
		}
		want := string(body)
		if len(want) > maxStoredHeaderValue {
			cut := maxStoredHeaderValue
			for !utf8.RuneStart(want[cut]) {
				cut--
			}
			want = replaceInvalid(want[:cut]) + "…"
		} else {
			want = replaceInvalid(want)
		}
		if got, ok := back["X-Fuzz"]; ok && got != want {
			t.Fatalf("header read back as %q, want %q", got, want)
		} else if alone := appendHeaders(nil, http.Header{"X-Fuzz": h["X-Fuzz"]}); !ok && len(headers)+len(alone)-1 <= maxStoredHeaders {
			t.Fatalf("header left out of %s though it fits", headers)
		}
		if k := dedupKey(http.Header{"Idempotency-Key": {string(body)}}, body); k != "" && (!utf8.ValidString(k) || len(k) > maxKeyLen+64) {
			t.Fatalf("dedup key %q is not clean", k)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	f.Add("s3cret", "X-Hub-Signature-256", "sha256=00", []byte(`{"a":1}`), int64(1_800_000_000))
	f.Add("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`), int64(1614265330))
	f.Add("k", "Stripe-Signature", "t=1,v1=,v1=zz,t=,", []byte{}, int64(0))
	f.Add("k", "X-Slack-Signature", "v0=", []byte("a=b"), int64(-1))
	f.Add("k", "Authorization", "Bearer", []byte("x"), int64(1))
	f.Add("", "X-Gitlab-Token", "", []byte(""), int64(1))
	f.Add("k", "X-Shopify-Hmac-Sha256", "====", []byte("{}"), int64(1))
	f.Add("k", "X-PagerDuty-Signature", "v1=,,v1", []byte("{}"), int64(1))
	f.Fuzz(func(t *testing.T, secret, header, value string, body []byte, unix int64) {
		now := time.Unix(unix, 0)
		h := http.Header{}
		h.Set(header, value)
		h.Set("Webhook-Id", "msg_1")
		h.Set("Webhook-Timestamp", value)
		h.Set("X-Slack-Request-Timestamp", value)
		err := verifySignature(secret, h, body, now)
		if err != nil {
			assertNoLeak(t, err.reason, secret, body, h)
		}
		// A correct GitHub signature always verifies, whatever else the
		// request carries; one over another body never does.
		h.Set("X-Hub-Signature-256", "sha256="+hexMAC(secret, string(body)))
		if err := verifySignature(secret, h, body, now); err != nil {
			t.Fatalf("correctly signed request refused: %v", err)
		}
		only := http.Header{"X-Hub-Signature-256": {"sha256=" + hexMAC(secret, string(body))}}
		if verifySignature(secret, only, append(body, 'y'), now) == nil {
			t.Fatal("a request signed over another body was accepted")
		}
	})
}

// replaceInvalid is s with each byte of invalid UTF-8 replaced by U+FFFD,
// as encoding/json does.
func replaceInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
