package agent

import (
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The generic formatter reads a payload from a sender Herald does not know
// the way a person skims it: what happened (a header or a key naming the
// event), what it is about (the telling field: a title, a name, a
// subject), then the facts that matter, with labels made of the keys'
// words, money, times, lists and changes written for people, the page to
// open, and whether something failed. It reads JSON and forms alike (a
// form's PHP-style keys are the same tree), follows envelopes down to
// where the content is, and never shows a credential.

// genericSender covers every sender the formatter does not know: any JSON,
// a form or text, named after the webhook.
func genericSender(p payload) sender {
	ev := findEvent(p)
	return sender{event: ev.name, format: genericFormat}
}

// fold lowercases a key and drops everything but letters and digits, so that
// "event_type", "eventType" and "Event-Type" compare equal.
func fold(key string) string {
	ascii, folded := true, true
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 0x80 {
			ascii = false
			break
		}
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			folded = false
		}
	}
	if ascii {
		if folded {
			return key
		}
		b := make([]byte, 0, len(key))
		for i := 0; i < len(key); i++ {
			switch c := key[i]; {
			case c >= 'A' && c <= 'Z':
				b = append(b, c+'a'-'A')
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				b = append(b, c)
			}
		}
		return string(b)
	}
	var b strings.Builder
	for _, r := range strings.ToLower(key) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Keys that name what happened, folded, strongest first. Strong ones are
// looked for at any depth near the top; the others, common words for other
// things too, only at the top of the payload.
var (
	strongEventKeys = []string{"event", "eventtype", "eventname", "eventkey", "webhookevent",
		"triggertype", "notificationtype", "topic"}
	weakEventKeys = []string{"type", "action", "kind", "objectkind", "command"}
)

// eventName accepts a value as an event name when it is short, one line and
// not an identifier or a link.
func eventName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "", utf8.RuneCountInString(s) > maxEventName, strings.ContainsAny(s, "\n\r"),
		looksLikeURL(s), uuidRE.MatchString(s), isDigits(s):
		return "", false
	}
	return s, true
}

// foundEvent is the event of a payload and the values it was read from,
// which are then not shown again as facts.
type foundEvent struct {
	name  string
	nodes []*node
}

// findEvent reads the event from the headers first, then the body.
func findEvent(p payload) foundEvent {
	var body foundEvent
	if root := p.tree(); root != nil {
		if obj, _ := records(unwrap(root)); obj != nil && obj.kind == kindObject {
			body = bodyEvent(obj)
		}
	}
	if name := headerEvent(p.ev.Headers); name != "" {
		if body.name != name {
			body.nodes = nil // the body's own event key says something else: show it
		}
		body.name = name
	}
	return body
}

// headerEvent is the event a sender named in a header: X-…-Event (and
// -Event-Name, -Event-Key), X-Event-Name, then X-…-Topic, then the coarser
// …-Event-Type, then a CloudEvent's ce-type. Header names are compared in
// order so that the pick does not depend on map order.
func headerEvent(h map[string]string) string {
	best, bestRank, bestKey := "", 99, ""
	for k, v := range h {
		kl := strings.ToLower(k)
		rank := -1
		switch {
		case strings.HasSuffix(kl, "-event-id"), strings.HasSuffix(kl, "-event-signature"),
			strings.HasSuffix(kl, "-event-time"), strings.HasSuffix(kl, "-event-uuid"):
		case strings.HasPrefix(kl, "x-") && (strings.HasSuffix(kl, "-event") || strings.HasSuffix(kl, "-event-name") ||
			strings.HasSuffix(kl, "-event-key")):
			rank = 0
		case strings.HasPrefix(kl, "x-") && strings.HasSuffix(kl, "-topic"):
			rank = 1
		case strings.HasSuffix(kl, "-event-type"):
			rank = 2
		case kl == "ce-type":
			rank = 3
		}
		if rank < 0 {
			continue
		}
		name, ok := eventName(v)
		if !ok {
			continue
		}
		if rank < bestRank || rank == bestRank && kl < bestKey {
			best, bestRank, bestKey = name, rank, kl
		}
	}
	return best
}

// bodyEvent looks for the event's key: strong keys at the top and in
// objects up to three levels down (breadth first: {"event": {"event_type":
// …}}), keys ending in event_type or action_type too ("email_action_type"),
// and the weaker type, action and kind at the top. A type with an action
// beside it reads as both: {"type": "Issue", "action": "create"} is
// "Issue.create".
func bodyEvent(obj *node) foundEvent {
	if ev, ok := eventIn(obj, append(append([]string(nil), strongEventKeys...), weakEventKeys...)); ok {
		return ev
	}
	level := []*node{obj}
	for depth := 0; depth < 3 && len(level) > 0; depth++ {
		var next []*node
		for _, o := range level {
			for _, v := range o.vals {
				if v.kind == kindObject {
					next = append(next, v)
				}
			}
		}
		for _, o := range next {
			if ev, ok := eventIn(o, strongEventKeys); ok {
				return ev
			}
		}
		level = next
	}
	return verbEvent(obj)
}

