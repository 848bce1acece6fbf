package tgemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the bot token of a Server made without WithToken. It has
// the shape of a real token: "<bot id>:<35 characters>".
const DefaultToken = "123456789:AAH-fake-token-for-tests_0123456789"

// DefaultBotUsername is the bot's username unless WithBotUsername is used.
const DefaultBotUsername = "herald_bot"

// Server is an in-memory fake of the Telegram Bot API
// (https://core.telegram.org/bots/api), served over HTTP by ServeHTTP at
// <base>/bot<token>/<method>, the way go-telegram/bot and every other client
// call the real one.
//
// Tests and the playground drive it through methods named after what a user
// does (UserSends, PressButton, UserBlocksBot, ...), which queue updates the
// bot receives by getUpdates or a webhook, and inspect what the bot did with
// Messages, Calls, Commands and friends. All methods are safe for concurrent
// use.
//
// Driving methods panic when asked for something impossible in Telegram
// (a group with a positive id, a private chat whose id is not its user's,
// editing a message that does not exist): those are bugs in the caller.
type Server struct {
	// Set by NewServer, read-only after.
	token           string
	botID           int64
	botUsername     string
	botName         string
	now             func() time.Time
	lenientHTML     bool
	groupPrivacy    bool
	webhookClient   *http.Client
	webhookAttempts int
	webhookBackoff  time.Duration

	wg sync.WaitGroup // webhook deliverers

	mu     sync.Mutex
	url    string
	wake   chan struct{} // closed and replaced on every change
	done   chan struct{} // closed by Close
	closed bool

	nextUpdateID int64
	pending      []queuedUpdate
	allowed      map[string]bool // nil: Telegram's default set
	poller       *poller
	webhook      webhookState

	users     map[int64]User
	chats     map[int64]*chatState
	callbacks map[string]*callbackState
	cbSeq     int64
	msgSeq    int64
	commands  map[string][]models.BotCommand
	actions   map[int64][]string
	faults    map[string][]Fault
	calls     []Call
	limits    *limiter
	n429      int
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bot token. It must look like a Telegram token,
// "<numeric bot id>:<secret>"; the bot id is taken from it.
func WithToken(token string) Option {
	return func(s *Server) {
		id, secret, ok := strings.Cut(token, ":")
		botID, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || botID <= 0 || secret == "" {
			panic(fmt.Sprintf("tgemu: malformed bot token %q", token))
		}
		s.token, s.botID = token, botID
	}
}

// WithBotUsername sets the bot's username (without '@').
func WithBotUsername(username string) Option {
	return func(s *Server) { s.botUsername = strings.TrimPrefix(username, "@") }
}

// WithBotName sets the bot's first_name.
func WithBotName(name string) Option {
	return func(s *Server) { s.botName = name }
}

// WithLimits enables flood control with DefaultLimits.
func WithLimits() Option {
	return WithCustomLimits(DefaultLimits())
}

// WithCustomLimits enables flood control with the given limits.
func WithCustomLimits(l Limits) Option {
	return func(s *Server) { s.limits = newLimiter(l) }
}

// WithClock replaces time.Now for message dates, flood control and call
// times.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithLenientHTML makes parse_mode=HTML exactly as tolerant as Telegram: a
// '&' that starts no known entity is kept as is, the ';' ending an entity is
// optional and <a> without href links its own text. By default the fake
// rejects all three, because they mean the text was not escaped.
func WithLenientHTML() Option {
	return func(s *Server) { s.lenientHTML = true }
}

// WithGroupPrivacy emulates the privacy mode of bots
// (https://core.telegram.org/bots/features#privacy-mode): in groups the bot
// only receives commands, replies to its messages, mentions of it and
// service messages, unless it is an administrator. By default the bot gets
// every message, as with privacy mode disabled in BotFather.
func WithGroupPrivacy() Option {
	return func(s *Server) { s.groupPrivacy = true }
}

// WithWebhookClient sets the HTTP client that delivers updates to the
// webhook, e.g. one trusting an httptest TLS server.
func WithWebhookClient(c *http.Client) Option {
	return func(s *Server) { s.webhookClient = c }
}

// WithWebhookRetry sets how many times an update is posted to a failing
// webhook before it is dropped, and the delay before the first retry
// (doubled after each). Defaults: 5 attempts, 50ms.
func WithWebhookRetry(attempts int, backoff time.Duration) Option {
	return func(s *Server) { s.webhookAttempts, s.webhookBackoff = max(1, attempts), backoff }
}

// NewServer returns a fake Bot API. Serve it with ServeHTTP, e.g. through
// an http.Server on a listener, mounted on a mux, or through httptest
// (telegramtest.Start in tests), and tell it its URL with SetURL.
func NewServer(opts ...Option) *Server {
	s := &Server{
		botUsername:     DefaultBotUsername,
		botName:         "Herald",
		now:             time.Now,
		webhookClient:   &http.Client{Timeout: 10 * time.Second},
		webhookAttempts: 5,
		webhookBackoff:  50 * time.Millisecond,
		wake:            make(chan struct{}),
		done:            make(chan struct{}),
		nextUpdateID:    700000001,
		users:           map[int64]User{},
		chats:           map[int64]*chatState{},
		callbacks:       map[string]*callbackState{},
		commands:        map[string][]models.BotCommand{},
		actions:         map[int64][]string{},
		faults:          map[string][]Fault{},
	}
	WithToken(DefaultToken)(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Token returns the bot token to give the client.
func (s *Server) Token() string { return s.token }

// BotID returns the bot's user id (the numeric prefix of the token).
func (s *Server) BotID() int64 { return s.botID }

// BotUsername returns the bot's username, without '@'.
func (s *Server) BotUsername() string { return s.botUsername }

// BotUser returns the bot as a User.
func (s *Server) BotUser() User {
	return User{ID: s.botID, FirstName: s.botName, Username: s.botUsername, IsBot: true}
}

// URL returns the base URL set by SetURL (by telegramtest.Start in tests),
// to give to the client, e.g. bot.WithServerURL(s.URL()).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// SetURL records the base URL the server is reachable at, for URL.
func (s *Server) SetURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url = strings.TrimSuffix(u, "/")
}

// EnforceLimits turns flood control (with DefaultLimits) on or off.
func (s *Server) EnforceLimits(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		s.limits = nil
	} else if s.limits == nil {
		s.limits = newLimiter(DefaultLimits())
	}
}

// Close ends pending long polls (they answer an empty list) and stops
// webhook delivery. Later getUpdates calls answer at once. It does not stop
// the HTTP server hosting the fake.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		s.stopWebhookLocked()
		s.broadcastLocked()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// broadcastLocked wakes everything waiting for a change: long polls, the
// webhook deliverer, AwaitMessage.
func (s *Server) broadcastLocked() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// apiError is an unsuccessful answer of the Bot API.
type apiError struct {
	code       int
	desc       string
	retryAfter int
	migrateTo  int64
}

func badRequest(msg string) *apiError { return &apiError{code: 400, desc: "Bad Request: " + msg} }
func forbidden(msg string) *apiError  { return &apiError{code: 403, desc: "Forbidden: " + msg} }
func conflict(msg string) *apiError   { return &apiError{code: 409, desc: "Conflict: " + msg} }

var (
	errUnauthorized = &apiError{code: 401, desc: "Unauthorized"}
	errNotFound     = &apiError{code: 404, desc: "Not Found"}
	errChatNotFound = badRequest("chat not found")
)

// okResult is a successful answer with a description, as setWebhook gives.
type okResult struct {
	result any
	desc   string
}

// request is one API call being served.
type request struct {
	ctx    context.Context
	method string
	p      params
}

type methodFunc func(s *Server, r *request) (any, *apiError)

// methods maps lower-cased method names (the Bot API ignores their case) to
// their canonical name and implementation.
var methods = map[string]struct {
	name string
	fn   methodFunc
}{}

func register(name string, fn methodFunc) {
	methods[strings.ToLower(name)] = struct {
		name string
		fn   methodFunc
	}{name, fn}
}

// ServeHTTP answers Bot API requests. The path must end in
// /bot<token>/<method> (or /bot<token>/test/<method>), whatever the prefix
// before it, so the fake can be mounted anywhere. Parameters are taken from
// the query string and from multipart/form-data,
// application/x-www-form-urlencoded or application/json bodies, as the Bot
// API does (https://core.telegram.org/bots/api#making-requests).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if token != s.token {
		writeError(w, errUnauthorized)
		return
	}
	m, ok := methods[strings.ToLower(method)]
	if !ok {
		writeError(w, errNotFound)
		return
	}
	p, perr := parseParams(r)
	call := Call{Method: m.name, Params: maps.Clone(map[string]string(p)), Time: s.now()}
	if perr != nil {
		s.finish(w, call, nil, perr)
		return
	}

	if f, ok := s.takeFault(m.name); ok {
		if f.Arrived != nil {
			close(f.Arrived)
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
			case <-s.done:
			}
			t.Stop()
		}
		if f.DropConnection {
			s.record(call)
			panic(http.ErrAbortHandler)
		}
		if f.Body != "" {
			call.Code, call.Description = f.Code, f.Body
			s.record(call)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Code)
			io.WriteString(w, f.Body)
			return
		}
		if f.Code != 0 {
			desc := f.Description
			if desc == "" {
				desc = http.StatusText(f.Code)
			}
			s.finish(w, call, nil, &apiError{code: f.Code, desc: desc, retryAfter: f.RetryAfter, migrateTo: f.MigrateToChatID})
			return
		}
	}

	res, aerr := m.fn(s, &request{ctx: r.Context(), method: m.name, p: p})
	s.finish(w, call, res, aerr)
}

