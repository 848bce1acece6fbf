package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

func event(webhookID int64, body string) *storage.Event {
	return &storage.Event{WebhookID: webhookID, ContentType: "application/json", Headers: `{}`, Body: []byte(body)}
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rawDB opens a second connection to the same database, for counting rows
// and holding locks behind the storage's back.
func rawDB(t *testing.T, databaseURL string) *sql.DB {
	t.Helper()
	driver, dsn := "postgres", databaseURL
	if len(databaseURL) > 7 && databaseURL[:7] == "sqlite:" {
		driver, dsn = "sqlite", "file:"+databaseURL[7:]+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDB_InsertEventGroupCommit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		raw := rawDB(t, databaseURL)

		t.Run("Concurrent", func(t *testing.T) {
			const n = 200
			var wg sync.WaitGroup
			ids := make([]string, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := event(f.wh.ID, fmt.Sprintf(`{"i":%d}`, i))
					_, errs[i] = f.db.InsertEvent(ctx, e)
					ids[i] = e.ID
				}()
			}
			wg.Wait()
			seen := map[string]bool{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("insert %d: %v", i, errs[i])
				}
				if seen[ids[i]] {
					t.Fatalf("id %s given twice", ids[i])
				}
				seen[ids[i]] = true
			}
			if got := countRows(t, raw, `SELECT COUNT(*) FROM events`); got != n {
				t.Fatalf("%d events stored, want %d", got, n)
			}
			if got := countRows(t, raw, `SELECT COUNT(*) FROM deliveries`); got != n {
				t.Fatalf("%d deliveries queued, want one per event (%d)", got, n)
			}
		})
	})
}

// A batch that fails on one event's value is retried one by one: the
// others are stored, only that one fails.
func TestDB_InsertEventPoisonedBatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		if len(databaseURL) > 7 && databaseURL[:7] == "sqlite:" {
			t.Skip("SQLite stores any bytes in TEXT: no value fails a batch there")
		}
		f := setup(t, databaseURL)
		raw := rawDB(t, databaseURL)
		before := countRows(t, raw, `SELECT COUNT(*) FROM events`)
		const n = 10
		events := make([]*storage.Event, n)
		for i := range events {
			events[i] = event(f.wh.ID, fmt.Sprintf(`{"i":%d}`, i))
		}
		events[n/2].ContentType = "text/plain\x00" // PostgreSQL refuses NUL in text
		errs := storage.InsertBatch(f.db, events)
		for i, err := range errs {
			if i == n/2 {
				if err == nil {
					t.Errorf("the poisoned event was stored")
				}
			} else if err != nil {
				t.Errorf("event %d failed with the poisoned one: %v", i, err)
			}
		}
		if got := countRows(t, raw, `SELECT COUNT(*) FROM events`) - before; got != n-1 {
			t.Fatalf("%d events stored, want %d", got, n-1)
		}
	})
}

