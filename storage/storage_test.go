package storage_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// clock is a settable time source for lease tests.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }
func hash(s string) []byte               { h := sha256.Sum256([]byte(s)); return h[:] }
func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
func user(id int64) storage.User {
	return storage.User{ID: id, FirstName: "U", LanguageCode: "en", Started: true}
}
func chat(id int64, typ string) storage.Chat { return storage.Chat{ID: id, Type: typ, Language: "en"} }

// fixture is a user with a private chat and a webhook delivered there.
type fixture struct {
	db *storage.DB
	wh storage.Webhook
}

func setup(t *testing.T, databaseURL string, opts ...storage.Option) fixture {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, databaseURL, opts...)
	mustDo(t, db.UpsertUser(ctx, user(100)))
	_, err := db.EnsureChat(ctx, chat(100, "private"))
	mustDo(t, err)
	wh, err := db.CreateWebhook(ctx, 100, "orders", hash("tok"), 100)
	mustDo(t, err)
	return fixture{db: db, wh: wh}
}

func insert(t *testing.T, db *storage.DB, webhookID int64) (storage.Event, int) {
	t.Helper()
	e := storage.Event{WebhookID: webhookID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"a":1}`)}
	n, err := db.InsertEvent(context.Background(), &e)
	mustDo(t, err)
	return e, n
}

func TestDB_Migrate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		db, err := storage.Open(ctx, databaseURL)
		mustDo(t, err)
		defer db.Close()
		if err := db.Ready(ctx); err == nil {
			t.Fatal("Ready before migrating: got nil, want an error")
		}
		// Several processes starting together: every Migrate succeeds and
		// the schema is applied once.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				other, err := storage.Open(ctx, databaseURL)
				if err != nil {
					errs[i] = err
					return
				}
				defer other.Close()
				errs[i] = other.Migrate(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			mustDo(t, err)
		}
		mustDo(t, db.Migrate(ctx))
		mustDo(t, db.Ready(ctx))
	})
}

func TestDB_Webhooks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db

		t.Run("ErrDuplicate", func(t *testing.T) {
			_, err := db.CreateWebhook(ctx, 100, "orders", hash("other"), 100)
			if !errors.Is(err, storage.ErrDuplicate) {
				t.Fatalf("got %v, want ErrDuplicate", err)
			}
		})
		t.Run("ByTokenHash", func(t *testing.T) {
			got, err := db.WebhookByTokenHash(ctx, hash("tok"))
			mustDo(t, err)
			if got.ID != f.wh.ID || got.Name != "orders" {
				t.Fatalf("got %+v, want webhook %d", got, f.wh.ID)
			}
			if _, err := db.WebhookByTokenHash(ctx, hash("nope")); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("unknown token: got %v, want ErrNotFound", err)
			}
		})
		t.Run("Regenerate", func(t *testing.T) {
			mustDo(t, db.RegenerateToken(ctx, f.wh.ID, hash("tok2")))
			if _, err := db.WebhookByTokenHash(ctx, hash("tok")); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("old token: got %v, want ErrNotFound", err)
			}
			if _, err := db.WebhookByTokenHash(ctx, hash("tok2")); err != nil {
				t.Fatalf("new token: %v", err)
			}
		})
		t.Run("ListAndSubscribe", func(t *testing.T) {
			_, err := db.EnsureChat(ctx, chat(-500, "group"))
			mustDo(t, err)
			created, err := db.Subscribe(ctx, f.wh.ID, -500, 100)
			mustDo(t, err)
			again, err := db.Subscribe(ctx, f.wh.ID, -500, 100)
			mustDo(t, err)
			if !created || again {
				t.Fatalf("Subscribe created=%v then %v, want true then false", created, again)
			}
			insert(t, db, f.wh.ID)
			list, err := db.WebhooksByOwner(ctx, 100)
			mustDo(t, err)
			if len(list) != 1 || list[0].Chats != 2 || list[0].LastEventAt == nil {
				t.Fatalf("got %+v, want one webhook with 2 chats and a last event", list)
			}
			removed, err := db.Unsubscribe(ctx, f.wh.ID, -500)
			mustDo(t, err)
			if !removed {
				t.Fatal("Unsubscribe: got false, want true")
			}
			ids, err := db.SubscribedChats(ctx, f.wh.ID)
			mustDo(t, err)
			if len(ids) != 1 || ids[0] != 100 {
				t.Fatalf("subscribed chats %v, want [100]", ids)
			}
		})
		t.Run("Secret", func(t *testing.T) {
			if err := db.SetWebhookSecret(ctx, f.wh.ID, "s3 cret"); err != nil {
				t.Fatal(err)
			}
			got, err := db.WebhookByTokenHash(ctx, hash("tok2"))
			mustDo(t, err)
			if got.Secret != "s3 cret" {
				t.Fatalf("secret %q, want %q", got.Secret, "s3 cret")
			}
			mustDo(t, db.SetWebhookSecret(ctx, f.wh.ID, ""))
			if got, _ := db.WebhookByName(ctx, 100, "orders"); got.Secret != "" {
				t.Fatalf("secret %q after clearing", got.Secret)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			e, _ := insert(t, db, f.wh.ID)
			mustDo(t, db.DeleteWebhook(ctx, f.wh.ID))
			if _, err := db.WebhookByTokenHash(ctx, hash("tok2")); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("deleted webhook: got %v, want ErrNotFound", err)
			}
			if _, err := db.EventByID(ctx, f.wh.ID, e.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("deleted webhook's event: got %v, want ErrNotFound", err)
			}
			if ds, err := db.DeliveriesOfEvent(ctx, e.ID); err != nil || len(ds) != 0 {
				t.Fatalf("deleted webhook's deliveries: %+v, %v; want none", ds, err)
			}
			if err := db.DeleteWebhook(ctx, f.wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("second delete: got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestDB_InsertEvent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db

		t.Run("OK", func(t *testing.T) {
			e, n := insert(t, db, f.wh.ID)
			if n != 1 || e.ID == "" || e.Status != storage.StatusQueued {
				t.Fatalf("got n=%d event %+v", n, e)
			}
			got, err := db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			if got.Status != storage.StatusQueued || string(got.Body) != `{"a":1}` || !got.ReceivedAt.Equal(e.ReceivedAt) {
				t.Fatalf("stored %+v", got)
			}
		})
		t.Run("OtherWebhook", func(t *testing.T) {
			e, _ := insert(t, db, f.wh.ID)
			if _, err := db.EventByID(ctx, f.wh.ID+1, e.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
		t.Run("InactiveChatSkipped", func(t *testing.T) {
			mustDo(t, db.SetChatActive(ctx, 100, false))
			defer db.SetChatActive(ctx, 100, true)
			e, n := insert(t, db, f.wh.ID)
			if n != 0 || e.Status != storage.StatusDelivered {
				t.Fatalf("got n=%d status %s, want 0 deliveries and delivered", n, e.Status)
			}
		})
		t.Run("WebhookGone", func(t *testing.T) {
			e := storage.Event{WebhookID: f.wh.ID + 1000, ContentType: "text/plain", Headers: "{}", Body: []byte("x")}
			if _, err := db.InsertEvent(ctx, &e); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("event for a deleted webhook: got %v, want ErrNotFound", err)
			}
		})
		t.Run("List", func(t *testing.T) {
			list, err := db.EventsByWebhook(ctx, f.wh.ID, 2)
			mustDo(t, err)
			if len(list) != 2 || list[0].ReceivedAt.Before(list[1].ReceivedAt) {
				t.Fatalf("got %d events, want the 2 newest first", len(list))
			}
		})
	})
}

func TestDB_Queue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		_, err := db.EnsureChat(ctx, chat(-7, "group"))
		mustDo(t, err)
		_, err = db.Subscribe(ctx, f.wh.ID, -7, 100)
		mustDo(t, err)

		claim := func(owner string, limit int) []storage.Delivery {
			t.Helper()
			ds, err := db.ClaimDeliveries(ctx, owner, time.Minute, limit)
			mustDo(t, err)
			return ds
		}

		t.Run("OneChatAtATime", func(t *testing.T) {
			e1, _ := insert(t, db, f.wh.ID)
			clk.Advance(time.Millisecond)
			e2, _ := insert(t, db, f.wh.ID)
			ds := claim("w1", 10)
			// Two chats, each its oldest delivery only: the next waits for
			// the chat's lease.
			if len(ds) != 2 || ds[0].EventID != e1.ID || ds[1].EventID != e1.ID {
				t.Fatalf("claimed %+v, want event 1 for both chats", ds)
			}
			if more := claim("w2", 10); len(more) != 0 {
				t.Fatalf("second claimer got %+v while the chats are leased", more)
			}
			ev, err := db.EventByID(ctx, f.wh.ID, e1.ID)
			mustDo(t, err)
			if ev.Status != storage.StatusProcessing || ev.Attempts != 1 {
				t.Fatalf("event 1 status %s attempts %d, want processing 1", ev.Status, ev.Attempts)
			}
			mustDo(t, db.CompleteDelivery(ctx, ds[0], 11))
			ev, _ = db.EventByID(ctx, f.wh.ID, e1.ID)
			if ev.Status != storage.StatusProcessing {
				t.Fatalf("event with one of two delivered: %s, want processing", ev.Status)
			}
			mustDo(t, db.CompleteDelivery(ctx, ds[1], 12))
			ev, _ = db.EventByID(ctx, f.wh.ID, e1.ID)
			if ev.Status != storage.StatusDelivered || ev.DeliveredAt == nil {
				t.Fatalf("event 1: %s delivered_at %v, want delivered", ev.Status, ev.DeliveredAt)
			}
			ds = claim("w1", 10)
			if len(ds) != 2 || ds[0].EventID != e2.ID {
				t.Fatalf("claimed %+v, want event 2 for both chats", ds)
			}
			mustDo(t, db.CompleteDelivery(ctx, ds[0], 13))
			mustDo(t, db.CompleteDelivery(ctx, ds[1], 14))
		})

		t.Run("RetryAndFail", func(t *testing.T) {
			e, _ := insert(t, db, f.wh.ID)
			ds := claim("w1", 10)
			if len(ds) != 2 {
				t.Fatalf("claimed %d, want 2", len(ds))
			}
			// 429: due later, attempt not counted.
			mustDo(t, db.RetryDelivery(ctx, ds[0], clk.Now().Add(5*time.Second), "429", false))
			mustDo(t, db.FailDelivery(ctx, ds[1], "chat not found"))
			if got := claim("w1", 10); len(got) != 0 {
				t.Fatalf("claimed %+v before the retry is due", got)
			}
			clk.Advance(6 * time.Second)
			got := claim("w1", 10)
			if len(got) != 1 || got[0].ID != ds[0].ID || got[0].Attempts != 1 {
				t.Fatalf("claimed %+v, want the retried delivery at attempt 1", got)
			}
			mustDo(t, db.CompleteDelivery(ctx, got[0], 20))
			ev, err := db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			if ev.Status != storage.StatusFailed || ev.Error != "chat not found" {
				t.Fatalf("event %s %q, want failed with the chat's reason", ev.Status, ev.Error)
			}
		})

		t.Run("LeaseExpires", func(t *testing.T) {
			e, _ := insert(t, db, f.wh.ID)
			first := claim("crashed", 10)
			if len(first) != 2 {
				t.Fatalf("claimed %d, want 2", len(first))
			}
			clk.Advance(2 * time.Minute)
			second := claim("w2", 10)
			if len(second) != 2 || second[0].Attempts != 2 {
				t.Fatalf("after lease expiry claimed %+v, want both again at attempt 2", second)
			}
			if err := db.CompleteDelivery(ctx, first[0], 1); !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("stale owner completing: got %v, want ErrLeaseLost", err)
			}
			for _, d := range second {
				mustDo(t, db.CompleteDelivery(ctx, d, 2))
			}
			ev, _ := db.EventByID(ctx, f.wh.ID, e.ID)
			if ev.Status != storage.StatusDelivered || ev.Attempts != 2 {
				t.Fatalf("event %s attempts %d, want delivered after 2", ev.Status, ev.Attempts)
			}
			n, err := db.PendingDeliveries(ctx)
			mustDo(t, err)
			if n != 0 {
				t.Fatalf("pending %d, want 0", n)
			}
		})

		t.Run("ConcurrentClaimers", func(t *testing.T) {
			// 40 chats with 5 events each; 4 claimers race; every delivery is
			// sent exactly once.
			for c := int64(1); c <= 40; c++ {
				_, err := db.EnsureChat(ctx, chat(1000+c, "private"))
				mustDo(t, err)
				_, err = db.Subscribe(ctx, f.wh.ID, 1000+c, 100)
				mustDo(t, err)
			}
			for i := 0; i < 5; i++ {
				insert(t, db, f.wh.ID)
			}
			var mu sync.Mutex
			seen := map[int64]int{}
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for idle := 0; idle < 3; {
						ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 7)
						if err != nil {
							t.Error(err)
							return
						}
						if len(ds) == 0 {
							idle++
							time.Sleep(5 * time.Millisecond)
							continue
						}
						idle = 0
						for _, d := range ds {
							mu.Lock()
							seen[d.ID]++
							mu.Unlock()
							if err := db.CompleteDelivery(ctx, d, 1); err != nil {
								t.Error(err)
							}
						}
					}
				}()
			}
			wg.Wait()
			if got, want := len(seen), 42*5; got != want {
				t.Fatalf("delivered %d distinct deliveries, want %d", got, want)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("delivery %d claimed %d times", id, n)
				}
			}
		})
	})
}

func TestDB_Summary(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		e, _ := insert(t, f.db, f.wh.ID)
		if _, err := f.db.SummaryFor(ctx, e.ID, "en"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
		mustDo(t, f.db.SaveSummary(ctx, storage.Summary{EventID: e.ID, Language: "en", Notification: `{"title":"first"}`, PromptTokens: 10}))
		mustDo(t, f.db.SaveSummary(ctx, storage.Summary{EventID: e.ID, Language: "en", Notification: `{"title":"second"}`}))
		got, err := f.db.SummaryFor(ctx, e.ID, "en")
		mustDo(t, err)
		if got.Notification != `{"title":"first"}` || got.PromptTokens != 10 {
			t.Fatalf("got %+v, want the first summary", got)
		}
	})
}

func TestDB_BannedOwner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		mustDo(t, f.db.SetBanned(ctx, 100, true))
		if _, err := f.db.WebhookByTokenHash(ctx, hash("tok")); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("banned owner's webhook: got %v, want ErrNotFound", err)
		}
		mustDo(t, f.db.SetBanned(ctx, 100, false))
		if _, err := f.db.WebhookByTokenHash(ctx, hash("tok")); err != nil {
			t.Fatalf("unbanned: %v", err)
		}
	})
}
