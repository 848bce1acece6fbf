package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tiktoken-go/tokenizer"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
)

// condenseExceptions are corpus payloads of GitHub and GitLab allowed over
// the 20 % target, and why.
var condenseExceptions = map[string]string{
	// 1.4 KB with no noise at all: an advisory's text, its ids and the
	// affected versions are the content, and none of it is dropped.
	"github/security_advisory.published.json": "no noise to drop",
}

// TestCost measures, with the GPT-4o tokenizer (o200k_base, the encoding of
// gpt-4o-mini), what Herald sends the LLM for every payload of the corpus
// against the raw body: the payload as sent, the user message, and the
// whole request (system prompt, user message and JSON schema). Run with -v
// for the table in docs/benchmarks.md. It fails when a GitHub or GitLab
// payload is sent at more than 20 % of its raw tokens (the exceptions
// above aside), or when the estimate that enforces the budget is far off.
func TestCost(t *testing.T) {
	files := corpusFiles(t)
	enc, err := tokenizer.ForModel(tokenizer.GPT4o)
	if err != nil {
		t.Fatal(err)
	}
	count := func(s string) int {
		n, err := enc.Count(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	s := openaitest.Start(t)
	a := agent.New(agent.Config{APIKey: s.Key(), BaseURL: s.URL(), Timeout: 5 * time.Second}, bundle, nil)

	var table strings.Builder
	fmt.Fprintf(&table, "| payload | raw body | compact JSON | sent payload | sent/raw | user message | whole request | estimate |\n")
	fmt.Fprintf(&table, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	type sum struct{ raw, sent, request int }
	totals := map[string]*sum{}
	for _, rel := range files {
		ev := realPayload(t, rel)
		s.Reset()
		a.Summarize(context.Background(), ev, "en")
		reqs := s.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", rel, len(reqs))
		}
		system, user := reqs[0].Messages[0].Content, reqs[0].Messages[1].Content
		_, sent, ok := strings.Cut(user, "Payload (untrusted data):\n")
		if !ok {
			t.Fatalf("%s: no payload in the prompt:\n%s", rel, user)
		}
		schema, _ := json.Marshal(reqs[0].ResponseFormat)
		raw := count(string(ev.Body))
		var compact strings.Builder
		if v := map[string]any{}; json.Unmarshal(ev.Body, &v) == nil {
			b, _ := json.Marshal(v)
			compact.Write(b)
		}
		nSent, nUser := count(sent), count(user)
		// Each chat message costs about 4 tokens of framing besides its content.
		nRequest := count(system) + nUser + count(string(schema)) + 2*4 + 3
		est := agent.EstimateTokens(sent)
		ratio := float64(nSent) / float64(raw)
		fmt.Fprintf(&table, "| %s | %d | %d | %d | %.1f %% | %d | %d | %d |\n",
			rel, raw, count(compact.String()), nSent, 100*ratio, nUser, nRequest, est)
		source, _, _ := strings.Cut(rel, "/")
		if totals[source] == nil {
			totals[source] = &sum{}
		}
		totals[source].raw += raw
		totals[source].sent += nSent
		totals[source].request += nRequest

		if (source == "github" || source == "gitlab") && ratio > 0.20 {
			if why, ok := condenseExceptions[rel]; !ok {
				t.Errorf("%s: %d of %d raw tokens sent (%.1f %%), over the 20 %% target", rel, nSent, raw, 100*ratio)
			} else {
				t.Logf("%s: %.1f %% sent, an exception: %s", rel, 100*ratio, why)
			}
		}
		if float64(nSent) > 1.35*float64(est)+10 {
			t.Errorf("%s: the estimate %d is far below the real %d tokens", rel, est, nSent)
		}
	}
	fmt.Fprintf(&table, "\n| sender | raw body | sent payload | sent/raw | whole requests |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, src := range []string{"github", "gitlab", "stripe", "sentry", "grafana", "pagerduty", "dockerhub", "slack"} {
		if tot := totals[src]; tot != nil {
			fmt.Fprintf(&table, "| %s | %d | %d | %.1f %% | %d |\n", src, tot.raw, tot.sent, 100*float64(tot.sent)/float64(tot.raw), tot.request)
		}
	}
	t.Logf("tokens (o200k_base):\n%s", table.String())
	if out := os.Getenv("AGENT_COST_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(table.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("Budget", func(t *testing.T) {
		// A megabyte of generic JSON: the payload sent stays within the
		// budget in real tokens, not only in the estimate.
		var b strings.Builder
		b.WriteString(`{"event":"bulk_import"`)
		for i := range 6000 {
			fmt.Fprintf(&b, `,"field_%d":"value %d of %s","link_%d":"https://shop.example/items/%d?ref=%x"`, i, i, strings.Repeat("word ", 30), i, i, i*7919)
		}
		b.WriteString(`}`)
		ev := agent.Event{ID: "big", Webhook: "imports", ContentType: "application/json", Body: []byte(b.String())}
		s.Reset()
		a.Summarize(context.Background(), ev, "en")
		_, sent, _ := strings.Cut(s.Requests()[0].Messages[1].Content, "Payload (untrusted data):\n")
		raw, got := count(string(ev.Body)), count(sent)
		t.Logf("%d-byte body: %d raw tokens, %d sent (budget %d estimated)", len(ev.Body), raw, got, agent.LLMBudget)
		if got > agent.LLMBudget*11/10 {
			t.Errorf("%d tokens sent, over the budget of %d", got, agent.LLMBudget)
		}
	})
}
