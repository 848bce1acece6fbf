package bot_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// env drives the real bot through the Bot API fake over a real database.
type env struct {
	tg *telegramtest.Server
	db *storage.DB
}

func setup(t *testing.T, databaseURL string) *env {
	t.Helper()
	e := &env{tg: telegramtest.Start(t), db: storagetest.Open(t, databaseURL)}
	b, err := bot.New(bot.Config{Token: e.tg.Token(), APIURL: e.tg.URL(), PublicURL: "https://herald.example", Poll: time.Second},
		e.db, locales.MustNew(), slog.New(slog.DiscardHandler))
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
	anna = telegramtest.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}
	ops  = telegramtest.Group(-500, "Ops")
)

// say sends text in chat and returns the bot's next message there.
func (e *env) say(t *testing.T, u telegramtest.User, chat telegramtest.Chat, text string) telegramtest.Message {
	t.Helper()
	prev := 0
	for _, m := range e.tg.Messages(chat.ID) {
		prev = max(prev, m.ID)
	}
	e.tg.UserSends(u, chat, text)
	return e.tg.WaitMessage(t, chat.ID, func(m telegramtest.Message) bool { return m.ID > prev }, 5*time.Second)
}

// quiet asserts the bot sends nothing more to chat for a moment.
func (e *env) quiet(t *testing.T, chat telegramtest.Chat, before int) {
	t.Helper()
	time.Sleep(300 * time.Millisecond)
	if got := len(e.tg.Messages(chat.ID)); got != before {
		t.Fatalf("the bot answered: %v", e.tg.Messages(chat.ID)[before:])
	}
}

