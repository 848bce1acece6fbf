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

const settle = storage.ForwardSettle

// eventIDs lists the events a forward has messages for, oldest first.
func forwardedEvents(t *testing.T, db *storage.DB, owner string) []string {
	t.Helper()
	var out []string
	for {
		ds, err := db.ClaimForwardDeliveries(context.Background(), owner, time.Hour, 100, 1000)
		mustDo(t, err)
		if len(ds) == 0 {
			return out
		}
		for _, d := range ds {
			if d.EventID != nil {
				out = append(out, *d.EventID)
			}
		}
	}
}

func TestDB_ForwardCursor(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		before, _ := insert(t, db, f.wh.ID)
		fw, created, err := db.SetForward(ctx, f.wh.ID, "https://example.com/hook", "whsec_AAAA", 100, settle)
		mustDo(t, err)
		if !created || fw.Secret != "whsec_AAAA" || fw.Paused {
			t.Fatalf("SetForward: created %v, %+v", created, fw)
		}

		t.Run("OnlyEventsAfterSetup", func(t *testing.T) {
			e1, _ := insert(t, db, f.wh.ID)
			e2, _ := insert(t, db, f.wh.ID)
			n, err := db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if n != 2 {
				t.Fatalf("queued %d, want 2", n)
			}
			got := forwardedEvents(t, db, "w1")
			if want := []string{e1.ID, e2.ID}; !slices.Equal(got, want) {
				t.Fatalf("forwarded %v, want %v (not %s from before the forward)", got, want, before.ID)
			}
		})
		t.Run("NoneTwice", func(t *testing.T) {
			n, err := db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if n != 0 {
				t.Fatalf("a second walk queued %d", n)
			}
		})
		t.Run("LateCommitIsNotSkipped", func(t *testing.T) {
			// An event with an older id, committed after a newer one was
			// taken (two group-commit batches finishing out of order), is
			// taken all the same while the cursor settles.
			e3, _ := insert(t, db, f.wh.ID)
			e4, _ := insert(t, db, f.wh.ID)
			// Not visible yet: as if its transaction had not committed.
			mustDo(t, storage.SetEventReceivedAt(ctx, db, e3.ID, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
			n, err := db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if n != 1 {
				t.Fatalf("queued %d, want e4 alone", n)
			}
			mustDo(t, storage.SetEventReceivedAt(ctx, db, e3.ID, e3.ReceivedAt))
			n, err = db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if n != 1 {
				t.Fatalf("queued %d after the late commit, want e3", n)
			}
			if got, want := forwardedEvents(t, db, "w2"), []string{e4.ID, e3.ID}; !slices.Equal(got, want) {
				t.Fatalf("forwarded %v, want %v", got, want)
			}
		})
		t.Run("CursorSettles", func(t *testing.T) {
			clk.Advance(settle + time.Second)
			_, err := db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			got, err := db.ForwardByWebhook(ctx, f.wh.ID)
			mustDo(t, err)
			if got.CursorID == "" || got.CursorID == fw.CursorID {
				t.Fatalf("cursor %q did not move over the settled events", got.CursorID)
			}
		})
		t.Run("Limit", func(t *testing.T) {
			for range 5 {
				insert(t, db, f.wh.ID)
			}
			for _, want := range []int{2, 2, 1, 0} {
				n, err := db.TakeForwardEvents(ctx, settle, 2)
				mustDo(t, err)
				if n != want {
					t.Fatalf("queued %d, want %d", n, want)
				}
			}
			forwardedEvents(t, db, "w3")
		})
		t.Run("PausedTakesNothingAndResumesFromNow", func(t *testing.T) {
			changed, err := db.PauseForward(ctx, f.wh.ID, true, settle)
			mustDo(t, err)
			if !changed {
				t.Fatal("pause changed nothing")
			}
			if changed, _ := db.PauseForward(ctx, f.wh.ID, true, settle); changed {
				t.Fatal("pausing twice changed something")
			}
			insert(t, db, f.wh.ID) // while paused
			n, err := db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if n != 0 {
				t.Fatalf("queued %d while paused", n)
			}
			_, err = db.PauseForward(ctx, f.wh.ID, false, settle)
			mustDo(t, err)
			after, _ := insert(t, db, f.wh.ID)
			n, err = db.TakeForwardEvents(ctx, settle, 100)
			mustDo(t, err)
			if got, want := forwardedEvents(t, db, "w4"), []string{after.ID}; n != 1 || !slices.Equal(got, want) {
				t.Fatalf("after resuming forwarded %v, want only %v", got, want)
			}
		})
		t.Run("ChangeURLKeepsSecret", func(t *testing.T) {
			got, created, err := db.SetForward(ctx, f.wh.ID, "https://other.example/x", "whsec_BBBB", 100, settle)
			mustDo(t, err)
			if created || got.Secret != "whsec_AAAA" || got.URL != "https://other.example/x" || got.ID != fw.ID {
				t.Fatalf("changed forward: created %v, %+v", created, got)
			}
		})
		t.Run("Delete", func(t *testing.T) {
			mustDo(t, db.DeleteForward(ctx, f.wh.ID))
			if _, err := db.ForwardByWebhook(ctx, f.wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after delete: %v, want ErrNotFound", err)
			}
			if err := db.DeleteForward(ctx, f.wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("second delete: %v, want ErrNotFound", err)
			}
			if _, err := db.PauseForward(ctx, f.wh.ID, true, settle); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("pause without forward: %v, want ErrNotFound", err)
			}
		})
	})
}

