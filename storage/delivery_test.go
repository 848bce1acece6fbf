package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

func TestDB_ChatPacing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		insert(t, db, f.wh.ID)
		insert(t, db, f.wh.ID)

		ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		if len(ds) != 1 {
			t.Fatalf("claimed %d, want the chat's oldest", len(ds))
		}
		mustDo(t, db.CompleteDeliveries(ctx, ds, 7, clk.Now().Add(3*time.Second)))
		if got, _ := db.ChatPacedUntil(ctx, 100); !got.Equal(clk.Now().Add(3 * time.Second)) {
			t.Fatalf("paced until %v", got)
		}
		t.Run("Skipped", func(t *testing.T) {
			ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
			mustDo(t, err)
			if len(ds) != 0 {
				t.Fatalf("claimed %d from a chat paced for 3s more", len(ds))
			}
		})
		t.Run("EarlierDoesNotShorten", func(t *testing.T) {
			mustDo(t, db.PaceChat(ctx, 100, clk.Now().Add(time.Second)))
			if got, _ := db.ChatPacedUntil(ctx, 100); !got.Equal(clk.Now().Add(3 * time.Second)) {
				t.Fatalf("paced until %v, want the later time kept", got)
			}
		})
		t.Run("Due", func(t *testing.T) {
			clk.Advance(3 * time.Second)
			ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
			mustDo(t, err)
			if len(ds) != 1 {
				t.Fatalf("claimed %d once the pacing time came, want 1", len(ds))
			}
		})
	})
}

// TestDB_ReserveSend: slots of the bot-wide rate are at least one interval
// apart however many callers (here: two pools, as two processes) reserve
// at once.
func TestDB_ReserveSend(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		a := storagetest.Open(t, databaseURL)
		b := a
		if a.Dialect() == storage.Postgres {
			var err error
			if b, err = storage.Open(ctx, databaseURL); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
		}
		const interval = 10 * time.Millisecond
		var mu sync.Mutex
		var slots []time.Time
		var wg sync.WaitGroup
		for i := range 8 {
			db := a
			if i%2 == 1 {
				db = b
			}
			wg.Go(func() {
				for range 10 {
					s, err := db.ReserveSend(ctx, "test", interval)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					slots = append(slots, s)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.SortFunc(slots, func(x, y time.Time) int { return x.Compare(y) })
		if len(slots) != 80 {
			t.Fatalf("%d slots", len(slots))
		}
		for i := 1; i < len(slots); i++ {
			if gap := slots[i].Sub(slots[i-1]); gap < interval {
				t.Fatalf("slots %d and %d are %v apart, want at least %v", i-1, i, gap, interval)
			}
		}
		// An idle rate starts from now, not from the last slot.
		time.Sleep(time.Until(slots[len(slots)-1]) + 50*time.Millisecond)
		s, err := a.ReserveSend(ctx, "test", interval)
		mustDo(t, err)
		if d := time.Since(s); d < 0 || d > time.Second {
			t.Fatalf("idle rate's slot is %v from now", -d)
		}
	})
}

func TestDB_Fold(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		var events []storage.Event
		for range 5 {
			e, _ := insert(t, db, f.wh.ID)
			events = append(events, e)
		}
		heads, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		if len(heads) != 1 {
			t.Fatalf("claimed %d", len(heads))
		}
		if n, _ := db.ChatBacklog(ctx, 100); n != 5 {
			t.Fatalf("backlog %d, want 5", n)
		}
		// Counted up to a limit: a storm's count stops where the answer
		// is known.
		for _, c := range []struct{ limit, want int }{{3, 3}, {5, 5}, {50, 5}} {
			chat, n, err := db.ChatWithBacklog(ctx, 100, c.limit)
			mustDo(t, err)
			if n != c.want || chat.ID != 100 {
				t.Errorf("ChatWithBacklog(limit %d) = chat %d, %d; want chat 100, %d", c.limit, chat.ID, n, c.want)
			}
			n, err = db.PendingDeliveriesUpTo(ctx, c.limit)
			mustDo(t, err)
			if n != c.want {
				t.Errorf("PendingDeliveriesUpTo(%d) = %d, want %d", c.limit, n, c.want)
			}
		}
		if n, err := db.PendingDeliveries(ctx); err != nil || n != 5 {
			t.Errorf("PendingDeliveries = %d, %v; want 5", n, err)
		}
		rest, err := db.ClaimChatBacklog(ctx, heads[0], time.Minute, 3)
		mustDo(t, err)
		if len(rest) != 3 || rest[0].ID <= heads[0].ID || rest[0].ID > rest[1].ID {
			t.Fatalf("folded %+v behind %d, want the next 3 in order", rest, heads[0].ID)
		}
		all := append(heads, rest...)
		mustDo(t, db.CompleteDeliveries(ctx, all, 42, time.Time{}))
		for i, e := range events {
			got, err := db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			want := storage.StatusDelivered
			if i == 4 {
				want = storage.StatusQueued
			}
			if got.Status != want {
				t.Errorf("event %d: %s, want %s", i, got.Status, want)
			}
		}
		t.Run("Release", func(t *testing.T) {
			heads, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
			mustDo(t, err)
			mustDo(t, db.ReleaseDeliveries(ctx, heads))
			ds, err := db.DeliveriesOfEvent(ctx, events[4].ID)
			mustDo(t, err)
			if ds[0].Status != storage.StatusQueued || ds[0].Attempts != 0 {
				t.Fatalf("released: %+v, want queued with its attempt given back", ds[0])
			}
		})
	})
}

