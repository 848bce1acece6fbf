package storage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// targets is the fixture's webhook delivered to several chats: 100 (the
// owner's), 200 and 300 (subscribed), 500 (subscribed, bot blocked), 600
// (subscribed, muted); 400 is a chat the bot knows that is not subscribed.
func targets(t *testing.T, databaseURL string) fixture {
	t.Helper()
	ctx := context.Background()
	f := setup(t, databaseURL)
	for _, id := range []int64{200, 300, 400, 500, 600} {
		mustDo(t, f.db.UpsertUser(ctx, user(id)))
		_, err := f.db.EnsureChat(ctx, chat(id, "private"))
		mustDo(t, err)
		if id != 400 {
			_, err = f.db.Subscribe(ctx, f.wh.ID, id, 100)
			mustDo(t, err)
		}
	}
	mustDo(t, f.db.SetChatActive(ctx, 500, false))
	mustDo(t, f.db.Mute(ctx, f.wh.ID, 600, nil))
	return f
}

// deliveredTo lists the chats an event has deliveries for, with their status.
func deliveredTo(t *testing.T, db *storage.DB, eventID string) map[int64]string {
	t.Helper()
	dls, err := db.DeliveriesOfEvent(context.Background(), eventID)
	mustDo(t, err)
	out := map[int64]string{}
	for _, d := range dls {
		out[d.ChatID] = d.Status
	}
	return out
}

func eventCount(t *testing.T, db *storage.DB, webhookID int64) int {
	t.Helper()
	es, err := db.EventsByWebhook(context.Background(), webhookID, 1000)
	mustDo(t, err)
	return len(es)
}

func TestDB_InsertEventTarget(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := targets(t, databaseURL)

		t.Run("OK", func(t *testing.T) {
			e := event(f.wh.ID, `{"to":200}`)
			n, err := f.db.InsertEvent(ctx, e, storage.WithTarget(200))
			mustDo(t, err)
			if n != 1 || e.Status != storage.StatusQueued {
				t.Fatalf("got %d deliveries, status %s; want 1, queued", n, e.Status)
			}
			if got, want := deliveredTo(t, f.db, e.ID), map[int64]string{200: "queued"}; !mapsEqual(got, want) {
				t.Fatalf("deliveries %v, want %v", got, want)
			}
			// Delivered means every targeted chat has it: the one.
			dls, err := f.db.ClaimDeliveries(ctx, "w", time.Minute, 10)
			mustDo(t, err)
			i := slices.IndexFunc(dls, func(d storage.Delivery) bool { return d.EventID == e.ID })
			if i < 0 {
				t.Fatalf("claimed %v, want the targeted delivery among them", dls)
			}
			mustDo(t, f.db.CompleteDelivery(ctx, dls[i], 7))
			got, err := f.db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			if got.Status != storage.StatusDelivered {
				t.Fatalf("event status %s after its one delivery, want delivered", got.Status)
			}
		})
		t.Run("Untargeted", func(t *testing.T) {
			e, n := insert(t, f.db, f.wh.ID)
			// 100, 200, 300 queued, 600 held by its mute; 500 unreachable.
			want := map[int64]string{100: "queued", 200: "queued", 300: "queued", 600: "muted"}
			if got := deliveredTo(t, f.db, e.ID); n != 4 || !mapsEqual(got, want) {
				t.Fatalf("%d deliveries %v, want %v", n, got, want)
			}
		})
		for _, c := range []struct {
			name   string
			target int64
			want   error
		}{
			{"NotSubscribed", 400, storage.ErrNotSubscribed},
			{"UnknownChat", 999, storage.ErrNotSubscribed},
			{"Inactive", 500, storage.ErrChatInactive},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := eventCount(t, f.db, f.wh.ID)
				n, err := f.db.InsertEvent(ctx, event(f.wh.ID, `{}`), storage.WithTarget(c.target), storage.WithDedupKey("k:"+c.name))
				if !errors.Is(err, c.want) || n != 0 {
					t.Fatalf("got %d, %v; want %v", n, err, c.want)
				}
				if got := eventCount(t, f.db, f.wh.ID); got != before {
					t.Fatalf("%d events after a refused one, want %d: nothing stored", got, before)
				}
				// The key was not taken: the same id to a subscribed chat is stored.
				_, err = f.db.InsertEvent(ctx, event(f.wh.ID, `{}`), storage.WithTarget(300), storage.WithDedupKey("k:"+c.name))
				mustDo(t, err)
			})
		}
		t.Run("Muted", func(t *testing.T) {
			e := event(f.wh.ID, `{}`)
			n, err := f.db.InsertEvent(ctx, e, storage.WithTarget(600))
			mustDo(t, err)
			if got, want := deliveredTo(t, f.db, e.ID), map[int64]string{600: "muted"}; n != 1 || !mapsEqual(got, want) || e.Status != storage.StatusQueued {
				t.Fatalf("%d deliveries %v, event %s; want %v, queued (held, not lost)", n, got, e.Status, want)
			}
		})
		t.Run("Redelivery", func(t *testing.T) {
			first := event(f.wh.ID, `{}`)
			_, err := f.db.InsertEvent(ctx, first, storage.WithTarget(300), storage.WithDedupKey("github:t1"))
			mustDo(t, err)
			again := event(f.wh.ID, `{}`)
			n, err := f.db.InsertEvent(ctx, again, storage.WithTarget(300), storage.WithDedupKey("github:t1"))
			if !errors.Is(err, storage.ErrDuplicate) || n != 0 || again.ID != first.ID {
				t.Fatalf("got %d, %v, id %s; want ErrDuplicate with %s", n, err, again.ID, first.ID)
			}
			if got := deliveredTo(t, f.db, first.ID); len(got) != 1 {
				t.Fatalf("deliveries %v, want one", got)
			}
		})
		t.Run("Unsubscribed", func(t *testing.T) {
			_, err := f.db.Unsubscribe(ctx, f.wh.ID, 300)
			mustDo(t, err)
			if _, err := f.db.InsertEvent(ctx, event(f.wh.ID, `{}`), storage.WithTarget(300)); !errors.Is(err, storage.ErrNotSubscribed) {
				t.Fatalf("after /unsubscribe: %v, want ErrNotSubscribed", err)
			}
		})
	})
}

