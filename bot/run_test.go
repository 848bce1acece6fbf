package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestBot_RunGetMe: how Run meets Telegram's answer to its first getMe. A
// wrong token is answered 401 Unauthorized (a token Telegram cannot match)
// or 404 Not Found (one its front cannot route): waiting cures neither, so
// Run ends at once with an error naming TELEGRAM_BOT_TOKEN, and main exits.
// Telegram being down (a 502 from its front) is waited out.
func TestBot_RunGetMe(t *testing.T) {
	tests := []struct {
		name    string
		fault   tgemu.Fault
		wantErr error // nil: retried until getMe succeeds
	}{
		{"Unauthorized", tgemu.Fault{Code: 401, Description: "Unauthorized"}, tg.ErrorUnauthorized},
		{"NotFound", tgemu.Fault{Code: 404, Description: "Not Found"}, tg.ErrorNotFound},
		{"BadGateway", tgemu.Fault{Code: 502, Body: "<html><center><h1>502 Bad Gateway</h1></center></html>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := telegramtest.Start(t)
			s.FailNext("getMe", tt.fault)
			b, err := bot.New(bot.Config{Token: s.Token(), APIURL: s.URL(), PublicURL: "https://herald.example", Poll: time.Second, Limits: bot.NoLimits()},
				storagetest.Open(t, storagetest.SQLiteURL(t)), locales.MustNew(), slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx) }()

			// Run either returns or asks getMe again (the first retry is a
			// second later); which came first is the verdict.
			var ran error
			returned, retried := false, false
			for deadline := time.Now().Add(wait); !returned && !retried; time.Sleep(10 * time.Millisecond) {
				select {
				case ran = <-done:
					returned = true
					continue
				default:
				}
				calls := s.Calls("getMe")
				retried = len(calls) >= 2 && calls[1].Code == 200
				if time.Now().After(deadline) {
					t.Fatalf("Run neither returned nor retried getMe within %v; getMe calls: %+v", wait, calls)
				}
			}
			if tt.wantErr == nil {
				if returned {
					t.Fatalf("Run returned %v after getMe answered %d; want it to retry", ran, tt.fault.Code)
				}
				cancel()
				if err := <-done; err != nil {
					t.Fatalf("Run after a retried getMe and the end of its context: %v, want nil", err)
				}
				return
			}
			if !returned {
				t.Fatalf("getMe answered %d and Run asked again; want it to stop: a wrong token stays wrong", tt.fault.Code)
			}
			if !errors.Is(ran, tt.wantErr) || !strings.Contains(ran.Error(), "TELEGRAM_BOT_TOKEN") {
				t.Fatalf("Run: %v; want an error naming TELEGRAM_BOT_TOKEN that wraps %v", ran, tt.wantErr)
			}
			if strings.Contains(ran.Error(), s.Token()) {
				t.Fatalf("Run's error %q shows the token", ran)
			}
		})
	}
}
