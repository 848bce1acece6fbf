package agent

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Masked replaces a value that looks like a credential, wherever a payload is
// shown or sent to the LLM.
const Masked = "••••"

// sensitiveParts are looked for anywhere in a key folded to lowercase letters
// and digits ("X-Api-Key" → "xapikey", "clientSecret" → "clientsecret").
var sensitiveParts = []string{
	"password", "passwd", "passphrase", "secret", "token", "authorization",
	"apikey", "accesskey", "privatekey", "secretkey", "signingkey",
	"encryptionkey", "credential", "cookie", "signature", "cardnumber",
	"creditcard", "securitycode",
}

// sensitiveWords must be a whole word of the key ("card_number", "cardCvv",
// "pin"), so that "company" or "panel_url" stay visible.
var sensitiveWords = map[string]bool{
	"pwd": true, "pass": true, "pin": true, "cvv": true, "cvv2": true, "cvc": true,
	"cvc2": true, "pan": true, "card": true, "ssn": true, "auth": true, "otp": true,
	"jwt": true,
}

// cardSafeWords make a card key ("card_last4", "CardType", "masked_pan")
// name something printed on every receipt, not the card's number.
var cardSafeWords = map[string]bool{
	"last": true, "last4": true, "lastfour": true, "four": true, "first": true, "first6": true,
	"firstsix": true, "six": true, "bin": true, "type": true, "brand": true, "scheme": true,
	"network": true, "issuer": true, "bank": true, "country": true, "category": true,
	"product": true, "kind": true, "masked": true, "mask": true, "exp": true, "expiry": true,
	"expiration": true, "month": true, "year": true, "holder": true, "id": true,
}

// sensitiveKey reports whether a payload key or header name names a
// credential. A form key with brackets ("auth[domain]",
// "data[FIELDS][PASSWORD]") is judged by its last part; its outer parts
// count only when they name a credential outright ("secret[value]"), not
// by a word such as auth or card.
func sensitiveKey(key string) bool {
	if i := strings.IndexByte(key, '['); i > 0 && strings.HasSuffix(key, "]") {
		parts := strings.Split(strings.TrimSuffix(key[i+1:], "]"), "][")
		parts = append([]string{key[:i]}, parts...)
		leaf := len(parts) - 1
		for leaf > 0 && (parts[leaf] == "" || strings.Trim(parts[leaf], "0123456789") == "") {
			leaf-- // "password[0]", "tokens[]"
		}
		if sensitiveName(parts[leaf]) {
			return true
		}
		for _, p := range parts[:leaf] {
			if sensitivePart(fold(p)) {
				return true
			}
		}
		return false
	}
	return sensitiveName(key)
}

// sensitivePart reports a folded key holding a credential's name.
func sensitivePart(folded string) bool {
	for _, p := range sensitiveParts {
		if strings.Contains(folded, p) {
			return true
		}
	}
	return false
}

// sensitiveName is sensitiveKey of a key without brackets.
func sensitiveName(key string) bool {
	var buf [64]byte
	folded := buf[:0]
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c >= 'A' && c <= 'Z':
			folded = append(folded, c+'a'-'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			folded = append(folded, c)
		}
	}
	if sensitivePart(string(folded)) {
		return true
	}
	// Whole words only, looked for when the key could hold one.
	f := string(folded)
	maybe := false
	for w := range sensitiveWords {
		if strings.Contains(f, w) {
			maybe = true
			break
		}
	}
	if !maybe {
		return false
	}
	words := keyWords(key)
	cardSafe := false
	for _, w := range words {
		if cardSafeWords[w] {
			cardSafe = true
		}
	}
	for _, w := range words {
		if sensitiveWords[w] && !(cardSafe && (w == "card" || w == "pan")) {
			return true
		}
	}
	return false
}

// cardKey reports a key about a payment card.
func cardKey(key string) bool {
	f := fold(key)
	return strings.Contains(f, "card") || slices.Contains(keyWords(key), "pan")
}

// senderMasked matches a card number its sender has already masked:
// "430000******0777", "**** **** **** 4242".
var senderMasked = regexp.MustCompile(`^\d{0,6}[*•xX]{4,}\d{2,4}$`)

// alreadyMasked reports a card key whose value its sender masked itself:
// shown as it is, it says which card paid without being its number.
func alreadyMasked(key, value string) bool {
	v := strings.NewReplacer(" ", "", "-", "").Replace(value)
	return cardKey(key) && senderMasked.MatchString(v) && strings.ContainsAny(v, "*•")
}

// signatureWords, a word of a form key, name a hash signature of the
// request: Robokassa's SignatureValue and crc, ЮMoney's sha1_hash,
// WebMoney's LMI_HASH, PayPal's verify_sign, Interkassa's ik_sign.
var signatureWords = map[string]bool{
	"hash": true, "hash2": true, "sign": true, "sig": true, "signature": true, "crc": true,
	"crc32": true, "checksum": true, "hmac": true, "md5": true, "sha1": true, "sha256": true,
	"sha512": true, "digest": true,
}

// digestValue matches what a hash signature looks like: hex or base64, no
// spaces. A field named "sign_up" that holds "yes" is not one.
var digestValue = regexp.MustCompile(`^(?:[0-9a-fA-F]{8,}|[A-Za-z0-9+/_=-]{16,})$`)

