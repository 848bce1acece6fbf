package telegramtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
)

var alice = tgemu.User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "en"}

// newClient returns a go-telegram client of s that does not poll.
func newClient(t *testing.T, s *telegramtest.Server) *bot.Bot {
	t.Helper()
	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()), bot.WithErrorsHandler(func(error) {}))
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

func TestWaitHelpers(t *testing.T) {
	s := telegramtest.Start(t)
	b := newClient(t, s)
	s.KnownUser(alice)
	go func() {
		time.Sleep(20 * time.Millisecond)
		b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "one"})
		b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "two"})
	}()
	got := s.WaitMessage(t, alice.ID, func(m tgemu.Message) bool { return m.Text == "two" }, 2*time.Second)
	if got.Text != "two" {
		t.Errorf("WaitMessage = %+v", got)
	}
	if ms := s.WaitMessages(t, alice.ID, 2, time.Second); len(ms) != 2 || ms[0].Text != "one" {
		t.Errorf("WaitMessages = %+v", ms)
	}

	// A failed wait reports the chat, failed calls included.
	b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: alice.ID, Text: "<oops>", ParseMode: models.ParseModeHTML})
	dump := s.Dump(alice.ID)
	for _, want := range []string{`"one"`, `"two"`, `Unsupported start tag "oops"`} {
		if !strings.Contains(dump, want) {
			t.Errorf("Dump lacks %s:\n%s", want, dump)
		}
	}
}
