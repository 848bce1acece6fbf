package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

const publicURL = "http://herald.test:8080"

// env is a Playground served over HTTP with its emulator and a database.
// The tests play the bot themselves, through the emulator's Bot API.
type env struct {
	pg  *Playground
	tg  *tgemu.Server
	db  *storage.DB
	url string // the playground server's base URL
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	tg := tgemu.NewServer()
	pg := New(tg, db, Config{PublicURL: publicURL + "/"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(pg.Handler())
	tg.SetURL(ts.URL + APIPath)
	t.Cleanup(func() {
		pg.Close()
		tg.Close()
		ts.Close()
	})
	return &env{pg: pg, tg: tg, db: db, url: ts.URL}
}

// botCall calls the emulated Bot API as the bot does and returns "result".
func (e *env) botCall(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	body, _ := json.Marshal(params)
	resp, err := http.Post(e.tg.URL()+"/bot"+e.tg.Token()+"/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		t.Fatalf("%s: %v %s", method, err, out.Description)
	}
	return out.Result
}

func (e *env) postJSON(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.url+Path+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (e *env) state(t *testing.T, query string) stateResponse {
	t.Helper()
	resp, err := http.Get(e.url + Path + "/api/state?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("state?%s: %d %s", query, resp.StatusCode, b)
	}
	var st stateResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func chatByKey(t *testing.T, st stateResponse, key string) chatView {
	t.Helper()
	for _, c := range st.Chats {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("state has no %s chat: %+v", key, st.Chats)
	return chatView{}
}

var alice, bob = people[0].user, people[1].user

func TestPlayground_Page(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path, wantType, wantBody string
		wantCode                 int
	}{
		{Path, "text/html", `<script src="/playground/static/app.js"`, 200},
		{Path + "/", "text/html", `id="messages"`, 200},
		{Path + "/static/app.js", "javascript", "renderText", 200},
		{Path + "/static/style.css", "text/css", ".bubble", 200},
		{Path + "/static/nope.js", "", "", 404},
		{Path + "/nope", "application/json", `"error"`, 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(e.url + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if got, want := resp.StatusCode, tc.wantCode; got != want {
				t.Fatalf("status %d, want %d", got, want)
			}
			if !strings.Contains(resp.Header.Get("Content-Type"), tc.wantType) {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body has no %q", tc.wantBody)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("Content-Security-Policy %q keeps no script out", csp)
			}
		})
	}
}

// TestPlayground_PageNeverParsesHTML guards the rule that makes the page
// safe: message texts are built with text nodes, never parsed as markup.
func TestPlayground_PageNeverParsesHTML(t *testing.T) {
	js, err := staticFiles.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if bytes.Contains(js, []byte(bad)) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}

func TestPlayground_Send(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		code, m := e.postJSON(t, "/api/send", map[string]string{"as": "alice", "chat": "private", "text": " /newtoken demo ", "lang": "ru"})
		if code != 200 || m["message_id"] != float64(1) {
			t.Fatalf("send: %d %v", code, m)
		}
		hist := e.tg.ChatHistory(alice.ID)
		if len(hist) != 1 {
			t.Fatalf("alice's chat has %d messages, want 1", len(hist))
		}
		got := hist[0]
		if got.Text != "/newtoken demo" || got.From.ID != alice.ID || got.From.LanguageCode != "ru" {
			t.Errorf("message %+v, want /newtoken demo from alice in ru", got)
		}
		if len(got.Entities) != 1 || got.Entities[0].Type != "bot_command" {
			t.Errorf("entities %+v, want the bot_command", got.Entities)
		}
		if n := e.tg.PendingUpdates(); n != 1 {
			t.Errorf("pending updates %d, want 1 for the bot", n)
		}
	})
	t.Run("Group", func(t *testing.T) {
		e := newEnv(t)
		if code, m := e.postJSON(t, "/api/send", map[string]string{"as": "bob", "chat": "group", "text": "hello"}); code != 200 {
			t.Fatalf("send: %d %v", code, m)
		}
		hist := e.tg.ChatHistory(group.ID)
		if len(hist) != 1 || hist[0].From.ID != bob.ID {
			t.Fatalf("group history %v, want bob's message", hist)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		e := newEnv(t)
		for _, tc := range []struct {
			name string
			body any
			want int
		}{
			{"unknown person", map[string]string{"as": "mallory", "chat": "private", "text": "hi"}, 400},
			{"unknown chat", map[string]string{"as": "alice", "chat": "channel", "text": "hi"}, 400},
			{"empty", map[string]string{"as": "alice", "chat": "private", "text": "  "}, 400},
			{"too long", map[string]string{"as": "alice", "chat": "private", "text": strings.Repeat("я", 4097)}, 400},
			{"not JSON", "{", 400},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body, _ := json.Marshal(tc.body)
				if s, ok := tc.body.(string); ok {
					body = []byte(s)
				}
				resp, err := http.Post(e.url+Path+"/api/send", "application/json", bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
				}
			})
		}
		// A form another site could post without a CORS preflight.
		resp, err := http.Post(e.url+Path+"/api/send", "text/plain", strings.NewReader(`{"as":"alice","chat":"private","text":"hi"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.StatusCode, http.StatusUnsupportedMediaType; got != want {
			t.Errorf("text/plain: status %d, want %d", got, want)
		}
		if n := len(e.tg.ChatHistory(alice.ID)); n != 0 {
			t.Errorf("refused requests left %d messages", n)
		}
	})
}

func TestPlayground_State(t *testing.T) {
	e := newEnv(t)
	e.tg.UserSends(alice, tgemu.PrivateChat(alice), "/start")
	e.botCall(t, "sendMessage", map[string]any{
		"chat_id":    alice.ID,
		"parse_mode": "HTML",
		"text":       `Hi <b>Алиса</b> 👋 <code>/newtoken x</code> <a href="https://example.com/a?b=1&amp;c=2">docs</a> <i>&lt;script&gt;</i>`,
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{
			{{"text": "Delete", "callback_data": "revoke demo"}, {"text": "Open", "url": "https://example.com/"}},
		}},
	})
	e.botCall(t, "setMyCommands", map[string]any{"commands": []map[string]string{{"command": "start", "description": "Start"}}})
	e.botCall(t, "setMyCommands", map[string]any{"language_code": "ru", "commands": []map[string]string{{"command": "start", "description": "Начать"}}})

	st := e.state(t, "as=alice&lang=ru")
	if st.As != "alice" || st.Bot.Username != tgemu.DefaultBotUsername || len(st.People) != 2 {
		t.Errorf("state head %+v", st)
	}
	if len(st.Commands) != 1 || st.Commands[0].Description != "Начать" {
		t.Errorf("commands in ru: %+v", st.Commands)
	}
	if st := e.state(t, "as=alice&lang=de"); len(st.Commands) != 1 || st.Commands[0].Description != "Start" {
		t.Errorf("commands for a language without its own: %+v, want the default", st.Commands)
	}
	private := chatByKey(t, st, "private")
	if private.ID != alice.ID || !private.BotMember || len(private.Messages) != 2 {
		t.Fatalf("private chat %+v", private)
	}
	if m := private.Messages[0]; m.FromKey != "alice" || m.Text != "/start" {
		t.Errorf("first message %+v, want alice's /start", m)
	}
	m := private.Messages[1]
	if got, want := m.Text, "Hi Алиса 👋 /newtoken x docs <script>"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	if m.FromKey != "bot" {
		t.Errorf("from %q, want bot", m.FromKey)
	}
	// Offsets in UTF-16 units: 👋 counts two.
	want := []entity{
		{Type: "bold", Offset: 3, Length: 5},
		{Type: "code", Offset: 12, Length: 11},
		{Type: "text_link", Offset: 24, Length: 4, URL: "https://example.com/a?b=1&c=2"},
		{Type: "italic", Offset: 29, Length: 8},
	}
	if got, _ := json.Marshal(m.Entities); string(got) != string(mustJSON(want)) {
		t.Errorf("entities\n got %s\nwant %s", got, mustJSON(want))
	}
	if len(m.Buttons) != 1 || len(m.Buttons[0]) != 2 ||
		m.Buttons[0][0] != (button{Text: "Delete", Kind: "callback_data"}) ||
		m.Buttons[0][1] != (button{Text: "Open", Kind: "url", URL: "https://example.com/"}) {
		t.Errorf("buttons %+v", m.Buttons)
	}
	grp := chatByKey(t, st, "group")
	if grp.ID != group.ID || grp.Title != "Team" || grp.BotMember || len(grp.Messages) != 0 || len(grp.Members) != 2 {
		t.Errorf("group %+v", grp)
	}
	// Bob sees his own private chat, not Alice's.
	if c := chatByKey(t, e.state(t, "as=bob"), "private"); c.ID != bob.ID || len(c.Messages) != 0 {
		t.Errorf("bob's private chat %+v", c)
	}
	if resp, _ := http.Get(e.url + Path + "/api/state?as=nobody"); resp.StatusCode != 400 {
		t.Errorf("unknown person: %d, want 400", resp.StatusCode)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestPlayground_Hook(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.db.UpsertUser(ctx, storage.User{ID: alice.ID, FirstName: "Alice", Started: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.EnsureChat(ctx, storage.Chat{ID: alice.ID, Type: "private", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	e.tg.UserSends(alice, tgemu.PrivateChat(alice), "/newtoken demo")
	token1, token2 := storage.NewToken(), storage.NewToken()
	wh, err := e.db.CreateWebhook(ctx, alice.ID, "demo", storage.HashToken(token1), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) {
		e.botCall(t, "sendMessage", map[string]any{"chat_id": alice.ID, "parse_mode": "HTML", "text": text})
	}
	say("Webhook <b>demo</b> is ready:\n\n<code>" + publicURL + "/hook/" + token1 + "</code>")
	say("Unrelated: http://elsewhere.test/hook/" + token2)

	st := e.state(t, "as=alice")
	if st.Hook == nil || *st.Hook != (hook{Name: "demo", URL: publicURL + "/hook/" + token1}) {
		t.Fatalf("hook %+v, want demo's URL", st.Hook)
	}
	if st := e.state(t, "as=bob"); st.Hook != nil {
		t.Errorf("bob sees hook %+v, want none", st.Hook)
	}

	// A regenerated URL replaces the old one; a revoked one disappears.
	if err := e.db.RegenerateToken(ctx, wh.ID, storage.HashToken(token2)); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, "as=alice"); st.Hook != nil {
		t.Errorf("after regenerate, before the bot told the URL: hook %+v, want none", st.Hook)
	}
	say("New URL: <code>" + publicURL + "/hook/" + token2 + "</code>")
	if st := e.state(t, "as=alice"); st.Hook == nil || st.Hook.URL != publicURL+"/hook/"+token2 {
		t.Errorf("after regenerate: hook %+v, want the new URL", st.Hook)
	}
	if err := e.db.DeleteWebhook(ctx, wh.ID); err != nil {
		t.Fatal(err)
	}
	if st := e.state(t, "as=alice"); st.Hook != nil {
		t.Errorf("after revoke: hook %+v, want none", st.Hook)
	}
}

func TestPlayground_LongPoll(t *testing.T) {
	e := newEnv(t)
	v := e.state(t, "as=alice").Version
	if v == "" {
		t.Fatal("no version")
	}
	if again := e.state(t, "as=alice").Version; again != v {
		t.Fatalf("version changed without a change: %s then %s", v, again)
	}

	t.Run("AnswersOnChange", func(t *testing.T) {
		got := make(chan stateResponse, 1)
		go func() { got <- e.state(t, "as=alice&wait=1&since="+v) }()
		// The poll must still be waiting: nothing changed.
		select {
		case st := <-got:
			t.Fatalf("long poll answered without a change: %+v", st)
		case <-time.After(200 * time.Millisecond):
		}
		e.tg.UserSends(alice, tgemu.PrivateChat(alice), "/help")
		select {
		case st := <-got:
			if st.Version == v || len(chatByKey(t, st, "private").Messages) != 1 {
				t.Errorf("long poll answered %+v, want the new message", st)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("long poll did not answer the change")
		}
	})
	t.Run("EndsOnClose", func(t *testing.T) {
		v := e.state(t, "as=bob").Version
		got := make(chan stateResponse, 1)
		go func() { got <- e.state(t, "as=bob&wait=1&since="+v) }()
		time.Sleep(100 * time.Millisecond)
		e.pg.Close()
		select {
		case st := <-got:
			if st.Version != v {
				t.Errorf("version %s, want unchanged %s", st.Version, v)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not end the long poll")
		}
	})
}

func TestPlayground_Press(t *testing.T) {
	e := newEnv(t)
	e.tg.UserSends(alice, tgemu.PrivateChat(alice), "/tokens")
	var sent struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(e.botCall(t, "sendMessage", map[string]any{
		"chat_id": alice.ID, "text": "Your webhooks",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{
			{{"text": "Delete", "callback_data": "revoke demo"}, {"text": "Site", "url": "https://example.com/"}},
		}},
	}), &sent)
	// Drain the /tokens message so the next update is the button's.
	var ups []struct {
		UpdateID int64 `json:"update_id"`
	}
	json.Unmarshal(e.botCall(t, "getUpdates", map[string]any{}), &ups)
	offset := ups[len(ups)-1].UpdateID + 1

	t.Run("Answered", func(t *testing.T) {
		type result struct {
			code int
			m    map[string]any
		}
		got := make(chan result, 1)
		go func() {
			code, m := e.postJSON(t, "/api/press", map[string]any{"as": "alice", "chat": "private", "message_id": sent.MessageID, "row": 0, "col": 0, "lang": "en"})
			got <- result{code, m}
		}()
		// Play the bot: take the callback query and answer it.
		var ups []struct {
			UpdateID      int64 `json:"update_id"`
			CallbackQuery *struct {
				ID   string `json:"id"`
				Data string `json:"data"`
				From struct {
					ID int64 `json:"id"`
				} `json:"from"`
			} `json:"callback_query"`
		}
		json.Unmarshal(e.botCall(t, "getUpdates", map[string]any{"offset": offset, "timeout": 10}), &ups)
		if len(ups) != 1 || ups[0].CallbackQuery == nil {
			t.Fatalf("updates %+v, want one callback query", ups)
		}
		q := ups[0].CallbackQuery
		if q.Data != "revoke demo" || q.From.ID != alice.ID {
			t.Errorf("callback query %+v, want alice's revoke demo", q)
		}
		e.botCall(t, "answerCallbackQuery", map[string]any{"callback_query_id": q.ID, "text": "Deleted"})
		select {
		case r := <-got:
			if r.code != 200 || r.m["answered"] != true || r.m["text"] != "Deleted" {
				t.Errorf("press: %d %v, want answered with Deleted", r.code, r.m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("press did not return after the answer")
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			body map[string]any
			want int
		}{
			{"url button", map[string]any{"as": "alice", "chat": "private", "message_id": sent.MessageID, "row": 0, "col": 1}, 400},
			{"no such button", map[string]any{"as": "alice", "chat": "private", "message_id": sent.MessageID, "row": 1, "col": 0}, 404},
			{"negative", map[string]any{"as": "alice", "chat": "private", "message_id": sent.MessageID, "row": 0, "col": -1}, 404},
			{"a user's message", map[string]any{"as": "alice", "chat": "private", "message_id": 1, "row": 0, "col": 0}, 404},
			{"another chat", map[string]any{"as": "bob", "chat": "private", "message_id": sent.MessageID, "row": 0, "col": 0}, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if code, m := e.postJSON(t, "/api/press", tc.body); code != tc.want {
					t.Errorf("press: %d %v, want %d", code, m, tc.want)
				}
			})
		}
	})
}

func TestPlayground_Group(t *testing.T) {
	e := newEnv(t)
	if code, m := e.postJSON(t, "/api/group", map[string]string{"as": "alice", "action": "remove"}); code != 400 {
		t.Errorf("unknown action: %d %v, want 400", code, m)
	}
	if code, m := e.postJSON(t, "/api/group", map[string]string{"as": "alice", "action": "add"}); code != 200 {
		t.Fatalf("add: %d %v", code, m)
	}
	if got := e.tg.BotStatus(group.ID); got != tgemu.StatusMember {
		t.Errorf("bot status in the group %q, want member", got)
	}
	grp := chatByKey(t, e.state(t, "as=bob"), "group")
	if !grp.BotMember || len(grp.Messages) != 1 || grp.Messages[0].Service != "bot_added" || grp.Messages[0].FromKey != "alice" {
		t.Errorf("group %+v, want the bot in it, added by alice", grp)
	}
	// The emulator knows who administers the group, as the bot will ask.
	var admins []struct {
		Status string `json:"status"`
		User   struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	json.Unmarshal(e.botCall(t, "getChatAdministrators", map[string]any{"chat_id": group.ID}), &admins)
	isAdmin := map[int64]bool{}
	for _, a := range admins {
		isAdmin[a.User.ID] = true
	}
	if !isAdmin[alice.ID] || isAdmin[bob.ID] {
		t.Errorf("administrators %+v, want alice and not bob", admins)
	}
	var member struct {
		Status string `json:"status"`
	}
	json.Unmarshal(e.botCall(t, "getChatMember", map[string]any{"chat_id": group.ID, "user_id": bob.ID}), &member)
	if member.Status != tgemu.StatusMember {
		t.Errorf("bob's status %q, want member", member.Status)
	}
}

// TestPlayground_Samples checks that every sample is what its menu entry
// says: the formatter recognizes its sender.
func TestPlayground_Samples(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + Path + "/api/samples")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []sample
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ source, event string }{
		"github-push":    {"GitHub", "push"},
		"stripe-payment": {"Stripe", "payment_intent.succeeded"},
		"alert":          {"Alertmanager", "firing"},
		"new-order":      {"shop", "new_order"},
	}
	if len(list) != len(want) {
		t.Fatalf("%d samples, want %d", len(list), len(want))
	}
	for _, s := range list {
		t.Run(s.ID, func(t *testing.T) {
			w, ok := want[s.ID]
			if !ok {
				t.Fatalf("unexpected sample %q", s.ID)
			}
			if !json.Valid([]byte(s.Body)) || s.Headers["Content-Type"] != "application/json" || s.Title == "" {
				t.Fatalf("sample %+v: want a titled JSON body labelled JSON", s)
			}
			headers := map[string]string{}
			for k, v := range s.Headers {
				headers[http.CanonicalHeaderKey(k)] = v
			}
			n := agent.Format(agent.Event{ID: "1", Webhook: "shop", ContentType: "application/json", Headers: headers, Body: []byte(s.Body)}, "en", nil)
			if n.Source != w.source || n.Event != w.event {
				t.Errorf("formatted as %s %s, want %s %s", n.Source, n.Event, w.source, w.event)
			}
		})
	}
}

// TestPlayground_Reply: a message sent with reply_to replies to that message
// of the chat, as choosing Reply in Telegram does; the state tells what each
// message replies to, so the page can quote it.
func TestPlayground_Reply(t *testing.T) {
	e := newEnv(t)
	e.tg.UserSends(alice, tgemu.PrivateChat(alice), "/start")
	var note struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(e.botCall(t, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "New order 12345\nAmount: 99.00"}), &note)
	// Drain the updates so far: the next one is the reply's.
	var ups []struct {
		UpdateID int64 `json:"update_id"`
	}
	json.Unmarshal(e.botCall(t, "getUpdates", map[string]any{}), &ups)
	offset := ups[len(ups)-1].UpdateID + 1

	code, m := e.postJSON(t, "/api/send", map[string]any{"as": "alice", "chat": "private", "text": "what was the amount?", "lang": "en", "reply_to": note.MessageID})
	if code != 200 {
		t.Fatalf("send with reply_to: %d %v", code, m)
	}
	question := int(m["message_id"].(float64))
	if got, ok := e.tg.Message(alice.ID, question); !ok || got.ReplyToMessageID != note.MessageID || got.Text != "what was the amount?" {
		t.Errorf("message %+v, want the question replying to %d", got, note.MessageID)
	}
	// The bot gets the reply with the message it replies to, as from Telegram.
	var got []struct {
		Message struct {
			MessageID      int `json:"message_id"`
			ReplyToMessage *struct {
				MessageID int `json:"message_id"`
				From      struct {
					IsBot bool `json:"is_bot"`
				} `json:"from"`
			} `json:"reply_to_message"`
		} `json:"message"`
	}
	json.Unmarshal(e.botCall(t, "getUpdates", map[string]any{"offset": offset}), &got)
	if len(got) != 1 || got[0].Message.ReplyToMessage == nil || got[0].Message.ReplyToMessage.MessageID != note.MessageID || !got[0].Message.ReplyToMessage.From.IsBot {
		t.Errorf("updates %+v, want the question replying to the bot's message %d", got, note.MessageID)
	}
	// The bot answers as a reply to the question.
	var answer struct {
		MessageID int `json:"message_id"`
	}
	json.Unmarshal(e.botCall(t, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "99.00",
		"reply_parameters": map[string]any{"message_id": question}}), &answer)

	replyTo := map[int]int{}
	for _, m := range chatByKey(t, e.state(t, "as=alice"), "private").Messages {
		replyTo[m.ID] = m.ReplyTo
	}
	if want := map[int]int{1: 0, note.MessageID: 0, question: note.MessageID, answer.MessageID: question}; !maps.Equal(replyTo, want) {
		t.Errorf("state's reply_to by message %v, want %v", replyTo, want)
	}

	t.Run("Refused", func(t *testing.T) {
		e.postJSON(t, "/api/group", map[string]string{"as": "alice", "action": "add"}) // a service message in the group
		e.tg.UserSends(bob, tgemu.PrivateChat(bob), "/start")                          // message 1 in bob's chat
		var gone struct {
			MessageID int `json:"message_id"`
		}
		json.Unmarshal(e.botCall(t, "sendMessage", map[string]any{"chat_id": alice.ID, "text": "soon gone"}), &gone)
		e.botCall(t, "deleteMessage", map[string]any{"chat_id": alice.ID, "message_id": gone.MessageID})
		before := len(e.tg.ChatHistory(alice.ID)) + len(e.tg.ChatHistory(group.ID)) + len(e.tg.ChatHistory(bob.ID))
		for _, tc := range []struct {
			name string
			body map[string]any
		}{
			{"no such message", map[string]any{"as": "alice", "chat": "private", "text": "hi?", "reply_to": 999}},
			{"zero", map[string]any{"as": "alice", "chat": "private", "text": "hi?", "reply_to": 0}},
			{"deleted", map[string]any{"as": "alice", "chat": "private", "text": "hi?", "reply_to": gone.MessageID}},
			{"in another chat", map[string]any{"as": "bob", "chat": "private", "text": "hi?", "reply_to": answer.MessageID}},
			{"service message", map[string]any{"as": "alice", "chat": "group", "text": "hi?", "reply_to": 1}},
			{"not a number", map[string]any{"as": "alice", "chat": "private", "text": "hi?", "reply_to": "1"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, m := e.postJSON(t, "/api/send", tc.body)
				if code != http.StatusBadRequest {
					t.Fatalf("send: %d %v, want 400", code, m)
				}
				if msg, _ := m["error"].(string); tc.name != "not a number" && !strings.Contains(msg, "reply_to") {
					t.Errorf("error %q does not say what is wrong with reply_to", msg)
				}
			})
		}
		if after := len(e.tg.ChatHistory(alice.ID)) + len(e.tg.ChatHistory(group.ID)) + len(e.tg.ChatHistory(bob.ID)); after != before {
			t.Errorf("refused replies left %d messages", after-before)
		}
	})
}