// TestDB_FoldAgain: a digest whose outcome was never recorded (its process
// died, or the database failed as the outcome was recorded) is folded again
// when its first delivery is claimed again, by the same process or
// another: the folded deliveries, though still under their lapsed lease,
// go in the new digest with the chat's queued ones, and the digest reads
// exactly what it holds. Recording an outcome ends the fold; a restart of
// a database one process owns (RequeueAbandoned) keeps it.
func TestDB_FoldAgain(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		var events []string
		for range 6 {
			e, _ := insert(t, db, f.wh.ID)
			events = append(events, e.ID)
		}
		claimDigest := func(owner string, limit int) []storage.Delivery {
			t.Helper()
			heads, err := db.ClaimDeliveries(ctx, owner, 10*time.Second, 10)
			mustDo(t, err)
			if len(heads) != 1 {
				t.Fatalf("%s claimed %d heads, want the chat's oldest", owner, len(heads))
			}
			rest, err := db.ClaimChatBacklog(ctx, heads[0], 10*time.Second, limit)
			mustDo(t, err)
			return append(heads, rest...)
		}
		held := func(dls []storage.Delivery) []string {
			t.Helper()
			var got []string
			mustDo(t, db.EachHeldEvent(ctx, dls, func(e storage.QueuedEvent) error {
				got = append(got, e.ID)
				return nil
			}))
			return got
		}
		foldOf := func(event string) int64 {
			t.Helper()
			ds, err := db.DeliveriesOfEvent(ctx, event)
			mustDo(t, err)
			return ds[0].FoldedInto
		}

		first := claimDigest("a", 3)
		head := first[0].ID
		if got := held(first); !slices.Equal(got, events[:4]) {
			t.Fatalf("the digest holds %v, want the first 4 events", got)
		}
		for _, e := range events[:4] {
			if got := foldOf(e); got != head {
				t.Fatalf("folded into %d, want the digest's first delivery %d", got, head)
			}
		}
		// Its outcome is never recorded; the leases run out.
		clk.Advance(11 * time.Second)
		for _, owner := range []string{"a", "b"} {
			t.Run("ClaimedAgainBy_"+owner, func(t *testing.T) {
				again := claimDigest(owner, 10)
				if again[0].ID != head || again[0].FoldedInto != head {
					t.Fatalf("claimed %+v first, want delivery %d still folded", again[0], head)
				}
				if got := held(again); !slices.Equal(got, events) {
					t.Fatalf("the digest folded again holds %v, want all %d events", got, len(events))
				}
				clk.Advance(11 * time.Second)
			})
		}
		t.Run("Restart", func(t *testing.T) {
			if _, err := db.RequeueAbandoned(ctx); err != nil {
				t.Fatal(err)
			}
			if got := foldOf(events[5]); got != head {
				t.Fatalf("requeued, folded into %d, want %d kept", got, head)
			}
		})
		t.Run("Recorded", func(t *testing.T) {
			dls := claimDigest("c", 10)
			mustDo(t, db.ReleaseDeliveries(ctx, dls[1:]))
			mustDo(t, db.RetryDelivery(ctx, dls[0], clk.Now(), "telegram: 502", true))
			for _, e := range events {
				if got := foldOf(e); got != 0 {
					t.Fatalf("after release and retry, folded into %d, want 0", got)
				}
			}
			dls = claimDigest("c", 10)
			mustDo(t, db.CompleteDeliveries(ctx, dls, 9, time.Time{}))
			for _, e := range events {
				if got := foldOf(e); got != 0 {
					t.Fatalf("delivered, folded into %d, want 0", got)
				}
			}
		})
		t.Run("LeaseLost", func(t *testing.T) {
			insert(t, db, f.wh.ID)
			heads, err := db.ClaimDeliveries(ctx, "d", 10*time.Second, 10)
			mustDo(t, err)
			stale := heads[0]
			stale.Attempts--
			if _, err := db.ClaimChatBacklog(ctx, stale, 10*time.Second, 10); !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("folding behind a delivery not held: %v, want ErrLeaseLost", err)
			}
		})
	})
}

