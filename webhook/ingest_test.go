package webhook_test

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
	"github.com/herald-relay/herald/webhook"
)

// post sends a request and returns the status, the JSON answer and the
// answer's headers.
func (e *env) post(t *testing.T, contentType string, body io.Reader, headers ...string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/hook/"+e.token, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, b)
	}
	return resp.StatusCode, m, resp.Header
}

func (e *env) stored(t *testing.T, id string) storage.Event {
	t.Helper()
	ev, err := e.db.EventByID(context.Background(), e.wh.ID, id)
	if err != nil {
		t.Fatalf("event %s answered 202 is not stored: %v", id, err)
	}
	return ev
}

func TestHookPost_Bodies(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL, func(c *webhook.Config) { c.MaxBodyBytes = 1 << 20 })
		deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
		huge := `{"s":"` + strings.Repeat("x", 1_000_000) + `"}`
		tests := []struct {
			name, contentType, body string
			wantType, wantWarning   string // wantWarning: a part of it
		}{
			{"JSON", "application/json", `{"event":"new_order"}`, "application/json", ""},
			{"GitHubForm", "application/x-www-form-urlencoded", "payload=" + url.QueryEscape(`{"zen":"Keep it logically awesome."}`),
				"application/x-www-form-urlencoded", ""},
			{"Form", "application/x-www-form-urlencoded", "name=Ivan&amount=9900", "application/x-www-form-urlencoded", ""},
			{"Text", "text/plain", "backup finished", "text/plain", ""},
			{"InvalidUTF8", "text/plain", "caf\xe9 \xff", "text/plain", "not valid UTF-8"},
			{"Deep", "application/json", deep, "text/plain; charset=utf-8", "nested deeper"},
			{"MegabyteString", "application/json", huge, "application/json", ""},
			{"HugeNumber", "application/json", `{"amount":1e999}`, "application/json", ""},
			{"NotJSON", "application/json", `{"a":`, "text/plain; charset=utf-8", "does not parse"},
			{"Unlabelled", "", `{"a":1}`, "application/json", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, m, _ := e.post(t, tt.contentType, strings.NewReader(tt.body))
				if code != http.StatusAccepted {
					t.Fatalf("got %d %v, want 202", code, m)
				}
				w, _ := m["warning"].(string)
				if (tt.wantWarning == "") != (w == "") || !strings.Contains(w, tt.wantWarning) {
					t.Errorf("warning %q, want %q", w, tt.wantWarning)
				}
				ev := e.stored(t, m["id"].(string))
				if ev.ContentType != tt.wantType || string(ev.Body) != tt.body {
					t.Errorf("stored as %q (%d bytes), want %q with the body as sent", ev.ContentType, len(ev.Body), tt.wantType)
				}
				// The webhook keeps working.
				if code, m, _ := e.post(t, "application/json", strings.NewReader(`{"next":1}`)); code != http.StatusAccepted {
					t.Fatalf("the next request got %d %v", code, m)
				}
			})
		}
	})
}

func TestHookPost_TooLarge(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		t.Run("DeclaredLength", func(t *testing.T) {
			// 100 MB announced, 10 bytes sent: the answer must come without
			// the server waiting for (or reading) the rest.
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{\"a\":\"xxx", e.token)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer before the body was sent: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "1024 bytes") {
				t.Fatalf("got %d %s, want 413", resp.StatusCode, b)
			}
		})
		t.Run("Chunked", func(t *testing.T) {
			// No length declared: read up to the limit, then 413.
			body := io.MultiReader(strings.NewReader(`{"a":"`), strings.NewReader(strings.Repeat("x", 5000)), strings.NewReader(`"}`))
			if code, m, _ := e.post(t, "application/json", body); code != http.StatusRequestEntityTooLarge {
				t.Fatalf("got %d %v, want 413", code, m)
			}
		})
		t.Run("NextRequest", func(t *testing.T) {
			if code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusAccepted {
				t.Fatalf("after a 413: %d %v", code, m)
			}
		})
	})
}

