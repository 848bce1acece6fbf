package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
)

// TestAgent_RealServer sends Herald's real requests, through the real
// client, to a real OpenAI-compatible server: llama.cpp's llama-server (the
// recipe is in README, section LLM). It is skipped unless
// HERALD_TEST_LLAMA_URL names the server's base URL
// ("http://127.0.0.1:8080/v1") and the server answers there. What it
// checks is the protocol, not the prose: each request is accepted in
// json_schema mode (no step down), and the answer is parsed into a
// notification or an answer.
func TestAgent_RealServer(t *testing.T) {
	base := os.Getenv("HERALD_TEST_LLAMA_URL")
	if base == "" {
		t.Skip("no real OpenAI-compatible server: set HERALD_TEST_LLAMA_URL=http://127.0.0.1:8080/v1 with llama-server running (README, section LLM)")
	}
	target, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		t.Fatalf("HERALD_TEST_LLAMA_URL: %v", err)
	}
	probe := &http.Client{Timeout: 5 * time.Second}
	resp, err := probe.Get(target.String() + "/models")
	if err != nil {
		t.Skipf("no server answers at HERALD_TEST_LLAMA_URL=%s: %v", base, err)
	}
	resp.Body.Close()

	// A recording proxy in front of the server: what Herald sent, and the
	// statuses it got.
	type exchange struct {
		request map[string]any
		status  int
		body    string
	}
	statuses := func(ex []exchange) string {
		var out []string
		for _, e := range ex {
			out = append(out, fmt.Sprintf("%d %s", e.status, clip(e.body, 300)))
		}
		return strings.Join(out, "\n")
	}
	var mu sync.Mutex
	var seen []exchange
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req map[string]any
		if in, ok := r.Request.Context().Value(bodyKey{}).([]byte); ok {
			_ = json.Unmarshal(in, &req)
		}
		mu.Lock()
		seen = append(seen, exchange{req, r.StatusCode, string(body)})
		mu.Unlock()
		return nil
	}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		r.Body = io.NopCloser(bytes.NewReader(in))
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, in)))
	}))
	t.Cleanup(front.Close)

	model := os.Getenv("HERALD_TEST_LLAMA_MODEL")
	if model == "" {
		model = "herald-test" // llama-server serves its one model under any name
	}
	key := os.Getenv("HERALD_TEST_LLAMA_KEY")
	if key == "" {
		key = "sk-no-key" // llama-server without --api-key takes any
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := agent.New(agent.Config{APIKey: key, BaseURL: front.URL + target.Path, Model: model, Timeout: 2 * time.Minute}, bundle, log)
	ctx := context.Background()
	take := func() []exchange {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}

	t.Run("Summary", func(t *testing.T) {
		n, usage := a.Summarize(ctx, story(), "en")
		ex := take()
		if !n.ByLLM {
			t.Fatalf("the answer was not used:\n%s\n%s", logs.String(), statuses(ex))
		}
		if len(ex) != 1 || ex[0].status != http.StatusOK {
			t.Fatalf("%d exchanges, want one accepted:\n%s", len(ex), statuses(ex))
		}
		rf, _ := ex[0].request["response_format"].(map[string]any)
		if rf["type"] != "json_schema" || ex[0].request["temperature"] != 0.2 {
			t.Errorf("request response_format %v, temperature %v", rf["type"], ex[0].request["temperature"])
		}
		if n.Title == "" || n.Summary == "" || usage.PromptTokens == 0 {
			t.Errorf("notification %+v, usage %+v", n, usage)
		}
		t.Logf("notification: %+v; usage %+v", n, usage)
	})

	t.Run("RussianUnknownSender", func(t *testing.T) {
		ev := agent.Event{ID: "ru", Webhook: "forms", ContentType: "application/x-www-form-urlencoded",
			Body: []byte("name=%D0%90%D0%BD%D0%BD%D0%B0&phone=%2B79000000000&formname=%D0%97%D0%B0%D1%8F%D0%B2%D0%BA%D0%B0")}
		n, _ := a.Summarize(ctx, ev, "ru")
		ex := take()
		if !n.ByLLM || len(ex) != 1 || ex[0].status != http.StatusOK {
			t.Fatalf("not summarized in one accepted request: %+v\n%s\n%s", n, statuses(ex), logs.String())
		}
	})

	t.Run("Ask", func(t *testing.T) {
		answer, _, err := a.Ask(ctx, agent.Question{Text: "what was the amount?", Lang: "en", Events: []agent.Event{story()}})
		ex := take()
		if err != nil || answer == "" {
			t.Fatalf("answer %q, %v\n%s", answer, err, statuses(ex))
		}
		if len(ex) != 1 || ex[0].status != http.StatusOK {
			t.Errorf("%d exchanges, want one accepted:\n%s", len(ex), statuses(ex))
		}
		t.Logf("answer: %q", answer)
	})

	t.Run("ContextTooLong", func(t *testing.T) {
		// With a small context (llama-server -c 1024) the first prompt of
		// a big payload is refused as too long; Herald asks again with less.
		var b strings.Builder
		b.WriteString(`{"event":"bulk_import","customer":"ACME"`)
		for i := range 100 {
			fmt.Fprintf(&b, `,"note_%d":"Note %d %s"`, i, i, strings.Repeat("lorem ipsum ", 30))
		}
		b.WriteString(`}`)
		ev := agent.Event{ID: "big", Webhook: "imports", ContentType: "application/json", Body: []byte(b.String())}
		n, _ := a.Summarize(ctx, ev, "en")
		ex := take()
		if len(ex) == 0 || ex[0].status == http.StatusOK {
			t.Skipf("the server's context holds a full prompt (%d exchanges): run llama-server with -c 1024 to check the shrinking", len(ex))
		}
		if !strings.Contains(ex[0].body, "context") {
			t.Errorf("the first refusal does not say the context is too long: %s", ex[0].body)
		}
		if !n.ByLLM {
			t.Fatalf("not summarized after the refusal:\n%s\n%s", statuses(ex), logs.String())
		}
		for i, e := range ex {
			rf, _ := e.request["response_format"].(map[string]any)
			if rf["type"] != "json_schema" {
				t.Errorf("exchange %d asked %v: a full context stepped the format down", i, rf["type"])
			}
		}
		t.Logf("exchanges:\n%s", statuses(ex))
	})
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bodyKey carries a request's body to the recording proxy's response hook.
type bodyKey struct{}
