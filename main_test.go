package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// syncBuffer collects a process's log output safely across goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// herald is one running herald process (run() in a goroutine) against the fakes.
type herald struct {
	base string // http://127.0.0.1:port
	logs *syncBuffer
	stop func() int // cancels run and returns its exit code
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHerald runs the real wiring with env on a free port and waits for
// /healthz.
func startHerald(t *testing.T, env map[string]string) *herald {
	t.Helper()
	addr := freeAddr(t)
	h := &herald{base: "http://" + addr, logs: &syncBuffer{}}
	full := map[string]string{"LISTEN_ADDR": addr, "PUBLIC_URL": h.base, "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return full[k] }, strings.NewReader(""), io.Discard, h.logs)
	}()
	var once sync.Once
	code := -1
	h.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("herald did not stop within 30s; logs:\n%s", h.logs)
			}
		})
		return code
	}
	t.Cleanup(func() { h.stop() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(h.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return h
			}
		}
		select {
		case c := <-done:
			t.Fatalf("herald exited with %d before it was healthy; logs:\n%s", c, h.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald not healthy after 15s; logs:\n%s", h.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// waitDelivered polls an event's status until it is delivered.
func waitDelivered(t *testing.T, hookURL, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, m := getJSON(t, hookURL+"/events/"+id)
		if code == 200 && m["status"] == "delivered" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s: %d %v, want delivered", id, code, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var hookURLRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/hook/[A-Za-z0-9_-]{43}`)

// command types a command as user in their private chat and returns the
// bot's next reply.
func command(t *testing.T, tg *telegramtest.Server, u tgemu.User, text string) tgemu.Message {
	t.Helper()
	chat := tgemu.PrivateChat(u)
	prev := lastID(tg.Messages(chat.ID))
	tg.UserSends(u, chat, text)
	// The match runs under the fake's lock: it must not call the fake.
	return tg.WaitMessage(t, chat.ID, func(m tgemu.Message) bool {
		return m.From.IsBot && m.ID > prev
	}, 10*time.Second)
}

func lastID(ms []tgemu.Message) int {
	id := 0
	for _, m := range ms {
		id = max(id, m.ID)
	}
	return id
}

const story = `{"event":"new_order","order_id":12345,"amount":9900,"customer":"Иван Петров"}`

// TestE2E is the walking skeleton's story, on each backend: /newtoken →
// POST → a message in the chat → delivered; /regenerate → the old URL 404;
// /revoke → 404.
func TestE2E(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		tg := telegramtest.Start(t)
		h := startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		})
		anna := tgemu.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}

		reply := command(t, tg, anna, "/newtoken orders")
		hookURL := hookURLRE.FindString(reply.Text)
		if hookURL == "" || !strings.HasPrefix(hookURL, h.base+"/hook/") {
			t.Fatalf("/newtoken reply has no webhook URL under PUBLIC_URL: %s", reply)
		}
		if !strings.Contains(reply.Text, "curl") {
			t.Errorf("/newtoken reply has no curl example: %s", reply)
		}

		code, m := post(t, hookURL, story)
		if code != http.StatusAccepted || m["status"] != "queued" {
			t.Fatalf("POST: %d %v, want 202 queued", code, m)
		}
		id, _ := m["id"].(string)
		msg := tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
			return strings.HasPrefix(m.Text, "orders · new_order")
		}, 10*time.Second)
		for _, want := range []string{"orders · new_order", "12345", "9900", "Иван Петров"} {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("notification lacks %q:\n%s", want, msg.Text)
			}
		}
		st := waitDelivered(t, hookURL, id)
		if st["delivered_at"] == nil || st["attempts"].(float64) != 1 {
			t.Errorf("status %v, want delivered_at and 1 attempt", st)
		}

		reply = command(t, tg, anna, "/regenerate orders")
		newURL := hookURLRE.FindString(reply.Text)
		if newURL == "" || newURL == hookURL {
			t.Fatalf("/regenerate gave no new URL: %s", reply)
		}
		if code, _ := post(t, hookURL, story); code != http.StatusNotFound {
			t.Errorf("old URL after /regenerate: %d, want 404", code)
		}
		if code, _ := getJSON(t, hookURL+"/events/"+id); code != http.StatusNotFound {
			t.Errorf("old URL's event status after /regenerate: %d, want 404", code)
		}
		code, m = post(t, newURL, story)
		if code != http.StatusAccepted {
			t.Fatalf("new URL: %d, want 202", code)
		}
		waitDelivered(t, newURL, m["id"].(string))

		reply = command(t, tg, anna, "/tokens")
		if !strings.Contains(reply.Text, "orders") || reply.ReplyMarkup == nil {
			t.Errorf("/tokens: %s, want orders with buttons", reply)
		}

		command(t, tg, anna, "/revoke orders")
		if code, m := post(t, newURL, story); code != http.StatusNotFound {
			t.Errorf("URL after /revoke: %d %v, want 404; logs:\n%s", code, m, h.logs)
		}

		if code := h.stop(); code != 0 {
			t.Errorf("exit code %d after SIGTERM-like stop, want 0", code)
		}
		logs := h.logs.String()
		for _, secret := range []string{tg.Token(), strings.TrimPrefix(hookURL, h.base+"/hook/"), strings.TrimPrefix(newURL, h.base+"/hook/")} {
			if strings.Contains(logs, secret) {
				t.Errorf("a secret token appears in the logs")
			}
		}
	})
}

