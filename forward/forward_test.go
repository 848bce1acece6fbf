package forward_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// message is the forwarded JSON as a receiver reads it.
type message struct {
	ID         string          `json:"id"`
	Webhook    string          `json:"webhook"`
	ReceivedAt time.Time       `json:"received_at"`
	Payload    json.RawMessage `json:"payload"`
	Test       bool            `json:"test"`
	Summary    struct {
		Text    string `json:"text"`
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Source  string `json:"source"`
		Lang    string `json:"lang"`
		Facts   []struct {
			Label, Value string
		} `json:"facts"`
	} `json:"summary"`
}

func decode(t *testing.T, h hit) message {
	t.Helper()
	var m message
	if err := json.Unmarshal(h.Body, &m); err != nil {
		t.Fatalf("body %s: %v", h.Body, err)
	}
	return m
}

func sameJSON(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("payload %s: %v", got, err)
	}
	json.Unmarshal([]byte(want), &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("payload %s, want %s", got, want)
	}
}

func TestWorker_ForwardsSignedEvents(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true})
		rc := newReceiver(t, f.clk)
		f.post(t, f.wh, "application/json", `{"before":"setup"}`)
		fw := f.forwardTo(t, f.wh, rc.URL+"/in?k=v", rc)
		run(t, f.w)

		t.Run("JSON", func(t *testing.T) {
			body := `{"event":"new_order","order_id":12345,"amount":9900,"customer":{"name":"Ada"}}`
			e := f.post(t, f.wh, "application/json", body)
			f.w.Wake()
			h := rc.wait(t)
			if h.Err != nil {
				t.Fatalf("signature: %v", h.Err)
			}
			if got := h.Header.Get("webhook-id"); got != e.ID {
				t.Fatalf("webhook-id %q, want the event id %q", got, e.ID)
			}
			if ct := h.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
			m := decode(t, h)
			if m.ID != e.ID || m.Webhook != "orders" || !m.ReceivedAt.Equal(e.ReceivedAt) || m.Test {
				t.Fatalf("message %+v, want event %s of orders received %v", m, e.ID, e.ReceivedAt)
			}
			sameJSON(t, m.Payload, body)
			if m.Summary.Source != "orders" || m.Summary.Lang != "en" || !strings.Contains(m.Summary.Text, "Order ID: 12345") || len(m.Summary.Facts) == 0 {
				t.Fatalf("summary %+v, want the English notification with its facts", m.Summary)
			}
			as := f.waitAttempts(t, fw, 1)
			if a := as[0]; !a.OK || a.StatusCode != 200 || a.Attempt != 1 || a.Excerpt != "ok" || *a.EventID != e.ID {
				t.Fatalf("attempt %+v", a)
			}
		})
		t.Run("Text", func(t *testing.T) {
			e := f.post(t, f.wh, "text/plain", "disk almost full on db-1")
			f.w.Wake()
			m := decode(t, rc.wait(t))
			var s string
			if err := json.Unmarshal(m.Payload, &s); err != nil || s != "disk almost full on db-1" || m.ID != e.ID {
				t.Fatalf("payload %s (%v), want the text as a JSON string", m.Payload, err)
			}
		})
		t.Run("OwnersLanguage", func(t *testing.T) {
			_, err := f.db.EnsureChat(ctx, storage.Chat{ID: ownerID, Type: "private", Language: "ru"})
			must(t, err)
			defer f.db.EnsureChat(ctx, storage.Chat{ID: ownerID, Type: "private", Language: "en"})
			f.post(t, f.wh, "application/json", `{"status":"ok"}`)
			f.w.Wake()
			if m := decode(t, rc.wait(t)); m.Summary.Lang != "ru" {
				t.Fatalf("summary in %q, want the owner's ru", m.Summary.Lang)
			}
		})
		t.Run("OnlyAfterSetup", func(t *testing.T) {
			for _, h := range rc.all() {
				if strings.Contains(string(h.Body), `"before"`) {
					t.Fatal("an event from before the forward was sent")
				}
			}
		})
	})
}

