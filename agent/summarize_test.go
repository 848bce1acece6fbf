package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newAgent returns an Agent talking to the fake, and its log.
func newAgent(t *testing.T, s *openaitest.Server, timeout time.Duration) (*agent.Agent, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := agent.New(agent.Config{APIKey: s.Key(), BaseURL: s.URL(), Model: "gpt-4o-mini", Timeout: timeout}, bundle, log)
	return a, logs
}

// reply is a valid structured reply.
type reply struct {
	Source     string       `json:"source"`
	Event      string       `json:"event"`
	Title      string       `json:"title"`
	Summary    string       `json:"summary"`
	Facts      []agent.Fact `json:"facts"`
	Importance string       `json:"importance"`
	Link       string       `json:"link"`
	Action     string       `json:"action"`
}

func goodReply() reply {
	return reply{
		Title:      "Новый заказ №12345",
		Summary:    "Иван Петров оформил заказ на 99,00.",
		Facts:      []agent.Fact{{Label: "Клиент", Value: "Иван Петров"}, {Label: "Сумма", Value: "9900"}, {Label: "", Value: "dropped"}},
		Importance: "high",
		Action:     "Подтвердить заказ",
	}
}

func TestAgent_Summarize(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.JSON(goodReply()) })
		a, _ := newAgent(t, s, 5*time.Second)
		if !a.LLMEnabled() {
			t.Fatal("LLMEnabled = false with a key")
		}
		n, usage := a.Summarize(ctx, story(), "ru")
		want := agent.Notification{
			Source:     "orders",
			Event:      "new_order",
			Title:      "Новый заказ №12345",
			Summary:    "Иван Петров оформил заказ на 99,00.",
			Facts:      []agent.Fact{{Label: "Клиент", Value: "Иван Петров"}, {Label: "Сумма", Value: "9900"}},
			Importance: agent.ImportanceHigh,
			Action:     "Подтвердить заказ",
			Lang:       "ru",
			ByLLM:      true,
		}
		if diff := diff(want, n); diff != "" {
			t.Errorf("notification (want, got):\n%s", diff)
		}
		if usage.PromptTokens <= 0 || usage.CompletionTokens <= 0 {
			t.Errorf("usage = %+v, want both counts", usage)
		}
		if got := len(s.Requests()); got != 1 {
			t.Errorf("%d requests, want 1", got)
		}
	})

	t.Run("DefaultFakeReply", func(t *testing.T) {
		s := openaitest.Start(t)
		a, _ := newAgent(t, s, 5*time.Second)
		n, _ := a.Summarize(ctx, story(), "en")
		if !n.ByLLM || n.Title == "" || n.Summary == "" {
			t.Errorf("the fake's default reply was not used: %+v", n)
		}
	})

	fallbacks := []struct {
		name   string
		reply  openaitest.Reply
		reason string
	}{
		{"ServerError", openaitest.Status(500, "The server had an error while processing your request."), "http_500"},
		{"BadGateway", openaitest.Reply{Status: 502}, "http_502"},
		{"RateLimited", openaitest.Reply{Status: 429, ErrorCode: "rate_limit_exceeded"}, "http_429"},
		{"InvalidJSONContent", openaitest.Content(`{"title": "New order", "summary": `), "invalid_json"},
		{"NotJSONContent", openaitest.Content("Here is your summary: a new order arrived."), "invalid_json"},
		{"InvalidJSONBody", openaitest.Reply{InvalidJSON: true}, "bad_response"},
		{"Refusal", openaitest.Refusal("I can't help with that."), "refusal"},
		{"ContentFilter", openaitest.Reply{Content: "{}", FinishReason: "content_filter"}, "refusal"},
		{"CutAtLength", openaitest.Reply{Content: `{"title":"x","summary":"y","facts":[],"importance":"low","link":"","action":""}`, FinishReason: "length"}, "invalid_json"},
		{"NoTitle", openaitest.JSON(map[string]any{"source": "", "event": "", "summary": "s", "facts": []any{}, "importance": "low", "link": "", "action": ""}), "schema"},
		{"EmptySummary", openaitest.JSON(map[string]any{"source": "", "event": "", "title": "t", "summary": " ", "facts": []any{}, "importance": "low", "link": "", "action": ""}), "schema"},
		{"ImportanceNotInEnum", openaitest.JSON(map[string]any{"source": "", "event": "", "title": "t", "summary": "s", "facts": []any{}, "importance": "urgent", "link": "", "action": ""}), "schema"},
		{"FactsWrongType", openaitest.JSON(map[string]any{"source": "", "event": "", "title": "t", "summary": "s", "facts": "none", "importance": "low", "link": "", "action": ""}), "invalid_json"},
		{"NoSource", openaitest.JSON(map[string]any{"event": "", "title": "t", "summary": "s", "facts": []any{}, "importance": "low", "link": "", "action": ""}), "schema"},
		{"FactWithoutValue", openaitest.JSON(map[string]any{"source": "", "event": "", "title": "t", "summary": "s", "facts": []any{map[string]any{"label": "x"}}, "importance": "low", "link": "", "action": ""}), "schema"},
	}
	for _, tt := range fallbacks {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.Start(t)
			s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return tt.reply })
			a, logs := newAgent(t, s, 5*time.Second)
			n, _ := a.Summarize(ctx, story(), "en")
			if diff := diff(agent.Format(story(), "en", bundle), n); diff != "" {
				t.Errorf("not the formatter's notification (want, got):\n%s", diff)
			}
			log := logs.String()
			if !strings.Contains(log, "level=WARN") || !strings.Contains(log, "reason="+tt.reason) {
				t.Errorf("log lacks a warning with reason=%s:\n%s", tt.reason, log)
			}
			for _, leak := range []string{"Иван", "12345", "9900"} {
				if strings.Contains(log, leak) {
					t.Errorf("log leaks payload content %q:\n%s", leak, log)
				}
			}
		})
	}

	t.Run("Timeout", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			r := openaitest.JSON(goodReply())
			r.Delay = 10 * time.Second
			return r
		})
		const limit = 200 * time.Millisecond
		a, logs := newAgent(t, s, limit)
		start := time.Now()
		n, _ := a.Summarize(ctx, story(), "en")
		if took := time.Since(start); took > limit+time.Second {
			t.Errorf("Summarize took %v with a %v timeout", took, limit)
		}
		if n.ByLLM {
			t.Error("ByLLM after a timeout")
		}
		if diff := diff(agent.Format(story(), "en", bundle), n); diff != "" {
			t.Errorf("not the formatter's notification (want, got):\n%s", diff)
		}
		if !strings.Contains(logs.String(), "reason=timeout") {
			t.Errorf("log lacks reason=timeout:\n%s", logs.String())
		}
	})

	t.Run("CallerCanceled", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Delay(10 * time.Second) })
		a, _ := newAgent(t, s, 20*time.Second)
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		n, _ := a.Summarize(ctx, story(), "en")
		if took := time.Since(start); took > 2*time.Second || n.ByLLM {
			t.Errorf("took %v, ByLLM %v", took, n.ByLLM)
		}
	})

	t.Run("WrongKey", func(t *testing.T) {
		s := openaitest.Start(t)
		a := agent.New(agent.Config{APIKey: "sk-wrong", BaseURL: s.URL(), Timeout: time.Second}, bundle, nil)
		if n, _ := a.Summarize(ctx, story(), "en"); n.ByLLM {
			t.Error("ByLLM with a wrong key")
		}
	})

	t.Run("UnknownModel", func(t *testing.T) {
		s := openaitest.Start(t)
		a := agent.New(agent.Config{APIKey: s.Key(), BaseURL: s.URL(), Model: "gpt-nonexistent", Timeout: time.Second}, bundle, nil)
		if n, _ := a.Summarize(ctx, story(), "en"); n.ByLLM {
			t.Error("ByLLM with an unknown model")
		}
	})

	t.Run("NoKey", func(t *testing.T) {
		s := openaitest.Start(t)
		a := agent.New(agent.Config{BaseURL: s.URL()}, bundle, nil)
		if a.LLMEnabled() {
			t.Error("LLMEnabled without a key")
		}
		n, usage := a.Summarize(ctx, story(), "ru")
		if diff := diff(agent.Format(story(), "ru", bundle), n); diff != "" {
			t.Errorf("not the formatter's notification (want, got):\n%s", diff)
		}
		if usage != (agent.Usage{}) || len(s.Requests()) != 0 {
			t.Errorf("usage %+v, %d requests without a key", usage, len(s.Requests()))
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := openaitest.Start(t)
		a, _ := newAgent(t, s, 5*time.Second)
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ev := story()
				ev.Body = []byte(fmt.Sprintf(`{"event":"new_order","order_id":%d}`, i))
				if n, _ := a.Summarize(ctx, ev, "en"); !n.ByLLM {
					t.Error("concurrent Summarize fell back")
				}
			}()
		}
		wg.Wait()
		if got := len(s.Requests()); got != 8 {
			t.Errorf("%d requests for 8 different events, want 8", got)
		}
	})
}

