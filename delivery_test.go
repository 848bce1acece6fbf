package main

// End-to-end tests of delivery (issue 8): a herald binary killed with
// SIGKILL mid-burst and restarted loses nothing; two herald processes in
// TELEGRAM_MODE=webhook share one PostgreSQL database and one bot.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// heraldBinary builds the herald binary once per test run, with go build as
// a user would.
func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// seedHooks creates user owner, n private chats known to the fake and one
// webhook per chat, and returns the webhooks' tokens, by chat.
func seedHooks(t *testing.T, tg *telegramtest.Server, databaseURL string, n int) ([]string, []int64) {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, databaseURL)
	defer db.Close()
	const owner = 1001
	if err := db.UpsertUser(ctx, storage.User{ID: owner, FirstName: "Anna", Started: true}); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	var chats []int64
	for i := range n {
		u := tgemu.User{ID: int64(7000 + i), FirstName: fmt.Sprintf("U%d", i)}
		tg.KnownUser(u)
		if _, err := db.EnsureChat(ctx, storage.Chat{ID: u.ID, Type: "private", Language: "en"}); err != nil {
			t.Fatal(err)
		}
		token := storage.NewToken()
		if _, err := db.CreateWebhook(ctx, owner, fmt.Sprintf("w%d", i), storage.HashToken(token), u.ID); err != nil {
			t.Fatal(err)
		}
		tokens, chats = append(tokens, token), append(chats, u.ID)
	}
	return tokens, chats
}

// proc is a herald binary running as a child process.
type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

