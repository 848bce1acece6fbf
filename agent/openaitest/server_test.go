package openaitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent/openaitest"
)

func client(s *openaitest.Server, key string) *openai.Client {
	cfg := openai.DefaultConfig(key)
	cfg.BaseURL = s.URL()
	return openai.NewClientWithConfig(cfg)
}

var schema = json.RawMessage(`{"type":"object","properties":{
	"title":{"type":"string"},"summary":{"type":"string"},
	"facts":{"type":"array","items":{"type":"object","properties":{"label":{"type":"string"},"value":{"type":"string"}},"required":["label","value"],"additionalProperties":false}},
	"importance":{"type":"string","enum":["low","normal","high"]},"link":{"type":"string"},"action":{"type":"string"}},
	"required":["title","summary","facts","importance","link","action"],"additionalProperties":false}`)

func request(model string) openai.ChatCompletionRequest {
	return openai.ChatCompletionRequest{
		Model: model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "Summarize."},
			{Role: openai.ChatMessageRoleUser, Content: `Webhook: orders {"event":"new_order","order_id":12345}`},
		},
		ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type:       openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{Name: "notification", Schema: schema, Strict: true},
		},
	}
}

// apiError asserts err is OpenAI's error JSON with status and code.
func apiError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *openai.APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *openai.APIError", err, err)
	}
	if e.HTTPStatusCode != status {
		t.Errorf("status %d, want %d", e.HTTPStatusCode, status)
	}
	if got, _ := e.Code.(string); got != code {
		t.Errorf("code %v, want %q", e.Code, code)
	}
	if e.Message == "" || e.Type == "" {
		t.Errorf("error without message or type: %+v", e)
	}
}

func TestServer_Default(t *testing.T) {
	s := openaitest.Start(t)
	if !strings.HasSuffix(s.URL(), "/v1") {
		t.Errorf("URL %q does not end in /v1", s.URL())
	}
	resp, err := client(s, openaitest.DefaultKey).CreateChatCompletion(context.Background(), request("gpt-4o-mini"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Object != "chat.completion" || resp.Model != "gpt-4o-mini" {
		t.Fatalf("response %+v", resp)
	}
	var out struct {
		Title, Summary, Importance, Link, Action string
		Facts                                    []any
	}
	if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &out); err != nil {
		t.Fatalf("default content is not JSON: %v: %s", err, resp.Choices[0].Message.Content)
	}
	if got, want := out.Title, "Webhook orders event new_order order_id 12345"; got != want {
		t.Errorf("title %q, want %q", got, want)
	}
	if out.Summary == "" || out.Importance != "normal" || out.Facts == nil {
		t.Errorf("default reply %+v", out)
	}
	if resp.Choices[0].FinishReason != openai.FinishReasonStop {
		t.Errorf("finish_reason %q", resp.Choices[0].FinishReason)
	}
	if u := resp.Usage; u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v", u)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].ResponseFormat == nil || reqs[0].ResponseFormat.JSONSchema == nil ||
		!reqs[0].ResponseFormat.JSONSchema.Strict || reqs[0].Messages[1].Role != openai.ChatMessageRoleUser {
		t.Fatalf("recorded %+v", reqs)
	}
	got, _ := json.Marshal(reqs[0].ResponseFormat.JSONSchema.Schema)
	if !strings.Contains(string(got), `"enum":["low","normal","high"]`) {
		t.Errorf("recorded schema %s", got)
	}

	t.Run("PayloadLine", func(t *testing.T) {
		req := request("gpt-4o-mini")
		req.Messages[1].Content = "Webhook name: orders\nPayload (untrusted data):\n{\"event\":\"new_order\",\"customer\":\"Иван Петров\"}"
		resp, err := client(s, openaitest.DefaultKey).CreateChatCompletion(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(resp.Choices[0].Message.Content, `"title":"event new_order customer Иван Петров"`) {
			t.Errorf("content %s", resp.Choices[0].Message.Content)
		}
	})
	t.Run("Text", func(t *testing.T) {
		req := request("gpt-4o-mini")
		req.ResponseFormat = nil
		resp, err := client(s, openaitest.DefaultKey).CreateChatCompletion(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resp.Choices[0].Message.Content, "Webhook orders event new_order order_id 12345"; got != want {
			t.Errorf("content %q, want %q", got, want)
		}
	})
}

func TestServer_Strict(t *testing.T) {
	s := openaitest.Start(t)
	ctx := context.Background()
	t.Run("NoKey", func(t *testing.T) {
		_, err := client(s, "").CreateChatCompletion(ctx, request("gpt-4o-mini"))
		apiError(t, err, http.StatusUnauthorized, "")
	})
	t.Run("WrongKey", func(t *testing.T) {
		_, err := client(s, "sk-wrong").CreateChatCompletion(ctx, request("gpt-4o-mini"))
		apiError(t, err, http.StatusUnauthorized, "invalid_api_key")
	})
	t.Run("SetKey", func(t *testing.T) {
		s := openaitest.Start(t)
		s.SetKey("sk-other")
		if _, err := client(s, "sk-other").CreateChatCompletion(ctx, request("gpt-4o-mini")); err != nil {
			t.Error(err)
		}
		_, err := client(s, openaitest.DefaultKey).CreateChatCompletion(ctx, request("gpt-4o-mini"))
		apiError(t, err, http.StatusUnauthorized, "invalid_api_key")
	})
	t.Run("UnknownModel", func(t *testing.T) {
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-nonexistent"))
		apiError(t, err, http.StatusNotFound, "model_not_found")
		s.AddModel("gpt-nonexistent")
		if _, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-nonexistent")); err != nil {
			t.Errorf("after AddModel: %v", err)
		}
	})
	t.Run("NoMessages", func(t *testing.T) {
		req := request("gpt-4o-mini")
		req.Messages = nil
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, req)
		apiError(t, err, http.StatusBadRequest, "missing_required_parameter")
	})
	t.Run("NonStrictSchema", func(t *testing.T) {
		req := request("gpt-4o-mini")
		req.ResponseFormat.JSONSchema.Schema = json.RawMessage(`{"type":"object","properties":{"title":{"type":"string"},"summary":{"type":"string"}},"required":["title"],"additionalProperties":false}`)
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, req)
		apiError(t, err, http.StatusBadRequest, "invalid_json_schema")
	})
	t.Run("BadRole", func(t *testing.T) {
		req := request("gpt-4o-mini")
		req.Messages[0].Role = "boss"
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, req)
		apiError(t, err, http.StatusBadRequest, "invalid_value")
	})
}

