package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/playground"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/webhook"
)

const playgroundUsage = `usage: herald playground [-db FILE]

Runs Herald against a Telegram emulator inside this process, with a chat page
in the browser: no bot token and no internet needed, nothing is sent to
Telegram. The database is a temporary SQLite file, removed on exit, unless
-db names one to keep. LISTEN_ADDR defaults to localhost:8080; PUBLIC_URL to
the listener's address; OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL)
make summaries by your LLM. TELEGRAM_BOT_TOKEN, TELEGRAM_API_URL and
DATABASE_URL are ignored.

`

// playgroundPoll is the bot's long-poll timeout against the emulator: it
// must end before the HTTP server's 30s write timeout cuts the answer.
const playgroundPoll = 20 * time.Second

// runPlayground runs the whole of Herald against the Bot API emulator
// (bot/tgemu) mounted on Herald's own listener under
// playground.APIPath, with the chat page at playground.Path.
func runPlayground(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, playgroundUsage); fs.PrintDefaults() }
	dbFile := fs.String("db", "", "keep the playground's data in this SQLite `file` (default: a temporary file)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald playground: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	emu := tgemu.NewServer()
	env := map[string]string{
		// The emulator's token and a placeholder URL, replaced once the
		// listener's address is known: never the real Telegram.
		"TELEGRAM_BOT_TOKEN": emu.Token(),
		"TELEGRAM_API_URL":   "http://localhost",
		"TELEGRAM_MODE":      "polling",
	}
	if strings.TrimSpace(getenv("LISTEN_ADDR")) == "" {
		env["LISTEN_ADDR"] = "localhost:8080"
	}
	if *dbFile != "" {
		env["DATABASE_URL"] = "sqlite:" + *dbFile
	} else {
		dir, err := os.MkdirTemp("", "herald-playground-")
		if err != nil {
			fmt.Fprintln(stderr, "herald playground: temporary database:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		env["DATABASE_URL"] = "sqlite:" + filepath.Join(dir, "herald.db")
	}
	cfg, err := parseConfig(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k)
	}, true)
	if err != nil {
		fmt.Fprintln(stderr, "herald playground:", err)
		return 2
	}
	log := newLogger(cfg, stderr)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		fmt.Fprintf(stderr, "herald playground: cannot listen on %s (%v); set LISTEN_ADDR, e.g. LISTEN_ADDR=localhost:8081\n", cfg.ListenAddr, err)
		return 1
	}
	defer ln.Close()
	host, _, _ := net.SplitHostPort(cfg.ListenAddr)
	_, lnPort, _ := net.SplitHostPort(ln.Addr().String())
	if strings.TrimSpace(getenv("PUBLIC_URL")) == "" {
		cfg.PublicURL = "http://" + net.JoinHostPort(publicHost(host), lnPort)
	}
	// The bot reaches the emulator over loopback, like any Bot API server.
	cfg.TelegramAPIURL = "http://" + net.JoinHostPort(dialHost(ln.Addr()), lnPort) + playground.APIPath
	emu.SetURL(cfg.TelegramAPIURL)

	var pg *playground.Playground
	return start(ctx, cfg, log, wiring{
		listener: ln,
		botPoll:  playgroundPoll,
		mount: func(db *storage.DB, api *webhook.Server) {
			pg = playground.New(emu, db, playground.Config{PublicURL: cfg.PublicURL, TemporaryDB: *dbFile == ""}, log)
			h := pg.Handler()
			api.Mount("GET "+playground.Path, h)
			api.Mount(playground.Path+"/", h)
		},
		ready: func() {
			summaries := "the built-in formatter"
			if cfg.OpenAIKey != "" {
				summaries = "your LLM (" + cfg.OpenAIModel + ")"
			}
			fmt.Fprintf(stdout, "Herald playground: open %s%s — Telegram is emulated inside this process, nothing is sent to Telegram; summaries by %s.\n",
				cfg.PublicURL, playground.Path, summaries)
		},
		stopping: func() {
			// End the long polls (the page's and the bot's) so that the HTTP
			// shutdown does not wait for them.
			if pg != nil {
				pg.Close()
			}
			emu.Close()
		},
	})
}

// publicHost is the host of the URLs shown to the user: a name as given,
// localhost for a wildcard listener.
func publicHost(host string) string {
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "localhost"
	}
	return host
}

// dialHost is the address the bot dials to reach the listener.
func dialHost(addr net.Addr) string {
	if a, ok := addr.(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return a.IP.String()
	}
	return "127.0.0.1"
}
