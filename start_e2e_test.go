package main

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
)

// TestE2E_StartSaysWhereTheBotIs: the first lines a new user reads name the
// bot's t.me link, and warn that a loopback PUBLIC_URL works only here.
func TestE2E_StartSaysWhereTheBotIs(t *testing.T) {
	tg := telegramtest.Start(t)
	h := startHerald(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(),
		"DATABASE_URL": "sqlite:" + t.TempDir() + "/h.db",
	})
	want := "open https://t.me/" + tgemu.DefaultBotUsername
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(h.logs.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never says %q:\n%s", want, h.logs)
		}
	}
	if logs := h.logs.String(); !strings.Contains(logs, "is a loopback address") {
		t.Fatalf("no warning about the loopback PUBLIC_URL %s:\n%s", h.base, logs)
	}
}
