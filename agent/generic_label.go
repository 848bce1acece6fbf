package agent

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/herald-relay/herald/locales"
)

// vocabulary is the generic formatter's words in one language, loaded once
// from locales/generic.<lang>.toml.
type vocabulary struct {
	lang string
	word map[string]string // a word or a whole key ("created_at") → its label
	of   map[string]string // a word → its genitive (Russian: "заказа")
}

var vocabularies sync.Map // lang → *vocabulary

// reservedKeys are go-i18n's reserved words, which a message key cannot be:
// the locale files write them with a trailing "_".
var reservedKeys = map[string]bool{
	"id": true, "description": true, "hash": true, "leftdelim": true, "rightdelim": true,
	"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true,
}

func vocabularyKey(w string) string {
	if reservedKeys[w] {
		return w + "_"
	}
	return w
}

// vocabularyFor is the vocabulary of l's language.
func vocabularyFor(l *locales.Localizer) *vocabulary {
	if v, ok := vocabularies.Load(l.Lang()); ok {
		return v.(*vocabulary)
	}
	v := &vocabulary{
		lang: l.Lang(),
		word: make(map[string]string, len(vocabularyWords)+len(vocabularyPhrases)),
		of:   make(map[string]string, len(vocabularyWords)),
	}
	for _, w := range vocabularyWords {
		v.word[w] = l.T("generic.word."+vocabularyKey(w), nil)
		v.of[w] = l.T("generic.of."+vocabularyKey(w), nil)
	}
	for _, p := range vocabularyPhrases {
		v.word[p] = l.T("generic.word."+vocabularyKey(p), nil)
	}
	actual, _ := vocabularies.LoadOrStore(l.Lang(), v)
	return actual.(*vocabulary)
}

// abbreviations are written in capitals in an English label.
var abbreviations = map[string]string{
	"id": "ID", "url": "URL", "uri": "URI", "uid": "UID", "uuid": "UUID", "ip": "IP", "api": "API",
	"sms": "SMS", "utc": "UTC", "sid": "SID", "mime": "MIME", "http": "HTTP", "https": "HTTPS",
	"ssl": "SSL", "dns": "DNS", "json": "JSON", "html": "HTML", "crm": "CRM", "sku": "SKU",
	"vat": "VAT", "inn": "INN", "otp": "OTP", "pdf": "PDF", "cpu": "CPU", "os": "OS",
}

// label turns the words of a key ("shipping", "method") into a label for
// people: a whole key the vocabulary knows ("created_at" → "Created"), else
// in English the words with the first capitalized ("Shipping method"); in
// Russian, when the vocabulary knows every word, the last word first and the
// others after it in the genitive ("Способ доставки"), else the English
// label: a sender's own word reads better than a wrong translation.
func (v *vocabulary) label(words []string) string {
	if len(words) == 0 {
		return ""
	}
	if s, ok := v.word[strings.Join(words, "_")]; ok {
		return s
	}
	if v.lang == "ru" {
		if s, ok := v.russian(words); ok {
			return s
		}
	}
	parts := make([]string, len(words))
	for i, w := range words {
		if a, ok := abbreviations[w]; ok {
			parts[i] = a
		} else {
			parts[i] = w
		}
	}
	return capitalize(strings.Join(parts, " "))
}

// russian composes a Russian label from known words: "order id" → "ID
// заказа", "billing address city" → "Город адреса оплаты".
func (v *vocabulary) russian(words []string) (string, bool) {
	head, ok := v.word[words[len(words)-1]]
	if !ok {
		return "", false
	}
	parts := []string{head}
	for i := len(words) - 2; i >= 0; i-- {
		g, ok := v.of[words[i]]
		if !ok {
			return "", false
		}
		parts = append(parts, g)
	}
	return capitalize(strings.Join(parts, " ")), true
}

// capitalize upper-cases the first letter of s.
func capitalize(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// labelWords are the words of a key (keyWords: camelCase and snake_case
// split) as a label uses them: the "at" of a timestamp key
// ("last_sign_in_at") dropped unless the vocabulary knows the whole key.
func (v *vocabulary) labelWords(words []string, time bool) []string {
	if _, ok := v.word[strings.Join(words, "_")]; ok {
		return words
	}
	if time && len(words) > 1 && words[len(words)-1] == "at" {
		words = words[:len(words)-1]
	}
	return words
}
