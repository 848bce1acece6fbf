package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// BenchmarkInsertEvent stores the benchmark kit's 1 KiB body from 64
// concurrent callers, as the webhook handler does under bench/ingest.sh's
// load (IfWebhook, a webhook with one subscribed chat), so that the
// database's share of ingest can be measured and changed without HTTP in
// the way:
//
//	TEST_DATABASE_URL=… go test ./storage -run '^$' -bench InsertEvent -benchtime 20000x
func BenchmarkInsertEvent(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "shared", "bench", "body-1k.json"))
	if err != nil {
		body = []byte(`{"event":"benchmark","note":"the kit's body-1k.json is absent; this one is smaller"}`)
	}
	for _, backend := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", storagetest.SQLiteURL}, {"postgres", storagetest.PostgresURL}} {
		b.Run(backend.name, func(b *testing.B) {
			ctx := context.Background()
			db := storagetest.Open(b, backend.url(b))
			if err := db.UpsertUser(ctx, user(100)); err != nil {
				b.Fatal(err)
			}
			if _, err := db.EnsureChat(ctx, chat(100, "private")); err != nil {
				b.Fatal(err)
			}
			wh, err := db.CreateWebhook(ctx, 100, "bench", hash("tok"), 100)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: body}
					if _, err := db.InsertEvent(ctx, &e, storage.IfWebhook(wh)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// The kit's pgsrv -mode=batch, in-process: the durable reference the
	// PostgreSQL figure compares with (one row, one index, group commit).
	b.Run("postgres-reference", func(b *testing.B) {
		db, err := sql.Open("postgres", storagetest.PostgresURL(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.SetMaxOpenConns(16)
		if _, err := db.Exec(`CREATE TABLE ref_events (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), body jsonb NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		type item struct{ done chan error }
		q := make(chan item, 4096)
		for range 2 {
			go func() {
				items, args := make([]item, 0, 256), make([]any, 0, 256)
				var sb strings.Builder
				for it := range q {
					items = append(items[:0], it)
				fill:
					for len(items) < 256 {
						select {
						case it := <-q:
							items = append(items, it)
						default:
							break fill
						}
					}
					sb.Reset()
					args = args[:0]
					sb.WriteString("INSERT INTO ref_events (body) VALUES ")
					for i := range items {
						if i > 0 {
							sb.WriteByte(',')
						}
						fmt.Fprintf(&sb, "($%d)", i+1)
						args = append(args, string(body))
					}
					_, err := db.Exec(sb.String(), args...)
					for _, it := range items {
						it.done <- err
					}
				}
			}()
		}
		defer close(q)
		b.SetBytes(int64(len(body)))
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				it := item{done: make(chan error, 1)}
				q <- it
				if err := <-it.done; err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