func TestAgent_SummarizeLink(t *testing.T) {
	body := `{"event":"new_order","order_id":12345,"url":"https://shop.example/orders/12345","admin":"https:\/\/shop.example\/admin\/12345",` +
		`"note":"Pay at https://pay.example/inv/12345 today.","form":{"next":"  https://shop.example/orders/12345/next  "}}`
	ev := agent.Event{ID: "e", Webhook: "orders", ContentType: "application/json", Body: []byte(body)}
	tests := []struct {
		name, link, want string
	}{
		{"Invented", "https://evil.example/phish", "https://shop.example/orders/12345"}, // the formatter's link instead
		{"InPayload", "https://shop.example/orders/12345", "https://shop.example/orders/12345"},
		{"EscapedInPayload", "https://shop.example/admin/12345", "https://shop.example/admin/12345"},
		{"Prefix", "https://shop.example/orders/1234", "https://shop.example/orders/12345"}, // a prefix of a payload URL is another URL
		{"Longer", "https://shop.example/orders/12345/pay", "https://shop.example/orders/12345"},
		{"NotHTTP", "javascript:alert(1)", "https://shop.example/orders/12345"},
		{"InFreeText", "https://pay.example/inv/12345", "https://shop.example/orders/12345"}, // a URL inside text is the sender's words, not a field
		{"NestedFieldSpaces", "https://shop.example/orders/12345/next", "https://shop.example/orders/12345/next"},
		{"Empty", "", "https://shop.example/orders/12345"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openaitest.Start(t)
			r := goodReply()
			r.Link = tt.link
			s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.JSON(r) })
			a, _ := newAgent(t, s, 5*time.Second)
			n, _ := a.Summarize(context.Background(), ev, "en")
			if !n.ByLLM {
				t.Fatal("the reply was not used")
			}
			if n.Link != tt.want {
				t.Errorf("Link = %q, want %q", n.Link, tt.want)
			}
		})
	}
	t.Run("InventedWithoutFallback", func(t *testing.T) {
		s := openaitest.Start(t)
		r := goodReply()
		r.Link = "https://evil.example/phish"
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.JSON(r) })
		a, _ := newAgent(t, s, 5*time.Second)
		n, _ := a.Summarize(context.Background(), story(), "en")
		if n.Link != "" {
			t.Errorf("Link = %q, want none", n.Link)
		}
	})
}