// TestWorker_RetrySchedule moves the database's clock instead of sleeping:
// attempts at once, then 1 min, 5 min, 30 min and 3 h after the previous
// one, then failed; one webhook-id throughout, a fresh signature each time.
func TestWorker_RetrySchedule(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true})
		rc := newReceiver(t, f.clk)
		rc.answer(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("<html>\n<body>" + strings.Repeat("Внутренняя ошибка ", 300) + "</body>"))
		})
		fw := f.forwardTo(t, f.wh, rc.URL, rc)
		run(t, f.w)
		e := f.post(t, f.wh, "application/json", `{"n":1}`)
		start := f.clk.Now()
		f.w.Wake()

		want := []time.Duration{0, time.Minute, 6 * time.Minute, 36 * time.Minute, 3*time.Hour + 36*time.Minute}
		var ids, stamps []string
		for i, at := range want {
			if i > 0 {
				q, err := f.db.ForwardQueueOf(ctx, fw.ID)
				must(t, err)
				if q.NextAt == nil || !q.NextAt.Equal(start.Add(at)) {
					t.Fatalf("after attempt %d the next is due %v, want %v", i, q.NextAt, start.Add(at))
				}
				f.clk.Advance(start.Add(at).Sub(f.clk.Now()))
				f.w.Wake()
			}
			h := rc.wait(t)
			if h.Err != nil {
				t.Fatalf("attempt %d: signature: %v", i+1, h.Err)
			}
			ids = append(ids, h.Header.Get("webhook-id"))
			stamps = append(stamps, h.Header.Get("webhook-timestamp"))
			f.waitAttempts(t, fw, i+1)
		}
		as := f.attempts(t, fw)
		if len(as) != 5 {
			t.Fatalf("%d attempts, want 5", len(as))
		}
		for i, a := range as {
			if a.Attempt != i+1 || !a.At.Equal(start.Add(want[i])) || a.OK || a.StatusCode != 500 {
				t.Fatalf("attempt %d: %+v, want HTTP 500 at %v", i+1, a, start.Add(want[i]))
			}
			if len(a.Excerpt) > 200 || !strings.HasPrefix(a.Excerpt, "<html> <body>Внутренняя ошибка") {
				t.Fatalf("excerpt of %d bytes: %q", len(a.Excerpt), a.Excerpt)
			}
		}
		if !as[4].Final || as[3].Final {
			t.Fatalf("the fifth attempt should be the last: %+v", as)
		}
		for i := range ids {
			if ids[i] != e.ID {
				t.Fatalf("webhook-id of attempt %d is %q, want %q on every attempt", i+1, ids[i], e.ID)
			}
			if i > 0 && stamps[i] == stamps[i-1] {
				t.Fatalf("attempts %d and %d share the timestamp %s", i, i+1, stamps[i])
			}
		}
		q, err := f.db.ForwardQueueOf(ctx, fw.ID)
		must(t, err)
		if q.Pending != 0 || q.Failed != 1 {
			t.Fatalf("queue %+v, want the message failed", q)
		}
		if n := f.sums.Load(); n < 5 {
			t.Fatalf("%d summaries asked for 5 attempts", n)
		}
	})
}

