package agent

import (
	"bytes"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What the LLM is sent of a payload: the body with credentials masked and the
// noise senders include by the kilobyte (avatars, API links, node ids, ids of
// every nested object, timestamps, repository and user records) dropped,
// then written as indented "key: value" lines, which cost far fewer tokens
// than JSON, and cut to a token budget.

// llmBudget is the most tokens (estimated) the payload part of a prompt may
// take; a bigger payload is condensed harder, then cut.
const llmBudget = 1500

// maxLinks is how many URLs the LLM is shown to choose its link from, for
// senders Herald does not know, the formatter's link first.
const maxLinks = 2

// condenseLevel is how hard a payload is condensed.
type condenseLevel struct {
	maxString int // runes per string value
	maxItems  int // elements per array
	maxDepth  int // nesting shown; deeper objects are counted
}

var condenseLevels = []condenseLevel{
	{maxString: 400, maxItems: 5, maxDepth: 6},
	{maxString: 200, maxItems: 3, maxDepth: 4},
	{maxString: 80, maxItems: 2, maxDepth: 3},
	{maxString: 40, maxItems: 1, maxDepth: 2},
}

// condense returns the payload as the LLM is sent it, within budget tokens
// (estimated). link is the formatter's link, kept among the URLs shown.
func condense(p payload, source, event, link string, budget int) string {
	var s string
	switch {
	case p.root != nil:
		c := condenser{source: source, event: event, link: link}
		// Masking what is left after pruning is the same as masking all
		// first (nothing is written before it), and much cheaper.
		root := maskNode(c.prepare(p.root))
		for _, lvl := range condenseLevels {
			c.lvl = lvl
			s = c.write(root)
			if estimateTokens(s) <= budget {
				return s
			}
		}
	case p.form != nil:
		var b strings.Builder
		for _, fld := range p.form {
			writeLine(&b, 0, fld.key, quoteIfNeeded(keepEnds(maskFormValue(fld.key, fld.value), condenseLevels[0].maxString), false))
		}
		s = b.String()
	case p.binary:
		s = "(binary data, " + strconv.Itoa(len(p.ev.Body)) + " bytes)"
	default:
		// A text body is often a log: what went wrong is at its end.
		return cutTokensKeepEnds(quoteIfNeeded(maskText(p.text), true), budget)
	}
	return cutTokens(s, budget)
}

// keepEnds shortens s to at most n runes by cutting out its middle: the
// head says what a text is, the tail how it ended (the reason a build
// failed is the last lines of its log). The cut is marked " … ", at word
// boundaries when they are near, never inside a grapheme.
func keepEnds(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	const mark = " … "
	runes := []rune(s)
	room := n - utf8.RuneCountInString(mark)
	if room < 2 {
		return clamp(s, n)
	}
	head := cleanCut(runes, room/2)
	tailLen := room - room/2
	start := len(runes) - tailLen
	// A word boundary within the first fifth (at most 40 runes) of the tail.
	window := min(tailLen/5, 40)
	for i := start; i < start+window && i < len(runes); i++ {
		if unicode.IsSpace(runes[i]) {
			start = i + 1
			break
		}
	}
	for start < len(runes) && (joinsPrevious(runes[start]) || runes[start-1] == '\u200D') {
		start++
	}
	ri := 0 // regional indicators pair up into flags: start at a pair
	for j := start - 1; j >= 0 && isRegionalIndicator(runes[j]); j-- {
		ri++
	}
	if ri%2 == 1 && start < len(runes) && isRegionalIndicator(runes[start]) {
		start++
	}
	return strings.TrimRight(string(runes[:head]), " \t\n") + mark + strings.TrimLeft(string(runes[start:]), " \t\n")
}

// cutTokensKeepEnds cuts s to about budget tokens by cutting out its
// middle (keepEnds).
func cutTokensKeepEnds(s string, budget int) string {
	if estimateTokens(s) <= budget {
		return s
	}
	lo, hi := 0, utf8.RuneCountInString(s)
	for lo < hi { // the most runes within the budget
		mid := (lo + hi + 1) / 2
		if estimateTokens(keepEnds(s, mid)) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return keepEnds(s, lo)
}

// condenser holds what one payload's condensing needs.
type condenser struct {
	source, event, link string
	lvl                 condenseLevel
}

// forge reports senders whose payloads embed whole repository and user
// records, numeric ids and timestamps everywhere: GitHub and GitLab.
func (c *condenser) forge() bool { return c.source == "GitHub" || c.source == "GitLab" }

// prepare drops the noise once, whatever the level: it returns a new tree.
func (c *condenser) prepare(root *node) *node {
	seen := map[string]bool{}
	out := c.prune(root, "", 0, seen)
	if out == nil {
		return &node{kind: kindObject}
	}
	c.keepLinks(out)
	return out
}

var (
	sha40RE  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	longHex  = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
	tmplURL  = regexp.MustCompile(`\{[/?&]?[a-z_,]+\}`)
	gitURLRE = regexp.MustCompile(`^(git@|git://|ssh://)|\.git$`)
)

// condenseNoise are dropped from every payload: pictures, machine ids,
// hypermedia, delivery bookkeeping.
var condenseNoise = map[string]bool{
	"nodeid": true, "gravatarid": true, "avatarurl": true, "avatar": true,
	"siteadmin": true, "etag": true, "checksuitenodeid": true, "apiversion": true,
	"pendingwebhooks": true, "idempotencykey": true, "groupingconfig": true, "fingerprint": true,
	"sdk": true, "keyid": true,
}

// stripeNoise are Stripe's type tags and bookkeeping.
var stripeNoise = map[string]bool{
	"object": true, "request": true, "livemodeobject": true, "taxbehavior": true,
	"billingscheme": true, "unitamountdecimal": true, "amountdecimal": true,
}

// stripeMoney are Stripe's amount fields in minor units, shown with their
// currency so that the model does not take 2000 for $2000.
func stripeMoney(key string) bool {
	k := fold(key)
	return strings.Contains(k, "amount") || k == "total" || k == "subtotal" || k == "tax" ||
		strings.HasSuffix(k, "balance") || k == "totalexcludingtax" || k == "subtotalexcludingtax"
}

// forgeNoise are GitHub's and GitLab's bookkeeping fields.
var forgeNoise = map[string]bool{
	"authorassociation": true, "pushertype": true, "performedviagithubapp": true,
	"reactions": true, "activelockreason": true, "installation": true, "enterprise": true,
	"permissions": true, "stateid": true, "visibilitylevel": true, "treeid": true,
	"distinct": true, "type": true, "userviewtype": true, "gitsshurl": true, "githttpurl": true,
	"sshurl": true, "httpurl": true, "cloneurl": true, "giturl": true, "svnurl": true,
	"mirrorurl": true, "badgeurl": true, "diffurl": true, "patchurl": true, "environmentslug": true,
	"ciconfigpath": true, "defaultbranch": true, "namespace": true, "runner": true,
	"queuedduration": true, "buildqueuedduration": true, "retriescount": true, "when": true,
	"color": true, "textcolor": true, "default": true,
}

// prune returns n without noise, or nil when nothing is left of it.
func (c *condenser) prune(n *node, key string, depth int, seen map[string]bool) *node {
	switch n.kind {
	case kindNull:
		return nil
	case kindBool:
		// A false flag is mostly a feature not used; merged=false is news.
		if n.s == "false" && key != "merged" && (depth >= 2 || c.forge()) {
			return nil
		}
		return n
	case kindNumber:
		if (c.forge() || c.source == "Stripe") && depth >= 2 && (n.s == "0" || n.s == "0.0") {
			return nil
		}
		return &node{kind: kindNumber, s: roundNumber(n.s)}
	case kindString:
		return c.pruneString(n, key, depth, seen)
	case kindArray:
		out := &node{kind: kindArray}
		for _, v := range n.vals {
			if pv := c.prune(v, key, depth+1, seen); pv != nil {
				out.vals = append(out.vals, pv)
			}
		}
		if len(out.vals) == 0 {
			return nil
		}
		return out
	}
	// An object.
	if c.forge() {
		if s := c.collapse(n, key, depth); s != nil {
			if s.kind != kindObject {
				return s
			}
			n = s // the fields kept of a record, pruned like the rest
		}
	}
	out := &node{kind: kindObject}
	stripe := c.source == "Stripe"
	for i, k := range n.keys {
		fk := fold(k)
		if condenseNoise[fk] || strings.Contains(fk, "avatar") || strings.Contains(fk, "gravatar") ||
			strings.HasPrefix(k, "_") {
			continue
		}
		v := n.vals[i]
		if stripe {
			if stripeNoise[fk] && (v.scalar() || fk == "request") || isTimeKey(k) || strings.HasPrefix(k, "period_") {
				continue
			}
			if cur := n.str("currency"); cur != "" && v.kind == kindNumber && stripeMoney(k) {
				if minor, err := strconv.ParseInt(v.s, 10, 64); err == nil {
					if minor != 0 || depth == 0 {
						out.keys = append(out.keys, k)
						out.vals = append(out.vals, &node{kind: kindString, s: formatMoney(minor, cur, "")})
					}
					continue
				}
			}
		}
		if c.forge() {
			if forgeNoise[fk] && !(fk == "type" && v.kind == kindString && depth == 0) {
				continue
			}
			if v.kind == kindNumber && (fk == "id" || strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "Id")) ||
				strings.HasSuffix(k, "_ids") {
				continue // internal ids; people use number, iid, names
			}
			if isTimeKey(k) || strings.Contains(fk, "email") {
				continue
			}
			if strings.HasSuffix(fk, "failurereason") && importanceOf(n.first("build_status", "status")) != ImportanceHigh {
				continue // GitLab fills it in for jobs that succeeded too
			}
			if depth == 0 && k == "repository" && n.has("project") {
				continue // GitLab's legacy copy of the project
			}
			if (fk == "before" || fk == "after") && strings.Trim(v.s, "0") != "" || fk == "beforesha" || fk == "checkoutsha" {
				continue // the commits say where a ref is; only a zero SHA (created, deleted) is news
			}
			if v.kind == kindString && depth == 0 && i > 0 && v.s == n.str(n.keys[0]) && fk != fold(n.keys[0]) {
				continue // GitLab's event_name repeats object_kind
			}
		}
		pv := c.prune(v, k, depth+1, seen)
		if pv == nil {
			continue
		}
		if pv.kind == kindObject || pv.kind == kindArray {
			// A record repeated (head_commit is also the last of commits) is
			// shown once.
			var b bytes.Buffer
			pv.encode(&b)
			if sig := b.String(); len(sig) > 40 {
				if seen[sig] {
					continue
				}
				seen[sig] = true
			}
		}
		out.keys = append(out.keys, k)
		out.vals = append(out.vals, pv)
	}
	if len(out.vals) == 0 {
		return nil
	}
	return dropEchoes(out)
}

// dropEchoes drops a string field that repeats a sibling: GitLab's commit
// title is the first line of its message.
func dropEchoes(n *node) *node {
	byFirstLine := map[string][]int{}
	for j, w := range n.vals {
		if w.kind == kindString {
			fl := firstLine(w.s)
			byFirstLine[fl] = append(byFirstLine[fl], j)
		}
	}
	keys, vals := n.keys[:0:0], n.vals[:0:0]
	for i, v := range n.vals {
		echo := false
		if v.kind == kindString && utf8.RuneCountInString(v.s) >= 8 {
			for _, j := range byFirstLine[v.s] {
				if j != i && (len(n.vals[j].s) > len(v.s) || j < i) {
					echo = true
					break
				}
			}
		}
		if !echo {
			keys, vals = append(keys, n.keys[i]), append(vals, v)
		}
	}
	n.keys, n.vals = keys, vals
	return n
}

// roundNumber shortens a fraction to two decimals: 49.503592 → 49.5.
func roundNumber(s string) string {
	dot := strings.IndexByte(s, '.')
	if dot < 0 || len(s)-dot <= 3 || strings.ContainsAny(s, "eE") {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(roundTo(f, 2), 'f', -1, 64)
}

func roundTo(f float64, decimals int) float64 {
	p := 1.0
	for range decimals {
		p *= 10
	}
	if f < 0 {
		return -float64(int64(-f*p+0.5)) / p
	}
	return float64(int64(f*p+0.5)) / p
}

// pruneString drops machine strings and API links, shortens commit SHAs and
// drops a long value repeated.
func (c *condenser) pruneString(n *node, key string, depth int, seen map[string]bool) *node {
	s := strings.TrimSpace(n.s)
	switch {
	case s == "":
		return nil
	case sha40RE.MatchString(s):
		short := s[:7] // "0000000" still says a ref was created or deleted
		if short != "0000000" {
			if seen["\x00"+short] {
				return nil
			}
			seen["\x00"+short] = true
		}
		return &node{kind: kindString, s: short}
	case longHex.MatchString(s), uuidRE.MatchString(s):
		return nil
	case looksLikeURL(s) || gitURLRE.MatchString(s):
		if !humanURL(s) {
			return nil
		}
	case c.forge() && timestampRE.MatchString(s):
		return nil
	case strings.HasPrefix(s, "/v1/"), strings.HasPrefix(s, "/api/"):
		return nil // an API path
	}
	if utf8.RuneCountInString(s) >= 24 {
		if seen["\x00"+s] {
			return nil
		}
		seen["\x00"+s] = true
	}
	return &node{kind: kindString, s: s}
}

// humanURL reports a URL meant for a browser: not an API endpoint, a URI
// template or a git remote.
func humanURL(s string) bool {
	if tmplURL.MatchString(s) || gitURLRE.MatchString(s) || !isWebURL(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return !strings.HasPrefix(host, "api.") && !strings.Contains(u.Path, "/api/")
}

func isTimeKey(k string) bool {
	switch fk := fold(k); {
	case strings.HasSuffix(k, "_at") || strings.HasSuffix(k, "At"):
		return true
	case fk == "timestamp" || fk == "created" || fk == "updated" || fk == "pushedat" || fk == "date":
		return true
	}
	return false
}

// collapse turns the records forges repeat everywhere into one string:
// users into their login, repositories and projects into their full name
// (the event's own repository keeps its link and description), apps into
// their name. nil leaves n as it is.
func (c *condenser) collapse(n *node, key string, depth int) *node {
	str := func(s string) *node {
		if s == "" {
			return nil
		}
		return &node{kind: kindString, s: s}
	}
	switch {
	case n.has("login") && (n.has("avatar_url") || n.has("node_id") || n.has("html_url")):
		return str(n.str("login"))
	case n.has("username") && (n.has("avatar_url") || n.has("email")):
		return str(n.str("username"))
	case n.has("slug") && n.has("owner") && n.has("permissions"): // a GitHub App
		return str(n.str("name"))
	case n.has("full_name") && (n.has("owner") || n.has("forks_count") || n.has("html_url") && n.has("private")):
		if depth != 1 || (key != "repository" && key != "forkee") {
			return str(n.str("full_name"))
		}
		keep := []string{"full_name", "html_url", "description"}
		switch c.event {
		case "star", "watch", "star.created", "star.deleted", "watch.started":
			keep = append(keep, "stargazers_count")
		case "fork":
			keep = append(keep, "forks_count")
		}
		return pick(n, keep...)
	case n.has("path_with_namespace"):
		if depth != 1 {
			return str(n.str("path_with_namespace"))
		}
		return pick(n, "path_with_namespace", "web_url", "description")
	case depth == 1 && key == "repository" && n.has("git_ssh_url"): // GitLab's legacy repository record
		return pick(n, "name", "homepage", "description")
	}
	return nil
}

// pick copies the named fields of an object that have a value.
func pick(n *node, keys ...string) *node {
	out := &node{kind: kindObject}
	for _, k := range keys {
		if v := n.get(k); v != nil && !v.empty() {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, v)
		}
	}
	return out
}

// keepLinks leaves at most maxLinks URLs in the tree, the formatter's link
// and the others nearest the top first, and drops the rest.
func (c *condenser) keepLinks(root *node) {
	type link struct {
		s     string
		score int
	}
	var links []link
	var walk func(n *node, path string, depth int)
	walk = func(n *node, path string, depth int) {
		for i, v := range n.vals {
			key := ""
			if n.kind == kindObject {
				key = n.keys[i]
			}
			switch {
			case v.kind == kindString && looksLikeURL(v.s):
				links = append(links, link{v.s, urlScore(leaf{path: joinNonEmpty(".", path, key), key: key, value: v.s, depth: depth})})
			case v.kind == kindObject || v.kind == kindArray:
				walk(v, joinNonEmpty(".", path, key), depth+1)
			}
		}
	}
	walk(root, "", 0)
	sort.SliceStable(links, func(i, j int) bool {
		li, lj := links[i], links[j]
		if (li.s == c.link) != (lj.s == c.link) {
			return li.s == c.link
		}
		return li.score > lj.score
	})
	// For the senders Herald knows, the formatter's link is the right one,
	// and the notification gets it when the model names none: the model is
	// not shown it. For others the model may find a better one.
	limit := maxLinks
	if c.source != "" && c.link != "" {
		limit = 0
	}
	allowed := map[string]bool{}
	for _, l := range links {
		if len(allowed) == limit {
			break
		}
		allowed[l.s] = true
	}
	var drop func(n *node) *node
	drop = func(n *node) *node {
		switch {
		case n.kind == kindString && looksLikeURL(n.s) && !allowed[n.s]:
			return nil
		case n.kind != kindObject && n.kind != kindArray:
			return n
		}
		keys, vals := n.keys[:0:0], n.vals[:0:0]
		for i, v := range n.vals {
			if v = drop(v); v == nil {
				continue
			}
			if n.kind == kindObject {
				keys = append(keys, n.keys[i])
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return nil
		}
		n.keys, n.vals = keys, vals
		return n
	}
	drop(root)
}

// write encodes the tree at the condenser's level.
func (c *condenser) write(root *node) string {
	var b strings.Builder
	switch root.kind {
	case kindObject:
		c.writeObject(&b, root, 0)
	case kindArray:
		c.writeArray(&b, "items", root, 0)
	default:
		b.WriteString(c.scalar(root))
	}
	return b.String()
}

func (c *condenser) writeObject(b *strings.Builder, n *node, depth int) {
	for i, k := range n.keys {
		v := n.vals[i]
		for v.kind == kindObject && len(v.keys) == 1 {
			// {"package": {"name": "x"}} reads as "package.name: x".
			k, v = k+"."+v.keys[0], v.vals[0]
		}
		switch v.kind {
		case kindObject:
			if depth+1 >= c.lvl.maxDepth {
				writeLine(b, depth, k, "{"+strconv.Itoa(len(v.keys))+" fields}")
				continue
			}
			writeLine(b, depth, k, "")
			c.writeObject(b, v, depth+1)
		case kindArray:
			c.writeArray(b, k, v, depth)
		default:
			writeLine(b, depth, k, c.scalar(v))
		}
	}
}

// writeArray writes scalars on one line, "[a, b, c]", and objects as "- "
// items; past maxItems the rest is counted.
func (c *condenser) writeArray(b *strings.Builder, key string, v *node, depth int) {
	if pairs(v.vals) {
		// [["browser", "Chrome"], ["level", "error"]] reads as a map.
		writeLine(b, depth, key, "")
		for _, it := range v.vals[:min(len(v.vals), c.lvl.maxItems*2)] {
			writeLine(b, depth+1, it.vals[0].s, c.scalar(it.vals[1]))
		}
		return
	}
	if k, ok := sameSingleKey(v.vals); ok {
		// [{"value": "a"}, {"value": "b"}] reads as "key.value: [a, b]".
		flat := &node{kind: kindArray}
		for _, it := range v.vals {
			flat.vals = append(flat.vals, it.vals[0])
		}
		key, v = key+"."+k, flat
	}
	items := selectItems(v.vals, c.lvl.maxItems)
	more := len(v.vals) - len(items)
	scalars := true
	for _, it := range items {
		if !it.scalar() {
			scalars = false
		}
	}
	if scalars {
		parts := make([]string, 0, len(items)+1)
		for _, it := range items {
			parts = append(parts, c.scalar(it))
		}
		if more > 0 {
			parts = append(parts, "+"+strconv.Itoa(more)+" more")
		}
		writeLine(b, depth, key, "["+strings.Join(parts, ", ")+"]")
		return
	}
	if depth+1 >= c.lvl.maxDepth {
		writeLine(b, depth, key, "["+strconv.Itoa(len(v.vals))+" items]")
		return
	}
	writeLine(b, depth, key, "")
	for _, it := range items {
		indent(b, depth+1)
		b.WriteString("- ")
		switch it.kind {
		case kindObject:
			var sub strings.Builder
			c.writeObject(&sub, it, depth+2)
			// The first field goes on the "- " line.
			b.WriteString(strings.TrimLeft(sub.String(), " "))
		case kindArray:
			b.WriteString("[" + strconv.Itoa(len(it.vals)) + " items]\n")
		default:
			b.WriteString(c.scalar(it) + "\n")
		}
	}
	if more > 0 {
		indent(b, depth+1)
		b.WriteString("- (+" + strconv.Itoa(more) + " more)\n")
	}
}

// selectItems keeps at most max items of a list, in order: those that say
// something failed first (the failed step among a job's steps), then the
// first ones.
func selectItems(items []*node, max int) []*node {
	if len(items) <= max {
		return items
	}
	keep := make([]bool, len(items))
	kept := 0
	for i, it := range items {
		if kept < max && alarming(it) {
			keep[i] = true
			kept++
		}
	}
	for i := range items {
		if kept < max && !keep[i] {
			keep[i] = true
			kept++
		}
	}
	out := make([]*node, 0, max)
	for i, it := range items {
		if keep[i] {
			out = append(out, it)
		}
	}
	return out
}

// alarming reports a value holding a word of failure.
func alarming(n *node) bool {
	if n.scalar() {
		return importanceOf(n.s) == ImportanceHigh
	}
	for _, v := range n.vals {
		if alarming(v) {
			return true
		}
	}
	return false
}

// pairs reports a list of [key, value] pairs.
func pairs(items []*node) bool {
	for _, it := range items {
		if it.kind != kindArray || len(it.vals) != 2 || it.vals[0].kind != kindString || !it.vals[1].scalar() {
			return false
		}
	}
	return len(items) > 0
}

// sameSingleKey reports objects that all have one and the same key, with
// a scalar value.
func sameSingleKey(items []*node) (string, bool) {
	if len(items) == 0 {
		return "", false
	}
	for _, it := range items {
		if it.kind != kindObject || len(it.keys) != 1 || it.keys[0] != items[0].keys[0] || !it.vals[0].scalar() {
			return "", false
		}
	}
	return items[0].keys[0], true
}

func (c *condenser) scalar(v *node) string {
	if v.kind != kindString {
		return v.s
	}
	s := v.s
	if strings.Contains(s, "\n") {
		s = strings.ReplaceAll(clean(s), "\n\n", "\n") // paragraphs need no blank line here
	}
	return quoteIfNeeded(keepEnds(s, c.lvl.maxString), false)
}

// quoteIfNeeded writes a string bare when that cannot be misread, else as a
// JSON string: multi-line text then stays on its line, so that a payload
// cannot write lines of its own into the prompt.
func quoteIfNeeded(s string, multiline bool) string {
	if multiline {
		return clean(s)
	}
	bare := s != "" && s == strings.TrimSpace(s) && !strings.ContainsAny(s, "\n\r\t\"\\") &&
		!strings.ContainsAny(s[:1], "[{-#'") && s != "true" && s != "false" && s != "null"
	if bare {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return s
		}
	}
	var b bytes.Buffer
	writeJSONString(&b, s)
	return b.String()
}

func writeLine(b *strings.Builder, depth int, key, value string) {
	indent(b, depth)
	b.WriteString(quoteKey(key))
	b.WriteString(":")
	if value != "" {
		b.WriteString(" ")
		b.WriteString(value)
	}
	b.WriteString("\n")
}

func quoteKey(k string) string {
	if k != "" && !strings.ContainsAny(k, ":\n\r\t\"\\ ") && !strings.ContainsAny(k[:1], "[{-#'") {
		return k
	}
	var b bytes.Buffer
	writeJSONString(&b, k)
	return b.String()
}

func indent(b *strings.Builder, depth int) {
	for range depth {
		b.WriteByte(' ')
	}
}

// estimateTokens estimates a text's BPE tokens for the GPT-4o family: three
// bytes a token for the ASCII of condensed payloads (English prose packs
// four, ids and URLs two), one token per two other characters. It runs
// on every prompt, so it is arithmetic, not a tokenizer; TestCost compares
// it with the real one.
func estimateTokens(s string) int {
	ascii, other := 0, 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			other++
		}
	}
	return (ascii+2)/3 + (other+1)/2
}

// cutTokens cuts s to about budget tokens at a line or word boundary.
func cutTokens(s string, budget int) string {
	if estimateTokens(s) <= budget {
		return s
	}
	runes := []rune(s)
	lo, hi := 0, len(runes)
	for lo < hi { // the longest prefix within the budget
		mid := (lo + hi + 1) / 2
		if estimateTokens(string(runes[:mid])) <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	cut := string(runes[:lo])
	if i := strings.LastIndexByte(cut, '\n'); i > len(cut)*4/5 {
		cut = cut[:i]
	} else {
		cut = string(runes[:cleanCut(runes, lo)])
	}
	return cut + "\n…(cut)"
}
