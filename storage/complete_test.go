package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestDB_CompleteFenced: recording a digest's deliveries at once (one
// statement on PostgreSQL) still records only those the caller holds: one
// taken over by another worker (attempts moved on) stays with it, and a set
// none of which is held is ErrLeaseLost.
func TestDB_CompleteFenced(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		var events []storage.Event
		for range 4 {
			e, _ := insert(t, db, f.wh.ID)
			events = append(events, e)
		}
		heads, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		rest, err := db.ClaimChatBacklog(ctx, heads[0], time.Minute, 3)
		mustDo(t, err)
		all := append(heads, rest...)
		if len(all) != 4 {
			t.Fatalf("held %d, want 4", len(all))
		}
		stale := all[2]
		all[2].Attempts += 5 // as if its lease had been lost and claimed again since
		mustDo(t, db.CompleteDeliveries(ctx, all, 42, time.Time{}))
		for i, e := range events {
			got, err := db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			want := storage.StatusDelivered
			if i == 2 {
				want = storage.StatusProcessing
			}
			if got.Status != want {
				t.Errorf("event %d: %s, want %s", i, got.Status, want)
			}
		}
		stale.LeaseOwner = "someone else"
		if err := db.CompleteDeliveries(ctx, []storage.Delivery{stale, all[0]}, 43, time.Time{}); !errors.Is(err, storage.ErrLeaseLost) {
			t.Fatalf("completing deliveries held by nobody: %v, want ErrLeaseLost", err)
		}
	})
}
