package agent_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
)

// genericDir holds real payloads of senders Herald has no entry for, read
// by the generic formatter: testdata/generic/<sender>/<case>, listed with
// their headers and origin in testdata/generic/index.json.
const genericDir = "testdata/generic"

// genericIndex is testdata/generic/index.json: "<sender>/<case>" → record.
type genericIndex map[string]struct {
	Headers     map[string]string `json:"headers"`
	ContentType string            `json:"content_type"`
	Source      string            `json:"source"`
	License     string            `json:"license"`
	Notes       string            `json:"notes"`
}

func readGenericIndex(t testing.TB) genericIndex {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(genericDir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx genericIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	return idx
}

// genericPayload is a payload as Herald stores it: its headers, credentials
// removed as ingest removes them, under the webhook name "hook".
func genericPayload(t testing.TB, idx genericIndex, file string) agent.Event {
	t.Helper()
	rec, ok := idx[file]
	if !ok {
		t.Fatalf("index.json does not list %s", file)
	}
	body, err := os.ReadFile(filepath.Join(genericDir, file))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k, v := range rec.Headers {
		if strings.Contains(strings.ToLower(k), "signature") || strings.EqualFold(k, "Authorization") {
			continue
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	return agent.Event{ID: file, Webhook: "hook", ContentType: rec.ContentType, Headers: headers, Body: body}
}

// genericCase is what the message of one payload must say, in English and
// in Russian: the first line (the webhook's name and the real event), the
// title, the payload's values a reader needs (Facts), what the formatter
// writes (labels, money, times: Derived, DerivedRU), what it must not show
// (Absent: credentials, noise, raw keys), importance and silence, the link
// button and the to-do.
type genericCase struct {
	File       string
	Header     string
	Title      string
	Facts      []string
	Derived    []string
	DerivedRU  []string
	Absent     []string
	Importance agent.Importance
	Link       string
	Action     bool
}

// TestGenericGolden formats every case in both languages, renders it, has
// the strict Bot API parser read it, and checks each part of the message.
func TestGenericGolden(t *testing.T) {
	idx := readGenericIndex(t)
	for _, c := range genericGolden {
		t.Run(c.File, func(t *testing.T) {
			ev := genericPayload(t, idx, c.File)
			secrets := agent.PayloadSecrets(ev)
			for _, lang := range []string{"en", "ru"} {
				n := agent.Format(ev, lang, bundle)
				m := agent.Render(n, bundle)
				text, err := tgemu.CheckHTML(m.HTML)
				if err != nil {
					t.Fatalf("%s: Telegram would refuse the message: %v\n%s", lang, err, m.HTML)
				}
				if n.Source != "hook" {
					t.Errorf("%s: taken for the sender %q; it is one Herald does not know", lang, n.Source)
				}
				lines := strings.Split(text, "\n")
				if lines[0] != c.Header {
					t.Errorf("%s: first line %q, want %q:\n%s", lang, lines[0], c.Header, text)
				}
				if n.Title != c.Title {
					t.Errorf("%s: title %q, want %q", lang, n.Title, c.Title)
				}
				want := append([]string(nil), c.Facts...)
				if lang == "en" {
					want = append(want, c.Derived...)
				} else {
					want = append(want, c.DerivedRU...)
				}
				for _, s := range want {
					if !strings.Contains(text, s) {
						t.Errorf("%s: the message lacks %q:\n%s", lang, s, text)
					}
				}
				for _, s := range append(c.Absent, secrets...) {
					if strings.Contains(text, s) {
						t.Errorf("%s: the message shows %q:\n%s", lang, s, text)
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
				if c.Link != "" && !strings.Contains(string(ev.Body), c.Link) {
					t.Errorf("%s: link %q is not in the payload", lang, c.Link)
				}
				if got := n.Action != ""; got != c.Action || m.Done != c.Action {
					t.Errorf("%s: action %q (Done button %v), want one: %v", lang, n.Action, m.Done, c.Action)
				}
				if os.Getenv("AGENT_SHOW") != "" {
					t.Logf("[%s]\n%s\n[%s] %s", lang, text, m.LinkText, m.LinkURL)
				}
			}
		})
	}
}

// TestGenericGolden_Index checks the test data: every payload is listed
// with its origin and headers, every listed file is there, and at least
// fifteen payloads of senders outside the catalogue are read.
func TestGenericGolden_Index(t *testing.T) {
	idx := readGenericIndex(t)
	files, err := filepath.Glob(filepath.Join(genericDir, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(genericDir, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	sort.Strings(rel)
	for _, f := range rel {
		rec, ok := idx[f]
		if !ok {
			t.Errorf("%s is not listed in index.json", f)
			continue
		}
		if rec.Source == "" || rec.License == "" || rec.ContentType == "" || len(rec.Headers) == 0 {
			t.Errorf("%s needs its source, license, content type and headers", f)
		}
	}
	for f := range idx {
		if _, err := os.Stat(filepath.Join(genericDir, f)); err != nil {
			t.Errorf("index.json lists %s: %v", f, err)
		}
	}
	cases := map[string]bool{}
	for _, c := range genericGolden {
		cases[c.File] = true
	}
	for _, f := range rel {
		if !cases[f] {
			t.Errorf("%s has no golden case", f)
		}
	}
	if len(rel) < 15 {
		t.Errorf("%d payloads, want at least 15", len(rel))
	}
}

var genericGolden = []genericCase{
	{
		File: "clerk/user.created.json", Header: "hook · user.created", Title: "Example Example",
		Facts:      []string{"example@example.org", "567772"},
		Derived:    []string{"Created: 2022-05-31 15:56 UTC", "Emails: example@example.org", "External ID: 567772"},
		DerivedRU:  []string{"Создано: 31.05.2022 15:56 UTC", "Email-адреса: example@example.org", "Внешний ID: 567772"},
		Absent:     []string{"1654012591514", "idn_29w83yL7CwVlJXylYLxcslromF1", "ins_123", "email_addresses", "Stripe"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "mattermost/slash-command.form", Header: "hook · /test",
		Facts:      []string{"asd", "town-square", "somename"},
		Derived:    []string{"Channel: town-square", "User name: somename", "Token: ••••"},
		DerivedRU:  []string{"Канал: town-square", "Имя пользователя: somename", "Токен: ••••"},
		Absent:     []string{"okwexkjpe7ygb8eq1ww58t483w", "xbrkb8p393gjpq5cawei7npije", "channel_name", "user_name"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "segment/identify.json", Header: "hook · identify", Title: "Achilles",
		Facts:      []string{"achilles@segment.com", "Premium", "29"},
		Derived:    []string{"Plan: Premium", "Friends: 29", "2012-12-02 00:30 UTC"},
		DerivedRU:  []string{"Тариф: Premium", "Друзья: 29", "02.12.2012 00:30 UTC"},
		Absent:     []string{"subscriptionPlan", "2012-12-02T00:30:08.276Z", "Version"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "segment/page.json", Header: "hook · page", Title: "Segment Pricing",
		Facts:      []string{"/pricing"},
		Derived:    []string{"Path: /pricing", "2012-12-02 00:30 UTC"},
		DerivedRU:  []string{"Путь: /pricing", "02.12.2012 00:30 UTC"},
		Importance: agent.ImportanceNormal, Link: "https://segment.com/pricing",
	},
	{
		File: "segment/track.json", Header: "hook · Purchased an Item",
		Facts:      []string{"39.95", "2-day", "019mr8mf4r"},
		Derived:    []string{"Revenue: 39.95", "Shipping method: 2-day", "User ID: 019mr8mf4r"},
		DerivedRU:  []string{"Выручка: 39.95", "Способ доставки: 2-day", "ID пользователя: 019mr8mf4r"},
		Absent:     []string{"shippingMethod", "Event: Purchased"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/entry.create.json", Header: "hook · entry.create", Title: "Paris",
		Facts:      []string{"address"},
		Derived:    []string{"Model: address", "City: Paris", "Created: 2020-01-10 08:47 UTC"},
		DerivedRU:  []string{"Модель: address", "Город: Paris", "Создано: 10.01.2020 08:47 UTC"},
		Absent:     []string{"Event: entry.create", "full_name", "Updated"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/entry.delete.json", Header: "hook · entry.delete", Title: "Paris",
		Facts:      []string{"address"},
		Derived:    []string{"Model: address", "City: Paris"},
		DerivedRU:  []string{"Модель: address", "Город: Paris"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/entry.publish.json", Header: "hook · entry.publish", Title: "Paris",
		Facts:      []string{"address"},
		Derived:    []string{"Published: 2020-08-29 14:20 UTC"},
		DerivedRU:  []string{"Опубликовано: 29.08.2020 14:20 UTC"},
		Absent:     []string{"2020-08-29T14:20:12.134Z", "Created:"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/media.create.json", Header: "hook · media.create", Title: "image.png",
		Facts:      []string{"image/png", "local"},
		Derived:    []string{"MIME type: image/png", "Provider: local"},
		DerivedRU:  []string{"MIME-тип: image/png", "Провайдер: local"},
		Absent:     []string{"353fc98a19e44da9acf61d71b11895f9\n", "huGUaFJhmcZRHLcxeQNKblh53vtSUXYaB16WSOe0Bdc"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/releases.publish.json", Header: "hook · releases.publish", Title: "Fall Winter highlights",
		Derived:    []string{"Published: yes", "Actions count: 1"},
		DerivedRU:  []string{"Опубликовано: да", "Количество действий: 1"},
		Absent:     []string{"isPublished"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "strapi/review-workflows.updateEntryStage.json", Header: "hook · review-workflows.updateEntryStage",
		Facts:      []string{"Stage 1", "Stage 2"},
		Derived:    []string{"Stages: Stage 1 → Stage 2"},
		DerivedRU:  []string{"Этапы: Stage 1 → Stage 2"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "supabase/send-email.signup.json", Header: "hook · signup",
		Facts:      []string{"valid.email@supabase.io", "old.email@supabase.io"},
		Derived:    []string{"User email: valid.email@supabase.io", "Old email: old.email@supabase.io"},
		DerivedRU:  []string{"Email пользователя: valid.email@supabase.io", "Прежний email: old.email@supabase.io"},
		Absent:     []string{"305805", "7d5b7b1964cf5d388340a7f04f1dbb5eeb6c7b52ef8270e1737a58d0", "localhost"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "twilio/verify.attempt-dlr.delivered.json", Header: "hook · com.twilio.accountsecurity.verify.attempt-dlr.delivered",
		Facts:      []string{"+573145324545", "SMS", "DELIVERED"},
		Derived:    []string{"Delivery status: DELIVERED", "To: +573145324545", "Created: 2025-01-01 00:00 UTC"},
		DerivedRU:  []string{"Статус доставки: DELIVERED", "Кому: +573145324545", "Создано: 01.01.2025 00:00 UTC"},
		Absent:     []string{"AC0000000000000000000000000000001", "events-schemas", "Datacontenttype", "2025-10-08"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "twilio/verify.message.delivered.json", Header: "hook · com.twilio.accountsecurity.verify.message.delivered",
		Facts:      []string{"+919999999999", "SMS", "DELIVERED", "hello_world_of_tags"},
		Derived:    []string{"Message status: DELIVERED", "Channel: SMS", "Segments: 2"},
		DerivedRU:  []string{"Статус сообщения: DELIVERED", "Канал: SMS", "Число сегментов: 2"},
		Absent:     []string{"VE0000000000000000000000000000001", "Is fallback"},
		Importance: agent.ImportanceNormal,
	},
	{
		File: "zendesk/user.active_changed.json", Header: "hook · zen:event-type:user.active_changed",
		Facts:      []string{"end-user", "6596848315901"},
		Derived:    []string{"Active: yes → no", "Role: end-user", "Time: 2099-07-04 05:33 UTC"},
		DerivedRU:  []string{"Активен: да → нет", "Роль: end-user", "Время: 04.07.2099 05:33 UTC"},
		Absent:     []string{"zen:user:6596848315901", "Organization ID: 0", "current", "previous"},
		Importance: agent.ImportanceNormal,
	},
}