// A batch mixing targeted and untargeted events, as concurrent requests
// share one group commit: each event gets its own outcome and deliveries.
func TestDB_InsertEventTargetBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		f := targets(t, databaseURL)
		before := eventCount(t, f.db, f.wh.ID)
		type tc struct {
			target int64
			key    string
			err    error
			chats  []int64 // deliveries queued (muted included)
		}
		cases := []tc{
			{target: 0, chats: []int64{100, 200, 300, 600}},
			{target: 200, chats: []int64{200}},
			{target: 400, err: storage.ErrNotSubscribed},
			{target: 300, key: "k:1", chats: []int64{300}},
			{target: 500, err: storage.ErrChatInactive},
			{target: 300, key: "k:1", err: storage.ErrDuplicate}, // a copy in the same batch
			{target: 0, key: "k:2", chats: []int64{100, 200, 300, 600}},
			{target: 400, key: "k:3", err: storage.ErrNotSubscribed},
			{target: 600, chats: []int64{600}},
			{target: 100, chats: []int64{100}},
		}
		events := make([]*storage.Event, len(cases))
		opts := make([][]storage.InsertOption, len(cases))
		for i, c := range cases {
			events[i] = event(f.wh.ID, `{"i":1}`)
			opts[i] = []storage.InsertOption{storage.WithTarget(c.target), storage.WithDedupKey(c.key)}
		}
		errs, ns := storage.InsertBatchWith(f.db, events, opts)
		stored := 0
		for i, c := range cases {
			if !errors.Is(errs[i], c.err) || (c.err == nil) != (errs[i] == nil) {
				t.Errorf("event %d (target %d): %v, want %v", i, c.target, errs[i], c.err)
				continue
			}
			if c.err != nil {
				continue
			}
			stored++
			got := deliveredTo(t, f.db, events[i].ID)
			var chats []int64
			for id := range got {
				chats = append(chats, id)
			}
			slices.Sort(chats)
			if !slices.Equal(chats, c.chats) || ns[i] != len(c.chats) {
				t.Errorf("event %d (target %d): %d deliveries to %v, want %v", i, c.target, ns[i], chats, c.chats)
			}
		}
		if events[5].ID != events[3].ID {
			t.Errorf("the copy was answered with %s, want the original %s", events[5].ID, events[3].ID)
		}
		if got := eventCount(t, f.db, f.wh.ID) - before; got != stored {
			t.Errorf("%d events stored, want %d", got, stored)
		}
	})
}