func TestWorker_Failures(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true})
		t.Run("Timeout", func(t *testing.T) {
			w := f.worker(f.db, forward.Config{AllowPrivate: true, Timeout: 300 * time.Millisecond})
			rc := newReceiver(t, f.clk)
			release := make(chan struct{})
			defer close(release)
			rc.answer(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			fw := f.forwardTo(t, f.wh, rc.URL, rc)
			a, err := w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || a.StatusCode != 0 || a.Excerpt != "no answer within 300ms" {
				t.Fatalf("attempt %+v, want a timeout", a)
			}
		})
		t.Run("ConnectionRefused", func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			must(t, err)
			addr := ln.Addr().String()
			ln.Close() // nobody listens there now
			fw := f.forwardTo(t, f.wh, "http://"+addr+"/secret-path-token", nil)
			a, err := f.w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || !strings.Contains(a.Excerpt, "connection refused") || strings.Contains(a.Excerpt, "secret-path-token") {
				t.Fatalf("attempt %+v, want connection refused, without the URL's path", a)
			}
		})
		t.Run("TestGetsOneAttempt", func(t *testing.T) {
			rc := newReceiver(t, f.clk)
			rc.answer(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusServiceUnavailable) })
			fw := f.forwardTo(t, f.wh, rc.URL, rc)
			a, err := f.w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || a.StatusCode != 503 || a.Excerpt != "nope" {
				t.Fatalf("attempt %+v", a)
			}
			m := decode(t, rc.wait(t))
			if !m.Test || !strings.HasPrefix(m.ID, "test_") || m.Summary.Text == "" || m.Webhook != "orders" {
				t.Fatalf("test message %+v", m)
			}
			q, err := f.db.ForwardQueueOf(ctx, fw.ID)
			must(t, err)
			if q.Pending != 0 || q.Failed != 3 {
				t.Fatalf("queue %+v: test messages are not retried (3 failed so far)", q)
			}
		})
	})
}

// TestWorker_Redirects: a redirect is followed only if it keeps the POST
// (307, 308), and each hop is checked by the dialer: a receiver that
// redirects to 127.0.0.1 gets nothing through when private addresses are
// not allowed. The first receiver, itself on loopback, is let through by
// the test's Control; every other address is judged by the real guard.
func TestWorker_Redirects(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true})
		first, second := newReceiver(t, f.clk), newReceiver(t, f.clk)
		firstAddr := first.Listener.Addr().String()
		guard := forward.Guard(false)
		control := func(network, address string, c syscall.RawConn) error {
			if address == firstAddr {
				return nil
			}
			return guard(network, address, c)
		}
		redirect := func(code int) func(w http.ResponseWriter, r *http.Request) {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, second.URL+"/moved", code)
			}
		}
		t.Run("ToLoopbackRefused", func(t *testing.T) {
			w := f.worker(f.db, forward.Config{Control: control})
			fw := f.forwardTo(t, f.wh, first.URL, first)
			first.answer(redirect(http.StatusTemporaryRedirect))
			a, err := w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || !strings.HasPrefix(a.Excerpt, "refused: 127.0.0.1 is a loopback") {
				t.Fatalf("attempt %+v, want the redirect's target refused", a)
			}
			if first.count() != 1 || second.count() != 0 {
				t.Fatalf("first got %d, second %d requests; want 1 and 0", first.count(), second.count())
			}
			first.wait(t)
		})
		t.Run("PermanentRedirectFollowedWhenAllowed", func(t *testing.T) {
			fw := f.forwardTo(t, f.wh, first.URL, first)
			second.setSecret(fw.Secret)
			first.answer(redirect(http.StatusPermanentRedirect))
			a, err := f.w.SendTest(ctx, fw.ID)
			must(t, err)
			if !a.OK {
				t.Fatalf("attempt %+v, want delivered after the redirect", a)
			}
			h0, h := first.wait(t), second.wait(t)
			if h.Err != nil || h.Path != "/moved" || string(h.Body) != string(h0.Body) {
				t.Fatalf("redirected request: %+v (signature %v)", h, h.Err)
			}
		})
		t.Run("FoundNotFollowed", func(t *testing.T) {
			// A 302 would make the POST a GET without the event: not followed.
			fw := f.forwardTo(t, f.wh, first.URL, first)
			first.answer(redirect(http.StatusFound))
			before := second.count()
			a, err := f.w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || a.StatusCode != http.StatusFound || !strings.HasPrefix(a.Excerpt, "redirect to 127.0.0.1:") {
				t.Fatalf("attempt %+v, want the 302 as the answer", a)
			}
			if second.count() != before {
				t.Fatal("the 302 was followed")
			}
			first.wait(t)
		})
		t.Run("TooMany", func(t *testing.T) {
			fw := f.forwardTo(t, f.wh, first.URL, first)
			first.answer(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, first.URL+"/again", http.StatusTemporaryRedirect)
			})
			a, err := f.w.SendTest(ctx, fw.ID)
			must(t, err)
			if a.OK || !strings.Contains(a.Excerpt, "redirects") {
				t.Fatalf("attempt %+v, want too many redirects", a)
			}
		})
	})
}

