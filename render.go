package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/body"
	"github.com/herald-relay/herald/locales"
)

const renderUsage = `usage: herald render [-H 'Header: value']… [-lang en|ru] [-webhook NAME] FILE|-

Prints the Telegram message a payload would produce: as Telegram HTML and as
the text a reader sees. With OPENAI_API_KEY set the LLM writes it (OPENAI_*
and LLM_TIMEOUT apply), otherwise the built-in formatter. FILE "-" reads the
body from standard input. Headers name the sender, as the real one would:

  herald render -H 'X-GitHub-Event: push' push.json
  curl -s https://example.com/payload.json | herald render -H 'Content-Type: application/json' -

Flags:
`

// headerFlags collects repeated -H 'Key: value' flags.
type headerFlags map[string]string

func (h headerFlags) String() string { return "" }

func (h headerFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New(`want "Header: value"`)
	}
	h[http.CanonicalHeaderKey(strings.TrimSpace(k))] = strings.TrimSpace(val)
	return nil
}

// runRender is `herald render`: it never touches the database or Telegram.
func runRender(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, renderUsage)
		fs.PrintDefaults()
	}
	headers := headerFlags{}
	fs.Var(headers, "H", "a request header, `'Key: value'` (repeatable)")
	lang := fs.String("lang", "en", "the chat's language: en or ru")
	webhook := fs.String("webhook", "webhook", "the webhook's name, shown for senders Herald does not know")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	if *lang != locales.Normalize(*lang) {
		fmt.Fprintf(stderr, "herald render: -lang %q: want one of %s\n", *lang, strings.Join(locales.Supported, ", "))
		return 2
	}
	cfg, err := parseConfig(getenv, false)
	if err != nil {
		printConfigError(stderr, err)
		return 2
	}
	log := newLogger(cfg, stderr)

	in := stdin
	name := fs.Arg(0)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "herald render:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	payload, err := io.ReadAll(io.LimitReader(in, cfg.MaxBodyBytes+1))
	if err != nil {
		fmt.Fprintln(stderr, "herald render: read the payload:", err)
		return 1
	}
	if int64(len(payload)) > cfg.MaxBodyBytes {
		fmt.Fprintf(stderr, "herald render: the payload is over MAX_BODY_BYTES (%d bytes); Herald would answer 413\n", cfg.MaxBodyBytes)
		return 1
	}
	// The body is labelled and read as ingest would store it.
	class := body.Classify(headers["Content-Type"], payload)
	if class.Problem != body.NoProblem {
		fmt.Fprintf(stderr, "herald render: Herald would accept this and answer the warning %q\n", class.Problem)
	}
	contentType := class.Label

	loc, err := locales.New()
	if err != nil {
		fmt.Fprintln(stderr, "herald render: translations:", err)
		return 1
	}
	ag := agent.New(agent.Config{
		APIKey: cfg.OpenAIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIModel, Timeout: cfg.LLMTimeout,
	}, loc, log)
	ev := agent.Event{ID: "render", Webhook: *webhook, ContentType: contentType, Headers: headers, Body: payload}
	n, usage := ag.Summarize(ctx, ev, *lang)
	m := agent.Render(n, loc)

	by := "the built-in formatter"
	switch {
	case n.ByLLM:
		by = fmt.Sprintf("the LLM (%s, %d prompt + %d completion tokens)", ag.Model(), usage.PromptTokens, usage.CompletionTokens)
	case ag.LLMEnabled():
		by = "the built-in formatter (the LLM failed; see the log above)"
	}
	fmt.Fprintf(stdout, "── Telegram HTML (parse_mode HTML), by %s ──\n%s\n", by, m.HTML)
	if m.LinkURL != "" {
		fmt.Fprintf(stdout, "button: %q → %s\n", m.LinkText, m.LinkURL)
	}
	fmt.Fprintf(stdout, "\n── What the reader sees ──\n%s\n", m.Text())
	if m.LinkURL != "" {
		fmt.Fprintf(stdout, "[ %s ]\n", m.LinkText)
	}
	if m.DisableNotification {
		fmt.Fprintln(stdout, "(sent silently: low importance)")
	}
	return 0
}
