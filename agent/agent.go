// Package agent turns stored webhook events into Telegram notifications: by
// an LLM (any OpenAI-compatible server) when one is configured, by the
// built-in formatter otherwise or whenever the LLM fails, and renders both
// into Telegram HTML that Herald escapes itself.
package agent

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-relay/herald/locales"
	openai "github.com/sashabaranov/go-openai"
)

// Event is what agent needs of a stored webhook event.
type Event struct {
	ID          string
	Webhook     string            // the webhook's name as the user chose it, e.g. "orders"
	ContentType string            // e.g. "application/json"
	Headers     map[string]string // canonical header keys (http.CanonicalHeaderKey), credentials already removed
	Body        []byte
	ReceivedAt  time.Time
}

// Importance says how loudly a notification should arrive.
type Importance string

// Importance values; the LLM's JSON schema allows exactly these.
const (
	ImportanceLow    Importance = "low"    // delivered silently
	ImportanceNormal Importance = "normal" // the default
	ImportanceHigh   Importance = "high"   // something failed or needs attention now
)

// Fact is one "Label: value" line of a notification. A fact with an empty
// Label is shown as its Value alone ("…and 3 more fields").
type Fact struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Notification is the language-specific content of a message, stored as JSON
// with the event (so a retry never calls the LLM again) and rendered by Render.
type Notification struct {
	Source     string     `json:"source"` // "GitHub", "Stripe", or the webhook name for unknown senders
	Event      string     `json:"event"`  // "push", "payment_intent.succeeded", "new_order"
	Title      string     `json:"title"`
	Summary    string     `json:"summary"`
	Facts      []Fact     `json:"facts,omitempty"`
	Importance Importance `json:"importance"`
	Link       string     `json:"link,omitempty"`   // only a URL present in the payload
	Action     string     `json:"action,omitempty"` // an action item, if someone must act
	// Thread names the thing the event is about ("org/repo#12", a payment's
	// id), built from payload values only, so that events about the same
	// thing can be told apart from others; "" when the sender's entry
	// names none.
	Thread string `json:"thread,omitempty"`
	Lang   string `json:"lang"`
	ByLLM  bool   `json:"by_llm"`
}

// Usage is the LLM tokens one summary cost (zero when no LLM was asked).
type Usage struct {
	PromptTokens, CompletionTokens int
}

// DefaultModel and DefaultTimeout apply when Config leaves them empty.
const (
	DefaultModel   = "gpt-4o-mini"
	DefaultTimeout = 20 * time.Second
)

// Config configures the LLM. The zero value means no LLM: every
// notification comes from the formatter.
type Config struct {
	APIKey     string        // empty: no LLM, formatter only
	BaseURL    string        // OPENAI_BASE_URL, e.g. "https://api.openai.com/v1" or a test fake's URL
	Model      string        // OPENAI_MODEL; DefaultModel when empty
	Timeout    time.Duration // LLM_TIMEOUT: one summary's limit, retries included; DefaultTimeout when zero
	HTTPClient *http.Client  // optional
}

// Agent writes notifications. It is safe for concurrent use.
type Agent struct {
	cfg    Config
	loc    *locales.Bundle
	log    *slog.Logger
	client *openai.Client // nil without an API key
	mode   atomic.Int32   // the responseMode the server was found to support
	memo   *memo          // recent summaries, shared by identical events
}

// New returns an Agent. Without cfg.APIKey it never calls the network. A nil
// loc uses the embedded translations; a nil log discards.
func New(cfg Config, loc *locales.Bundle, log *slog.Logger) *Agent {
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Agent{cfg: cfg, loc: bundleOr(loc), log: log, memo: newMemo()}
	if strings.TrimSpace(cfg.APIKey) != "" {
		oc := openai.DefaultConfig(strings.TrimSpace(cfg.APIKey))
		if cfg.BaseURL != "" {
			oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
		}
		if cfg.HTTPClient != nil {
			oc.HTTPClient = cfg.HTTPClient
		} else {
			// The context bounds each attempt; this bounds a client whose
			// context never ends.
			oc.HTTPClient = &http.Client{Timeout: cfg.Timeout + 5*time.Second}
		}
		a.client = openai.NewClientWithConfig(oc)
	}
	return a
}

// LLMEnabled reports whether Summarize asks an LLM.
func (a *Agent) LLMEnabled() bool { return a.client != nil }

// Model is the LLM model asked, for logs and statistics.
func (a *Agent) Model() string { return a.cfg.Model }