// TestWorker_SlowTargetHoldsUpNoOther: a target that does not answer keeps
// only its own messages waiting (PerForward), not another forward's.
func TestWorker_SlowTargetHoldsUpNoOther(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true, Workers: 2, PerForward: 1})
		slow, fast := newReceiver(t, f.clk), newReceiver(t, f.clk)
		release := make(chan struct{})
		slow.answer(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer func() {
			select {
			case <-release:
			default:
				close(release)
			}
		}()
		other, err := f.db.CreateWebhook(ctx, ownerID, "alerts", []byte("token-hash-alerts-0000000000000000"), ownerID)
		must(t, err)
		f.forwardTo(t, f.wh, slow.URL, slow)
		f.forwardTo(t, other, fast.URL, fast)
		run(t, f.w)
		for range 3 {
			f.post(t, f.wh, "application/json", `{"slow":true}`)
		}
		f.w.Wake()
		slow.wait(t) // the slow target holds one worker now
		f.post(t, other, "application/json", `{"fast":true}`)
		f.w.Wake()
		if m := decode(t, fast.wait(t)); !strings.Contains(string(m.Payload), "fast") {
			t.Fatalf("fast target got %s", m.Payload)
		}
		if n := slow.count(); n != 1 {
			t.Fatalf("the slow target has %d requests in flight, want 1 (PerForward)", n)
		}
		close(release)
		slow.wait(t)
		slow.wait(t)
	})
}

// TestWorker_Restart: messages are rows; a new worker (a restarted process)
// carries on with them, and takes over one a crashed process held.
func TestWorker_Restart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{AllowPrivate: true})
		rc := newReceiver(t, f.clk)
		rc.answer(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		fw := f.forwardTo(t, f.wh, rc.URL, rc)
		stop := run(t, f.w)
		e := f.post(t, f.wh, "application/json", `{"n":1}`)
		f.w.Wake()
		rc.wait(t)
		f.waitAttempts(t, fw, 1)
		stop()

		// A crashed process held a second message.
		e2 := f.post(t, f.wh, "application/json", `{"n":2}`)
		_, err := f.db.TakeForwardEvents(ctx, storage.ForwardSettle, 100)
		must(t, err)
		crashed, err := f.db.ClaimForwardDeliveries(ctx, "crashed", 10*time.Minute, 10, 10)
		must(t, err)
		if len(crashed) != 1 || *crashed[0].EventID != e2.ID {
			t.Fatalf("crashed process claimed %+v", crashed)
		}

		rc.answer(nil) // the target is back
		db2 := storagetest.Open(t, databaseURL, storage.WithClock(f.clk.Now))
		f.clk.Advance(11 * time.Minute) // the first retry is due; the crashed lease ran out
		w2 := f.worker(db2, forward.Config{AllowPrivate: true})
		run(t, w2)
		w2.Wake()
		got := map[string]int{}
		for range 2 {
			h := rc.wait(t)
			if h.Err != nil {
				t.Fatalf("signature: %v", h.Err)
			}
			got[h.Header.Get("webhook-id")]++
		}
		if got[e.ID] != 1 || got[e2.ID] != 1 {
			t.Fatalf("after the restart the receiver got %v, want %s and %s once each", got, e.ID, e2.ID)
		}
		as := f.waitAttempts(t, fw, 3)
		q, err := f.db.ForwardQueueOf(ctx, fw.ID)
		must(t, err)
		if q.Pending != 0 || q.Failed != 0 {
			t.Fatalf("queue %+v after the restart; attempts %+v", q, as)
		}
	})
}
