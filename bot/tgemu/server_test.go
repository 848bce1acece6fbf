package tgemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/bot/telegramtest"
	// The dot import lets these tests read as the package's own, which they
	// cannot be: telegramtest, whose Start they use, imports tgemu.
	. "github.com/herald-relay/herald/bot/tgemu"
)

var (
	alice = User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "en"}
	bob   = User{ID: 1002, FirstName: "Bob", LastName: "Builder", Username: "bob"}
	team  = Group(-4001, "Team")
)

// newClient returns a go-telegram client of s that does not poll.
func newClient(t *testing.T, s *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(s.URL()),
		bot.WithErrorsHandler(func(error) {}),
	}, opts...)
	b, err := bot.New(s.Token(), opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// startPolling runs a go-telegram client that long-polls s and hands every
// update to the returned channel. It stops with the test.
func startPolling(t *testing.T, s *telegramtest.Server) (*bot.Bot, <-chan *models.Update) {
	t.Helper()
	updates := make(chan *models.Update, 100)
	b := newClient(t, s, bot.WithNotAsyncHandlers(), bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) {
		updates <- u
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b, updates
}

func nextUpdate(t *testing.T, updates <-chan *models.Update) *models.Update {
	t.Helper()
	select {
	case u := <-updates:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5s")
		return nil
	}
}

// apiResponse is the envelope of every Bot API answer.
type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// call makes a raw request to the fake and decodes the answer, checking that
// the HTTP status is the error_code, as in Telegram.
func call(t *testing.T, s *telegramtest.Server, method, contentType, body string) apiResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/bot"+s.Token()+"/"+method, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: decoding the answer: %v", method, err)
	}
	if want := 200; !r.OK {
		want = r.ErrorCode
	} else if resp.StatusCode != want {
		t.Errorf("%s: HTTP status %d, want %d", method, resp.StatusCode, want)
	}
	if !r.OK && resp.StatusCode != r.ErrorCode {
		t.Errorf("%s: HTTP status %d, error_code %d", method, resp.StatusCode, r.ErrorCode)
	}
	return r
}

func wantBadRequest(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.HasSuffix(err.Error(), "Bad Request: "+want) {
		t.Errorf("error = %v, want bad request %q", err, want)
	}
}

