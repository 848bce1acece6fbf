package bot_test

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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// target is a local receiver of forwarded messages.
type target struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	got    chan struct{}
	status int
	answer string
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{got: make(chan struct{}, 100), status: http.StatusOK, answer: "ok"}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		tg.mu.Lock()
		tg.bodies, tg.heads = append(tg.bodies, body), append(tg.heads, r.Header.Clone())
		status, answer := tg.status, tg.answer
		tg.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
		tg.got <- struct{}{}
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *target) respond(status int, answer string) {
	tg.mu.Lock()
	tg.status, tg.answer = status, answer
	tg.mu.Unlock()
}

// last waits for the target's next request and returns it.
func (tg *target) last(t *testing.T) (http.Header, []byte) {
	t.Helper()
	select {
	case <-tg.got:
	case <-time.After(wait):
		t.Fatal("the forwarding target got nothing")
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.heads[len(tg.heads)-1], tg.bodies[len(tg.bodies)-1]
}

func (tg *target) count() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.bodies)
}

// signedWith checks a Standard Webhooks signature with the secret the user
// was shown.
func signedWith(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, h.Get("webhook-id")+"."+h.Get("webhook-timestamp")+".")
	mac.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("webhook-signature")), []byte(want)) {
		return errors.New("signature does not verify with the secret shown")
	}
	return nil
}

