package bot_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

var inviteRE = regexp.MustCompile(`https://t\.me/herald_bot\?start=(join-[A-Za-z0-9_-]{43})`)

// inviteCode is the start parameter of the invite link in m.
func inviteCode(t *testing.T, m tgemu.Message) string {
	t.Helper()
	sub := inviteRE.FindStringSubmatch(m.Text)
	if sub == nil {
		t.Fatalf("no invite link in %s", m)
	}
	if len(sub[1]) > 64 {
		t.Fatalf("start parameter %q longer than Telegram's 64", sub[1])
	}
	return sub[1]
}

func subscribed(t *testing.T, db *storage.DB, owner int64, name string) []int64 {
	t.Helper()
	ctx := context.Background()
	wh, err := db.WebhookByName(ctx, owner, name)
	if err != nil {
		t.Fatal(err)
	}
	chats, err := db.SubscribedChats(ctx, wh.ID)
	if err != nil {
		t.Fatal(err)
	}
	return chats
}

// TestBot_Invite: Anna invites; Bob follows the link, receives orders
// read-only, leaves; links end as documented.
func TestBot_Invite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		pmAnna, pmBob, pmCarol := tgemu.PrivateChat(anna), tgemu.PrivateChat(bob), tgemu.PrivateChat(carol)
		e.say(t, anna, pmAnna, "/newtoken orders")
		var code string

		t.Run("Link", func(t *testing.T) {
			m := e.say(t, anna, pmAnna, "/invite orders")
			contains(t, "/invite", m, "receives the events of orders", "/unsubscribe orders", "/invite orders off")
			lacks(t, "/invite", m, "/hook/")
			code = inviteCode(t, m)
			contains(t, "/invite without a name", e.say(t, anna, pmAnna, "/invite"), "Which webhook")
			contains(t, "/invite bad argument", e.say(t, anna, pmAnna, "/invite orders now"), "/invite orders off")
		})
		t.Run("Join", func(t *testing.T) {
			a := e.mark(pmAnna)
			contains(t, "follow the link", e.say(t, bob, pmBob, "/start "+code), "You now receive orders, shared by Anna", "/unsubscribe orders")
			contains(t, "owner told", e.next(t, pmAnna, a), "Bob (@bob) now receives orders", "?chat=1002", "/invite orders off")
			if got := subscribed(t, e.db, anna.ID, "orders"); !slices.Equal(got, []int64{anna.ID, bob.ID}) {
				t.Fatalf("orders goes to %v, want Anna's and Bob's private chats", got)
			}
			contains(t, "second open", e.say(t, bob, pmBob, "/start "+code), "already receive orders")
			// The owner's own link opened by the owner: nothing new, no notice.
			contains(t, "owner opens it", e.say(t, anna, pmAnna, "/start "+code), "already receive orders")
		})
		t.Run("ReceivesEvents", func(t *testing.T) {
			wh, err := e.db.WebhookByName(ctx, anna.ID, "orders")
			if err != nil {
				t.Fatal(err)
			}
			ev := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{}`)}
			if _, err := e.db.InsertEvent(ctx, &ev, storage.WithTarget(bob.ID)); err != nil {
				t.Fatalf("an event for Bob alone: %v", err)
			}
			dls, err := e.db.DeliveriesOfEvent(ctx, ev.ID)
			if err != nil || len(dls) != 1 || dls[0].ChatID != bob.ID {
				t.Fatalf("deliveries %+v %v, want one to Bob", dls, err)
			}
		})
		t.Run("ReadOnly", func(t *testing.T) {
			for _, cmd := range []string{"/regenerate orders", "/revoke orders", "/history orders", "/secret orders s3cret", "/test orders", "/invite orders", "/invite orders off", "/subscribe orders"} {
				m := e.say(t, bob, pmBob, cmd)
				contains(t, cmd+" by Bob", m, "no webhook named orders")
			}
			contains(t, "/tokens by Bob", e.say(t, bob, pmBob, "/tokens"), "no webhooks yet")
			if got := subscribed(t, e.db, anna.ID, "orders"); !slices.Equal(got, []int64{anna.ID, bob.ID}) {
				t.Fatalf("orders goes to %v after Bob's attempts", got)
			}
			wh, _ := e.db.WebhookByName(ctx, anna.ID, "orders")
			if wh.Secret != "" {
				t.Fatal("Bob set a secret on Anna's webhook")
			}
		})
		t.Run("OwnerTokens", func(t *testing.T) {
			contains(t, "/tokens", e.say(t, anna, pmAnna, "/tokens"), "orders — 2 chats (1 by invitation), unsigned", "invite link on")
		})
		t.Run("Unsubscribe", func(t *testing.T) {
			m := e.say(t, bob, pmBob, "/unsubscribe orders")
			contains(t, "/unsubscribe by Bob", m, "no longer receives orders", "invite link from its owner")
			lacks(t, "/unsubscribe by Bob", m, "/subscribe orders")
			if got := subscribed(t, e.db, anna.ID, "orders"); !slices.Equal(got, []int64{anna.ID}) {
				t.Fatalf("orders goes to %v after Bob left, want Anna's only", got)
			}
			a := e.mark(pmAnna)
			contains(t, "rejoin", e.say(t, bob, pmBob, "/start "+code), "You now receive orders")
			e.next(t, pmAnna, a) // the owner's notice
		})
		t.Run("Off", func(t *testing.T) {
			contains(t, "off", e.say(t, anna, pmAnna, "/invite orders off"), "no longer works", "1 chat that joined with it no longer receives it")
			if got := subscribed(t, e.db, anna.ID, "orders"); !slices.Equal(got, []int64{anna.ID}) {
				t.Fatalf("orders goes to %v after off, want Anna's only", got)
			}
			m := e.say(t, bob, pmBob, "/start "+code)
			contains(t, "link after off", m, "This invite link does not work", "Hi Bob")
			contains(t, "off again", e.say(t, anna, pmAnna, "/invite orders off"), "has no invite link")
			contains(t, "/tokens after off", e.say(t, anna, pmAnna, "/tokens"), "orders — 1 chat, unsigned")
		})
		t.Run("Replaced", func(t *testing.T) {
			old := inviteCode(t, e.say(t, anna, pmAnna, "/invite orders"))
			code = inviteCode(t, e.say(t, anna, pmAnna, "/invite orders"))
			contains(t, "replaced link", e.say(t, carol, pmCarol, "/start "+old), "does not work")
			a := e.mark(pmAnna)
			contains(t, "new link", e.say(t, carol, pmCarol, "/start "+code), "You now receive orders")
			e.next(t, pmAnna, a) // the owner's notice
		})
		t.Run("Regenerate", func(t *testing.T) {
			contains(t, "/regenerate", e.say(t, anna, pmAnna, "/regenerate orders"), "New URL")
			contains(t, "link after /regenerate", e.say(t, bob, pmBob, "/start "+code), "does not work")
			if got := subscribed(t, e.db, anna.ID, "orders"); !slices.Contains(got, carol.ID) {
				t.Fatalf("orders goes to %v after /regenerate, want Carol to stay", got)
			}
		})
		t.Run("Forged", func(t *testing.T) {
			for _, c := range []string{"join-" + strings.Repeat("A", 43), "join-", "join-<b>x</b>"} {
				m := e.say(t, bob, pmBob, "/start "+c)
				contains(t, "forged "+c, m, "does not work", "Hi Bob")
				lacks(t, "forged "+c, m, "went wrong", "Anna", "receive")
			}
		})
		t.Run("Revoke", func(t *testing.T) {
			code = inviteCode(t, e.say(t, anna, pmAnna, "/invite orders"))
			contains(t, "/revoke", e.say(t, anna, pmAnna, "/revoke orders"), "deleted")
			for _, u := range []tgemu.User{carol} {
				if subs, err := e.db.ChatSubscriptions(ctx, u.ID); err != nil || len(subs) != 0 {
					t.Fatalf("%s's chat after /revoke: %+v %v, want no subscriptions", u.FirstName, subs, err)
				}
			}
			contains(t, "link after /revoke", e.say(t, bob, pmBob, "/start "+code), "does not work")
		})
		t.Run("Banned", func(t *testing.T) {
			e.say(t, anna, pmAnna, "/newtoken alerts")
			code := inviteCode(t, e.say(t, anna, pmAnna, "/invite alerts"))
			if err := e.db.SetBanned(ctx, bob.ID, true); err != nil {
				t.Fatal(err)
			}
			contains(t, "banned user", e.say(t, bob, pmBob, "/start "+code), "blocked from using this bot")
			if got := subscribed(t, e.db, anna.ID, "alerts"); slices.Contains(got, bob.ID) {
				t.Fatal("a banned user subscribed with an invite link")
			}
			// A banned owner's links die with their webhooks' URLs.
			if err := e.db.SetBanned(ctx, anna.ID, true); err != nil {
				t.Fatal(err)
			}
			contains(t, "banned owner", e.say(t, carol, pmCarol, "/start "+code), "does not work")
		})
	})
}

// Under ACCESS_MODE=invite a user never admitted may still follow an
// invite link (it creates no webhook), and still may not create one.
func TestBot_InviteAccessMode(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *bot.Config) {
		c.AccessMode = bot.AccessInvite
		c.AdminIDs = []int64{anna.ID}
	})
	pmAnna, pmBob := tgemu.PrivateChat(anna), tgemu.PrivateChat(bob)
	e.say(t, anna, pmAnna, "/newtoken orders")
	code := inviteCode(t, e.say(t, anna, pmAnna, "/invite orders"))
	contains(t, "not admitted, follows the link", e.say(t, bob, pmBob, "/start "+code), "You now receive orders")
	contains(t, "still no webhooks", e.say(t, bob, pmBob, "/newtoken mine"), "invite-only")
}

// A group's administrator invites to their webhook from the group: the
// link is posted there, to be shared; a plain member may not.
func TestBot_InviteGroup(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		pmAnna, pmBob := tgemu.PrivateChat(anna), tgemu.PrivateChat(bob)
		e.say(t, anna, pmAnna, "/start")
		e.tg.AddBotToChat(anna, ops)
		e.tg.SetChatAdmins(ops.ID, anna)
		e.tg.AddMember(ops.ID, bob)
		e.tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Administrators of this group") }, wait)
		p, g := e.mark(pmAnna), e.mark(ops)
		e.tg.UserSends(anna, ops, "/newtoken alerts")
		e.next(t, pmAnna, p)
		e.next(t, ops, g)

		contains(t, "member's /invite", e.say(t, bob, ops, "/invite alerts"), "Only administrators")
		m := e.say(t, anna, ops, "/invite alerts")
		lacks(t, "group /invite", m, "/hook/")
		code := inviteCode(t, m)
		contains(t, "member follows it", e.say(t, bob, pmBob, "/start "+code), "You now receive alerts, shared by Anna")
		if got := subscribed(t, e.db, anna.ID, "alerts"); !slices.Equal(got, []int64{ops.ID, bob.ID}) && !slices.Equal(got, []int64{bob.ID, ops.ID}) {
			t.Fatalf("alerts goes to %v, want the group and Bob's private chat", got)
		}
		// The group's /unsubscribe by an admin is unchanged; Bob's is his.
		contains(t, "Bob leaves", e.say(t, bob, pmBob, "/unsubscribe alerts"), "no longer receives alerts")
	})
}