func TestBot_Commands(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pm := telegramtest.PrivateChat(anna)

		t.Run("NewTokenAndDuplicate", func(t *testing.T) {
			if m := e.say(t, anna, pm, "/newtoken Orders"); !strings.Contains(m.Text, "https://herald.example/hook/") {
				t.Fatalf("/newtoken Orders: %s", m)
			}
			if m := e.say(t, anna, pm, "/newtoken orders"); !strings.Contains(m.Text, "already have a webhook named orders") {
				t.Fatalf("duplicate: %s", m)
			}
			if m := e.say(t, anna, pm, "/newtoken"); !strings.Contains(m.Text, "/newtoken orders") {
				t.Fatalf("no name: %s", m)
			}
			long := strings.Repeat("x", 5000)
			if m := e.say(t, anna, pm, "/newtoken "+long); !strings.Contains(m.Text, "not a valid name") || len(m.Text) > 400 {
				t.Fatalf("long name: %q", m.Text)
			}
			wh, err := e.db.WebhookByName(ctx, anna.ID, "orders")
			if err != nil {
				t.Fatal(err)
			}
			if chats, _ := e.db.SubscribedChats(ctx, wh.ID); len(chats) != 1 || chats[0] != anna.ID {
				t.Fatalf("subscribed chats %v, want the private chat", chats)
			}
		})
		t.Run("MissingArgumentOffersButtons", func(t *testing.T) {
			m := e.say(t, anna, pm, "/regenerate")
			if m.ReplyMarkup == nil {
				t.Fatalf("/regenerate without a name: %s, want buttons", m)
			}
			id := e.tg.ClickButton(t, anna, pm, m.ID, "orders")
			reply := e.tg.WaitMessage(t, pm.ID, func(r telegramtest.Message) bool { return strings.Contains(r.Text, "New URL for orders") }, 5*time.Second)
			if !strings.Contains(reply.Text, "/hook/") {
				t.Fatalf("regenerate by button: %s", reply)
			}
			waitAnswered(t, e.tg, id)
		})
		t.Run("RevokeButtonAsksFirst", func(t *testing.T) {
			if m := e.say(t, anna, pm, "/newtoken temp"); !strings.Contains(m.Text, "temp") {
				t.Fatal(m)
			}
			list := e.say(t, anna, pm, "/tokens")
			if !strings.Contains(list.Text, "orders — 1 chat") || !strings.Contains(list.Text, "temp") {
				t.Fatalf("/tokens: %s", list)
			}
			id := e.tg.ClickButton(t, anna, pm, list.ID, "temp · Delete")
			confirm := e.tg.WaitMessage(t, pm.ID, func(r telegramtest.Message) bool { return strings.Contains(r.Text, "Delete webhook temp?") }, 5*time.Second)
			waitAnswered(t, e.tg, id)
			if _, err := e.db.WebhookByName(ctx, anna.ID, "temp"); err != nil {
				t.Fatalf("deleted before confirming: %v", err)
			}
			e.tg.ClickButton(t, anna, pm, confirm.ID, "Yes, delete")
			e.tg.WaitMessage(t, pm.ID, func(r telegramtest.Message) bool {
				return strings.Contains(r.Text, "temp</b> is deleted") || strings.Contains(r.Text, "temp is deleted")
			}, 5*time.Second)
			if _, err := e.db.WebhookByName(ctx, anna.ID, "temp"); err == nil {
				t.Fatal("still there after confirming")
			}
		})
		t.Run("SubscribeUnsubscribe", func(t *testing.T) {
			if m := e.say(t, anna, pm, "/unsubscribe orders"); !strings.Contains(m.Text, "no longer receives orders") {
				t.Fatalf("/unsubscribe: %s", m)
			}
			if m := e.say(t, anna, pm, "/unsubscribe orders"); !strings.Contains(m.Text, "does not receive orders") {
				t.Fatalf("/unsubscribe twice: %s", m)
			}
			if m := e.say(t, anna, pm, "/subscribe orders"); !strings.Contains(m.Text, "now receives orders") {
				t.Fatalf("/subscribe: %s", m)
			}
			if m := e.say(t, anna, pm, "/subscribe nope"); !strings.Contains(m.Text, "no webhook named nope") {
				t.Fatalf("/subscribe unknown: %s", m)
			}
		})
		t.Run("OtherBotsAndUnknown", func(t *testing.T) {
			before := len(e.tg.Messages(pm.ID))
			e.tg.UserSends(anna, pm, "/tokens@otherbot")
			e.quiet(t, pm, before)
			if m := e.say(t, anna, pm, "/tokens@herald_bot"); !strings.Contains(m.Text, "Your webhooks") {
				t.Fatalf("/tokens@herald_bot: %s", m)
			}
			if m := e.say(t, anna, pm, "/frobnicate"); !strings.Contains(m.Text, "don't know that command") {
				t.Fatalf("unknown command: %s", m)
			}
			if m := e.say(t, anna, pm, "hello"); !strings.Contains(m.Text, "/help") {
				t.Fatalf("plain text: %s", m)
			}
		})
		t.Run("Edited", func(t *testing.T) {
			id := e.tg.UserSends(anna, pm, "/help")
			e.tg.WaitMessage(t, pm.ID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "/newtoken") && m.ID > id }, 5*time.Second)
			e.tg.UserEdits(anna, pm, id, "/tokens")
			e.tg.WaitMessage(t, pm.ID, func(m telegramtest.Message) bool { return strings.Contains(m.Text, "edited commands") }, 5*time.Second)
		})
		t.Run("GroupIsPrivateOnlyForNow", func(t *testing.T) {
			e.tg.AddBotToChat(anna, ops)
			if m := e.say(t, anna, ops, "/newtoken alerts"); !strings.Contains(m.Text, "private chat") || strings.Contains(m.Text, "/hook/") {
				t.Fatalf("/newtoken in a group: %s", m)
			}
			if m := e.say(t, anna, ops, "/help"); !strings.Contains(m.Text, "/newtoken") {
				t.Fatalf("/help in a group: %s", m)
			}
		})
		t.Run("BlockedAndBack", func(t *testing.T) {
			e.tg.UserBlocksBot(anna)
			waitActive(t, e.db, anna.ID, false)
			e.tg.UserUnblocksBot(anna)
			waitActive(t, e.db, anna.ID, true)
		})
	})
}

func waitAnswered(t *testing.T, tg *telegramtest.Server, id string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, ok := tg.CallbackAnswered(id); ok {
			return
		}
	}
	t.Fatalf("callback query %s was never answered", id)
}

func waitActive(t *testing.T, db *storage.DB, chatID int64, want bool) {
	t.Helper()
	var c storage.Chat
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		if c, err = db.ChatByID(context.Background(), chatID); err == nil && c.Active == want {
			return
		}
	}
	t.Fatalf("chat %d active=%v, want %v", chatID, c.Active, want)
}

func TestBot_CommandMenu(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	var en, ru []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && (len(en) == 0 || len(ru) == 0); time.Sleep(10 * time.Millisecond) {
		en, ru = nil, nil
		for _, c := range e.tg.Commands("default", "") {
			en = append(en, c.Command+"="+c.Description)
		}
		for _, c := range e.tg.Commands("default", "ru") {
			ru = append(ru, c.Command+"="+c.Description)
		}
	}
	if len(en) < 8 || len(ru) != len(en) {
		t.Fatalf("menu: en %v ru %v", en, ru)
	}
	if !strings.Contains(strings.Join(ru, "\n"), "newtoken=Создать") {
		t.Errorf("ru menu: %v", ru)
	}
}