func TestGetMe(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	got, err := b.GetMe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.BotID() || !got.IsBot || got.Username != "herald_bot" {
		t.Errorf("GetMe = %+v, want bot %d @herald_bot", got, s.BotID())
	}
	if want := int64(123456789); s.BotID() != want {
		t.Errorf("BotID = %d, want %d", s.BotID(), want)
	}

	t.Run("wrong token", func(t *testing.T) {
		_, err := bot.New("123456789:wrong", bot.WithServerURL(s.URL()))
		if !errors.Is(err, bot.ErrorUnauthorized) {
			t.Errorf("bot.New with a wrong token: %v, want unauthorized", err)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		r := call(t, s, "sendTelepathy", "", "")
		if r.ErrorCode != 404 || r.Description != "Not Found" {
			t.Errorf("got %d %q, want 404 Not Found", r.ErrorCode, r.Description)
		}
	})
	t.Run("method names are case-insensitive", func(t *testing.T) {
		if r := call(t, s, "GETME", "", ""); !r.OK {
			t.Errorf("GETME: %+v", r)
		}
	})
	t.Run("custom token", func(t *testing.T) {
		s := telegramtest.Start(t, WithToken("42:secret"), WithBotUsername("other_bot"))
		got, err := newClient(t, s).GetMe(context.Background())
		if err != nil || got.ID != 42 || got.Username != "other_bot" {
			t.Errorf("GetMe = %+v, %v; want 42 @other_bot", got, err)
		}
	})
}

func TestLongPolling(t *testing.T) {
	s := telegramtest.Start(t)
	b, updates := startPolling(t, s)

	t.Run("private command", func(t *testing.T) {
		id := s.UserSends(alice, PrivateChat(alice), "/start@herald_bot hello")
		u := nextUpdate(t, updates)
		if u.Message == nil {
			t.Fatalf("update %+v has no message", u)
		}
		m := u.Message
		if m.ID != id || m.Text != "/start@herald_bot hello" || m.From.ID != alice.ID || m.Chat.Type != models.ChatTypePrivate || m.Chat.FirstName != "Alice" {
			t.Errorf("message = %+v", m)
		}
		want := []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: 17}}
		if len(m.Entities) != 1 || m.Entities[0] != want[0] {
			t.Errorf("entities = %+v, want %+v", m.Entities, want)
		}
	})

	t.Run("reply reaches the chat", func(t *testing.T) {
		_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "Hi <b>Alice</b>", ParseMode: models.ParseModeHTML})
		if err != nil {
			t.Fatal(err)
		}
		got := s.WaitMessage(t, alice.ID, nil, time.Second)
		if got.Text != "Hi Alice" || got.HTML != "Hi <b>Alice</b>" || !got.From.IsBot {
			t.Errorf("message = %+v", got)
		}
	})

	t.Run("group message", func(t *testing.T) {
		s.AddBotToChat(alice, team)
		if u := nextUpdate(t, updates); u.MyChatMember == nil || u.MyChatMember.NewChatMember.Type != models.ChatMemberTypeMember || u.MyChatMember.OldChatMember.Type != models.ChatMemberTypeLeft {
			t.Fatalf("want my_chat_member left → member, got %+v", u)
		}
		if u := nextUpdate(t, updates); u.Message == nil || len(u.Message.NewChatMembers) != 1 || u.Message.NewChatMembers[0].ID != s.BotID() {
			t.Fatalf("want new_chat_members service message, got %+v", u)
		}
		s.UserSends(bob, team, "hello team")
		u := nextUpdate(t, updates)
		if u.Message == nil || u.Message.Chat.Type != models.ChatTypeGroup || u.Message.Chat.Title != "Team" || u.Message.From.ID != bob.ID {
			t.Errorf("group message = %+v", u.Message)
		}
	})

	t.Run("edit, reply and button", func(t *testing.T) {
		id := s.UserSends(alice, PrivateChat(alice), "draft")
		nextUpdate(t, updates)
		s.UserEdits(alice, PrivateChat(alice), id, "final")
		if u := nextUpdate(t, updates); u.EditedMessage == nil || u.EditedMessage.Text != "final" || u.EditedMessage.EditDate == 0 {
			t.Errorf("want edited_message, got %+v", u)
		}

		sent, err := b.SendMessage(context.Background(), &bot.SendMessageParams{
			ChatID: alice.ID, Text: "Approve?",
			ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Yes", CallbackData: "yes"}}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		s.UserReplies(alice, PrivateChat(alice), sent.ID, "sure")
		if u := nextUpdate(t, updates); u.Message == nil || u.Message.ReplyToMessage == nil || u.Message.ReplyToMessage.ID != sent.ID || !u.Message.ReplyToMessage.From.IsBot {
			t.Errorf("want reply to the bot's message, got %+v", u.Message)
		}

		qid := s.ClickButton(t, alice, PrivateChat(alice), sent.ID, "Yes")
		u := nextUpdate(t, updates)
		cq := u.CallbackQuery
		if cq == nil || cq.ID != qid || cq.Data != "yes" || cq.Message.Message == nil || cq.Message.Message.ID != sent.ID {
			t.Fatalf("want callback_query, got %+v", u)
		}
		if got := cq.Message.Message.ReplyMarkup; got == nil || got.InlineKeyboard[0][0].CallbackData != "yes" {
			t.Errorf("callback message markup = %+v", got)
		}
	})

	t.Run("offset confirms updates", func(t *testing.T) {
		if got := s.PendingUpdates(); got > 1 {
			t.Errorf("PendingUpdates = %d after the client confirmed, want at most 1", got)
		}
	})
}

func TestGetUpdatesRaw(t *testing.T) {
	s := telegramtest.Start(t)
	first := s.UserSends(alice, PrivateChat(alice), "one")
	s.UserSends(alice, PrivateChat(alice), "two")

	var ups []models.Update
	r := call(t, s, "getUpdates", "application/json", `{"limit":1}`)
	if err := json.Unmarshal(r.Result, &ups); err != nil || len(ups) != 1 || ups[0].Message.ID != first {
		t.Fatalf("getUpdates limit 1 = %s, %v", r.Result, err)
	}
	// Not confirmed: the same update comes again.
	r = call(t, s, "getUpdates", "application/json", `{}`)
	json.Unmarshal(r.Result, &ups)
	if len(ups) != 2 {
		t.Fatalf("getUpdates = %d updates, want 2", len(ups))
	}
	// Confirm both.
	r = call(t, s, "getUpdates", "application/json", `{"offset":`+jsonInt(ups[1].ID+1)+`}`)
	if string(r.Result) != "[]" {
		t.Errorf("after confirming, getUpdates = %s, want []", r.Result)
	}

	t.Run("long poll wakes on an update", func(t *testing.T) {
		go func() {
			time.Sleep(50 * time.Millisecond)
			s.UserSends(alice, PrivateChat(alice), "three")
		}()
		start := time.Now()
		r := call(t, s, "getUpdates", "application/json", `{"timeout":5}`)
		json.Unmarshal(r.Result, &ups)
		if len(ups) != 1 || ups[0].Message.Text != "three" || time.Since(start) > 3*time.Second {
			t.Errorf("long poll = %s after %v", r.Result, time.Since(start))
		}
	})

	t.Run("a newer poll terminates the older one", func(t *testing.T) {
		call(t, s, "getUpdates", "application/json", `{"offset":-1}`) // keep the last one
		call(t, s, "getUpdates", "application/json", `{"offset":`+jsonInt(ups[0].ID+1)+`}`)
		var wg sync.WaitGroup
		wg.Add(1)
		var older apiResponse
		go func() {
			defer wg.Done()
			older = call(t, s, "getUpdates", "application/json", `{"timeout":5}`)
		}()
		time.Sleep(100 * time.Millisecond)
		newer := call(t, s, "getUpdates", "application/json", `{"timeout":1}`)
		wg.Wait()
		if older.ErrorCode != 409 || !strings.Contains(older.Description, "terminated by other getUpdates request") {
			t.Errorf("older poll = %+v, want 409 Conflict", older)
		}
		if !newer.OK {
			t.Errorf("newer poll = %+v", newer)
		}
	})
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRequestEncodings(t *testing.T) {
	s := telegramtest.Start(t)
	s.KnownUser(alice)
	tests := []struct {
		name, contentType, body, query string
	}{
		{"json", "application/json", `{"chat_id":1001,"text":"via json","reply_markup":{"inline_keyboard":[[{"text":"a","callback_data":"a"}]]}}`, ""},
		{"urlencoded", "application/x-www-form-urlencoded", url.Values{"chat_id": {"1001"}, "text": {"via form"}}.Encode(), ""},
		{"query string", "", "", "?chat_id=1001&text=via+query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "sendMessage"+tt.query, tt.contentType, tt.body)
			if !r.OK {
				t.Fatalf("sendMessage: %+v", r)
			}
			var m models.Message
			if err := json.Unmarshal(r.Result, &m); err != nil || m.Chat.ID != alice.ID {
				t.Errorf("result %s: %v", r.Result, err)
			}
		})
	}
	if got := s.Messages(alice.ID); len(got) != 3 || got[0].ReplyMarkup == nil || got[0].ReplyMarkup.Rows[0][0].CallbackData != "a" {
		t.Errorf("messages = %+v", got)
	}
}

func TestSendMessage(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.KnownUser(alice)

	t.Run("HTML", func(t *testing.T) {
		got, err := b.SendMessage(ctx, &bot.SendMessageParams{
			ChatID:              alice.ID,
			Text:                `<b>Hi</b> <a href="https://example.com">there</a> &amp; 👋`,
			ParseMode:           models.ParseModeHTML,
			DisableNotification: true,
			LinkPreviewOptions:  &models.LinkPreviewOptions{IsDisabled: bot.True()},
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := "Hi there & 👋"; got.Text != want {
			t.Errorf("Text = %q, want %q", got.Text, want)
		}
		want := []models.MessageEntity{
			{Type: models.MessageEntityTypeBold, Offset: 0, Length: 2},
			{Type: models.MessageEntityTypeTextLink, Offset: 3, Length: 5, URL: "https://example.com"},
		}
		if len(got.Entities) != 2 || got.Entities[0] != want[0] || got.Entities[1].URL != want[1].URL || got.Entities[1].Offset != 3 {
			t.Errorf("Entities = %+v, want %+v", got.Entities, want)
		}
		m := s.Messages(alice.ID)[0]
		if !m.DisableNotification || !m.LinkPreviewDisabled || m.ParseMode != "HTML" || m.ID != got.ID {
			t.Errorf("recorded message = %+v", m)
		}
	})

	t.Run("HTML errors", func(t *testing.T) {
		tests := []struct{ text, want string }{
			{"<foo>x</foo>", `can't parse entities: Unsupported start tag "foo" at byte offset 0`},
			{"<b>x", `can't parse entities: Can't find end tag corresponding to start tag "b"`},
			{"x</b>", "can't parse entities: Unexpected end tag at byte offset 1"},
			{"<b><i>test</b></i>", `can't parse entities: Unmatched end tag at byte offset 10, expected "</i>", found "</b>"`},
			{"1 < 2", `can't parse entities: Unsupported start tag "" at byte offset 2`},
			{"Q&A", `can't parse entities: Character '&' at byte offset 1 does not start a supported HTML entity; escape it as "&amp;" (the fake is stricter than Telegram here)`},
			{"<span>x</span>", `can't parse entities: Tag "span" must have class "tg-spoiler" at byte offset 0`},
			{"<b></b>", "text must be non-empty"},
		}
		for _, tt := range tests {
			t.Run(tt.text, func(t *testing.T) {
				_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: tt.text, ParseMode: models.ParseModeHTML})
				wantBadRequest(t, err, tt.want)
			})
		}
	})

	t.Run("other parse modes", func(t *testing.T) {
		// Herald sends only HTML: the Markdown dialects are refused, saying so.
		for _, mode := range []models.ParseMode{models.ParseModeMarkdown, models.ParseModeMarkdownV1} {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: `*bold* and 1\.5`, ParseMode: mode})
			wantBadRequest(t, err, "unsupported parse_mode: the fake parses only HTML, not "+string(mode)+" (the fake is stricter than Telegram here)")
		}
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "x", ParseMode: "Textile"})
		wantBadRequest(t, err, "unsupported parse_mode")
	})

	t.Run("length in UTF-16 after parsing", func(t *testing.T) {
		// 4096 visible characters, much longer in the source.
		ok := "<b>" + strings.Repeat("&amp;", 2000) + "</b><i>" + strings.Repeat("x", 2096) + "</i>"
		got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: ok, ParseMode: models.ParseModeHTML})
		if err != nil {
			t.Fatalf("4096 visible characters: %v", err)
		}
		if n := UTF16Count(got.Text); n != 4096 {
			t.Errorf("visible length = %d, want 4096", n)
		}
		_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: ok + "y", ParseMode: models.ParseModeHTML})
		wantBadRequest(t, err, "message is too long")

		// An emoji outside the BMP counts 2.
		emoji := strings.Repeat("😀", 2048)
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: emoji}); err != nil {
			t.Errorf("2048 emoji: %v", err)
		}
		_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: emoji + "x"})
		wantBadRequest(t, err, "message is too long")

		// Surrounding whitespace is trimmed before counting.
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "\n" + strings.Repeat("x", 4096) + "\n "}); err != nil {
			t.Errorf("4096 characters and whitespace: %v", err)
		}
	})

	t.Run("empty text", func(t *testing.T) {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: ""})
		wantBadRequest(t, err, "message text is empty")
		_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "  \n "})
		wantBadRequest(t, err, "text must be non-empty")
	})

	t.Run("chat not found", func(t *testing.T) {
		for _, chatID := range []any{int64(999), "@nobody", bob.ID} {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: "hi"})
			wantBadRequest(t, err, "chat not found")
		}
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: "", Text: "hi"})
		wantBadRequest(t, err, "chat_id is empty")
	})

	t.Run("reply markup", func(t *testing.T) {
		kb := func(b models.InlineKeyboardButton) models.InlineKeyboardMarkup {
			return models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{b}}}
		}
		tests := []struct {
			name   string
			markup models.ReplyMarkup
			want   string
		}{
			{"long callback data", kb(models.InlineKeyboardButton{Text: "x", CallbackData: strings.Repeat("d", 65)}), "BUTTON_DATA_INVALID"},
			{"text only", kb(models.InlineKeyboardButton{Text: "x"}), "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"},
			{"bad url", kb(models.InlineKeyboardButton{Text: "x", URL: "not-a-url"}), "inline keyboard button URL 'not-a-url' is invalid: Wrong HTTP URL"},
			{"ftp url", kb(models.InlineKeyboardButton{Text: "x", URL: "ftp://example.com"}), "inline keyboard button URL 'ftp://example.com' is invalid: Unsupported URL protocol"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "x", ReplyMarkup: tt.markup})
				wantBadRequest(t, err, tt.want)
			})
		}
		got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "links", ReplyMarkup: models.InlineKeyboardMarkup{
			InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Site", URL: "https://example.com"}, {Text: "Go", CallbackData: strings.Repeat("d", 64)}}},
		}})
		if err != nil || got.ReplyMarkup == nil || len(got.ReplyMarkup.InlineKeyboard[0]) != 2 {
			t.Errorf("valid keyboard: %+v, %v", got, err)
		}
	})

	t.Run("reply parameters", func(t *testing.T) {
		first, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "first"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "second", ReplyParameters: &models.ReplyParameters{MessageID: first.ID}})
		if err != nil || got.ReplyToMessage == nil || got.ReplyToMessage.ID != first.ID {
			t.Errorf("reply: %+v, %v", got, err)
		}
		_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "x", ReplyParameters: &models.ReplyParameters{MessageID: 99999}})
		wantBadRequest(t, err, "message to be replied not found")
	})
}

