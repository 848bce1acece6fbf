package agent_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
)

// catalogueCase is what the message of one catalogue payload must say; the
// contract is /work/coord/CATALOGUE_FORMAT.md.
type catalogueCase struct {
	Sender     string           // "gitea": the entry, and testdata/senders/<Sender>/
	File       string           // "push.json" under testdata/senders/<Sender>/
	Header     string           // first line, exactly: "Gitea · push"
	Facts      []string         // payload values the message must show, en AND ru
	Derived    []string         // computed text checked in en only ("10.00 ₽", "pushed 2 commits")
	DerivedRU  []string         // optional: the same in ru
	Importance agent.Importance // low (silent) | normal | high
	Link       string           // expected link button URL, "" = none
	Thread     string           // expected thread key, "" = none
	Action     bool             // a to-do line is expected (failures)
}

// sendersDir holds the catalogue's payloads, one directory per entry.
const sendersDir = "testdata/senders"

// senderIndex is a testdata/senders/<id>/index.json.
type senderIndex map[string]struct {
	Headers     map[string]string `json:"headers"`
	ContentType string            `json:"content_type"`
	Source      string            `json:"source"`
	License     string            `json:"license"`
	Notes       string            `json:"notes"`
}

func readSenderIndex(t testing.TB, id string) senderIndex {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sendersDir, id, "index.json"))
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	var idx senderIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("%s/index.json: %v", id, err)
	}
	return idx
}

// senderPayload is a catalogue payload as Herald stores it: the headers its
// index lists, credentials removed as ingest removes them.
func senderPayload(t testing.TB, id, file string) agent.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(sendersDir, id, file))
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := readSenderIndex(t, id)[file]
	if !ok {
		t.Fatalf("%s/index.json does not list %s", id, file)
	}
	headers := map[string]string{}
	for k, v := range rec.Headers {
		if strings.HasPrefix(k, "<") || strings.Contains(strings.ToLower(k), "signature") ||
			strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "X-Gitlab-Token") {
			continue // credentials are removed before an event is stored
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	ct := rec.ContentType
	if ct == "" {
		ct = headers["Content-Type"]
	}
	return agent.Event{ID: id + "/" + file, Webhook: "hook", ContentType: ct, Headers: headers, Body: body}
}

// checkCatalogueGolden formats every case's payload in English and in
// Russian, renders it, has the strict Bot API parser read it, and checks the
// first line, the facts, the derived text, importance and silence, the link
// button, the thread key, the to-do, and that no credential of the payload
// is shown.
func checkCatalogueGolden(t *testing.T, cases []catalogueCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Sender+"/"+c.File, func(t *testing.T) {
			ev := senderPayload(t, c.Sender, c.File)
			secrets := agent.PayloadSecrets(ev)
			for _, lang := range []string{"en", "ru"} {
				n := agent.Format(ev, lang, bundle)
				m := agent.Render(n, bundle)
				text, err := tgemu.CheckHTML(m.HTML)
				if err != nil {
					t.Fatalf("%s: Telegram would refuse the message: %v\n%s", lang, err, m.HTML)
				}
				if utf16Len(text) > agent.MaxMessageLen {
					t.Errorf("%s: %d UTF-16 units", lang, utf16Len(text))
				}
				if first, _, _ := strings.Cut(text, "\n"); first != c.Header {
					t.Errorf("%s: first line %q, want %q:\n%s", lang, first, c.Header, text)
				}
				want := append([]string(nil), c.Facts...)
				switch lang {
				case "en":
					want = append(want, c.Derived...)
				case "ru":
					want = append(want, c.DerivedRU...)
				}
				for _, s := range want {
					if !strings.Contains(text, s) {
						t.Errorf("%s: the message lacks %q:\n%s", lang, s, text)
					}
				}
				for _, s := range secrets {
					if showsSecret(text, s) {
						t.Errorf("%s: the message shows the credential %q:\n%s", lang, s, text)
					}
				}
				if n.Importance != c.Importance {
					t.Errorf("%s: importance %q, want %q", lang, n.Importance, c.Importance)
				}
				if m.DisableNotification != (c.Importance == agent.ImportanceLow) {
					t.Errorf("%s: DisableNotification = %v for importance %q", lang, m.DisableNotification, n.Importance)
				}
				if n.Link != c.Link || m.LinkURL != c.Link {
					t.Errorf("%s: link %q (button %q), want %q", lang, n.Link, m.LinkURL, c.Link)
				}
				if c.Link != "" && !linkFromPayload(ev, c.Link) {
					t.Errorf("%s: link %q is not in the payload, nor on a host it names", lang, c.Link)
				}
				if n.Thread != c.Thread {
					t.Errorf("%s: thread %q, want %q", lang, n.Thread, c.Thread)
				}
				if got := n.Action != ""; got != c.Action || m.Done != c.Action {
					t.Errorf("%s: action %q (Done button %v), want one: %v", lang, n.Action, m.Done, c.Action)
				}
				if os.Getenv("AGENT_SHOW") != "" {
					t.Logf("[%s]\n%s\n[%s] %s · thread %q", lang, text, m.LinkText, m.LinkURL, n.Thread)
				}
			}
		})
	}
}

