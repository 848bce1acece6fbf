package agent

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	path    []string // body path; empty for the value itself
	filters []string
}

// templateFilters are the filters a placeholder may use.
var templateFilters = map[string]bool{
	"branch": true, "short": true, "line": true, "count": true, "len": true, "upper": true,
	"lower": true, "human": true, "time": true, "duration": true, "host": true, "status": true,
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
			end := strings.IndexByte(s[i:], '}')
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

func parsePlaceholder(s string) (*placeholder, error) {
	fields := strings.Split(s, "|")
	ref := strings.TrimSpace(fields[0])
	ph := &placeholder{}
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
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
	}
	return ph, nil
}

// parsePath splits a dotted body path, refusing empty steps.
func parsePath(s string) ([]string, error) {
	if s == "" || strings.ContainsAny(s, " \t\n{}") {
		return nil, fmt.Errorf("bad path %q", s)
	}
	path := strings.Split(s, ".")
	for _, p := range path {
		if p == "" {
			return nil, fmt.Errorf("empty step in path %q", s)
		}
	}
	return path, nil
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
// credential's key gives Masked, and credential-shaped text is masked.
func (x *scope) value(ph *placeholder) string {
	var s string
	if ph.header != "" {
		if sensitiveKey(ph.header) {
			return Masked
		}
		s = strings.TrimSpace(x.ev.header(ph.header))
	} else {
		n := x.root.get(ph.path...)
		if n == nil || n.kind == kindNull {
			return ""
		}
		if len(ph.path) > 0 && sensitiveKey(ph.path[len(ph.path)-1]) && !n.empty() {
			return Masked
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
		s = x.filter(f, s)
	}
	return maskText(s)
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
	if len(ph.path) > 0 && countNouns[strings.ToLower(ph.path[len(ph.path)-1])] {
		noun = strings.ToLower(ph.path[len(ph.path)-1])
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
		return humanize(s)
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
	case "status":
		return x.f.status(s)
	}
	return s
}
