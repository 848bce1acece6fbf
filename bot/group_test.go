package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestBot_Groups drives a group with two administrators (Anna, who started
// the bot, and Carol, who never did) and a plain member (Bob).
func TestBot_Groups(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pmAnna, pmBob, pmCarol := tgemu.PrivateChat(anna), tgemu.PrivateChat(bob), tgemu.PrivateChat(carol)
		e.say(t, anna, pmAnna, "/start")
		e.tg.AddBotToChat(anna, ops)
		e.tg.SetChatAdmins(ops.ID, anna, carol)
		e.tg.AddMember(ops.ID, bob)
		e.tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Administrators of this group") }, wait)

		t.Run("AdminGetsTheURLPrivately", func(t *testing.T) {
			g, p := e.mark(ops), e.mark(pmAnna)
			e.tg.UserSends(anna, ops, "/newtoken alerts")
			contains(t, "private", e.next(t, pmAnna, p), "Webhook alerts for Ops is ready", "https://herald.example/hook/", "curl")
			grp := e.next(t, ops, g)
			contains(t, "group", grp, "sent the URL of alerts to Anna in a private chat")
			lacks(t, "group", grp, "/hook/")
			wh, err := e.db.WebhookByName(ctx, anna.ID, "alerts")
			if err != nil {
				t.Fatal(err)
			}
			if chats, _ := e.db.SubscribedChats(ctx, wh.ID); len(chats) != 1 || chats[0] != ops.ID {
				t.Fatalf("alerts goes to %v, want the group only", chats)
			}
		})
		t.Run("MemberIsRefused", func(t *testing.T) {
			contains(t, "/newtoken by a member", e.say(t, bob, ops, "/newtoken bobs"), "Only administrators of this group")
			if _, err := e.db.WebhookByName(ctx, bob.ID, "bobs"); err == nil {
				t.Fatal("a plain member created a webhook in the group")
			}
			contains(t, "/mute by a member", e.say(t, bob, ops, "/mute alerts"), "Only administrators")
			contains(t, "/language by a member", e.say(t, bob, ops, "/language ru"), "Only administrators")
			if c, _ := e.db.ChatByID(ctx, ops.ID); c.LanguageSet {
				t.Fatal("a plain member changed the group's language")
			}
			contains(t, "/help by a member", e.say(t, bob, ops, "/help"), "/newtoken", "only its administrators configure me")
		})
		t.Run("AdminWhoNeverStartedGetsADeepLink", func(t *testing.T) {
			m := e.say(t, carol, ops, "/newtoken carolhook")
			contains(t, "deep link", m, "Carol, I can't write to you privately yet")
			lacks(t, "deep link", m, "/hook/")
			btn, ok := m.ReplyMarkup.Button("Start Herald")
			if want := "https://t.me/herald_bot?start=newtoken_-500_carolhook"; !ok || btn.URL != want {
				t.Fatalf("start button %+v, want a URL button to %s", btn, want)
			}
			if _, err := e.db.WebhookByName(ctx, carol.ID, "carolhook"); err == nil {
				t.Fatal("the webhook was created before its URL could reach Carol")
			}
			g := e.mark(ops)
			contains(t, "private after start", e.say(t, carol, pmCarol, "/start newtoken_-500_carolhook"), "carolhook for Ops is ready", "/hook/")
			contains(t, "group after start", e.next(t, ops, g), "sent the URL of carolhook to Carol")
			wh, err := e.db.WebhookByName(ctx, carol.ID, "carolhook")
			if err != nil {
				t.Fatal(err)
			}
			if chats, _ := e.db.SubscribedChats(ctx, wh.ID); len(chats) != 1 || chats[0] != ops.ID {
				t.Fatalf("carolhook goes to %v, want the group", chats)
			}
		})
		t.Run("ForgedDeepLinkGrantsNothing", func(t *testing.T) {
			g := len(e.tg.Messages(ops.ID))
			contains(t, "forged link", e.say(t, bob, pmBob, "/start newtoken_-500_stolen"), "Only administrators")
			if _, err := e.db.WebhookByName(ctx, bob.ID, "stolen"); err == nil {
				t.Fatal("a forged deep link created a webhook")
			}
			contains(t, "unknown group", e.say(t, bob, pmBob, "/start newtoken_-999_x"), "no longer works")
			e.quiet(t, ops, g)
		})
		t.Run("ButtonsBelongToWhoAsked", func(t *testing.T) {
			wh, _ := e.db.WebhookByName(ctx, anna.ID, "alerts")
			m := e.say(t, anna, ops, "/regenerate")
			q := e.tg.ClickButton(t, bob, ops, m.ID, "alerts")
			if got := waitAnswered(t, e.tg, q); !strings.Contains(got, "someone else") {
				t.Fatalf("Bob pressing Anna's button was answered %q", got)
			}
			if now, _ := e.db.WebhookByName(ctx, anna.ID, "alerts"); string(now.TokenHash) != string(wh.TokenHash) {
				t.Fatal("Bob's press regenerated Anna's webhook")
			}
			p := e.mark(pmAnna)
			contains(t, "Anna's press", e.click(t, anna, ops, m.ID, "alerts"), "sent the URL of alerts to Anna")
			contains(t, "new URL privately", e.next(t, pmAnna, p), "New URL for alerts (delivered to Ops)", "/hook/")
		})
		t.Run("CommandsForOtherBots", func(t *testing.T) {
			before := len(e.tg.Messages(ops.ID))
			e.tg.UserSends(anna, ops, "/tokens@otherbot")
			e.tg.UserSends(anna, ops, "/frobnicate")
			e.quiet(t, ops, before)
			contains(t, "/frobnicate@herald_bot", e.say(t, anna, ops, "/frobnicate@herald_bot"), "don't know that command")
			contains(t, "/tokens@herald_bot", e.say(t, anna, ops, "/tokens@herald_bot"), "alerts — 1 chat")
		})
		t.Run("ChatAdminManagesSomeoneElsesWebhook", func(t *testing.T) {
			contains(t, "/mute", e.say(t, carol, ops, "/mute alerts 1h"), "alerts is muted in this chat for 1 hour")
			subs, _ := e.db.ChatSubscriptions(ctx, ops.ID)
			if len(subs) != 2 || subs[0].Name != "alerts" || !subs[0].Muted || subs[0].MutedUntil == nil {
				t.Fatalf("subscriptions after /mute: %+v", subs)
			}
			m := e.say(t, carol, ops, "/unmute")
			contains(t, "/unmute offers the muted", m, "Which webhook")
			if bs := m.ReplyMarkup.Buttons(); len(bs) != 1 || bs[0].Text != "alerts" {
				t.Fatalf("/unmute offers %v, want only alerts", bs)
			}
			contains(t, "/unmute by button", e.click(t, carol, ops, m.ID, "alerts"), "alerts is delivered here again")
			contains(t, "/unmute again", e.say(t, carol, ops, "/unmute alerts"), "alerts is not muted")
			contains(t, "/unmute, nothing muted", e.say(t, carol, ops, "/unmute"), "Nothing is muted")
			contains(t, "/unsubscribe", e.say(t, carol, ops, "/unsubscribe alerts"), "no longer receives alerts")
			contains(t, "/subscribe by the owner", e.say(t, anna, ops, "/subscribe alerts"), "now receives alerts")
			contains(t, "/subscribe someone else's", e.say(t, carol, ops, "/subscribe alerts"), "no webhook named alerts")
		})
		t.Run("DemotedAdminIsRefusedAtOnce", func(t *testing.T) {
			e.tg.SetChatAdmins(ops.ID, carol)
			contains(t, "demoted", e.say(t, anna, ops, "/unsubscribe alerts"), "Only administrators")
			e.tg.SetChatAdmins(ops.ID, anna, carol)
			contains(t, "promoted again", e.say(t, anna, ops, "/language ru"), "русский")
			contains(t, "group language", e.say(t, anna, ops, "/help"), "превращает")
			e.say(t, anna, ops, "/language en")
		})
		t.Run("SecretInAGroup", func(t *testing.T) {
			id := e.tg.UserSends(anna, ops, "/secret alerts group secret 1")
			m := e.next(t, ops, id)
			contains(t, "undeletable secret", m, "accepts only requests signed", "members of this chat can read the secret")
			lacks(t, "undeletable secret", m, "group secret 1")
			if wh, _ := e.db.WebhookByName(ctx, anna.ID, "alerts"); wh.Secret != "group secret 1" {
				t.Fatalf("secret %q", wh.Secret)
			}
			e.tg.MakeBotAdmin(anna, ops)
			id = e.tg.UserSends(anna, ops, "/secret alerts group secret 2")
			m = e.next(t, ops, id)
			lacks(t, "deleted secret", m, "group secret 2", "can read the secret")
			if um, _ := e.tg.Message(ops.ID, id); !um.Deleted {
				t.Fatal("the message holding the secret was not deleted")
			}
		})
		t.Run("AnonymousAdmin", func(t *testing.T) {
			g := e.mark(ops)
			e.tg.SendUpdate("message", map[string]any{
				"message_id": 9999, "date": time.Now().Unix(),
				"chat":        map[string]any{"id": ops.ID, "type": "group", "title": "Ops"},
				"sender_chat": map[string]any{"id": ops.ID, "type": "group", "title": "Ops"},
				"from":        map[string]any{"id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"},
				"text":        "/newtoken anon",
				"entities":    []map[string]any{{"type": "bot_command", "offset": 0, "length": 9}},
			})
			contains(t, "anonymous admin", e.next(t, ops, g), "anonymously")
		})
		t.Run("RemovedAndBack", func(t *testing.T) {
			e.tg.RemoveBotFromChat(anna, ops)
			waitActive(t, e.db, ops.ID, false)
			g := e.mark(ops)
			e.tg.AddBotToChat(anna, ops)
			waitActive(t, e.db, ops.ID, true)
			contains(t, "greeting", e.next(t, ops, g), "Administrators of this group")
		})
		t.Run("Channel", func(t *testing.T) {
			news := tgemu.Chat{ID: -1001234, Type: tgemu.ChatTypeChannel, Title: "News"}
			e.tg.AddBotToChat(anna, news)
			contains(t, "command in a channel", e.say(t, anna, news, "/newtoken news"), "don't work in channels")
		})
	})
}