func TestForbidden(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()

	t.Run("blocked by the user", func(t *testing.T) {
		s.UserSends(alice, PrivateChat(alice), "/start")
		s.UserBlocksBot(alice)
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"})
		if !errors.Is(err, bot.ErrorForbidden) || !strings.HasSuffix(err.Error(), "Forbidden: bot was blocked by the user") {
			t.Errorf("error = %v, want 403 blocked", err)
		}
		if got, want := s.BotStatus(alice.ID), StatusKicked; got != want {
			t.Errorf("BotStatus = %q, want %q", got, want)
		}
		s.UserUnblocksBot(alice)
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"}); err != nil {
			t.Errorf("after unblocking: %v", err)
		}
	})

	t.Run("kicked from the group", func(t *testing.T) {
		s.AddBotToChat(alice, team)
		s.RemoveBotFromChat(alice, team)
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: team.ID, Text: "hi"})
		if !errors.Is(err, bot.ErrorForbidden) || !strings.HasSuffix(err.Error(), "Forbidden: bot was kicked from the group chat") {
			t.Errorf("error = %v, want 403 kicked", err)
		}
	})
}

func TestMigrateToSupergroup(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.AddBotToChat(alice, team)
	const super = -1001234567890
	s.MigrateToSupergroup(team.ID, super)

	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: team.ID, Text: "hi"})
	var merr *bot.MigrateError
	if !errors.As(err, &merr) || merr.MigrateToChatID != super {
		t.Fatalf("error = %v, want *bot.MigrateError to %d", err, super)
	}
	if !strings.Contains(merr.Message, "group chat was upgraded to a supergroup chat") {
		t.Errorf("message = %q", merr.Message)
	}
	got, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(super), Text: "hi"})
	if err != nil || got.Chat.Type != models.ChatTypeSupergroup || got.Chat.Title != "Team" {
		t.Errorf("send to the supergroup: %+v, %v", got, err)
	}
}

