package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/locales"
)

// pg is one running `herald playground`.
type pg struct {
	addr   string // LISTEN_ADDR
	base   string // the base of the URL it printed, http://127.0.0.1:port
	page   string // the URL it printed
	stdout *syncBuffer
	logs   *syncBuffer
	stop   func() int
}

var openLineRE = regexp.MustCompile(`open (http://\S+/playground) `)

// startPlayground runs `herald playground args…` with env on a free port
// and waits for its line with the URL to open.
func startPlayground(t *testing.T, env map[string]string, args ...string) *pg {
	t.Helper()
	addr := freeAddr(t)
	full := map[string]string{"LISTEN_ADDR": addr, "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	p := &pg{addr: full["LISTEN_ADDR"], stdout: &syncBuffer{}, logs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"playground"}, args...), func(k string) string { return full[k] }, strings.NewReader(""), p.stdout, p.logs)
	}()
	var once sync.Once
	code := -1
	p.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("playground did not stop within 30s; logs:\n%s", p.logs)
			}
		})
		return code
	}
	t.Cleanup(func() { p.stop() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := openLineRE.FindStringSubmatch(p.stdout.String()); m != nil {
			p.page = m[1]
			p.base = strings.TrimSuffix(p.page, "/playground")
			return p
		}
		select {
		case c := <-done:
			t.Fatalf("playground exited with %d before it printed its URL; logs:\n%s", c, p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("playground printed no URL after 20s; stdout %q; logs:\n%s", p.stdout, p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgState is the part of the page's state the tests read.
type pgState struct {
	Version     string `json:"version"`
	Instance    string `json:"instance"`
	TemporaryDB bool   `json:"temporary_db"`
	Hook        *struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"hook"`
	Chats []struct {
		Key       string `json:"key"`
		BotMember bool   `json:"bot_member"`
		Messages  []struct {
			ID      int    `json:"id"`
			FromKey string `json:"from_key"`
			Text    string `json:"text"`
			ReplyTo int    `json:"reply_to"`
			Buttons [][]struct {
				Text string `json:"text"`
				Kind string `json:"kind"`
			} `json:"buttons"`
		} `json:"messages"`
	} `json:"chats"`
}

func (p *pg) state(t *testing.T, as string) pgState {
	t.Helper()
	resp, err := http.Get(p.base + "/playground/api/state?as=" + as)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st pgState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (p *pg) call(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.base+"/playground/api/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %v: %d %v", path, body, resp.StatusCode, m)
	}
	return m
}

// botSays waits for a message of the bot in as's chat (private or group),
// newer than after, whose text contains want.
func (p *pg) botSays(t *testing.T, as, chat string, after int, want string) (id int, text string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := p.state(t, as)
		for _, c := range st.Chats {
			if c.Key != chat {
				continue
			}
			for _, m := range c.Messages {
				if m.FromKey == "bot" && m.ID > after && strings.Contains(m.Text, want) {
					return m.ID, m.Text
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot did not say %q in %s's %s chat within 15s; state %+v\nlogs:\n%s", want, as, chat, st.Chats, p.logs)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// TestPlayground is the playground's story through its JSON API (the
// browser test drives the same through the page): /start, /newtoken demo,
// an event posted to the URL arrives in the chat, buttons answer, and
// nothing ever reaches the configured Telegram or database.
func TestPlayground(t *testing.T) {
	var telegramCalls atomic.Int32
	realTelegram := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		telegramCalls.Add(1)
		http.Error(w, "the playground must not call Telegram", http.StatusTeapot)
	}))
	defer realTelegram.Close()
	notADir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notADir, nil, 0o600)

	p := startPlayground(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": "999:this-token-must-not-be-used-by-the-playground",
		"TELEGRAM_API_URL":   realTelegram.URL,
		"DATABASE_URL":       "sqlite:" + filepath.Join(notADir, "unusable.db"),
	})
	if got, want := p.page, "http://"+p.addr+"/playground"; got != want {
		t.Errorf("printed URL %q, want %q", got, want)
	}
	if line := p.stdout.String(); !strings.Contains(line, "nothing is sent to Telegram") || strings.Count(line, "\n") != 1 {
		t.Errorf("start line %q: want one line saying nothing is sent to Telegram", line)
	}
	resp, err := http.Get(p.page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	en := loc.For("en")

	p.call(t, "send", map[string]string{"as": "alice", "chat": "private", "text": "/start", "lang": "en"})
	last, _ := p.botSays(t, "alice", "private", 0, "Herald")

	p.call(t, "send", map[string]string{"as": "alice", "chat": "private", "text": "/newtoken demo", "lang": "en"})
	last, text := p.botSays(t, "alice", "private", last, "/hook/")
	st := p.state(t, "alice")
	if st.Hook == nil || st.Hook.Name != "demo" || !strings.HasPrefix(st.Hook.URL, p.base+"/hook/") || !strings.Contains(text, st.Hook.URL) {
		t.Fatalf("hook %+v, want demo's URL under %s from the reply %q", st.Hook, p.base, text)
	}

	code, m := post(t, st.Hook.URL, story)
	if code != http.StatusAccepted {
		t.Fatalf("POST to the shown URL: %d %v", code, m)
	}
	last, _ = p.botSays(t, "alice", "private", last, "12345")
	waitDelivered(t, st.Hook.URL, m["id"].(string))

	// A reply to the notification is a question about it (SPEC §10); with
	// no LLM configured the bot answers, as a reply, that it needs one.
	notification := last
	q := p.call(t, "send", map[string]any{"as": "alice", "chat": "private", "text": "who is the customer?", "lang": "en", "reply_to": notification})
	question := int(q["message_id"].(float64))
	last, _ = p.botSays(t, "alice", "private", question, plainText(en.T("ask.no_llm", nil)))
	for _, c := range p.state(t, "alice").Chats {
		for _, m := range c.Messages {
			if c.Key == "private" && m.ID == question && m.ReplyTo != notification {
				t.Errorf("the question replies to %d, want the notification %d", m.ReplyTo, notification)
			}
			if c.Key == "private" && m.ID == last && m.ReplyTo != question {
				t.Errorf("the answer replies to %d, want the question %d", m.ReplyTo, question)
			}
		}
	}
	// A reply to a message the chat does not have is refused.
	b, _ := json.Marshal(map[string]any{"as": "alice", "chat": "private", "text": "and this?", "lang": "en", "reply_to": 9999})
	resp, err = http.Post(p.base+"/playground/api/send", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var refused map[string]any
	json.NewDecoder(resp.Body).Decode(&refused)
	resp.Body.Close()
	if msg, _ := refused["error"].(string); resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "reply_to") {
		t.Errorf("reply to message 9999: %d %v, want 400 naming reply_to", resp.StatusCode, refused)
	}

	// Buttons: /tokens → Delete → Cancel answers the callback; → Delete →
	// Yes, delete removes the webhook.
	p.call(t, "send", map[string]string{"as": "alice", "chat": "private", "text": "/tokens", "lang": "en"})
	tokensID, _ := p.botSays(t, "alice", "private", last, "demo")
	press := func(msgID int, label string) map[string]any {
		t.Helper()
		for _, c := range p.state(t, "alice").Chats {
			for _, m := range c.Messages {
				if c.Key != "private" || m.ID != msgID {
					continue
				}
				for r, row := range m.Buttons {
					for col, b := range row {
						if strings.Contains(b.Text, label) {
							return p.call(t, "press", map[string]any{"as": "alice", "chat": "private", "message_id": msgID, "row": r, "col": col, "lang": "en"})
						}
					}
				}
				t.Fatalf("message %d has no button %q: %+v", msgID, label, m.Buttons)
			}
		}
		t.Fatalf("no message %d", msgID)
		return nil
	}
	deleteLabel := en.T("button.revoke", nil)
	press(tokensID, deleteLabel)
	confirmID, _ := p.botSays(t, "alice", "private", tokensID, "demo")
	if a := press(confirmID, en.T("button.cancel", nil)); a["answered"] != true || a["text"] != en.T("revoke.cancelled", nil) {
		t.Errorf("cancel answered %v, want %q", a, en.T("revoke.cancelled", nil))
	}
	press(tokensID, deleteLabel)
	confirmID, _ = p.botSays(t, "alice", "private", confirmID, "demo")
	if a := press(confirmID, en.T("button.confirm_revoke", nil)); a["answered"] != true {
		t.Errorf("confirm: %v, want an answered callback", a)
	}
	for deadline := time.Now().Add(15 * time.Second); p.state(t, "alice").Hook != nil; time.Sleep(30 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the webhook still works 15s after Yes, delete; logs:\n%s", p.logs)
		}
	}
	if code, _ := post(t, st.Hook.URL, story); code != http.StatusNotFound {
		t.Errorf("POST after revoke: %d, want 404", code)
	}

	// The group: Alice adds the bot, Bob asks for help there.
	p.call(t, "group", map[string]string{"as": "alice", "action": "add", "lang": "en"})
	p.call(t, "send", map[string]string{"as": "bob", "chat": "group", "text": "/help", "lang": "en"})
	p.botSays(t, "bob", "group", 0, "/newtoken")

	if n := telegramCalls.Load(); n != 0 {
		t.Errorf("the configured TELEGRAM_API_URL got %d calls, want none", n)
	}
	if got := p.stop(); got != 0 {
		t.Errorf("exit code %d, want 0; logs:\n%s", got, p.logs)
	}
}

// plainText is the text a reader sees of a Telegram HTML text without
// links: what the page shows of it.
func plainText(s string) string {
	return html.UnescapeString(tagRE.ReplaceAllString(s, ""))
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func TestPlayground_Args(t *testing.T) {
	t.Run("DBFile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "kept.db")
		p := startPlayground(t, nil, "-db", file)
		if st := p.state(t, "alice"); st.TemporaryDB || st.Instance == "" {
			t.Errorf("state says temporary_db %v, instance %q: want false (the -db file stays) and an instance", st.TemporaryDB, st.Instance)
		}
		if code := p.stop(); code != 0 {
			t.Fatalf("exit %d; logs:\n%s", code, p.logs)
		}
		if _, err := os.Stat(file); err != nil {
			t.Errorf("-db %s: %v, want the database kept", file, err)
		}
	})
	t.Run("TemporaryDBRemoved", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		p := startPlayground(t, nil)
		if st := p.state(t, "alice"); !st.TemporaryDB {
			t.Errorf("state says temporary_db false; want true: the database goes with the process")
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
			t.Errorf("TMPDIR holds %d entries while running, want the playground's directory", len(entries))
		}
		if code := p.stop(); code != 0 {
			t.Fatalf("exit %d; logs:\n%s", code, p.logs)
		}
		if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
			t.Errorf("TMPDIR still holds %v after exit", entries)
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want int
	}{
		{"unknown flag", []string{"-nope"}, nil, 2},
		{"extra argument", []string{"now"}, nil, 2},
		{"help", []string{"-h"}, nil, 0},
		{"bad variable", nil, map[string]string{"LOG_LEVEL": "loud"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			got := run(context.Background(), append([]string{"playground"}, tc.args...),
				func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, &stderr)
			if got != tc.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", got, tc.want, stderr.String())
			}
		})
	}
	t.Run("PortBusy", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var stderr bytes.Buffer
		got := run(context.Background(), []string{"playground"},
			func(k string) string { return map[string]string{"LISTEN_ADDR": ln.Addr().String()}[k] },
			strings.NewReader(""), io.Discard, &stderr)
		if got != 1 || !strings.Contains(stderr.String(), "LISTEN_ADDR") {
			t.Errorf("exit %d, stderr %q: want 1 and a hint about LISTEN_ADDR", got, stderr.String())
		}
	})
}
