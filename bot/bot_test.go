package bot_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// env drives the real bot through the Bot API fake over a real database.
type env struct {
	tg    *telegramtest.Server
	db    *storage.DB
	wakes atomic.Int32 // how often the bot rang the relay's doorbell
}

// setup starts the bot on a fresh database; opts adjust its configuration.
func setup(t *testing.T, databaseURL string, opts ...func(*bot.Config)) *env {
	t.Helper()
	return setupDB(t, storagetest.Open(t, databaseURL), opts...)
}

// setupDB starts the bot on db.
func setupDB(t *testing.T, db *storage.DB, opts ...func(*bot.Config)) *env {
	t.Helper()
	e := &env{tg: telegramtest.Start(t), db: db}
	// The fake does not enforce Telegram's limits here; pacing (limiter.go)
	// has its own tests.
	cfg := bot.Config{Token: e.tg.Token(), APIURL: e.tg.URL(), PublicURL: "https://herald.example", Poll: time.Second,
		Wake: func() { e.wakes.Add(1) }, Limits: bot.NoLimits()}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := bot.New(cfg, e.db, locales.MustNew(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

var (
	anna  = tgemu.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}
	bob   = tgemu.User{ID: 1002, FirstName: "Bob", Username: "bob", LanguageCode: "en"}
	carol = tgemu.User{ID: 1003, FirstName: "Carol", LanguageCode: "en"}
	ivan  = tgemu.User{ID: 2002, FirstName: "Иван", LanguageCode: "ru"}
	ops   = tgemu.Group(-500, "Ops")
)

const wait = 5 * time.Second

// mark is the id of the newest message in chat, the users' included.
func (e *env) mark(chat tgemu.Chat) int {
	id := 0
	for _, m := range e.tg.ChatHistory(chat.ID) {
		id = max(id, m.ID)
	}
	return id
}

// next waits for the bot's first message in chat after the message id after.
func (e *env) next(t *testing.T, chat tgemu.Chat, after int) tgemu.Message {
	t.Helper()
	return e.tg.WaitMessage(t, chat.ID, func(m tgemu.Message) bool { return m.ID > after }, wait)
}

// say sends text in chat and returns the bot's next message there.
func (e *env) say(t *testing.T, u tgemu.User, chat tgemu.Chat, text string) tgemu.Message {
	t.Helper()
	id := e.tg.UserSends(u, chat, text)
	return e.next(t, chat, id)
}

// click presses a button under message id and returns the bot's next
// message in chat after it, once the callback query is answered.
func (e *env) click(t *testing.T, u tgemu.User, chat tgemu.Chat, id int, button string) tgemu.Message {
	t.Helper()
	after := e.mark(chat)
	q := e.tg.ClickButton(t, u, chat, id, button)
	waitAnswered(t, e.tg, q)
	return e.next(t, chat, after)
}

// quiet asserts the bot sends nothing more to chat for a moment.
func (e *env) quiet(t *testing.T, chat tgemu.Chat, before int) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if got := len(e.tg.Messages(chat.ID)); got != before {
		t.Fatalf("the bot answered: %v", e.tg.Messages(chat.ID)[before:])
	}
}

// waitWake waits for the bot to ring the relay's doorbell after it had
// rung it before times.
func (e *env) waitWake(t *testing.T, before int32, what string) {
	t.Helper()
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if e.wakes.Load() > before {
			return
		}
	}
	t.Errorf("%s did not ring the relay's doorbell", what)
}

func contains(t *testing.T, what string, m tgemu.Message, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(m.Text, w) {
			t.Fatalf("%s: %s\nwant it to contain %q", what, m, w)
		}
	}
}

func lacks(t *testing.T, what string, m tgemu.Message, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(m.Text, w) || strings.Contains(m.HTML, w) {
			t.Fatalf("%s: %s\nwant it not to contain %q", what, m, w)
		}
	}
}