func TestDB_RenewLeases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		insert(t, db, f.wh.ID)
		ds, err := db.ClaimDeliveries(ctx, "a", 10*time.Second, 1)
		mustDo(t, err)
		for range 3 {
			clk.Advance(8 * time.Second)
			n, err := db.RenewLeases(ctx, "a", 10*time.Second, []int64{ds[0].ChatID}, nil)
			mustDo(t, err)
			if n != 1 {
				t.Fatalf("renewed %d", n)
			}
			if got, _ := db.ClaimDeliveries(ctx, "b", 10*time.Second, 1); len(got) != 0 {
				t.Fatal("a renewed lease was taken over")
			}
		}
		clk.Advance(11 * time.Second) // a stopped renewing: it crashed
		got, err := db.ClaimDeliveries(ctx, "b", 10*time.Second, 1)
		mustDo(t, err)
		if len(got) != 1 {
			t.Fatal("an expired lease was not taken over")
		}
		if err := db.CompleteDelivery(ctx, ds[0], 1); !errors.Is(err, storage.ErrLeaseLost) {
			t.Fatalf("the crashed holder completed: %v", err)
		}
	})
}

// TestDB_RenewChatLeases: only the leases of the chats named are renewed;
// a delivery left processing by a worker that could not record its outcome
// runs out of lease and is claimed again, although its owner still renews.
func TestDB_RenewChatLeases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		insert(t, db, f.wh.ID)
		ds, err := db.ClaimDeliveries(ctx, "a", 10*time.Second, 1)
		mustDo(t, err)
		if len(ds) != 1 {
			t.Fatalf("claimed %d", len(ds))
		}
		renewedWhileNamed(t, clk, ds[0].ID,
			func(named bool) (int, error) {
				var chats []int64
				if named {
					chats = []int64{ds[0].ChatID}
				}
				return db.RenewLeases(ctx, "a", 10*time.Second, chats, nil)
			},
			func() []int64 {
				got, err := db.ClaimDeliveries(ctx, "b", 10*time.Second, 1)
				mustDo(t, err)
				var ids []int64
				for _, d := range got {
					ids = append(ids, d.ID)
				}
				return ids
			})
	})
}

