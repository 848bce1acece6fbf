package agent

import (
	"strings"

	"github.com/herald-relay/herald/locales"
)

// MaxMessageLen is Telegram's limit on a message's text after entity
// parsing, in UTF-16 code units.
// Specs: https://core.telegram.org/bots/api#sendmessage
const MaxMessageLen = 4096

// Message is what is sent to Telegram.
type Message struct {
	HTML                string // text for parse_mode HTML
	LinkURL             string // when set, the sender adds an inline-keyboard URL button to it
	LinkText            string // the button's label, localized ("Open")
	DisableNotification bool   // a low-importance notification arrives silently
	// Done asks for a Done button (callback data "done") beside the link:
	// the notification carries an action item, a task until someone
	// presses it (SPEC §10). DoneText is its label, localized.
	Done     bool
	DoneText string
}

// Render limits per field, in runes, so that one long value cannot push the
// rest of a message past the limit.
const (
	renderMaxHeader  = 200
	renderMaxTitle   = 300
	renderMaxSummary = 3500
	renderMaxLabel   = 100
	renderMaxValue   = 600
	renderMaxAction  = 600
)

// span is a run of text, bold or plain; a rendered message is a list of spans.
type span struct {
	bold bool
	text string // plain text, escaped only when the HTML is written
}

// Render turns a notification into Telegram HTML (parse_mode HTML): the
// first line "<b>Source · Event</b>", then the title and summary, facts as
// "Label: value" lines, and the action item (with a Done button: Done).
// Render escapes every field
// itself, uses only the &lt; &gt; &amp; &quot; entities and the b tag, and
// keeps the visible text within MaxMessageLen UTF-16 code units, cutting at
// a clean boundary with "…". LinkURL is set when Link is an http(s) URL;
// DisableNotification when Importance is low.
func Render(n Notification, loc *locales.Bundle) Message {
	l := bundleOr(loc).For(n.Lang)
	var spans []span
	text := func(s string) { spans = append(spans, span{text: s}) }
	bold := func(s string) { spans = append(spans, span{bold: true, text: s}) }

	header := joinNonEmpty(" · ", oneLine(n.Source), oneLine(n.Event))
	if header == "" {
		header = "Herald"
	}
	bold(clamp(header, renderMaxHeader))
	if t := clamp(oneLine(n.Title), renderMaxTitle); t != "" {
		text("\n" + t)
	}
	if s := clamp(clean(n.Summary), renderMaxSummary); s != "" && s != oneLine(n.Title) {
		text("\n" + s)
	}
	var facts []string
	for _, fc := range n.Facts {
		label, value := clamp(oneLine(fc.Label), renderMaxLabel), clamp(oneLine(fc.Value), renderMaxValue)
		switch {
		case value == "":
		case label == "":
			facts = append(facts, value)
		default:
			facts = append(facts, label+": "+value)
		}
	}
	// A blank line sets the facts and the action apart from the text above,
	// when there is text above.
	gap := "\n"
	if len(spans) > 1 {
		gap = "\n\n"
	}
	if len(facts) > 0 {
		text(gap + strings.Join(facts, "\n"))
		gap = "\n\n"
	}
	if a := clamp(oneLine(n.Action), renderMaxAction); a != "" {
		text(gap)
		bold(l.T("agent.action", nil))
		text(" " + a)
	}

	m := Message{HTML: writeSpans(fitSpans(spans, MaxMessageLen))}
	if link := strings.TrimSpace(n.Link); isWebURL(link) {
		m.LinkURL = link
		m.LinkText = l.T("agent.open", nil)
	}
	m.DisableNotification = n.Importance == ImportanceLow
	if oneLine(n.Action) != "" {
		m.Done, m.DoneText = true, l.T("task.button", nil)
	}
	return m
}

// fitSpans cuts the spans so that their text fits in max UTF-16 code units,
// the last kept span ending with "…".
func fitSpans(spans []span, max int) []span {
	total := 0
	for _, s := range spans {
		total += utf16Len(s.text)
	}
	if total <= max {
		return spans
	}
	used := 0
	for i, s := range spans {
		w := utf16Len(s.text)
		if used+w < max { // strictly less: "…" must fit after it if the next span is cut to nothing
			used += w
			continue
		}
		cut := cutUTF16(s.text, max-used)
		if strings.TrimSpace(strings.TrimSuffix(cut, "…")) == "" {
			// Nothing of this span fits: end the previous one instead.
			out := append([]span(nil), spans[:i]...)
			if len(out) > 0 {
				last := &out[len(out)-1]
				last.text = cutUTF16(last.text+" ", utf16Len(last.text)) // room for "…"
			}
			return out
		}
		out := append([]span(nil), spans[:i]...)
		return append(out, span{bold: s.bold, text: cut})
	}
	return spans
}

func writeSpans(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.bold {
			b.WriteString("<b>" + escape(s.text) + "</b>")
		} else {
			b.WriteString(escape(s.text))
		}
	}
	return b.String()
}

// htmlUnescaper undoes escape and drops the b tag: the only markup Render
// writes.
var htmlUnescaper = strings.NewReplacer("<b>", "", "</b>", "", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&amp;", "&")

// Text is the message as a reader sees it in Telegram, without markup.
func (m Message) Text() string { return htmlUnescaper.Replace(m.HTML) }