func TestBot_Commands(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pm := tgemu.PrivateChat(anna)

		t.Run("NewTokenAndDuplicate", func(t *testing.T) {
			contains(t, "/newtoken Orders", e.say(t, anna, pm, "/newtoken Orders"), "https://herald.example/hook/", "curl")
			contains(t, "duplicate", e.say(t, anna, pm, "/newtoken orders"), "already have a webhook named orders")
			contains(t, "no name", e.say(t, anna, pm, "/newtoken"), "/newtoken orders")
			if m := e.say(t, anna, pm, "/newtoken "+strings.Repeat("x", 100)); !strings.Contains(m.Text, "not a valid name") || len(m.Text) > 400 {
				t.Fatalf("long name: %q", m.Text)
			}
			contains(t, "very long argument", e.say(t, anna, pm, "/newtoken "+strings.Repeat("x", 5000)), "too long", "1024")
			wh, err := e.db.WebhookByName(ctx, anna.ID, "orders")
			if err != nil {
				t.Fatal(err)
			}
			if chats, _ := e.db.SubscribedChats(ctx, wh.ID); len(chats) != 1 || chats[0] != anna.ID {
				t.Fatalf("subscribed chats %v, want the private chat", chats)
			}
		})
		t.Run("MissingArgumentOffersButtons", func(t *testing.T) {
			for _, cmd := range []string{"/regenerate", "/revoke", "/subscribe", "/unsubscribe", "/secret", "/test", "/history", "/mute"} {
				if m := e.say(t, anna, pm, cmd); m.ReplyMarkup == nil || !strings.Contains(m.Text, "Which webhook") {
					t.Fatalf("%s without a name: %s, want buttons", cmd, m)
				}
			}
			m := e.say(t, anna, pm, "/regenerate")
			reply := e.click(t, anna, pm, m.ID, "orders")
			contains(t, "regenerate by button", reply, "New URL for orders", "/hook/")
		})
		t.Run("NewTokenRefusesWhatDoesNotFit", func(t *testing.T) {
			for _, tc := range []struct{ arg, suggestion string }{
				{"My Orders!", "my-orders"},
				{"shop orders", "shop-orders"},
				{"Мои заказы", "moi-zakazy"},
			} {
				m := e.say(t, anna, pm, "/newtoken "+tc.arg)
				contains(t, "/newtoken "+tc.arg, m, "not a valid name", "/newtoken "+tc.suggestion)
				lacks(t, "/newtoken "+tc.arg, m, "/hook/")
			}
			for _, created := range []string{"my", "shop", "my-orders"} {
				if _, err := e.db.WebhookByName(ctx, anna.ID, created); err == nil {
					t.Fatalf("webhook %q was created from a name that did not fit", created)
				}
			}
			contains(t, "nothing to suggest", e.say(t, anna, pm, "/newtoken !!!"), "not a valid name")
		})
		t.Run("TokensNewURLAsksFirst", func(t *testing.T) {
			before, err := e.db.WebhookByName(ctx, anna.ID, "orders")
			if err != nil {
				t.Fatal(err)
			}
			list := e.say(t, anna, pm, "/tokens")
			confirm := e.click(t, anna, pm, list.ID, "orders · New URL")
			contains(t, "confirmation", confirm, "Make a new URL for orders?")
			if now, _ := e.db.WebhookByName(ctx, anna.ID, "orders"); !bytes.Equal(now.TokenHash, before.TokenHash) {
				t.Fatal("regenerated before confirming")
			}
			waitAnswered(t, e.tg, e.tg.ClickButton(t, anna, pm, confirm.ID, "Cancel"))
			if now, _ := e.db.WebhookByName(ctx, anna.ID, "orders"); !bytes.Equal(now.TokenHash, before.TokenHash) {
				t.Fatal("regenerated although cancelled")
			}
			confirm = e.click(t, anna, pm, e.say(t, anna, pm, "/tokens").ID, "orders · New URL")
			done := e.click(t, anna, pm, confirm.ID, "Yes, new URL")
			contains(t, "confirmed", done, "New URL for orders", "/hook/", "curl -X POST")
			if now, _ := e.db.WebhookByName(ctx, anna.ID, "orders"); bytes.Equal(now.TokenHash, before.TokenHash) {
				t.Fatal("not regenerated after confirming")
			}
		})
		t.Run("RevokeButtonAsksFirst", func(t *testing.T) {
			contains(t, "/newtoken temp", e.say(t, anna, pm, "/newtoken temp"), "temp")
			list := e.say(t, anna, pm, "/tokens")
			contains(t, "/tokens", list, "orders — 1 chat, unsigned", "temp")
			confirm := e.click(t, anna, pm, list.ID, "temp · Delete")
			contains(t, "confirmation", confirm, "Delete webhook temp?")
			if _, err := e.db.WebhookByName(ctx, anna.ID, "temp"); err != nil {
				t.Fatalf("deleted before confirming: %v", err)
			}
			contains(t, "confirmed", e.click(t, anna, pm, confirm.ID, "Yes, delete"), "temp is deleted")
			if _, err := e.db.WebhookByName(ctx, anna.ID, "temp"); err == nil {
				t.Fatal("still there after confirming")
			}
			if m, _ := e.tg.Message(pm.ID, confirm.ID); m.ReplyMarkup != nil {
				t.Errorf("confirmation keeps its buttons: %s", m)
			}
		})
		t.Run("TokensTestButton", func(t *testing.T) {
			list := e.say(t, anna, pm, "/tokens")
			before := e.wakes.Load()
			contains(t, "test button", e.click(t, anna, pm, list.ID, "orders · Test"), "Test event", "1 chat receiving orders")
			e.waitWake(t, before, "/test")
		})
		t.Run("SubscribeUnsubscribe", func(t *testing.T) {
			contains(t, "/unsubscribe", e.say(t, anna, pm, "/unsubscribe orders"), "no longer receives orders")
			contains(t, "/unsubscribe twice", e.say(t, anna, pm, "/unsubscribe orders"), "does not receive orders")
			contains(t, "/subscribe", e.say(t, anna, pm, "/subscribe orders"), "now receives orders")
			contains(t, "/subscribe twice", e.say(t, anna, pm, "/subscribe orders"), "already receives orders")
			contains(t, "/subscribe unknown", e.say(t, anna, pm, "/subscribe nope"), "no webhook named nope")
			contains(t, "/subscribe bad name", e.say(t, anna, pm, "/subscribe Bad!"), "not a valid name")
		})
		t.Run("OtherBotsAndUnknown", func(t *testing.T) {
			before := len(e.tg.Messages(pm.ID))
			e.tg.UserSends(anna, pm, "/tokens@otherbot")
			e.quiet(t, pm, before)
			contains(t, "/tokens@herald_bot", e.say(t, anna, pm, "/tokens@herald_bot"), "Your webhooks")
			contains(t, "unknown command", e.say(t, anna, pm, "/frobnicate"), "don't know that command")
			contains(t, "plain text", e.say(t, anna, pm, "hello"), "/help")
		})
		t.Run("Edited", func(t *testing.T) {
			id := e.tg.UserSends(anna, pm, "/help")
			contains(t, "/help", e.next(t, pm, id), "/newtoken", "/mute", "/language")
			after := e.mark(pm)
			e.tg.UserEdits(anna, pm, id, "/tokens")
			contains(t, "edited", e.next(t, pm, after), "edited commands")
		})
		t.Run("BlockedAndBack", func(t *testing.T) {
			e.tg.UserBlocksBot(anna)
			waitActive(t, e.db, anna.ID, false)
			e.tg.UserUnblocksBot(anna)
			waitActive(t, e.db, anna.ID, true)
		})
	})
}

