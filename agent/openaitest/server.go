// Package openaitest is an OpenAI-compatible Chat Completions server on
// httptest for tests: point the real go-openai client at URL() and script
// what the "model" answers. It is strict where the real API is and that is
// cheap to be: the API key, the model name, required fields, strict JSON
// schemas, the word "json" that JSON mode requires in the messages. It can
// play servers that are stricter still: ones without structured outputs
// (SupportResponseFormats), a small context window (SetContextWindow, with
// OpenAI's or llama.cpp's error), a reasoning model that refuses a
// temperature (RefuseTemperature).
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultKey is the API key the server accepts unless SetKey changes it.
const DefaultKey = "sk-test"

// Models are the model names the server knows at start; others get 404
// model_not_found, as from the real API.
var Models = []string{
	"gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
	"gpt-5", "gpt-5-mini", "gpt-5-nano", "o4-mini", "test-model",
}

// Reply is one scripted answer. The zero Reply answers the default: a valid
// structured reply built from the request.
type Reply struct {
	Content          string        // the assistant message's content, used as is
	Refusal          string        // answer a refusal (content null) instead
	Status           int           // answer this HTTP status with OpenAI's error JSON
	ErrorType        string        // the error's "type"; derived from Status when empty
	ErrorCode        string        // the error's "code", e.g. "rate_limit_exceeded"
	ErrorMessage     string        // the error's "message"
	Delay            time.Duration // wait this long first (returns early if the client goes away)
	InvalidJSON      bool          // answer a 200 whose body is not JSON at all
	FinishReason     string        // "stop" when empty; "length", "content_filter"…
	PromptTokens     int           // usage override; estimated from the request when zero
	CompletionTokens int           // usage override; estimated from the reply when zero
}

// Content answers content as the assistant message.
func Content(content string) Reply { return Reply{Content: content} }

// JSON answers v, marshaled, as the assistant message.
func JSON(v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("openaitest: JSON: %v", err))
	}
	return Reply{Content: string(b)}
}

// Refusal answers a refusal.
func Refusal(text string) Reply { return Reply{Refusal: text} }

// Status answers an HTTP error status with OpenAI's error JSON.
func Status(code int, message string) Reply { return Reply{Status: code, ErrorMessage: message} }

// Delay answers the default reply after d.
func Delay(d time.Duration) Reply { return Reply{Delay: d} }

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	key      string
	models   map[string]bool
	formats  map[openai.ChatCompletionResponseFormatType]bool // nil: all
	window   int                                              // context window in tokens; 0: unlimited
	style    ErrorStyle                                       // whose errors a full context answers
	noTemp   bool                                             // a temperature other than 1 is refused
	respond  func(openai.ChatCompletionRequest) Reply
	requests []openai.ChatCompletionRequest
	seq      int
}

// NewServer starts a fake; Close stops it. Tests use Start, which closes it
// when the test ends.
func NewServer() *Server {
	s := &Server{key: DefaultKey, models: map[string]bool{}}
	for _, m := range Models {
		s.models[m] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.handleChatCompletions)
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "unknown_url",
			fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), nil)
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the base URL to use as OPENAI_BASE_URL ("http://127.0.0.1:port/v1").
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Close stops the server, waiting for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// Key is the API key the server accepts.
func (s *Server) Key() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key
}

// SetKey changes the API key the server accepts.
func (s *Server) SetKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.key = key
}

// AddModel makes the server know a model name.
func (s *Server) AddModel(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models[name] = true
}

// SupportResponseFormats makes the server accept only these response_format
// types ("json_schema", "json_object", "text") and answer 400 to the others,
// as servers without structured outputs do (a request without
// response_format is always accepted). With no arguments every type is
// accepted again.
func (s *Server) SupportResponseFormats(types ...openai.ChatCompletionResponseFormatType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(types) == 0 {
		s.formats = nil
		return
	}
	s.formats = map[openai.ChatCompletionResponseFormatType]bool{}
	for _, t := range types {
		s.formats[t] = true
	}
}

// ErrorStyle is whose error JSON the server answers with where servers
// differ.
type ErrorStyle int

// Error styles.
const (
	OpenAIErrors   ErrorStyle = iota // {"error": {"message", "type", "param", "code": "context_length_exceeded"}}
	LlamaCppErrors                   // llama-server's: {"error": {"code": 400, "message", "type": "exceed_context_size_error", "n_prompt_tokens", "n_ctx"}}
)

// SetContextWindow makes the server answer 400 to a request whose messages
// take more than tokens (estimated at four bytes a token), with the error
// in style, as servers with a small context do. Zero removes the limit.
// Completion tokens are not counted, as llama.cpp counts them.
func (s *Server) SetContextWindow(tokens int, style ErrorStyle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window, s.style = tokens, style
}