func TestAgent_SummarizeClamps(t *testing.T) {
	s := openaitest.Start(t)
	r := goodReply()
	r.Title = strings.Repeat("T", 5000) + "<b>"
	r.Summary = strings.Repeat("S ", 5000)
	r.Facts = nil
	for i := 0; i < 50; i++ {
		r.Facts = append(r.Facts, agent.Fact{Label: strings.Repeat("L", 500), Value: strings.Repeat("V", 5000)})
	}
	r.Importance = "High"
	s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.JSON(r) })
	a, _ := newAgent(t, s, 5*time.Second)
	n, _ := a.Summarize(context.Background(), story(), "en")
	if !n.ByLLM {
		t.Fatal("the reply was not used")
	}
	if len([]rune(n.Title)) > 256 || len([]rune(n.Summary)) > 1500 || len(n.Facts) > 10 {
		t.Errorf("not clamped: title %d, summary %d runes, %d facts", len([]rune(n.Title)), len([]rune(n.Summary)), len(n.Facts))
	}
	for _, f := range n.Facts {
		if len([]rune(f.Label)) > 64 || len([]rune(f.Value)) > 300 {
			t.Errorf("fact not clamped: %d, %d runes", len([]rune(f.Label)), len([]rune(f.Value)))
		}
	}
	if n.Importance != agent.ImportanceHigh {
		t.Errorf("Importance = %q", n.Importance)
	}
	text := visible(t, agent.Render(n, bundle).HTML)
	if utf16Len(text) > agent.MaxMessageLen {
		t.Errorf("rendered %d units", utf16Len(text))
	}
}