// TestBot_Quota: a user's webhooks are capped, with a clear message.
func TestBot_Quota(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *bot.Config) { c.MaxWebhooks = 2 })
	pm := tgemu.PrivateChat(anna)
	e.say(t, anna, pm, "/newtoken a")
	e.say(t, anna, pm, "/newtoken b")
	contains(t, "over quota", e.say(t, anna, pm, "/newtoken c"), "already have 2 webhooks", "/revoke")
	if _, err := e.db.WebhookByName(context.Background(), anna.ID, "c"); err == nil {
		t.Fatal("a webhook over the quota was created")
	}
	e.say(t, anna, pm, "/revoke a")
	contains(t, "after /revoke", e.say(t, anna, pm, "/newtoken c"), "/hook/")
}

// TestBot_Russian: every answer in the user's language, with Russian
// plurals, and /language overrides the user's language for the chat.
func TestBot_Russian(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pm := tgemu.PrivateChat(ivan)
		contains(t, "/newtoken", e.say(t, ivan, pm, "/newtoken zakazy"), "готов", "curl")
		contains(t, "/tokens", e.say(t, ivan, pm, "/tokens"), "zakazy — 1 чат, без подписи")
		for range 2 {
			contains(t, "/test", e.say(t, ivan, pm, "/test zakazy"), "Тестовое событие")
		}
		contains(t, "/history", e.say(t, ivan, pm, "/history zakazy"), "zakazy — 2 события", "в очереди")
		contains(t, "/mute 2h30m", e.say(t, ivan, pm, "/mute zakazy 2h30m"), "на 2 часа 30 минут")
		contains(t, "/mute 1d", e.say(t, ivan, pm, "/mute zakazy 1d"), "на 1 день")

		m := e.say(t, ivan, pm, "/language")
		contains(t, "/language", m, "На каком языке")
		contains(t, "/language en by button", e.click(t, ivan, pm, m.ID, "English"), "This chat now uses English")
		if c, err := e.db.ChatByID(ctx, pm.ID); err != nil || c.Language != "en" || !c.LanguageSet {
			t.Fatalf("chat after /language en: %+v %v", c, err)
		}
		contains(t, "after /language en", e.say(t, ivan, pm, "/help"), "turns any webhook")
		contains(t, "/language ru", e.say(t, ivan, pm, "/language ru"), "русский язык")
		contains(t, "/language de", e.say(t, ivan, pm, "/language de"), "по-английски")
	})
}