// TestDB_RenewNoticeLeases: notices, like deliveries, are renewed only
// while named (a worker is sending them): one whose worker ended without
// recording its outcome is claimed again when its lease runs out.
func TestDB_RenewNoticeLeases(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		clk := newClock()
		f := setup(t, databaseURL, storage.WithClock(clk.Now))
		db := f.db
		_, err := db.EnsureChat(ctx, storage.Chat{ID: -500, Type: "group", Title: "Ops", Language: "en"})
		mustDo(t, err)
		_, err = db.Subscribe(ctx, f.wh.ID, -500, 100)
		mustDo(t, err)
		insert(t, db, f.wh.ID)
		ds, err := db.ClaimDeliveries(ctx, "w", time.Hour, 10)
		mustDo(t, err)
		for _, d := range ds {
			if d.ChatID == -500 {
				_, err := db.StopChat(ctx, d, "chat unreachable", "kicked")
				mustDo(t, err)
			}
		}
		ns, err := db.ClaimNotices(ctx, "a", 10*time.Second, 10)
		mustDo(t, err)
		if len(ns) != 1 {
			t.Fatalf("claimed %d notices, want the owner's one", len(ns))
		}
		renewedWhileNamed(t, clk, ns[0].ID,
			func(named bool) (int, error) {
				var notices []int64
				if named {
					notices = []int64{ns[0].ID}
				}
				return db.RenewLeases(ctx, "a", 10*time.Second, nil, notices)
			},
			func() []int64 {
				got, err := db.ClaimNotices(ctx, "b", 10*time.Second, 10)
				mustDo(t, err)
				var ids []int64
				for _, n := range got {
					ids = append(ids, n.ID)
				}
				return ids
			})
	})
}

// TestDB_ResumeAbandoned: at a process's start, what is under lease is
// handed back at once on a database one process owns (SQLite: it was left
// by that process's previous life), and left to its lease on PostgreSQL,
// where another process may be working on it.
func TestDB_ResumeAbandoned(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		_, _, err := db.SetForward(ctx, f.wh.ID, "https://example.com/hook", "whsec_AAAA", 100, settle)
		mustDo(t, err)
		insert(t, db, f.wh.ID)
		_, err = db.TakeForwardEvents(ctx, settle, 100)
		mustDo(t, err)
		ds, err := db.ClaimDeliveries(ctx, "a", time.Hour, 10)
		mustDo(t, err)
		fs, err := db.ClaimForwardDeliveries(ctx, "a", time.Hour, 10, 2)
		mustDo(t, err)
		if len(ds) != 1 || len(fs) != 1 {
			t.Fatalf("claimed %d deliveries and %d forward messages, want 1 and 1", len(ds), len(fs))
		}
		want := 0
		if db.Dialect() == storage.SQLite {
			want = 1
		}
		n, err := db.ResumeAbandoned(ctx)
		mustDo(t, err)
		m, err := db.ResumeAbandonedForwards(ctx)
		mustDo(t, err)
		if n != want || m != want {
			t.Fatalf("resumed %d deliveries and %d forward messages, want %d and %d", n, m, want, want)
		}
		again, err := db.ClaimDeliveries(ctx, "b", time.Hour, 10)
		mustDo(t, err)
		againF, err := db.ClaimForwardDeliveries(ctx, "b", time.Hour, 10, 2)
		mustDo(t, err)
		if len(again) != want || len(againF) != want {
			t.Fatalf("claimed again %d deliveries and %d forward messages, want %d and %d", len(again), len(againF), want, want)
		}
	})
}

// renewedWhileNamed checks the lease of row id, held for 10 s: renew(true)
// names it and renews it, so another owner's claim (claim, returning the
// ids it took) takes nothing; once its worker is gone, renew(false) renews
// nothing and the row is claimed again when its lease runs out.
func renewedWhileNamed(t *testing.T, clk *clock, id int64, renew func(named bool) (int, error), claim func() []int64) {
	t.Helper()
	clk.Advance(8 * time.Second)
	if n, err := renew(true); err != nil || n != 1 {
		t.Fatalf("renewing the row in flight: %d, %v; want 1", n, err)
	}
	clk.Advance(8 * time.Second)
	if got := claim(); len(got) != 0 {
		t.Fatal("a renewed lease was taken over")
	}
	// Its worker is gone: the row is no longer named.
	for range 2 {
		n, err := renew(false)
		mustDo(t, err)
		if n != 0 {
			t.Fatalf("renewed %d rows with nothing in flight", n)
		}
		clk.Advance(2 * time.Second)
	}
	if got := claim(); len(got) != 1 || got[0] != id {
		t.Fatalf("claimed %v, want %d, which no worker holds, again", got, id)
	}
}

