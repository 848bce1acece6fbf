// Command delivery benchmarks Herald's delivery pipeline (issue 8; see
// docs/benchmarks.md, "Delivery"). It is a program, not a test: it prints
// figures and judges nothing.
//
// It runs the Bot API fake (bot/tgemu, optionally enforcing Telegram's
// limits) and an instant OpenAI-compatible fake (agent/openaitest) in this
// process, and Herald's pipeline — storage, agent, bot, relay and the HTTP
// ingest, wired as main.go wires them — in a child process (this program
// again, -mode node), so that the child's memory is Herald's alone.
//
//	go run ./bench/delivery -db 'postgres://…' -mode latency   # 50 events/s over 50 chats for 60 s
//	go run ./bench/delivery -db sqlite -mode drain             # 5,000 queued events, 100 chats, limits enforced
//	go run ./bench/delivery -db sqlite -mode drain -fold       # the same with storm folding on
//	go run ./bench/delivery -db sqlite -mode scale             # peak RSS with 100,000 events queued
//
// -db sqlite uses a fresh file in a temporary directory; a postgres:// URL
// gets a fresh schema, dropped afterwards.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/lib/pq"
	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/relay"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/webhook"
)

type options struct {
	mode     string
	db       string
	rate     float64
	chats    int
	events   int
	duration time.Duration
	fold     bool
	limits   string // "default" or "none": Herald's own pacing
	fakeLim  bool   // the fake enforces Telegram's limits
	groups   bool   // chats are groups (else private chats)
	watch    time.Duration
	// node mode
	tgURL, llmURL, listen string
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "latency", "latency, drain, scale (node: internal)")
	flag.StringVar(&o.db, "db", "sqlite", "sqlite or a postgres:// URL (a fresh schema is made in it)")
	flag.Float64Var(&o.rate, "rate", 50, "latency: events per second")
	flag.IntVar(&o.chats, "chats", 0, "chats (latency 50, drain and scale 100)")
	flag.IntVar(&o.events, "events", 0, "events queued before the start (drain 5000, scale 100000)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "latency: how long to post")
	flag.BoolVar(&o.fold, "fold", false, "fold storms into digests (Herald's default; off to measure pacing)")
	flag.StringVar(&o.limits, "limits", "", "Herald's pacing: default or none (latency: none, else default)")
	flag.BoolVar(&o.fakeLim, "fake-limits", false, "latency: the fake enforces Telegram's limits (drain and scale always do)")
	flag.BoolVar(&o.groups, "groups", false, "chats are groups rather than private chats")
	flag.DurationVar(&o.watch, "watch", 60*time.Second, "scale: how long to watch the process")
	flag.StringVar(&o.tgURL, "tg", "", "node: Bot API URL")
	flag.StringVar(&o.llmURL, "llm", "", "node: OpenAI-compatible URL")
	flag.StringVar(&o.listen, "listen", "", "node: listen address")
	flag.Parse()
	var err error
	switch o.mode {
	case "node":
		err = node(o)
	case "latency", "drain", "scale":
		err = bench(o)
	default:
		err = fmt.Errorf("unknown -mode %q", o.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "delivery:", err)
		os.Exit(1)
	}
}

// node runs Herald's pipeline as serve() in main.go does, with the knobs a
// benchmark needs (pacing, folding), until SIGTERM.
func node(o options) error {
	ctx, stop := signalContext()
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	loc := locales.MustNew()
	db, err := storage.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	ag := agent.New(agent.Config{APIKey: openaitest.DefaultKey, BaseURL: o.llmURL, Timeout: 20 * time.Second}, loc, log)
	limits := bot.DefaultLimits()
	if o.limits == "none" {
		limits = bot.NoLimits()
	}
	tgBot, err := bot.New(bot.Config{Token: tgemu.DefaultToken, APIURL: o.tgURL, PublicURL: "http://" + o.listen, Limits: limits}, db, loc, log)
	if err != nil {
		return err
	}
	cfg := relay.Config{Work: 45 * time.Second}
	if !o.fold {
		cfg.FoldAfter = -1
	}
	rl := relay.New(db, ag, tgBot, loc, log, cfg)
	api := webhook.New(db, webhook.Config{MaxBodyBytes: 1 << 20, RateLimit: 1000000, RateWindow: time.Minute}, log, rl.WakeFor)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	botCtx, stopBot := context.WithCancel(ctx)
	botDone := make(chan struct{})
	go func() { defer close(botDone); tgBot.Run(botCtx) }()
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); rl.Run(relayCtx) }()
	<-ctx.Done()
	srv.Close()
	stopBot()
	<-botDone
	stopRelay()
	<-relayDone
	return nil
}

