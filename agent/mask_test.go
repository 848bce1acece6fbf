package agent

import (
	"bytes"
	"strings"
	"testing"
)

func TestSensitiveKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"password", true}, {"Password", true}, {"user_password", true}, {"passwd", true},
		{"secret", true}, {"client_secret", true}, {"clientSecret", true},
		{"token", true}, {"access_token", true}, {"refreshToken", true},
		{"authorization", true}, {"Authorization", true},
		{"api_key", true}, {"apiKey", true}, {"apikey", true}, {"X-Api-Key", true},
		{"card", true}, {"card_number", true}, {"cardNumber", true}, {"credit_card", true},
		{"cvv", true}, {"cvc", true}, {"pan", true}, {"pin", true}, {"private_key", true},
		{"order_id", false}, {"amount", false}, {"customer", false}, {"company", false},
		{"panel_url", false}, {"expand", false}, {"spinner", false}, {"author", false},
		{"card_error_type", false}, {"description", false}, {"email", false}, {"keyboard", false},
		// Form keys are judged by their last part; card details printed on
		// receipts are not credentials.
		{"auth[domain]", false}, {"auth[member_id]", false}, {"auth[application_token]", true},
		{"auth[access_token]", true}, {"data[FIELDS][PASSWORD]", true}, {"secret[value]", true},
		{"password[0]", true}, {"card[cvv]", true}, {"card[last4]", false}, {"card[type]", false},
		{"CardLastFour", false}, {"CardFirstSix", false}, {"CardType", false}, {"card_last4", false},
		{"card_brand", false}, {"CardExpDate", false}, {"masked_pan", false}, {"card_pin", true},
		{"card_cvc", true}, {"CardNumber", true}, {"Pan", true},
	}
	for _, tt := range tests {
		if got := sensitiveKey(tt.key); got != tt.want {
			t.Errorf("sensitiveKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

func TestMaskText(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Authorization: Bearer abc123def456ghi789", "Authorization: Bearer ••••"},
		{"use basic authentication here", "use basic authentication here"},
		{"key sk_live_51Habcdefghijklmn end", "key •••• end"},
		{"openai sk-proj-abcdefghijklmnopqrstuvwx", "openai ••••"},
		{"gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh ••••"},
		{"slack xoxb-1234567890-abcdefghij", "slack ••••"},
		{"aws AKIAIOSFODNN7EXAMPLE", "aws ••••"},
		{"bot 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", "bot ••••"},
		{"https://bob:hunter2@example.com/x", "https://bob:••••@example.com/x"},
		{"https://example.com/cb?token=abc123&x=1", "https://example.com/cb?token=••••&x=1"},
		{"password=hunter2 next", "password=•••• next"},
		{`"api_key": "abc"`, `"api_key": "••••"`},
		{"card 4242 4242 4242 4242 ok", "card •••• ok"},
		{"order 1234 5678 9012 3456 ok", "order 1234 5678 9012 3456 ok"}, // not a Luhn number
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "••••"},
		{"order 12345 for $99", "order 12345 for $99"},
		{"the token expired", "the token expired"},
		{"hook whsec_abcdefghijklmnop", "hook ••••"},
		{"pat github_pat_11ABCDEFG0123456789_abcdefghij", "pat ••••"},
		{"gl glpat-abcdefghij0123456789", "gl ••••"},
		{"google AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "google ••••"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop", "jwt ••••"},
		{"stripe rk_live_abcdefgh12345678", "stripe ••••"},
		{"card 4242424242424242", "card ••••"},
	}
	for _, tt := range tests {
		if got := maskText(tt.in); got != tt.want {
			t.Errorf("maskText(%q)\ngot  %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskNode(t *testing.T) {
	root, err := parseJSON([]byte(`{"user":{"name":"Ann","password":"p","card":{"number":"4242424242424242"}},"token":null,"has_token":true,"note":"Bearer abcdef123456"}`))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	maskNode(root).encode(&b)
	want := `{"user":{"name":"Ann","password":"••••","card":"••••"},"token":null,"has_token":true,"note":"Bearer ••••"}`
	if got := b.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if root.str("user", "password") != "p" {
		t.Error("maskNode changed its input")
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		minor     int64
		cur, lang string
		want      string
	}{
		{9900, "usd", "en", "$99.00"},
		{9900, "usd", "ru", "99.00 USD"},
		{123456789, "usd", "en", "$1,234,567.89"},
		{5, "eur", "en", "€0.05"},
		{-250, "gbp", "en", "-£2.50"},
		{500, "jpy", "en", "¥500"},
		{500, "JPY", "ru", "500 JPY"},
		{1500, "kwd", "en", "1.500 KWD"},
		{9900, "chf", "en", "99.00 CHF"},
	}
	for _, tt := range tests {
		if got := formatMoney(tt.minor, tt.cur, tt.lang); got != tt.want {
			t.Errorf("formatMoney(%d, %q, %q) = %q, want %q", tt.minor, tt.cur, tt.lang, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  a\r\nb\rc  ", "a\nb\nc"},
		{"a\n\n\n\nb", "a\n\nb"},
		{"a \t\nb", "a\nb"},
		{"x\x00y\x1bz\u2028", "xyz"},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCutUTF16(t *testing.T) {
	tests := []struct {
		in     string
		budget int
		want   string
	}{
		{"hello", 5, "hello"},
		{"The quick brown fox jumps", 20, "The quick brown fox…"},
		{"The quick brown fox jumps", 18, "The quick brown…"},
		{"abcdefgh", 5, "abcd…"},
		{"😀😀😀", 5, "😀😀…"},
		{"😀😀😀", 4, "😀…"},
		{"e\u0301e\u0301e\u0301", 4, "e\u0301…"},
	}
	for _, tt := range tests {
		got := cutUTF16(tt.in, tt.budget)
		if got != tt.want {
			t.Errorf("cutUTF16(%q, %d) = %q, want %q", tt.in, tt.budget, got, tt.want)
		}
		if utf16Len(got) > tt.budget {
			t.Errorf("cutUTF16(%q, %d) is %d units long", tt.in, tt.budget, utf16Len(got))
		}
	}
}

// TestStatusWords: every status the formatter translates has its text in
// both languages (the locale tests cannot see ids built at run time).
func TestStatusWords(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		f := &formatter{l: bundleOr(nil).For(lang)}
		for word, key := range statusWords {
			if got := f.status(word); got == "" || got == "agent.status."+key {
				t.Errorf("%s: status %q has no text (%q)", lang, word, got)
			}
		}
		for interval := range stripeIntervals {
			if got := f.perInterval("$1.00", interval); strings.Contains(got, "agent.") {
				t.Errorf("%s: interval %q has no text: %q", lang, interval, got)
			}
		}
	}
}