func waitAnswered(t *testing.T, tg *telegramtest.Server, id string) string {
	t.Helper()
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if text, ok := tg.CallbackAnswered(id); ok {
			return text
		}
	}
	t.Fatalf("callback query %s was never answered", id)
	return ""
}

func waitActive(t *testing.T, db *storage.DB, chatID int64, want bool) {
	t.Helper()
	var c storage.Chat
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if c, err = db.ChatByID(context.Background(), chatID); err == nil && c.Active == want {
			return
		}
	}
	t.Fatalf("chat %d active=%v, want %v", chatID, c.Active, want)
}

func TestBot_CommandMenu(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *bot.Config) { c.AdminIDs = []int64{anna.ID} })
	menu := func(scope, lang string) []string {
		var out []string
		for _, c := range e.tg.Commands(scope, lang) {
			out = append(out, c.Command+"="+c.Description)
		}
		return out
	}
	var en, ru []string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline) && (len(en) == 0 || len(ru) == 0); time.Sleep(10 * time.Millisecond) {
		en, ru = menu("default", ""), menu("default", "ru")
	}
	if len(en) != 18 || len(ru) != len(en) {
		t.Fatalf("menu: en %v ru %v", en, ru)
	}
	for _, want := range []string{"newtoken=Создать", "mute=Приостановить", "language=Язык"} {
		if !strings.Contains(strings.Join(ru, "\n"), want) {
			t.Errorf("ru menu lacks %q: %v", want, ru)
		}
	}
	for _, c := range append(en, ru...) {
		if strings.Contains(c, "=menu.") {
			t.Errorf("a menu description is missing from the translations: %s", c)
		}
	}
	if strings.Contains(strings.Join(en, "\n"), "stats=") {
		t.Errorf("admin commands in everyone's menu: %v", en)
	}
	// The admin's own menu, once Telegram knows their chat.
	e.say(t, anna, tgemu.PrivateChat(anna), "/start")
	scope := "chat:" + "1001"
	var admin []string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline) && len(admin) == 0; time.Sleep(10 * time.Millisecond) {
		admin = menu(scope, "ru")
	}
	if len(admin) != 23 || !strings.Contains(strings.Join(admin, "\n"), "stats=Админ") {
		t.Errorf("admin menu: %v", admin)
	}
}