func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signalNotify(ch)
	go func() { <-ch; cancel() }()
	return ctx, cancel
}

// bench runs one measurement.
func bench(o options) error {
	if o.chats == 0 {
		o.chats = map[string]int{"latency": 50, "drain": 100, "scale": 100}[o.mode]
	}
	if o.events == 0 {
		o.events = map[string]int{"latency": 0, "drain": 5000, "scale": 100000}[o.mode]
	}
	if o.limits == "" {
		o.limits = "default"
		if o.mode == "latency" {
			o.limits = "none"
		}
	}
	ctx := context.Background()

	// The fakes.
	var tgOpts []tgemu.Option
	if o.mode != "latency" || o.fakeLim {
		tgOpts = append(tgOpts, tgemu.WithLimits())
	}
	tg := tgemu.NewServer(tgOpts...)
	tgLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tg.SetURL("http://" + tgLn.Addr().String())
	go http.Serve(tgLn, tg)
	defer tg.Close()
	llm := openaitest.NewServer()
	defer llm.Close()
	// An instant model whose summary quotes the event's sequence number,
	// by which arrivals are matched to their POSTs.
	llm.Respond(func(req openai.ChatCompletionRequest) openaitest.Reply {
		seq := ""
		for _, m := range req.Messages {
			if s := seqRE.FindString(m.Content); s != "" {
				seq = s
			}
		}
		return openaitest.JSON(map[string]any{"source": "", "event": "", "title": "Benchmark event " + seq, "summary": "Sequence " + seq + ".", "facts": []any{}, "importance": "normal", "link": "", "action": ""})
	})

	// The database, fresh.
	dbURL, cleanup, err := freshDB(o.db)
	if err != nil {
		return err
	}
	defer cleanup()
	db, err := storage.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	tokens, webhooks, chatIDs, err := seed(ctx, db, tg, o)
	if err != nil {
		return err
	}
	if o.events > 0 {
		start := time.Now()
		if err := queue(ctx, db, webhooks, o.events); err != nil {
			return err
		}
		fmt.Printf("queued %d events over %d chats in %.1fs\n", o.events, o.chats, time.Since(start).Seconds())
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("mode=%s db=%s chats=%d groups=%v fold=%v herald_limits=%s fake_limits=%v load=%s\n",
		o.mode, dialectName(dbURL), o.chats, o.groups, o.fold, o.limits, len(tgOpts) > 0, strings.Fields(string(load))[0])

	listen, err := freeAddr()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"-mode", "node", "-db", dbURL, "-tg", tg.URL(), "-llm", llm.URL(), "-listen", listen, "-limits", o.limits}
	if o.fold {
		args = append(args, "-fold")
	}
	child := exec.Command(self, args...)
	child.Stderr = os.Stderr
	launched := time.Now()
	if err := child.Start(); err != nil {
		return err
	}
	mem := watchMemory(child.Process.Pid)
	stopChild := func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}
	defer stopChild()
	sig := make(chan os.Signal, 1)
	signalNotify(sig)
	go func() { <-sig; stopChild(); os.Exit(1) }() // no orphaned node
	if err := waitHealthy(listen); err != nil {
		return err
	}
	switch o.mode {
	case "latency":
		return latency(ctx, o, tg, listen, tokens, mem)
	case "drain":
		return drain(ctx, o, db, tg, launched, mem, chatIDs)
	default:
		return scale(ctx, o, db, tg, launched, mem)
	}
}

