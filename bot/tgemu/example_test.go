package tgemu_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/go-telegram/bot"

	"github.com/herald-relay/herald/bot/tgemu"
)

func Example() {
	// In tests, telegramtest.Start(t) does these three steps.
	s := tgemu.NewServer()
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	s.SetURL(ts.URL)

	b, err := bot.New(s.Token(), bot.WithServerURL(s.URL()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	alice := tgemu.User{ID: 1001, FirstName: "Alice"}

	// Telegram does not let a bot write first.
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "hi"})
	fmt.Println(err)

	s.UserSends(alice, tgemu.PrivateChat(alice), "/start")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "<b>Welcome</b>, Alice & co", ParseMode: "HTML"})
	fmt.Println(err)

	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "<b>Welcome</b>, Alice &amp; co", ParseMode: "HTML"})
	fmt.Println(err)
	for _, m := range s.Messages(alice.ID) {
		fmt.Printf("%q %s %d+%d\n", m.Text, m.Entities[0].Type, m.Entities[0].Offset, m.Entities[0].Length)
	}

	s.UserBlocksBot(alice)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "still there?"})
	fmt.Println(errors.Is(err, bot.ErrorForbidden), err)

	// Output:
	// bad request, Bad Request: chat not found
	// bad request, Bad Request: can't parse entities: Character '&' at byte offset 22 does not start a supported HTML entity; escape it as "&amp;" (the fake is stricter than Telegram here)
	// <nil>
	// "Welcome, Alice & co" bold 0+7
	// true forbidden, Forbidden: bot was blocked by the user
}
