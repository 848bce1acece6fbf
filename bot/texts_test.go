package bot_test

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/locales"
)

// TestTexts_TelegramHTML sends every text of the bot, in every language and
// plural form, to the strict Bot API fake as HTML: a stray '<' or '&', an
// unclosed tag or a text over 4096 characters fails here rather than when a
// user first meets it.
func TestTexts_TelegramHTML(t *testing.T) {
	s := telegramtest.Start(t)
	client, err := tg.New(s.Token(), tg.WithServerURL(s.URL()), tg.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	s.KnownUser(anna)
	bundle := locales.MustNew()
	placeholder := regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}`)
	for _, lang := range locales.Supported {
		raw, err := os.ReadFile("../locales/" + lang + ".toml")
		if err != nil {
			t.Fatal(err)
		}
		var tree map[string]any
		if err := toml.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		msgs := map[string]string{} // id → one form's source, for its placeholders
		plural := map[string]bool{}
		var walk func(prefix string, m map[string]any)
		walk = func(prefix string, m map[string]any) {
			for k, v := range m {
				id := strings.TrimPrefix(prefix+"."+k, ".")
				switch v := v.(type) {
				case string:
					if k == "one" || k == "other" || k == "few" || k == "many" {
						msgs[prefix] += v
						plural[prefix] = true
					} else {
						msgs[id] = v
					}
				case map[string]any:
					walk(id, v)
				}
			}
		}
		walk("", tree)
		ids := make([]string, 0, len(msgs))
		for id := range msgs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		loc := bundle.For(lang)
		for _, id := range ids {
			data := map[string]any{}
			for _, m := range placeholder.FindAllStringSubmatch(msgs[id], -1) {
				data[m[1]] = "orders"
			}
			var texts []string
			if plural[id] {
				for _, n := range []int{1, 2, 5} {
					texts = append(texts, loc.N(id, n, data))
				}
			} else {
				texts = append(texts, loc.T(id, data))
			}
			for _, text := range texts {
				_, err := client.SendMessage(context.Background(), &tg.SendMessageParams{ChatID: anna.ID, Text: text, ParseMode: models.ParseModeHTML})
				if err != nil {
					t.Errorf("%s %s: %v\n%s", lang, id, err, text)
				}
			}
		}
	}
}
