package relay_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/relay"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestRelay_DigestTasks: the events of a storm that need someone to act
// still become tasks, created with the digest's delivery; the digest says
// how many and has no Done button (one button cannot close many tasks).
func TestRelay_DigestTasks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		limits := bot.DefaultLimits()
		e := setupWith(t, databaseURL, options{limits: &limits})
		alerts := tgemu.Group(-800, "Alerts")
		wh := e.hook(t, "alerts", alerts)
		// The storm arrives whole: muted while it is stored, so that no
		// claim can split it however slowly a loaded machine stores it.
		if err := e.db.Mute(ctx, wh.ID, alerts.ID, nil); err != nil {
			t.Fatal(err)
		}
		const firing = 7
		for i := range 60 {
			body := fmt.Sprintf(`{"event":"cpu_high","host":"web%d"}`, i)
			if i%8 == 0 && i/8 < firing {
				body = fmt.Sprintf(`{"status":"firing","alerts":[{"status":"firing","labels":{"alertname":"DiskFull%d","severity":"critical"}}]}`, i)
			}
			e.postTo(t, wh.ID, body)
		}
		if _, err := e.db.Unmute(ctx, wh.ID, alerts.ID); err != nil {
			t.Fatal(err)
		}
		e.relay.Wake()
		e.drained(t, 20*time.Second)
		tasks, total, err := e.db.OpenTasks(ctx, alerts.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		if total != firing {
			t.Fatalf("%d open tasks, want one per firing alert (%d)", total, firing)
		}
		digests := 0
		for _, m := range e.tg.Messages(alerts.ID) {
			for _, b := range m.ReplyMarkup.Buttons() {
				if b.CallbackData == "done" && strings.Contains(m.Text, "events from") {
					t.Errorf("a digest has a Done button: %s", m)
				}
			}
			if strings.Contains(m.Text, "events from") {
				digests++
			}
		}
		if digests == 0 {
			t.Fatalf("no digest: %d messages", len(e.tg.Messages(alerts.ID)))
		}
		var said int
		for _, m := range e.tg.Messages(alerts.ID) {
			var n int
			if _, err := fmt.Sscanf(m.Text[strings.LastIndex(m.Text, "✅")+len("✅"):], " %d", &n); err == nil && strings.Contains(m.Text, "/tasks") {
				said += n
			}
		}
		inDigests := 0
		for _, task := range tasks {
			if task.MessageHTML == "" {
				inDigests++
			}
		}
		if inDigests == 0 {
			t.Fatalf("no task was folded into a digest: %d tasks", len(tasks))
		}
		if said != inDigests {
			t.Errorf("the digests say %d need action, %d of the tasks were folded", said, inDigests)
		}
	})
}

// TestRelay_FoldBehindBotQueue: a chat's backlog that its own pacing would
// clear in no time is still folded when the bot's whole queue, at the
// bot-wide rate, would hold it longer than FoldAfter; with a bot-wide rate
// that clears the queue in time, each event goes alone.
func TestRelay_FoldBehindBotQueue(t *testing.T) {
	for _, c := range []struct {
		name   string
		global float64
		want   int // messages per chat
	}{
		{"DeepQueue", 2, 1},     // 12 pending at 2/s: 6 s > 2 s, folded
		{"ShallowQueue", 25, 4}, // 12 pending at 25/s: 0.5 s, each alone
	} {
		t.Run(c.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, databaseURL string) {
				ctx := context.Background()
				limits := bot.Limits{Global: c.global, Private: time.Millisecond, Group: time.Millisecond}
				e := setupWith(t, databaseURL, options{limits: &limits,
					cfg: relay.Config{FoldAfter: 2 * time.Second, FoldMin: 3, Poll: time.Minute}})
				var chats []tgemu.Chat
				var hooks []storage.Webhook
				for i := range 3 {
					ch := tgemu.Group(int64(-900-i), fmt.Sprintf("G%d", i))
					wh := e.hook(t, fmt.Sprintf("%s%d", c.name, i), ch)
					chats, hooks = append(chats, ch), append(hooks, wh)
				}
				// Stored without ringing (the poll is a minute away), so the
				// relay sees the whole queue at its first claim.
				for i, wh := range hooks {
					for n := range 4 {
						ev := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`,
							Body: []byte(fmt.Sprintf(`{"event":"job_failed","job":"j%d-%d"}`, i, n))}
						if _, err := e.db.InsertEvent(ctx, &ev); err != nil {
							t.Fatal(err)
						}
					}
				}
				e.relay.Wake()
				e.drained(t, 20*time.Second)
				for _, ch := range chats {
					ms := e.tg.Messages(ch.ID)
					if len(ms) != c.want {
						t.Errorf("chat %d got %d messages, want %d", ch.ID, len(ms), c.want)
						for _, m := range ms {
							t.Logf("  %q", m.Text)
						}
					}
					if c.want == 1 && len(ms) == 1 && !strings.Contains(ms[0].Text, "events from") {
						t.Errorf("chat %d: %q is not a digest", ch.ID, ms[0].Text)
					}
				}
			})
		})
	}
}
