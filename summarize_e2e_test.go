package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestE2E_SummarizeOnce: an event is summarized once per language, stored
// with the event with its token usage; neither a failed send retried nor a
// restart in between calls the LLM again.
func TestE2E_SummarizeOnce(t *testing.T) {
	tg := telegramtest.Start(t)
	ai := openaitest.Start(t)
	var calls atomic.Int32
	ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
		calls.Add(1)
		r := openaitest.Content(`{"source":"","event":"","title":"Order 4242 from Иван","summary":"A new order.","facts":[],"importance":"normal","link":"","action":""}`)
		r.PromptTokens, r.CompletionTokens = 321, 45
		return r
	})
	dbURL := storagetest.SQLiteURL(t)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": dbURL,
		"OPENAI_API_KEY": ai.Key(), "OPENAI_BASE_URL": ai.URL(), "LLM_TIMEOUT": "5s",
	}
	h := startHerald(t, env)
	anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
	hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken orders").Text)
	if hookURL == "" {
		t.Fatal("no webhook URL")
	}

	// The first send fails (a Telegram 5xx): the summary is already stored.
	tg.FailNext("sendMessage", tgemu.ServerError())
	sends := len(tg.Calls("sendMessage"))
	code, m := post(t, hookURL, `{"event":"new_order","order_id":4242,"customer":"Иван"}`)
	if code != http.StatusAccepted {
		t.Fatalf("POST: %d", code)
	}
	id, _ := m["id"].(string)
	deadline := time.Now().Add(15 * time.Second)
	for len(tg.Calls("sendMessage")) == sends {
		if time.Now().After(deadline) {
			t.Fatalf("no send attempted; logs:\n%s", h.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Stop before (or while) the send is retried, and start again.
	if code := h.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	h = startHerald(t, env)
	tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Order 4242 from Иван") }, 30*time.Second)
	waitDelivered(t, h.base+hookURL[strings.Index(hookURL, "/hook/"):], id)

	if got := calls.Load(); got != 1 {
		t.Errorf("the LLM was called %d times for one event in one language, want 1", got)
	}
	db := storagetest.Open(t, dbURL)
	s, err := db.SummaryFor(context.Background(), id, "en")
	if err != nil {
		t.Fatal(err)
	}
	if s.PromptTokens != 321 || s.CompletionTokens != 45 {
		t.Errorf("stored usage %d+%d tokens, want the 321+45 the LLM billed", s.PromptTokens, s.CompletionTokens)
	}
	if !strings.Contains(s.Notification, `"by_llm":true`) {
		t.Errorf("stored summary: %s", s.Notification)
	}
}

// TestE2E_LowImportanceSilent: a routine event (a star) arrives with
// disable_notification; an ordinary one rings.
func TestE2E_LowImportanceSilent(t *testing.T) {
	tg := telegramtest.Start(t)
	startHerald(t, map[string]string{"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": storagetest.SQLiteURL(t)})
	anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
	hookURL := hookURLRE.FindString(command(t, tg, anna, "/newtoken gh").Text)
	send := func(event, body string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hookURL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", event)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST %s: %d", event, resp.StatusCode)
		}
	}
	send("star", `{"action":"created","repository":{"full_name":"octo/hello","stargazers_count":7},"sender":{"login":"octocat"}}`)
	star := tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "starred octo/hello") }, 15*time.Second)
	send("issues", `{"action":"opened","issue":{"number":5,"title":"Crash on start"},"repository":{"full_name":"octo/hello"},"sender":{"login":"octocat"}}`)
	issue := tg.WaitMessage(t, anna.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Crash on start") }, 15*time.Second)
	if !star.DisableNotification {
		t.Errorf("the star arrived with a sound: %+v", star)
	}
	if issue.DisableNotification {
		t.Errorf("the new issue arrived silently: %+v", issue)
	}
}