// TestE2E_Languages: replies and the command menu in the user's language.
func TestE2E_Languages(t *testing.T) {
	tg := telegramtest.Start(t)
	startHerald(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": storagetest.SQLiteURL(t),
	})
	ivan := tgemu.User{ID: 2002, FirstName: "Иван", LanguageCode: "ru"}
	if reply := command(t, tg, ivan, "/help"); !strings.Contains(reply.Text, "превращает любой вебхук") {
		t.Errorf("/help for a ru user: %s", reply)
	}
	if reply := command(t, tg, ivan, "/newtoken Bad!Name"); !strings.Contains(reply.Text, "не подходит") {
		t.Errorf("bad name for a ru user: %s", reply)
	}
	en, ru := tg.Commands("default", ""), tg.Commands("default", "ru")
	if len(en) == 0 || len(ru) != len(en) {
		t.Fatalf("command menu: %d default, %d ru", len(en), len(ru))
	}
	if en[0].Description == ru[0].Description {
		t.Errorf("ru menu is not translated: %q", ru[0].Description)
	}
}

// TestE2E_LLM: with OPENAI_API_KEY the LLM writes the message; when it
// fails, the formatter's message still arrives.
func TestE2E_LLM(t *testing.T) {
	tg := telegramtest.Start(t)
	ai := openaitest.Start(t)
	startHerald(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": storagetest.SQLiteURL(t),
		"OPENAI_API_KEY": ai.Key(), "OPENAI_BASE_URL": ai.URL(), "LLM_TIMEOUT": "2s",
	})
	anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
	hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken orders").Text)

	ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
		return openaitest.Content(`{"source":"","event":"","title":"New order from Иван Петров","summary":"Order 12345 for 99.00.","facts":[{"label":"Order","value":"12345"}],"importance":"normal","link":"","action":""}`)
	})
	code, m := post(t, hookURL, story)
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	msg := tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "New order from") }, 10*time.Second)
	if !strings.HasPrefix(msg.Text, "orders · new_order") {
		t.Errorf("LLM message does not start with the webhook and event: %q", msg.Text)
	}
	waitDelivered(t, hookURL, m["id"].(string))
	if n := len(ai.Requests()); n != 1 {
		t.Errorf("LLM called %d times for one event, want 1", n)
	}

	ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
		return openaitest.Status(500, "The server had an error")
	})
	code, m = post(t, hookURL, strings.Replace(story, "12345", "777", 1))
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	msg = tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "777") }, 15*time.Second)
	if !strings.HasPrefix(msg.Text, "orders · new_order") {
		t.Errorf("fallback message: %q", msg.Text)
	}
	waitDelivered(t, hookURL, m["id"].(string))
}