// TestCatalogueGolden is the engine's own entries: Gitea (detected before
// GitHub, whose headers it sends too), ЮKassa (money) and Docker Hub.
func TestCatalogueGolden(t *testing.T) {
	checkCatalogueGolden(t, []catalogueCase{
		{
			Sender: "gitea", File: "push.json", Header: "Gitea · push",
			Facts:      []string{"gitea/webhooks", "develop", "bffeb74", "Webhooks Yay!", "gitea"},
			Derived:    []string{"gitea pushed 1 commit to develop", "Repository: gitea/webhooks", "Branch: develop"},
			DerivedRU:  []string{"gitea: 1 коммит в develop", "Репозиторий: gitea/webhooks", "Ветка: develop"},
			Importance: agent.ImportanceNormal,
			Link:       "http://localhost:3000/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
			Thread:     "gitea/webhooks@develop",
		},
		{
			Sender: "yookassa", File: "payment.succeeded.json", Header: "ЮKassa · payment.succeeded",
			Facts:      []string{"Оплата тестового заказа №100500 для магазина Вереница", "Bank card *1026", "2203aa1d-000f-5000-8000-17102541fd31"},
			Derived:    []string{"Payment succeeded", "Amount: 1.00 ₽", "Test mode: yes"},
			DerivedRU:  []string{"Платёж прошёл", "Сумма: 1.00 ₽", "Тестовый режим: да"},
			Importance: agent.ImportanceNormal,
			Thread:     "2203aa1d-000f-5000-8000-17102541fd31",
		},
		{
			Sender: "yookassa", File: "payment.waiting_for_capture.json", Header: "ЮKassa · payment.waiting_for_capture",
			Facts:      []string{"Bank card *1026", "2185355e-000f-5081-a000-0000000"},
			Derived:    []string{"Payment is waiting for capture", "Amount: 10.00 ₽", "Capture or cancel the payment before 2017-11-03 12:08 UTC"},
			DerivedRU:  []string{"Платёж ждёт подтверждения", "Сумма: 10.00 ₽", "Подтвердите или отмените платёж до 03.11.2017 12:08 UTC"},
			Importance: agent.ImportanceHigh,
			Thread:     "2185355e-000f-5081-a000-0000000",
			Action:     true,
		},
		{
			Sender: "dockerhub", File: "push.json", Header: "Docker Hub · push",
			Facts:      []string{"svendowideit/testhook", "latest", "trustedbuilder"},
			Derived:    []string{"trustedbuilder pushed svendowideit/testhook:latest", "Private: yes", "Pushed: 2014-12-03 00:22 UTC"},
			DerivedRU:  []string{"trustedbuilder загрузил(а) svendowideit/testhook:latest", "Приватный: да", "Загружено: 03.12.2014 00:22 UTC"},
			Importance: agent.ImportanceNormal,
			Link:       "https://registry.hub.docker.com/u/svendowideit/testhook/",
			Thread:     "svendowideit/testhook",
		},
	})
}

// linkFromPayload reports whether a link comes from the payload: it is in
// the body or in one of its decoded strings (JSON may write "https:\/\/…"),
// or an entry built it on a host the payload names (Bitrix24's
// auth[domain], amoCRM's account._links.self): the button never opens a
// host the sender did not send.
func linkFromPayload(ev agent.Event, link string) bool {
	if strings.Contains(string(ev.Body), link) {
		return true
	}
	u, err := url.Parse(link)
	if err != nil || u.Hostname() == "" {
		return false
	}
	for _, s := range agent.PayloadStrings(ev) {
		if strings.Contains(s, link) || strings.EqualFold(s, u.Hostname()) {
			return true
		}
		if v, err := url.Parse(s); err == nil && v.Scheme != "" && strings.EqualFold(v.Hostname(), u.Hostname()) {
			return true
		}
	}
	return false
}

