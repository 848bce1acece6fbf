package webhook

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClassifyBody(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	tests := []struct {
		name, contentType, body string
		wantType, wantWarning   string
	}{
		{"JSON", "application/json", `{"a":1}`, "application/json", ""},
		{"JSONWithCharset", "Application/JSON; charset=utf-8", `[1]`, "Application/JSON; charset=utf-8", ""},
		{"VendorJSON", "application/vnd.github+json", `{}`, "application/vnd.github+json", ""},
		{"HugeNumber", "application/json", `{"n":1e999}`, "application/json", ""},
		{"NotJSON", "application/json", `{"a":`, textPlainUTF8, warnNotJSON},
		{"TooDeep", "application/json", deep, textPlainUTF8, warnTooDeep},
		{"JSONInvalidUTF8", "application/json", "{\"a\":\"\xff\"}", "application/json", warnNotUTF8},
		{"GitHubForm", "application/x-www-form-urlencoded", "payload=%7B%22a%22%3A1%7D", "application/x-www-form-urlencoded", ""},
		{"Form", "application/x-www-form-urlencoded", "a=1&b=two+words", "application/x-www-form-urlencoded", ""},
		{"BrokenForm", "application/x-www-form-urlencoded", "a=%zz", textPlainUTF8, warnNotForm},
		{"Text", "text/plain", "disk full on db-1", "text/plain", ""},
		{"TextInvalidUTF8", "text/plain", "caf\xe9", "text/plain", warnNotUTF8},
		{"Binary", "application/octet-stream", "\x00\x01\xff", "application/octet-stream", ""},
		{"UnlabelledJSON", "", ` {"a":1}`, "application/json", ""},
		{"JSONWithBOM", "application/json", "\xef\xbb\xbf{\"a\":1}", "application/json", ""},
		{"UnlabelledText", "", "hello", textPlainUTF8, ""},
		{"UnlabelledBinary", "", "\x00\xff", "application/octet-stream", ""},
		{"ControlCharsInLabel", "text/plain\x00\n; x=\xff", "hi", "text/plain; x=", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotType, gotWarning := classifyBody(tt.contentType, []byte(tt.body))
			if gotType != tt.wantType || gotWarning != tt.wantWarning {
				t.Fatalf("got %q, %q; want %q, %q", gotType, gotWarning, tt.wantType, tt.wantWarning)
			}
		})
	}
}

func TestDedupKey(t *testing.T) {
	stripeBody := `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"charge.succeeded"}`
	tests := []struct {
		name    string
		headers []string
		body    string
		want    string
	}{
		{"None", nil, `{"id":"evt_1","object":"event"}`, ""},
		{"GitHub", []string{"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}, `{}`, "github:72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		{"GitLab", []string{"X-Gitlab-Event-UUID", "u-1"}, `{}`, "gitlab:u-1"},
		{"StandardWebhooks", []string{"webhook-id", "msg_1"}, `{}`, "webhook-id:msg_1"},
		{"IdempotencyKey", []string{"Idempotency-Key", "k1"}, `{}`, "idempotency:k1"},
		{"GitHubFirst", []string{"Idempotency-Key", "k1", "X-GitHub-Delivery", "d1"}, `{}`, "github:d1"},
		{"StripeSigned", []string{"Stripe-Signature", "t=1,v1=00"}, stripeBody, "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"StripeUserAgent", []string{"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}, stripeBody, "stripe:evt_1NG8Du2eZvKYlo2CUI79vXWy"},
		{"StripeNotAnEvent", []string{"Stripe-Signature", "t=1"}, `{"id":"cus_1","object":"customer"}`, ""},
		{"LongID", []string{"Idempotency-Key", strings.Repeat("k", 300)}, `{}`, "idempotency:sha256:"},
		{"BinaryID", []string{"Idempotency-Key", "a\xffb"}, `{}`, "idempotency:sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				h.Set(tt.headers[i], tt.headers[i+1])
			}
			got := dedupKey(h, []byte(tt.body))
			if strings.HasSuffix(tt.want, ":sha256:") {
				if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+64 {
					t.Fatalf("got %q, want %s<hex>", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// BenchmarkClassifyBody is ingest's look at a body, over the shared corpus
// and the load benchmark's 1 KiB body.
func BenchmarkClassifyBody(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(payloadsDir, "*", "*.json"))
	files = append(files, filepath.Join(payloadsDir, "..", "bench", "body-1k.json"))
	var bodies [][]byte
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Skipf("the shared corpus is absent: %v", err)
		}
		bodies = append(bodies, d)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, warning := classifyBody("application/json", bodies[i%len(bodies)]); warning != "" {
			b.Fatal(warning)
		}
		i++
	}
}

// BenchmarkClassifyBody1K is the same for the load benchmark's body alone.
func BenchmarkClassifyBody1K(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(payloadsDir, "..", "bench", "body-1k.json"))
	if err != nil {
		b.Skipf("the shared corpus is absent: %v", err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, warning := classifyBody("application/json", body); warning != "" {
			b.Fatal(warning)
		}
	}
}