// TestE2E_Restart: events stored while herald was down, or left mid-delivery
// by a crash, are delivered when it starts again.
func TestE2E_Restart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		tg := telegramtest.Start(t)
		env := map[string]string{"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL}
		h := startHerald(t, env)
		anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
		command(t, tg, anna, "/newtoken orders")
		if code := h.stop(); code != 0 {
			t.Fatalf("exit %d", code)
		}

		// While herald is down: one event queued, and (on SQLite, which one
		// process owns) one claimed by a process that then died.
		ctx := context.Background()
		db := storagetest.Open(t, databaseURL)
		whs, err := db.WebhooksByOwner(ctx, anna.ID)
		if err != nil || len(whs) != 1 {
			t.Fatalf("webhooks: %v %v", whs, err)
		}
		for i := range 2 {
			e := storage.Event{WebhookID: whs[0].ID, ContentType: "application/json", Headers: "{}",
				Body: []byte(fmt.Sprintf(`{"event":"while_down","n":%d}`, i))}
			if _, err := db.InsertEvent(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect() == storage.SQLite {
			// The /newtoken reply paced the chat (about a second): a claim
			// takes nothing for it until then, so wait for the claim itself.
			deadline := time.Now().Add(10 * time.Second)
			for {
				ds, err := db.ClaimDeliveries(ctx, "crashed", time.Hour, 1)
				if err != nil {
					t.Fatalf("claim: %v", err)
				}
				if len(ds) == 1 {
					break
				}
				if len(ds) > 1 || time.Now().After(deadline) {
					t.Fatalf("claim: %v, want one delivery within 10s", ds)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		db.Close()

		startHerald(t, env)
		for i := range 2 {
			tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
				return strings.Contains(m.Text, "while_down") && strings.Contains(m.Text, fmt.Sprint(i))
			}, 15*time.Second)
		}
	})
}

// TestE2E_BotCommands: the bot's commands wired to the rest: /test sends a
// sample event through the relay; /mute holds events, /unmute delivers
// them; ADMIN_IDS and ACCESS_MODE reach the bot.
func TestE2E_BotCommands(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		tg := telegramtest.Start(t)
		startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
			"ADMIN_IDS": "1001", "ACCESS_MODE": "invite",
		})
		anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
		bob := tgemu.User{ID: 1002, FirstName: "Bob", LanguageCode: "en"}
		notification := func(after int) tgemu.Message {
			t.Helper()
			return tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
				return m.ID > after && strings.HasPrefix(m.Text, "orders · ")
			}, 15*time.Second)
		}

		if reply := command(t, tg, bob, "/newtoken bobs"); !strings.Contains(reply.Text, "invite-only") {
			t.Fatalf("ACCESS_MODE=invite: %s", reply)
		}
		hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken orders").Text)
		if hookURL == "" {
			t.Fatal("the admin got no URL")
		}
		if reply := command(t, tg, anna, "/stats"); !strings.Contains(reply.Text, "webhooks: 1") {
			t.Fatalf("ADMIN_IDS: /stats %s", reply)
		}

		before := lastID(tg.Messages(anna.ID))
		tg.UserSends(anna, tgemu.PrivateChat(anna), "/test orders")
		tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
			return m.ID > before && strings.Contains(m.Text, "Test event")
		}, 10*time.Second)
		notification(before)

		command(t, tg, anna, "/mute orders")
		code, m := post(t, hookURL, story)
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d", code)
		}
		before = lastID(tg.Messages(anna.ID))
		time.Sleep(1500 * time.Millisecond)
		if _, st := getJSON(t, hookURL+"/events/"+m["id"].(string)); st["status"] != "queued" || lastID(tg.Messages(anna.ID)) != before {
			t.Fatalf("while muted: status %v, messages %v", st, tg.Messages(anna.ID))
		}
		// The reply and the held event race to the chat: find each by its text.
		tg.UserSends(anna, tgemu.PrivateChat(anna), "/unmute orders")
		tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool {
			return m.ID > before && strings.Contains(m.Text, "Held meanwhile: 1 event")
		}, 10*time.Second)
		if n := notification(before); !strings.Contains(n.Text, "12345") {
			t.Errorf("held event: %s", n)
		}
		waitDelivered(t, hookURL, m["id"].(string))
	})
}

// TestRun_Config: bad configuration stops the start with exit 2 and names
// the variable.
func TestRun_Config(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"NoToken", map[string]string{}, "TELEGRAM_BOT_TOKEN"},
		{"BadToken", map[string]string{"TELEGRAM_BOT_TOKEN": "nope"}, "@BotFather"},
		{"BadTimeout", map[string]string{"LLM_TIMEOUT": "soon"}, "LLM_TIMEOUT"},
		{"BadDB", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"BadMode", map[string]string{"TELEGRAM_MODE": "push"}, "TELEGRAM_MODE"},
		{"BadAccess", map[string]string{"ACCESS_MODE": "everyone"}, "ACCESS_MODE"},
		{"BadBody", map[string]string{"MAX_BODY_BYTES": "-1"}, "MAX_BODY_BYTES"},
		{"BadRate", map[string]string{"HOOK_RATE_LIMIT": "fast"}, "HOOK_RATE_LIMIT"},
		{"BadAdmins", map[string]string{"ADMIN_IDS": "1,bob"}, "ADMIN_IDS"},
		{"BadLevel", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{"BadPublicURL", map[string]string{"PUBLIC_URL": "example.com"}, "PUBLIC_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"TELEGRAM_BOT_TOKEN": "123456:AAbbccddeeffgghhiijjkkllmmnnoopp"}
			for k, v := range tt.env {
				env[k] = v
			}
			if _, ok := tt.env["TELEGRAM_BOT_TOKEN"]; !ok && tt.name == "NoToken" {
				delete(env, "TELEGRAM_BOT_TOKEN")
			}
			var stderr bytes.Buffer
			code := run(context.Background(), nil, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 naming %s", code, stderr.String(), tt.want)
			}
		})
	}
	t.Run("Version", func(t *testing.T) {
		var stdout bytes.Buffer
		if code := run(context.Background(), []string{"version"}, func(string) string { return "" }, strings.NewReader(""), &stdout, io.Discard); code != 0 || !strings.HasPrefix(stdout.String(), "herald ") {
			t.Fatalf("version: %d %q", code, stdout.String())
		}
	})
	t.Run("Migrate", func(t *testing.T) {
		dbURL := storagetest.SQLiteURL(t)
		env := map[string]string{"DATABASE_URL": dbURL}
		if code := run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
			t.Fatalf("migrate: exit %d", code)
		}
		db, err := storage.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ready(context.Background()); err != nil {
			t.Fatalf("after herald migrate: %v", err)
		}
	})
}