var secretRE = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// setupForward starts the bot with forwarding over a fresh database; its
// worker runs, and may reach loopback targets.
func setupForward(t *testing.T, databaseURL string) (*env, *forward.Worker) {
	t.Helper()
	db := storagetest.Open(t, databaseURL)
	ag := agent.New(agent.Config{}, nil, nil)
	sum := forward.SummaryFunc(func(ctx context.Context, id, lang string) (agent.Notification, error) {
		ev, err := db.EventForDelivery(ctx, id)
		if err != nil {
			return agent.Notification{}, err
		}
		n, _ := ag.Summarize(ctx, agent.Event{ID: ev.ID, Webhook: ev.WebhookName, ContentType: ev.ContentType, Body: ev.Body, ReceivedAt: ev.ReceivedAt}, lang)
		return n, nil
	})
	w := forward.New(db, sum, locales.MustNew(), nil, forward.Config{AllowPrivate: true, Poll: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return setupDB(t, db, func(c *bot.Config) { c.Forwarder = w }), w
}

func TestBot_Forward(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e, w := setupForward(t, databaseURL)
		ctx := context.Background()
		pm := tgemu.PrivateChat(anna)
		rc := newTarget(t)
		host := strings.TrimPrefix(rc.URL, "http://")
		var secret string

		t.Run("UsageWithoutWebhooks", func(t *testing.T) {
			contains(t, "/forward", e.say(t, anna, pm, "/forward"), "/forward name https://example.com/hook")
		})
		e.say(t, anna, pm, "/newtoken orders")
		wh, err := e.db.WebhookByName(ctx, anna.ID, "orders")
		if err != nil {
			t.Fatal(err)
		}
		t.Run("OffersWebhooks", func(t *testing.T) {
			m := e.say(t, anna, pm, "/forward")
			if _, ok := m.ReplyMarkup.Button("orders"); !ok {
				t.Fatalf("no button for orders: %s", m)
			}
			contains(t, "picked", e.click(t, anna, pm, m.ID, "orders"), "orders is not forwarded")
		})
		t.Run("BadURLs", func(t *testing.T) {
			contains(t, "scheme", e.say(t, anna, pm, "/forward orders ftp://example.com/x"), "Only http:// and https://")
			contains(t, "metadata", e.say(t, anna, pm, "/forward orders http://169.254.169.254/latest"), "169.254.169.254 is a loopback, private, link-local or metadata address")
			contains(t, "action", e.say(t, anna, pm, "/forward orders launch"), "I don't know «launch» here")
			contains(t, "unknown webhook", e.say(t, anna, pm, "/forward nosuch https://example.com"), "You have no webhook named nosuch")
			if _, err := e.db.ForwardByWebhook(ctx, wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a refused URL was stored: %v", err)
			}
		})
		t.Run("SetUpShowsSecretOnce", func(t *testing.T) {
			m := e.say(t, anna, pm, "/forward orders "+rc.URL+"/in/token-in-path")
			contains(t, "set up", m, "From now on every event of orders is POSTed to "+host, "shown only this once", "1 minute, 5 minutes, 30 minutes and 3 hours")
			lacks(t, "set up", m, "token-in-path")
			secret = secretRE.FindString(m.Text)
			fw, err := e.db.ForwardByWebhook(ctx, wh.ID)
			if err != nil {
				t.Fatal(err)
			}
			if secret == "" || secret != fw.Secret || fw.URL != rc.URL+"/in/token-in-path" {
				t.Fatalf("secret shown %q, stored %+v", secret, fw)
			}
		})
		t.Run("StatusAndTokensHideSecret", func(t *testing.T) {
			st := e.say(t, anna, pm, "/forward orders")
			contains(t, "status", st, "orders → "+host+": forwarding.")
			lacks(t, "status", st, secret)
			tk := e.say(t, anna, pm, "/tokens")
			contains(t, "/tokens", tk, "↪ forwarded to "+host)
			lacks(t, "/tokens", tk, secret, "token-in-path")
		})
		t.Run("TestButton", func(t *testing.T) {
			st := e.say(t, anna, pm, "/forward orders")
			res := e.click(t, anna, pm, st.ID, "Send a test")
			contains(t, "test", res, "Test message delivered to "+host+": HTTP 200")
			h, body := rc.last(t)
			if err := signedWith(secret, h, body); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m["test"] != true || m["webhook"] != "orders" {
				t.Fatalf("test message %s (%v)", body, err)
			}
		})
		t.Run("EventsAndDeliveries", func(t *testing.T) {
			rc.respond(http.StatusInternalServerError, `<b>bad</b> & <script>`)
			ev := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"order_id":7}`)}
			if _, err := e.db.InsertEvent(ctx, &ev); err != nil {
				t.Fatal(err)
			}
			w.Wake()
			h, body := rc.last(t)
			if err := signedWith(secret, h, body); err != nil || h.Get("webhook-id") != ev.ID {
				t.Fatalf("forwarded event: id %q (%v)", h.Get("webhook-id"), err)
			}
			var m storage.ForwardQueue
			for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				fw, _ := e.db.ForwardByWebhook(ctx, wh.ID)
				if m, _ = e.db.ForwardQueueOf(ctx, fw.ID); m.NextAt != nil {
					break
				}
			}
			d := e.say(t, anna, pm, "/deliveries orders")
			contains(t, "/deliveries", d, "Latest attempts to forward orders to "+host,
				"❌", "HTTP 500", "event "+ev.ID+" · attempt 1 of 5", "<b>bad</b> & <script>",
				"✅", "HTTP 200", "test", "Waiting: 1 message.", "Next attempt:")
			lacks(t, "/deliveries", d, secret)
			rc.respond(http.StatusOK, "ok")
		})
		t.Run("PauseAndResume", func(t *testing.T) {
			st := e.say(t, anna, pm, "/forward orders")
			contains(t, "pause", e.click(t, anna, pm, st.ID, "⏸ Pause"), "Forwarding of orders is paused")
			contains(t, "twice", e.say(t, anna, pm, "/forward orders pause"), "paused already")
			before := rc.count()
			skipped := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"while":"paused"}`)}
			if _, err := e.db.InsertEvent(ctx, &skipped); err != nil {
				t.Fatal(err)
			}
			contains(t, "status", e.say(t, anna, pm, "/forward orders"), "paused.")
			contains(t, "resume", e.say(t, anna, pm, "/forward orders resume"), "on again, from the next event")
			after := storage.Event{WebhookID: wh.ID, ContentType: "application/json", Headers: `{}`, Body: []byte(`{"after":"resume"}`)}
			if _, err := e.db.InsertEvent(ctx, &after); err != nil {
				t.Fatal(err)
			}
			w.Wake()
			// The retry held by the pause is due only later; the next
			// request is the event after resuming, never the skipped one.
			h, _ := rc.last(t)
			if got := h.Get("webhook-id"); got != after.ID {
				t.Fatalf("after resuming the target got %s, want %s (not %s, sent while paused)", got, after.ID, skipped.ID)
			}
			if n := rc.count(); n != before+1 {
				t.Fatalf("the target got %d requests after resuming, want 1", n-before)
			}
		})
		t.Run("ChangeURLKeepsSecret", func(t *testing.T) {
			m := e.say(t, anna, pm, "/forward orders "+rc.URL+"/other")
			contains(t, "changed", m, "orders is now forwarded to "+host, "signing secret is the same")
			lacks(t, "changed", m, "whsec_")
		})
		t.Run("TurnOffAsksFirst", func(t *testing.T) {
			st := e.say(t, anna, pm, "/forward orders")
			ask := e.click(t, anna, pm, st.ID, "Turn off")
			contains(t, "confirm", ask, "Stop forwarding orders to "+host+"?")
			if _, err := e.db.ForwardByWebhook(ctx, wh.ID); err != nil {
				t.Fatalf("turned off before confirming: %v", err)
			}
			contains(t, "confirmed", e.click(t, anna, pm, ask.ID, "Yes, turn off"), "orders is no longer forwarded")
			if _, err := e.db.ForwardByWebhook(ctx, wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("after turning off: %v", err)
			}
			contains(t, "off again", e.say(t, anna, pm, "/forward orders off"), "orders is not forwarded")
			contains(t, "/deliveries", e.say(t, anna, pm, "/deliveries"), "None of your webhooks is forwarded")
		})
		t.Run("SecretNeverRepeated", func(t *testing.T) {
			shown := 0
			for _, m := range e.tg.Messages(pm.ID) {
				if strings.Contains(m.Text, secret) {
					shown++
				}
			}
			if shown != 1 {
				t.Fatalf("the secret appeared in %d messages, want 1", shown)
			}
		})
	})
}

