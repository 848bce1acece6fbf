package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// claimOne claims the oldest due delivery, which must exist.
func claimOne(t *testing.T, db *storage.DB) storage.Delivery {
	t.Helper()
	ds, err := db.ClaimDeliveries(context.Background(), "w", time.Minute, 1)
	mustDo(t, err)
	if len(ds) != 1 {
		t.Fatalf("claimed %d deliveries, want 1", len(ds))
	}
	return ds[0]
}

func TestDB_Tasks(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		e1, _ := insert(t, db, f.wh.ID)
		e2, _ := insert(t, db, f.wh.ID)

		// The first event needs action, the second does not.
		d1 := claimOne(t, db)
		mustDo(t, db.CompleteDeliveries(ctx, []storage.Delivery{d1}, 41, time.Time{}, storage.NewTask{
			EventID: e1.ID, Title: "Deploy failed", Source: "GitHub", Action: "Fix it",
			MessageHTML: "<b>GitHub</b>\nDeploy failed", LinkURL: "https://example.com/run", LinkText: "Open",
		}))
		d2 := claimOne(t, db)
		mustDo(t, db.CompleteDeliveries(ctx, []storage.Delivery{d2}, 42, time.Time{}))

		var task storage.Task
		t.Run("Created", func(t *testing.T) {
			open, total, err := db.OpenTasks(ctx, 100, 10)
			mustDo(t, err)
			if total != 1 || len(open) != 1 {
				t.Fatalf("open tasks %d (total %d), want 1", len(open), total)
			}
			task = open[0]
			if task.EventID != e1.ID || task.ChatID != 100 || task.MessageChatID != 100 || task.MessageID != 41 ||
				task.Title != "Deploy failed" || task.Source != "GitHub" || task.Action != "Fix it" ||
				task.LinkURL != "https://example.com/run" || task.MessageHTML == "" || !task.Open() {
				t.Fatalf("task = %+v", task)
			}
			if !task.CreatedAt.Equal(clk.Now()) {
				t.Errorf("created at %v, want %v", task.CreatedAt, clk.Now())
			}
			got, err := db.TaskByMessage(ctx, 100, 41)
			mustDo(t, err)
			if got.ID != task.ID {
				t.Errorf("TaskByMessage = %d, want %d", got.ID, task.ID)
			}
			if _, err := db.TaskByMessage(ctx, 100, 42); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("TaskByMessage of a message without a task: %v, want ErrNotFound", err)
			}
		})

		t.Run("EventsOfMessage", func(t *testing.T) {
			evs, total, err := db.EventsOfMessage(ctx, 100, 42, 5)
			mustDo(t, err)
			if total != 1 || len(evs) != 1 || evs[0].ID != e2.ID || evs[0].WebhookName != "orders" || string(evs[0].Body) != `{"a":1}` {
				t.Fatalf("events of message 42: %d of %d: %+v", len(evs), total, evs)
			}
			evs, total, err = db.EventsOfMessage(ctx, 100, 999, 5)
			mustDo(t, err)
			if total != 0 || len(evs) != 0 {
				t.Fatalf("events of an unknown message: %d of %d", len(evs), total)
			}
			if evs, _, _ := db.EventsOfMessage(ctx, 555, 42, 5); len(evs) != 0 {
				t.Fatalf("another chat's message 42 has events: %+v", evs)
			}
		})

		t.Run("LeaseLostMakesNoTask", func(t *testing.T) {
			e3, _ := insert(t, db, f.wh.ID)
			d3 := claimOne(t, db)
			stale := d3
			stale.Attempts-- // another worker took it over
			err := db.CompleteDeliveries(ctx, []storage.Delivery{stale}, 43, time.Time{}, storage.NewTask{EventID: e3.ID, Title: "x"})
			if !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("complete with a lost lease: %v, want ErrLeaseLost", err)
			}
			if _, err := db.TaskByMessage(ctx, 100, 43); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a task was made for a delivery not recorded: %v", err)
			}
			mustDo(t, db.CompleteDeliveries(ctx, []storage.Delivery{d3}, 43, time.Time{}))
		})

		t.Run("Close", func(t *testing.T) {
			clk.Advance(time.Hour)
			got, closed, err := db.CloseTask(ctx, task.ID, 7, "Bob")
			mustDo(t, err)
			if !closed || got.Open() || got.ClosedBy == nil || *got.ClosedBy != 7 || got.ClosedByName != "Bob" || !got.ClosedAt.Equal(clk.Now()) {
				t.Fatalf("closed=%v task=%+v", closed, got)
			}
			clk.Advance(time.Minute)
			again, closed, err := db.CloseTask(ctx, task.ID, 8, "Carol")
			mustDo(t, err)
			if closed || again.ClosedByName != "Bob" || *again.ClosedBy != 7 || !again.ClosedAt.Equal(*got.ClosedAt) {
				t.Fatalf("second close: closed=%v task=%+v, want Bob's close kept", closed, again)
			}
			if open, total, _ := db.OpenTasks(ctx, 100, 10); total != 0 || len(open) != 0 {
				t.Fatalf("open tasks after closing: %d", total)
			}
			if _, _, err := db.CloseTask(ctx, 987654, 7, "Bob"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("closing an unknown task: %v, want ErrNotFound", err)
			}
		})
	})
}

