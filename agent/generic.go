package agent

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// genericSender covers every sender the formatter does not know: any JSON,
// a form or text, named after the webhook.
func genericSender(p payload) sender {
	ev, _ := genericEvent(p)
	return sender{event: ev, format: genericFormat}
}

// fold lowercases a key and drops everything but letters and digits, so that
// "event_type", "eventType" and "Event-Type" compare equal.
func fold(key string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Keys that name what happened, what it is called and what it says, folded,
// in order of preference.
var (
	eventKeys   = []string{"event", "eventtype", "eventname", "type", "action", "kind", "topic", "objectkind", "trigger", "command"}
	titleKeys   = []string{"title", "subject", "headline"}
	summaryKeys = []string{"message", "text", "summary", "description", "body", "content", "details", "msg"}
	levelKeys   = []string{"severity", "level", "priority", "urgency", "status", "state"}
)

// eventName accepts a value as an event name when it is short and one line.
func eventName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > maxEventName || strings.ContainsAny(s, "\n\r") {
		return "", false
	}
	return s, true
}

// genericEvent finds the event name and the key path it came from.
func genericEvent(p payload) (name, path string) {
	if p.form != nil {
		for _, want := range eventKeys {
			for _, fld := range p.form {
				if fold(fld.key) == want {
					if s, ok := eventName(fld.value); ok {
						return s, fld.key
					}
				}
			}
		}
		return "", ""
	}
	obj := genericObject(p.root)
	if obj == nil {
		return "", ""
	}
	for _, want := range eventKeys {
		for i, k := range obj.keys {
			if fold(k) != want {
				continue
			}
			v := obj.vals[i]
			if v.kind == kindString {
				if s, ok := eventName(v.s); ok {
					return s, k
				}
			}
			if v.kind == kindObject { // {"event": {"event_type": "incident.triggered", …}}
				for _, inner := range []string{"event_type", "eventType", "type", "name", "kind"} {
					if s, ok := eventName(v.str(inner)); ok && v.get(inner).kind == kindString {
						return s, k + "." + inner
					}
				}
			}
		}
	}
	return "", ""
}

// genericObject is the object the generic formatter reads: the root, or the
// first element of a root array of objects.
func genericObject(root *node) *node {
	if root == nil {
		return nil
	}
	if root.kind == kindArray && len(root.vals) > 0 && root.vals[0].kind == kindObject {
		return root.vals[0]
	}
	if root.kind == kindObject {
		return root
	}
	return nil
}

// genericFormat flattens a payload into its most telling fields.
func genericFormat(f *formatter) Notification {
	p := f.p
	var n Notification
	switch {
	case len(strings.TrimSpace(string(p.ev.Body))) == 0:
		n.Summary = f.l.T("agent.empty_body", nil)
	case p.binary:
		n.Summary = f.l.N("agent.binary_body", len(p.ev.Body), nil)
	case p.root != nil && genericObject(p.root) == nil:
		n.Summary = scalarText(f, p.root)
	case p.root != nil || p.form != nil:
		n = f.flatten()
	default:
		text := maskText(p.text)
		if title, rest, ok := strings.Cut(text, "\n"); ok && utf8.RuneCountInString(title) <= 80 && strings.TrimSpace(rest) != "" {
			n.Title, n.Summary = title, strings.TrimSpace(rest)
		} else {
			n.Summary = text
		}
	}
	if n.Importance == "" {
		n.Importance = ImportanceNormal
	}
	return n
}

// scalarText shows a JSON body that is a bare value or an array of values.
func scalarText(f *formatter, root *node) string {
	switch root.kind {
	case kindArray:
		var vals []string
		for _, v := range root.vals {
			if v.scalar() {
				vals = append(vals, maskText(v.s))
			}
		}
		return joinNonEmpty("\n", f.l.N("agent.items", len(root.vals), nil), strings.Join(vals, ", "))
	case kindBool:
		return f.yesNo(root.s == "true")
	case kindNull:
		return "null"
	}
	return maskText(root.s)
}

// leaf is one field of a flattened payload.
type leaf struct {
	path   string // the label: "customer.name"
	key    string // the last key
	value  string // as shown, masked when sensitive
	node   *node
	depth  int
	order  int
	score  int
	masked bool
}

// maxDepth is how deep the flattener looks into nested objects.
const maxDepth = 3

