package locales

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"ru": {"one", "few", "many", "other"},
}

var cldrKeys = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true}

// messages flattens every message file of a language into id → {form → text}.
// A plain string is the single form "other".
func messages(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	names, err := fs.Glob(files, "*"+lang+".toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no message files for %s: %v", lang, err)
	}
	out := map[string]map[string]string{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		isPlural := len(m) > 0
		for k := range m {
			if !cldrKeys[k] {
				isPlural = false
			}
		}
		if isPlural {
			forms := map[string]string{}
			for k, v := range m {
				forms[k], _ = v.(string)
			}
			out[prefix] = forms
			return
		}
		for k, v := range m {
			id := k
			if prefix != "" {
				id = prefix + "." + k
			}
			switch v := v.(type) {
			case string:
				out[id] = map[string]string{"other": v}
			case map[string]any:
				walk(id, v)
			default:
				t.Errorf("%s: %s: unexpected %T", lang, id, v)
			}
		}
	}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := toml.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walk("", m)
	}
	return out
}

var placeholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}`)

func placeholders(forms map[string]string) []string {
	set := map[string]bool{}
	for _, s := range forms {
		for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestLocales_Complete fails when a message, a plural form or a placeholder
// is missing from any language.
func TestLocales_Complete(t *testing.T) {
	all := map[string]map[string]map[string]string{}
	for _, lang := range Supported {
		all[lang] = messages(t, lang)
	}
	ref := all[Default]
	for _, lang := range Supported {
		msgs := all[lang]
		for id := range ref {
			if _, ok := msgs[id]; !ok {
				t.Errorf("%s: missing %q", lang, id)
			}
		}
		for id, forms := range msgs {
			refForms, ok := ref[id]
			if !ok {
				t.Errorf("%s: %q is not in %s", lang, id, Default)
				continue
			}
			if len(refForms) > 1 || len(forms) > 1 { // a plural message
				for _, f := range pluralForms[lang] {
					if strings.TrimSpace(forms[f]) == "" {
						t.Errorf("%s: %q lacks plural form %q", lang, id, f)
					}
				}
			} else if strings.TrimSpace(forms["other"]) == "" {
				t.Errorf("%s: %q is empty", lang, id)
			}
			if got, want := strings.Join(placeholders(forms), ","), strings.Join(placeholders(refForms), ","); got != want {
				t.Errorf("%s: %q has placeholders {%s}, %s has {%s}", lang, id, got, Default, want)
			}
		}
	}
}

var usedIDRE = regexp.MustCompile(`\.(?:T|N)\("([a-z0-9_.]+)"`)

// TestLocales_UsedIDsExist scans the project's Go code for literal message
// ids and fails when one is in no message file.
func TestLocales_UsedIDsExist(t *testing.T) {
	msgs := messages(t, Default)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range usedIDRE.FindAllStringSubmatch(string(b), -1) {
			if strings.HasSuffix(m[1], ".") {
				continue // a prefix completed at run time ("menu."+cmd); tested where it is used
			}
			checked++
			if _, ok := msgs[m[1]]; !ok {
				t.Errorf("%s uses message %q, which no message file has", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked %d message ids used in code", checked)
}

func TestLocalizer_Plural(t *testing.T) {
	b := MustNew()
	tests := []struct {
		lang  string
		count int
		want  string
	}{
		{"en", 1, "1 chat"}, {"en", 2, "2 chats"}, {"en", 5, "5 chats"},
		{"ru", 1, "1 чат"}, {"ru", 2, "2 чата"}, {"ru", 5, "5 чатов"},
		{"ru", 21, "21 чат"}, {"ru", 22, "22 чата"}, {"ru", 11, "11 чатов"},
	}
	for _, tt := range tests {
		if got := b.For(tt.lang).N("tokens.chats", tt.count, nil); got != tt.want {
			t.Errorf("%s %d: got %q, want %q", tt.lang, tt.count, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"ru": "ru", "ru-RU": "ru", "EN-gb": "en", "": "en", "de": "en", "uk": "en"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalizer_T(t *testing.T) {
	b := MustNew()
	got := b.For("ru-RU").T("subscribe.done", map[string]any{"Name": "orders"})
	if want := "Этот чат теперь получает <b>orders</b>."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := b.For("en").T("no.such.id", nil); got != "no.such.id" {
		t.Errorf("missing id rendered %q", got)
	}
}

// TestLocalizer_RussianPlurals: CLDR's forms for the counts the bot shows
// (1 событие, 2 события, 5 событий).
func TestLocalizer_RussianPlurals(t *testing.T) {
	ru := MustNew().For("ru")
	tests := []struct {
		id    string
		count int
		want  string
	}{
		{"count.events", 1, "1 событие"}, {"count.events", 2, "2 события"}, {"count.events", 5, "5 событий"},
		{"count.events", 11, "11 событий"}, {"count.events", 21, "21 событие"}, {"count.events", 104, "104 события"},
		{"count.webhooks", 1, "1 вебхук"}, {"count.webhooks", 3, "3 вебхука"}, {"count.webhooks", 20, "20 вебхуков"},
		{"duration.hours", 1, "1 час"}, {"duration.hours", 2, "2 часа"}, {"duration.hours", 12, "12 часов"},
		{"duration.minutes", 1, "1 минута"}, {"duration.minutes", 30, "30 минут"}, {"duration.minutes", 22, "22 минуты"},
		{"duration.days", 1, "1 день"}, {"duration.days", 7, "7 дней"}, {"duration.days", 3, "3 дня"},
		{"history.attempts", 3, "(3 попытки)"}, {"history.attempts", 5, "(5 попыток)"},
	}
	for _, tt := range tests {
		if got := ru.N(tt.id, tt.count, nil); got != tt.want {
			t.Errorf("%s %d: got %q, want %q", tt.id, tt.count, got, tt.want)
		}
	}
}
