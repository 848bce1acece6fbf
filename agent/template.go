package agent

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/herald-relay/herald/locales"
)

// A catalogue template is text with placeholders: "{sender.login} pushed
// {commits|count} to {ref|branch}". A placeholder is a dotted path into the
// body ("a.b.0.c"; "." is the value itself, for a list's items) or a header
// ("header:X-Gitea-Event"), followed by filters. A template any of whose
// placeholders comes out empty is not used: the next candidate is tried.
// "{{" and "}}" are literal braces. The syntax is the contract in
// /work/coord/CATALOGUE_FORMAT.md.

// tmpl is a parsed template.
type tmpl struct {
	src   string
	parts []tpart
}

// tpart is literal text or a placeholder.
type tpart struct {
	lit string
	ph  *placeholder
}

// placeholder is one {…} of a template.
type placeholder struct {
	header  string   // canonical header name; "" for a body path
	path    bodyPath // body path; no step for the value itself
	filters []string
	re      *regexp.Regexp // the regexp of a last |re: filter
	secret  bool           // the header or the path's last key names a credential
}

// templateFilters are the filters a placeholder may use.
var templateFilters = map[string]bool{
	"branch": true, "short": true, "line": true, "count": true, "len": true, "upper": true,
	"lower": true, "human": true, "time": true, "duration": true, "host": true, "status": true,
	"unhtml": true, "bytes": true,
}

// catalogueStatus are the status words {value|status} translates beyond
// the built-in senders' (statusWords), by their spellings folded to lower
// case with "_" for spaces and dashes ("Not Responding", "partiallySucceeded",
// "past-due"); locales/catalogue.*.toml has each key as
// catalogue.status.<key>.
var catalogueStatus = map[string]string{
	"stopped": "stopped", "aborted": "aborted", "unstable": "unstable", "not_built": "not_built",
	"ready": "ready", "declined": "declined", "active": "active",
	"partially_succeeded": "partially_succeeded", "partiallysucceeded": "partially_succeeded",
	"paid": "paid", "refunded": "refunded", "partially_refunded": "partially_refunded",
	"partiallyrefunded": "partially_refunded", "authorized": "authorized", "authorised": "authorized",
	"captured": "captured", "approved": "approved", "processing": "processing", "on_hold": "on_hold",
	"onhold": "on_hold", "expired": "expired", "voided": "voided", "disputed": "disputed",
	"chargeback": "chargeback", "charged_back": "chargeback", "past_due": "past_due",
	"pastdue": "past_due", "trialing": "trialing", "trial": "trialing", "down": "down", "up": "up",
	"firing": "firing", "resolved": "resolved", "acknowledged": "acknowledged",
	"acked": "acknowledged", "triggered": "triggered", "alerting": "alerting", "silenced": "silenced",
	"investigating": "investigating", "identified": "identified", "monitoring": "monitoring",
	"postmortem": "postmortem", "operational": "operational",
	"degraded_performance": "degraded_performance", "partial_outage": "partial_outage",
	"major_outage": "major_outage", "under_maintenance": "under_maintenance", "none": "none",
	"minor": "minor", "major": "major", "critical": "critical", "available": "available",
	"not_responding": "not_responding", "reporting_error": "reporting_error", "ignored": "ignored",
	"accepted": "accepted", "rejected": "rejected", "awaiting_host": "awaiting_host",
}

// byteUnits are the units of |bytes, by language: 1024 of one is the next.
var byteUnits = map[string][]string{
	"en": {"B", "KB", "MB", "GB", "TB", "PB", "EB"},
	"ru": {"Б", "КБ", "МБ", "ГБ", "ТБ", "ПБ", "ЭБ"},
}