func TestFaults(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.KnownUser(alice)
	send := func() error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"})
		return err
	}

	t.Run("429", func(t *testing.T) {
		s.FailNext("sendMessage", TooManyRequests(7))
		err := send()
		var tmr *bot.TooManyRequestsError
		if !errors.As(err, &tmr) || tmr.RetryAfter != 7 {
			t.Fatalf("error = %v, want *bot.TooManyRequestsError with RetryAfter 7", err)
		}
		if err := send(); err != nil {
			t.Errorf("the fault is used once, then: %v", err)
		}
		if got, want := s.Count429(), 1; got != want {
			t.Errorf("Count429 = %d, want %d", got, want)
		}
	})

	t.Run("queue is FIFO per method", func(t *testing.T) {
		s.FailNext("sendmessage", ServerError())
		s.FailNext("sendMessage", Blocked())
		s.FailNext("getMe", ServerError())
		if err := send(); err == nil || !strings.Contains(err.Error(), "500 Internal Server Error") {
			t.Errorf("first: %v, want 500", err)
		}
		if err := send(); !errors.Is(err, bot.ErrorForbidden) {
			t.Errorf("second: %v, want 403", err)
		}
		if err := send(); err != nil {
			t.Errorf("third: %v", err)
		}
		if _, err := b.GetMe(ctx); err == nil {
			t.Error("getMe: want the queued 500")
		}
	})

	t.Run("dropped connection and bad gateway", func(t *testing.T) {
		s.FailNext("sendMessage", Fault{DropConnection: true})
		s.FailNext("sendMessage", BadGateway())
		if err := send(); err == nil || !strings.Contains(err.Error(), "error do request") {
			t.Errorf("dropped: %v", err)
		}
		if err := send(); err == nil || !strings.Contains(err.Error(), "error decode response body") {
			t.Errorf("bad gateway: %v", err)
		}
	})

	t.Run("delay", func(t *testing.T) {
		s.FailNext("sendMessage", Fault{Delay: 100 * time.Millisecond})
		start := time.Now()
		if err := send(); err != nil || time.Since(start) < 100*time.Millisecond {
			t.Errorf("delayed send: %v after %v", err, time.Since(start))
		}
	})

	t.Run("arrived", func(t *testing.T) {
		arrived := make(chan struct{})
		s.FailNext("sendMessage", Fault{Delay: time.Minute, Arrived: arrived})
		before := len(s.Calls("sendMessage"))
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "held"})
			done <- err
		}()
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			cancel()
			t.Fatal("Arrived not closed while the call is held")
		}
		if got := len(s.Calls("sendMessage")); got != before {
			t.Errorf("%d calls recorded at arrival, want %d: the call is still held", got, before)
		}
		cancel() // the delay ends early with the request
		if err := <-done; err == nil {
			t.Error("a cancelled request succeeded")
		}
	})

	t.Run("calls are recorded", func(t *testing.T) {
		calls := s.Calls("SENDMESSAGE")
		if len(calls) == 0 || calls[0].Params["text"] != "hi" || calls[0].Code != 429 {
			t.Errorf("first call = %+v", calls[0])
		}
	})
}