func TestLinkFromPayload(t *testing.T) {
	ev := agent.Event{ContentType: "application/json", Body: []byte(`{"airbrake_error_url":"https:\/\/zulip.airbrake.io\/projects\/125209\/groups\/1","auth":{"domain":"b24-abc.bitrix24.ru"},
		"account":{"_links":{"self":"https://shop.amocrm.ru"}},"note":"see https://evil.example/x"}`)}
	tests := []struct {
		link string
		want bool
	}{
		{"https://zulip.airbrake.io/projects/125209/groups/1", true}, // escaped slashes
		{"https://b24-abc.bitrix24.ru/crm/deal/details/42/", true},   // built on auth.domain
		{"https://shop.amocrm.ru/leads/detail/7", true},              // built on a URL's host
		{"https://other.bitrix24.ru/crm/deal/details/42/", false},
		{"https://evil.example/x", true}, // in a string: the engine's isPageURL and value rules judge it
		{"https://bitrix24.ru/", false},
	}
	for _, tt := range tests {
		if got := linkFromPayload(ev, tt.link); got != tt.want {
			t.Errorf("linkFromPayload(%q) = %v, want %v", tt.link, got, tt.want)
		}
	}
}

// showsSecret reports whether text shows the credential secret as a whole
// token: not inside a longer run of letters and digits (Adyen's authCode
// "1234" is not shown by a pspReference "123456789").
func showsSecret(text, secret string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], secret)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(secret)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		i = start + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

func TestShowsSecret(t *testing.T) {
	tests := []struct {
		text, secret string
		want         bool
	}{
		{"PSP reference: 123456789", "1234", false}, // Adyen's authCode inside an id
		{"Auth code: 1234.", "1234", true},
		{"1234", "1234", true},
		{"key sk_live_abc here", "sk_live_abc", true},
		{"x1234 and 1234y and 1234", "1234", true}, // the third stands alone
		{"Заказ1234", "1234", false},
		{"Token: abc-def", "abc-def", true},
	}
	for _, tt := range tests {
		if got := showsSecret(tt.text, tt.secret); got != tt.want {
			t.Errorf("showsSecret(%q, %q) = %v, want %v", tt.text, tt.secret, got, tt.want)
		}
	}
}

// catalogueEntries is the id and name of every entry of agent/catalogue.
func catalogueEntries(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("catalogue/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue entries: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".toml")
		name, err := agent.CatalogueName(id)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[id] = name
	}
	return out
}

// TestCatalogue_Payloads checks the catalogue's test data: every entry has
// real payloads listed with their origin and headers, every listed file is
// there and every file is listed, and every payload is detected as its own
// sender.
func TestCatalogue_Payloads(t *testing.T) {
	for id, name := range catalogueEntries(t) {
		t.Run(id, func(t *testing.T) {
			idx := readSenderIndex(t, id)
			if len(idx) == 0 {
				t.Fatalf("%s/index.json lists no payload", id)
			}
			entries, err := os.ReadDir(filepath.Join(sendersDir, id))
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, e := range entries {
				if e.Name() != "index.json" {
					files = append(files, e.Name())
				}
			}
			sort.Strings(files)
			for _, f := range files {
				if _, ok := idx[f]; !ok {
					t.Errorf("%s is not listed in %s/index.json", f, id)
				}
			}
			for f, rec := range idx {
				if _, err := os.Stat(filepath.Join(sendersDir, id, f)); err != nil {
					t.Errorf("%s/index.json lists %s: %v", id, f, err)
					continue
				}
				if rec.Source == "" || len(rec.Headers) == 0 {
					t.Errorf("%s: %s needs its source and its headers", id, f)
				}
				n := agent.Format(senderPayload(t, id, f), "en", bundle)
				if n.Source != name {
					t.Errorf("%s/%s is detected as %q, want %q", id, f, n.Source, name)
				}
			}
		})
	}
}