func mapsEqual(a, b map[int64]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDB_Invites(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL) // user 100 owns orders, delivered to chat 100
		for _, id := range []int64{200, 300} {
			mustDo(t, f.db.UpsertUser(ctx, user(id)))
			_, err := f.db.EnsureChat(ctx, chat(id, "private"))
			mustDo(t, err)
		}
		code := hash("code-1")

		t.Run("Join", func(t *testing.T) {
			mustDo(t, f.db.CreateInvite(ctx, f.wh.ID, code, 100))
			inv, created, err := f.db.JoinInvite(ctx, code, 200, 200)
			mustDo(t, err)
			if !created || inv.WebhookID != f.wh.ID || inv.WebhookName != "orders" || inv.OwnerID != 100 || inv.OwnerName != "U" {
				t.Fatalf("join: %+v created=%v", inv, created)
			}
			if _, created, err := f.db.JoinInvite(ctx, code, 200, 200); err != nil || created {
				t.Fatalf("second join: created=%v %v, want already subscribed", created, err)
			}
			// The owner following their own link subscribes as the owner.
			if _, created, err := f.db.JoinInvite(ctx, code, 100, 100); err != nil || created {
				t.Fatalf("owner's join: created=%v %v, want already subscribed", created, err)
			}
			chats, err := f.db.SubscribedChats(ctx, f.wh.ID)
			mustDo(t, err)
			if !slices.Equal(chats, []int64{100, 200}) {
				t.Fatalf("subscribed %v, want [100 200]", chats)
			}
			states, err := f.db.InviteStates(ctx, 100)
			mustDo(t, err)
			if got, want := states[f.wh.ID], (storage.InviteState{Link: true, Invited: 1}); got != want {
				t.Fatalf("invite state %+v, want %+v", got, want)
			}
		})
		t.Run("Unknown", func(t *testing.T) {
			if _, _, err := f.db.JoinInvite(ctx, hash("forged"), 300, 300); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("forged code: %v, want ErrNotFound", err)
			}
		})
		t.Run("Replaced", func(t *testing.T) {
			mustDo(t, f.db.CreateInvite(ctx, f.wh.ID, hash("code-2"), 100))
			if _, _, err := f.db.JoinInvite(ctx, code, 300, 300); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("replaced code: %v, want ErrNotFound", err)
			}
			if _, _, err := f.db.JoinInvite(ctx, hash("code-2"), 300, 300); err != nil {
				t.Fatalf("new code: %v", err)
			}
			_, err := f.db.Unsubscribe(ctx, f.wh.ID, 300)
			mustDo(t, err)
		})
		t.Run("Regenerated", func(t *testing.T) {
			mustDo(t, f.db.RegenerateToken(ctx, f.wh.ID, hash("tok-new")))
			if _, _, err := f.db.JoinInvite(ctx, hash("code-2"), 300, 300); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after /regenerate: %v, want ErrNotFound", err)
			}
			states, err := f.db.InviteStates(ctx, 100)
			mustDo(t, err)
			if got, want := states[f.wh.ID], (storage.InviteState{Invited: 1}); got != want {
				t.Fatalf("invite state %+v, want %+v (no live link, the invited stay)", got, want)
			}
		})
		t.Run("OwnerBanned", func(t *testing.T) {
			mustDo(t, f.db.CreateInvite(ctx, f.wh.ID, hash("code-3"), 100))
			mustDo(t, f.db.SetBanned(ctx, 100, true))
			_, _, err := f.db.JoinInvite(ctx, hash("code-3"), 300, 300)
			mustDo(t, f.db.SetBanned(ctx, 100, false))
			if !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("owner banned: %v, want ErrNotFound", err)
			}
		})
		t.Run("Off", func(t *testing.T) {
			// A mute of an invited chat holds an event; off delivers it still.
			mustDo(t, f.db.Mute(ctx, f.wh.ID, 200, nil))
			e, _ := insert(t, f.db, f.wh.ID)
			had, removed, err := f.db.EndInvite(ctx, f.wh.ID)
			mustDo(t, err)
			if !had || removed != 1 {
				t.Fatalf("off: had=%v removed=%d, want true, 1", had, removed)
			}
			if got := deliveredTo(t, f.db, e.ID); got[200] != storage.StatusQueued {
				t.Fatalf("held delivery after off: %v, want queued", got)
			}
			chats, err := f.db.SubscribedChats(ctx, f.wh.ID)
			mustDo(t, err)
			if !slices.Equal(chats, []int64{100}) {
				t.Fatalf("subscribed %v after off, want the owner's chat only", chats)
			}
			if _, _, err := f.db.JoinInvite(ctx, hash("code-3"), 300, 300); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after off: %v, want ErrNotFound", err)
			}
			if had, removed, err := f.db.EndInvite(ctx, f.wh.ID); err != nil || had || removed != 0 {
				t.Fatalf("off twice: %v %d %v", had, removed, err)
			}
			states, err := f.db.InviteStates(ctx, 100)
			mustDo(t, err)
			if _, ok := states[f.wh.ID]; ok {
				t.Fatalf("invite state %+v after off, want none", states[f.wh.ID])
			}
		})
		t.Run("Revoked", func(t *testing.T) {
			mustDo(t, f.db.CreateInvite(ctx, f.wh.ID, hash("code-4"), 100))
			_, _, err := f.db.JoinInvite(ctx, hash("code-4"), 300, 300)
			mustDo(t, err)
			mustDo(t, f.db.DeleteWebhook(ctx, f.wh.ID))
			if _, _, err := f.db.JoinInvite(ctx, hash("code-4"), 200, 200); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after /revoke: %v, want ErrNotFound", err)
			}
			subs, err := f.db.ChatSubscriptions(ctx, 300)
			mustDo(t, err)
			if len(subs) != 0 {
				t.Fatalf("invited chat still subscribed after /revoke: %+v", subs)
			}
			if err := f.db.CreateInvite(ctx, f.wh.ID, hash("code-5"), 100); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("invite for a revoked webhook: %v, want ErrNotFound", err)
			}
		})
	})
}