func TestCommands(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	en := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}}
	ru := []models.BotCommand{{Command: "start", Description: "Начать"}}

	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: ru, LanguageCode: "ru", Scope: &models.BotCommandScopeAllPrivateChats{}}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "ru", Scope: &models.BotCommandScopeAllPrivateChats{}})
	if err != nil || len(got) != 1 || got[0] != ru[0] {
		t.Errorf("GetMyCommands(ru, private) = %+v, %v", got, err)
	}
	if got := s.Commands("", ""); len(got) != 2 || got[1] != en[1] {
		t.Errorf("Commands(default) = %+v", got)
	}
	if got := s.Commands("default", "ru"); len(got) != 0 {
		t.Errorf("Commands(default, ru) = %+v, want none: no fallback", got)
	}

	t.Run("invalid", func(t *testing.T) {
		tests := []struct {
			cmd  models.BotCommand
			want string
		}{
			{models.BotCommand{Command: "Start", Description: "x"}, "BOT_COMMAND_INVALID"},
			{models.BotCommand{Command: "/start", Description: "x"}, "BOT_COMMAND_INVALID"},
			{models.BotCommand{Command: strings.Repeat("a", 33), Description: "x"}, "command length must not exceed 32"},
			{models.BotCommand{Command: "start", Description: " "}, "command description must be non-empty"},
			{models.BotCommand{Command: "start", Description: strings.Repeat("d", 257)}, "command description length must not exceed 256"},
		}
		for _, tt := range tests {
			_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{tt.cmd}})
			wantBadRequest(t, err, tt.want)
		}
		_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en, Scope: &models.BotCommandScopeChat{ChatID: 555}})
		wantBadRequest(t, err, "chat not found")
	})

	if _, err := b.DeleteMyCommands(ctx, &bot.DeleteMyCommandsParams{}); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands("", ""); len(got) != 0 {
		t.Errorf("after delete: %+v", got)
	}
}