func startProc(t *testing.T, bin string, env map[string]string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin), logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + env["LISTEN_ADDR"] + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("herald exited before it was healthy:\n%s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald not healthy after 20s:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2E_Kill9: 200 events posted to a herald process that is killed with
// SIGKILL mid-burst (events being accepted and delivered) and restarted:
// every accepted event is delivered, and a chat gets at most the one
// message that was in flight twice.
func TestE2E_Kill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs a burst")
	}
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		const chats, events = 20, 200
		bin := heraldBinary(t)
		tg := telegramtest.Start(t)
		tokens, chatIDs := seedHooks(t, tg, databaseURL, chats)
		addr := freeAddr(t)
		env := map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
			"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "LOG_LEVEL": "info",
		}
		first := startProc(t, bin, env)

		// The sender retries until its event is accepted, as webhook senders
		// do; the Idempotency-Key makes a retried request that was in fact
		// committed (its answer lost in the kill) count once.
		var accepted atomic.Int32
		posted := make(chan error, 1)
		go func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := range events {
				deadline := time.Now().Add(90 * time.Second)
				for {
					req, _ := http.NewRequest("POST", "http://"+addr+"/hook/"+tokens[i%chats],
						strings.NewReader(fmt.Sprintf(`{"event":"kill9","seq":"#%03d"}`, i)))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Idempotency-Key", fmt.Sprintf("kill9-%d", i))
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
						if resp.StatusCode == 202 || resp.StatusCode == 200 {
							break
						}
					}
					if time.Now().After(deadline) {
						posted <- fmt.Errorf("event %d not accepted within 90s (last: %v)", i, err)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				accepted.Add(1)
			}
			posted <- nil
		}()

		// Kill mid-burst: events still being accepted, deliveries under way.
		deadline := time.Now().Add(30 * time.Second)
		for accepted.Load() < events/2 || len(tg.Calls("sendMessage")) < 10 {
			if time.Now().After(deadline) {
				t.Fatalf("burst did not get going: %d accepted, %d sent\n%s", accepted.Load(), len(tg.Calls("sendMessage")), first.logs)
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := first.cmd.Process.Signal(os.Kill); err != nil {
			t.Fatal(err)
		}
		<-first.done
		t.Logf("killed with %d events accepted and %d messages sent", accepted.Load(), len(tg.Calls("sendMessage")))
		second := startProc(t, bin, env)
		if err := <-posted; err != nil {
			t.Fatal(err)
		}

		seqRE := regexp.MustCompile(`#(\d{3})`)
		deadline = time.Now().Add(90 * time.Second)
		for {
			missing := 0
			for k, id := range chatIDs {
				seen := map[string]bool{}
				for _, m := range tg.Messages(id) {
					if s := seqRE.FindStringSubmatch(m.Text); s != nil {
						seen[s[1]] = true
					}
				}
				for i := k; i < events; i += chats {
					if !seen[fmt.Sprintf("%03d", i)] {
						missing++
					}
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events never delivered after the restart\nfirst run:\n%s\nsecond run:\n%s", missing, first.logs, second.logs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		dups := 0
		for _, id := range chatIDs {
			count := map[string]int{}
			for _, m := range tg.Messages(id) {
				if s := seqRE.FindStringSubmatch(m.Text); s != nil {
					count[s[1]]++
				}
			}
			extra := 0
			for _, c := range count {
				extra += c - 1
			}
			if extra > 1 {
				t.Errorf("chat %d got %d messages twice, want at most the one in flight: %v", id, extra, count)
			}
			dups += extra
		}
		t.Logf("%d messages sent twice (in flight at the kill)", dups)
		db := storagetest.Open(t, databaseURL)
		if n, err := db.PendingDeliveries(context.Background()); err != nil || n != 0 {
			t.Errorf("pending deliveries after the drain: %d %v", n, err)
		}
	})
}

// TestE2E_WebhookMode: two herald processes in TELEGRAM_MODE=webhook behind
// one address (a round-robin proxy standing in for a load balancer), on one
// PostgreSQL database: Telegram's updates reach either and need the secret
// token; each event reaches each chat exactly once; the bot as a whole stays
// within Telegram's limits.
func TestE2E_WebhookMode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two processes and a burst")
	}
	databaseURL := storagetest.PostgresURL(t)
	tg := telegramtest.Start(t, tgemu.WithLimits())
	const chats, perChat = 20, 10
	tokens, chatIDs := seedHooks(t, tg, databaseURL, chats)

	// The proxy: PUBLIC_URL for both processes.
	var targets [2]*url.URL
	ready := make(chan struct{}) // targets are set
	var next, hits0, hits1 atomic.Int32
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		<-ready
		i := next.Add(1) % 2
		if r.In.URL.Path == "/telegram" {
			[]*atomic.Int32{&hits0, &hits1}[i].Add(1)
		}
		r.SetURL(targets[i])
	}}
	lb := &http.Server{Handler: proxy}
	lbAddr := freeAddr(t)
	go listenAndServe(t, lb, lbAddr)
	t.Cleanup(func() { lb.Close() })
	public := "http://" + lbAddr

	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		"TELEGRAM_MODE": "webhook", "PUBLIC_URL": public,
	}
	h := [2]*herald{startHerald(t, env), startHerald(t, env)}
	for i := range h {
		targets[i], _ = url.Parse(h[i].base)
	}
	close(ready)

	t.Run("SecretToken", func(t *testing.T) {
		for _, p := range h {
			code, _ := post(t, p.base+"/telegram", `{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"/help"}}`)
			if code != http.StatusUnauthorized {
				t.Errorf("update without the secret token: %d, want 401", code)
			}
		}
	})
	t.Run("Commands", func(t *testing.T) {
		anna := tgemu.User{ID: 1001, FirstName: "Anna", LanguageCode: "en"}
		for range 2 {
			reply := command(t, tg, anna, "/help")
			if !strings.Contains(reply.Text, "/newtoken") {
				t.Fatalf("/help: %s", reply.Text)
			}
			time.Sleep(1100 * time.Millisecond) // a person, not a flood
		}
		if hits0.Load() == 0 || hits1.Load() == 0 {
			t.Errorf("updates reached the processes %d and %d times, want both", hits0.Load(), hits1.Load())
		}
	})
	t.Run("Deliveries", func(t *testing.T) {
		for n := range perChat {
			for i, token := range tokens {
				code, m := post(t, public+"/hook/"+token, fmt.Sprintf(`{"event":"shared","chat":%d,"seq":"#%03d"}`, i, n))
				if code != http.StatusAccepted {
					t.Fatalf("POST: %d %v", code, m)
				}
			}
		}
		seqRE := regexp.MustCompile(`#(\d{3})`)
		for _, id := range chatIDs {
			ms := tg.WaitMessages(t, id, perChat, 60*time.Second)
			time.Sleep(50 * time.Millisecond)
			ms = tg.Messages(id)
			if len(ms) != perChat {
				t.Errorf("chat %d got %d messages, want %d", id, len(ms), perChat)
			}
			for k, m := range ms {
				if s := seqRE.FindStringSubmatch(m.Text); s == nil || s[1] != fmt.Sprintf("%03d", k) {
					t.Errorf("chat %d message %d: %q (order or once lost)", id, k, m.Text)
					break
				}
			}
		}
		// Kept apart, the two processes would send at twice the bot-wide
		// rate and meet dozens of 429s. Shared, they meet none on an idle
		// machine; a loaded one (the fake, both processes and other
		// packages' tests on two cores) can bunch up a send or two that
		// were paced apart (see testLimits in relay/delivery_test.go).
		if n := tg.Count429(); n > 2 {
			t.Errorf("the fake answered 429 %d times: the processes did not share the limit", n)
			for _, c := range tg.Calls("sendMessage") {
				if c.Code == http.StatusTooManyRequests {
					t.Logf("429 at %s for chat %s: %s", c.Time.Format("15:04:05.000"), c.Params["chat_id"], c.Description)
				}
			}
		}
		for i, p := range h {
			if !strings.Contains(p.logs.String(), "msg=delivered") {
				t.Errorf("process %d delivered nothing; the work was not shared", i)
			}
		}
	})
}