// verbs are keys of forms and payloads that say what happened to what
// their parent names: {"leads": {"add": […]}} is leads.add.
var verbs = map[string]bool{"add": true, "update": true, "delete": true, "create": true,
	"restore": true, "remove": true, "change": true, "created": true, "updated": true,
	"deleted": true}

// verbEvent reads an event from the structure alone: an object whose first
// key holds an object whose only key is a verb.
func verbEvent(obj *node) foundEvent {
	if len(obj.keys) == 0 || obj.vals[0].kind != kindObject || len(obj.vals[0].keys) != 1 {
		return foundEvent{}
	}
	inner := obj.vals[0]
	if v := fold(inner.keys[0]); verbs[v] {
		if name, ok := eventName(obj.keys[0] + "." + inner.keys[0]); ok {
			return foundEvent{name: name}
		}
	}
	return foundEvent{}
}

// eventIn finds the first of keys (folded) in obj holding an event name.
func eventIn(obj *node, keys []string) (foundEvent, bool) {
	best, bestRank := -1, len(keys)
	for i, k := range obj.keys {
		v := obj.vals[i]
		if v.kind != kindString {
			continue
		}
		fk := fold(k)
		for rank, want := range keys[:bestRank] {
			if fk == want || want == "eventtype" && (strings.HasSuffix(fk, "eventtype") || strings.HasSuffix(fk, "actiontype")) {
				if _, ok := eventName(v.s); ok {
					best, bestRank = i, rank
				}
				break
			}
		}
	}
	if best < 0 {
		return foundEvent{}, false
	}
	v := obj.vals[best]
	name, _ := eventName(v.s)
	ev := foundEvent{name: name, nodes: []*node{v}}
	if fold(obj.keys[best]) == "type" && !strings.ContainsAny(name, ".:/ ") {
		if a := obj.get("action"); a != nil && a.kind == kindString {
			if act, ok := eventName(a.s); ok && !strings.ContainsAny(act, " ") {
				ev.name = withAction(name, act)
				ev.nodes = append(ev.nodes, a)
			}
		}
	}
	return ev, true
}

// maxEnvelopes bounds how many envelopes (objects of one key, JSON written
// into a string) are opened to reach the content: a relay may nest the
// alert sixty levels down, a hostile body ten thousand.
const maxEnvelopes = 10000

// maxEmbeddedJSON bounds a JSON document written into a string that is
// parsed as part of the payload.
const maxEmbeddedJSON = 256 << 10

// unwrap opens envelopes: an object whose only key holds an object, or a
// string of JSON ({"Message": "{\"AlarmName\": …}"}), is its content.
func unwrap(n *node) *node {
	for i := 0; i < maxEnvelopes && n != nil && n.kind == kindObject && len(n.keys) == 1; i++ {
		v := n.vals[0]
		switch {
		case v.kind == kindObject && len(v.keys) > 0:
			n = v
		case v.kind == kindString:
			inner := embeddedJSON(v.s)
			if inner == nil {
				return n
			}
			n = inner
		default:
			return n
		}
	}
	return n
}

// embeddedJSON parses a string holding a JSON object, nil when it does not.
func embeddedJSON(s string) *node {
	s = strings.TrimSpace(s)
	if len(s) < 2 || len(s) > maxEmbeddedJSON || s[0] != '{' {
		return nil
	}
	n, err := parseJSON([]byte(s))
	if err != nil || n.kind != kindObject || len(n.keys) == 0 {
		return nil
	}
	return n
}

// records reads a batch: a root array of objects, or an object whose only
// key holds one ({"events": […]}), is its first record, with the count.
func records(n *node) (*node, int) {
	if n == nil {
		return nil, 0
	}
	arr := n
	if n.kind == kindObject && len(n.keys) == 1 && n.vals[0].kind == kindArray {
		arr = n.vals[0]
	}
	if arr.kind == kindArray && len(arr.vals) > 0 && arr.vals[0].kind == kindObject {
		return unwrap(arr.vals[0]), len(arr.vals)
	}
	return n, 0
}