func TestCallbackQuery(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.KnownUser(alice)
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Pick", ReplyMarkup: models.InlineKeyboardMarkup{
		InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "A", CallbackData: "pick:a"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := s.PressButton(alice, PrivateChat(alice), sent.ID, "pick:a")
	if _, ok := s.CallbackAnswered(id); ok {
		t.Error("answered before the bot answered")
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: "Done"}); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.CallbackAnswered(id); !ok || got != "Done" {
		t.Errorf("CallbackAnswered = %q, %v; want Done, true", got, ok)
	}
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: id})
	wantBadRequest(t, err, "query is too old and response timeout expired or query ID is invalid")
	_, err = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: "nope"})
	wantBadRequest(t, err, "query is too old and response timeout expired or query ID is invalid")
}

func TestEditAndDelete(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.KnownUser(alice)
	markup := models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "A", CallbackData: "a"}}}}
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "<b>v1</b>", ParseMode: models.ParseModeHTML, ReplyMarkup: markup})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(text string, mode models.ParseMode, markup models.ReplyMarkup) (*models.Message, error) {
		return b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: sent.ID, Text: text, ParseMode: mode, ReplyMarkup: markup})
	}

	t.Run("not modified", func(t *testing.T) {
		_, err := edit("<b>v1</b>", models.ParseModeHTML, markup)
		wantBadRequest(t, err, ErrNotModified)
	})
	t.Run("entities count as content", func(t *testing.T) {
		got, err := edit("v1", "", markup)
		if err != nil || got.Text != "v1" || len(got.Entities) != 0 || got.EditDate == 0 {
			t.Errorf("edit = %+v, %v", got, err)
		}
	})
	t.Run("no reply_markup removes the keyboard", func(t *testing.T) {
		got, err := edit("v1", "", nil)
		if err != nil || got.ReplyMarkup != nil {
			t.Errorf("edit = %+v, %v", got, err)
		}
		m, _ := s.Message(alice.ID, sent.ID)
		if m.ReplyMarkup != nil || !m.Edited {
			t.Errorf("recorded = %+v", m)
		}
		_, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: sent.ID})
		wantBadRequest(t, err, ErrNotModified)
	})
	t.Run("unknown message", func(t *testing.T) {
		_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: 999, Text: "x"})
		wantBadRequest(t, err, "message to edit not found")
	})
	t.Run("user's message", func(t *testing.T) {
		id := s.UserSends(alice, PrivateChat(alice), "mine")
		_, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: id, Text: "x"})
		wantBadRequest(t, err, "message can't be edited")
	})
	t.Run("delete", func(t *testing.T) {
		if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: alice.ID, MessageID: sent.ID}); err != nil {
			t.Fatal(err)
		}
		_, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: alice.ID, MessageID: sent.ID})
		wantBadRequest(t, err, "message to delete not found")
		if m, _ := s.Message(alice.ID, sent.ID); !m.Deleted {
			t.Errorf("message not marked deleted: %+v", m)
		}
		_, err = edit("v2", "", nil)
		wantBadRequest(t, err, "message to edit not found")
	})
	t.Run("others' messages in groups need admin rights", func(t *testing.T) {
		s.AddBotToChat(alice, team)
		id := s.UserSends(bob, team, "spam")
		_, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: team.ID, MessageID: id})
		wantBadRequest(t, err, "message can't be deleted")
		s.MakeBotAdmin(alice, team)
		if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: team.ID, MessageID: id}); err != nil {
			t.Errorf("as admin: %v", err)
		}
	})
}

