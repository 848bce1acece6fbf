package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// targetEnv is the ingest env with the webhook delivered to chat 1 (its
// owner's), 2 and 4 (bot blocked there); chat 3 is known but not subscribed.
func targetEnv(t *testing.T, databaseURL string) *env {
	t.Helper()
	e := setup(t, databaseURL)
	ctx := context.Background()
	for _, id := range []int64{2, 3, 4} {
		if err := e.db.UpsertUser(ctx, storage.User{ID: id, Started: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: id, Type: "private", Language: "en"}); err != nil {
			t.Fatal(err)
		}
		if id != 3 {
			if _, err := e.db.Subscribe(ctx, e.wh.ID, id, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.db.SetChatActive(ctx, 4, false); err != nil {
		t.Fatal(err)
	}
	return e
}

// chatsOf lists the chats an event has deliveries for.
func chatsOf(t *testing.T, db *storage.DB, eventID string) []int64 {
	t.Helper()
	dls, err := db.DeliveriesOfEvent(context.Background(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, d := range dls {
		out = append(out, d.ChatID)
	}
	slices.Sort(out)
	return out
}

func (e *env) events(t *testing.T) int {
	t.Helper()
	es, err := e.db.EventsByWebhook(context.Background(), e.wh.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// delivered reports whether an event's deliveries are all settled.
func (e *env) delivered(t *testing.T, eventID string) bool {
	t.Helper()
	dls, err := e.db.DeliveriesOfEvent(context.Background(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dls {
		if d.Status != storage.StatusDelivered {
			return false
		}
	}
	return true
}

func TestHookPost_Target(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := targetEnv(t, databaseURL)
		ctx := context.Background()
		hook := "/hook/" + e.token
		body := `{"event":"assigned","to":"Bob"}`

		t.Run("Query", func(t *testing.T) {
			code, m := e.do(t, "POST", hook+"?chat=2", "application/json", body)
			if code != http.StatusAccepted || m["status"] != "queued" {
				t.Fatalf("got %d %v, want 202 queued", code, m)
			}
			if got := chatsOf(t, e.db, m["id"].(string)); !slices.Equal(got, []int64{2}) {
				t.Fatalf("delivered to %v, want only chat 2", got)
			}
		})
		t.Run("Header", func(t *testing.T) {
			code, m := e.do(t, "POST", hook, "application/json", body, "X-Herald-Chat", " 2 ")
			if code != http.StatusAccepted {
				t.Fatalf("got %d %v, want 202", code, m)
			}
			id := m["id"].(string)
			if got := chatsOf(t, e.db, id); !slices.Equal(got, []int64{2}) {
				t.Fatalf("delivered to %v, want only chat 2", got)
			}
			ev, err := e.db.EventByID(ctx, e.wh.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(ev.Headers, "Herald-Chat") {
				t.Errorf("the routing header is stored with the event: %s", ev.Headers)
			}
		})
		t.Run("QueryAndHeaderAgree", func(t *testing.T) {
			code, m := e.do(t, "POST", hook+"?chat=1", "application/json", body, "X-Herald-Chat", "1")
			if code != http.StatusAccepted {
				t.Fatalf("got %d %v, want 202", code, m)
			}
			if got := chatsOf(t, e.db, m["id"].(string)); !slices.Equal(got, []int64{1}) {
				t.Fatalf("delivered to %v, want only chat 1", got)
			}
		})
		t.Run("Untargeted", func(t *testing.T) {
			code, m := e.do(t, "POST", hook+"?source=ci", "application/json", body)
			if code != http.StatusAccepted {
				t.Fatalf("got %d %v, want 202", code, m)
			}
			if got := chatsOf(t, e.db, m["id"].(string)); !slices.Equal(got, []int64{1, 2}) {
				t.Fatalf("delivered to %v, want every reachable subscriber (1, 2)", got)
			}
		})
		for _, c := range []struct {
			name, query, header, want string
		}{
			{"NotSubscribed", "?chat=3", "", "not subscribed"},
			{"UnknownChat", "", "777", "not subscribed"},
			{"BlockedTheBot", "?chat=4", "", "blocked the bot"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.events(t)
				var headers []string
				if c.header != "" {
					headers = []string{"X-Herald-Chat", c.header}
				}
				code, m := e.do(t, "POST", hook+c.query, "application/json", body, headers...)
				if msg, _ := m["error"].(string); code != http.StatusNotFound || !strings.Contains(msg, c.want) {
					t.Fatalf("got %d %v, want 404 saying %q", code, m, c.want)
				}
				if got := e.events(t); got != before {
					t.Fatalf("%d events after a refused request, want %d", got, before)
				}
				// The webhook itself is fine: the next request is accepted.
				if code, m := e.do(t, "POST", hook, "application/json", body); code != http.StatusAccepted {
					t.Fatalf("untargeted after a refused one: %d %v", code, m)
				}
			})
		}
		for _, c := range []struct {
			name, query, header, want string
		}{
			{"NotANumber", "?chat=bob", "", "Telegram chat id"},
			{"Empty", "?chat=", "", "Telegram chat id"},
			{"Zero", "?chat=0", "", "Telegram chat id"},
			{"Overflow", "?chat=99999999999999999999", "", "Telegram chat id"},
			{"BadHeader", "", "@bob", "Telegram chat id"},
			{"Disagree", "?chat=1", "2", "different chats"},
			{"TwoQueries", "?chat=1&chat=2", "", "different chats"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.events(t)
				var headers []string
				if c.header != "" {
					headers = []string{"X-Herald-Chat", c.header}
				}
				code, m := e.do(t, "POST", hook+c.query, "application/json", body, headers...)
				if msg, _ := m["error"].(string); code != http.StatusBadRequest || !strings.Contains(msg, c.want) {
					t.Fatalf("got %d %v, want 400 saying %q", code, m, c.want)
				}
				if got := e.events(t); got != before {
					t.Fatalf("%d events after a refused request, want %d", got, before)
				}
			})
		}
		t.Run("UnknownTokenFirst", func(t *testing.T) {
			code, m := e.do(t, "POST", "/hook/nope?chat=bob", "application/json", body)
			if code != http.StatusNotFound || m["error"] != "not found" {
				t.Fatalf("got %d %v, want the unknown token's 404", code, m)
			}
		})
		t.Run("Redelivery", func(t *testing.T) {
			code, first := e.do(t, "POST", hook+"?chat=2", "application/json", body, "X-GitHub-Delivery", "t-1")
			if code != http.StatusAccepted {
				t.Fatalf("first: %d %v", code, first)
			}
			code, again := e.do(t, "POST", hook, "application/json", body, "X-GitHub-Delivery", "t-1", "X-Herald-Chat", "2")
			if code != http.StatusOK || again["duplicate"] != true || again["id"] != first["id"] {
				t.Fatalf("redelivery: %d %v, want 200 duplicate of %v", code, again, first["id"])
			}
			// The same delivery id for another chat is another request.
			code, other := e.do(t, "POST", hook+"?chat=1", "application/json", body, "X-GitHub-Delivery", "t-1")
			if code != http.StatusAccepted || other["id"] == first["id"] {
				t.Fatalf("same id to another chat: %d %v, want 202, a new event", code, other)
			}
			if got := chatsOf(t, e.db, first["id"].(string)); !slices.Equal(got, []int64{2}) {
				t.Fatalf("original delivered to %v, want only chat 2", got)
			}
		})
		t.Run("Status", func(t *testing.T) {
			code, m := e.do(t, "POST", hook+"?chat=1", "application/json", body)
			if code != http.StatusAccepted {
				t.Fatalf("got %d %v", code, m)
			}
			id := m["id"].(string)
			_, st := e.do(t, "GET", hook+"/events/"+id, "", "")
			if st["status"] != "queued" {
				t.Fatalf("status %v, want queued", st)
			}
			// Chat 1 gets it; chat 2's deliveries, of other events, stay
			// pending and do not hold it back.
			for deadline := time.Now().Add(5 * time.Second); !e.delivered(t, id); {
				dls, err := e.db.ClaimDeliveries(ctx, "test", time.Minute, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range dls {
					if d.ChatID == 1 {
						if err := e.db.CompleteDelivery(ctx, d, 1); err != nil {
							t.Fatal(err)
						}
					}
				}
				if time.Now().After(deadline) {
					t.Fatal("the targeted delivery was never completed")
				}
			}
			_, st = e.do(t, "GET", hook+"/events/"+id, "", "")
			if st["status"] != "delivered" || st["delivered_at"] == nil {
				t.Fatalf("status %v, want delivered once its one chat has it", st)
			}
		})
	})
}

// Concurrent targeted and untargeted requests share group commits: each
// event reaches exactly its chats.
func TestHookPost_TargetConcurrent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := targetEnv(t, databaseURL)
		const n = 60
		targets := []string{"", "1", "2", "3", "4"}
		want := map[string][]int64{"": {1, 2}, "1": {1}, "2": {2}}
		type result struct {
			code int
			id   string
		}
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				path := "/hook/" + e.token
				if tg := targets[i%len(targets)]; tg != "" {
					path += "?chat=" + tg
				}
				code, m := e.do(t, "POST", path, "application/json", fmt.Sprintf(`{"i":%d}`, i))
				id, _ := m["id"].(string)
				results[i] = result{code, id}
			}()
		}
		wg.Wait()
		for i, r := range results {
			tg := targets[i%len(targets)]
			chats, ok := want[tg]
			if !ok {
				if r.code != http.StatusNotFound {
					t.Errorf("request %d to chat %s: %d, want 404", i, tg, r.code)
				}
				continue
			}
			if r.code != http.StatusAccepted {
				t.Errorf("request %d to chat %q: %d, want 202", i, tg, r.code)
				continue
			}
			if got := chatsOf(t, e.db, r.id); !slices.Equal(got, chats) {
				t.Errorf("request %d to chat %q delivered to %v, want %v", i, tg, got, chats)
			}
		}
		if got, want := e.events(t), n*3/len(targets); got != want {
			t.Errorf("%d events stored, want %d", got, want)
		}
	})
}