// TestDB_TasksRace: of members pressing Done at once, exactly one closes.
func TestDB_TasksRace(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		e, _ := insert(t, db, f.wh.ID)
		mustDo(t, db.CompleteDeliveries(ctx, []storage.Delivery{claimOne(t, db)}, 5, time.Time{}, storage.NewTask{EventID: e.ID, Title: "t"}))
		task, err := db.TaskByMessage(ctx, 100, 5)
		mustDo(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, closed, err := db.CloseTask(ctx, task.ID, int64(i+1), "u")
				if err != nil {
					t.Error(err)
				}
				if closed {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d closes won, want exactly 1", wins)
		}
	})
}

// TestDB_TasksDigest: a digest's message carries the tasks of the events it
// folded that need action, and a reply to it reaches all its events.
func TestDB_TasksDigest(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		var evs []storage.Event
		for range 3 {
			e, _ := insert(t, db, f.wh.ID)
			evs = append(evs, e)
		}
		head := claimOne(t, db)
		rest, err := db.ClaimChatBacklog(ctx, head, time.Minute, 10)
		mustDo(t, err)
		dls := append([]storage.Delivery{head}, rest...)
		mustDo(t, db.CompleteDeliveries(ctx, dls, 77, time.Time{},
			storage.NewTask{EventID: evs[0].ID, Title: "a"}, storage.NewTask{EventID: evs[2].ID, Title: "c"}))
		open, total, err := db.OpenTasks(ctx, 100, 1)
		mustDo(t, err)
		if total != 2 || len(open) != 1 || open[0].Title != "a" {
			t.Fatalf("open tasks: %d of %d: %+v, want a of 2", len(open), total, open)
		}
		got, n, err := db.EventsOfMessage(ctx, 100, 77, 2)
		mustDo(t, err)
		if n != 3 || len(got) != 2 || got[0].ID != evs[0].ID || got[1].ID != evs[1].ID {
			t.Fatalf("events of the digest: %d of %d", len(got), n)
		}
	})
}

// TestDB_TasksMigrate: a group that became a supergroup keeps its tasks;
// their Done buttons stay on the old chat's messages.
func TestDB_TasksMigrate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		db := storagetest.Open(t, databaseURL)
		mustDo(t, db.UpsertUser(ctx, user(100)))
		_, err := db.EnsureChat(ctx, chat(-600, "group"))
		mustDo(t, err)
		wh, err := db.CreateWebhook(ctx, 100, "alerts", hash("tok"), -600)
		mustDo(t, err)
		e, _ := insert(t, db, wh.ID)
		mustDo(t, db.CompleteDeliveries(ctx, []storage.Delivery{claimOne(t, db)}, 9, time.Time{}, storage.NewTask{EventID: e.ID, Title: "t"}))

		mustDo(t, db.MigrateChat(ctx, -600, -100600, nil))
		if _, total, _ := db.OpenTasks(ctx, -600, 10); total != 0 {
			t.Errorf("the old group still lists %d tasks", total)
		}
		open, total, err := db.OpenTasks(ctx, -100600, 10)
		mustDo(t, err)
		if total != 1 || open[0].MessageChatID != -600 || open[0].MessageID != 9 {
			t.Fatalf("the supergroup's tasks: %d %+v", total, open)
		}
		if got, err := db.TaskByMessage(ctx, -600, 9); err != nil || got.ID != open[0].ID {
			t.Fatalf("the old message's Done button finds %+v, %v", got, err)
		}
		mustDo(t, db.MigrateChat(ctx, -600, -100600, nil)) // twice is safe
	})
}