// RefuseTemperature makes the server answer 400 to a temperature other
// than 1, whatever the model is called, as OpenAI's reasoning models do
// (and deployments of them under other names).
func (s *Server) RefuseTemperature(refuse bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noTemp = refuse
}

// Respond scripts the answers: f is called for every valid request, and its
// Reply is sent. A nil f restores the default.
func (s *Server) Respond(f func(req openai.ChatCompletionRequest) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// Requests returns the chat completion requests received with a valid key,
// in order, rejected ones (unknown model, missing messages) included.
func (s *Server) Requests() []openai.ChatCompletionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), s.requests...)
}

// Reset forgets the recorded requests.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// errorBody is OpenAI's error JSON.
// Specs: https://platform.openai.com/docs/guides/error-codes
type errorBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, typ, code, message string, param *string) {
	var e errorBody
	e.Error.Message, e.Error.Type, e.Error.Param = message, typ, param
	if code != "" {
		e.Error.Code = &code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

func ptr(s string) *string { return &s }

// authorized checks "Authorization: Bearer <key>" and answers 401 otherwise.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth == "":
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "",
			"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", nil)
		return false
	case !ok || key != s.Key():
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
			"Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", nil)
		return false
	}
	return true
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	var names []string
	for m := range s.models {
		names = append(names, m)
	}
	s.mu.Unlock()
	sort.Strings(names)
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list"}
	for _, m := range names {
		list.Data = append(list.Data, model{ID: m, Object: "model", Created: 1700000000, OwnedBy: "openaitest"})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

func (s *Server) handleChatCompletions(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Could not read the request body.", nil)
		return
	}
	var raw map[string]json.RawMessage
	var req openai.ChatCompletionRequest
	if json.Unmarshal(body, &raw) != nil || json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)", nil)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.seq++
	seq := s.seq
	knownModel := s.models[req.Model]
	respond := s.respond
	formatOK := req.ResponseFormat == nil || s.formats == nil || s.formats[req.ResponseFormat.Type]
	window, style, noTemp := s.window, s.style, s.noTemp
	s.mu.Unlock()

	switch {
	case req.Model == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter",
			"Missing required parameter: 'model'.", ptr("model"))
		return
	case len(raw["messages"]) == 0 || string(raw["messages"]) == "null":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter",
			"Missing required parameter: 'messages'.", ptr("messages"))
		return
	case len(req.Messages) == 0:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "empty_array",
			"Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", ptr("messages"))
		return
	case !knownModel:
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found",
			fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", req.Model), nil)
		return
	case req.Stream:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "unsupported_value",
			"openaitest does not stream.", ptr("stream"))
		return
	case !formatOK:
		// OpenAI's answer for a model without structured outputs.
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			fmt.Sprintf("Invalid parameter: 'response_format' of type '%s' is not supported with this model.", req.ResponseFormat.Type), ptr("response_format"))
		return
	case noTemp && req.Temperature != 0 && req.Temperature != 1:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "unsupported_value",
			fmt.Sprintf("Unsupported value: 'temperature' does not support %g with this model. Only the default (1) value is supported.", req.Temperature), ptr("temperature"))
		return
	case req.ResponseFormat != nil && req.ResponseFormat.Type == openai.ChatCompletionResponseFormatTypeJSONObject && !mentionsJSON(req):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.", ptr("messages"))
		return
	case window > 0 && estimateTokens(req) > window:
		writeContextError(w, style, estimateTokens(req), window)
		return
	}
	for i, m := range req.Messages {
		switch m.Role {
		case openai.ChatMessageRoleSystem, openai.ChatMessageRoleUser, openai.ChatMessageRoleAssistant,
			openai.ChatMessageRoleDeveloper, openai.ChatMessageRoleTool, openai.ChatMessageRoleFunction:
		default:
			writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_value",
				fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'tool', 'function', and 'developer'.", m.Role),
				ptr(fmt.Sprintf("messages[%d].role", i)))
			return
		}
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type == openai.ChatCompletionResponseFormatTypeJSONSchema {
		if rf.JSONSchema == nil || rf.JSONSchema.Schema == nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "missing_required_parameter",
				"Missing required parameter: 'response_format.json_schema'.", ptr("response_format.json_schema"))
			return
		}
		if rf.JSONSchema.Strict {
			if msg := checkStrict(rf.JSONSchema); msg != "" {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_json_schema",
					fmt.Sprintf("Invalid schema for response_format '%s': %s", rf.JSONSchema.Name, msg), ptr("response_format"))
				return
			}
		}
	}

	reply := Reply{}
	if respond != nil {
		reply = respond(req)
	}
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch {
	case reply.Status != 0 && (reply.Status < 200 || reply.Status > 299):
		typ := reply.ErrorType
		if typ == "" {
			typ = errorType(reply.Status)
		}
		msg := reply.ErrorMessage
		if msg == "" {
			msg = http.StatusText(reply.Status)
		}
		writeError(w, reply.Status, typ, reply.ErrorCode, msg, nil)
		return
	case reply.InvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": "chatcmpl-broken", "choices": [ {"message": `)
		return
	}
	s.writeCompletion(w, req, reply, seq)
}

