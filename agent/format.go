package agent

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/herald-relay/herald/locales"
)

// Limits of the formatter's output, in runes. Render enforces Telegram's
// limit on the whole message; these keep one long field from crowding out
// the rest.
const (
	maxTitle      = 256
	maxSummary    = 1500
	maxFactLabel  = 64
	maxFactValue  = 300
	maxFacts      = 8
	maxAction     = 300
	maxEventName  = 64
	maxSourceName = 64
	maxThread     = 200
)

// defaultBundle is used when a caller passes a nil *locales.Bundle.
var defaultBundle = sync.OnceValue(locales.MustNew)

func bundleOr(b *locales.Bundle) *locales.Bundle {
	if b == nil {
		return defaultBundle()
	}
	return b
}

// payload is an event's body, decoded once: JSON, a form, or text.
type payload struct {
	ev     Event
	root   *node       // parsed JSON; nil when the body is not JSON
	form   []formField // decoded form fields, in order; nil when not a form
	text   string      // the body as clean text when it is neither
	binary bool        // the body is not text at all
}

type formField struct{ key, value string }

// utf8BOM is the UTF-8 encoding of U+FEFF, the byte order mark.
var utf8BOM = []byte("\xef\xbb\xbf")

// decode reads the body: JSON when it parses as JSON whatever its label (a
// form's single payload= field holding JSON included), a form when labelled
// so (urlencoded, or multipart's text parts: Plex, Jotform), else text. A UTF-8 byte order mark before the body, which .NET
// senders write (Azure DevOps), is not part of it (RFC 8259 §8.1 lets a
// reader ignore one).
func decode(ev Event) payload {
	p := payload{ev: ev}
	body := bytes.TrimSpace(bytes.TrimPrefix(ev.Body, utf8BOM))
	mt, params, _ := mime.ParseMediaType(ev.ContentType)
	if len(body) > 0 && (body[0] == '{' || body[0] == '[' || body[0] == '"' || strings.HasSuffix(mt, "json")) {
		if root, err := parseJSON(body); err == nil {
			p.root = root
			return p
		}
	}
	if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		fields, ok := parseForm(string(body))
		if mt == "multipart/form-data" {
			fields, ok = parseMultipart(ev.Body, params["boundary"]) // form.go
		}
		if ok {
			if len(fields) == 1 && fields[0].key == "payload" {
				if root, err := parseJSON([]byte(fields[0].value)); err == nil {
					p.root = root
					return p
				}
			}
			p.form = fields
			return p
		}
	}
	if looksBinary(body) {
		p.binary = true
		return p
	}
	p.text = clean(string(body))
	return p
}

// parseForm decodes a urlencoded body keeping the order of its fields.
func parseForm(s string) ([]formField, bool) {
	var out []formField
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		out = append(out, formField{key: key, value: val})
	}
	return out, len(out) > 0
}

// looksBinary reports a body that is not meant to be read as text: NUL bytes
// or much invalid UTF-8.
func looksBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	if utf8.Valid(b) {
		return false
	}
	bad, total := 0, len(b)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			bad++
		}
		b = b[size:]
	}
	return bad*3 > total // a third: Latin-1 text has a few, random bytes half
}

// header returns a header of the event, whatever case the caller stored it in.
func (e Event) header(name string) string {
	if v, ok := e.Headers[http.CanonicalHeaderKey(name)]; ok {
		return v
	}
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// formatter holds what every sender's formatting needs.
type formatter struct {
	l *locales.Localizer
	p payload
}

// Format is the built-in formatter: it turns an event into a notification
// in lang ("en", "ru"; others fall back to English) without any network. It
// recognizes GitHub, GitLab, Stripe, Alertmanager, Grafana and Sentry by
// their headers and shapes, and flattens any other JSON, form or text body
// into its most telling fields. Credentials are masked.
func Format(ev Event, lang string, loc *locales.Bundle) Notification {
	n, _, _ := format(ev, lang, loc)
	return n
}

// format is Format, also returning the decoded payload and its sender.
func format(ev Event, lang string, loc *locales.Bundle) (Notification, payload, sender) {
	f := &formatter{l: bundleOr(loc).For(lang), p: decode(ev)}
	s := detect(f.p)
	n := s.format(f)
	n.Source, n.Event = s.source, s.event
	if n.Source == "" {
		n.Source = ev.Webhook
	}
	n.Action = f.todo(n) // action.go
	n.Lang = f.l.Lang()
	n.ByLLM = false
	return tidy(n), f.p, s
}

// tidy cleans and clamps every field, drops empty facts and unusable links,
// and defaults the importance.
func tidy(n Notification) Notification {
	n.Source = clamp(oneLine(n.Source), maxSourceName)
	n.Event = clamp(oneLine(n.Event), maxEventName)
	n.Title = clamp(oneLine(n.Title), maxTitle)
	n.Summary = clamp(clean(n.Summary), maxSummary)
	n.Action = clamp(oneLine(n.Action), maxAction)
	n.Thread = clamp(oneLine(n.Thread), maxThread)
	facts := n.Facts[:0:0]
	for _, fc := range n.Facts {
		fc.Label = clamp(oneLine(fc.Label), maxFactLabel)
		fc.Value = clamp(oneLine(fc.Value), maxFactValue)
		if fc.Value != "" {
			facts = append(facts, fc)
		}
	}
	n.Facts = facts
	if !isWebURL(n.Link) {
		n.Link = ""
	}
	switch n.Importance {
	case ImportanceLow, ImportanceNormal, ImportanceHigh:
	default:
		n.Importance = ImportanceNormal
	}
	return n
}

// isWebURL reports an absolute http(s) URL with a host and no credentials in
// it, the only kind a link button may carry.
func isWebURL(s string) bool {
	if s == "" || len(s) > 2048 || strings.ContainsAny(s, " \t\n<>\"") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return maskText(s) == s
}

// firstURL is the first of candidates that can be a link button.
func firstURL(candidates ...string) string {
	for _, c := range candidates {
		if c = strings.TrimSpace(c); isWebURL(c) {
			return c
		}
	}
	return ""
}

// factList collects facts, skipping empty values.
type factList []Fact

func (fl *factList) add(label, value string) {
	if value = strings.TrimSpace(value); value != "" && value != "null" {
		*fl = append(*fl, Fact{Label: label, Value: value})
	}
}

// yesNo is a localized boolean.
func (f *formatter) yesNo(b bool) string {
	if b {
		return f.l.T("agent.yes", nil)
	}
	return f.l.T("agent.no", nil)
}