// formatBytes writes a size in bytes with the largest unit it has at least
// one of, in 1024s as Radarr, Sonarr and file managers count: "2.0 GB"
// (one decimal under 10), "15 GB", "512 B"; Russian "2.0 ГБ".
func formatBytes(b uint64, lang string) string {
	u, ok := byteUnits[lang]
	if !ok {
		u = byteUnits["en"]
	}
	v, i := float64(b), 0
	for v >= 1024 && i < len(u)-1 {
		v /= 1024
		i++
	}
	if math.Round(v) >= 1024 && i < len(u)-1 { // 1023.9 KB reads 1.0 MB
		v /= 1024
		i++
	}
	switch {
	case i == 0:
		return strconv.FormatUint(b, 10) + " " + u[0]
	case v < 9.95:
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + u[i]
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + " " + u[i]
}

// htmlTag matches an HTML tag, for |unhtml.
var htmlTag = regexp.MustCompile(`<[a-zA-Z/!][^<>]{0,500}>`)

// humanCamel splits the camelCase words of s into lower-case words
// ("NewErrorOccurred" is "new error occurred", "LessThanOrEqual" "less than
// or equal"); words without a hump ("SCANNING", "v1", "ok") stay as written.
func humanCamel(s string) string {
	words := strings.Fields(s)
	changed := false
	for i, w := range words {
		hump, plain := false, true
		for j, r := range w {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				plain = false
				break
			}
			if j > 0 && unicode.IsUpper(r) {
				prev, _ := utf8.DecodeLastRuneInString(w[:j])
				hump = hump || unicode.IsLower(prev)
			}
		}
		if hump && plain {
			words[i], changed = strings.Join(keyWords(w), " "), true
		}
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// statusKey folds a status word as catalogueStatus spells it.
func statusKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-':
			return '_'
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, strings.TrimSpace(s))
}

// maxTemplate bounds a template's source, so that the catalogue stays data
// a reviewer can read.
const maxTemplate = 500

// parseTemplate parses a template, refusing unbalanced braces, empty or
// malformed placeholders and unknown filters.
func parseTemplate(s string) (*tmpl, error) {
	if len(s) > maxTemplate {
		return nil, fmt.Errorf("template longer than %d bytes", maxTemplate)
	}
	t := &tmpl{src: s}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte(c)
			i++
		case c == '}':
			return nil, fmt.Errorf("template %q: unmatched }", s)
		case c == '{':
			end := placeholderEnd(s[i:])
			if end < 0 {
				return nil, fmt.Errorf("template %q: unclosed {", s)
			}
			ph, err := parsePlaceholder(s[i+1 : i+end])
			if err != nil {
				return nil, fmt.Errorf("template %q: %w", s, err)
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tpart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tpart{ph: ph})
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tpart{lit: lit.String()})
	}
	return t, nil
}

// placeholderEnd is the index of the "}" that closes the placeholder s
// starts with, -1 when none does. A quoted step ["…"] may hold braces and
// bars; the regexp of a last |re: filter may hold bars and balanced braces
// ("{2}"), and a brace escaped with a backslash.
func placeholderEnd(s string) int {
	depth, inRe := 0, false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case inRe && c == '\\':
			i++
		case inRe && c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case c == '}':
			return i
		case inRe:
		case strings.HasPrefix(s[i:], "|re:"):
			inRe = true
			i += 3
		case strings.HasPrefix(s[i:], `["`):
			end := strings.Index(s[i+2:], `"]`)
			if end < 0 {
				return -1
			}
			i += end + 3
		}
	}
	return -1
}

// splitFilters splits a placeholder at the bars outside quoted steps; a
// re: filter is the last, its regexp the rest of the placeholder.
func splitFilters(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '|':
			out = append(out, s[start:i])
			start = i + 1
			if strings.HasPrefix(s[start:], "re:") {
				return append(out, s[start:])
			}
		case strings.HasPrefix(s[i:], `["`):
			if end := strings.Index(s[i+2:], `"]`); end >= 0 {
				i += end + 3
			}
		}
	}
	return append(out, s[start:])
}

