package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
	"github.com/herald-relay/herald/webhook"
)

// BenchmarkHookPost is ingest over HTTP in one process: 64 concurrent
// senders post the benchmark kit's 1 KiB body with a GitHub delivery's
// headers to a real server, each answer a 202 after the commit. It measures
// the webhook package's share of ingest (token cache, budget, headers,
// body) on top of storage's BenchmarkInsertEvent:
//
//	go test ./webhook -run '^$' -bench HookPost -benchtime 20000x
func BenchmarkHookPost(b *testing.B) {
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
			if err := db.UpsertUser(ctx, storage.User{ID: 1, Started: true}); err != nil {
				b.Fatal(err)
			}
			if _, err := db.EnsureChat(ctx, storage.Chat{ID: 1, Type: "private", Language: "en"}); err != nil {
				b.Fatal(err)
			}
			token := storage.NewToken()
			if _, err := db.CreateWebhook(ctx, 1, "bench", storage.HashToken(token), 1); err != nil {
				b.Fatal(err)
			}
			s := webhook.New(db, webhook.Config{MaxBodyBytes: 1 << 20}, slog.New(slog.DiscardHandler), nil)
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := srv.URL + "/hook/" + token
			b.SetBytes(int64(len(body)))
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
					req.Header.Set("X-GitHub-Event", "issues")
					req.Header.Set("X-GitHub-Hook-ID", "292430182")
					req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "repository")
					req.Header.Set("X-GitHub-Hook-Installation-Target-ID", "79929171")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("got %d, want 202", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