func TestAgent_SummarizeRequest(t *testing.T) {
	secrets := []string{"hunter2-very-secret", "sk-live-abcdefghijklmnopqrstu", "4242424242424242", "Bearer-ish-xyz987"}
	body := `{"event":"new_order","order_id":12345,"amount":9900,"customer":"Иван Петров",
		"password":"hunter2-very-secret","api_key":"sk-live-abcdefghijklmnopqrstu",
		"payment":{"card_number":"4242424242424242"},"auth":{"token":"Bearer-ish-xyz987"},
		"notes":"` + strings.Repeat("long text ", 5000) + `"}`
	ev := agent.Event{
		ID: "e", Webhook: "orders", ContentType: "application/json", Body: []byte(body),
		Headers: map[string]string{"Content-Type": "application/json", "X-Shop-Event": "order.created", "X-Shop-Token": "Bearer-ish-xyz987", "Cookie": "hunter2-very-secret"},
	}
	s := openaitest.Start(t)
	a, _ := newAgent(t, s, 5*time.Second)
	for _, lang := range []string{"ru", "en"} {
		a.Summarize(context.Background(), ev, lang)
	}
	reqs := s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	req := reqs[0]
	if got, want := req.Model, "gpt-4o-mini"; got != want {
		t.Errorf("model %q, want %q", got, want)
	}
	rf := req.ResponseFormat
	if rf == nil || rf.Type != openai.ChatCompletionResponseFormatTypeJSONSchema || rf.JSONSchema == nil || !rf.JSONSchema.Strict {
		t.Fatalf("response_format is not a strict JSON schema: %+v", rf)
	}
	schema, _ := json.Marshal(rf.JSONSchema.Schema)
	var def struct {
		Required   []string `json:"required"`
		Properties map[string]struct {
			Enum []string `json:"enum"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(schema, &def); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(def.Required, ","), "source,event,title,summary,facts,importance,link,action"; got != want {
		t.Errorf("required %s, want %s", got, want)
	}
	if got, want := strings.Join(def.Properties["importance"].Enum, ","), "low,normal,high"; got != want {
		t.Errorf("importance enum %s, want %s", got, want)
	}
	if len(req.Messages) != 2 || req.Messages[0].Role != openai.ChatMessageRoleSystem || req.Messages[1].Role != openai.ChatMessageRoleUser {
		t.Fatalf("messages: %+v", req.Messages)
	}
	system, user := req.Messages[0].Content, req.Messages[1].Content
	for _, want := range []string{"Russian", "untrusted"} {
		if !strings.Contains(system, want) {
			t.Errorf("system prompt lacks %q:\n%s", want, system)
		}
	}
	if !strings.Contains(reqs[1].Messages[0].Content, "English") {
		t.Errorf("the en system prompt does not ask for English")
	}
	for _, want := range []string{"orders", "new_order", "X-Shop-Event: order.created", "customer: Иван Петров", "order_id: 12345", "password: ••••"} {
		if !strings.Contains(user, want) {
			t.Errorf("user message lacks %q", want)
		}
	}
	if n := len([]rune(user)); n > 6000 {
		t.Errorf("user message is %d runes, over the budget", n)
	}
	raw, _ := json.Marshal(reqs)
	for _, secret := range secrets {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the request carries the secret %q", secret)
		}
	}
}
