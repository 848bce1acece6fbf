package agent_test

import (
	"strings"
	"testing"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
)

func TestRender_Layout(t *testing.T) {
	n := agent.Notification{
		Source:     "GitHub",
		Event:      "push",
		Title:      "octocat pushed 2 commits to main",
		Summary:    "• abc1234 Fix typo\n• def5678 Add docs",
		Facts:      []agent.Fact{{Label: "Repository", Value: "octo/hello"}, {Value: "…and 2 more fields"}},
		Importance: agent.ImportanceNormal,
		Link:       "https://github.com/octo/hello/compare/a...b",
		Action:     "Review the changes",
		Lang:       "en",
	}
	m := agent.Render(n, bundle)
	want := "<b>GitHub · push</b>\n" +
		"octocat pushed 2 commits to main\n" +
		"• abc1234 Fix typo\n• def5678 Add docs\n\n" +
		"Repository: octo/hello\n…and 2 more fields\n\n" +
		"<b>To do:</b> Review the changes"
	if got := m.HTML; got != want {
		t.Errorf("HTML:\ngot  %q\nwant %q", got, want)
	}
	if got, want := m.LinkURL, n.Link; got != want {
		t.Errorf("LinkURL = %q, want %q", got, want)
	}
	if got, want := m.LinkText, "Open"; got != want {
		t.Errorf("LinkText = %q, want %q", got, want)
	}
	if m.DisableNotification {
		t.Error("DisableNotification for a normal notification")
	}

	t.Run("ru", func(t *testing.T) {
		n := n
		n.Lang = "ru"
		m := agent.Render(n, bundle)
		if got, want := m.LinkText, "Открыть"; got != want {
			t.Errorf("LinkText = %q, want %q", got, want)
		}
		if !strings.Contains(m.HTML, "<b>Нужно сделать:</b> Review the changes") {
			t.Errorf("action label not localized:\n%s", m.HTML)
		}
	})
	t.Run("OnlyFacts", func(t *testing.T) {
		m := agent.Render(agent.Notification{Source: "orders", Event: "new_order", Facts: []agent.Fact{{Label: "order_id", Value: "1"}}}, bundle)
		if got, want := m.HTML, "<b>orders · new_order</b>\norder_id: 1"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("NoEvent", func(t *testing.T) {
		m := agent.Render(agent.Notification{Source: "ci", Summary: "done"}, bundle)
		if got, want := m.HTML, "<b>ci</b>\ndone"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestRender_Escaping(t *testing.T) {
	evil := `<b>bold</b> & <a href="https://evil.example">x</a> "quoted" 'single' </pre><script>alert(1)</script> &amp; &#60; &lt;`
	n := agent.Notification{
		Source:  `Acme <Corp> & "Co"`,
		Event:   `<i>order</i>`,
		Title:   evil,
		Summary: evil + "\nline two <tg-spoiler>",
		Facts:   []agent.Fact{{Label: `<b>label</b>`, Value: evil}, {Label: "a&b", Value: `5 > 3 < 4`}},
		Action:  evil,
		Lang:    "en",
	}
	m := agent.Render(n, bundle)
	text := visible(t, m.HTML)
	for _, want := range []string{
		`Acme <Corp> & "Co" · <i>order</i>`,
		evil,
		"line two <tg-spoiler>",
		"<b>label</b>: " + evil,
		"a&b: 5 > 3 < 4",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("visible text lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"<script", "<a ", "<i>", "&#", "'"} {
		if bad == "'" {
			if strings.Contains(m.HTML, "&#39;") || strings.Contains(m.HTML, "&apos;") {
				t.Errorf("HTML uses an entity Telegram does not know for ': %s", m.HTML)
			}
			continue
		}
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML contains %q:\n%s", bad, m.HTML)
		}
	}
	if got := strings.Count(m.HTML, "<b>"); got != 2 {
		t.Errorf("HTML has %d <b> tags, want 2 (header and action label):\n%s", got, m.HTML)
	}
}

func TestRender_Limit(t *testing.T) {
	long := func(unit string, n int) string { return strings.Repeat(unit, n) }
	tests := []struct {
		name string
		n    agent.Notification
	}{
		{"ASCII", agent.Notification{Source: "s", Event: "e", Title: long("word ", 2000), Summary: long("x", 10000)}},
		{"Entities", agent.Notification{Source: "s", Summary: long("<&>\"", 3000)}},
		{"EntitiesInFacts", agent.Notification{Source: "s", Facts: repeatFacts(agent.Fact{Label: "<k>", Value: long("&", 700)}, 30)}},
		{"Cyrillic", agent.Notification{Source: "заказы", Summary: long("Привет, мир! ", 1000)}},
		{"Emoji", agent.Notification{Source: "s", Summary: long("🚀", 5000)}},
		{"EmojiZWJ", agent.Notification{Source: "s", Summary: long("👩‍👩‍👧‍👦 ", 3000)}},
		{"Flags", agent.Notification{Source: "s", Summary: "ab" + long("🇷🇺🇺🇸", 3000)}}, // "ab" puts the cut inside a flag
		{"ManyFacts", agent.Notification{Source: "s", Title: "t", Facts: repeatFacts(agent.Fact{Label: "поле", Value: long("значение ", 100)}, 200), Action: "act"}},
		{"LongAction", agent.Notification{Source: "s", Summary: long("y", 3900), Action: long("do it ", 500)}},
		{"HugeHeader", agent.Notification{Source: long("S", 5000), Event: long("E", 5000)}},
		{"ExactlyFull", agent.Notification{Source: "s", Summary: long("z", 4096-2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := agent.Render(tt.n, bundle)
			text := visible(t, m.HTML)
			if got := utf16Len(text); got > agent.MaxMessageLen {
				t.Fatalf("visible length %d UTF-16 units, over %d", got, agent.MaxMessageLen)
			}
			full := utf16Len(tt.n.Source) + utf16Len(tt.n.Summary) + utf16Len(tt.n.Title)
			for _, f := range tt.n.Facts {
				full += utf16Len(f.Label) + utf16Len(f.Value)
			}
			if full > agent.MaxMessageLen && !strings.HasSuffix(text, "…") {
				t.Errorf("a cut message does not end with …: %q", tail(text))
			}
			if strings.ContainsRune(text, '\uFFFD') {
				t.Errorf("the cut broke a character: %q", tail(text))
			}
			body := strings.TrimSuffix(text, "…")
			if strings.HasSuffix(body, "\u200d") {
				t.Errorf("the cut split an emoji sequence: %q", tail(text))
			}
			if ri := strings.Count(body, "🇷") + strings.Count(body, "🇺") + strings.Count(body, "🇸"); ri%2 == 1 {
				t.Errorf("the cut split a flag: %q", tail(text))
			}
		})
	}
	t.Run("FitsUncut", func(t *testing.T) {
		n := agent.Notification{Source: "s", Summary: strings.Repeat("z", 3400), Facts: []agent.Fact{{Label: "k", Value: strings.Repeat("v", 500)}}}
		text := visible(t, agent.Render(n, bundle).HTML)
		if strings.Contains(text, "…") || !strings.HasSuffix(text, "k: "+strings.Repeat("v", 500)) {
			t.Errorf("a message that fits was cut: …%q", tail(text))
		}
	})
}

func repeatFacts(f agent.Fact, n int) []agent.Fact {
	out := make([]agent.Fact, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func tail(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		r = r[len(r)-40:]
	}
	return string(r)
}

func TestRender_Link(t *testing.T) {
	tests := []struct {
		link, want string
	}{
		{"https://shop.example/orders/1", "https://shop.example/orders/1"},
		{"http://example.com/a?b=c&d=e", "http://example.com/a?b=c&d=e"},
		{"javascript:alert(1)", ""},
		{"ftp://example.com/file", ""},
		{"/relative/path", ""},
		{"https://", ""},
		{"https://user:pass@example.com/", ""},
		{"not a url", ""},
		{"", ""},
	}
	for _, tt := range tests {
		m := agent.Render(agent.Notification{Source: "s", Link: tt.link, Lang: "en"}, bundle)
		if m.LinkURL != tt.want {
			t.Errorf("Link %q: LinkURL = %q, want %q", tt.link, m.LinkURL, tt.want)
		}
		if (m.LinkText != "") != (tt.want != "") {
			t.Errorf("Link %q: LinkText = %q", tt.link, m.LinkText)
		}
		if strings.Contains(m.HTML, "href") {
			t.Errorf("the link went into the text: %s", m.HTML)
		}
	}
}

func TestRender_Importance(t *testing.T) {
	for imp, silent := range map[agent.Importance]bool{
		agent.ImportanceLow: true, agent.ImportanceNormal: false, agent.ImportanceHigh: false, "": false,
	} {
		if got := agent.Render(agent.Notification{Source: "s", Importance: imp}, bundle).DisableNotification; got != silent {
			t.Errorf("%q: DisableNotification = %v, want %v", imp, got, silent)
		}
	}
}

func TestRender_InvalidUTF8(t *testing.T) {
	n := agent.Notification{Source: "s\xff", Title: "a\xc3\x28b", Summary: "ok \xed\xa0\x80 \x00\x07 bell", Facts: []agent.Fact{{Label: "k\xfe", Value: "v\xff"}}}
	m := agent.Render(n, bundle)
	text := visible(t, m.HTML)
	if strings.ContainsAny(text, "\x00\x07") {
		t.Errorf("control characters left: %q", text)
	}
}

func TestRender_NilBundle(t *testing.T) {
	m := agent.Render(agent.Notification{Source: "s", Link: "https://example.com", Lang: "ru"}, nil)
	if got, want := m.LinkText, "Открыть"; got != want {
		t.Errorf("LinkText = %q, want %q", got, want)
	}
}

func TestMessage_Text(t *testing.T) {
	n := agent.Notification{Source: "a&b", Event: "<e>", Title: `"q" &amp; <b>x</b>`, Action: "do", Lang: "en"}
	m := agent.Render(n, bundle)
	want, err := tgemu.CheckHTML(m.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Text(); got != want {
		t.Errorf("Text() = %q, want what Telegram shows: %q", got, want)
	}
}