// TestDB_StopChat: a chat Telegram says is gone stops with every delivery
// waiting for it, and the owners of its webhooks are owed a notice.
func TestDB_StopChat(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		_, err := db.EnsureChat(ctx, storage.Chat{ID: -500, Type: "group", Title: "Ops", Language: "en"})
		mustDo(t, err)
		_, err = db.Subscribe(ctx, f.wh.ID, -500, 100)
		mustDo(t, err)
		e1, _ := insert(t, db, f.wh.ID)
		e2, _ := insert(t, db, f.wh.ID)
		var head storage.Delivery
		ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		for _, d := range ds {
			if d.ChatID == -500 {
				head = d
			} else {
				mustDo(t, db.CompleteDelivery(ctx, d, 1))
			}
		}
		n, err := db.StopChat(ctx, head, "chat unreachable: Forbidden: bot was kicked from the group chat", "kicked")
		mustDo(t, err)
		if n != 1 {
			t.Fatalf("%d notices, want 1 to the owner", n)
		}
		if c, _ := db.ChatByID(ctx, -500); c.Active {
			t.Error("the chat is still active")
		}
		for _, e := range []storage.Event{e1, e2} {
			got, err := db.EventByID(ctx, f.wh.ID, e.ID)
			mustDo(t, err)
			if e.ID == e1.ID && got.Status != storage.StatusFailed {
				t.Errorf("event %s: %s, want failed (its group is gone)", e.ID, got.Status)
			}
			if e.ID == e2.ID && got.Status != storage.StatusProcessing && got.Status != storage.StatusQueued {
				t.Errorf("event 2: %s, want still pending for the owner's chat", got.Status)
			}
		}
		notices, err := db.NoticesFor(ctx, 100)
		mustDo(t, err)
		if len(notices) != 1 || notices[0].Kind != storage.NoticeChatGone {
			t.Fatalf("notices %+v", notices)
		}
		var g storage.ChatGone
		mustDo(t, json.Unmarshal([]byte(notices[0].Data), &g))
		if g.Title != "Ops" || g.Reason != "kicked" || !slices.Equal(g.Webhooks, []string{"orders"}) {
			t.Fatalf("notice data %+v", g)
		}
		t.Run("ClaimAndFinish", func(t *testing.T) {
			ns, err := db.ClaimNotices(ctx, "w", time.Minute, 10)
			mustDo(t, err)
			if len(ns) != 1 {
				t.Fatalf("claimed %d notices", len(ns))
			}
			mustDo(t, db.FinishNotice(ctx, ns[0], storage.StatusDelivered, time.Time{}, time.Time{}, ""))
			if ns, _ := db.ClaimNotices(ctx, "w", time.Minute, 10); len(ns) != 0 {
				t.Fatal("a sent notice was claimed again")
			}
			if err := db.FinishNotice(ctx, ns[0], storage.StatusDelivered, time.Time{}, time.Time{}, ""); !errors.Is(err, storage.ErrLeaseLost) {
				t.Fatalf("finished twice: %v", err)
			}
		})
		t.Run("OwnChat", func(t *testing.T) {
			// The owner's own chat gone: nobody to tell.
			e3, _ := insert(t, db, f.wh.ID)
			var mine storage.Delivery
			for range 3 {
				ds, _ := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
				for _, d := range ds {
					if d.EventID == e3.ID {
						mine = d
					} else {
						mustDo(t, db.CompleteDelivery(ctx, d, 1))
					}
				}
			}
			if mine.ID == 0 {
				dd, _ := db.DeliveriesOfEvent(ctx, e3.ID)
				t.Fatalf("no delivery of the new event %s: %+v", e3.ID, dd)
			}
			n, err := db.StopChat(ctx, mine, "blocked", "blocked")
			mustDo(t, err)
			if n != 0 {
				t.Fatalf("%d notices to a chat that blocked the bot", n)
			}
		})
	})
}