func TestDB_InsertEventDedup(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		raw := rawDB(t, databaseURL)

		t.Run("Redelivery", func(t *testing.T) {
			first := event(f.wh.ID, `{"a":1}`)
			_, err := f.db.InsertEvent(ctx, first, storage.WithDedupKey("github:1"))
			mustDo(t, err)
			again := event(f.wh.ID, `{"a":1}`)
			n, err := f.db.InsertEvent(ctx, again, storage.WithDedupKey("github:1"))
			if !errors.Is(err, storage.ErrDuplicate) || n != 0 {
				t.Fatalf("got %d, %v; want ErrDuplicate", n, err)
			}
			if again.ID != first.ID || again.Status != storage.StatusQueued {
				t.Fatalf("duplicate filled with %s %s, want the original %s queued", again.ID, again.Status, first.ID)
			}
			if got := countRows(t, raw, `SELECT COUNT(*) FROM deliveries WHERE event_id = `+param(databaseURL), first.ID); got != 1 {
				t.Fatalf("%d deliveries for the event, want 1", got)
			}
		})
		t.Run("Simultaneous", func(t *testing.T) {
			const n = 20
			var wg sync.WaitGroup
			ids := make([]string, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := event(f.wh.ID, `{"same":true}`)
					_, errs[i] = f.db.InsertEvent(ctx, e, storage.WithDedupKey("webhook-id:msg_1"))
					ids[i] = e.ID
				}()
			}
			wg.Wait()
			stored := 0
			for i := range n {
				switch {
				case errs[i] == nil:
					stored++
				case !errors.Is(errs[i], storage.ErrDuplicate):
					t.Fatalf("copy %d: %v", i, errs[i])
				}
				if ids[i] != ids[0] {
					t.Fatalf("copies answered with different ids: %s and %s", ids[0], ids[i])
				}
			}
			if stored != 1 {
				t.Fatalf("%d copies stored, want 1", stored)
			}
			if got := countRows(t, raw, `SELECT COUNT(*) FROM deliveries WHERE event_id = `+param(databaseURL), ids[0]); got != 1 {
				t.Fatalf("%d deliveries, want 1", got)
			}
		})
		t.Run("OtherWebhook", func(t *testing.T) {
			other, err := f.db.CreateWebhook(ctx, 100, "other", hash("tok2"), 100)
			mustDo(t, err)
			_, err = f.db.InsertEvent(ctx, event(other.ID, `{}`), storage.WithDedupKey("github:1"))
			mustDo(t, err)
		})
		t.Run("After72h", func(t *testing.T) {
			e := event(f.wh.ID, `{}`)
			_, err := f.db.InsertEvent(ctx, e, storage.WithDedupKey("github:old"))
			mustDo(t, err)
			clk.Advance(71 * time.Hour)
			if _, err := f.db.InsertEvent(ctx, event(f.wh.ID, `{}`), storage.WithDedupKey("github:old")); !errors.Is(err, storage.ErrDuplicate) {
				t.Fatalf("after 71h: %v, want ErrDuplicate", err)
			}
			clk.Advance(2 * time.Hour)
			again := event(f.wh.ID, `{}`)
			_, err = f.db.InsertEvent(ctx, again, storage.WithDedupKey("github:old"))
			mustDo(t, err)
			if again.ID == e.ID {
				t.Fatal("after 73h the key still names the old event")
			}
		})
	})
}

func param(databaseURL string) string {
	if len(databaseURL) > 7 && databaseURL[:7] == "sqlite:" {
		return "?"
	}
	return "$1"
}

func TestDB_InsertEventIfWebhook(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		wh := f.wh

		t.Run("Unchanged", func(t *testing.T) {
			_, err := f.db.InsertEvent(ctx, event(wh.ID, `{}`), storage.IfWebhook(wh))
			mustDo(t, err)
		})
		t.Run("SecretChanged", func(t *testing.T) {
			mustDo(t, f.db.SetWebhookSecret(ctx, wh.ID, "s3"))
			if _, err := f.db.InsertEvent(ctx, event(wh.ID, `{}`), storage.IfWebhook(wh)); !errors.Is(err, storage.ErrWebhookChanged) {
				t.Fatalf("got %v, want ErrWebhookChanged", err)
			}
			wh.Secret = "s3"
			_, err := f.db.InsertEvent(ctx, event(wh.ID, `{}`), storage.IfWebhook(wh))
			mustDo(t, err)
		})
		t.Run("Banned", func(t *testing.T) {
			mustDo(t, f.db.SetBanned(ctx, 100, true))
			defer f.db.SetBanned(ctx, 100, false)
			if _, err := f.db.InsertEvent(ctx, event(wh.ID, `{}`), storage.IfWebhook(wh)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
		t.Run("Regenerated", func(t *testing.T) {
			mustDo(t, f.db.RegenerateToken(ctx, wh.ID, hash("new")))
			if _, err := f.db.InsertEvent(ctx, event(wh.ID, `{}`), storage.IfWebhook(wh)); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("got %v, want ErrNotFound", err)
			}
		})
		t.Run("QueueDepth", func(t *testing.T) {
			n, err := f.db.PendingDeliveries(ctx)
			mustDo(t, err)
			if n != 2 {
				t.Fatalf("queue depth %d, want the 2 events stored above", n)
			}
		})
	})
}