func TestBot_ForwardUnavailable(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	pm := tgemu.PrivateChat(anna)
	contains(t, "/forward", e.say(t, anna, pm, "/forward orders https://example.com"), "Forwarding is not available")
	contains(t, "/deliveries", e.say(t, anna, pm, "/deliveries orders"), "Forwarding is not available")
}

// TestBot_ForwardInGroup: only administrators set up forwarding in a
// group, the URL leaves the group's screen, and the secret goes privately
// to whoever asked — or, when the bot cannot write to them, nothing is set
// up.
func TestBot_ForwardInGroup(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e, _ := setupForward(t, databaseURL)
		ctx := context.Background()
		pmAnna := tgemu.PrivateChat(anna)
		rc := newTarget(t)
		e.say(t, anna, pmAnna, "/start")
		e.tg.AddBotToChat(anna, ops)
		e.tg.SetChatAdmins(ops.ID, anna, carol)
		e.tg.AddMember(ops.ID, bob)
		e.tg.WaitMessage(t, ops.ID, func(m tgemu.Message) bool { return strings.Contains(m.Text, "Administrators of this group") }, wait)
		g, p := e.mark(ops), e.mark(pmAnna)
		e.tg.UserSends(anna, ops, "/newtoken alerts")
		e.next(t, pmAnna, p)
		e.next(t, ops, g)

		t.Run("MemberRefused", func(t *testing.T) {
			contains(t, "member", e.say(t, bob, ops, "/forward alerts "+rc.URL), "Only administrators")
		})
		t.Run("SecretGoesPrivately", func(t *testing.T) {
			e.tg.MakeBotAdmin(anna, ops)
			g, p := e.mark(ops), e.mark(pmAnna)
			id := e.tg.UserSends(anna, ops, "/forward alerts "+rc.URL+"/hook/tok")
			priv := e.next(t, pmAnna, p)
			contains(t, "private", priv, "Forwarding of alerts (set up in Ops) is on", "whsec_")
			grp := e.next(t, ops, g)
			contains(t, "group", grp, "I sent its signing secret to Anna in a private chat")
			for _, m := range e.tg.Messages(ops.ID) {
				lacks(t, "group", m, "whsec_", "/hook/tok")
			}
			if um, _ := e.tg.Message(ops.ID, id); !um.Deleted {
				t.Fatal("the message with the URL was not deleted from the group")
			}
			wh, _ := e.db.WebhookByName(ctx, anna.ID, "alerts")
			fw, err := e.db.ForwardByWebhook(ctx, wh.ID)
			if err != nil || secretRE.FindString(priv.Text) != fw.Secret {
				t.Fatalf("forward %+v (%v); secret sent %q", fw, err, secretRE.FindString(priv.Text))
			}
		})
		t.Run("AdminWhoNeverStarted", func(t *testing.T) {
			if err := e.db.UpsertUser(ctx, storage.User{ID: carol.ID, FirstName: carol.FirstName, LanguageCode: "en"}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.CreateWebhook(ctx, carol.ID, "carols", []byte("carol-token-hash-0000000000000000"), ops.ID); err != nil {
				t.Fatal(err)
			}
			m := e.say(t, carol, ops, "/forward carols "+rc.URL)
			contains(t, "start first", m, "Carol, the signing secret of a forward goes to you privately")
			if _, ok := m.ReplyMarkup.Button("Start Herald"); !ok {
				t.Fatalf("no start button: %s", m)
			}
			wh, _ := e.db.WebhookByName(ctx, carol.ID, "carols")
			if _, err := e.db.ForwardByWebhook(ctx, wh.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("forward set up without a way to hand out its secret: %v", err)
			}
		})
	})
}