func TestMembers(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	ctx := context.Background()
	s.AddBotToChat(alice, team)
	s.SetChatOwner(team.ID, alice)
	s.SetChatAdmins(team.ID, bob)
	carol := User{ID: 1003, FirstName: "Carol"}
	s.AddMember(team.ID, carol)
	dave := User{ID: 1004, FirstName: "Dave"}
	s.KnownUser(dave)

	for _, tt := range []struct {
		user User
		want models.ChatMemberType
	}{
		{alice, models.ChatMemberTypeOwner},
		{bob, models.ChatMemberTypeAdministrator},
		{carol, models.ChatMemberTypeMember},
		{dave, models.ChatMemberTypeLeft},
		{s.BotUser(), models.ChatMemberTypeMember},
	} {
		got, err := b.GetChatMember(ctx, &bot.GetChatMemberParams{ChatID: team.ID, UserID: tt.user.ID})
		if err != nil || got.Type != tt.want {
			t.Errorf("GetChatMember(%s) = %+v, %v; want %s", tt.user.FirstName, got, err, tt.want)
		}
	}
	admins, err := b.GetChatAdministrators(ctx, &bot.GetChatAdministratorsParams{ChatID: team.ID})
	if err != nil || len(admins) != 2 || admins[0].Owner.User.ID != alice.ID || admins[1].Administrator.User.ID != bob.ID {
		t.Errorf("GetChatAdministrators = %+v, %v", admins, err)
	}
	chat, err := b.GetChat(ctx, &bot.GetChatParams{ChatID: team.ID})
	if err != nil || chat.Title != "Team" || chat.Type != models.ChatTypeGroup {
		t.Errorf("GetChat = %+v, %v", chat, err)
	}
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: team.ID, Action: models.ChatActionTyping}); err != nil {
		t.Errorf("SendChatAction: %v", err)
	}
	if got := s.ChatActions(team.ID); len(got) != 1 || got[0] != "typing" {
		t.Errorf("ChatActions = %v", got)
	}
	if _, err := b.LeaveChat(ctx, &bot.LeaveChatParams{ChatID: team.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: team.ID, Text: "hi"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot is not a member of the group chat") {
		t.Errorf("after leaving: %v", err)
	}
}