func parsePlaceholder(s string) (*placeholder, error) {
	fields := splitFilters(s)
	ref := strings.TrimSpace(fields[0])
	ph := &placeholder{}
	for _, f := range fields[1:] {
		if expr, ok := strings.CutPrefix(f, "re:"); ok {
			if expr == "" {
				return nil, fmt.Errorf("an empty regexp in {%s}", s)
			}
			re, err := regexp.Compile(expr)
			if err != nil {
				return nil, fmt.Errorf("bad regexp in {%s}: %w", s, err)
			}
			ph.re = re
			ph.filters = append(ph.filters, "re")
			break
		}
		f = strings.TrimSpace(f)
		if n, ok := strings.CutPrefix(f, "pad:"); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
			ph.filters = append(ph.filters, f)
			continue
		}
		if !templateFilters[f] {
			return nil, fmt.Errorf("unknown filter %q in {%s}", f, s)
		}
		if (f == "count" || f == "len") && len(ph.filters) > 0 {
			return nil, fmt.Errorf("filter %q must come first in {%s}", f, s)
		}
		ph.filters = append(ph.filters, f)
	}
	switch {
	case ref == "":
		return nil, fmt.Errorf("empty placeholder {%s}", s)
	case strings.HasPrefix(ref, "header:"):
		name := strings.TrimSpace(strings.TrimPrefix(ref, "header:"))
		if !validHeaderName(name) {
			return nil, fmt.Errorf("bad header name in {%s}", s)
		}
		ph.header = http.CanonicalHeaderKey(name)
		ph.secret = sensitiveKey(name)
		if len(ph.filters) > 0 && (ph.filters[0] == "count" || ph.filters[0] == "len") {
			return nil, fmt.Errorf("a header has no items to count in {%s}", s)
		}
	case ref == ".":
	default:
		path, err := parsePath(ref)
		if err != nil {
			return nil, fmt.Errorf("{%s}: %w", s, err)
		}
		ph.path = path
		ph.secret = sensitiveKey(path.last())
	}
	return ph, nil
}

// validHeaderName reports an HTTP token: letters, digits and -_.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// hasHeader reports a template that reads a header.
func (t *tmpl) hasHeader() bool {
	for _, p := range t.parts {
		if p.ph != nil && p.ph.header != "" {
			return true
		}
	}
	return false
}

// scope is what templates and conditions read: the event (headers), the
// body as a tree (JSON, or a form read as one) and the language.
type scope struct {
	ev   Event
	root *node
	l    *locales.Localizer
	f    *formatter // translations of status words
}

// at is the same scope rooted at one of the body's values (a list's item).
func (x *scope) at(n *node) *scope {
	c := *x
	c.root = n
	return &c
}

// eval fills the template; ok is false when a placeholder is empty.
func (t *tmpl) eval(x *scope) (string, bool) {
	if len(t.parts) == 1 && t.parts[0].ph != nil {
		v := x.value(t.parts[0].ph)
		return v, v != ""
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.ph == nil {
			b.WriteString(p.lit)
			continue
		}
		v := x.value(p.ph)
		if v == "" {
			return "", false
		}
		b.WriteString(v)
	}
	return strings.TrimSpace(b.String()), true
}

// first is the first template of ts that fills, "" when none does.
func first(ts []*tmpl, x *scope) string {
	for _, t := range ts {
		if s, ok := t.eval(x); ok && s != "" {
			return s
		}
	}
	return ""
}

// maxJoined is how many scalars of an array a placeholder joins.
const maxJoined = 10

