package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// The tables and columns the bot's commands configure (migration 00003).

func TestDB_Mute(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		status := func(e storage.Event) string {
			t.Helper()
			ds, err := f.db.DeliveriesOfEvent(ctx, e.ID)
			mustDo(t, err)
			if len(ds) != 1 {
				t.Fatalf("deliveries %v", ds)
			}
			return ds[0].Status
		}

		t.Run("ErrNotFound", func(t *testing.T) {
			if err := f.db.Mute(ctx, f.wh.ID, 999, nil); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("mute without a subscription: %v", err)
			}
			if _, err := f.db.Unmute(ctx, f.wh.ID, 999); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("unmute without a subscription: %v", err)
			}
		})
		t.Run("HeldUntilUnmute", func(t *testing.T) {
			mustDo(t, f.db.Mute(ctx, f.wh.ID, 100, nil))
			e1, n := insert(t, f.db, f.wh.ID)
			if n != 1 || status(e1) != storage.StatusMuted {
				t.Fatalf("insert while muted: %d deliveries, status %s", n, status(e1))
			}
			if ev, _ := f.db.EventByID(ctx, f.wh.ID, e1.ID); ev.Status != storage.StatusQueued {
				t.Fatalf("a held event reads %s, want queued (it is owed)", ev.Status)
			}
			if ds, _ := f.db.ClaimDeliveries(ctx, "w", time.Minute, 10); len(ds) != 0 {
				t.Fatalf("claimed a held delivery: %v", ds)
			}
			clk.Advance(24 * time.Hour) // an indefinite mute does not end by itself
			if n, _ := f.db.ReleaseMutes(ctx); n != 0 {
				t.Fatalf("ReleaseMutes released %d of an indefinite mute", n)
			}
			n, err := f.db.Unmute(ctx, f.wh.ID, 100)
			mustDo(t, err)
			if n != 1 || status(e1) != storage.StatusQueued {
				t.Fatalf("unmute released %d, status %s", n, status(e1))
			}
			ds, _ := f.db.ClaimDeliveries(ctx, "w", time.Minute, 10)
			if len(ds) != 1 || !ds[0].CreatedAt.Equal(clk.Now().Truncate(time.Microsecond)) {
				t.Fatalf("claimed %v; want the released delivery, its age counted from the unmute", ds)
			}
			mustDo(t, f.db.CompleteDelivery(ctx, ds[0], 1))
		})
		t.Run("TimedMuteEnds", func(t *testing.T) {
			until := clk.Now().Add(time.Hour)
			mustDo(t, f.db.Mute(ctx, f.wh.ID, 100, &until))
			e, _ := insert(t, f.db, f.wh.ID)
			if n, _ := f.db.ReleaseMutes(ctx); n != 0 || status(e) != storage.StatusMuted {
				t.Fatalf("before the end: released %d, status %s", n, status(e))
			}
			clk.Advance(time.Hour)
			// Past its end the mute holds nothing new, even before a sweep.
			e2, _ := insert(t, f.db, f.wh.ID)
			if status(e2) != storage.StatusQueued {
				t.Fatalf("event after the mute's end: %s", status(e2))
			}
			if n, _ := f.db.ReleaseMutes(ctx); n != 1 || status(e) != storage.StatusQueued {
				t.Fatalf("after the end: released %d, status %s", n, status(e))
			}
			subs, err := f.db.ChatSubscriptions(ctx, 100)
			mustDo(t, err)
			if len(subs) != 1 || subs[0].Muted || subs[0].MutedUntil != nil {
				t.Fatalf("subscription after the end: %+v", subs)
			}
		})
		t.Run("UnsubscribeReleases", func(t *testing.T) {
			mustDo(t, f.db.Mute(ctx, f.wh.ID, 100, nil))
			e, _ := insert(t, f.db, f.wh.ID)
			subs, _ := f.db.ChatSubscriptions(ctx, 100)
			if len(subs) != 1 || !subs[0].Muted || subs[0].Held != 1 || subs[0].Name != "orders" {
				t.Fatalf("subscriptions: %+v", subs)
			}
			removed, err := f.db.Unsubscribe(ctx, f.wh.ID, 100)
			mustDo(t, err)
			if !removed || status(e) != storage.StatusQueued {
				t.Fatalf("unsubscribe: removed %v, held delivery %s", removed, status(e))
			}
		})
	})
}