// flatten picks an event's most telling fields: short scalar values near the
// top, named like something people care about; URLs become the link, ids
// that look like noise are skipped, credentials are masked, and the rest is
// counted in "…and N more fields".
func (f *formatter) flatten() Notification {
	p := f.p
	var n Notification
	_, eventPath := genericEvent(p)
	var leaves []leaf
	hidden := 0 // fields not worth a fact, counted in "N more"
	add := func(lf leaf) {
		lf.order = len(leaves)
		leaves = append(leaves, lf)
	}
	var walk func(obj *node, prefix string, depth int)
	walk = func(obj *node, prefix string, depth int) {
		for i, k := range obj.keys {
			v := obj.vals[i]
			path := joinNonEmpty(".", prefix, k)
			switch {
			case v.empty():
			case sensitiveKey(k) && v.kind != kindBool:
				add(leaf{path: path, key: k, value: Masked, depth: depth, masked: true})
			case v.kind == kindObject && depth+1 >= maxDepth:
				hidden++
			case v.kind == kindObject:
				walk(v, path, depth+1)
			case v.kind == kindArray:
				add(leaf{path: path, key: k, value: f.arrayValue(v), node: v, depth: depth})
			case v.kind == kindBool:
				add(leaf{path: path, key: k, value: f.yesNo(v.s == "true"), node: v, depth: depth})
			default:
				add(leaf{path: path, key: k, value: maskText(v.s), node: v, depth: depth})
			}
		}
	}
	obj := genericObject(p.root)
	if obj != nil {
		if p.root.kind == kindArray {
			n.Summary = f.l.N("agent.items", len(p.root.vals), nil)
		}
		// {"event": {…}} and alike: the wrapper's name adds nothing to labels.
		prefix := ""
		for len(obj.keys) == 1 && obj.vals[0].kind == kindObject {
			prefix = joinNonEmpty(".", prefix, obj.keys[0])
			obj = obj.vals[0]
		}
		eventPath = strings.TrimPrefix(strings.TrimPrefix(eventPath, prefix), ".")
		walk(obj, "", 0)
	} else {
		for _, fld := range p.form {
			if strings.TrimSpace(fld.value) == "" {
				continue
			}
			if sensitiveKey(fld.key) {
				add(leaf{path: fld.key, key: fld.key, value: Masked, masked: true})
				continue
			}
			add(leaf{path: fld.key, key: fld.key, value: maskText(fld.value), node: &node{kind: kindString, s: fld.value}})
		}
	}

	// The event, the title and the summary are shown already; the first of
	// each kind found at the top is taken.
	taken := map[string]bool{eventPath: true}
	pick := func(keys []string, maxDepth, maxRunes int) string {
		for _, want := range keys {
			for _, lf := range leaves {
				if lf.depth <= maxDepth && !lf.masked && !taken[lf.path] && fold(lf.key) == want && lf.node != nil &&
					lf.node.kind == kindString && !isWebURL(lf.value) {
					taken[lf.path] = true
					return clamp(lf.value, maxRunes)
				}
			}
		}
		return ""
	}
	n.Title = pick(titleKeys, 1, maxTitle)
	n.Summary = joinNonEmpty("\n", n.Summary, pick(summaryKeys, 0, maxSummary))
	for _, want := range levelKeys {
		for _, lf := range leaves {
			if lf.depth == 0 && fold(lf.key) == want && lf.node != nil && lf.node.scalar() {
				if imp := importanceOf(lf.node.s); imp != ImportanceNormal && n.Importance == "" {
					n.Importance = imp
				}
			}
		}
	}

	var candidates []leaf
	var link leaf
	linkScore := -1 << 30
	for _, lf := range leaves {
		if taken[lf.path] {
			continue
		}
		if lf.node != nil && lf.node.kind == kindString && looksLikeURL(lf.value) {
			if s := urlScore(lf); isWebURL(lf.value) && s > linkScore {
				link, linkScore = lf, s
			}
			continue
		}
		if !lf.masked && noisy(lf) {
			hidden++
			continue
		}
		lf.score = factScore(lf)
		candidates = append(candidates, lf)
	}
	for _, lf := range leaves {
		if !taken[lf.path] && lf.node != nil && lf.node.kind == kindString && looksLikeURL(lf.value) && lf.path != link.path {
			hidden++
		}
	}
	n.Link = link.value

	chosen := candidates
	if len(chosen) > maxFacts {
		chosen = append([]leaf(nil), candidates...)
		sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].score > chosen[j].score })
		chosen = chosen[:maxFacts]
		sort.Slice(chosen, func(i, j int) bool { return chosen[i].order < chosen[j].order })
	}
	hidden += len(candidates) - len(chosen)
	for _, lf := range chosen {
		n.Facts = append(n.Facts, Fact{Label: lf.path, Value: lf.value})
	}
	if hidden > 0 {
		n.Facts = append(n.Facts, Fact{Value: f.l.N("agent.more_fields", hidden, nil)})
	}
	return n
}

