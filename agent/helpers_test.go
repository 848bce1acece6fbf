package agent_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
)

var bundle = locales.MustNew()

// visible checks a rendered message the way Telegram's HTML parse mode
// reads it (the Bot API fake's strict parser) and returns the visible text,
// failing the test when Telegram would reject it.
func visible(t *testing.T, html string) string {
	t.Helper()
	text, err := tgemu.CheckHTML(html)
	if err != nil {
		t.Fatalf("not valid Telegram HTML: %v\n%s", err, html)
	}
	return text
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// story is the product story's first event.
func story() agent.Event {
	return agent.Event{
		ID:          "ev1",
		Webhook:     "orders",
		ContentType: "application/json",
		Headers:     map[string]string{"Content-Type": "application/json", "User-Agent": "curl/8.5.0"},
		Body:        []byte(`{"event":"new_order","order_id":12345,"amount":9900,"customer":"Иван Петров"}`),
	}
}

// payloadsDir is /work/shared/payloads, found relative to the repository.
const payloadsDir = "../../shared/payloads"

// realPayload loads a vendor payload with its documented headers; the test
// is skipped when the shared corpus is absent.
func realPayload(t testing.TB, rel string) agent.Event {
	t.Helper()
	ev, err := loadPayload(rel)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("the shared payload corpus is absent (%s): skipping real payloads", filepath.Join(payloadsDir, rel))
	}
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// loadPayload reads a vendor payload and its documented headers.
func loadPayload(rel string) (agent.Event, error) {
	body, err := os.ReadFile(filepath.Join(payloadsDir, rel))
	if err != nil {
		return agent.Event{}, err
	}
	var index map[string]struct {
		Headers map[string]string `json:"headers"`
	}
	b, err := os.ReadFile(filepath.Join(payloadsDir, "headers.json"))
	if err != nil {
		return agent.Event{}, err
	}
	if err := json.Unmarshal(b, &index); err != nil {
		return agent.Event{}, err
	}
	headers := map[string]string{}
	for k, v := range index[rel].Headers {
		if strings.HasPrefix(k, "<") || strings.Contains(strings.ToLower(k), "signature") || strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "X-Gitlab-Token") {
			continue // credentials are removed before an event is stored
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	return agent.Event{ID: rel, Webhook: "hook", ContentType: headers["Content-Type"], Headers: headers, Body: body}, nil
}

// diff is "" when want and got are deeply equal, else both, one per line.
// (go-cmp is not among the module's dependencies.)
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want %+v\ngot  %+v", want, got)
}