// value is a placeholder's text: the header, or the body value at its path
// (a scalar as written, an array of scalars joined with ", "), filtered. A
// credential's key gives Masked; credential-shaped text is masked in the
// texts the templates make (see variant.format), once per text.
func (x *scope) value(ph *placeholder) string {
	var s string
	if ph.header != "" {
		s = strings.TrimSpace(x.ev.header(ph.header))
		if ph.secret && s != "" {
			return Masked
		}
	} else {
		key, n := ph.path.at(x.root)
		if n == nil || n.kind == kindNull {
			return ""
		}
		if (ph.secret || ph.path.last() == "" && key != "" && sensitiveKey(key)) && !n.empty() {
			return Masked // a path ending in "*" reaches keys it does not name
		}
		if len(ph.filters) > 0 && (ph.filters[0] == "count" || ph.filters[0] == "len") {
			return x.count(n, ph)
		}
		s = nodeText(n)
	}
	for _, f := range ph.filters {
		if s == "" {
			break
		}
		if f == "re" { // masked first: a group must not cut a credential out of its context
			s = capture(ph.re, maskText(s))
			continue
		}
		s = x.filter(f, s)
	}
	return s
}

// capture is what |re: keeps of s: the regexp's first group, or the whole
// match when it has none; "" when it does not match.
func capture(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatchIndex(s)
	switch {
	case m == nil:
		return ""
	case len(m) >= 4 && m[2] >= 0:
		return strings.TrimSpace(s[m[2]:m[3]])
	case len(m) >= 4:
		return "" // the group did not take part in the match
	}
	return strings.TrimSpace(s[m[0]:m[1]])
}

// nodeText is a value as text: a scalar as written, an array of scalars
// joined with ", ", "" for anything else.
func nodeText(n *node) string {
	switch {
	case n.scalar():
		return strings.TrimSpace(n.s)
	case n.kind == kindArray:
		var parts []string
		for _, v := range n.vals {
			if !v.scalar() {
				return ""
			}
			if s := strings.TrimSpace(v.s); s != "" {
				parts = append(parts, s)
			}
			if len(parts) == maxJoined {
				parts = append(parts, "…")
				break
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// count is {path|len} (the number of items or keys) and {path|count} (the
// number with its noun, from the path's last step: "2 commits").
func (x *scope) count(n *node, ph *placeholder) string {
	var c int
	switch n.kind {
	case kindArray, kindObject:
		c = len(n.vals)
	default:
		v, err := strconv.Atoi(strings.TrimSpace(n.s))
		if err != nil || v < 0 {
			return ""
		}
		c = v
	}
	if ph.filters[0] == "len" {
		return strconv.Itoa(c)
	}
	noun := "items"
	if last := strings.ToLower(ph.path.last()); countNouns[last] {
		noun = last
	}
	return x.l.N("catalogue.count."+noun, c, nil)
}

// filter applies one text filter.
func (x *scope) filter(name, s string) string {
	switch name {
	case "branch":
		return strings.TrimPrefix(strings.TrimPrefix(s, "refs/heads/"), "refs/tags/")
	case "short":
		if r := []rune(s); len(r) > 7 {
			return string(r[:7])
		}
	case "line":
		return firstLine(s)
	case "upper":
		return strings.ToUpper(s)
	case "lower":
		return strings.ToLower(s)
	case "human":
		return humanCamel(humanize(s))
	case "time":
		if t, ok := formatTime(s, x.l.Lang()); ok {
			return t
		}
	case "duration":
		if d, ok := parseDuration(s, ""); ok {
			return formatDuration(d, x.l.Lang())
		}
	case "host":
		if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	case "bytes":
		if b, err := strconv.ParseUint(s, 10, 64); err == nil {
			return formatBytes(b, x.l.Lang())
		}
	case "pad:1", "pad:2", "pad:3", "pad:4", "pad:5", "pad:6", "pad:7", "pad:8", "pad:9":
		if isDigits(s) {
			for w := int(name[4] - '0'); len(s) < w; {
				s = "0" + s
			}
		}
		return s
	case "unhtml":
		return strings.Join(strings.Fields(html.UnescapeString(htmlTag.ReplaceAllString(s, " "))), " ")
	case "status":
		if k, ok := catalogueStatus[statusKey(s)]; ok {
			return x.l.T("catalogue.status."+k, nil)
		}
		return x.f.status(s)
	}
	return s
}
