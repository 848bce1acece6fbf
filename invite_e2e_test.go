package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage/storagetest"
)

var inviteLinkRE = regexp.MustCompile(`\?start=(join-[A-Za-z0-9_-]{43})`)

// TestE2E_InviteAndTarget: Anna invites Bob to orders; an event reaches
// both, an event for Bob (?chat=) reaches Bob alone, through the relay to
// the Bot API fake; a chat that is not subscribed is refused with 404.
func TestE2E_InviteAndTarget(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		tg := telegramtest.Start(t)
		h := startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		})
		anna := tgemu.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}
		bob := tgemu.User{ID: 1002, FirstName: "Bob", LanguageCode: "en"}
		carol := tgemu.User{ID: 1003, FirstName: "Carol", LanguageCode: "en"}

		hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken orders").Text)
		if hookURL == "" {
			t.Fatal("/newtoken gave no URL")
		}
		link := inviteLinkRE.FindStringSubmatch(command(t, tg, anna, "/invite orders").Text)
		if link == nil {
			t.Fatal("/invite gave no link")
		}
		notice := lastID(tg.Messages(anna.ID))
		if reply := command(t, tg, bob, "/start "+link[1]); !strings.Contains(reply.Text, "You now receive orders") {
			t.Fatalf("Bob follows the link: %s", reply)
		}
		tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
			return m.ID > notice && strings.Contains(m.Text, "Bob now receives orders")
		}, 10*time.Second)
		command(t, tg, carol, "/start")

		// Everyone subscribed gets an untargeted event.
		code, m := post(t, hookURL, `{"event":"broadcast","order_id":111}`)
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d %v", code, m)
		}
		for _, u := range []tgemu.User{anna, bob} {
			tg.WaitMessage(t, u.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "111") }, 10*time.Second)
		}
		waitDelivered(t, hookURL, m["id"].(string))

		// An event for Bob reaches Bob only.
		code, m = post(t, hookURL+"?chat="+strconv.FormatInt(bob.ID, 10), `{"event":"assigned","order_id":222}`)
		if code != http.StatusAccepted {
			t.Fatalf("POST ?chat=Bob: %d %v", code, m)
		}
		tg.WaitMessage(t, bob.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "222") }, 10*time.Second)
		if st := waitDelivered(t, hookURL, m["id"].(string)); st["attempts"].(float64) != 1 {
			t.Errorf("status %v, want delivered in 1 attempt", st)
		}
		// Anna's chat is behind no queue: an event for her arrives, and
		// Bob's never did.
		code, m = post(t, hookURL+"?chat="+strconv.FormatInt(anna.ID, 10), `{"event":"assigned","order_id":333}`)
		if code != http.StatusAccepted {
			t.Fatalf("POST ?chat=Anna: %d %v", code, m)
		}
		tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "333") }, 10*time.Second)
		for _, msg := range tg.Messages(anna.ID) {
			if strings.Contains(msg.Text, "222") {
				t.Errorf("Anna got Bob's event: %s", msg)
			}
		}
		for _, msg := range tg.Messages(bob.ID) {
			if strings.Contains(msg.Text, "333") {
				t.Errorf("Bob got Anna's event: %s", msg)
			}
		}

		// Carol started the bot but subscribed to nothing.
		if code, m := post(t, hookURL+"?chat="+strconv.FormatInt(carol.ID, 10), `{"order_id":444}`); code != http.StatusNotFound {
			t.Errorf("POST ?chat=Carol: %d %v, want 404", code, m)
		}
		// Bob leaves; events for him are refused from then on.
		if reply := command(t, tg, bob, "/unsubscribe orders"); !strings.Contains(reply.Text, "no longer receives orders") {
			t.Fatalf("Bob's /unsubscribe: %s", reply)
		}
		if code, m := post(t, hookURL+"?chat="+strconv.FormatInt(bob.ID, 10), `{"order_id":555}`); code != http.StatusNotFound {
			t.Errorf("POST ?chat=Bob after /unsubscribe: %d %v, want 404", code, m)
		}
		if code := h.stop(); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
	})
}
