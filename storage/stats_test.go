package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestDB_QueueDepth: the queue's depth counts what is on its way (queued or
// in flight) and, apart, what /mute holds back; settled deliveries are not
// counted.
func TestDB_QueueDepth(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		depth := func(want storage.QueueDepth) {
			t.Helper()
			got, err := db.QueueDepth(ctx)
			mustDo(t, err)
			if got != want {
				t.Fatalf("QueueDepth = %+v, want %+v", got, want)
			}
		}
		depth(storage.QueueDepth{})
		for range 3 {
			insert(t, db, f.wh.ID)
		}
		ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 1)
		mustDo(t, err)
		depth(storage.QueueDepth{Pending: 3})
		mustDo(t, db.Mute(ctx, f.wh.ID, 100, nil))
		for range 2 {
			insert(t, db, f.wh.ID)
		}
		depth(storage.QueueDepth{Pending: 3, Muted: 2})
		mustDo(t, db.CompleteDelivery(ctx, ds[0], 1))
		depth(storage.QueueDepth{Pending: 2, Muted: 2})
		_, err = db.Unmute(ctx, f.wh.ID, 100)
		mustDo(t, err)
		depth(storage.QueueDepth{Pending: 4})
	})
}