// TestBot_Secret: /secret in a private chat stores the secret, deletes the
// message holding it and never repeats it.
func TestBot_Secret(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pm := tgemu.PrivateChat(anna)
		e.say(t, anna, pm, "/newtoken orders")
		secret := func() string {
			wh, err := e.db.WebhookByName(ctx, anna.ID, "orders")
			if err != nil {
				t.Fatal(err)
			}
			return wh.Secret
		}
		deleted := func(id int) bool { m, _ := e.tg.Message(pm.ID, id); return m.Deleted }

		id := e.tg.UserSends(anna, pm, "/secret orders  my secret  phrase")
		m := e.next(t, pm, id)
		contains(t, "/secret", m, "orders accepts only requests signed")
		lacks(t, "/secret", m, "my secret")
		if got, want := secret(), "my secret  phrase"; got != want {
			t.Fatalf("secret %q, want %q", got, want)
		}
		if !deleted(id) {
			t.Error("the message holding the secret is still there")
		}
		contains(t, "/tokens", e.say(t, anna, pm, "/tokens"), "signed requests only")
		contains(t, "/secret name only", e.say(t, anna, pm, "/secret orders"), "/secret orders your-secret")

		id = e.tg.UserSends(anna, pm, "/secret orders line one\nline two")
		contains(t, "two lines", e.next(t, pm, id), "one line")
		id = e.tg.UserSends(anna, pm, "/secret orders "+strings.Repeat("s", 300))
		contains(t, "too long", e.next(t, pm, id), "too long")
		id = e.tg.UserSends(anna, pm, "/secret nope hunter2")
		contains(t, "unknown webhook", e.next(t, pm, id), "no webhook named nope")
		if !deleted(id) {
			t.Error("a secret for an unknown webhook stays in the chat")
		}
		if got := secret(); got != "my secret  phrase" {
			t.Fatalf("refused secrets changed it to %q", got)
		}

		contains(t, "/secret off", e.say(t, anna, pm, "/secret orders off"), "accepts unsigned requests again")
		if got := secret(); got != "" {
			t.Fatalf("secret after off: %q", got)
		}
		m = e.say(t, anna, pm, "/secret")
		contains(t, "/secret by button", e.click(t, anna, pm, m.ID, "orders"), "/secret orders your-secret")
	})
}

