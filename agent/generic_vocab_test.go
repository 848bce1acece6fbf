package agent

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/herald-relay/herald/locales"
)

// TestGenericVocabulary fails when the vocabulary lists and the locale
// files disagree: a key loaded that no file has, or a file's key never
// loaded.
func TestGenericVocabulary(t *testing.T) {
	want := map[string][]string{"word": {}, "of": {}}
	for _, w := range vocabularyWords {
		want["word"] = append(want["word"], vocabularyKey(w))
		want["of"] = append(want["of"], vocabularyKey(w))
	}
	for _, p := range vocabularyPhrases {
		want["word"] = append(want["word"], vocabularyKey(p))
	}
	for _, lang := range locales.Supported {
		var file struct {
			Generic map[string]map[string]any `toml:"generic"`
		}
		b, err := os.ReadFile("../locales/generic." + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		if err := toml.Unmarshal(b, &file); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for table, keys := range want {
			var got []string
			for k := range file.Generic[table] {
				got = append(got, k)
			}
			sort.Strings(got)
			w := append([]string(nil), keys...)
			sort.Strings(w)
			if strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("%s [generic.%s]:\n got %v\nwant %v", lang, table, got, w)
			}
		}
		v := vocabularyFor(locales.MustNew().For(lang))
		for k, s := range v.word {
			if s == "" || strings.HasPrefix(s, "generic.") {
				t.Errorf("%s: %q does not resolve: %q", lang, k, s)
			}
		}
	}
}

func TestVocabulary_Label(t *testing.T) {
	loc := locales.MustNew()
	tests := []struct {
		key, en, ru string
	}{
		{"shipping_method", "Shipping method", "Способ доставки"},
		{"orderId", "Order ID", "ID заказа"},
		{"created_at", "Created", "Создано"},
		{"billingAddressCity", "Billing address city", "Город адреса оплаты"},
		{"customer_email", "Customer email", "Email клиента"},
		{"frobnicate_level", "Frobnicate level", "Frobnicate level"}, // an unknown word: the English words
		{"status", "Status", "Статус"},
		{"api_url", "API URL", "API URL"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			for lang, want := range map[string]string{"en": tt.en, "ru": tt.ru} {
				v := vocabularyFor(loc.For(lang))
				if got := v.label(v.labelWords(keyWords(tt.key), false)); got != want {
					t.Errorf("%s: %q, want %q", lang, got, want)
				}
			}
		})
	}
}