// arrayValue shows an array as one value: scalars joined, objects counted.
func (f *formatter) arrayValue(v *node) string {
	var vals []string
	for _, item := range v.vals {
		if !item.scalar() {
			return f.l.N("agent.items", len(v.vals), nil)
		}
		if len(vals) == 5 {
			vals = append(vals, "…")
			break
		}
		vals = append(vals, maskText(item.s))
	}
	return strings.Join(vals, ", ")
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// urlScore prefers a URL meant for people (html_url, link) near the top over
// API endpoints and pictures.
func urlScore(lf leaf) int {
	s := -lf.depth * 10
	switch fold(lf.key) {
	case "htmlurl", "weburl", "permalink", "link", "url", "href", "dashboardurl":
		s += 20
	}
	k := strings.ToLower(lf.key)
	if strings.Contains(k, "avatar") || strings.Contains(k, "icon") || strings.Contains(k, "image") ||
		strings.Contains(k, "logo") || strings.Contains(k, "callback") || strings.Contains(k, "webhook") {
		s -= 50
	}
	if strings.Contains(lf.value, "://api.") || strings.Contains(lf.value, "/api/") {
		s -= 30
	}
	for _, w := range keyWords(lf.path) { // a person's profile is rarely the point
		switch w {
		case "agent", "user", "sender", "actor", "author", "owner", "creator", "assignee", "reporter":
			s -= 15
		}
	}
	return s
}

var (
	uuidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexRE       = regexp.MustCompile(`^[0-9a-fA-F]{16,}$`)
	tokenlikeRE = regexp.MustCompile(`^[A-Za-z0-9_+/=-]{20,}$`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)
	noiseKeys   = map[string]bool{
		"nodeid": true, "etag": true, "fingerprint": true, "checksum": true, "hash": true, "sha": true,
		"nonce": true, "requestid": true, "traceid": true, "spanid": true, "gravatarid": true,
		"idempotencykey": true, "object": true, "apiversion": true, "livemode": true,
	}
)

// noisy reports a field that tells a person nothing: hashes, UUIDs, opaque
// tokens, bookkeeping keys.
func noisy(lf leaf) bool {
	if noiseKeys[fold(lf.key)] {
		return true
	}
	v := lf.value
	if uuidRE.MatchString(v) || hexRE.MatchString(v) {
		return true
	}
	if tokenlikeRE.MatchString(v) && strings.ContainsAny(v, "0123456789") && strings.IndexFunc(v, unicode.IsLetter) >= 0 {
		return true
	}
	return false
}

// tellingWords are key words of fields people look for first.
var tellingWords = map[string]bool{
	"name": true, "title": true, "status": true, "state": true, "amount": true, "total": true,
	"price": true, "sum": true, "cost": true, "customer": true, "user": true, "username": true,
	"email": true, "phone": true, "order": true, "error": true, "reason": true, "severity": true,
	"level": true, "priority": true, "environment": true, "env": true, "repository": true,
	"repo": true, "project": true, "branch": true, "version": true, "count": true, "quantity": true,
	"qty": true, "currency": true, "result": true, "plan": true, "product": true, "host": true,
	"service": true, "author": true, "city": true, "country": true, "message": true,
}

// timeWords are key words of timestamps, which tell less than they take.
var timeWords = map[string]bool{
	"at": true, "time": true, "date": true, "timestamp": true, "created": true, "updated": true,
	"modified": true, "ts": true, "since": true, "until": true,
}

// factScore ranks a field: near the top, short, named like something that
// matters; booleans, timestamps and masked values last.
func factScore(lf leaf) int {
	s := 100 - lf.depth*25
	switch r := utf8.RuneCountInString(lf.value); {
	case r <= 40:
		s += 10
	case r > 120:
		s -= 25
	}
	for _, w := range keyWords(lf.key) {
		if tellingWords[w] {
			s += 20
			break
		}
	}
	if lf.node != nil && lf.node.kind == kindBool {
		s -= 20
	}
	for _, w := range keyWords(lf.key) {
		if timeWords[w] {
			s -= 15
			break
		}
	}
	if timestampRE.MatchString(lf.value) {
		s -= 15
	}
	if lf.value == "0" || lf.value == "0.0" {
		s -= 15
	}
	// A nested object's own id and type are bookkeeping; the top level's are
	// what the sender chose to say.
	if k := fold(lf.key); lf.depth > 0 && (k == "id" || k == "type" || k == "object" || k == "self") {
		s -= 20
	}
	if lf.masked {
		s -= 30
	}
	return s
}
