// Package locales holds every text Herald shows to people, in English and
// Russian, and the Localizer that picks one by a chat's language.
//
// Message files are TOML in go-i18n's format, embedded in the binary. Nested
// tables make dotted ids: [cmd.newtoken] created = "…" is "cmd.newtoken.created".
// Plural messages use CLDR categories (en: one/other; ru: one/few/many/other).
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.toml
var files embed.FS

// Default is the language used when a chat's language is unknown or unsupported.
const Default = "en"

// Supported lists the languages every text exists in, the default first.
var Supported = []string{"en", "ru"}

// Bundle is the set of loaded translations. It is safe for concurrent use.
type Bundle struct {
	bundle     *i18n.Bundle
	localizers map[string]*Localizer
}

// New loads the embedded message files.
func New() (*Bundle, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("locales: list files: %w", err)
	}
	for _, name := range names {
		if _, err := b.LoadMessageFileFS(files, name); err != nil {
			return nil, fmt.Errorf("locales: load %s: %w", name, err)
		}
	}
	lb := &Bundle{bundle: b, localizers: make(map[string]*Localizer, len(Supported))}
	for _, lang := range Supported {
		lb.localizers[lang] = &Localizer{lang: lang, loc: i18n.NewLocalizer(b, lang, Default)}
	}
	return lb, nil
}

// MustNew is New for tests and program start, where a broken embedded file is a bug.
func MustNew() *Bundle {
	b, err := New()
	if err != nil {
		panic(err)
	}
	return b
}

// Normalize maps a Telegram language_code ("ru", "ru-RU", "en-GB", "") to a
// supported language, falling back to Default.
func Normalize(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(code, "-_"); i >= 0 {
		code = code[:i]
	}
	for _, s := range Supported {
		if code == s {
			return s
		}
	}
	return Default
}

// For returns the Localizer for a language code, normalized first.
func (b *Bundle) For(code string) *Localizer {
	return b.localizers[Normalize(code)]
}

// Localizer renders messages in one language.
type Localizer struct {
	lang string
	loc  *i18n.Localizer
}

// Lang is the localizer's language code ("en", "ru").
func (l *Localizer) Lang() string { return l.lang }

// T renders the message id with template data (may be nil). A missing id is
// a programming error that the locale tests catch; at run time it renders as
// the id itself so the user still sees something and the log says what.
func (l *Localizer) T(id string, data map[string]any) string {
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		slog.Error("locales: missing message", "id", id, "lang", l.lang, "error", err)
		return id
	}
	return s
}

// N renders a plural message id for count; the template sees {{.Count}}
// besides data.
func (l *Localizer) N(id string, count int, data map[string]any) string {
	td := make(map[string]any, len(data)+1)
	for k, v := range data {
		td[k] = v
	}
	td["Count"] = count
	s, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: td})
	if err != nil {
		slog.Error("locales: missing message", "id", id, "lang", l.lang, "error", err)
		return id
	}
	return s
}