// TestDB_ChatGone: the news that a chat is gone, heard outside a delivery
// (the bot's my_chat_member), stops it and tells the owner once.
func TestDB_ChatGone(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		_, err := db.EnsureChat(ctx, storage.Chat{ID: -800, Type: "supergroup", Title: "Night shift", Language: "en"})
		mustDo(t, err)
		_, err = db.Subscribe(ctx, f.wh.ID, -800, 100)
		mustDo(t, err)
		e, _ := insert(t, db, f.wh.ID)
		for i, want := range []int{1, 0} {
			n, err := db.ChatGone(ctx, -800, "bot was kicked", "kicked")
			mustDo(t, err)
			if n != want {
				t.Fatalf("call %d: %d notices, want %d", i+1, n, want)
			}
		}
		ds, err := db.DeliveriesOfEvent(ctx, e.ID)
		mustDo(t, err)
		for _, d := range ds {
			if d.ChatID == -800 && d.Status != storage.StatusFailed {
				t.Fatalf("the gone chat's delivery is %s, want failed", d.Status)
			}
		}
		if n, _ := db.ChatBacklog(ctx, -800); n != 0 {
			t.Fatalf("backlog %d", n)
		}
	})
}

// TestDB_MigrateChat: a group that became a supergroup takes its
// subscriptions and pending deliveries along, in order.
func TestDB_MigrateChat(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := setup(t, databaseURL)
		db := f.db
		_, err := db.EnsureChat(ctx, storage.Chat{ID: -600, Type: "group", Title: "Ops", Language: "ru"})
		mustDo(t, err)
		_, err = db.Subscribe(ctx, f.wh.ID, -600, 100)
		mustDo(t, err)
		var events []storage.Event
		for range 3 {
			e, _ := insert(t, db, f.wh.ID)
			events = append(events, e)
		}
		var held storage.Delivery
		ds, err := db.ClaimDeliveries(ctx, "w", time.Minute, 10)
		mustDo(t, err)
		for _, d := range ds {
			if d.ChatID == -600 {
				held = d
			}
		}
		mustDo(t, db.MigrateChat(ctx, -600, -100600, &held))
		mustDo(t, db.MigrateChat(ctx, -600, -100600, nil)) // twice is harmless

		chats, err := db.SubscribedChats(ctx, f.wh.ID)
		mustDo(t, err)
		if !slices.Equal(chats, []int64{-100600, 100}) {
			t.Fatalf("subscribed chats %v, want the supergroup instead of the group", chats)
		}
		c, err := db.ChatByID(ctx, -100600)
		mustDo(t, err)
		if c.Type != "supergroup" || c.Language != "ru" || !c.Active || c.Title != "Ops" {
			t.Fatalf("supergroup %+v", c)
		}
		if old, _ := db.ChatByID(ctx, -600); old.Active {
			t.Error("the old group is still active")
		}
		for _, e := range events {
			ds, err := db.DeliveriesOfEvent(ctx, e.ID)
			mustDo(t, err)
			var got []int64
			for _, d := range ds {
				got = append(got, d.ChatID)
			}
			if !slices.Contains(got, -100600) || slices.Contains(got, -600) {
				t.Fatalf("event %s delivered to %v", e.ID, got)
			}
		}
		if n, _ := db.ChatBacklog(ctx, -100600); n != 3 {
			t.Fatalf("supergroup backlog %d, want 3", n)
		}
		ds, _ = db.DeliveriesOfEvent(ctx, events[0].ID)
		for _, d := range ds {
			if d.ChatID == -100600 && (d.Status != storage.StatusQueued || d.Attempts != 0) {
				t.Fatalf("the held delivery: %+v, want queued again with the attempt given back", d)
			}
		}
	})
}

func TestDB_EnsureSetting(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		db := storagetest.Open(t, databaseURL)
		a, err := db.EnsureSetting(ctx, "k", "first")
		mustDo(t, err)
		b, err := db.EnsureSetting(ctx, "k", "second")
		mustDo(t, err)
		if a != "first" || b != "first" {
			t.Fatalf("got %q then %q, want the first value both times", a, b)
		}
	})
}