// latency posts events at a steady rate, round robin over the chats, and
// measures from the start of each POST to the sendMessage's arrival at the
// fake.
func latency(ctx context.Context, o options, tg *tgemu.Server, listen string, tokens []string, mem *memory) error {
	n := int(o.rate * o.duration.Seconds())
	sent := make([]time.Time, n)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var wg sync.WaitGroup
	var failed atomic.Int32
	interval := time.Duration(float64(time.Second) / o.rate)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		sent[i] = time.Now()
		wg.Go(func() {
			body := fmt.Sprintf(`{"event":"latency","seq":"#%07d"}`, i)
			resp, err := client.Post("http://"+listen+"/hook/"+tokens[i%len(tokens)], "application/json", strings.NewReader(body))
			if err != nil {
				failed.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	arrived := map[int]time.Time{}
	deadline := time.Now().Add(60 * time.Second)
	for len(arrived) < n-int(failed.Load()) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		arrived = arrivals(tg)
	}
	var lat []time.Duration
	for i, at := range arrived {
		if i < n {
			lat = append(lat, at.Sub(sent[i]))
		}
	}
	slices.Sort(lat)
	fmt.Printf("posted=%d failed=%d delivered=%d 429s=%d\n", n, failed.Load(), len(arrived), tg.Count429())
	if len(lat) > 0 {
		fmt.Printf("latency POST→sendMessage: p50=%.1fms p99=%.1fms max=%.1fms\n", ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]))
	}
	fmt.Printf("herald peak RSS=%.1f MiB\n", mem.peakMiB())
	return nil
}

var seqRE = regexp.MustCompile(`#(\d{7})`)

// arrivals maps each event's sequence number to its first sendMessage's
// arrival at the fake.
func arrivals(tg *tgemu.Server) map[int]time.Time {
	out := map[int]time.Time{}
	for _, c := range tg.Calls("sendMessage") {
		if c.Code != http.StatusOK {
			continue
		}
		if m := seqRE.FindStringSubmatch(c.Params["text"]); m != nil {
			i, _ := strconv.Atoi(m[1])
			if _, ok := out[i]; !ok {
				out[i] = c.Time
			}
		}
	}
	return out
}

// drain measures how long the queued backlog takes to go out against the
// limit-enforcing fake, next to the least Telegram's limits allow.
func drain(ctx context.Context, o options, db *storage.DB, tg *tgemu.Server, launched time.Time, mem *memory, chatIDs []int64) error {
	for {
		n, err := db.PendingDeliveries(ctx)
		if err == nil && n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var first, last time.Time
	msgs := 0
	for _, c := range tg.Calls("sendMessage") {
		if c.Code != http.StatusOK {
			continue
		}
		msgs++
		if first.IsZero() || c.Time.Before(first) {
			first = c.Time
		}
		if c.Time.After(last) {
			last = c.Time
		}
	}
	report429(tg)
	reportGaps(tg)
	minimum := float64(o.events) / 30
	took := last.Sub(launched).Seconds()
	fmt.Printf("events=%d messages=%d 429s=%d\n", o.events, msgs, tg.Count429())
	fmt.Printf("drain: %.1fs from process start (first message after %.2fs); minimum at 30 msg/s %.1fs; ratio %.3f\n",
		took, first.Sub(launched).Seconds(), minimum, took/minimum)
	fmt.Printf("herald peak RSS=%.1f MiB\n", mem.peakMiB())
	return nil
}

// scale watches the process's memory with a large backlog queued.
func scale(ctx context.Context, o options, db *storage.DB, tg *tgemu.Server, launched time.Time, mem *memory) error {
	deadline := launched.Add(o.watch)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if n, err := db.PendingDeliveries(ctx); err == nil && n == 0 {
			break
		}
	}
	pending, _ := db.PendingDeliveries(ctx)
	msgs := 0
	for _, c := range tg.Calls("sendMessage") {
		if c.Code == http.StatusOK {
			msgs++
		}
	}
	fmt.Printf("after %.0fs: %d of %d deliveries still pending, %d messages sent, 429s=%d\n",
		time.Since(launched).Seconds(), pending, o.events, msgs, tg.Count429())
	fmt.Printf("herald peak RSS=%.1f MiB (VmHWM)\n", mem.peakMiB())
	return nil
}