// genericFormat reads a payload of a sender Herald does not know.
func genericFormat(f *formatter) Notification {
	p := f.p
	var n Notification
	root := p.tree()
	switch {
	case len(strings.TrimSpace(string(p.ev.Body))) == 0:
		n.Summary = f.l.T("agent.empty_body", nil)
	case p.binary:
		n.Summary = f.l.N("agent.binary_body", len(p.ev.Body), nil)
	case root == nil:
		text := maskText(p.text)
		if title, rest, ok := strings.Cut(text, "\n"); ok && utf8.RuneCountInString(title) <= 80 && strings.TrimSpace(rest) != "" {
			n.Title, n.Summary = title, strings.TrimSpace(rest)
		} else {
			n.Summary = text
		}
	default:
		obj, count := records(unwrap(root))
		if obj.kind != kindObject {
			n.Summary = scalarText(f, obj)
			break
		}
		n = newReader(f, findEvent(p)).read(obj, root)
		if count > 1 {
			n.Summary = joinNonEmpty("\n", f.l.N("agent.items", count, nil), n.Summary)
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

// What a leaf holds, which decides how it is written.
type leafKind uint8

const (
	leafPlain  leafKind = iota
	leafBool            // yes / no
	leafTime            // a timestamp, written for people
	leafMoney           // an amount with its currency
	leafList            // an array of values or records, summarized
	leafChange          // from → to
	leafName            // a person's first and last name
	leafMasked          // a credential
	leafURL             // a link: the link button's candidates
)

// leaf is one field of a read payload.
type leaf struct {
	path   string   // "customer.name": where it is
	key    string   // the last key
	words  []string // the label's words: the key's, qualified by its parent's
	value  string   // as shown (raw for plain leaves; masked when shown)
	node   *node
	depth  int
	order  int
	score  int
	kind   leafKind
	masked bool
	fk     string   // the key folded
	kw     []string // the key's words
}

// Reading limits: how deep facts are looked for below the content, and how
// many fields are considered at all.
const (
	maxLeafDepth = 6
	maxLeaves    = 400
	maxTitleDeep = 2
)

// reader reads one payload.
type reader struct {
	f      *formatter
	v      *vocabulary
	event  foundEvent
	taken  map[*node]bool  // values shown already (the event, the title, the summary)
	parsed map[*node]*node // strings of JSON, parsed once
	shown  map[string]bool // plain values already among the facts' candidates
	leaves []leaf
	hidden int // fields not shown, counted in "…and N more fields"
	failed bool
}

func newReader(f *formatter, ev foundEvent) *reader {
	r := &reader{f: f, v: vocabularyFor(f.l), event: ev, taken: map[*node]bool{}, parsed: map[*node]*node{}}
	for _, n := range ev.nodes {
		r.taken[n] = true
	}
	return r
}

// read turns the payload's content object into a notification; root is
// the whole payload, every record of a batch included, looked through for
// a failure.
func (r *reader) read(obj, root *node) Notification {
	var n Notification
	r.walk(obj, "", nil, 0)
	r.failed = failedAnywhere(root)
	n.Title = r.title()
	n.Summary = r.summary()
	n.Link = r.link()
	n.Facts = r.facts()
	n.Importance = ImportanceNormal
	if r.failed || failureWords(r.event.name) {
		n.Importance = ImportanceHigh
	} else if importanceOf(wordsOf(r.event.name)...) == ImportanceLow {
		n.Importance = ImportanceLow
	}
	return n
}

// Keys naming what a payload is about, and what it says, folded, in order
// of preference.
var (
	titleKeys = []string{"title", "subject", "name", "fullname", "displayname", "headline", "summary",
		"label", "topictitle", "fancytitle", "filename"}
	summaryKeys = []string{"message", "text", "description", "body", "content", "details", "comment",
		"note", "notes", "msg"}
)

// containerKeys hold the content rather than name a thing: a label inside
// them is not qualified by them ("data.name" is "Name", "release.name"
// "Release name").
var containerKeys = map[string]bool{
	"data": true, "object": true, "payload": true, "entry": true, "record": true, "resource": true,
	"item": true, "detail": true, "details": true, "attributes": true, "body": true, "properties": true,
	"traits": true, "fields": true, "event": true, "content": true, "meta": true, "metadata": true,
	"info": true, "params": true, "values": true, "result": true, "context": true, "extra": true,
	"attrs": true, "props": true, "obj": true, "doc": true, "document": true, "node": true, "model": true,
}

// genericKeys name an aspect of their parent rather than a thing: they are
// labelled with their parent ("Release name", "Stage ID").
var genericKeys = map[string]bool{
	"name": true, "id": true, "title": true, "status": true, "type": true, "value": true, "code": true,
	"number": true, "email": true, "url": true, "count": true, "state": true, "key": true, "date": true,
	"time": true, "label": true, "slug": true, "uid": true, "text": true, "kind": true, "phone": true,
	// verbs: {"leads": {"add": […]}} is the leads added
	"add": true, "update": true, "delete": true, "create": true, "change": true, "restore": true,
}

// walk collects obj's fields as leaves: pairs that belong together first
// (an amount and its currency, a first and a last name, from and to),
// then every field, objects followed down to maxLeafDepth.
func (r *reader) walk(obj *node, prefix string, parent []string, depth int) {
	used := r.pairs(obj, prefix, parent, depth)
	for i, k := range obj.keys {
		v := obj.vals[i]
		if used[i] || r.taken[v] {
			continue
		}
		if len(r.leaves) >= maxLeaves {
			r.hidden++
			continue
		}
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		kw := keyWords(k)
		lf := leaf{path: path, key: k, node: v, depth: depth, kw: kw}
		switch {
		case v.empty():
			continue
		case v.kind == kindObject && credentialName(k):
			lf.kind, lf.value, lf.masked = leafMasked, Masked, true
		case v.kind == kindObject:
			if depth+1 >= maxLeafDepth {
				r.hidden++
				continue
			}
			r.walk(v, path, r.childWords(k, kw, parent), depth+1)
			continue
		case (sensitiveKey(k) || cardSecret(parent, k)) && v.kind != kindBool:
			lf.kind, lf.value, lf.masked = leafMasked, Masked, true
		case v.kind == kindArray:
			lf.kind = leafList
		case v.kind == kindBool:
			lf.kind, lf.value = leafBool, v.s
		case v.kind == kindString && depth < 2 && r.embedded(v) != nil:
			r.walk(r.embedded(v), path, r.childWords(k, kw, parent), depth+1)
			continue
		default:
			lf.value = v.s
			if looksLikeURL(v.s) {
				lf.kind = leafURL
			} else if isTime(kw, v) {
				lf.kind = leafTime
			}
		}
		lf.words = r.words(kw, parent, lf.kind == leafTime)
		r.add(lf)
	}
}

// embedded is a string of JSON read as part of the payload, parsed once.
func (r *reader) embedded(v *node) *node {
	if e, ok := r.parsed[v]; ok {
		return e
	}
	e := embeddedJSON(v.s)
	r.parsed[v] = e
	return e
}

func (r *reader) add(lf leaf) {
	lf.order = len(r.leaves)
	if lf.fk == "" {
		lf.fk = fold(lf.key)
	}
	if lf.kw == nil {
		lf.kw = keyWords(lf.key)
	}
	r.leaves = append(r.leaves, lf)
}

// credentialName reports a key that names a credential outright
// ("credentials", "secret"), so that everything below it is hidden; a key
// that only has a word such as auth or card ("auth[domain]", "card.last4")
// is read field by field.
func credentialName(key string) bool {
	fk := fold(key)
	for _, p := range sensitiveParts {
		if strings.Contains(fk, p) {
			return true
		}
	}
	return false
}

// cardSecret reports the number or the code of a card object
// ({"card": {"number": …, "cvv": …}}), which are credentials though their
// keys alone are not.
func cardSecret(parent []string, key string) bool {
	if len(parent) == 0 || parent[len(parent)-1] != "card" {
		return false
	}
	switch fold(key) {
	case "number", "num", "pan", "cvv", "cvc", "cvv2", "cvc2", "code", "securitycode", "pin", "track", "track1", "track2":
		return true
	}
	return false
}

// words is the label of a key (its words kw) under a parent: the key's
// words, after the parent's when the key names an aspect of it ("release"
// + "name").
func (r *reader) words(kw, parent []string, time bool) []string {
	w := r.v.labelWords(kw, time)
	if len(parent) > 0 && len(w) == 1 && genericKeys[w[0]] {
		return append(append([]string(nil), parent...), w...)
	}
	return w
}

// childWords is the label prefix inside an object under key: none for a
// container, else the key's words.
func (r *reader) childWords(key string, kw, parent []string) []string {
	if containerKeys[fold(key)] || len(kw) > 3 {
		return parent
	}
	return kw
}

// Keys whose value says whether something went well, folded.
var statusKeyWords = []string{"status", "state", "result", "conclusion", "outcome", "health", "severity",
	"level", "priority", "urgency"}

// maxFailureScan bounds how many fields the look for a failure reads.
const maxFailureScan = 50000

// failedAnywhere reports a field saying that something failed, at any
// depth: a status-like key with a failure word ("conclusion": "failure",
// "dlr_status": "UNDELIVERED"), an error that is set, a success that is
// false.
func failedAnywhere(root *node) bool {
	type item struct {
		key string
		n   *node
	}
	stack := []item{{"", root}}
	for seen := 0; len(stack) > 0 && seen < maxFailureScan; seen++ {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if failure(it.key, it.n) {
			return true
		}
		switch it.n.kind {
		case kindObject:
			for i, k := range it.n.keys {
				stack = append(stack, item{k, it.n.vals[i]})
			}
		case kindArray:
			for _, v := range it.n.vals {
				stack = append(stack, item{it.key, v})
			}
		}
	}
	return false
}

// failure reports one field saying that something failed.
func failure(key string, v *node) bool {
	if key == "" {
		return false
	}
	fk := fold(key)
	switch v.kind {
	case kindString, kindNumber:
		for _, w := range statusKeyWords {
			if strings.Contains(fk, w) && failureWords(v.s) {
				return true
			}
		}
		return (strings.HasSuffix(fk, "error") || strings.HasSuffix(fk, "errormessage") || fk == "failure" ||
			fk == "failurereason" || fk == "errordetail") && strings.TrimSpace(v.s) != "" && v.s != "0" &&
			!strings.EqualFold(v.s, "none") && !strings.EqualFold(v.s, "null")
	case kindBool:
		switch fk {
		case "success", "succeeded", "ok", "passed", "healthy", "up":
			return v.s == "false"
		case "failed", "failure", "error", "down":
			return v.s == "true"
		}
	case kindObject:
		return (fk == "error" || fk == "failure") && !v.empty()
	case kindArray:
		return (fk == "errors" || fk == "failures") && !v.empty()
	}
	return false
}

// failureWords reports text made of words that say something failed:
// "FAILED", "payment_failed", "build.errored", "down".
func failureWords(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, w := range wordsOf(s) {
		switch w {
		case "failed", "failure", "fail", "failing", "error", "errored", "errors", "timeout", "timedout",
			"undelivered", "undeliverable", "bounced", "rejected", "declined", "crashed", "crash", "fatal",
			"critical", "down", "outage", "unhealthy", "aborted", "broken", "firing", "panic", "emergency":
			return true
		}
	}
	return false
}

// wordsOf splits text into lowercase words at anything but letters and
// digits.
func wordsOf(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// timeWords are key words of timestamps.
var timeWords = map[string]bool{
	"at": true, "time": true, "date": true, "timestamp": true, "created": true, "updated": true,
	"modified": true, "ts": true, "since": true, "until": true, "expires": true, "expiry": true,
	"published": true, "scheduled": true, "released": true, "deleted": true, "sent": true,
	"received": true, "occurred": true, "delivered": true, "started": true, "finished": true,
	"ended": true, "due": true, "datetime": true, "d": true, "on": true, "when": true, "last": true,
}

var isoTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}|$)`)

// timestampRE matches the start of an ISO timestamp (the LLM's condenser
// drops such values first).
var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)

// isTime reports a timestamp: an ISO date in any field, an epoch number
// only in a field named like a time (an id or a count is not a date).
func isTime(kw []string, v *node) bool {
	named := false
	for _, w := range kw {
		if timeWords[w] {
			named = true
			break
		}
	}
	if v.kind == kindString && isoTimeRE.MatchString(strings.TrimSpace(v.s)) {
		_, ok := parseTime(v.s)
		return ok
	}
	if !named {
		return false
	}
	_, ok := parseTime(v.s)
	return ok
}

// Keys of amounts and of their currencies, folded.
var (
	amountWords = map[string]bool{
		"amount": true, "total": true, "price": true, "sum": true, "cost": true, "fee": true,
		"subtotal": true, "revenue": true, "balance": true, "value": true, "paid": true, "due": true,
		"charge": true, "refund": true, "refunded": true, "tax": true, "discount": true, "payout": true,
	}
	currencyKeys = map[string]bool{
		"currency": true, "currencycode": true, "cur": true, "currencyiso": true, "isocurrency": true,
		"isocurrencycode": true, "currencyid": true,
	}
	unitKeys = map[string]bool{
		"unit": true, "units": true, "amountunit": true, "amountunits": true, "currencyunit": true,
		"amountin": true, "denomination": true,
	}
	minorWords = map[string]bool{
		"cents": true, "cent": true, "minor": true, "kopecks": true, "kopeks": true, "kopeck": true,
		"subunits": true, "pennies": true,
	}
)

// amountKey reports a key naming an amount ("amount", "total_price",
// "amountCents"), and whether it counts minor units.
func amountKey(key string) (amount, minor bool) {
	for _, w := range keyWords(key) {
		if amountWords[w] {
			amount = true
		}
		if minorWords[w] {
			minor = true
		}
	}
	return amount, minor
}

// pairs writes the fields of obj that belong together as one fact each and
// returns which keys they used: an amount and its currency ("1,000.00 ₽"),
// a first and a last name, and from / to (previous / current, old / new,
// before / after) as "A → B".
func (r *reader) pairs(obj *node, prefix string, parent []string, depth int) map[int]bool {
	used := map[int]bool{}
	curIdx := -1
	for i, k := range obj.keys {
		if currencyKeys[fold(k)] && obj.vals[i].scalar() {
			if _, ok := currencyOf(obj.vals[i].s); ok {
				curIdx = i
				break
			}
		}
	}
	at := func(i int) string {
		if prefix == "" {
			return obj.keys[i]
		}
		return prefix + "." + obj.keys[i]
	}
	if curIdx >= 0 {
		cur := obj.vals[curIdx].s
		minorUnits, unitIdx := false, -1 // the sender says its amounts count kopecks or cents
		for i, k := range obj.keys {
			if unitKeys[fold(k)] && obj.vals[i].kind == kindString {
				for _, w := range wordsOf(obj.vals[i].s) {
					if minorWords[w] {
						minorUnits, unitIdx = true, i
					}
				}
			}
		}
		for i, k := range obj.keys {
			v := obj.vals[i]
			if i == curIdx || (v.kind != kindNumber && v.kind != kindString) {
				continue
			}
			amount, minor := amountKey(k)
			if !amount {
				continue
			}
			minor = minor || minorUnits
			s, ok := formatAmount(v.s, cur, minor, r.f.l.Lang())
			if !ok {
				continue
			}
			words := keyWords(k)
			switch fk := fold(k); {
			case len(parent) > 0 && fk == "value":
				words = parent // {"price": {"value": …, "currency": …}} is the price
			case len(parent) > 0 && (fk == "amount" || fk == "sum" || fk == "total"):
				words = append(append([]string(nil), parent...), words...) // "Refund amount"
			}
			var clean []string
			for _, w := range words {
				if !minorWords[w] && w != "in" {
					clean = append(clean, w)
				}
			}
			r.add(leaf{path: at(i), key: k, words: clean, value: s, node: v, depth: depth, kind: leafMoney})
			used[i], used[curIdx] = true, true
			if unitIdx >= 0 {
				used[unitIdx] = true
			}
		}
	}
	first, last := -1, -1
	for i, k := range obj.keys {
		switch fold(k) {
		case "firstname", "givenname", "fname":
			first = i
		case "lastname", "familyname", "surname", "lname":
			last = i
		}
	}
	if first >= 0 && last >= 0 && obj.vals[first].kind == kindString && obj.vals[last].kind == kindString {
		if name := strings.TrimSpace(obj.vals[first].s + " " + obj.vals[last].s); name != "" {
			r.add(leaf{path: at(first), key: "name", words: r.words([]string{"name"}, parent, false), value: name,
				node: obj.vals[first], depth: depth, kind: leafName})
			used[first], used[last] = true, true
		}
	}
	if len(obj.keys) == 2 {
		for _, pair := range [][2]string{{"from", "to"}, {"previous", "current"}, {"old", "new"},
			{"before", "after"}, {"oldvalue", "newvalue"}} {
			a, b := -1, -1
			for i, k := range obj.keys {
				switch fold(k) {
				case pair[0]:
					a = i
				case pair[1]:
					b = i
				}
			}
			if a < 0 || b < 0 {
				continue
			}
			from, to := r.changeSide(obj.vals[a]), r.changeSide(obj.vals[b])
			if from == "" && to == "" {
				continue
			}
			words := parent
			if len(words) == 0 {
				words = r.changedField()
			}
			if len(words) == 0 {
				words = []string{"change"}
			}
			r.add(leaf{path: at(a), key: obj.keys[a], words: words, value: from + " → " + to,
				node: obj.vals[b], depth: depth, kind: leafChange})
			used[a], used[b] = true, true
		}
	}
	return used
}

// changeSide is one side of a change as text: a value, or an object's name.
func (r *reader) changeSide(n *node) string {
	switch n.kind {
	case kindBool:
		return r.f.yesNo(n.s == "true")
	case kindNull:
		return "—"
	case kindString, kindNumber:
		return n.s
	case kindObject:
		return tellingValue(n)
	}
	return ""
}

// changedField is the field an event named "…_changed" is about:
// "user.active_changed" → active.
func (r *reader) changedField() []string {
	name := r.event.name
	if i := strings.LastIndexAny(name, ".:/"); i >= 0 {
		name = name[i+1:]
	}
	w := keyWords(name)
	if len(w) > 1 && (w[len(w)-1] == "changed" || w[len(w)-1] == "updated") {
		return w[:len(w)-1]
	}
	return nil
}

// tellingKeys name the field that tells one record from another, folded,
// in order of preference.
var tellingKeys = []string{"name", "title", "fullname", "displayname", "label", "emailaddress", "email",
	"login", "username", "subject", "summary", "key", "slug", "filename", "message", "text", "value",
	"phonenumber", "phone", "provider", "number", "code", "sku", "type"}

// tellingValue is the telling field of a record, "" when it has none.
func tellingValue(obj *node) string {
	for _, want := range tellingKeys {
		for i, k := range obj.keys {
			v := obj.vals[i]
			if fold(k) == want && (v.kind == kindString || v.kind == kindNumber) && strings.TrimSpace(v.s) != "" &&
				!sensitiveKey(k) {
				return oneLine(v.s)
			}
		}
	}
	if first, last := obj.str("first_name"), obj.str("last_name"); first != "" || last != "" {
		return strings.TrimSpace(first + " " + last)
	}
	return ""
}

// maxListed is how many values of an array a fact shows before "and N more".
const maxListed = 3

// listValue writes an array: its values, or its records by their telling
// fields, the first few and how many more; a count of items when the
// records tell nothing.
func (r *reader) listValue(arr *node) string {
	var vals []string
	seen := map[string]bool{}
	for _, item := range arr.vals {
		var s string
		switch {
		case item.scalar():
			s = oneLine(item.s)
			if item.kind == kindBool {
				s = r.f.yesNo(item.s == "true")
			}
		case item.kind == kindObject:
			s = tellingValue(item)
		}
		if s == "" {
			if item.kind == kindObject {
				return r.f.l.N("agent.items", len(arr.vals), nil)
			}
			continue
		}
		if !seen[s] {
			seen[s] = true
			vals = append(vals, clamp(s, 80))
		}
	}
	if len(vals) == 0 {
		return ""
	}
	if len(vals) > maxListed+1 {
		more := len(vals) - maxListed
		return strings.Join(vals[:maxListed], ", ") + " " + r.f.l.N("generic.more", more, nil)
	}
	return strings.Join(vals, ", ")
}

// titleDenied are parents whose name is a person's, not the event's title.
var titleDenied = map[string]bool{
	"user": true, "author": true, "sender": true, "actor": true, "creator": true, "owner": true,
	"assignee": true, "reporter": true, "requester": true, "member": true, "committer": true,
	"pusher": true, "customer": true, "contact": true, "account": true, "organization": true,
	"team": true, "workspace": true, "site": true, "app": true, "application": true, "installation": true,
}

// urnRE matches identifiers written as names: "zen:user:6596848315901".
var urnRE = regexp.MustCompile(`^[\w.-]+(:[\w.-]+)+$`)

// title is the telling field: a title, a subject, a name near the top and
// not a person's, else a person's full name when the payload is about one.
func (r *reader) title() string {
	for _, want := range titleKeys {
		for i := range r.leaves {
			lf := &r.leaves[i]
			if lf.depth > maxTitleDeep || lf.masked || lf.kind != leafPlain || lf.fk != want ||
				lf.node.kind != kindString || urnRE.MatchString(lf.value) || denied(lf.path) {
				continue
			}
			if s := oneLine(lf.value); s != "" {
				r.taken[lf.node] = true
				return clamp(maskText(s), maxTitle)
			}
		}
	}
	for i := range r.leaves {
		lf := &r.leaves[i]
		if lf.kind == leafName && lf.depth <= 1 && !denied(lf.path) {
			r.taken[lf.node] = true
			return clamp(maskText(lf.value), maxTitle)
		}
	}
	return ""
}

// denied reports a path through a person's or an owner's object.
func denied(path string) bool {
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		if titleDenied[fold(p)] {
			return true
		}
	}
	return false
}

// summary is the text the payload says: a message, a text, a description.
func (r *reader) summary() string {
	for _, want := range summaryKeys {
		for i := range r.leaves {
			lf := &r.leaves[i]
			if lf.depth > maxTitleDeep || lf.masked || lf.kind != leafPlain || r.taken[lf.node] ||
				lf.fk != want || lf.node.kind != kindString {
				continue
			}
			if s := clean(lf.value); s != "" {
				r.taken[lf.node] = true
				return clamp(maskText(s), maxSummary)
			}
		}
	}
	return ""
}

// link is the page a person opens: the best of the payload's URLs that
// isPageURL accepts and that are not a picture, a schema or a callback.
func (r *reader) link() string {
	type cand struct {
		url   string
		score int
	}
	var cands []cand
	for i := range r.leaves {
		lf := &r.leaves[i]
		if lf.kind != leafURL {
			continue
		}
		pw := keyWords(lf.path)
		if notAPage(pw, lf.value) {
			continue
		}
		if s := urlScoreWords(*lf, pw); s > -40 {
			cands = append(cands, cand{lf.value, s})
		}
	}
	// The best first: isPageURL parses and masks, so it runs only until one
	// passes.
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score > cands[j].score })
	for _, c := range cands {
		if isPageURL(c.url) && !unreachable(c.url) {
			return c.url
		}
	}
	return ""
}

// notPageWords are key words of URLs that are not the page the event is
// about.
var notPageWords = map[string]bool{
	"avatar": true, "icon": true, "image": true, "logo": true, "photo": true, "picture": true,
	"thumbnail": true, "thumb": true, "schema": true, "dataschema": true, "callback": true, "webhook": true,
	"hook": true, "redirect": true, "return": true, "response": true, "unsubscribe": true, "gravatar": true,
	"profile": true, "referrer": true, "referer": true, "api": true, "self": true, "endpoint": true,
}

// pictureExts end the path of a picture.
var pictureExts = []string{".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp", ".avif"}

// notAPage reports a URL that is not the page the event is about, by the
// words of its path in the payload (pw) and its own path.
func notAPage(pw []string, u string) bool {
	for _, w := range pw {
		if notPageWords[w] {
			return true
		}
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.ToLower(u)
	for _, ext := range pictureExts {
		if strings.HasSuffix(u, ext) {
			return true
		}
	}
	return false
}

// unreachable reports a URL on a host no reader's browser reaches: the
// sender's own localhost or private network.
func unreachable(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return true
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified())
}

// urlScore prefers a URL meant for people (html_url, link) near the top over
// API endpoints and pictures.
func urlScore(lf leaf) int { return urlScoreWords(lf, keyWords(lf.path)) }

// urlScoreWords is urlScore given the words of the URL's path in the
// payload.
func urlScoreWords(lf leaf, pathWords []string) int {
	s := -lf.depth * 10
	switch fold(lf.key) {
	case "htmlurl", "weburl", "permalink", "link", "url", "href", "dashboardurl", "pageurl", "siteurl":
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
	for _, w := range pathWords { // a person's profile is rarely the point
		switch w {
		case "agent", "user", "sender", "actor", "author", "owner", "creator", "assignee", "reporter":
			s -= 15
		}
	}
	return s
}

func looksLikeURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

var (
	uuidRE      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexRE       = regexp.MustCompile(`^[0-9a-fA-F]{16,}$`)
	tokenlikeRE = regexp.MustCompile(`^[A-Za-z0-9_+/=-]{20,}$`)
	noiseKeys   = map[string]bool{
		"nodeid": true, "etag": true, "fingerprint": true, "checksum": true, "hash": true, "sha": true,
		"sha256": true, "nonce": true, "requestid": true, "traceid": true, "spanid": true, "gravatarid": true,
		"idempotencykey": true, "object": true, "apiversion": true, "livemode": true, "specversion": true,
		"datacontenttype": true, "zendeskeventversion": true, "aud": true, "sub": true,
		"mnc": true, "mcc": true, "instanceid": true, "accountid": true,
	}
)

// noisy reports a field that tells a person nothing: hashes, UUIDs, opaque
// tokens, bookkeeping keys.
func noisy(lf leaf) bool {
	if noiseKeys[lf.fk] {
		return true
	}
	if lf.kind == leafBool && lf.value == "false" {
		if w := lf.kw; len(w) > 1 && (w[0] == "is" || w[0] == "has") {
			return true // a flag that is off says little
		}
	}
	if lf.kind != leafPlain {
		return false
	}
	v := lf.value
	if uuidRE.MatchString(v) || hexRE.MatchString(v) || urnRE.MatchString(v) {
		return true
	}
	words := lf.kw
	if v == "0" && len(words) > 0 && words[len(words)-1] == "id" {
		return true // no such thing
	}
	if lf.fk == "version" && lf.depth == 0 && lf.node.kind == kindNumber && len(v) <= 2 {
		return true // the payload format's version
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
	"service": true, "author": true, "city": true, "country": true, "message": true, "channel": true,
	"to": true, "from": true, "recipient": true, "model": true, "stage": true, "stages": true,
	"text": true, "command": true, "role": true, "event": true, "revenue": true, "method": true,
}

// factScore ranks a field: near the top, short, named like something that
// matters; identifiers, booleans, timestamps and masked values last.
func factScore(lf leaf) int {
	s := 100 - lf.depth*25
	switch r := utf8.RuneCountInString(lf.value); {
	case lf.kind == leafList:
	case r <= 40:
		s += 10
	case r > 120:
		s -= 25
	}
	words := lf.kw
	for _, w := range words {
		if tellingWords[w] {
			s += 20
			break
		}
	}
	switch lf.kind {
	case leafMoney:
		s += 40
	case leafChange:
		s += 35
	case leafName:
		s += 25
	case leafBool:
		s -= 20
	case leafTime:
		s -= 10
	case leafMasked:
		s -= 30
	}
	if k := lf.fk; k == "id" || k == "uid" || k == "gid" || k == "sid" ||
		len(words) > 1 && (words[len(words)-1] == "id" || words[len(words)-1] == "sid" || words[len(words)-1] == "ids") {
		s -= 35
	}
	if lf.fk == "type" && lf.depth > 0 {
		s -= 20
	}
	if lf.value == "0" || lf.value == "0.0" {
		s -= 15
	}
	return s
}

// facts picks the fields worth a line: the money, changes and names first,
// then the telling fields, a single timestamp (the one the event is named
// after, else the nearest the top), everything else counted in "…and N
// more fields". Chosen facts keep the sender's order.
func (r *reader) facts() []Fact {
	var cands []leaf
	var times []leaf
	for _, lf := range r.leaves {
		switch {
		case r.taken[lf.node] && lf.kind != leafMoney && lf.kind != leafChange:
		case lf.kind == leafURL:
			r.hidden++ // the link button shows the best one
		case noisy(lf), r.repeated(lf):
			r.hidden++
		case lf.kind == leafTime:
			times = append(times, lf)
		default:
			lf.score = factScore(lf)
			cands = append(cands, lf)
		}
	}
	if t, ok := r.pickTime(times); ok {
		t.score = factScore(t)
		cands = append(cands, t)
		r.hidden += len(times) - 1
	}
	chosen := cands
	if len(chosen) > maxFacts {
		chosen = append([]leaf(nil), cands...)
		sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].score > chosen[j].score })
		chosen = chosen[:maxFacts]
	}
	sort.SliceStable(chosen, func(i, j int) bool { return chosen[i].order < chosen[j].order })
	r.hidden += len(cands) - len(chosen)
	var out []Fact
	for _, lf := range chosen {
		v := r.value(lf)
		if v == "" {
			r.hidden++
			continue
		}
		out = append(out, Fact{Label: r.v.label(lf.words), Value: v})
	}
	if r.hidden > 0 {
		out = append(out, Fact{Value: r.f.l.N("agent.more_fields", r.hidden, nil)})
	}
	return out
}

// repeated reports a leaf whose value a fact already chosen shows (the same
// e-mail address under the user, its metadata and its identities).
func (r *reader) repeated(lf leaf) bool {
	if lf.kind != leafPlain {
		return false
	}
	if r.shown == nil {
		r.shown = map[string]bool{}
	}
	same := strings.Join(lf.words, " ") + "\x00" + lf.value // the same fact twice
	if len(lf.value) < 6 {
		if r.shown[same] {
			return true
		}
		r.shown[same] = true
		return false
	}
	if r.shown[lf.value] {
		return true
	}
	r.shown[lf.value] = true
	return false
}

// pickTime is the timestamp worth showing: the one the event is named after
// ("entry.publish" → publishedAt), else the one nearest the top.
func (r *reader) pickTime(times []leaf) (leaf, bool) {
	if len(times) == 0 {
		return leaf{}, false
	}
	verb := ""
	if w := wordsOf(r.event.name); len(w) > 0 {
		verb = w[len(w)-1]
		if len(verb) > 5 {
			verb = verb[:5]
		}
	}
	best := times[0]
	for _, t := range times[1:] {
		if t.depth < best.depth {
			best = t
		}
	}
	if len(verb) >= 4 {
		for _, t := range times {
			if strings.HasPrefix(t.fk, verb) {
				return t, true
			}
		}
	}
	return best, true
}

// value writes a leaf's value for people.
func (r *reader) value(lf leaf) string {
	lang := r.f.l.Lang()
	switch lf.kind {
	case leafBool:
		return r.f.yesNo(lf.value == "true")
	case leafTime:
		if s, ok := formatTime(lf.value, lang); ok {
			return s
		}
	case leafList:
		return maskText(r.listValue(lf.node))
	case leafMasked:
		return Masked
	case leafMoney:
		return lf.value
	}
	return maskText(lf.value)
}