func TestHookPost_RateLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL, func(c *webhook.Config) { c.RateLimit, c.RateWindow = 3, time.Minute })
		ctx := context.Background()
		// Refused requests cost nothing: a wrong signature does not spend
		// the sender's allowance.
		if err := e.db.SetWebhookSecret(ctx, e.wh.ID, "s3cret"); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`), "X-Hub-Signature-256", "sha256=00"); code != http.StatusUnauthorized {
				t.Fatalf("got %d %v, want 401", code, m)
			}
		}
		if err := e.db.SetWebhookSecret(ctx, e.wh.ID, ""); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusAccepted {
				t.Fatalf("request %d: %d %v, want 202", i, code, m)
			}
		}
		code, m, h := e.post(t, "application/json", strings.NewReader(`{}`))
		if code != http.StatusTooManyRequests || m["error"] == nil {
			t.Fatalf("4th request: %d %v, want 429", code, m)
		}
		// 3 per minute: one comes back every 20 s.
		if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > 20 {
			t.Fatalf("Retry-After %q, want 1-20 seconds", h.Get("Retry-After"))
		}
		// Another webhook has its own allowance.
		other := storage.NewToken()
		if _, err := e.db.CreateWebhook(ctx, 1, "other", storage.HashToken(other), 1); err != nil {
			t.Fatal(err)
		}
		e2 := &env{srv: e.srv, db: e.db, token: other}
		if code, m, _ := e2.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusAccepted {
			t.Fatalf("other webhook: %d %v", code, m)
		}
	})
}

func TestHookPost_Dedup(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		stripeEvent := `{"id":"evt_3MtwBwLkdIwHu7ix28a3tqPa","object":"event","type":"payment_intent.created"}`
		tests := []struct {
			name    string
			body    string
			headers []string
		}{
			{"GitHub", `{"zen":"x"}`, []string{"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
			{"GitLab", `{"object_kind":"push"}`, []string{"X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e"}},
			{"StandardWebhooks", `{"type":"x"}`, []string{"webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"}},
			{"IdempotencyKey", `{"order":1}`, []string{"Idempotency-Key", "order-1"}},
			{"Stripe", stripeEvent, []string{"User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, first, _ := e.post(t, "application/json", strings.NewReader(tt.body), tt.headers...)
				if code != http.StatusAccepted {
					t.Fatalf("first: %d %v", code, first)
				}
				code, again, _ := e.post(t, "application/json", strings.NewReader(tt.body), tt.headers...)
				if code != http.StatusOK || again["duplicate"] != true || again["id"] != first["id"] || again["status"] == nil {
					t.Fatalf("redelivery: %d %v, want 200 with the original id %v and duplicate", code, again, first["id"])
				}
			})
		}
		t.Run("SameBodyNoID", func(t *testing.T) {
			// An "id" field alone, from a sender that is not Stripe, is the
			// sender's own business: two posts are two events.
			for range 2 {
				if code, m, _ := e.post(t, "application/json", strings.NewReader(`{"id":"evt_1","object":"event"}`)); code != http.StatusAccepted {
					t.Fatalf("got %d %v, want 202", code, m)
				}
			}
		})
		t.Run("Simultaneous", func(t *testing.T) {
			const n = 16
			var wg sync.WaitGroup
			codes := make([]int, n)
			ids := make([]any, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var m map[string]any
					codes[i], m, _ = e.post(t, "application/json", strings.NewReader(`{"alert":"disk"}`), "X-Gitlab-Event-UUID", "same-moment")
					ids[i] = m["id"]
				}()
			}
			close(start)
			wg.Wait()
			accepted := 0
			for i := range n {
				switch codes[i] {
				case http.StatusAccepted:
					accepted++
				case http.StatusOK:
				default:
					t.Fatalf("copy %d: %d", i, codes[i])
				}
				if ids[i] != ids[0] {
					t.Fatalf("copies answered with ids %v and %v", ids[0], ids[i])
				}
			}
			if accepted != 1 {
				t.Fatalf("%d copies accepted, want 1", accepted)
			}
			// One event, so one notification.
			events, err := e.db.EventsByWebhook(ctx, e.wh.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			count := 0
			for _, ev := range events {
				if strings.Contains(string(ev.Body), "disk") {
					count++
				}
			}
			if count != 1 {
				t.Fatalf("%d events stored for the copies, want 1", count)
			}
		})
	})
}

func ghSign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestHookPost_Signed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		const body = `{"action":"opened"}`
		// Warm the cache with the unsigned webhook: changes below must
		// apply at once all the same.
		if code, _, _ := e.post(t, "application/json", strings.NewReader(body)); code != http.StatusAccepted {
			t.Fatalf("unsigned webhook: %d", code)
		}
		if err := e.db.SetWebhookSecret(ctx, e.wh.ID, "first secret"); err != nil {
			t.Fatal(err)
		}
		t.Run("Unsigned", func(t *testing.T) {
			code, m, _ := e.post(t, "application/json", strings.NewReader(body))
			if code != http.StatusUnauthorized || !strings.Contains(m["error"].(string), "signature") {
				t.Fatalf("got %d %v, want 401 naming the missing signature", code, m)
			}
		})
		t.Run("Signed", func(t *testing.T) {
			code, m, _ := e.post(t, "application/json", strings.NewReader(body), "X-Hub-Signature-256", ghSign("first secret", body))
			if code != http.StatusAccepted {
				t.Fatalf("got %d %v, want 202", code, m)
			}
			if ev := e.stored(t, m["id"].(string)); strings.Contains(ev.Headers, "sha256=") {
				t.Errorf("the signature was stored: %s", ev.Headers)
			}
		})
		t.Run("WrongSecret", func(t *testing.T) {
			want := ghSign("first secret", body)
			code, m, _ := e.post(t, "application/json", strings.NewReader(body), "X-Hub-Signature-256", ghSign("guess", body))
			if code != http.StatusUnauthorized {
				t.Fatalf("got %d %v, want 401", code, m)
			}
			if msg := m["error"].(string); strings.Contains(msg, want[7:20]) || strings.Contains(msg, "first secret") {
				t.Fatalf("the answer %q leaks the expected signature or the secret", msg)
			}
		})
		t.Run("Rotated", func(t *testing.T) {
			if err := e.db.SetWebhookSecret(ctx, e.wh.ID, "second secret"); err != nil {
				t.Fatal(err)
			}
			if code, m, _ := e.post(t, "application/json", strings.NewReader(body), "X-Hub-Signature-256", ghSign("second secret", body)); code != http.StatusAccepted {
				t.Fatalf("new secret: %d %v, want 202 at once", code, m)
			}
			if code, m, _ := e.post(t, "application/json", strings.NewReader(body), "X-Hub-Signature-256", ghSign("first secret", body)); code != http.StatusUnauthorized {
				t.Fatalf("old secret: %d %v, want 401 at once", code, m)
			}
		})
		t.Run("Off", func(t *testing.T) {
			if err := e.db.SetWebhookSecret(ctx, e.wh.ID, ""); err != nil {
				t.Fatal(err)
			}
			if code, m, _ := e.post(t, "application/json", strings.NewReader(body)); code != http.StatusAccepted {
				t.Fatalf("got %d %v, want 202 at once", code, m)
			}
		})
		t.Run("NothingLogged", func(t *testing.T) {
			logs := e.logs.String()
			for _, secret := range []string{e.token, "first secret", "second secret", ghSign("second secret", body)} {
				if strings.Contains(logs, secret) {
					t.Errorf("the logs contain a credential %q", secret)
				}
			}
		})
	})
}

func TestHookPost_Revoked(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		ctx := context.Background()
		if code, _, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusAccepted {
			t.Fatal(code)
		}
		// The token is cached now; deleting the webhook must answer 404 at
		// once all the same.
		if err := e.db.DeleteWebhook(ctx, e.wh.ID); err != nil {
			t.Fatal(err)
		}
		if code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusNotFound {
			t.Fatalf("revoked: %d %v, want 404", code, m)
		}
	})
}

func TestMetrics(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		e.post(t, "application/json", strings.NewReader(`{}`))
		e.post(t, "application/json", strings.NewReader(`{}`))
		e.do(t, "POST", "/hook/nope", "application/json", `{}`)
		resp, err := http.Get(e.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		text := string(b)
		for _, want := range []string{
			`herald_http_requests_total{code="202",route="POST /hook/{token}"} 2`,
			`herald_http_requests_total{code="404",route="POST /hook/{token}"} 1`,
			`herald_events_accepted_total 2`,
			`herald_ingest_duration_seconds_count 3`,
			`herald_queue_depth{state="pending"} 2`,
			`process_resident_memory_bytes`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/metrics lacks %q:\n%s", want, text)
			}
		}
	})
}

// TestHookPost_DatabaseDown cuts the connection to PostgreSQL: ingest
// answers 503 with Retry-After at once, and recovers by itself when the
// database is back.
func TestHookPost_DatabaseDown(t *testing.T) {
	base := storagetest.PostgresURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	db := storagetest.Open(t, u.String())
	e := setupDB(t, db)
	if code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusAccepted {
		t.Fatalf("before: %d %v", code, m)
	}
	p.down()
	for _, wait := range []time.Duration{0, 3 * time.Second} { // cached token, then a fresh lookup
		time.Sleep(wait)
		done := make(chan struct{})
		go func() {
			defer close(done)
			code, m, h := e.post(t, "application/json", strings.NewReader(`{}`))
			if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
				t.Errorf("database down: %d %v, want 503 with Retry-After", code, m)
			}
		}()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("no answer while the database is down")
		}
	}
	p.up(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`))
		if code == http.StatusAccepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database back: still %d %v", code, m)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// proxy forwards TCP to a database and can be cut and restored.
type proxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

// down refuses new connections and breaks the open ones.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) up(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}
