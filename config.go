package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is Herald's configuration, read from the environment (SPEC §2).
// parseConfig is the only reader of the environment.
type Config struct {
	TelegramToken       string
	TelegramAPIURL      string
	TelegramMode        string
	DatabaseURL         string
	ListenAddr          string
	PublicURL           string
	OpenAIKey           string
	OpenAIBaseURL       string
	OpenAIModel         string
	LLMTimeout          time.Duration
	AdminIDs            []int64
	AccessMode          string
	MaxBodyBytes        int64
	HookRateLimit       int           // requests per HookRateWindow
	HookRateWindow      time.Duration // the window HookRateLimit counts over
	ForwardAllowPrivate bool
	LogLevel            slog.Level
	LogFormat           string
}

// errNoToken is a missing or malformed TELEGRAM_BOT_TOKEN: exit 2 with a
// one-line explanation (SPEC §2).
var errNoToken = errors.New("TELEGRAM_BOT_TOKEN is missing or malformed: create a bot with @BotFather in Telegram (/newbot) and set TELEGRAM_BOT_TOKEN=<the token it gives, like 123456789:AA…>")

// defaultTelegramAPIURL is Telegram's own Bot API server.
const defaultTelegramAPIURL = "https://api.telegram.org"

var tokenRE = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,}$`)

// parseConfig reads and validates every variable; a bad value is refused
// with an error naming the variable. needToken is false for commands that
// never talk to Telegram (migrate).
func parseConfig(getenv func(string) string, needToken bool) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	bad := func(name, v, why string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", name, v, why))
	}
	c := Config{
		TelegramToken:  get("TELEGRAM_BOT_TOKEN", ""),
		TelegramAPIURL: strings.TrimRight(get("TELEGRAM_API_URL", defaultTelegramAPIURL), "/"),
		TelegramMode:   get("TELEGRAM_MODE", "polling"),
		DatabaseURL:    get("DATABASE_URL", "sqlite:herald.db"),
		ListenAddr:     get("LISTEN_ADDR", ":8080"),
		PublicURL:      strings.TrimRight(get("PUBLIC_URL", "http://localhost:8080"), "/"),
		OpenAIKey:      get("OPENAI_API_KEY", ""),
		OpenAIBaseURL:  strings.TrimRight(get("OPENAI_BASE_URL", "https://api.openai.com/v1"), "/"),
		OpenAIModel:    get("OPENAI_MODEL", "gpt-4o-mini"),
		AccessMode:     get("ACCESS_MODE", "open"),
		LogFormat:      get("LOG_FORMAT", "text"),
	}
	if needToken && !tokenRE.MatchString(c.TelegramToken) {
		errs = append(errs, errNoToken)
	}
	checkURL := func(name, v string) {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(name, v, "want an absolute http:// or https:// URL")
		}
	}
	checkURL("TELEGRAM_API_URL", c.TelegramAPIURL)
	checkURL("PUBLIC_URL", c.PublicURL)
	checkURL("OPENAI_BASE_URL", c.OpenAIBaseURL)
	switch c.TelegramMode {
	case "polling":
	case "webhook": // updates posted to PUBLIC_URL/telegram (bot/webhookmode.go)
		// Telegram's own servers post updates only to HTTPS; a self-hosted
		// Bot API server (TELEGRAM_API_URL) may take plain HTTP.
		if c.TelegramAPIURL == defaultTelegramAPIURL && !strings.HasPrefix(c.PublicURL, "https://") {
			bad("TELEGRAM_MODE", c.TelegramMode, "Telegram sends updates only to HTTPS: set PUBLIC_URL to an https:// address (a reverse proxy such as Caddy, or a tunnel), or use TELEGRAM_MODE=polling")
		}
	default:
		bad("TELEGRAM_MODE", c.TelegramMode, "want polling or webhook")
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!(strings.HasPrefix(c.DatabaseURL, "sqlite:") && len(c.DatabaseURL) > len("sqlite:")) {
		bad("DATABASE_URL", redactURL(c.DatabaseURL), "want postgres://user:password@host/db or sqlite:PATH")
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("LISTEN_ADDR", c.ListenAddr, "want host:port or :port")
	}
	if c.OpenAIModel == "" {
		bad("OPENAI_MODEL", c.OpenAIModel, "must not be empty")
	}
	var err error
	v := get("LLM_TIMEOUT", "20s")
	if c.LLMTimeout, err = time.ParseDuration(v); err != nil || c.LLMTimeout <= 0 || c.LLMTimeout > 10*time.Minute {
		bad("LLM_TIMEOUT", v, "want a duration between 1s and 10m, like 20s")
	}
	for _, f := range strings.FieldsFunc(getenv("ADMIN_IDS"), func(r rune) bool { return r == ',' || r == ' ' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			bad("ADMIN_IDS", getenv("ADMIN_IDS"), "want comma-separated Telegram user ids, like 12345,67890")
			break
		}
		c.AdminIDs = append(c.AdminIDs, id)
	}
	switch c.AccessMode {
	case "open", "invite", "admins":
	default:
		bad("ACCESS_MODE", c.AccessMode, "want open, invite or admins")
	}
	v = get("MAX_BODY_BYTES", "1048576")
	if c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64); err != nil || c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("MAX_BODY_BYTES", v, "want a number of bytes between 1024 and 67108864")
	}
	v = get("HOOK_RATE_LIMIT", "100/m")
	if c.HookRateLimit, c.HookRateWindow, err = parseRate(v); err != nil {
		bad("HOOK_RATE_LIMIT", v, err.Error())
	}
	v = get("FORWARD_ALLOW_PRIVATE", "false")
	if c.ForwardAllowPrivate, err = strconv.ParseBool(v); err != nil {
		bad("FORWARD_ALLOW_PRIVATE", v, "want true or false")
	}
	v = get("LOG_LEVEL", "info")
	if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
		bad("LOG_LEVEL", v, "want debug, info, warn or error")
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", c.LogFormat, "want text or json")
	}
	return c, errors.Join(errs...)
}

// parseRate reads "100/m", "5/s", "1000/h" (a bare number is per minute).
func parseRate(v string) (int, time.Duration, error) {
	n, unit, found := strings.Cut(v, "/")
	if !found {
		unit = "m"
	}
	limit, err := strconv.Atoi(n)
	if err != nil || limit <= 0 {
		return 0, 0, errors.New("want a positive count per s, m or h, like 100/m")
	}
	switch unit {
	case "s":
		return limit, time.Second, nil
	case "m":
		return limit, time.Minute, nil
	case "h":
		return limit, time.Hour, nil
	}
	return 0, 0, errors.New("want a positive count per s, m or h, like 100/m")
}

// redactURL hides a password in a database URL before it is shown.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	return u.Redacted()
}

// configWarnings are settings that start but will likely not work as meant:
// a PUBLIC_URL no sender outside this machine can reach, or one whose port
// is not the one Herald listens on while no proxy seems to be in front.
func configWarnings(c Config) []string {
	var warns []string
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	loopback := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		loopback = true
	}
	if loopback {
		warns = append(warns, fmt.Sprintf("PUBLIC_URL=%s is a loopback address: the webhook URLs the bot hands out work only from this machine; set PUBLIC_URL to the public https:// address senders reach (see docs/deploy.md)", c.PublicURL))
	}
	// An explicit port in PUBLIC_URL, or a loopback one, means senders
	// reach Herald directly, without a proxy that maps ports: it must be
	// the port Herald listens on.
	if _, listenPort, err := net.SplitHostPort(c.ListenAddr); err == nil && (u.Port() != "" || loopback) {
		publicPort := u.Port()
		if publicPort == "" {
			publicPort = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		if publicPort != listenPort {
			warns = append(warns, fmt.Sprintf("PUBLIC_URL=%s names port %s but LISTEN_ADDR=%s listens on port %s: the URLs the bot hands out will not reach Herald unless a proxy maps the port", c.PublicURL, publicPort, c.ListenAddr, listenPort))
		}
	}
	return warns
}
