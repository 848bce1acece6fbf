package forward_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// verify checks a request the way a Standard Webhooks receiver does,
// written here from the specification rather than from the code under
// test: the signed content is "<webhook-id>.<webhook-timestamp>.<body>",
// the key is the base64 after "whsec_", the header holds space-separated
// "v1,<base64>" signatures, and the timestamp must be within 5 minutes of
// now.
// Specs: https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-webhook-authenticity
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp outside the tolerance")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("bad secret")
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, id+"."+ts+".")
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no valid signature")
}

// clock is a settable clock for the database (storage.WithClock).
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// hit is one request a receiver got.
type hit struct {
	Header http.Header
	Body   []byte
	Path   string
	Err    error // the signature check's verdict
}

// receiver is a local HTTP endpoint that forwards are sent to. It verifies
// each request's signature with the secret it is told, answers with
// respond (200 "ok" when nil) and records what it got.
type receiver struct {
	*httptest.Server
	clk    *clock
	mu     sync.Mutex
	secret string
	hits   []hit
	got    chan hit
	// respond writes the answer; nil answers 200 "ok".
	respond atomic.Pointer[func(w http.ResponseWriter, r *http.Request)]
}

func newReceiver(t *testing.T, clk *clock) *receiver {
	t.Helper()
	rc := &receiver{clk: clk, got: make(chan hit, 100)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		h := hit{Header: r.Header.Clone(), Body: body, Path: r.URL.Path, Err: verify(rc.secret, r.Header, body, rc.clk.Now())}
		rc.hits = append(rc.hits, h)
		rc.mu.Unlock()
		rc.got <- h
		if f := rc.respond.Load(); f != nil {
			(*f)(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) answer(f func(w http.ResponseWriter, r *http.Request)) {
	if f == nil {
		rc.respond.Store(nil)
		return
	}
	rc.respond.Store(&f)
}

func (rc *receiver) all() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.hits)
}

// wait returns the receiver's next request.
func (rc *receiver) wait(t *testing.T) hit {
	t.Helper()
	select {
	case h := <-rc.got:
		return h
	case <-time.After(10 * time.Second):
		t.Fatal("the receiver got nothing")
		return hit{}
	}
}

// fixture is a database with a user (private chat in lang) who owns the
// webhook "orders", and a forwarding worker over it.
type fixture struct {
	db     *storage.DB
	clk    *clock
	wh     storage.Webhook
	w      *forward.Worker
	sums   atomic.Int32 // summaries asked for
	agent  *agent.Agent
	loc    *locales.Bundle
	url    string
	cancel func()
}

const ownerID = 100

func newFixture(t *testing.T, databaseURL string, cfg forward.Config) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(), loc: locales.MustNew(), url: databaseURL}
	f.db = storagetest.Open(t, databaseURL, storage.WithClock(f.clk.Now))
	ctx := context.Background()
	must(t, f.db.UpsertUser(ctx, storage.User{ID: ownerID, FirstName: "Anna", LanguageCode: "en", Started: true}))
	_, err := f.db.EnsureChat(ctx, storage.Chat{ID: ownerID, Type: "private", Language: "en"})
	must(t, err)
	f.wh, err = f.db.CreateWebhook(ctx, ownerID, "orders", []byte("token-hash-orders-0000000000000000"), ownerID)
	must(t, err)
	f.agent = agent.New(agent.Config{}, f.loc, nil)
	f.w = f.worker(f.db, cfg)
	return f
}

// worker makes a worker over db whose summaries come from the built-in
// formatter (the relay's role in production, see relay.Relay.Summary).
func (f *fixture) worker(db *storage.DB, cfg forward.Config) *forward.Worker {
	sum := forward.SummaryFunc(func(ctx context.Context, eventID, lang string) (agent.Notification, error) {
		f.sums.Add(1)
		ev, err := db.EventForDelivery(ctx, eventID)
		if err != nil {
			return agent.Notification{}, err
		}
		var headers map[string]string
		json.Unmarshal([]byte(ev.Headers), &headers)
		n, _ := f.agent.Summarize(ctx, agent.Event{ID: ev.ID, Webhook: ev.WebhookName, ContentType: ev.ContentType,
			Headers: headers, Body: ev.Body, ReceivedAt: ev.ReceivedAt}, lang)
		return n, nil
	})
	if cfg.Poll == 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	return forward.New(db, sum, f.loc, nil, cfg)
}

// run runs w until the test ends (or stop is called).
func run(t *testing.T, w *forward.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// forwardTo sets up forwarding of the fixture's webhook to url (storage
// directly: the URL check is the bot's) and tells rc the secret.
func (f *fixture) forwardTo(t *testing.T, wh storage.Webhook, url string, rc *receiver) storage.Forward {
	t.Helper()
	fw, _, err := f.db.SetForward(context.Background(), wh.ID, url, forward.NewSecret(), ownerID, storage.ForwardSettle)
	must(t, err)
	if rc != nil {
		rc.setSecret(fw.Secret)
	}
	return fw
}

// post stores an event as ingest would.
func (f *fixture) post(t *testing.T, wh storage.Webhook, contentType, body string) storage.Event {
	t.Helper()
	e := storage.Event{WebhookID: wh.ID, ContentType: contentType, Headers: `{"Content-Type":"` + contentType + `"}`, Body: []byte(body)}
	_, err := f.db.InsertEvent(context.Background(), &e)
	must(t, err)
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// attempts lists a forward's attempts, oldest first.
func (f *fixture) attempts(t *testing.T, fw storage.Forward) []storage.ForwardAttempt {
	t.Helper()
	as, err := f.db.ForwardAttempts(context.Background(), fw.ID, 100)
	must(t, err)
	for i, j := 0, len(as)-1; i < j; i, j = i+1, j-1 {
		as[i], as[j] = as[j], as[i]
	}
	return as
}

// waitAttempts waits until a forward has n attempts recorded.
func (f *fixture) waitAttempts(t *testing.T, fw storage.Forward, n int) []storage.ForwardAttempt {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		as := f.attempts(t, fw)
		if len(as) >= n {
			return as
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d attempts recorded, want %d: %+v", len(as), n, as)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
