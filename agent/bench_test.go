package agent_test

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
)

// corpusEvents loads every payload of the shared corpus.
func corpusEvents(b *testing.B) []agent.Event {
	b.Helper()
	var evs []agent.Event
	for _, g := range golden {
		evs = append(evs, realPayload(b, g.file))
	}
	return evs
}

// BenchmarkFormat is the built-in formatter's time per event, over every
// payload of the corpus in turn (decode, detect, format, mask).
func BenchmarkFormat(b *testing.B) {
	evs := corpusEvents(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		agent.Format(evs[i%len(evs)], "ru", bundle)
		i++
	}
}

// BenchmarkFormatRender adds rendering to Telegram HTML: the whole message
// without an LLM.
func BenchmarkFormatRender(b *testing.B) {
	evs := corpusEvents(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		agent.Render(agent.Format(evs[i%len(evs)], "ru", bundle), bundle)
		i++
	}
}

// BenchmarkPrompt is the time to build what the LLM is sent (the formatter
// runs too: it is the fallback and gives the link), measured through a
// Summarize whose answer is remembered, so no request is made.
func BenchmarkPrompt(b *testing.B) {
	evs := corpusEvents(b)
	s := openaitest.NewServer()
	defer s.Close()
	a := agent.New(agent.Config{APIKey: s.Key(), BaseURL: s.URL()}, bundle, nil)
	ctx := context.Background()
	for _, ev := range evs {
		a.Summarize(ctx, ev, "ru") // fills the memo: the loop below only builds prompts
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Summarize(ctx, evs[i%len(evs)], "ru")
		i++
	}
}

// BenchmarkReferenceUnmarshal is the reference for the figures above, run
// side by side: encoding/json decoding the same bodies into map[string]any,
// the least any JSON handling costs.
func BenchmarkReferenceUnmarshal(b *testing.B) {
	evs := corpusEvents(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var v any
		if err := json.Unmarshal(evs[i%len(evs)].Body, &v); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// catalogueEvents loads every payload of the catalogue's test data.
func catalogueEvents(b *testing.B, jsonOnly bool) []agent.Event {
	b.Helper()
	dirs, err := os.ReadDir(sendersDir)
	if err != nil {
		b.Fatal(err)
	}
	var evs []agent.Event
	for _, d := range dirs {
		for f := range readSenderIndex(b, d.Name()) {
			if jsonOnly && !strings.HasSuffix(f, ".json") {
				continue
			}
			evs = append(evs, senderPayload(b, d.Name(), f))
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	if len(evs) == 0 {
		b.Fatal("no catalogue payloads")
	}
	return evs
}

// BenchmarkFormatCatalogue is the formatter's time per event over the
// catalogue's payloads: detection against every entry, then the entry's
// templates, typed facts and rules.
func BenchmarkFormatCatalogue(b *testing.B) {
	evs := catalogueEvents(b, false)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		agent.Format(evs[i%len(evs)], "ru", bundle)
		i++
	}
}

// BenchmarkReferenceUnmarshalCatalogue is encoding/json decoding the same
// bodies (the JSON ones) into map[string]any, beside the figure above.
func BenchmarkReferenceUnmarshalCatalogue(b *testing.B) {
	evs := catalogueEvents(b, true)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var v any
		if err := json.Unmarshal(evs[i%len(evs)].Body, &v); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// genericEvents loads every payload of the generic formatter's golden set:
// senders Herald has no entry for.
func genericEvents(b *testing.B) []agent.Event {
	b.Helper()
	idx := readGenericIndex(b)
	var evs []agent.Event
	for _, c := range genericGolden {
		evs = append(evs, genericPayload(b, idx, c.File))
	}
	return evs
}

// BenchmarkFormatGeneric is the generic formatter's time per event, over
// its golden set, beside BenchmarkReferenceUnmarshalGeneric.
func BenchmarkFormatGeneric(b *testing.B) {
	evs := genericEvents(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		agent.Format(evs[i%len(evs)], "ru", bundle)
		i++
	}
}

// BenchmarkReferenceUnmarshalGeneric is encoding/json decoding the generic
// golden set's JSON bodies into map[string]any.
func BenchmarkReferenceUnmarshalGeneric(b *testing.B) {
	var bodies [][]byte
	for _, ev := range genericEvents(b) {
		if json.Valid(ev.Body) {
			bodies = append(bodies, ev.Body)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		var v any
		if err := json.Unmarshal(bodies[i%len(bodies)], &v); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
