package relay_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

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

// env is the real pipeline: storage on a real database, the real bot client
// against the Bot API fake, the real agent (formatter, or LLM against the
// OpenAI fake).
type env struct {
	db    *storage.DB
	tg    *telegramtest.Server
	relay *relay.Relay
	wh    storage.Webhook
	stop  func()
}

var anna = tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}

func setup(t *testing.T, databaseURL string, ai *openaitest.Server) *env {
	t.Helper()
	return setupWith(t, databaseURL, options{ai: ai})
}

// options vary the pipeline for one test.
type options struct {
	ai     *openaitest.Server
	tg     []tgemu.Option       // for the Bot API fake
	limits *bot.Limits          // nil: no pacing
	cfg    relay.Config         // RetryBase and Poll default to 50ms
	fake   *telegramtest.Server // a fake to share (with tg ignored)
	db     *storage.DB          // a database to share
}

func setupWith(t *testing.T, databaseURL string, o options) *env {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	loc := locales.MustNew()
	e := &env{db: o.db, tg: o.fake}
	if e.db == nil {
		e.db = storagetest.Open(t, databaseURL)
	}
	if e.tg == nil {
		e.tg = telegramtest.Start(t, o.tg...)
	}
	limits := bot.NoLimits()
	if o.limits != nil {
		limits = *o.limits
	}
	b, err := bot.New(bot.Config{Token: e.tg.Token(), APIURL: e.tg.URL(), PublicURL: "http://herald.test", Limits: limits}, e.db, loc, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{Timeout: 2 * time.Second}
	if o.ai != nil {
		cfg.APIKey, cfg.BaseURL, cfg.Model = o.ai.Key(), o.ai.URL(), "gpt-4o-mini"
	}
	rc := o.cfg
	if rc.RetryBase == 0 {
		rc.RetryBase = 50 * time.Millisecond
	}
	if rc.Poll == 0 {
		rc.Poll = 50 * time.Millisecond
	}
	e.relay = relay.New(e.db, agent.New(cfg, loc, log), b, loc, log, rc)
	if o.db == nil {
		e.addChat(t, tgemu.PrivateChat(anna), "en")
		e.wh, err = e.db.CreateWebhook(ctx, anna.ID, "orders", storage.HashToken(storage.NewToken()), anna.ID)
		if err != nil {
			t.Fatal(err)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.relay.Run(runCtx) }()
	e.stop = func() { cancel(); <-done }
	t.Cleanup(e.stop)
	return e
}

// addChat makes a chat known to Telegram and to Herald.
func (e *env) addChat(t *testing.T, c tgemu.Chat, lang string) {
	t.Helper()
	ctx := context.Background()
	e.tg.KnownChat(c)
	if err := e.db.UpsertUser(ctx, storage.User{ID: anna.ID, Started: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: c.ID, Type: c.Type, Title: c.Title, Language: lang}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) post(t *testing.T, body string) storage.Event {
	t.Helper()
	ev := storage.Event{WebhookID: e.wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(body)}
	if _, err := e.db.InsertEvent(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	e.relay.Wake()
	return ev
}

// settled waits until the event is delivered or failed.
func (e *env) settled(t *testing.T, id string) storage.Event {
	t.Helper()
	return e.settledOf(t, e.wh.ID, id)
}

// settledOf waits until an event of the webhook webhookID is delivered or failed.
func (e *env) settledOf(t *testing.T, webhookID int64, id string) storage.Event {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ev, err := e.db.EventByID(context.Background(), webhookID, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status == storage.StatusDelivered || ev.Status == storage.StatusFailed {
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s still %s", id, ev.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countWith(ms []tgemu.Message, s string) int {
	n := 0
	for _, m := range ms {
		if strings.Contains(m.Text, s) {
			n++
		}
	}
	return n
}

func TestRelay_Deliver(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL, nil)

		t.Run("OK", func(t *testing.T) {
			ev := e.settled(t, e.post(t, `{"event":"new_order","order_id":1}`).ID)
			if ev.Status != storage.StatusDelivered || ev.Attempts != 1 {
				t.Fatalf("status %s attempts %d, want delivered at 1", ev.Status, ev.Attempts)
			}
			if got := countWith(e.tg.Messages(anna.ID), "new_order"); got != 1 {
				t.Fatalf("%d messages, want 1", got)
			}
		})
		t.Run("TooManyRequests", func(t *testing.T) {
			// Two 429s then success: exactly one message, and the 429s
			// are not counted as attempts.
			e.tg.FailNext("sendMessage", tgemu.TooManyRequests(1))
			e.tg.FailNext("sendMessage", tgemu.TooManyRequests(1))
			ev := e.settled(t, e.post(t, `{"event":"rate_limited"}`).ID)
			if ev.Status != storage.StatusDelivered || ev.Attempts != 1 {
				t.Fatalf("status %s attempts %d, want delivered at 1", ev.Status, ev.Attempts)
			}
			if got := countWith(e.tg.Messages(anna.ID), "rate_limited"); got != 1 {
				t.Fatalf("%d messages, want exactly 1", got)
			}
			calls := e.tg.Calls("sendMessage")
			if n := len(calls); n < 3 {
				t.Fatalf("%d sendMessage calls, want the two 429s and the success", n)
			}
			last, prev := calls[len(calls)-1], calls[len(calls)-2]
			if gap := last.Time.Sub(prev.Time); gap < 900*time.Millisecond {
				t.Errorf("retried %v after a 429 with retry_after 1s", gap)
			}
		})
		t.Run("ServerError", func(t *testing.T) {
			e.tg.FailNext("sendMessage", tgemu.ServerError())
			e.tg.FailNext("sendMessage", tgemu.BadGateway())
			ev := e.settled(t, e.post(t, `{"event":"flaky"}`).ID)
			if ev.Status != storage.StatusDelivered || ev.Attempts != 3 {
				t.Fatalf("status %s attempts %d, want delivered at attempt 3", ev.Status, ev.Attempts)
			}
			if got := countWith(e.tg.Messages(anna.ID), "flaky"); got != 1 {
				t.Fatalf("%d messages, want 1", got)
			}
		})
		t.Run("ChatNotFound", func(t *testing.T) {
			// A chat Herald knows but Telegram does not: failed, with the reason.
			ctx := context.Background()
			if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: 4242, Type: "private", Language: "en"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.Subscribe(ctx, e.wh.ID, 4242, anna.ID); err != nil {
				t.Fatal(err)
			}
			ev := e.settled(t, e.post(t, `{"event":"ghost"}`).ID)
			if ev.Status != storage.StatusFailed || !strings.Contains(ev.Error, "chat not found") {
				t.Fatalf("status %s error %q, want failed with chat not found", ev.Status, ev.Error)
			}
			if got := countWith(e.tg.Messages(anna.ID), "ghost"); got != 1 {
				t.Fatalf("the reachable chat got %d messages, want 1", got)
			}
			if c, _ := e.db.ChatByID(ctx, 4242); c.Active {
				t.Fatal("unreachable chat is still active")
			}
		})
		t.Run("Blocked", func(t *testing.T) {
			e.tg.UserBlocksBot(anna)
			ev := e.settled(t, e.post(t, `{"event":"blocked"}`).ID)
			if ev.Status != storage.StatusFailed || !strings.Contains(ev.Error, "blocked") {
				t.Fatalf("status %s error %q, want failed: blocked", ev.Status, ev.Error)
			}
			// Deliveries to the chat stop: the next event queues nothing.
			ev = e.post(t, `{"event":"after_block"}`)
			if ev.Status != storage.StatusDelivered {
				t.Fatalf("event after the block: %s, want nothing to deliver", ev.Status)
			}
		})
	})
}

func TestRelay_Order(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), nil)
	var ids []string
	for i := range 20 {
		ids = append(ids, e.post(t, fmt.Sprintf(`{"event":"seq","n":"#%02d"}`, i)).ID)
	}
	for _, id := range ids {
		e.settled(t, id)
	}
	var got []string
	for _, m := range e.tg.Messages(anna.ID) {
		if i := strings.Index(m.Text, "#"); i >= 0 {
			got = append(got, m.Text[i:i+3])
		}
	}
	for i, s := range got {
		if want := fmt.Sprintf("#%02d", i); s != want {
			t.Fatalf("message %d is %s, want %s (order lost): %v", i, s, want, got)
		}
	}
	if len(got) != 20 {
		t.Fatalf("%d messages, want 20", len(got))
	}
}

// TestRelay_SummarizeOnce: one LLM call per event and language, whatever the
// number of chats, and none again when the send is retried.
func TestRelay_SummarizeOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ai := openaitest.Start(t)
		e := setup(t, databaseURL, ai)
		ctx := context.Background()
		for _, c := range []struct {
			chat tgemu.Chat
			lang string
		}{{tgemu.Group(-100, "Ops"), "en"}, {tgemu.Group(-200, "Склад"), "ru"}, {tgemu.Group(-300, "Склад 2"), "ru"}} {
			e.addChat(t, c.chat, c.lang)
			if _, err := e.db.Subscribe(ctx, e.wh.ID, c.chat.ID, anna.ID); err != nil {
				t.Fatal(err)
			}
		}
		var calls atomic.Int32
		ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			calls.Add(1)
			return openaitest.Reply{}
		})
		e.tg.FailNext("sendMessage", tgemu.ServerError())
		ev := e.settled(t, e.post(t, `{"event":"new_order","order_id":5}`).ID)
		if ev.Status != storage.StatusDelivered {
			t.Fatalf("status %s %q", ev.Status, ev.Error)
		}
		if got, want := calls.Load(), int32(2); got != want {
			t.Fatalf("%d LLM calls for 2 chats in en and 2 in ru (one send retried), want %d", got, want)
		}
		for _, id := range []int64{anna.ID, -100, -200, -300} {
			if len(e.tg.Messages(id)) != 1 {
				t.Errorf("chat %d got %d messages, want 1", id, len(e.tg.Messages(id)))
			}
		}
	})
}

// testWriter sends log lines to the test's log, shown when it fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