// maskFormValue is a form field's value as the LLM may see it: masked
// whole when the key names a credential or a hash signature (a signature
// over a short password can be brute-forced offline), else with
// credential-shaped text masked.
func maskFormValue(key, value string) string {
	if value == "" || alreadyMasked(key, value) {
		return value
	}
	if sensitiveKey(key) {
		return Masked
	}
	leaf := key
	if i := strings.LastIndexByte(strings.TrimRight(key, "]"), '['); i >= 0 {
		leaf = key[i+1:]
	}
	for _, w := range keyWords(leaf) {
		if signatureWords[w] && digestValue.MatchString(strings.TrimSpace(value)) {
			return Masked
		}
	}
	return maskText(value)
}

// keyWords splits a key into lowercase words at punctuation, spaces and
// camelCase humps: "cardCVV_last4" → card, cvv, last4.
func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && (unicode.IsLower(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

// secretPatterns match credentials by their shape, whatever key holds them:
// they are masked inside any string and any text body.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`\b(sk|pk|rk)_(live|test)_[A-Za-z0-9]{8,}`), // Stripe keys
	regexp.MustCompile(`\bwhsec_[A-Za-z0-9+/=]{8,}`),               // webhook signing secrets
	regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{16,}`),                  // OpenAI and alike
	regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`),
	regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{16,}`),
	regexp.MustCompile(`\bxox[abposre]-[A-Za-z0-9-]{10,}`),                             // Slack
	regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`),                                  // AWS access key ids
	regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`),                                    // Google API keys
	regexp.MustCompile(`\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b`),                             // Telegram bot tokens
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), // JWTs
	regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(-----END [A-Z ]*PRIVATE KEY-----|$)`),
}

// authScheme matches "Bearer …" and "Basic …" credentials; masked only when
// the credential has a digit, so that "basic authentication" stays.
var authScheme = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+([A-Za-z0-9._~+/-]{8,}=*)`)

// assignment matches "password=…", "api_key: …" and alike in free text.
var assignment = regexp.MustCompile(`(?i)\b([a-z_-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key)[a-z_-]*)(["']?\s*[:=]\s*["']?)([^\s"'&,;]+)`)

// urlPassword matches the password of a URL's userinfo (https://user:pw@host).
var urlPassword = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@`)

// cardNumber matches a grouped card number (4242 4242 4242 4242) or 15-16
// digits in the ranges of Amex, Visa, Mastercard and Discover; it is masked
// only when its digits pass the Luhn check.
var cardNumber = regexp.MustCompile(`\b\d{4}([ -])\d{4}([ -])\d{4}([ -])\d{1,7}\b|\b[3-6]\d{14,15}\b`)

// secretHints are literal parts, lowercase, of everything maskText looks
// for: a string without any of them is returned at once, which keeps
// masking a megabyte payload cheap.
var secretHints = []string{
	"bearer", "basic", "token", "pass", "pwd", "secret", "key", "sk_", "pk_", "rk_", "sk-",
	"gh", "github_pat_", "glpat-", "xox", "akia", "asia", "aiza", ":aa", "eyj", "-----begin", "whsec_",
}

// maybeSecret reports whether s could hold anything maskText masks.
func maybeSecret(s string) bool {
	digits := 0 // in a run of digits, spaces and dashes: a card number, perhaps
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits >= 12 {
				return true
			}
		case c != ' ' && c != '-':
			digits = 0
		}
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		return true // a URL with a password, perhaps
	}
	lower := s
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			lower = strings.ToLower(s)
			break
		}
	}
	for _, h := range secretHints {
		if strings.Contains(lower, h) {
			return true
		}
	}
	return false
}

// maskText masks credential-shaped substrings of s.
func maskText(s string) string {
	if !maybeSecret(s) {
		return s
	}
	s = authScheme.ReplaceAllStringFunc(s, func(m string) string {
		sub := authScheme.FindStringSubmatch(m)
		if strings.ContainsAny(sub[2], "0123456789+/=") {
			return sub[1] + " " + Masked
		}
		return m
	})
	s = assignment.ReplaceAllString(s, "${1}${2}"+Masked)
	for _, re := range secretPatterns {
		s = re.ReplaceAllString(s, Masked)
	}
	s = urlPassword.ReplaceAllString(s, "${1}"+Masked+"@")
	s = cardNumber.ReplaceAllStringFunc(s, func(m string) string {
		if luhn(m) {
			return Masked
		}
		return m
	})
	return s
}

func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 12 && sum%10 == 0
}

// maskNode returns a copy of n with credentials masked: the whole value of a
// sensitive key (objects included) and credential-shaped strings anywhere.
func maskNode(n *node) *node {
	if n == nil {
		return nil
	}
	switch n.kind {
	case kindString:
		return &node{kind: kindString, s: maskText(n.s)}
	case kindArray:
		c := &node{kind: kindArray, vals: make([]*node, len(n.vals))}
		for i, v := range n.vals {
			c.vals[i] = maskNode(v)
		}
		return c
	case kindObject:
		c := &node{kind: kindObject, keys: append([]string(nil), n.keys...), vals: make([]*node, len(n.vals))}
		for i, v := range n.vals {
			if sensitiveKey(n.keys[i]) && !v.empty() && v.kind != kindBool &&
				!(v.kind == kindString && alreadyMasked(n.keys[i], v.s)) {
				c.vals[i] = &node{kind: kindString, s: Masked}
				continue
			}
			c.vals[i] = maskNode(v)
		}
		return c
	}
	return n
}
