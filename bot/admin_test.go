package bot_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

var (
	grantRE = regexp.MustCompile(`https://t\.me/herald_bot\?start=(grant-[A-Za-z0-9_-]+)`)
	hookRE  = regexp.MustCompile(`https://herald\.example/hook/([A-Za-z0-9_-]{43})`)
)

// TestBot_Admin: ACCESS_MODE=invite with /grant links, and the admin
// commands, with Anna as the one admin.
func TestBot_Admin(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL, func(c *bot.Config) { c.AdminIDs = []int64{anna.ID}; c.AccessMode = bot.AccessInvite })
		ctx := context.Background()
		pmAnna, pmBob, pmCarol := tgemu.PrivateChat(anna), tgemu.PrivateChat(bob), tgemu.PrivateChat(carol)

		t.Run("InviteOnly", func(t *testing.T) {
			contains(t, "/start", e.say(t, bob, pmBob, "/start"), "Hi Bob", "invite-only")
			contains(t, "/newtoken", e.say(t, bob, pmBob, "/newtoken bobs"), "invite-only")
			if _, err := e.db.WebhookByName(ctx, bob.ID, "bobs"); err == nil {
				t.Fatal("an uninvited user created a webhook")
			}
			contains(t, "admin's /newtoken", e.say(t, anna, pmAnna, "/newtoken orders"), "/hook/")
		})
		t.Run("NotForEveryone", func(t *testing.T) {
			for _, cmd := range []string{"/stats", "/queue", "/ban 1", "/unban 1", "/grant"} {
				contains(t, cmd, e.say(t, bob, pmBob, cmd), "for Herald's administrators")
			}
			contains(t, "/help", e.say(t, bob, pmBob, "/help"), "/newtoken")
			lacks(t, "/help", e.say(t, bob, pmBob, "/help"), "/stats")
			contains(t, "admin /help", e.say(t, anna, pmAnna, "/help"), "/stats", "/grant")
			e.tg.AddBotToChat(anna, ops)
			e.tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Administrators of this group") }, wait)
			contains(t, "/stats in a group", e.say(t, anna, ops, "/stats"), "only in a private chat")
		})
		var bobsURL string
		t.Run("Grant", func(t *testing.T) {
			m := e.say(t, anna, pmAnna, "/grant")
			contains(t, "/grant", m, "one-time invitation, valid for 7 days")
			code := grantRE.FindStringSubmatch(m.Text)
			if code == nil {
				t.Fatalf("/grant gave no link: %s", m)
			}
			contains(t, "redeem", e.say(t, bob, pmBob, "/start "+code[1]), "Welcome!")
			if u, _ := e.db.UserByID(ctx, bob.ID); !u.Granted {
				t.Fatal("the grant was not stored")
			}
			reply := e.say(t, bob, pmBob, "/newtoken bobs")
			if bobsURL = hookRE.FindString(reply.Text); bobsURL == "" {
				t.Fatalf("invited user's /newtoken: %s", reply)
			}
			contains(t, "second use", e.say(t, carol, pmCarol, "/start "+code[1]), "invalid, expired or already used")
			contains(t, "forged code", e.say(t, carol, pmCarol, "/start grant-nope"), "invalid")
			contains(t, "uninvited", e.say(t, carol, pmCarol, "/newtoken c"), "invite-only")
		})
		t.Run("Stats", func(t *testing.T) {
			bobs, _ := e.db.WebhookByName(ctx, bob.ID, "bobs")
			ev := storage.Event{WebhookID: bobs.ID, ContentType: "application/json", Headers: "{}", Body: []byte(`{}`)}
			if _, err := e.db.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			if err := e.db.SaveSummary(ctx, storage.Summary{EventID: ev.ID, Language: "en", Notification: "{}", PromptTokens: 100, CompletionTokens: 20}); err != nil {
				t.Fatal(err)
			}
			contains(t, "/stats", e.say(t, anna, pmAnna, "/stats"),
				"Events received: 1", "LLM tokens: 120 (100 prompt, 20 completion)", "webhooks: 2", "Queue: 1 pending")
		})
		t.Run("Queue", func(t *testing.T) {
			contains(t, "/queue, nothing stuck yet", e.say(t, anna, pmAnna, "/queue"), "healthy")
			ds, err := e.db.ClaimDeliveries(ctx, "test", time.Minute, 10)
			if err != nil || len(ds) != 1 {
				t.Fatalf("claim: %v %v", ds, err)
			}
			if err := e.db.RetryDelivery(ctx, ds[0], time.Now().Add(time.Hour), "telegram: 502 <bad gateway>", true); err != nil {
				t.Fatal(err)
			}
			contains(t, "/queue", e.say(t, anna, pmAnna, "/queue"), "Stuck", "bobs → chat 1002: 1 attempt", "telegram: 502 <bad gateway>")
		})
		t.Run("BanAndUnban", func(t *testing.T) {
			contains(t, "/ban", e.say(t, anna, pmAnna, "/ban 1002"), "1002 is banned", "(1 webhook in all)")
			token := hookRE.FindStringSubmatch(bobsURL)[1]
			if _, err := e.db.WebhookByTokenHash(ctx, storage.HashToken(token)); err == nil {
				t.Fatal("a banned user's webhook is still found by its token")
			}
			contains(t, "banned user", e.say(t, bob, pmBob, "/tokens"), "blocked")
			contains(t, "banned user's /start", e.say(t, bob, pmBob, "/start"), "blocked")
			contains(t, "/unban", e.say(t, anna, pmAnna, "/unban 1002"), "1002 is unbanned")
			if _, err := e.db.WebhookByTokenHash(ctx, storage.HashToken(token)); err != nil {
				t.Fatalf("after /unban: %v", err)
			}
			contains(t, "unbanned user", e.say(t, bob, pmBob, "/tokens"), "bobs")
			contains(t, "/unban twice", e.say(t, anna, pmAnna, "/unban 1002"), "not banned")
			contains(t, "/ban an admin", e.say(t, anna, pmAnna, "/ban 1001"), "can't be banned")
			contains(t, "/ban", e.say(t, anna, pmAnna, "/ban"), "/ban 123456789")
			contains(t, "/ban text", e.say(t, anna, pmAnna, "/ban bob"), "/ban 123456789")
			// A ban before the user ever wrote holds when they do.
			contains(t, "/ban a stranger", e.say(t, anna, pmAnna, "/ban 3003"), "3003 is banned", "(0 webhooks in all)")
			stranger := tgemu.User{ID: 3003, FirstName: "Eve", LanguageCode: "ru"}
			contains(t, "stranger", e.say(t, stranger, tgemu.PrivateChat(stranger), "/newtoken x"), "закрыт доступ")
		})
	})
}

// TestBot_AccessAdmins: ACCESS_MODE=admins lets only admins create webhooks.
func TestBot_AccessAdmins(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *bot.Config) { c.AdminIDs = []int64{anna.ID}; c.AccessMode = bot.AccessAdmins })
	contains(t, "user", e.say(t, bob, tgemu.PrivateChat(bob), "/newtoken b"), "only its administrators create webhooks")
	contains(t, "admin", e.say(t, anna, tgemu.PrivateChat(anna), "/newtoken a"), "/hook/")
	m := e.say(t, anna, tgemu.PrivateChat(anna), "/grant")
	if !strings.Contains(m.Text, "ACCESS_MODE is admins") {
		t.Errorf("/grant under ACCESS_MODE=admins says nothing of it: %s", m)
	}
}
