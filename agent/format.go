package agent

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/herald-relay/herald/body"
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
	kind   body.Kind
	root   *node       // parsed JSON; nil when the body is not JSON
	form   []formField // decoded form fields, in order; nil when not a form
	fields *node       // the form read as a tree (PHP-style keys as structure); nil when not a form
	text   string      // the body as clean text when it is neither
	binary bool        // the body is not text at all
}

type formField struct{ key, value string }

// tree is what the formatters read: the JSON, or the form as the same kind
// of tree ({leads.add.0.name}); nil for text.
func (p payload) tree() *node {
	if p.root != nil {
		return p.root
	}
	return p.fields
}

// decode reads the body as body.Classify decides, the way ingest did: JSON,
// a form (its single payload= field holding JSON, as GitHub and Plex send,
// read as that JSON; multipart's text parts count as a form), binary, or
// text; a UTF-8 byte order mark before it skipped.
func decode(ev Event) payload {
	p := payload{ev: ev}
	c := body.ClassifyWith(ev.ContentType, ev.Body, p.validJSON)
	p.kind = c.Kind
	var fields []formField
	// multipart/form-data's text parts are a form too (Plex sends its JSON
	// in a "payload" part beside a JPEG, Jotform a "rawRequest" part).
	if mt, params, err := mime.ParseMediaType(ev.ContentType); err == nil && mt == "multipart/form-data" {
		if mf, ok := parseMultipart(ev.Body, params["boundary"]); ok { // form.go
			p.root, p.kind, c.Kind, fields = nil, body.Form, body.Form, mf
		}
	}
	switch c.Kind {
	case body.JSON:
		return p
	case body.Form:
		if fields == nil {
			fields = parseForm(string(bytes.TrimSpace(body.TrimBOM(ev.Body))))
		}
		if len(fields) == 1 && fields[0].key == "payload" {
			if body.ClassifyWith("", []byte(fields[0].value), p.validJSON).Kind == body.JSON {
				p.kind = body.JSON
				return p
			}
		}
		p.form, p.fields = fields, formTree(fields)
		return p
	case body.Binary:
		p.root, p.binary = nil, true
		return p
	}
	p.root = nil
	p.text = clean(string(ev.Body))
	return p
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