func TestDB_Grant(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		db := storagetest.Open(t, databaseURL, storage.WithClock(clk.Now))
		mustDo(t, db.UpsertUser(ctx, user(1)))
		mustDo(t, db.UpsertUser(ctx, user(2)))
		mustDo(t, db.CreateGrant(ctx, hash("code"), 99, clk.Now().Add(time.Hour)))
		mustDo(t, db.CreateGrant(ctx, hash("old"), 99, clk.Now().Add(time.Minute)))

		if err := db.RedeemGrant(ctx, hash("nope"), 1); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
		mustDo(t, db.RedeemGrant(ctx, hash("code"), 1))
		if u, _ := db.UserByID(ctx, 1); !u.Granted {
			t.Fatal("user 1 not granted")
		}
		if err := db.RedeemGrant(ctx, hash("code"), 2); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second use: %v", err)
		}
		clk.Advance(2 * time.Minute)
		if err := db.RedeemGrant(ctx, hash("old"), 2); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("expired code: %v", err)
		}
		if u, _ := db.UserByID(ctx, 2); u.Granted {
			t.Fatal("user 2 granted by a used or expired code")
		}
	})
}

func TestDB_ChatLanguage(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		db := storagetest.Open(t, databaseURL)
		ensure := func(id int64, typ, lang string) storage.Chat {
			t.Helper()
			c, err := db.EnsureChat(ctx, storage.Chat{ID: id, Type: typ, Language: lang})
			mustDo(t, err)
			return c
		}
		ensure(1, "private", "en")
		if c := ensure(1, "private", "ru"); c.Language != "ru" {
			t.Errorf("a private chat follows its user's language: %q", c.Language)
		}
		ensure(-5, "group", "ru")
		if c := ensure(-5, "group", "en"); c.Language != "ru" {
			t.Errorf("a group keeps its first language: %q", c.Language)
		}
		mustDo(t, db.SetChatLanguage(ctx, 1, "en"))
		if c := ensure(1, "private", "ru"); c.Language != "en" || !c.LanguageSet {
			t.Errorf("a /language choice is overridden: %+v", c)
		}
		if err := db.SetChatLanguage(ctx, 77, "en"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("unknown chat: %v", err)
		}
	})
}

func TestDB_WebhookQuota(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		if _, err := f.db.CreateWebhookLimited(ctx, 100, "second", hash("2"), 100, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := f.db.CreateWebhookLimited(ctx, 100, "third", hash("3"), 100, 2); !errors.Is(err, storage.ErrQuota) {
			t.Fatalf("over the quota: %v", err)
		}
		if _, err := f.db.CreateWebhookLimited(ctx, 100, "third", hash("3"), 100, 0); err != nil {
			t.Fatalf("no limit: %v", err)
		}
		existed, err := f.db.EnsureUser(ctx, 100)
		mustDo(t, err)
		if !existed {
			t.Error("EnsureUser: user 100 exists")
		}
		if existed, _ := f.db.EnsureUser(ctx, 555); existed {
			t.Error("EnsureUser: user 555 is new")
		}
	})
}

func TestDB_Stats(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		old, _ := insert(t, f.db, f.wh.ID)
		clk.Advance(25 * time.Hour)
		e, _ := insert(t, f.db, f.wh.ID)
		mustDo(t, f.db.SaveSummary(ctx, storage.Summary{EventID: e.ID, Language: "en", Notification: "{}", PromptTokens: 7, CompletionTokens: 3}))
		ds, err := f.db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		mustDo(t, f.db.FailDelivery(ctx, ds[0], "chat unreachable")) // the old event's
		s, err := f.db.Stats(ctx, clk.Now().Add(-24*time.Hour))
		mustDo(t, err)
		want := storage.Stats{Users: 1, Webhooks: 1, Chats: 1, Events: 1, PromptTokens: 7, CompletionTokens: 3, Pending: 1}
		if s != want {
			t.Errorf("stats %+v, want %+v", s, want)
		}
		failed, err := f.db.FailedEvents(ctx, 10)
		mustDo(t, err)
		if len(failed) != 1 || failed[0].ID != old.ID || failed[0].Webhook != "orders" || failed[0].Error != "chat unreachable" {
			t.Errorf("failed events %+v", failed)
		}
		stuck, err := f.db.StuckDeliveries(ctx, clk.Now().Add(-5*time.Minute), 10)
		mustDo(t, err)
		if len(stuck) != 0 {
			t.Errorf("a fresh delivery is stuck: %+v", stuck)
		}
		clk.Advance(10 * time.Minute)
		stuck, _ = f.db.StuckDeliveries(ctx, clk.Now().Add(-5*time.Minute), 10)
		if len(stuck) != 1 || stuck[0].EventID != e.ID {
			t.Errorf("stuck %+v, want the waiting delivery", stuck)
		}
	})
}