func TestWebhook(t *testing.T) {
	s := telegramtest.Start(t, WithWebhookRetry(3, 10*time.Millisecond))
	b := newClient(t, s)
	ctx := context.Background()

	type delivery struct {
		secret string
		update models.Update
	}
	got := make(chan delivery, 10)
	var mu sync.Mutex
	failures := 1 // the first delivery fails, and is retried
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := failures > 0
		failures--
		mu.Unlock()
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		var u models.Update
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &u); err != nil {
			t.Errorf("webhook body %s: %v", body, err)
		}
		got <- delivery{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), u}
	}))
	defer hook.Close()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL, SecretToken: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	s.UserSends(alice, PrivateChat(alice), "via webhook")
	select {
	case d := <-got:
		if d.secret != "s3cret" || d.update.Message == nil || d.update.Message.Text != "via webhook" {
			t.Errorf("delivery = %+v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook delivery")
	}

	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != hook.URL || !strings.Contains(info.LastErrorMessage, "500") {
		t.Errorf("GetWebhookInfo = %+v, %v", info, err)
	}

	r := call(t, s, "getUpdates", "", "")
	if r.ErrorCode != 409 || r.Description != "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first" {
		t.Errorf("getUpdates with a webhook = %+v", r)
	}

	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatal(err)
	}
	if r := call(t, s, "getUpdates", "", ""); !r.OK {
		t.Errorf("getUpdates after deleteWebhook = %+v", r)
	}
}

func TestLimits(t *testing.T) {
	t.Run("per chat", func(t *testing.T) {
		s := telegramtest.Start(t, WithLimits())
		b := newClient(t, s)
		s.KnownUser(alice)
		for i := range 3 {
			if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "burst"}); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "one too many"})
		var tmr *bot.TooManyRequestsError
		if !errors.As(err, &tmr) || tmr.RetryAfter != 1 || !strings.Contains(tmr.Message, "Too Many Requests: retry after 1") {
			t.Fatalf("4th message: %v, want 429 retry after 1", err)
		}
		if got, want := s.Count429(), 1; got != want {
			t.Errorf("Count429 = %d, want %d", got, want)
		}
		if got, want := len(s.Messages(alice.ID)), 3; got != want {
			t.Errorf("%d messages recorded, want %d", got, want)
		}
	})

	t.Run("per group per minute", func(t *testing.T) {
		var mu sync.Mutex
		now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		}
		tick := func() {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Second)
		}
		s := telegramtest.Start(t, WithClock(clock), WithLimits())
		b := newClient(t, s)
		s.AddBotToChat(alice, team)
		for i := range 20 {
			tick() // one message a second is fine for the chat, not for the group
			if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: team.ID, Text: "news"}); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		tick()
		_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: team.ID, Text: "more news"})
		var tmr *bot.TooManyRequestsError
		if !errors.As(err, &tmr) || tmr.RetryAfter != 40 {
			t.Fatalf("21st message in a minute: %v, want 429 with a retry after about 40s", err)
		}
	})

	t.Run("EnforceLimits", func(t *testing.T) {
		s := telegramtest.Start(t)
		s.EnforceLimits(true)
		b := newClient(t, s)
		s.KnownUser(alice)
		var n429 int
		for range 5 {
			if _, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "x"}); bot.IsTooManyRequestsError(err) {
				n429++
			}
		}
		if n429 == 0 || s.Count429() != n429 {
			t.Errorf("%d 429s, Count429 = %d", n429, s.Count429())
		}
	})
}