func TestDB_ForwardQueue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		fw, _, err := db.SetForward(ctx, f.wh.ID, "https://example.com/hook", "whsec_AAAA", 100, settle)
		mustDo(t, err)
		for range 3 {
			insert(t, db, f.wh.ID)
		}
		_, err = db.TakeForwardEvents(ctx, settle, 100)
		mustDo(t, err)

		var held []storage.ForwardDelivery
		t.Run("PerForwardCap", func(t *testing.T) {
			for _, want := range []int{1, 1, 0} {
				ds, err := db.ClaimForwardDeliveries(ctx, "a", time.Minute, 10, 2)
				mustDo(t, err)
				if len(ds) != want {
					t.Fatalf("claimed %d, want %d (one per forward per claim, two in flight at most)", len(ds), want)
				}
				held = append(held, ds...)
			}
			if held[0].Attempts != 1 || held[0].Status != storage.StatusProcessing || held[0].MessageID != *held[0].EventID {
				t.Fatalf("claimed %+v", held[0])
			}
		})
		t.Run("Retry", func(t *testing.T) {
			a := storage.ForwardAttempt{At: clk.Now(), StatusCode: 500, DurationMS: 12, Excerpt: "boom"}
			mustDo(t, db.FinishForwardAttempt(ctx, held[0], a, clk.Now().Add(time.Minute)))
			q, err := db.ForwardQueueOf(ctx, fw.ID)
			mustDo(t, err)
			if q.Pending != 3 || q.NextAt == nil || !q.NextAt.Equal(clk.Now()) {
				t.Fatalf("queue %+v, want 3 pending, the unclaimed one due now", q)
			}
		})
		t.Run("LeaseLost", func(t *testing.T) {
			stale := held[0] // finished already: its fencing token is spent
			err := db.FinishForwardAttempt(ctx, stale, storage.ForwardAttempt{At: clk.Now(), OK: true, StatusCode: 200}, time.Time{})
			if !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("finishing a message no longer held: %v, want ErrLeaseLost", err)
			}
		})
		t.Run("DeliveredAndFailed", func(t *testing.T) {
			mustDo(t, db.FinishForwardAttempt(ctx, held[1], storage.ForwardAttempt{At: clk.Now(), OK: true, StatusCode: 204}, time.Time{}))
			clk.Advance(time.Minute)
			ds, err := db.ClaimForwardDeliveries(ctx, "a", time.Minute, 10, 2)
			mustDo(t, err)
			if len(ds) != 1 || ds[0].ID != held[0].ID || ds[0].Attempts != 2 {
				t.Fatalf("claimed %+v, want the retry due now, attempt 2", ds)
			}
			mustDo(t, db.FinishForwardAttempt(ctx, ds[0], storage.ForwardAttempt{At: clk.Now(), Excerpt: "refused"}, time.Time{}))
			q, err := db.ForwardQueueOf(ctx, fw.ID)
			mustDo(t, err)
			if q.Pending != 1 || q.Failed != 1 {
				t.Fatalf("queue %+v, want 1 pending (the third), 1 failed", q)
			}
			as, err := db.ForwardAttempts(ctx, fw.ID, 10)
			mustDo(t, err)
			if len(as) != 3 {
				t.Fatalf("%d attempts listed, want 3", len(as))
			}
			if as[0].Attempt != 2 || !as[0].Final || as[0].Excerpt != "refused" || as[1].OK != true || as[2].Final {
				t.Fatalf("attempts %+v", as)
			}
		})
		t.Run("PausedIsNotClaimed", func(t *testing.T) {
			_, err := db.PauseForward(ctx, f.wh.ID, true, settle)
			mustDo(t, err)
			ds, err := db.ClaimForwardDeliveries(ctx, "a", time.Minute, 10, 2)
			mustDo(t, err)
			if len(ds) != 0 {
				t.Fatalf("claimed %d of a paused forward", len(ds))
			}
			if due, err := db.ForwardWorkDue(ctx); err != nil || due {
				t.Fatalf("work due %v (%v) while the only forward is paused", due, err)
			}
			_, err = db.PauseForward(ctx, f.wh.ID, false, settle)
			mustDo(t, err)
			if due, err := db.ForwardWorkDue(ctx); err != nil || !due {
				t.Fatalf("work due %v (%v) after resuming, want the waiting message", due, err)
			}
			ds, err = db.ClaimForwardDeliveries(ctx, "a", time.Minute, 10, 2)
			mustDo(t, err)
			if len(ds) != 1 {
				t.Fatalf("claimed %d after resuming, want the waiting retry", len(ds))
			}
			held = append(held, ds[0])
		})
		t.Run("ExpiredLeaseIsTakenOver", func(t *testing.T) {
			clk.Advance(2 * time.Minute)
			ds, err := db.ClaimForwardDeliveries(ctx, "b", time.Minute, 10, 2)
			mustDo(t, err)
			if len(ds) != 1 || ds[0].ID != held[2].ID || ds[0].LeaseOwner != "b" {
				t.Fatalf("claimed %+v, want b to take over a's expired lease", ds)
			}
			if err := db.FinishForwardAttempt(ctx, held[2], storage.ForwardAttempt{At: clk.Now(), OK: true}, time.Time{}); !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("a finishing after b took over: %v, want ErrLeaseLost", err)
			}
			if due, _ := db.ForwardWorkDue(ctx); due {
				t.Fatal("work due while every message is held")
			}
			mustDo(t, db.ReleaseForwardDelivery(ctx, ds[0], clk.Now(), "db down"))
			n, err := db.RequeueAbandonedForwards(ctx)
			mustDo(t, err)
			if n != 0 {
				t.Fatalf("requeued %d, none is in flight", n)
			}
		})
		t.Run("Test", func(t *testing.T) {
			dl, err := db.QueueForwardTest(ctx, fw.ID, "a", time.Minute)
			mustDo(t, err)
			if dl.EventID != nil || dl.Attempts != 1 || dl.Status != storage.StatusProcessing || len(dl.MessageID) < 10 {
				t.Fatalf("test message %+v", dl)
			}
			if _, err := db.QueueForwardTest(ctx, 999999, "a", time.Minute); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("test for no forward: %v, want ErrNotFound", err)
			}
			n, err := db.RequeueAbandonedForwards(ctx)
			mustDo(t, err)
			if n != 1 {
				t.Fatalf("requeued %d, want the test message left in flight", n)
			}
		})
		t.Run("Prune", func(t *testing.T) {
			n, err := db.PruneForwardHistory(ctx, clk.Now().Add(time.Hour))
			mustDo(t, err)
			if n != 2 {
				t.Fatalf("pruned %d, want the delivered and the failed message", n)
			}
			as, err := db.ForwardAttempts(ctx, fw.ID, 10)
			mustDo(t, err)
			for _, a := range as {
				if a.DeliveryID == held[0].ID || a.DeliveryID == held[1].ID {
					t.Fatalf("attempt of a pruned message kept: %+v", a)
				}
			}
		})
	})
}

