package bot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/relay"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// pipeline is the whole product but the HTTP side: the bot handling
// updates, the relay delivering events (summaries by the built-in
// formatter), over a real database and the Bot API fake. The bot answers
// questions with an LLM when ai is set.
type pipeline struct {
	tg *telegramtest.Server
	db *storage.DB
	wh storage.Webhook
	rl *relay.Relay
}

// startPipeline starts it with the webhook "ci" of anna subscribed to the
// group ops (anna its creator; bob and carol plain members) and to anna's
// private chat; llmTimeout is LLM_TIMEOUT for questions.
func startPipeline(t *testing.T, databaseURL string, ai *openaitest.Server, llmTimeout time.Duration) *pipeline {
	t.Helper()
	ctx := context.Background()
	p := &pipeline{tg: telegramtest.Start(t), db: storagetest.Open(t, databaseURL)}
	loc := locales.MustNew()
	log := slog.New(slog.DiscardHandler)
	ask := agent.Config{Timeout: llmTimeout}
	if ai != nil {
		ask.APIKey, ask.BaseURL, ask.Model = ai.Key(), ai.URL(), "gpt-4o-mini"
	}
	b, err := bot.New(bot.Config{Token: p.tg.Token(), APIURL: p.tg.URL(), PublicURL: "https://herald.example",
		Poll: time.Second, Limits: bot.NoLimits(), Asker: agent.New(ask, loc, log)}, p.db, loc, log)
	if err != nil {
		t.Fatal(err)
	}
	// The relay's notifications come from the formatter, so that the LLM
	// fake sees questions only.
	p.rl = relay.New(p.db, agent.New(agent.Config{}, loc, log), b, loc, log,
		relay.Config{RetryBase: 50 * time.Millisecond, Poll: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { b.Run(runCtx); done <- struct{}{} }()
	go func() { p.rl.Run(runCtx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })

	p.tg.KnownUser(anna)
	p.tg.KnownChat(ops)
	p.tg.SetChatOwner(ops.ID, anna)
	p.tg.AddMember(ops.ID, bob)
	p.tg.AddMember(ops.ID, carol)
	mustDo(t, p.db.UpsertUser(ctx, storage.User{ID: anna.ID, FirstName: anna.FirstName, LanguageCode: "en", Started: true}))
	for _, c := range []storage.Chat{{ID: anna.ID, Type: "private", Language: "en"}, {ID: ops.ID, Type: "group", Title: ops.Title, Language: "en"}} {
		if _, err := p.db.EnsureChat(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p.wh, err = p.db.CreateWebhook(ctx, anna.ID, "ci", storage.HashToken(storage.NewToken()), ops.ID)
	mustDo(t, err)
	_, err = p.db.Subscribe(ctx, p.wh.ID, anna.ID, anna.ID)
	mustDo(t, err)
	return p
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// post queues an event as ingest does and rings the relay.
func (p *pipeline) post(t *testing.T, headers map[string]string, body string) storage.Event {
	t.Helper()
	hs, _ := json.Marshal(headers)
	ev := storage.Event{WebhookID: p.wh.ID, ContentType: "application/json", Headers: string(hs), Body: []byte(body)}
	if _, err := p.db.InsertEvent(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	p.rl.Wake()
	return ev
}

// notification waits for the bot's message in chat whose text has want,
// and for its delivery to be recorded (with its task), a moment after
// Telegram took the message.
func (p *pipeline) notification(t *testing.T, chat tgemu.Chat, want string) tgemu.Message {
	t.Helper()
	m := p.tg.WaitMessage(t, chat.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, want) }, wait)
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, n, err := p.db.EventsOfMessage(context.Background(), chat.ID, int64(m.ID), 1); err == nil && n > 0 {
			return m
		}
	}
	t.Fatalf("the delivery of message %d in chat %d was never recorded", m.ID, chat.ID)
	return m
}

// command sends text from u in chat and returns the bot's next message there.
func (p *pipeline) command(t *testing.T, u tgemu.User, chat tgemu.Chat, text string) tgemu.Message {
	t.Helper()
	id := p.tg.UserSends(u, chat, text)
	return p.tg.WaitMessage(t, chat.ID, func(m tgemu.Message) bool { return m.ID > id }, wait)
}

// edited waits for message id of chat to be edited so that match holds.
func (p *pipeline) edited(t *testing.T, chat tgemu.Chat, id int, match func(tgemu.Message) bool) tgemu.Message {
	t.Helper()
	return p.tg.WaitMessage(t, chat.ID, func(m tgemu.Message) bool { return m.ID == id && m.Edited && match(m) }, wait)
}

// waitTasks waits for chat to have n open tasks: a task is committed with
// its delivery's record, a moment after the message arrived.
func (p *pipeline) waitTasks(t *testing.T, chat tgemu.Chat, n int) {
	t.Helper()
	total := 0
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if _, total, err = p.db.OpenTasks(context.Background(), chat.ID, 1); err == nil && total == n {
			return
		}
	}
	t.Fatalf("chat %d has %d open tasks, want %d", chat.ID, total, n)
}

var (
	githubRun = map[string]string{"X-Github-Event": "workflow_run"}
	githubPR  = map[string]string{"X-Github-Event": "pull_request"}
)

func failedRun(n int) string {
	return `{"action":"completed","workflow_run":{"name":"CI","conclusion":"failure","run_number":` + itoa(n) +
		`,"display_title":"Fix the build & <ship>","html_url":"https://github.com/acme/app/actions/runs/` + itoa(n) +
		`"},"repository":{"full_name":"acme/app"}}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// buttons lists a message's buttons as "text=kind:data|url".
func buttons(m tgemu.Message) []string {
	var out []string
	for _, b := range m.ReplyMarkup.Buttons() {
		out = append(out, b.Text+"="+b.Kind+":"+b.CallbackData+b.URL)
	}
	return out
}

func TestBot_Tasks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		p := startPipeline(t, databaseURL, nil, time.Second)

		// A failed workflow needs someone to act: Open and Done buttons.
		p.post(t, githubRun, failedRun(42))
		n := p.notification(t, ops, "CI #42")
		p.waitTasks(t, ops, 1)
		want := []string{"Open=url:https://github.com/acme/app/actions/runs/42", "✅ Done=callback_data:done"}
		if got := buttons(n); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("buttons of a notification that needs action: %q, want %q", got, want)
		}
		contains(t, "notification", n, "To do:", "Fix the build & <ship>")

		t.Run("NoActionNoButton", func(t *testing.T) {
			p.post(t, githubPR, `{"action":"opened","number":7,"pull_request":{"title":"Tidy up","html_url":"https://github.com/acme/app/pull/7"},"repository":{"full_name":"acme/app"}}`)
			m := p.notification(t, ops, "Tidy up")
			if got := buttons(m); len(got) != 1 || !strings.HasPrefix(got[0], "Open=url:") {
				t.Fatalf("buttons of a notification that needs no action: %q, want Open only", got)
			}
		})

		t.Run("ListedForAnyMember", func(t *testing.T) {
			list := p.command(t, carol, ops, "/tasks")
			contains(t, "/tasks", list, "1 open task", "1. Workflow CI #42: failed", "GitHub", "just now", "Find out why it failed")
			lacks(t, "/tasks", list, "Tidy up")
			if got := buttons(list); len(got) != 1 || !strings.HasPrefix(got[0], "✅ 1=callback_data:done ") {
				t.Fatalf("/tasks buttons %q", got)
			}
		})

		t.Run("DoneByAPlainMember", func(t *testing.T) {
			q := p.tg.ClickButton(t, bob, ops, n.ID, "✅ Done")
			if got := waitAnswered(t, p.tg, q); got != "Marked as done." {
				t.Errorf("callback answer %q", got)
			}
			m := p.edited(t, ops, n.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Done by Bob at") })
			if !strings.HasPrefix(m.Text, n.Text+"\n\n✅ Done by Bob at ") || !strings.HasSuffix(m.Text, " UTC") {
				t.Errorf("edited notification:\n%s", m.Text)
			}
			if got := buttons(m); len(got) != 1 || got[0] != "Open=url:https://github.com/acme/app/actions/runs/42" {
				t.Errorf("buttons after Done: %q, want Open only", got)
			}
			if _, err := tgemu.CheckHTML(m.HTML); err != nil {
				t.Errorf("edited notification is not valid Telegram HTML: %v", err)
			}
			contains(t, "/tasks after Done", p.command(t, carol, ops, "/tasks"), "No open tasks")
		})

		t.Run("SecondPressAlreadyClosed", func(t *testing.T) {
			q := p.tg.PressButton(carol, ops, n.ID, "done")
			if got := waitAnswered(t, p.tg, q); !strings.HasPrefix(got, "Already closed by Bob at ") {
				t.Errorf("second press answered %q", got)
			}
			m, _ := p.tg.Message(ops.ID, n.ID)
			if strings.Contains(m.Text, "Carol") {
				t.Errorf("the second press changed the message:\n%s", m.Text)
			}
		})

		t.Run("DoneFromTheList", func(t *testing.T) {
			p.post(t, githubRun, failedRun(43))
			n2 := p.notification(t, ops, "CI #43")
			p.waitTasks(t, ops, 1)
			list := p.command(t, anna, ops, "/tasks")
			contains(t, "/tasks", list, "CI #43")
			q := p.tg.ClickButton(t, carol, ops, list.ID, "✅ 1")
			if got := waitAnswered(t, p.tg, q); got != "Marked as done." {
				t.Errorf("callback answer %q", got)
			}
			p.edited(t, ops, n2.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Done by Carol at") })
			p.edited(t, ops, list.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "No open tasks") })
		})

		t.Run("UnknownTask", func(t *testing.T) {
			// A Done button whose task is not known (a message sent twice
			// after a crash, say) is answered and loses its button.
			id := p.tg.UserSends(anna, ops, "/help")
			help := p.tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return m.ID > id }, wait)
			q := p.tg.PressButton(carol, ops, help.ID, "done")
			if got := waitAnswered(t, p.tg, q); got != "This task is no longer tracked." {
				t.Errorf("answer %q", got)
			}
			q = p.tg.PressButton(carol, ops, n.ID, "done 999999")
			if got := waitAnswered(t, p.tg, q); got != "This task is no longer tracked." {
				t.Errorf("answer to an unknown task id %q", got)
			}
		})
	})
}

// TestTasks_ClosedHTML: closing a notification at Telegram's limit keeps
// its text valid HTML within the limit.
func TestTasks_ClosedHTML(t *testing.T) {
	long := agent.Render(agent.Notification{Source: "S", Title: "t", Summary: strings.Repeat("a&b <c> 😀 ", 900), Action: "act", Lang: "en"}, nil)
	if _, err := tgemu.CheckHTML(long.HTML); err != nil {
		t.Fatal(err)
	}
	got := bot.ClosedHTML(long.HTML, "✅ Done by <b>Zoë &amp; Co</b> at 2026-01-02 03:04 UTC")
	text, err := tgemu.CheckHTML(got)
	if err != nil {
		t.Fatalf("not valid Telegram HTML: %v\n%s", err, got[len(got)-300:])
	}
	if n := utf16Len(text); n > agent.MaxMessageLen {
		t.Errorf("%d UTF-16 units, over the limit", n)
	}
	if !strings.HasSuffix(text, "…\n\n✅ Done by Zoë & Co at 2026-01-02 03:04 UTC") {
		t.Errorf("text ends %q", text[len(text)-80:])
	}
	short := "<b>GitHub</b>\nok &amp; fine"
	if got := bot.ClosedHTML(short, "x"); got != short+"\n\nx" {
		t.Errorf("a short message was changed: %q", got)
	}
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n++
		}
		n++
	}
	return n
}
