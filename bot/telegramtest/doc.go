// Package telegramtest starts the Bot API emulator (bot/tgemu) for tests, on
// an httptest server, and adds the waits and clicks that fail a test with
// what the chat got:
//
//	s := telegramtest.Start(t)
//	b, _ := bot.New(s.Token(), bot.WithServerURL(s.URL()))
//	s.UserSends(alice, tgemu.PrivateChat(alice), "/start")
//	m := s.WaitMessage(t, alice.ID, nil, time.Second)
//
// Everything else, the users, chats, messages, faults and options, is the
// emulator's own (tgemu.User, tgemu.Fault, tgemu.WithLimits, ...). Only
// tests import this package: it imports "testing" and net/http/httptest,
// which the production binary must not link.
package telegramtest
