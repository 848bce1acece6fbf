package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
	"github.com/herald-relay/herald/webhook"
)

type env struct {
	srv   *httptest.Server
	db    *storage.DB
	token string
	wh    storage.Webhook
	rings atomic.Int32
	logs  *syncBuffer // everything logged, debug level included
}

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func setup(t *testing.T, databaseURL string, configure ...func(*webhook.Config)) *env {
	t.Helper()
	return setupDB(t, storagetest.Open(t, databaseURL), configure...)
}

func setupDB(t *testing.T, db *storage.DB, configure ...func(*webhook.Config)) *env {
	t.Helper()
	ctx := context.Background()
	if err := db.UpsertUser(ctx, storage.User{ID: 1, Started: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.EnsureChat(ctx, storage.Chat{ID: 1, Type: "private", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, token: storage.NewToken(), logs: &syncBuffer{}}
	wh, err := db.CreateWebhook(ctx, 1, "orders", storage.HashToken(e.token), 1)
	if err != nil {
		t.Fatal(err)
	}
	e.wh = wh
	cfg := webhook.Config{MaxBodyBytes: 1024}
	for _, c := range configure {
		c(&cfg)
	}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := webhook.New(db, cfg, log, func([]int64) { e.rings.Add(1) })
	// The server as main runs it: its timeouts and header bound.
	e.srv = httptest.NewUnstartedServer(nil)
	e.srv.Config = s.HTTPServer(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) do(t *testing.T, method, path, contentType, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, path, got)
	}
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
	}
	return resp.StatusCode, m
}

func TestHookPost(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		story := `{"event":"new_order","order_id":12345,"amount":9900,"customer":"Иван Петров"}`

		t.Run("OK", func(t *testing.T) {
			code, m := e.do(t, "POST", "/hook/"+e.token, "application/json", story,
				"X-GitHub-Delivery", "abc", "Authorization", "Bearer s3cret", "X-Hub-Signature-256", "sha256=00", "X-Custom-Token", "t0k")
			if code != http.StatusAccepted || m["status"] != "queued" || m["id"] == "" {
				t.Fatalf("got %d %v, want 202 queued with an id", code, m)
			}
			// Accepted means stored: the event is in the database now.
			ev, err := e.db.EventByID(ctx, e.wh.ID, m["id"].(string))
			if err != nil {
				t.Fatalf("event answered 202 is not stored: %v", err)
			}
			if string(ev.Body) != story {
				t.Errorf("stored body %q", ev.Body)
			}
			for _, secret := range []string{"s3cret", "sha256=00", "t0k"} {
				if strings.Contains(ev.Headers, secret) {
					t.Errorf("stored headers %s contain the credential %q", ev.Headers, secret)
				}
			}
			if !strings.Contains(ev.Headers, `"X-Github-Delivery":"abc"`) {
				t.Errorf("stored headers %s lack the delivery id", ev.Headers)
			}
			if e.rings.Load() == 0 {
				t.Error("the workers' doorbell was not rung")
			}
		})
		t.Run("UnknownToken", func(t *testing.T) {
			code, m := e.do(t, "POST", "/hook/not-a-token", "application/json", story)
			code2, m2 := e.do(t, "POST", "/hook/"+strings.Repeat("x", 500), "application/json", story)
			if code != 404 || code2 != 404 || m["error"] != m2["error"] {
				t.Fatalf("got %d %v and %d %v, want the same 404", code, m, code2, m2)
			}
		})
		t.Run("TooLarge", func(t *testing.T) {
			code, m := e.do(t, "POST", "/hook/"+e.token, "application/json", `{"a":"`+strings.Repeat("x", 2000)+`"}`)
			if code != http.StatusRequestEntityTooLarge || m["error"] == nil {
				t.Fatalf("got %d %v, want 413", code, m)
			}
			if code, _ := e.do(t, "POST", "/hook/"+e.token, "application/json", story); code != http.StatusAccepted {
				t.Fatalf("after a 413 the webhook answered %d, want 202", code)
			}
		})
		t.Run("InvalidJSON", func(t *testing.T) {
			code, m := e.do(t, "POST", "/hook/"+e.token, "application/json", `{"a":`)
			if code != http.StatusAccepted || m["warning"] == nil {
				t.Fatalf("got %d %v, want 202 with a warning", code, m)
			}
		})
		t.Run("EmptyBody", func(t *testing.T) {
			if code, m := e.do(t, "POST", "/hook/"+e.token, "application/json", "  "); code != http.StatusBadRequest {
				t.Fatalf("got %d %v, want 400", code, m)
			}
		})
		t.Run("EventGet", func(t *testing.T) {
			_, m := e.do(t, "POST", "/hook/"+e.token, "application/json", story)
			id := m["id"].(string)
			code, got := e.do(t, "GET", "/hook/"+e.token+"/events/"+id, "", "")
			if code != 200 || got["id"] != id || got["status"] != "queued" || got["received_at"] == nil {
				t.Fatalf("got %d %v", code, got)
			}
			for _, k := range []string{"delivered_at", "attempts", "error"} {
				if _, ok := got[k]; !ok {
					t.Errorf("answer lacks %q: %v", k, got)
				}
			}
			// Another webhook's token does not see it.
			other := storage.NewToken()
			if _, err := e.db.CreateWebhook(ctx, 1, "other", storage.HashToken(other), 1); err != nil {
				t.Fatal(err)
			}
			if code, _ := e.do(t, "GET", "/hook/"+other+"/events/"+id, "", ""); code != 404 {
				t.Fatalf("another webhook's event: %d, want 404", code)
			}
			code, list := e.do(t, "GET", "/hook/"+e.token+"/events?limit=2", "", "")
			if events, _ := list["events"].([]any); code != 200 || len(events) != 2 {
				t.Fatalf("list: %d %v, want 2 events", code, list)
			}
		})
		t.Run("Regenerated", func(t *testing.T) {
			if err := e.db.RegenerateToken(ctx, e.wh.ID, storage.HashToken("new")); err != nil {
				t.Fatal(err)
			}
			if code, _ := e.do(t, "POST", "/hook/"+e.token, "application/json", story); code != 404 {
				t.Fatalf("old token after regenerate: %d, want 404", code)
			}
		})
		t.Run("Health", func(t *testing.T) {
			if code, _ := e.do(t, "GET", "/healthz", "", ""); code != 200 {
				t.Fatalf("healthz %d", code)
			}
			if code, _ := e.do(t, "GET", "/readyz", "", ""); code != 200 {
				t.Fatalf("readyz %d", code)
			}
			e.db.Close()
			if code, _ := e.do(t, "GET", "/readyz", "", ""); code != 503 {
				t.Fatalf("readyz with the database closed: %d, want 503", code)
			}
			if code, _ := e.do(t, "POST", "/hook/"+e.token, "application/json", story); code != 503 {
				t.Fatalf("ingest with the database closed: %d, want 503", code)
			}
		})
	})
}