// TestBot_Mute: a muted webhook's events are kept, held without blocking
// the chat's other webhooks, and queued again by /unmute, by the mute's
// end, or by /unsubscribe.
func TestBot_Mute(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		db := storagetest.Open(t, databaseURL, storage.WithClock(clk.Now))
		e := setupDB(t, db, func(c *bot.Config) { c.MuteSweep = 20 * time.Millisecond })
		ctx := context.Background()
		pm := tgemu.PrivateChat(anna)
		e.say(t, anna, pm, "/newtoken orders")
		e.say(t, anna, pm, "/newtoken other")
		orders, _ := e.db.WebhookByName(ctx, anna.ID, "orders")
		other, _ := e.db.WebhookByName(ctx, anna.ID, "other")
		insert := func(wh storage.Webhook) storage.Event {
			t.Helper()
			ev := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: "{}", Body: []byte(`{"a":1}`)}
			if _, err := e.db.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			return ev
		}
		status := func(ev storage.Event) string {
			t.Helper()
			ds, err := e.db.DeliveriesOfEvent(ctx, ev.ID)
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries of %s: %v %v", ev.ID, ds, err)
			}
			return ds[0].Status
		}
		claim := func() []storage.Delivery {
			t.Helper()
			ds, err := e.db.ClaimDeliveries(ctx, "test", time.Minute, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if err := e.db.CompleteDelivery(ctx, d, 1); err != nil {
					t.Fatal(err)
				}
			}
			return ds
		}

		contains(t, "/mute", e.say(t, anna, pm, "/mute orders"), "orders is muted in this chat until /unmute orders")
		held := insert(orders)
		later := insert(other)
		if got := status(held); got != storage.StatusMuted {
			t.Fatalf("delivery of a muted webhook: %s, want %s", got, storage.StatusMuted)
		}
		if ev, _ := e.db.EventByID(ctx, orders.ID, held.ID); ev.Status != storage.StatusQueued {
			t.Fatalf("a held event reads %s, want queued", ev.Status)
		}
		if ds := claim(); len(ds) != 1 || ds[0].EventID != later.ID {
			t.Fatalf("claimed %v, want only the other webhook's event (a mute must not block the chat)", ds)
		}

		wakes := e.wakes.Load()
		contains(t, "/unmute", e.say(t, anna, pm, "/unmute orders"), "Held meanwhile: 1 event")
		e.waitWake(t, wakes, "/unmute")
		if ds := claim(); len(ds) != 1 || ds[0].EventID != held.ID {
			t.Fatalf("after /unmute claimed %v, want the held event", ds)
		}
		if ev, _ := e.db.EventByID(ctx, orders.ID, held.ID); ev.Status != storage.StatusDelivered {
			t.Fatalf("held event after delivery: %s", ev.Status)
		}

		// A timed mute ends by itself.
		contains(t, "/mute 1h", e.say(t, anna, pm, "/mute orders 1h"), "for 1 hour, until 2026-03-01 13:00 UTC")
		held = insert(orders)
		time.Sleep(100 * time.Millisecond) // sweeps run; the mute holds
		if got := status(held); got != storage.StatusMuted {
			t.Fatalf("before the mute ends: %s", got)
		}
		clk.Advance(61 * time.Minute)
		waitStatus(t, func() string { return status(held) }, storage.StatusQueued)
		if subs, _ := e.db.ChatSubscriptions(ctx, pm.ID); subs[0].Muted {
			t.Errorf("the mute outlived its end: %+v", subs[0])
		}
		claim()

		// /unsubscribe hands on what a mute held: nothing accepted is lost.
		e.say(t, anna, pm, "/mute orders")
		held = insert(orders)
		contains(t, "/unsubscribe", e.say(t, anna, pm, "/unsubscribe orders"), "no longer receives orders")
		if got := status(held); got != storage.StatusQueued {
			t.Fatalf("held delivery after /unsubscribe: %s, want queued", got)
		}

		contains(t, "bad duration", e.say(t, anna, pm, "/mute other soon"), "don't understand that duration")
		contains(t, "too long a mute", e.say(t, anna, pm, "/mute other 400d"), "don't understand that duration")
		contains(t, "not subscribed", e.say(t, anna, pm, "/mute orders"), "does not receive orders")
	})
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func waitStatus(t *testing.T, get func() string, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = get(); got == want {
			return
		}
	}
	t.Fatalf("status %s, want %s", got, want)
}