func TestServer_Respond(t *testing.T) {
	ctx := context.Background()
	t.Run("Content", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(req openai.ChatCompletionRequest) openaitest.Reply {
			return openaitest.Content("echo " + req.Model)
		})
		resp, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := resp.Choices[0].Message.Content, "echo gpt-4o"; got != want {
			t.Errorf("content %q, want %q", got, want)
		}
		s.Respond(nil)
		resp, err = client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o"))
		if err != nil || !strings.HasPrefix(resp.Choices[0].Message.Content, "{") {
			t.Errorf("Respond(nil) did not restore the default: %v %q", err, resp.Choices[0].Message.Content)
		}
	})
	t.Run("Refusal", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Refusal("I can't.") })
		resp, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini"))
		if err != nil {
			t.Fatal(err)
		}
		if m := resp.Choices[0].Message; m.Refusal != "I can't." || m.Content != "" {
			t.Errorf("message %+v", m)
		}
	})
	t.Run("Status", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			return openaitest.Reply{Status: 429, ErrorCode: "rate_limit_exceeded", ErrorMessage: "Slow down."}
		})
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini"))
		apiError(t, err, http.StatusTooManyRequests, "rate_limit_exceeded")
	})
	t.Run("InvalidJSON", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Reply{InvalidJSON: true} })
		if _, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini")); err == nil {
			t.Error("no error for a body that is not JSON")
		}
	})
	t.Run("Delay", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Delay(50 * time.Millisecond) })
		start := time.Now()
		if _, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini")); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 50*time.Millisecond {
			t.Errorf("answered after %v, before the delay", took)
		}
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Delay(time.Hour) })
		ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if _, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want the client's deadline", err)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		s := openaitest.Start(t)
		s.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			return openaitest.Reply{Content: "x", PromptTokens: 11, CompletionTokens: 7}
		})
		resp, err := client(s, s.Key()).CreateChatCompletion(ctx, request("gpt-4o-mini"))
		if err != nil {
			t.Fatal(err)
		}
		if u := resp.Usage; u.PromptTokens != 11 || u.CompletionTokens != 7 || u.TotalTokens != 18 {
			t.Errorf("usage %+v", u)
		}
	})
}

