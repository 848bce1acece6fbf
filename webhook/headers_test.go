package webhook

import (
	"net/http"
	"testing"
)

func TestIsCredentialHeader(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		// Issue 16's, and their kin.
		{"X-Access-Key", true}, {"X-Private-Key", true}, {"X-Credential", true}, {"X-Key", true},
		{"Api_key", true}, {"X-Api-Key", true}, {"X-Service-Key", true}, {"Key", true},
		{"X-Client-Secret", true}, {"X-Foo-Token", true}, {"X-Amz-Security-Token", true},
		{"Sentry-Hook-Signature", true}, {"X-Sig", true}, {"X-Content-Mac", true},
		{"X-Auth", true}, {"X-Oauth-Info", true}, {"X-Session-Id", true}, {"X-Pass", true},
		{"X-Otp", true}, {"X-Jwt", true}, {"X-Card-Number", true}, {"X-Bearer", true},
		{"Cookie2", true}, {"X-Passphrase", true}, {"X-Hmac-Sha256", true},
		// Ids, event names, and words that only contain a credential word.
		{"Idempotency-Key", false}, {"X-Event-Key", false}, {"X-Github-Event", false},
		{"X-Github-Delivery", false}, {"X-Gitlab-Event-Uuid", false}, {"User-Agent", false},
		{"X-Request-Id", false}, {"X-Keyword", false}, {"X-Pinned", false}, {"X-Passthrough", false},
		{"X-Slack-Request-Timestamp", false}, {"Sentry-Hook-Resource", false}, {"Content-Type", false},
	} {
		if got := isCredentialHeader(tt.name); got != tt.want {
			t.Errorf("isCredentialHeader(%q) = %v, want %v", tt.name, got, tt.want)
		}
		if got := credentialHeader(tt.name); got != tt.want {
			t.Errorf("credentialHeader(%q) = %v (cached), want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkAppendHeaders stores a GitHub delivery's headers.
func BenchmarkAppendHeaders(b *testing.B) {
	h := http.Header{
		"Content-Type": {"application/json"}, "User-Agent": {"GitHub-Hookshot/044aadd"}, "X-Github-Event": {"issues"},
		"X-Github-Hook-Id": {"292430182"}, "X-Github-Hook-Installation-Target-Type": {"repository"},
		"X-Github-Hook-Installation-Target-Id": {"79929171"}, "Content-Length": {"1024"}, "Accept-Encoding": {"gzip"},
		"X-Github-Delivery":   {"72d3162e-cc78-11e3-81ab-4c9367dc0958"},
		"X-Hub-Signature-256": {"sha256=d57c68ca6f92289e6987922ff26938930f6e66a2d161ef06abdf1859230aa23c"},
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendHeaders(buf[:0], h)
	}
}