// mentionsJSON reports messages with the word json, which OpenAI's JSON
// mode requires.
func mentionsJSON(req openai.ChatCompletionRequest) bool {
	for _, m := range req.Messages {
		if strings.Contains(strings.ToLower(m.Content), "json") {
			return true
		}
	}
	return false
}

// writeContextError answers a prompt of n tokens too long for a window.
func writeContextError(w http.ResponseWriter, style ErrorStyle, n, window int) {
	if style == LlamaCppErrors {
		// As llama-server v0.5.0 (node-llama-cpp 3.22.1's bundle) answers:
		// tools/server/server-context.cpp, ERROR_TYPE_EXCEED_CONTEXT_SIZE.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
			"code": 400, "message": fmt.Sprintf("request (%d tokens) exceeds the available context size (%d tokens), try increasing it", n, window),
			"type": "exceed_context_size_error", "n_prompt_tokens": n, "n_ctx": window,
		}})
		return
	}
	writeError(w, http.StatusBadRequest, "invalid_request_error", "context_length_exceeded",
		fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.", window, n),
		ptr("messages"))
}

func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "invalid_request_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// writeCompletion answers a chat.completion object.
// Specs: https://platform.openai.com/docs/api-reference/chat/object
func (s *Server) writeCompletion(w http.ResponseWriter, req openai.ChatCompletionRequest, reply Reply, seq int) {
	type message struct {
		Role    string  `json:"role"`
		Content *string `json:"content"`
		Refusal *string `json:"refusal"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     *int    `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
	}
	type usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
		TotalTokens      int `json:"total_tokens"`
	}
	msg := message{Role: openai.ChatMessageRoleAssistant}
	var out string
	switch {
	case reply.Refusal != "":
		msg.Refusal = &reply.Refusal
		out = reply.Refusal
	case reply.Content != "":
		msg.Content = &reply.Content
		out = reply.Content
	default:
		out = DefaultContent(req)
		msg.Content = &out
	}
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
	}
	u := usage{PromptTokens: reply.PromptTokens, CompletionTokens: reply.CompletionTokens}
	if u.PromptTokens == 0 {
		u.PromptTokens = estimateTokens(req)
	}
	if u.CompletionTokens == 0 {
		u.CompletionTokens = tokens(out)
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	resp := struct {
		ID                string   `json:"id"`
		Object            string   `json:"object"`
		Created           int64    `json:"created"`
		Model             string   `json:"model"`
		Choices           []choice `json:"choices"`
		Usage             usage    `json:"usage"`
		SystemFingerprint string   `json:"system_fingerprint"`
	}{
		ID:                fmt.Sprintf("chatcmpl-openaitest-%d", seq),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             req.Model,
		Choices:           []choice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage:             u,
		SystemFingerprint: "fp_openaitest",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// tokens estimates a text's token count the usual rough way: four bytes each.
func tokens(s string) int { return len(s)/4 + 1 }

func estimateTokens(req openai.ChatCompletionRequest) int {
	n := 0
	for _, m := range req.Messages {
		n += tokens(m.Content) + 4
		for _, p := range m.MultiContent {
			n += tokens(p.Text)
		}
	}
	return n
}

// DefaultContent is what the server answers when no reply is scripted: for a
// JSON schema, an object that satisfies it, its strings made from the first
// words of the payload (the last user message, from the line after one that
// starts with "Payload" when there is one; a "title" gets up to eight
// words); else those words as text.
func DefaultContent(req openai.ChatCompletionRequest) string {
	text := lastUser(req)
	for _, marker := range []string{"\nPayload", "\npayload"} {
		if i := strings.Index(text, marker); i >= 0 {
			if j := strings.IndexByte(text[i+1:], '\n'); j >= 0 {
				text = text[i+1+j+1:]
				break
			}
		}
	}
	words := firstWords(text, 8)
	if words == "" {
		words = "Event received"
	}
	rf := req.ResponseFormat
	if rf == nil || rf.JSONSchema == nil || rf.JSONSchema.Schema == nil {
		if rf != nil && rf.Type == openai.ChatCompletionResponseFormatTypeJSONObject {
			// A model in JSON mode follows a schema the prompt gives.
			if def := promptSchema(req); def != nil {
				b, _ := json.Marshal(sample(def, "", words))
				return string(b)
			}
			b, _ := json.Marshal(map[string]string{"title": words, "summary": words})
			return string(b)
		}
		return words
	}
	schema, err := json.Marshal(rf.JSONSchema.Schema)
	if err != nil {
		return words
	}
	var def map[string]any
	if err := json.Unmarshal(schema, &def); err != nil {
		return words
	}
	b, _ := json.Marshal(sample(def, "", words))
	return string(b)
}

// promptSchema is the first JSON schema of an object written in the
// system messages, nil when there is none.
func promptSchema(req openai.ChatCompletionRequest) map[string]any {
	for _, m := range req.Messages {
		if m.Role != openai.ChatMessageRoleSystem {
			continue
		}
		text := m.Content
		for i := strings.IndexByte(text, '{'); i >= 0; {
			var def map[string]any
			if json.NewDecoder(strings.NewReader(text[i:])).Decode(&def) == nil && def["type"] == "object" && def["properties"] != nil {
				return def
			}
			j := strings.IndexByte(text[i+1:], '{')
			if j < 0 {
				break
			}
			i += 1 + j
		}
	}
	return nil
}

func lastUser(req openai.ChatCompletionRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if m := req.Messages[i]; m.Role == openai.ChatMessageRoleUser {
			if m.Content != "" {
				return m.Content
			}
			for _, p := range m.MultiContent {
				if p.Text != "" {
					return p.Text
				}
			}
		}
	}
	return ""
}

// firstWords is the first n words of s made of letters and digits.
func firstWords(s string, n int) string {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-' && r != '.'
	})
	var out []string
	for _, f := range fields {
		if f = strings.Trim(f, "-."); f != "" {
			out = append(out, f)
		}
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, " ")
}

