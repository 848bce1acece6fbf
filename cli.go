package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it, the module version and VCS stamp Go records in the binary are used.
var version = ""

// buildInfo is the version, commit and build date of this binary: the
// -ldflags value when set, else what `go build`/`go install` recorded
// (runtime/debug.ReadBuildInfo), else "dev".
func buildInfo() (ver, commit, date string) {
	ver, commit, date = version, "", ""
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if commit != "" && modified {
			commit += "-dirty"
		}
	}
	if ver == "" {
		ver = "dev"
	}
	return ver, commit, date
}

// versionString is what `herald version` prints after "herald ".
func versionString() string {
	ver, commit, date := buildInfo()
	s := ver
	if commit != "" {
		s += " (commit " + commit
		if date != "" {
			s += ", built " + date
		}
		s += ")"
	}
	return s
}

// envHelp lists every environment variable with its default (SPEC §2); it
// is part of `herald --help`.
const envHelp = `Configuration is read from the environment (defaults in brackets):

  TELEGRAM_BOT_TOKEN     bot token from @BotFather [required]
  TELEGRAM_API_URL       Bot API server [https://api.telegram.org]
  TELEGRAM_MODE          polling or webhook (PUBLIC_URL must be https) [polling]
  DATABASE_URL           postgres://user:pass@host/db or sqlite:PATH [sqlite:herald.db]
  LISTEN_ADDR            HTTP listener [:8080]
  PUBLIC_URL             base of the webhook URLs senders post to [http://localhost:8080]
  OPENAI_API_KEY         empty: no LLM, the built-in formatter writes every message []
  OPENAI_BASE_URL        any OpenAI-compatible server [https://api.openai.com/v1]
  OPENAI_MODEL           model name [gpt-4o-mini]
  LLM_TIMEOUT            one summary's limit [20s]
  ADMIN_IDS              comma-separated Telegram user ids of the admins []
  ACCESS_MODE            open, invite or admins [open]
  MAX_BODY_BYTES         larger bodies get 413 [1048576]
  HOOK_RATE_LIMIT        accepted requests per webhook, per s, m or h [100/m]
  FORWARD_ALLOW_PRIVATE  allow /forward to private addresses [false]
  LOG_LEVEL              debug, info, warn or error [info]
  LOG_FORMAT             text or json [text]

Docs: https://github.com/herald-relay/herald#readme
`

// printConfigError writes each problem parseConfig found on a line of its
// own, every line prefixed, so that all bad variables are seen at once.
func printConfigError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintln(w, "herald:", line)
		}
	}
}

// wantsHelp reports a -h/--help among a subcommand's arguments.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "help":
			return true
		case "--":
			return false
		}
	}
	return false
}

const healthcheckUsage = `usage: herald healthcheck [-url URL] [-timeout 3s]

Exits 0 when the running server's /readyz answers 200, 1 otherwise: a
container health check that needs no curl (distroless images have none).
The URL defaults to http://127.0.0.1:<port of LISTEN_ADDR>/readyz.

Flags:
`

// runHealthcheck is `herald healthcheck`.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage); fs.PrintDefaults() }
	target := fs.String("url", "", "the readiness URL to ask")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *target == "" {
		addr := strings.TrimSpace(getenv("LISTEN_ADDR"))
		if addr == "" {
			addr = ":8080"
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			fmt.Fprintf(stderr, "herald healthcheck: LISTEN_ADDR=%q: want host:port or :port\n", addr)
			return 2
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		*target = "http://" + net.JoinHostPort(host, port) + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		fmt.Fprintln(stderr, "herald healthcheck:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "herald healthcheck: not ready:", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "herald healthcheck: not ready: %s answered %s\n", *target, resp.Status)
		return 1
	}
	fmt.Fprintln(stdout, "ready")
	return 0
}
