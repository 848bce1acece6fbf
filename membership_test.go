package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestE2E_Membership: Herald follows the bot's membership as Telegram
// reports it, without waiting for a send to fail. Removed from a group, the
// events waiting for it (here held by /mute) fail at once and the webhook's
// owner is told; added back, deliveries resume. A group that becomes a
// supergroup takes its subscriptions along as soon as Telegram's service
// message arrives.
func TestE2E_Membership(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		tg := telegramtest.Start(t)
		startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		})
		db, err := storage.Open(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })

		anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
		ops := tgemu.Group(-700, "Ops")
		hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken alerts").Text)
		if hookURL == "" {
			t.Fatal("/newtoken gave no URL")
		}
		tg.AddBotToChat(anna, ops)
		tg.SetChatAdmins(ops.ID, anna)
		inGroup := func(text, want string) {
			t.Helper()
			prev := lastID(tg.Messages(ops.ID))
			tg.UserSends(anna, ops, text)
			tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool {
				return m.From.IsBot && m.ID > prev && strings.Contains(m.Text, want)
			}, 10*time.Second)
		}
		inGroup("/subscribe alerts", "alerts")
		inGroup("/mute alerts", "alerts")

		t.Run("RemovedFromGroup", func(t *testing.T) {
			code, m := post(t, hookURL, `{"event":"while_muted"}`)
			if code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", code, m)
			}
			id := m["id"].(string)
			if _, st := getJSON(t, hookURL+"/events/"+id); st["status"] != "queued" {
				t.Fatalf("muted event: %v, want queued", st)
			}
			prev := lastID(tg.Messages(anna.ID))
			tg.RemoveBotFromChat(anna, ops)
			// The owner hears of it without any event having to fail first.
			notice := tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
				return m.ID > prev && strings.Contains(m.Text, "stopped receiving")
			}, 10*time.Second)
			for _, want := range []string{"Ops", "alerts"} {
				if !strings.Contains(notice.Text, want) {
					t.Errorf("notice %q lacks %q", notice.Text, want)
				}
			}
			// What waited for the group is settled, not left queued forever.
			deadline := time.Now().Add(10 * time.Second)
			for {
				_, st := getJSON(t, hookURL+"/events/"+id)
				if st["status"] == "failed" {
					if e, _ := st["error"].(string); !strings.Contains(e, "removed") {
						t.Errorf("error %q does not say the bot was removed", e)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("event after the kick: %v, want failed", st)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})

		t.Run("AddedBack", func(t *testing.T) {
			tg.AddBotToChat(anna, ops)
			deadline := time.Now().Add(10 * time.Second)
			for {
				if c, err := db.ChatByID(ctx, ops.ID); err == nil && c.Active {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the group is not active again")
				}
				time.Sleep(20 * time.Millisecond)
			}
			inGroup("/unmute alerts", "alerts")
			code, m := post(t, hookURL, `{"event":"back_again"}`)
			if code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", code, m)
			}
			tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "back_again") }, 10*time.Second)
		})

		t.Run("BecameSupergroup", func(t *testing.T) {
			const super = -1000000000700
			wh, err := db.WebhookByName(ctx, anna.ID, "alerts")
			if err != nil {
				t.Fatal(err)
			}
			tg.MigrateToSupergroup(ops.ID, super)
			// No event is sent: the service message alone moves the subscription.
			deadline := time.Now().Add(10 * time.Second)
			for {
				chats, err := db.SubscribedChats(ctx, wh.ID)
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(chats, super) && !slices.Contains(chats, ops.ID) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("alerts goes to %v, want the supergroup %d instead of %d", chats, int64(super), ops.ID)
				}
				time.Sleep(20 * time.Millisecond)
			}
			code, m := post(t, hookURL, `{"event":"in_supergroup"}`)
			if code != http.StatusAccepted {
				t.Fatalf("POST: %d %v", code, m)
			}
			tg.WaitMessage(t, super, func(m tgemu.Message) bool { return strings.Contains(m.Text, "in_supergroup") }, 10*time.Second)
			waitDelivered(t, hookURL, m["id"].(string))
		})
	})
}