func TestDB_ForwardInfo(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		fw, _, err := db.SetForward(ctx, f.wh.ID, "https://example.com/hook", "whsec_AAAA", 100, settle)
		mustDo(t, err)
		fi, err := db.ForwardInfo(ctx, fw.ID)
		mustDo(t, err)
		if fi.WebhookName != "orders" || fi.OwnerID != 100 || fi.OwnerLanguage != "en" || fi.URL != fw.URL {
			t.Fatalf("forward info %+v", fi)
		}
		byOwner, err := db.ForwardsByOwner(ctx, 100)
		mustDo(t, err)
		if got, ok := byOwner[f.wh.ID]; !ok || got.ID != fw.ID || len(byOwner) != 1 {
			t.Fatalf("forwards by owner %+v", byOwner)
		}
		if _, _, err := db.SetForward(ctx, 424242, "https://x.example", "whsec_AAAA", 100, settle); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("forward of no webhook: %v, want ErrNotFound", err)
		}
		// Revoking the webhook takes its forward along.
		mustDo(t, db.DeleteWebhook(ctx, f.wh.ID))
		if _, err := db.ForwardInfo(ctx, fw.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("forward of a revoked webhook: %v, want ErrNotFound", err)
		}
	})
}

// TestDB_RenewForwardLeases: forward messages, like deliveries, are renewed
// only while named (a worker is sending them): one whose worker ended
// without recording its outcome is claimed again when its lease runs out.
func TestDB_RenewForwardLeases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		_, _, err := db.SetForward(ctx, f.wh.ID, "https://example.com/hook", "whsec_AAAA", 100, settle)
		mustDo(t, err)
		insert(t, db, f.wh.ID)
		_, err = db.TakeForwardEvents(ctx, settle, 100)
		mustDo(t, err)
		ds, err := db.ClaimForwardDeliveries(ctx, "a", 10*time.Second, 10, 2)
		mustDo(t, err)
		if len(ds) != 1 {
			t.Fatalf("claimed %d, want the one message", len(ds))
		}
		renewedWhileNamed(t, clk, ds[0].ID,
			func(named bool) (int, error) {
				var ids []int64
				if named {
					ids = []int64{ds[0].ID}
				}
				return db.RenewForwardLeases(ctx, "a", 10*time.Second, ids)
			},
			func() []int64 {
				got, err := db.ClaimForwardDeliveries(ctx, "b", 10*time.Second, 10, 2)
				mustDo(t, err)
				var ids []int64
				for _, d := range got {
					ids = append(ids, d.ID)
				}
				return ids
			})
	})
}
