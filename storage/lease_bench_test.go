package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// BenchmarkLease measures the lease queues' own cost, without Telegram or
// HTTP in the way: one op is one row claimed and its outcome recorded.
//
//   - Deliveries/Drain: 50 chats' queued deliveries claimed 32 at a time
//     (the relay's batch) and recorded as sent, the relay's steady path.
//
//   - Deliveries/Retry, Notices/Retry, Forwards/Release: claimed and handed
//     back due at once, so that the queue stays as deep as it started.
//
//   - Deliveries/Renew: the renewal of 32 chats' held deliveries.
//
//     TEST_DATABASE_URL=… go test ./storage -run '^$' -bench Lease -benchtime 2000x
func BenchmarkLease(b *testing.B) {
	for _, backend := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", storagetest.SQLiteURL}, {"postgres", storagetest.PostgresURL}} {
		b.Run(backend.name, func(b *testing.B) {
			b.Run("Deliveries/Drain", func(b *testing.B) {
				db := benchDeliveries(b, backend.url(b), (b.N+49)/50)
				b.ResetTimer()
				for done := 0; done < b.N; {
					dls, err := db.ClaimDeliveries(context.Background(), "bench", time.Minute, 32)
					if err != nil || len(dls) == 0 {
						b.Fatalf("claim: %d, %v", len(dls), err)
					}
					for _, dl := range dls {
						if err := db.CompleteDelivery(context.Background(), dl, 1); err != nil {
							b.Fatal(err)
						}
					}
					done += len(dls)
				}
			})
			b.Run("Deliveries/Retry", func(b *testing.B) {
				db := benchDeliveries(b, backend.url(b), 4)
				b.ResetTimer()
				for done := 0; done < b.N; {
					dls, err := db.ClaimDeliveries(context.Background(), "bench", time.Minute, 32)
					if err != nil || len(dls) == 0 {
						b.Fatalf("claim: %d, %v", len(dls), err)
					}
					for _, dl := range dls {
						if err := db.RetryDelivery(context.Background(), dl, db.Now(), "bench", false); err != nil {
							b.Fatal(err)
						}
					}
					done += len(dls)
				}
			})
			b.Run("Deliveries/Renew", func(b *testing.B) {
				db := benchDeliveries(b, backend.url(b), 2)
				dls, err := db.ClaimDeliveries(context.Background(), "bench", time.Minute, 32)
				if err != nil {
					b.Fatal(err)
				}
				var chats []int64
				for _, dl := range dls {
					chats = append(chats, dl.ChatID)
				}
				b.ResetTimer()
				for range b.N {
					if n, err := db.RenewLeases(context.Background(), "bench", time.Minute, chats, nil); err != nil || n != 32 {
						b.Fatalf("renewed %d, %v; want 32", n, err)
					}
				}
			})
			b.Run("Notices/Retry", func(b *testing.B) {
				ctx := context.Background()
				db := benchDB(b, backend.url(b))
				if err := storage.QueueNotices(ctx, db, 100, 200); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for done := 0; done < b.N; {
					ns, err := db.ClaimNotices(ctx, "bench", time.Minute, 32)
					if err != nil || len(ns) == 0 {
						b.Fatalf("claim: %d, %v", len(ns), err)
					}
					for _, n := range ns {
						if err := db.FinishNotice(ctx, n, storage.StatusQueued, db.Now(), time.Time{}, "bench"); err != nil {
							b.Fatal(err)
						}
					}
					done += len(ns)
				}
			})
			b.Run("Forwards/Release", func(b *testing.B) {
				ctx := context.Background()
				db := benchDB(b, backend.url(b))
				for i := range 20 {
					wh, err := db.CreateWebhook(ctx, 100, fmt.Sprintf("f%d", i), hash(fmt.Sprint("f", i)), 100)
					if err != nil {
						b.Fatal(err)
					}
					if _, _, err := db.SetForward(ctx, wh.ID, "https://example.com/hook", "whsec_AAAA", 100, time.Minute); err != nil {
						b.Fatal(err)
					}
					for range 10 {
						e := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"a":1}`)}
						if _, err := db.InsertEvent(ctx, &e); err != nil {
							b.Fatal(err)
						}
					}
				}
				if n, err := db.TakeForwardEvents(ctx, time.Minute, 100); err != nil || n != 200 {
					b.Fatalf("queued %d, %v; want 200", n, err)
				}
				b.ResetTimer()
				for done := 0; done < b.N; {
					dls, err := db.ClaimForwardDeliveries(ctx, "bench", time.Minute, 8, 2)
					if err != nil || len(dls) == 0 {
						b.Fatalf("claim: %d, %v", len(dls), err)
					}
					for _, dl := range dls {
						if err := db.ReleaseForwardDelivery(ctx, dl, db.Now(), "bench"); err != nil {
							b.Fatal(err)
						}
					}
					done += len(dls)
				}
			})
		})
	}
}

// benchDB is a migrated database with user 100 and their private chat.
func benchDB(b *testing.B, databaseURL string) *storage.DB {
	b.Helper()
	ctx := context.Background()
	db := storagetest.Open(b, databaseURL)
	if err := db.UpsertUser(ctx, user(100)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.EnsureChat(ctx, chat(100, "private")); err != nil {
		b.Fatal(err)
	}
	return db
}

// benchDeliveries queues events events for 50 group chats (one delivery
// each per event).
func benchDeliveries(b *testing.B, databaseURL string, events int) *storage.DB {
	b.Helper()
	ctx := context.Background()
	db := benchDB(b, databaseURL)
	var chats []int64
	for i := range 50 {
		id := int64(-1000 - i)
		if _, err := db.EnsureChat(ctx, chat(id, "group")); err != nil {
			b.Fatal(err)
		}
		chats = append(chats, id)
	}
	wh, err := db.CreateWebhook(ctx, 100, "bench", hash("bench"), chats[0])
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range chats[1:] {
		if _, err := db.Subscribe(ctx, wh.ID, c, 100); err != nil {
			b.Fatal(err)
		}
	}
	batch := make([]*storage.Event, 0, 100)
	for i := range events {
		batch = append(batch, &storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"a":1}`)})
		if len(batch) == cap(batch) || i == events-1 {
			for _, err := range storage.InsertBatch(db, batch) {
				if err != nil {
					b.Fatal(err)
				}
			}
			batch = batch[:0]
		}
	}
	return db
}
