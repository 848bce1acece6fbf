// Herald turns any webhook into a readable Telegram message. This file and
// config.go only parse and wire; the work is in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot"
	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/relay"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/webhook"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: herald [command]

  (none)       run the bot, the HTTP listener and the workers
  migrate      apply database migrations and exit
  playground   try Herald in the browser against a built-in Telegram emulator
  render       print the message a payload would produce: render [-H 'K: V']… FILE|-
  healthcheck  exit 0 when the running server is ready (for container health checks)
  version      print the version, commit and build date

Each command takes -h for its own flags.

` + envHelp

// run is the whole program, testable: it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "":
		return serve(ctx, getenv, stderr)
	case "migrate":
		if wantsHelp(args[1:]) {
			fmt.Fprint(stdout, "usage: herald migrate\n\nApplies the database migrations (DATABASE_URL) and exits; `herald` does the same at start.\n")
			return 0
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "herald migrate: unexpected argument %q\n", args[1])
			return 2
		}
		return migrate(ctx, getenv, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "playground":
		return runPlayground(ctx, args[1:], getenv, stdout, stderr)
	case "render":
		return runRender(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "version", "-version", "--version", "-v":
		fmt.Fprintln(stdout, "herald", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "herald: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openDB connects, waiting up to a minute for a database that is still
// starting (as in a compose file), and migrates. An SQLite path that
// cannot be written (a *storage.PathError: a missing directory, no
// permission, a read-only file system) is not waited for: it stays so.
func openDB(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, error) {
	var db *storage.DB
	var err error
	var pathErr *storage.PathError
	deadline := time.Now().Add(time.Minute)
	for {
		db, err = storage.Open(ctx, cfg.DatabaseURL)
		if err == nil || errors.As(err, &pathErr) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		log.Warn("database not reachable yet, retrying", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(getenv, false)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		log.Error("migrate failed", "error", err)
		return 1
	}
	db.Close()
	log.Info("migrations applied", "database", db.Dialect())
	return 0
}

func serve(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := parseConfig(getenv, true)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	log := newLogger(cfg, stderr)
	for _, w := range configWarnings(cfg) {
		log.Warn(w)
	}
	return start(ctx, cfg, log, wiring{})
}

// wiring is what `herald playground` adds to serve's: a listener it opened
// itself (the emulated Bot API lives on it), routes that need the database,
// and hooks at start and shutdown. The zero value is plain serve.
type wiring struct {
	listener net.Listener                              // nil: listen on cfg.ListenAddr
	mount    func(db *storage.DB, api *webhook.Server) // extra routes
	ready    func()                                    // once everything runs
	stopping func()                                    // first thing on shutdown
	botPoll  time.Duration                             // long-poll timeout; 0: the bot's default
}

// start runs the bot, the HTTP listener and the relay until ctx ends.
func start(ctx context.Context, cfg Config, log *slog.Logger, w wiring) int {
	loc, err := locales.New()
	if err != nil {
		log.Error("load translations", "error", err)
		return 1
	}
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		log.Error("open database", "error", err)
		return 1
	}
	defer db.Close()

	ver, _, _ := buildInfo()
	ag := agent.New(agent.Config{
		APIKey: cfg.OpenAIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIModel, Timeout: cfg.LLMTimeout,
	}, loc, log)
	// The bot rings the relay's doorbell (/test, /unmute) and the relay
	// sends through the bot: the bell is connected once both exist, before
	// either runs.
	var wake func()
	// Outbound forwarding (SPEC §9) runs its own workers, so a slow target
	// never holds up Telegram; it takes each event's summary from the
	// relay (made once per event and language), connected below.
	var summaries *relay.Relay
	fw := forward.New(db, forward.SummaryFunc(func(ctx context.Context, eventID, lang string) (agent.Notification, error) {
		return summaries.Summary(ctx, eventID, lang)
	}), loc, log, forward.Config{AllowPrivate: cfg.ForwardAllowPrivate, Work: cfg.LLMTimeout + 20*time.Second, UserAgent: "Herald/" + ver})
	tgBot, err := bot.New(bot.Config{Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, PublicURL: cfg.PublicURL, Poll: w.botPoll, Mode: cfg.TelegramMode,
		AdminIDs: cfg.AdminIDs, AccessMode: cfg.AccessMode, Wake: func() { wake() }, Asker: ag, Forwarder: fw}, db, loc, log)
	if err != nil {
		log.Error("telegram client", "error", err)
		return 1
	}
	// One summary attempt, a send and some slack.
	rl := relay.New(db, ag, tgBot, loc, log, relay.Config{Work: cfg.LLMTimeout + 25*time.Second})
	summaries = rl
	wake = func() { rl.Wake(); fw.Wake() }
	// Ingest names the chats its events were queued for: the relay skips
	// the claim for chats it knows are waiting (Relay.WakeFor); forwarding
	// looks at every event.
	ingested := func(chats []int64) { rl.WakeFor(chats); fw.Wake() }
	api := webhook.New(db, webhook.Config{MaxBodyBytes: cfg.MaxBodyBytes, RateLimit: cfg.HookRateLimit, RateWindow: cfg.HookRateWindow, Version: ver}, log, ingested)
	if cfg.TelegramMode == bot.ModeWebhook {
		api.Mount("POST "+bot.WebhookPath, tgBot.WebhookHandler())
	}
	if w.mount != nil {
		w.mount(db, api)
	}

	ln := w.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.ListenAddr); err != nil {
			log.Error("listen", "addr", cfg.ListenAddr, "error", err)
			return 1
		}
	}
	httpSrv := api.HTTPServer(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	log.Info("herald started", "version", ver, "listen", ln.Addr().String(), "public_url", cfg.PublicURL,
		"database", db.Dialect(), "llm", ag.LLMEnabled())

	fatal := make(chan error, 2)
	go func() {
		if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fatal <- fmt.Errorf("http: %w", err)
		}
	}()
	botCtx, stopBot := context.WithCancel(ctx)
	defer stopBot()
	var botDone sync.WaitGroup
	botDone.Add(1)
	go func() {
		defer botDone.Done()
		if err := tgBot.Run(botCtx); err != nil {
			fatal <- err
		}
	}()
	relayCtx, stopRelay := context.WithCancel(context.WithoutCancel(ctx))
	relayDone := make(chan struct{})
	go func() {
		defer close(relayDone)
		rl.Run(relayCtx)
	}()
	forwardCtx, stopForward := context.WithCancel(context.WithoutCancel(ctx))
	forwardDone := make(chan struct{})
	go func() {
		defer close(forwardDone)
		fw.Run(forwardCtx)
	}()
	if w.ready != nil {
		w.ready()
	}

	code := 0
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-fatal:
		log.Error("stopping", "error", err)
		code = 1
	}
	// In order: stop accepting, stop the bot, stop claiming and let the
	// deliveries in flight finish (bounded by relay.Config.Work).
	if w.stopping != nil {
		w.stopping()
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutCtx); err != nil {
		log.Warn("http shutdown", "error", err)
	}
	stopBot()
	botDone.Wait()
	stopRelay()
	stopForward()
	<-relayDone
	<-forwardDone
	log.Info("stopped")
	return code
}