// sample builds a value that satisfies a (strict-mode) JSON schema.
func sample(def map[string]any, name, words string) any {
	if enum, ok := def["enum"].([]any); ok && len(enum) > 0 {
		for _, e := range enum { // a middle value reads as the unsurprising one
			if e == "normal" || e == "medium" {
				return e
			}
		}
		return enum[0]
	}
	if c, ok := def["const"]; ok {
		return c
	}
	typ := def["type"]
	if list, ok := typ.([]any); ok && len(list) > 0 {
		typ = list[0]
		for _, t := range list {
			if t == "null" && (name == "link" || name == "action") {
				return nil
			}
		}
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := def["properties"].(map[string]any)
		for k, p := range props {
			pd, _ := p.(map[string]any)
			out[k] = sample(pd, k, words)
		}
		return out
	case "array":
		return []any{}
	case "integer", "number":
		return 0
	case "boolean":
		return false
	case "null":
		return nil
	case "string":
		switch strings.ToLower(name) {
		case "title", "name", "headline", "subject":
			return words
		case "summary", "description", "text", "message":
			return "Summary: " + words + "."
		case "link", "url", "action", "source", "event":
			return ""
		}
		return words
	}
	if anyOf, ok := def["anyOf"].([]any); ok && len(anyOf) > 0 {
		d, _ := anyOf[0].(map[string]any)
		return sample(d, name, words)
	}
	return nil
}

// checkStrict reports why a schema breaks structured outputs' strict mode,
// "" when it does not: every object must list all its properties in
// required and forbid additional ones.
// Specs: https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
func checkStrict(js *openai.ChatCompletionResponseFormatJSONSchema) string {
	if js.Name == "" {
		return "a schema name is required"
	}
	b, err := json.Marshal(js.Schema)
	if err != nil {
		return "the schema is not JSON"
	}
	var def map[string]any
	if err := json.Unmarshal(b, &def); err != nil {
		return "the schema must be a JSON object"
	}
	if def["type"] != "object" {
		return "the root schema must be of type 'object'"
	}
	return walkStrict(def, "")
}

func walkStrict(def map[string]any, path string) string {
	if def["type"] == "object" {
		props, _ := def["properties"].(map[string]any)
		if ap, ok := def["additionalProperties"].(bool); !ok || ap {
			return fmt.Sprintf("In context=(%s), 'additionalProperties' is required to be supplied and to be false.", path)
		}
		required := map[string]bool{}
		if list, ok := def["required"].([]any); ok {
			for _, r := range list {
				if s, ok := r.(string); ok {
					required[s] = true
				}
			}
		}
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !required[k] {
				return fmt.Sprintf("In context=(%s), 'required' is required to be supplied and to be an array including every key in properties. Missing '%s'.", path, k)
			}
			if pd, ok := props[k].(map[string]any); ok {
				if msg := walkStrict(pd, path+"/properties/"+k); msg != "" {
					return msg
				}
			}
		}
	}
	if items, ok := def["items"].(map[string]any); ok {
		return walkStrict(items, path+"/items")
	}
	return ""
}
