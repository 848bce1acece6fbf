package telegramtest

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/tgemu"
)

// Server is the emulator started by Start. Every method of tgemu.Server is
// promoted; WaitMessage, WaitMessages and ClickButton fail the test instead
// of returning an error.
type Server struct {
	*tgemu.Server
}

// Start serves a new emulator on an httptest server for the duration of the
// test: s.URL() is its base URL, for go-telegram's bot.WithServerURL. The
// cleanup ends pending long polls and webhook deliveries before closing the
// HTTP server.
func Start(tb testing.TB, opts ...tgemu.Option) *Server {
	tb.Helper()
	s := tgemu.NewServer(opts...)
	ts := httptest.NewServer(s)
	s.SetURL(ts.URL)
	tb.Cleanup(func() {
		s.Close()
		ts.Close()
	})
	return &Server{s}
}

// WaitMessage waits up to timeout for a message of the bot in chatID that
// match accepts (nil accepts any) and returns the first one, in chat order,
// including messages sent before the call. On timeout it fails the test with
// what the chat got and the calls that failed.
func (s *Server) WaitMessage(tb testing.TB, chatID int64, match func(tgemu.Message) bool, timeout time.Duration) tgemu.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m, err := s.AwaitMessage(ctx, chatID, match)
	if err != nil {
		tb.Fatalf("telegramtest: no matching message from the bot in chat %d within %v\n%s", chatID, timeout, s.Dump(chatID))
	}
	return m
}

// WaitMessages waits up to timeout until the bot sent at least n messages to
// chatID (deleted ones included) and returns them all, failing the test with
// a dump of the chat otherwise.
func (s *Server) WaitMessages(tb testing.TB, chatID int64, n int, timeout time.Duration) []tgemu.Message {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ms, err := s.AwaitMessages(ctx, chatID, n)
	if err != nil {
		tb.Fatalf("telegramtest: the bot sent %d message(s) to chat %d within %v, want %d\n%s", len(ms), chatID, timeout, n, s.Dump(chatID))
	}
	return ms
}

// ClickButton presses the inline button labelled text under the bot's
// message messageID, as PressButton does with the button's callback data,
// and returns the callback query id. It fails the test if the message has no
// such callback button.
func (s *Server) ClickButton(tb testing.TB, from tgemu.User, chat tgemu.Chat, messageID int, text string) string {
	tb.Helper()
	m, ok := s.Message(chat.ID, messageID)
	if !ok || m.Deleted {
		tb.Fatalf("telegramtest: no message %d in chat %d to click %q on\n%s", messageID, chat.ID, text, s.Dump(chat.ID))
	}
	b, ok := m.ReplyMarkup.Button(text)
	if !ok || b.Kind != "callback_data" {
		tb.Fatalf("telegramtest: message %d in chat %d has no callback button %q: %s", messageID, chat.ID, text, m)
	}
	return s.PressButton(from, chat, messageID, b.CallbackData)
}