func (s *Server) finish(w http.ResponseWriter, call Call, res any, aerr *apiError) {
	if aerr != nil {
		call.Code, call.Description = aerr.code, aerr.desc
		if aerr.code == http.StatusTooManyRequests {
			s.mu.Lock()
			s.n429++
			s.mu.Unlock()
		}
		s.record(call)
		writeError(w, aerr)
		return
	}
	call.Code = http.StatusOK
	s.record(call)
	writeResult(w, res)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// splitPath finds "bot<token>/<method>" at the end of the path.
func splitPath(path string) (token, method string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(parts) < 2 {
		return "", "", false
	}
	method = parts[len(parts)-1]
	k := len(parts) - 2
	if parts[k] == "test" && k > 0 && strings.HasPrefix(parts[k-1], "bot") {
		k--
	}
	if !strings.HasPrefix(parts[k], "bot") || method == "" {
		return "", "", false
	}
	return strings.TrimPrefix(parts[k], "bot"), method, true
}

func writeResult(w http.ResponseWriter, res any) {
	var desc string
	if o, ok := res.(okResult); ok {
		res, desc = o.result, o.desc
	}
	body, err := json.Marshal(res)
	if err != nil {
		writeError(w, &apiError{code: 500, desc: "Internal Server Error: " + err.Error()})
		return
	}
	out := struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description,omitempty"`
	}{true, body, desc}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, e *apiError) {
	type parameters struct {
		MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
		RetryAfter      int   `json:"retry_after,omitempty"`
	}
	out := struct {
		OK          bool        `json:"ok"`
		ErrorCode   int         `json:"error_code"`
		Description string      `json:"description"`
		Parameters  *parameters `json:"parameters,omitempty"`
	}{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter != 0 || e.migrateTo != 0 {
		out.Parameters = &parameters{MigrateToChatID: e.migrateTo, RetryAfter: e.retryAfter}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.code)
	json.NewEncoder(w).Encode(out)
}

// params are the parameters of a call, as strings. JSON-valued parameters
// hold their JSON text, whichever way they came.
type params map[string]string

// parseParams reads parameters the four ways the Bot API accepts them. Body
// parameters override query ones.
func parseParams(r *http.Request) (params, *apiError) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			return p, badRequest("can't parse multipart/form-data request: " + err.Error())
		}
		for k, v := range r.MultipartForm.Value {
			p[k] = v[0]
		}
		for k, f := range r.MultipartForm.File {
			p[k] = "attach://" + f[0].Filename
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return p, badRequest("can't parse request: " + err.Error())
		}
		for k, v := range r.PostForm {
			p[k] = v[0]
		}
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return p, badRequest("can't read request body")
		}
		if len(bytes.TrimSpace(body)) == 0 {
			break
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return p, badRequest("can't parse JSON encoded request: " + err.Error())
		}
		for k, v := range obj {
			v = bytes.TrimSpace(v)
			switch {
			case bytes.Equal(v, []byte("null")):
			case len(v) > 0 && v[0] == '"':
				var str string
				json.Unmarshal(v, &str)
				p[k] = str
			default:
				var buf bytes.Buffer
				if json.Compact(&buf, v) == nil {
					p[k] = buf.String()
				}
			}
		}
	}
	return p, nil
}

func (p params) str(k string) string { return p[k] }

// int64 parses an integer parameter; absent or malformed is 0, false.
func (p params) int64(k string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(p[k]), 10, 64)
	return v, err == nil
}

func (p params) int(k string) int {
	v, _ := p.int64(k)
	return int(v)
}

// bool parses a Boolean parameter as the Bot API does.
func (p params) bool(k string) bool {
	switch strings.ToLower(strings.TrimSpace(p[k])) {
	case "true", "1":
		return true
	}
	return false
}

// FailNext queues f for the next call of method (case-insensitive). Faults
// queue per method and each is used by exactly one call, in order.
func (s *Server) FailNext(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(method)
	s.faults[k] = append(s.faults[k], f)
}

func (s *Server) takeFault(method string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(method)
	q := s.faults[k]
	if len(q) == 0 {
		return Fault{}, false
	}
	s.faults[k] = q[1:]
	return q[0], true
}

// Calls returns the calls of method (case-insensitive) served so far, in
// order. An empty method returns every call.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			c.Params = maps.Clone(c.Params)
			out = append(out, c)
		}
	}
	return out
}

// Count429 returns how many calls were answered 429 Too Many Requests, by
// flood control or by an injected Fault.
func (s *Server) Count429() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n429
}