func TestServer_SupportResponseFormats(t *testing.T) {
	ctx := context.Background()
	s := openaitest.Start(t)
	s.SupportResponseFormats(openai.ChatCompletionResponseFormatTypeJSONObject)
	c := client(s, s.Key())

	_, err := c.CreateChatCompletion(ctx, request("gpt-4o-mini"))
	apiError(t, err, http.StatusBadRequest, "")
	var e *openai.APIError
	if errors.As(err, &e) && (e.Param == nil || *e.Param != "response_format") {
		t.Errorf("param %v, want response_format", e.Param)
	}

	req := request("gpt-4o-mini")
	req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	// JSON mode requires the word in the messages.
	_, err = c.CreateChatCompletion(ctx, req)
	apiError(t, err, http.StatusBadRequest, "")
	req.Messages[0].Content = "Summarize as JSON."
	resp, err := c.CreateChatCompletion(ctx, req)
	if err != nil {
		t.Fatalf("json_object: %v", err)
	}
	if !json.Valid([]byte(resp.Choices[0].Message.Content)) {
		t.Errorf("json_object answer is not JSON: %q", resp.Choices[0].Message.Content)
	}
	// A schema in the system prompt is followed.
	req.Messages[0].Content = "Answer in JSON matching this schema: " + string(schema) + " Thanks."
	resp, err = c.CreateChatCompletion(ctx, req)
	if err != nil {
		t.Fatalf("json_object with a schema in the prompt: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(resp.Choices[0].Message.Content), &got); err != nil || len(got) != 6 || got["importance"] != "normal" {
		t.Errorf("the answer does not follow the prompt's schema: %s", resp.Choices[0].Message.Content)
	}

	req.ResponseFormat = nil
	if _, err := c.CreateChatCompletion(ctx, req); err != nil {
		t.Errorf("without response_format: %v", err)
	}

	s.SupportResponseFormats()
	if _, err := c.CreateChatCompletion(ctx, request("gpt-4o-mini")); err != nil {
		t.Errorf("json_schema after SupportResponseFormats(): %v", err)
	}
	if got := len(s.Requests()); got != 6 {
		t.Errorf("%d requests recorded, want 6 (refused ones too)", got)
	}
}

func TestServer_SetContextWindow(t *testing.T) {
	ctx := context.Background()
	long := request("gpt-4o-mini")
	long.Messages[1].Content = strings.Repeat("word ", 400) // about 500 tokens
	t.Run("OpenAI", func(t *testing.T) {
		s := openaitest.Start(t)
		s.SetContextWindow(100, openaitest.OpenAIErrors)
		c := client(s, s.Key())
		_, err := c.CreateChatCompletion(ctx, long)
		apiError(t, err, http.StatusBadRequest, "context_length_exceeded")
		var e *openai.APIError
		if errors.As(err, &e) && !strings.Contains(e.Message, "maximum context length is 100 tokens") {
			t.Errorf("message %q", e.Message)
		}
		if _, err := c.CreateChatCompletion(ctx, request("gpt-4o-mini")); err != nil {
			t.Errorf("a short request: %v", err)
		}
		s.SetContextWindow(0, openaitest.OpenAIErrors)
		if _, err := c.CreateChatCompletion(ctx, long); err != nil {
			t.Errorf("without a window: %v", err)
		}
	})
	t.Run("LlamaCpp", func(t *testing.T) {
		s := openaitest.Start(t)
		s.SetContextWindow(100, openaitest.LlamaCppErrors)
		_, err := client(s, s.Key()).CreateChatCompletion(ctx, long)
		var e *openai.APIError
		if !errors.As(err, &e) {
			t.Fatalf("error %v (%T), want *openai.APIError", err, err)
		}
		// llama.cpp's code is the status, a number.
		if e.HTTPStatusCode != 400 || e.Type != "exceed_context_size_error" || e.Code != 400 ||
			!strings.Contains(e.Message, "exceeds the available context size (100 tokens), try increasing it") {
			t.Errorf("error %+v", e)
		}
	})
}

func TestServer_RefuseTemperature(t *testing.T) {
	ctx := context.Background()
	s := openaitest.Start(t)
	c := client(s, s.Key())
	req := request("gpt-4o-mini")
	req.Temperature = 0.2
	if _, err := c.CreateChatCompletion(ctx, req); err != nil {
		t.Fatalf("temperature 0.2: %v", err)
	}
	if got := s.Requests()[0].Temperature; got != 0.2 {
		t.Errorf("temperature recorded as %v", got)
	}
	s.RefuseTemperature(true)
	_, err := c.CreateChatCompletion(ctx, req)
	apiError(t, err, http.StatusBadRequest, "unsupported_value")
	req.Temperature = 0
	if _, err := c.CreateChatCompletion(ctx, req); err != nil {
		t.Errorf("without a temperature: %v", err)
	}
}