// TestDB_InsertEventQueuedTo: InsertEvent names the chats it queued the
// event for (the relay's doorbell skips claims by them), leaving out a
// muted chat, which holds the event; with a target, only the target.
func TestDB_InsertEventQueuedTo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		for _, c := range []int64{-200, -300} {
			_, err := f.db.EnsureChat(ctx, chat(c, "group"))
			mustDo(t, err)
			_, err = f.db.Subscribe(ctx, f.wh.ID, c, 100)
			mustDo(t, err)
		}
		mustDo(t, f.db.Mute(ctx, f.wh.ID, -200, nil))
		// One at a time and several in one batch (group commit).
		for _, n := range []int{1, 8} {
			evs := make([]*storage.Event, n)
			errs := make(chan error, n)
			for i := range evs {
				evs[i] = event(f.wh.ID, `{"a":1}`)
				go func() {
					got, err := f.db.InsertEvent(ctx, evs[i])
					if err == nil && got != 3 {
						err = fmt.Errorf("%d deliveries queued, want 3 (the muted one held)", got)
					}
					errs <- err
				}()
			}
			for range evs {
				mustDo(t, <-errs)
			}
			for _, e := range evs {
				if want := []int64{-300, 100}; !slices.Equal(e.QueuedTo, want) {
					t.Errorf("QueuedTo = %v, want %v (the muted chat left out)", e.QueuedTo, want)
				}
			}
		}
		e := event(f.wh.ID, `{"a":2}`)
		_, err := f.db.InsertEvent(ctx, e, storage.WithTarget(-300))
		mustDo(t, err)
		if want := []int64{-300}; !slices.Equal(e.QueuedTo, want) {
			t.Errorf("targeted: QueuedTo = %v, want %v", e.QueuedTo, want)
		}
		// Nobody to deliver to: delivered at once, no chat named.
		mustDo(t, f.db.Mute(ctx, f.wh.ID, -300, nil))
		mustDo(t, f.db.Mute(ctx, f.wh.ID, 100, nil))
		e = event(f.wh.ID, `{"a":3}`)
		_, err = f.db.InsertEvent(ctx, e)
		mustDo(t, err)
		if len(e.QueuedTo) != 0 {
			t.Errorf("all muted: QueuedTo = %v, want none", e.QueuedTo)
		}
	})
}

// TestDB_InsertEventRacingDelete: a webhook deleted while its events are
// being stored takes every event it accepted with it, deliveries included;
// an insert that lost the race fails with ErrNotFound. None is left behind
// for a webhook that no longer exists (PostgreSQL checks this with a lock
// per batch, not a foreign key per row: migration 00010).
func TestDB_InsertEventRacingDelete(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		for round := range 5 {
			f := setup(t, databaseURL)
			var mu sync.Mutex
			var accepted []string
			var stored atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						e := storage.Event{WebhookID: f.wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"a":1}`)}
						_, err := f.db.InsertEvent(ctx, &e, storage.IfWebhook(f.wh))
						if errors.Is(err, storage.ErrNotFound) {
							return
						}
						if err != nil {
							t.Errorf("insert: %v", err)
							return
						}
						stored.Add(1)
						mu.Lock()
						accepted = append(accepted, e.ID)
						mu.Unlock()
					}
				}()
			}
			for stored.Load() < 40 {
				time.Sleep(time.Millisecond)
			}
			mustDo(t, f.db.DeleteWebhook(ctx, f.wh.ID))
			wg.Wait()
			for _, id := range accepted {
				if ev, err := f.db.EventByID(ctx, f.wh.ID, id); !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("round %d: event %s outlived its webhook: %+v, %v", round, id, ev.Status, err)
				}
				if ds, err := f.db.DeliveriesOfEvent(ctx, id); err != nil || len(ds) != 0 {
					t.Fatalf("round %d: event %s's deliveries outlived its webhook: %+v, %v", round, id, ds, err)
				}
			}
		}
	})
}
