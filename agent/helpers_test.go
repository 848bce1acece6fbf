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
	"unicode/utf8"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/locales"
)

var bundle = locales.MustNew()

// telegramTags are the tags Render may use.
var telegramTags = map[string]bool{"b": true, "i": true, "code": true, "pre": true, "a": true, "blockquote": true}

// parseTelegramHTML checks s the way Telegram's HTML parse mode reads it —
// only known tags, properly nested; only the &lt; &gt; &amp; &quot;
// entities; no bare < or > — and returns the visible text.
func parseTelegramHTML(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errors.New("invalid UTF-8")
	}
	var text strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unterminated tag at %d", i)
			}
			tag := s[i+1 : i+end]
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("unbalanced </%s> at %d", name, i)
				}
				stack = stack[:len(stack)-1]
			} else {
				name, _, _ := strings.Cut(tag, " ")
				if !telegramTags[name] {
					return "", fmt.Errorf("tag <%s> at %d", tag, i)
				}
				stack = append(stack, name)
			}
			i += end + 1
		case '&':
			found := false
			for ent, r := range map[string]string{"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": `"`} {
				if strings.HasPrefix(s[i:], ent) {
					text.WriteString(r)
					i += len(ent)
					found = true
					break
				}
			}
			if !found {
				return "", fmt.Errorf("bare & or unknown entity at %d: %.10q", i, s[i:])
			}
		case '>':
			return "", fmt.Errorf("bare > at %d", i)
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			text.WriteString(s[i : i+size])
			i += size
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("unclosed <%s>", stack[len(stack)-1])
	}
	return text.String(), nil
}

// visible parses a rendered message, failing the test when Telegram would
// reject it.
func visible(t *testing.T, html string) string {
	t.Helper()
	text, err := parseTelegramHTML(html)
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
func realPayload(t *testing.T, rel string) agent.Event {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(payloadsDir, rel))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("the shared payload corpus is absent (%s): skipping real payloads", filepath.Join(payloadsDir, rel))
	}
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]struct {
		Headers map[string]string `json:"headers"`
	}
	b, err := os.ReadFile(filepath.Join(payloadsDir, "headers.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k, v := range index[rel].Headers {
		if strings.HasPrefix(k, "<") || strings.Contains(strings.ToLower(k), "signature") || strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "X-Gitlab-Token") {
			continue // credentials are removed before an event is stored
		}
		headers[http.CanonicalHeaderKey(k)] = v
	}
	return agent.Event{ID: rel, Webhook: "hook", ContentType: headers["Content-Type"], Headers: headers, Body: body}
}

// diff is "" when want and got are deeply equal, else both, one per line.
// (go-cmp is not among the module's dependencies.)
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("want %+v\ngot  %+v", want, got)
}