func listenAndServe(t *testing.T, srv *http.Server, addr string) {
	srv.Addr = addr
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		t.Error(err)
	}
}

// TestE2E_PostgresRestart: PostgreSQL stops and starts again under a running
// herald: ingest answers 503 meanwhile (never hangs), the workers reconnect
// by themselves, and every accepted event is delivered, without restarting
// herald.
//
// Restarting a cluster disturbs whoever else uses it, so the test is opt-in
// and wants a cluster of its own, named by HERALD_TEST_PG_RESTART
// ("<version> <cluster>" for pg_ctlcluster) and reached at
// HERALD_TEST_PG_RESTART_URL. For example, as root:
//
//	pg_createcluster 15 heraldrestart -p 5499 --start
//	su postgres -c "psql -p 5499 -c \"ALTER USER postgres PASSWORD 'postgres'\""
//	su postgres -c "createdb -p 5499 herald_restart"
//	HERALD_TEST_PG_RESTART='15 heraldrestart' \
//	HERALD_TEST_PG_RESTART_URL='postgres://postgres:postgres@127.0.0.1:5499/herald_restart?sslmode=disable' \
//	go test -run TestE2E_PostgresRestart .
func TestE2E_PostgresRestart(t *testing.T) {
	databaseURL, ctl := restartCluster(t)

	const chats, events = 10, 150
	bin := heraldBinary(t)
	tg := telegramtest.Start(t)
	tokens, chatIDs := seedHooks(t, tg, databaseURL, chats)
	addr := freeAddr(t)
	p := startProc(t, bin, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "LOG_LEVEL": "info",
	})

	var accepted, unavailable atomic.Int32
	var slowest atomic.Int64
	posted := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		for i := range events {
			deadline := time.Now().Add(90 * time.Second)
			for {
				req, _ := http.NewRequest("POST", "http://"+addr+"/hook/"+tokens[i%chats],
					strings.NewReader(fmt.Sprintf(`{"event":"pg_restart","seq":"#%03d"}`, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("pgrestart-%d", i))
				start := time.Now()
				resp, err := client.Do(req)
				if d := int64(time.Since(start)); d > slowest.Load() {
					slowest.Store(d)
				}
				if err != nil {
					posted <- fmt.Errorf("event %d: %v (a request must never hang)", i, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 202 || resp.StatusCode == 200 {
					break
				}
				if resp.StatusCode == http.StatusServiceUnavailable {
					unavailable.Add(1)
				}
				if time.Now().After(deadline) {
					posted <- fmt.Errorf("event %d not accepted within 90s (last %d)", i, resp.StatusCode)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			accepted.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
		posted <- nil
	}()
	for accepted.Load() < events/3 {
		time.Sleep(5 * time.Millisecond)
	}
	ctl("stop")
	t.Logf("PostgreSQL stopped with %d events accepted", accepted.Load())
	time.Sleep(4 * time.Second)
	ctl("start")
	t.Logf("PostgreSQL started again with %d events accepted, %d answers 503 meanwhile", accepted.Load(), unavailable.Load())
	if err := <-posted; err != nil {
		t.Fatalf("%v\n%s", err, p.logs)
	}
	if unavailable.Load() == 0 {
		t.Error("no 503 while the database was down")
	}
	t.Logf("slowest answer: %v", time.Duration(slowest.Load()))

	seqRE := regexp.MustCompile(`#(\d{3})`)
	deadline := time.Now().Add(90 * time.Second)
	for {
		missing := 0
		for k, id := range chatIDs {
			seen := map[string]bool{}
			for _, m := range tg.Messages(id) {
				if s := seqRE.FindStringSubmatch(m.Text); s != nil {
					seen[s[1]] = true
				}
			}
			for i := k; i < events; i += chats {
				if !seen[fmt.Sprintf("%03d", i)] {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events never delivered after PostgreSQL came back\n%s", missing, p.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case <-p.done:
		t.Fatalf("herald exited:\n%s", p.logs)
	default:
	}
}

// restartCluster is the opt-in PostgreSQL cluster of its own that
// TestE2E_PostgresRestart describes: a fresh database on it, and ctl, which
// runs pg_ctlcluster's action on the cluster with options (such as "-m",
// "immediate"). The cluster is started again when the test ends, whatever
// happened.
func restartCluster(t *testing.T) (string, func(action string, opts ...string)) {
	t.Helper()
	cluster, base := os.Getenv("HERALD_TEST_PG_RESTART"), os.Getenv("HERALD_TEST_PG_RESTART_URL")
	if cluster == "" || base == "" {
		t.Skip("opt-in: set HERALD_TEST_PG_RESTART and HERALD_TEST_PG_RESTART_URL to a cluster of its own (see TestE2E_PostgresRestart)")
	}
	command := func(action string, opts ...string) *exec.Cmd {
		args := append(append([]string{"--skip-systemctl-redirect"}, opts...), strings.Fields(cluster)...)
		return exec.Command("pg_ctlcluster", append(args, action)...)
	}
	t.Cleanup(func() { command("start").Run() })
	t.Setenv("TEST_DATABASE_URL", base)
	t.Setenv("HERALD_REQUIRE_POSTGRES", "1")
	return storagetest.PostgresURL(t), func(action string, opts ...string) {
		t.Helper()
		if out, err := command(action, opts...).CombinedOutput(); err != nil {
			t.Fatalf("pg_ctlcluster %s %v: %v\n%s", action, opts, err, out)
		}
	}
}

// storm is one chat's webhook (w0, seedHooks) holding a backlog of events
// that were posted to a running herald while the chat was muted: unmuted,
// they are one storm, and go out folded into a digest.
type storm struct {
	db      *storage.DB
	tg      *telegramtest.Server
	token   string
	webhook int64
	chat    int64
	events  []string // ids, in order
}

// seedStorm makes the chat and its webhook, muted.
func seedStorm(t *testing.T, tg *telegramtest.Server, databaseURL string) *storm {
	t.Helper()
	tokens, chats := seedHooks(t, tg, databaseURL, 1)
	s := &storm{db: storagetest.Open(t, databaseURL), tg: tg, token: tokens[0], chat: chats[0]}
	ctx := context.Background()
	whs, err := s.db.WebhooksByOwner(ctx, 1001)
	if err != nil || len(whs) != 1 {
		t.Fatalf("webhooks: %v %v", whs, err)
	}
	s.webhook = whs[0].ID
	if err := s.db.Mute(ctx, s.webhook, s.chat, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// postAll posts events 0 to n-1, a few at a time (post).
func (s *storm) postAll(t *testing.T, addr string, n int) {
	t.Helper()
	ids := make([]string, n)
	errs := make(chan error, n)
	seqs := make(chan int, n)
	for i := range n {
		seqs <- i
	}
	close(seqs)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range seqs {
				id, err := s.send(addr, i)
				ids[i] = id
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s.events = append(s.events, ids...)
}

// post posts event seq (post) and keeps its id.
func (s *storm) post(t *testing.T, addr string, seq int) string {
	t.Helper()
	id, err := s.send(addr, seq)
	if err != nil {
		t.Fatal(err)
	}
	s.events = append(s.events, id)
	return id
}

// send posts event seq to herald at addr until it is accepted (a 503 while
// the database is away is retried, as senders do) and returns its id.
func (s *storm) send(addr string, seq int) (string, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest("POST", "http://"+addr+"/hook/"+s.token,
			strings.NewReader(fmt.Sprintf(`{"event":"storm","seq":"#%03d"}`, seq)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("storm-%d", seq))
		resp, err := client.Do(req)
		if err == nil {
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if id, _ := m["id"].(string); id != "" && (resp.StatusCode == 202 || resp.StatusCode == 200) {
				return id, nil
			}
			err = fmt.Errorf("%d %v", resp.StatusCode, m)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("event %d not accepted within 60s: %v", seq, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unmute ends the mute: the backlog is queued, for herald's next poll.
func (s *storm) unmute(t *testing.T) {
	t.Helper()
	if n, err := s.db.Unmute(context.Background(), s.webhook, s.chat); err != nil || n != len(s.events) {
		t.Fatalf("unmute: %d %v, want %d queued", n, err, len(s.events))
	}
}

// delivered waits until every event posted is delivered, failing with
// logs if it takes longer than timeout.
func (s *storm) delivered(t *testing.T, timeout time.Duration, logs ...*syncBuffer) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for i := 0; i < len(s.events); {
		ev, err := s.db.EventByID(ctx, s.webhook, s.events[i])
		if err == nil && ev.Status == storage.StatusDelivered {
			i++
			continue
		}
		if err == nil && ev.Status == storage.StatusFailed {
			t.Fatalf("event %d failed: %s", i, ev.Error)
		}
		if time.Now().After(deadline) {
			var all strings.Builder
			for _, l := range logs {
				all.WriteString(l.String())
			}
			t.Fatalf("event %d of %d not delivered after %v (%v, %v); the chat got %d messages\n%s",
				i, len(s.events), timeout, ev.Status, err, len(s.tg.Messages(s.chat)), all.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var digestRE = regexp.MustCompile(`(\d+) events? from w0`)

// messages counts what the chat got: digests (with the events each carried)
// and single notifications.
func (s *storm) messages() (digests []int, singles int) {
	for _, m := range s.tg.Messages(s.chat) {
		if d := digestRE.FindStringSubmatch(m.Text); d != nil {
			n, _ := strconv.Atoi(d[1])
			digests = append(digests, n)
			continue
		}
		singles++
	}
	return digests, singles
}

// waitLog waits until a process's logs contain text.
func waitLog(t *testing.T, logs *syncBuffer, text string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(logs.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs after %v:\n%s", text, timeout, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitClosed waits for a channel a fake closes (Fault.Arrived).
func waitClosed(t *testing.T, c chan struct{}, what string, timeout time.Duration, logs *syncBuffer) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(timeout):
		t.Fatalf("%s did not happen within %v:\n%s", what, timeout, logs)
	}
}

// TestE2E_PostgresDigestOutage (issue 16): PostgreSQL stops (-m immediate)
// while a storm's digest is being sent, so that the digest goes out but
// its outcome cannot be recorded; it starts again under the same running
// herald. The chat must not stop receiving: an event posted afterwards
// arrives, every event of the storm ends delivered, and what was folded goes
// out folded again (one digest at most twice), never one message per event.
func TestE2E_PostgresDigestOutage(t *testing.T) {
	databaseURL, ctl := restartCluster(t)
	const events = 200
	bin := heraldBinary(t)
	tg := telegramtest.Start(t)
	s := seedStorm(t, tg, databaseURL)
	addr := freeAddr(t)
	p := startProc(t, bin, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
		"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "LOG_LEVEL": "info", "HOOK_RATE_LIMIT": "1000/m",
	})
	s.postAll(t, addr, events)
	arrived := make(chan struct{})
	tg.FailNext("sendMessage", tgemu.Fault{Delay: 6 * time.Second, Arrived: arrived})
	s.unmute(t)
	waitClosed(t, arrived, "the digest's send", 30*time.Second, p.logs)
	ctl("stop", "-m", "immediate")
	// The digest goes out; recording it fails.
	waitLog(t, p.logs, `msg="record delivery"`, 30*time.Second)
	ctl("start")
	started := time.Now()
	t.Logf("PostgreSQL stopped during the digest's send and started again after its record failed")

	s.post(t, addr, events)
	s.delivered(t, 2*time.Minute, p.logs)
	t.Logf("every event delivered %v after PostgreSQL came back", time.Since(started).Round(100*time.Millisecond))
	digests, singles := s.messages()
	t.Logf("the chat got digests of %v events and %d single messages", digests, singles)
	if singles != 0 || len(digests) > 2 {
		t.Errorf("digests of %v and %d single messages; want the storm folded again, at most twice, never one by one\n%s",
			digests, singles, tg.Dump(s.chat))
	}
	select {
	case <-p.done:
		t.Fatalf("herald exited:\n%s", p.logs)
	default:
	}
}

// TestE2E_Kill9MidDigest (issue 16): a herald process killed with SIGKILL
// while it sends a storm's digest, and started again: what was folded goes
// out folded again — one digest at most twice, never one message per
// event — and every event ends delivered.
func TestE2E_Kill9MidDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		const events = 200
		bin := heraldBinary(t)
		tg := telegramtest.Start(t)
		s := seedStorm(t, tg, databaseURL)
		addr := freeAddr(t)
		env := map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": databaseURL,
			"LISTEN_ADDR": addr, "PUBLIC_URL": "http://" + addr, "LOG_LEVEL": "info", "HOOK_RATE_LIMIT": "1000/m",
		}
		first := startProc(t, bin, env)
		s.postAll(t, addr, events)
		arrived := make(chan struct{})
		// Held until the sender dies: then Telegram has it, as a request
		// that reached it whole would be.
		tg.FailNext("sendMessage", tgemu.Fault{Delay: time.Minute, Arrived: arrived})
		s.unmute(t)
		waitClosed(t, arrived, "the digest's send", 30*time.Second, first.logs)
		if err := first.cmd.Process.Signal(os.Kill); err != nil {
			t.Fatal(err)
		}
		<-first.done
		killed := time.Now()
		second := startProc(t, bin, env)
		s.delivered(t, 90*time.Second, first.logs, second.logs)
		digests, singles := s.messages()
		t.Logf("delivered %v after the kill: digests of %v events and %d single messages",
			time.Since(killed).Round(100*time.Millisecond), digests, singles)
		if singles != 0 || len(digests) == 0 || len(digests) > 2 || digests[len(digests)-1] != events {
			t.Errorf("digests of %v and %d single messages; want the storm of %d folded again, at most twice, never one by one\n%s",
				digests, singles, events, tg.Dump(s.chat))
		}
	})
}