// seed makes the owner, the chats (known to the fake) and one webhook per
// chat.
func seed(ctx context.Context, db *storage.DB, tg *tgemu.Server, o options) ([]string, []int64, []int64, error) {
	const owner = 1
	if err := db.UpsertUser(ctx, storage.User{ID: owner, FirstName: "Bench", Started: true}); err != nil {
		return nil, nil, nil, err
	}
	var tokens []string
	var webhooks, chats []int64
	for i := range o.chats {
		c := storage.Chat{ID: int64(100000 + i), Type: "private", Language: "en"}
		if o.groups {
			c = storage.Chat{ID: int64(-100000 - i), Type: "group", Title: fmt.Sprintf("Group %d", i), Language: "en"}
			tg.KnownChat(tgemu.Group(c.ID, c.Title))
		} else {
			tg.KnownUser(tgemu.User{ID: c.ID, FirstName: "U"})
		}
		if _, err := db.EnsureChat(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		token := storage.NewToken()
		wh, err := db.CreateWebhook(ctx, owner, fmt.Sprintf("hook%d", i), storage.HashToken(token), c.ID)
		if err != nil {
			return nil, nil, nil, err
		}
		tokens, webhooks, chats = append(tokens, token), append(webhooks, wh.ID), append(chats, c.ID)
	}
	return tokens, webhooks, chats, nil
}

// queue inserts n events round robin over the webhooks, from 16 goroutines.
func queue(ctx context.Context, db *storage.DB, webhooks []int64, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				e := storage.Event{WebhookID: webhooks[i%len(webhooks)], ContentType: "application/json", Headers: `{}`,
					Body: fmt.Appendf(nil, `{"event":"queued","seq":"#%07d","severity":"warning"}`, i)}
				if _, err := db.InsertEvent(ctx, &e); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// freshDB returns a database URL nobody else uses and its cleanup.
func freshDB(spec string) (string, func(), error) {
	if spec == "sqlite" {
		dir, err := os.MkdirTemp("", "herald-bench-")
		if err != nil {
			return "", nil, err
		}
		return "sqlite:" + filepath.Join(dir, "herald.db"), func() { os.RemoveAll(dir) }, nil
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_bench_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("postgres", spec)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(spec)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); admin.Close() }, nil
}

func dialectName(u string) string {
	if strings.HasPrefix(u, "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitHealthy(addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("the node did not become healthy in 30s")
}

// memory samples a process's peak resident set (VmHWM) from /proc.
type memory struct {
	pid  int
	mu   sync.Mutex
	peak int64 // KiB
}

func watchMemory(pid int) *memory {
	m := &memory{pid: pid}
	go func() {
		for {
			kb, ok := vmHWM(pid)
			if !ok {
				return
			}
			m.mu.Lock()
			m.peak = max(m.peak, kb)
			m.mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return m
}

func (m *memory) peakMiB() float64 {
	if kb, ok := vmHWM(m.pid); ok {
		m.mu.Lock()
		m.peak = max(m.peak, kb)
		m.mu.Unlock()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(m.peak) / 1024
}

func vmHWM(pid int) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}

func pct(d []time.Duration, p int) time.Duration { return d[min(len(d)-1, len(d)*p/100)] }
func ms(d time.Duration) float64                 { return float64(d) / float64(time.Millisecond) }

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// report429 prints the fake's 429 answers, which limit they met.
func report429(tg *tgemu.Server) {
	for _, c := range tg.Calls("sendMessage") {
		if c.Code == http.StatusTooManyRequests {
			fmt.Printf("  429 at %s to chat %s: %s\n", c.Time.Format("15:04:05.000"), c.Params["chat_id"], c.Description)
		}
	}
}

// reportGaps prints how the time between messages arriving at the fake was
// spent: the paced gap (1/28 s) or longer pauses, when nothing was ready.
func reportGaps(tg *tgemu.Server) {
	var ts []time.Time
	for _, c := range tg.Calls("sendMessage") {
		ts = append(ts, c.Time)
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var long, longTime time.Duration
	n := 0
	for i := 1; i < len(ts); i++ {
		if g := ts[i].Sub(ts[i-1]); g > 100*time.Millisecond {
			n++
			longTime += g
			long = max(long, g)
		}
	}
	fmt.Printf("pauses over 100 ms between messages: %d, %.1fs in all, longest %.0f ms\n", n, longTime.Seconds(), ms(long))
	if len(ts) > 0 {
		var per []string
		for start := ts[0]; start.Before(ts[len(ts)-1]); start = start.Add(20 * time.Second) {
			k := 0
			for _, t := range ts {
				if !t.Before(start) && t.Before(start.Add(20*time.Second)) {
					k++
				}
			}
			per = append(per, fmt.Sprintf("%.1f", float64(k)/20))
		}
		fmt.Printf("messages/s by 20 s: %s\n", strings.Join(per, " "))
	}
}
