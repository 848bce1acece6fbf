package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestE2E_Forward is outbound forwarding as a user meets it (SPEC §9):
// /forward → POST to the hook → the event, signed with the secret shown,
// at the receiver, and the same event in Telegram; /deliveries lists it.
// Without FORWARD_ALLOW_PRIVATE the loopback receiver is refused.
func TestE2E_Forward(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		got := make(chan *http.Request, 10)
		bodies := make(chan []byte, 10)
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- r
			bodies <- b
		}))
		defer rcv.Close()
		tg := telegramtest.Start(t)
		h := startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
			"FORWARD_ALLOW_PRIVATE": "true",
		})
		anna := tgemu.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}
		hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken orders").Text)
		reply := command(t, tg, anna, "/forward orders "+rcv.URL+"/in")
		secret := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`).FindString(reply.Text)
		if secret == "" {
			t.Fatalf("/forward reply has no secret: %s", reply)
		}

		code, m := post(t, hookURL, story)
		if code != http.StatusAccepted {
			t.Fatalf("POST: %d", code)
		}
		var r *http.Request
		select {
		case r = <-got:
		case <-time.After(15 * time.Second):
			t.Fatalf("the receiver got nothing; logs:\n%s", h.logs)
		}
		body := <-bodies
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		io.WriteString(mac, r.Header.Get("webhook-id")+"."+r.Header.Get("webhook-timestamp")+".")
		mac.Write(body)
		if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("webhook-signature") != want {
			t.Fatal("the signature does not verify with the secret shown in the chat")
		}
		var msg struct {
			ID      string         `json:"id"`
			Webhook string         `json:"webhook"`
			Payload map[string]any `json:"payload"`
			Summary struct {
				Text string `json:"text"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.ID != m["id"] || msg.Webhook != "orders" || msg.Payload["order_id"] != 12345.0 || !strings.Contains(msg.Summary.Text, "12345") {
			t.Fatalf("forwarded %s", body)
		}
		tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.HasPrefix(m.Text, "orders · new_order") }, 10*time.Second)
		waitDelivered(t, hookURL, msg.ID)
		var d tgemu.Message
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if d = command(t, tg, anna, "/deliveries orders"); strings.Contains(d.Text, msg.ID) {
				break
			}
		}
		if !strings.Contains(d.Text, "HTTP 200") || !strings.Contains(d.Text, msg.ID) {
			t.Fatalf("/deliveries: %s", d)
		}
		if code := h.stop(); code != 0 {
			t.Errorf("exit code %d, want 0", code)
		}
		if strings.Contains(h.logs.String(), secret) || strings.Contains(h.logs.String(), "/in\"") {
			t.Error("the forward's secret or URL path appears in the logs")
		}
	})
}

func TestE2E_ForwardRefusesLoopback(t *testing.T) {
	tg := telegramtest.Start(t)
	startHerald(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": storagetest.SQLiteURL(t),
	})
	anna := tgemu.User{ID: 1001, FirstName: "Anna", Username: "anna", LanguageCode: "en"}
	command(t, tg, anna, "/newtoken orders")
	reply := command(t, tg, anna, "/forward orders http://127.0.0.1:9/in")
	if !strings.Contains(reply.Text, "FORWARD_ALLOW_PRIVATE") {
		t.Fatalf("/forward to loopback: %s, want refused", reply)
	}
}
