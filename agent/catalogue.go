package agent

import (
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
)

// The sender catalogue: senders described in data, one TOML file each under
// catalogue/, embedded in the binary. An entry says how to recognize the
// sender (headers, the body's shape), which event it is, and what the
// message shows: title, summary, typed facts (money, times, people, lists),
// the link, the thread the event belongs to, and its importance with a
// to-do for failures. The format is the contract in
// /work/coord/CATALOGUE_FORMAT.md; every file is validated when loaded and
// by the tests, so a typo is a failing test, not a silent gap.

//go:embed catalogue/*.toml
var catalogueFS embed.FS

// catalogue is the loaded embedded catalogue. An entry that does not load
// is left out and logged; the tests fail on it.
var catalogue = sync.OnceValue(func() *senderCatalogue {
	c, err := loadCatalogue(catalogueFS)
	if err != nil {
		slog.Error("agent: catalogue entries left out", "error", err)
	}
	return c
})

// senderCatalogue is a loaded catalogue, its detection blocks in the order
// they are tried.
type senderCatalogue struct {
	entries []*entry
	blocks  []block
}

// block is one [[detect]] block of an entry: all its conditions must hold.
type block struct {
	e     *entry
	conds []cond
}

// entry is one sender, compiled.
type entry struct {
	id, name, docs string
	priority       int
	base           variant
	cases          []caseVariant
}

// caseVariant is a [[case]]: its variant applies when all of when hold.
type caseVariant struct {
	when []cond
	v    variant
}

// variant is what an event's message is made of; a case's variant is the
// entry's with the fields the case sets replaced.
type variant struct {
	event      []*tmpl
	title      texts
	summary    texts
	facts      []factSpec
	link       []*tmpl
	thread     []*tmpl
	importance Importance
	impSet     bool // the entry (or case) wrote importance
	rules      []rule
	generic    bool // the generic formatter writes what the variant leaves out
}

// texts are templates per language, tried in order.
type texts struct{ en, ru []*tmpl }

func (t texts) of(lang string) []*tmpl {
	if lang == "ru" {
		return t.ru
	}
	return t.en
}

// rule sets the importance (and a to-do) when all of when hold.
type rule struct {
	when       []cond
	importance Importance
	action     texts
}

// factSpec is one [[fact]].
type factSpec struct {
	label    label
	typ      string
	value    []*tmpl
	currency *tmpl
	minor    bool
	unit     string
	until    *tmpl          // a duration's end time: the duration runs from value to it
	zone     *time.Location // the zone of a time written without one
	path     bodyPath
	item     *tmpl
	where    []cond // a list's (a count's) items are those where all hold
	when     []cond
}

// label is a common label key (translated by the locales) or its own text.
type label struct{ key, en, ru string }

func (lb label) text(x *scope) string {
	switch {
	case lb.key != "":
		return x.l.T(labelID(lb.key), nil)
	case x.l.Lang() == "ru":
		return lb.ru
	}
	return lb.en
}

// Fact types.
var factTypes = map[string]bool{
	"text": true, "money": true, "time": true, "duration": true, "person": true, "link": true,
	"list": true, "count": true, "bool": true, "code": true, "number": true,
}

// labelKeys are the common labels; locales/catalogue.*.toml translate each
// as catalogue.label.<key>.
var labelKeys = map[string]bool{}

// labelID is the message id of a common label. go-i18n reserves some
// words as keys of a message table: those end in "_".
func labelID(key string) string {
	switch key {
	case "id", "description", "hash", "translation", "leftdelim", "rightdelim",
		"zero", "one", "two", "few", "many", "other":
		return "catalogue.label." + key + "_"
	}
	return "catalogue.label." + key
}

// countNouns are the nouns {path|count} can name; the locales have each as
// the plural message catalogue.count.<noun>. Any other path counts "items".
var countNouns = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`repository branch tag commit commits author user status state
		severity priority service host environment project build pipeline job duration started finished
		amount currency customer email phone order invoice payment product quantity total description
		reason error url version image alert monitor message title name id plan subscription deal lead
		contact company form answer recipient subject episode series movie media library device player
		count labels assignee team due event type source method card refunded fee income created updated
		expires test comment issue pull_request release workflow step stage runner trigger region
		location address city country account shop site domain sender channel file size path tags
		package registry digest platform actor reviewer milestone target value threshold metric
		incident urgency escalation schedule check response_time uptime level note category
		pipeline_id artifact group organization`) {
		labelKeys[k] = true
	}
	for _, k := range strings.Fields(`items commits alerts files events issues jobs errors changes
		products orders messages attachments recipients tests builds checks incidents monitors
		services hosts tasks steps answers fields images tags comments lines`) {
		countNouns[k] = true
	}
}

// Importance words of a catalogue file.
var importances = map[string]Importance{"low": ImportanceLow, "normal": ImportanceNormal, "high": ImportanceHigh}

// idPattern is what an entry's id (its file name) may be.
var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// loadCatalogue reads and validates every catalogue/*.toml of fsys. Entries
// that fail are left out; the error lists every problem of every file.
func loadCatalogue(fsys fs.FS) (*senderCatalogue, error) {
	names, err := fs.Glob(fsys, "catalogue/*.toml")
	if err != nil {
		return &senderCatalogue{}, fmt.Errorf("agent: catalogue: %w", err)
	}
	sort.Strings(names)
	c := &senderCatalogue{}
	var errs []error
	seen := map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("agent: catalogue %s: %w", name, err))
			continue
		}
		e, blocks, err := parseEntry(strings.TrimSuffix(path.Base(name), ".toml"), b)
		if err != nil {
			errs = append(errs, fmt.Errorf("agent: catalogue %s: %w", name, err))
			continue
		}
		if other, dup := seen[strings.ToLower(e.name)]; dup {
			errs = append(errs, fmt.Errorf("agent: catalogue %s: name %q is %s's already", name, e.name, other))
			continue
		}
		seen[strings.ToLower(e.name)] = e.id
		c.entries = append(c.entries, e)
		c.blocks = append(c.blocks, blocks...)
	}
	// The most specific first: priority, then the number of conditions of
	// the block; the id keeps the order stable.
	sort.SliceStable(c.blocks, func(i, j int) bool {
		a, b := c.blocks[i], c.blocks[j]
		if a.e.priority != b.e.priority {
			return a.e.priority > b.e.priority
		}
		if len(a.conds) != len(b.conds) {
			return len(a.conds) > len(b.conds)
		}
		return a.e.id < b.e.id
	})
	return c, errors.Join(errs...)
}

// Raw TOML shapes. Fields whose TOML may be a string, a list or a table
// (templates, texts, labels) decode through their own UnmarshalTOML, which
// checks their keys itself; toml.MetaData.Undecoded reports every other
// unknown key.
type (
	rawEntry struct {
		ID       string      `toml:"id"`
		Name     string      `toml:"name"`
		Docs     string      `toml:"docs"`
		Priority int         `toml:"priority"`
		Detect   []rawDetect `toml:"detect"`
		rawVariant
		Cases []rawCase `toml:"case"`
	}
	rawDetect struct {
		Header      map[string]string `toml:"header"`
		Body        map[string]string `toml:"body"`
		ContentType string            `toml:"content_type"`
		UserAgent   string            `toml:"user_agent"`
	}
	rawVariant struct {
		Event      *strList   `toml:"event"`
		Title      *rawTexts  `toml:"title"`
		Summary    *rawTexts  `toml:"summary"`
		Facts      *[]rawFact `toml:"fact"`
		Link       *strList   `toml:"link"`
		Thread     *strList   `toml:"thread"`
		Importance *string    `toml:"importance"`
		Rules      *[]rawRule `toml:"rule"`
		Generic    *bool      `toml:"generic"`
	}
	rawCase struct {
		When map[string]string `toml:"when"`
		rawVariant
	}
	rawFact struct {
		Label    rawLabel          `toml:"label"`
		Type     string            `toml:"type"`
		Value    strList           `toml:"value"`
		Currency string            `toml:"currency"`
		Minor    *bool             `toml:"minor"`
		Unit     string            `toml:"unit"`
		Until    string            `toml:"until"`
		Zone     string            `toml:"zone"`
		Path     string            `toml:"path"`
		Item     string            `toml:"item"`
		Where    map[string]string `toml:"where"`
		When     map[string]string `toml:"when"`
	}
	rawRule struct {
		When       map[string]string `toml:"when"`
		Importance string            `toml:"importance"`
		Action     *rawTexts         `toml:"action"`
	}
)

// strList is a string or a list of strings.
type strList []string

// UnmarshalTOML implements toml.Unmarshaler.
func (s *strList) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*s = strList{v}
		return nil
	case []any:
		out := make(strList, 0, len(v))
		for _, item := range v {
			str, ok := item.(string)
			if !ok {
				return fmt.Errorf("a list of strings holds %T", item)
			}
			out = append(out, str)
		}
		*s = out
		return nil
	}
	return fmt.Errorf("want a string or a list of strings, have %T", v)
}

// rawTexts is a string or list for every language, or a table {en, ru} of
// strings or lists (both required).
type rawTexts struct{ en, ru strList }

// UnmarshalTOML implements toml.Unmarshaler.
func (t *rawTexts) UnmarshalTOML(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		var all strList
		if err := all.UnmarshalTOML(v); err != nil {
			return err
		}
		t.en, t.ru = all, all
		return nil
	}
	for k := range m {
		if k != "en" && k != "ru" {
			return fmt.Errorf("unknown language %q (en, ru)", k)
		}
	}
	if m["en"] == nil || m["ru"] == nil {
		return errors.New("a table of texts needs both en and ru")
	}
	if err := t.en.UnmarshalTOML(m["en"]); err != nil {
		return fmt.Errorf("en: %w", err)
	}
	if err := t.ru.UnmarshalTOML(m["ru"]); err != nil {
		return fmt.Errorf("ru: %w", err)
	}
	return nil
}

// rawLabel is a common label key or a table {en, ru}.
type rawLabel struct{ key, en, ru string }

// UnmarshalTOML implements toml.Unmarshaler.
func (lb *rawLabel) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		lb.key = v
		return nil
	case map[string]any:
		for k := range v {
			if k != "en" && k != "ru" {
				return fmt.Errorf("label: unknown language %q (en, ru)", k)
			}
		}
		en, _ := v["en"].(string)
		ru, _ := v["ru"].(string)
		if strings.TrimSpace(en) == "" || strings.TrimSpace(ru) == "" {
			return errors.New("label: a table needs both en and ru strings")
		}
		lb.en, lb.ru = en, ru
		return nil
	}
	return fmt.Errorf("label: want a key or {en, ru}, have %T", v)
}

// parseEntry decodes and validates one file; id is its file name.
func parseEntry(id string, b []byte) (*entry, []block, error) {
	var raw rawEntry
	md, err := toml.Decode(string(b), &raw)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		hint := ""
		for _, k := range und {
			if len(k) >= 2 && (k[0] == "detect" || k[0] == "fact" || k[0] == "rule") {
				hint = " (an entry's own keys — event, title, summary, link, thread, importance — must come before its first [[…]] table: TOML puts a key after [[detect]] into that block)"
				break
			}
		}
		bad("unknown keys: %s%s", strings.Join(keys, ", "), hint)
	}
	if !idPattern.MatchString(id) {
		bad("file name %q is not an id (lowercase a-z0-9-)", id)
	}
	if raw.ID != id {
		bad("id %q differs from the file name %q", raw.ID, id)
	}
	if strings.TrimSpace(raw.Name) == "" || len(raw.Name) > maxSourceName {
		bad("name is empty or longer than %d", maxSourceName)
	}
	if raw.Docs != "" && !isWebURL(raw.Docs) {
		bad("docs %q is not an http(s) URL", raw.Docs)
	}
	e := &entry{id: id, name: strings.TrimSpace(raw.Name), docs: raw.Docs, priority: raw.Priority}
	if len(raw.Detect) == 0 {
		bad("no [[detect]] block")
	}
	var blocks []block
	for i, d := range raw.Detect {
		conds, err := detectConds(d)
		if err != nil {
			bad("detect %d: %w", i+1, err)
			continue
		}
		blocks = append(blocks, block{e: e, conds: conds})
	}
	base, err := compileVariant(variant{importance: ImportanceNormal}, raw.rawVariant, false)
	if err != nil {
		bad("%w", err)
	}
	e.base = base
	for i, rc := range raw.Cases {
		when, err := whenConds(rc.When)
		if err != nil {
			bad("case %d: %w", i+1, err)
			continue
		}
		if len(when) == 0 {
			bad("case %d: no when", i+1)
			continue
		}
		v, err := compileVariant(base, rc.rawVariant, true)
		if err != nil {
			bad("case %d: %w", i+1, err)
			continue
		}
		e.cases = append(e.cases, caseVariant{when: when, v: v})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return e, blocks, nil
}

// compileVariant is base with the fields raw sets replaced. In a case
// (inCase), an empty list clears the entry's candidates: `thread = []` is
// no thread.
func compileVariant(base variant, raw rawVariant, inCase bool) (variant, error) {
	v := base
	var errs []error
	var err error
	list := func(src []string) ([]*tmpl, error) {
		if inCase && len(src) == 0 {
			return nil, nil
		}
		return templates(src)
	}
	text := func(raw rawTexts) (texts, error) {
		if inCase && len(raw.en) == 0 && len(raw.ru) == 0 {
			return texts{}, nil
		}
		return compileTexts(raw)
	}
	if raw.Event != nil {
		if v.event, err = list(*raw.Event); err != nil {
			errs = append(errs, fmt.Errorf("event: %w", err))
		}
	}
	if raw.Title != nil {
		if v.title, err = text(*raw.Title); err != nil {
			errs = append(errs, fmt.Errorf("title: %w", err))
		}
	}
	if raw.Summary != nil {
		if v.summary, err = text(*raw.Summary); err != nil {
			errs = append(errs, fmt.Errorf("summary: %w", err))
		}
	}
	if raw.Link != nil {
		if v.link, err = list(*raw.Link); err != nil {
			errs = append(errs, fmt.Errorf("link: %w", err))
		}
	}
	if raw.Thread != nil {
		if v.thread, err = list(*raw.Thread); err != nil {
			errs = append(errs, fmt.Errorf("thread: %w", err))
		}
		for _, t := range v.thread {
			if t.hasHeader() {
				errs = append(errs, fmt.Errorf("thread %q: a thread key is built from the body only", t.src))
			}
		}
	}
	if raw.Importance != nil {
		imp, ok := importances[*raw.Importance]
		if !ok {
			errs = append(errs, fmt.Errorf("importance %q (low, normal, high)", *raw.Importance))
		}
		v.importance, v.impSet = imp, true
	}
	if raw.Generic != nil {
		v.generic = *raw.Generic
	}
	if raw.Facts != nil {
		v.facts = nil
		for i, rf := range *raw.Facts {
			fs, err := compileFact(rf)
			if err != nil {
				errs = append(errs, fmt.Errorf("fact %d: %w", i+1, err))
				continue
			}
			v.facts = append(v.facts, fs)
		}
	}
	if raw.Rules != nil {
		v.rules = nil
		for i, rr := range *raw.Rules {
			r, err := compileRule(rr)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %d: %w", i+1, err))
				continue
			}
			v.rules = append(v.rules, r)
		}
	}
	return v, errors.Join(errs...)
}

func templates(src []string) ([]*tmpl, error) {
	if len(src) == 0 {
		return nil, errors.New("an empty list")
	}
	out := make([]*tmpl, 0, len(src))
	for _, s := range src {
		t, err := parseTemplate(s)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func compileTexts(raw rawTexts) (texts, error) {
	en, err := templates(raw.en)
	if err != nil {
		return texts{}, err
	}
	ru, err := templates(raw.ru)
	if err != nil {
		return texts{}, err
	}
	return texts{en: en, ru: ru}, nil
}

func compileFact(rf rawFact) (factSpec, error) {
	fs := factSpec{typ: rf.Type, unit: rf.Unit}
	if fs.typ == "" {
		fs.typ = "text"
	}
	if !factTypes[fs.typ] {
		return fs, fmt.Errorf("type %q is not one of text, money, time, duration, person, link, list, count, bool, code, number", rf.Type)
	}
	switch {
	case rf.Label.key != "" && !labelKeys[rf.Label.key]:
		return fs, fmt.Errorf("label %q is not a common label key (use {en = …, ru = …})", rf.Label.key)
	case rf.Label.key == "" && rf.Label.en == "":
		return fs, errors.New("no label")
	}
	fs.label = label(rf.Label)
	var err error
	if fs.when, err = whenConds(rf.When); err != nil {
		return fs, err
	}
	if rf.Minor != nil && fs.typ != "money" {
		return fs, errors.New("minor is for money only")
	}
	if rf.Currency != "" && fs.typ != "money" {
		return fs, errors.New("currency is for money only")
	}
	if rf.Unit != "" && fs.typ != "duration" {
		return fs, errors.New("unit is for durations only")
	}
	if rf.Until != "" && fs.typ != "duration" {
		return fs, errors.New("until is for durations only")
	}
	if rf.Zone != "" {
		if fs.typ != "time" {
			return fs, errors.New("zone is for times only")
		}
		if fs.zone, err = parseZone(rf.Zone); err != nil {
			return fs, err
		}
	}
	if (rf.Path != "" || rf.Item != "") && fs.typ != "list" && fs.typ != "count" {
		return fs, errors.New("path and item are for lists and counts only")
	}
	if len(rf.Where) > 0 {
		if rf.Path == "" {
			return fs, errors.New("where is for lists and counts of a path only")
		}
		if fs.where, err = whenConds(rf.Where); err != nil {
			return fs, fmt.Errorf("where: %w", err)
		}
	}
	switch fs.typ {
	case "list":
		if rf.Path == "" || len(rf.Value) > 0 {
			return fs, errors.New("a list needs path (and item), not value")
		}
		if fs.path, err = parsePath(rf.Path); err != nil {
			return fs, err
		}
		item := rf.Item
		if item == "" {
			item = "{.}"
		}
		if fs.item, err = parseTemplate(item); err != nil {
			return fs, fmt.Errorf("item: %w", err)
		}
		return fs, nil
	case "count":
		if rf.Path != "" {
			if len(rf.Value) > 0 || rf.Item != "" {
				return fs, errors.New("a count has path or value, not both")
			}
			fs.path, err = parsePath(rf.Path)
			return fs, err
		}
	case "money":
		if rf.Currency == "" {
			return fs, errors.New("money needs currency (a template or a code)")
		}
		if fs.currency, err = parseTemplate(rf.Currency); err != nil {
			return fs, fmt.Errorf("currency: %w", err)
		}
		fs.minor = rf.Minor != nil && *rf.Minor
	case "duration":
		if _, ok := parseDuration("1", rf.Unit); !ok {
			return fs, fmt.Errorf("unit %q (s, ms, us, ns, min, h)", rf.Unit)
		}
		if rf.Until != "" {
			if rf.Unit != "" {
				return fs, errors.New("a duration between two times (until) has no unit")
			}
			if fs.until, err = parseTemplate(rf.Until); err != nil {
				return fs, fmt.Errorf("until: %w", err)
			}
		}
	}
	if fs.value, err = templates(rf.Value); err != nil {
		return fs, fmt.Errorf("value: %w", err)
	}
	return fs, nil
}

func compileRule(rr rawRule) (rule, error) {
	r := rule{}
	var err error
	if r.when, err = whenConds(rr.When); err != nil {
		return r, err
	}
	if len(r.when) == 0 {
		return r, errors.New("no when")
	}
	imp, ok := importances[rr.Importance]
	if !ok {
		return r, fmt.Errorf("importance %q (low, normal, high)", rr.Importance)
	}
	r.importance = imp
	if rr.Action != nil {
		if r.action, err = compileTexts(*rr.Action); err != nil {
			return r, fmt.Errorf("action: %w", err)
		}
	}
	return r, nil
}

// cond is one condition of a detect block, a when table or a rule.
type cond struct {
	header      string   // canonical header name; "" for a body path
	path        bodyPath // body path
	contentType bool     // compares the media type of Content-Type
	op          byte     // '*' present and non-empty, '!' absent or empty, '=' equal, '~' matches
	not         bool     // '=' and '~': present and NOT equal (matching)
	val         string
	re          *regexp.Regexp
}

// parseCond reads a condition's value: "*", "!", "~regexp", "!~regexp"
// (present and not matching), "!=value" (present and not equal), or an
// exact value ("=…" for one that starts with one of those).
func parseCond(c cond, v string) (cond, error) {
	switch {
	case v == "*":
		c.op = '*'
	case v == "!":
		c.op = '!'
	case strings.HasPrefix(v, "!~"), strings.HasPrefix(v, "!="):
		// Present, and not matching (not equal).
		c, err := parseCond(c, v[1:])
		c.not = true
		return c, err
	case strings.HasPrefix(v, "~"):
		re, err := regexp.Compile(v[1:])
		if err != nil {
			return c, fmt.Errorf("bad regexp %q: %w", v[1:], err)
		}
		c.op, c.re = '~', re
	case strings.HasPrefix(v, "="):
		c.op, c.val = '=', v[1:]
	case v == "":
		return c, errors.New("an empty condition (use \"!\" for absent)")
	default:
		c.op, c.val = '=', v
	}
	return c, nil
}

func detectConds(d rawDetect) ([]cond, error) {
	var out []cond
	for _, name := range sortedKeys(d.Header) {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("bad header name %q", name)
		}
		c, err := parseCond(cond{header: http.CanonicalHeaderKey(name)}, d.Header[name])
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", name, err)
		}
		out = append(out, c)
	}
	for _, p := range sortedKeys(d.Body) {
		path, err := parsePath(p)
		if err != nil {
			return nil, err
		}
		c, err := parseCond(cond{path: path}, d.Body[p])
		if err != nil {
			return nil, fmt.Errorf("body %s: %w", p, err)
		}
		out = append(out, c)
	}
	if d.ContentType != "" {
		c, err := parseCond(cond{header: "Content-Type", contentType: true}, d.ContentType)
		if err != nil {
			return nil, fmt.Errorf("content_type: %w", err)
		}
		out = append(out, c)
	}
	if d.UserAgent != "" {
		c, err := parseCond(cond{header: "User-Agent"}, d.UserAgent)
		if err != nil {
			return nil, fmt.Errorf("user_agent: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no conditions")
	}
	return out, nil
}

// whenConds reads a when table: body paths, and "header:Name" keys.
func whenConds(m map[string]string) ([]cond, error) {
	var out []cond
	for _, k := range sortedKeys(m) {
		c := cond{}
		if name, ok := strings.CutPrefix(k, "header:"); ok {
			if !validHeaderName(name) {
				return nil, fmt.Errorf("bad header name %q", name)
			}
			c.header = http.CanonicalHeaderKey(name)
		} else if k != "." { // "." is the value itself (a list's item)
			path, err := parsePath(k)
			if err != nil {
				return nil, err
			}
			c.path = path
		}
		c, err := parseCond(c, m[k])
		if err != nil {
			return nil, fmt.Errorf("when %s: %w", k, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// holds reports whether the condition holds for the event.
func (c cond) holds(x *scope) bool {
	var s string
	present := false
	switch {
	case c.contentType:
		mt, _, err := mime.ParseMediaType(x.ev.ContentType)
		if err != nil {
			mt = strings.ToLower(strings.TrimSpace(x.ev.ContentType))
		}
		s, present = mt, mt != ""
	case c.header != "":
		s = strings.TrimSpace(x.ev.header(c.header))
		present = s != ""
	case c.path.wild(): // any value the path reaches
		if c.op == '!' { // none of them is present
			return !c.path.reach(x.root, func(_ string, n *node) bool { return n.empty() })
		}
		return c.path.reach(x.root, func(_ string, n *node) bool { return !c.test(n) })
	default:
		return c.test(x.root.get(c.path.keys...))
	}
	return c.compare(s, present)
}

// test is the condition on one body value. JSON's null compares as the
// text "null" (it is still absent for "*" and "!"), as true and false
// compare as "true" and "false".
func (c cond) test(n *node) bool {
	var s string
	present := false
	if n != nil && n.kind == kindNull && (c.op == '=' || c.op == '~') {
		return c.compare("null", true)
	}
	if n != nil && !n.empty() {
		present = true
		if n.scalar() {
			s = strings.TrimSpace(n.s)
		}
	}
	return c.compare(s, present)
}

// compare is the condition on a value's text.
func (c cond) compare(s string, present bool) bool {
	switch c.op {
	case '*':
		return present
	case '!':
		return !present
	case '=':
		if c.contentType {
			return present && strings.EqualFold(s, c.val) != c.not
		}
		return present && (s == c.val) != c.not
	case '~':
		return present && c.re.MatchString(s) != c.not
	}
	return false
}

func allHold(conds []cond, x *scope) bool {
	for _, c := range conds {
		if !c.holds(x) {
			return false
		}
	}
	return true
}

// match finds the entry of the first detection block that holds, among
// the entries tried before the built-in senders (priority >= 0: early) or
// after them (priority < 0).
func (c *senderCatalogue) match(x *scope, early bool) *entry {
	for _, b := range c.blocks {
		if (b.e.priority >= 0) != early {
			continue
		}
		if allHold(b.conds, x) {
			return b.e
		}
	}
	return nil
}

// catalogueTree is the body as the catalogue reads it: the JSON, or the
// form as a tree; nil for text.
func catalogueTree(p payload) *node {
	if p.root != nil {
		return p.root
	}
	if p.form != nil {
		return formTree(p.form)
	}
	return nil
}

// catalogueSender is the sender of the first catalogue entry that matches,
// among those tried before the built-in senders (early) or after them.
func catalogueSender(p payload, tree *node, early bool) (sender, bool) {
	l := defaultBundle().For("en") // the event name is not translated
	x := &scope{ev: p.ev, root: tree, l: l, f: &formatter{l: l, p: p}}
	e := catalogue().match(x, early)
	if e == nil {
		return sender{}, false
	}
	return e.sender(x), true
}

// sender is the entry's sender for the event of x.
func (e *entry) sender(x *scope) sender {
	v := &e.base
	for i := range e.cases {
		if allHold(e.cases[i].when, x) {
			v = &e.cases[i].v
			break
		}
	}
	if v.generic {
		return v.overGeneric(e.name, x)
	}
	return sender{source: e.name, event: maskText(first(v.event, x)), format: func(f *formatter) Notification {
		fx := *x
		fx.l, fx.f = f.l, f
		return v.format(&fx)
	}}
}

// overGeneric is the sender of a variant with generic = true: the sender
// is named (the entry's name), and the generic formatter writes the
// message, as it would for a sender Herald does not know (n8n posts
// whatever its workflow's author wrote). What the variant writes and can
// fill wins: its event, title, summary, link and thread; its facts come
// first, the generic ones after them; a rule that holds (or an importance
// the variant writes) sets the importance.
func (v *variant) overGeneric(name string, x *scope) sender {
	p := payload{ev: x.ev}
	if x.f != nil {
		p = x.f.p
	}
	g := genericSender(p)
	event := first(v.event, x)
	if event == "" {
		event = g.event
	}
	return sender{source: name, event: maskText(event), format: func(f *formatter) Notification {
		fx := *x
		fx.l, fx.f = f.l, f
		own := v.format(&fx)
		n := g.format(f)
		n.Title = cmp.Or(own.Title, n.Title)
		n.Summary = cmp.Or(own.Summary, n.Summary)
		n.Link = cmp.Or(own.Link, n.Link)
		n.Thread = cmp.Or(own.Thread, n.Thread)
		if v.impSet || v.holding(&fx) != nil {
			n.Importance, n.Action = own.Importance, cmp.Or(own.Action, n.Action)
		}
		facts := own.Facts
		for _, fc := range n.Facts {
			if len(facts) >= maxFacts && fc.Label != "" {
				continue // the generic "…and N more fields" line stays
			}
			dup := false
			for _, o := range own.Facts {
				dup = dup || o.Value == fc.Value
			}
			if !dup {
				facts = append(facts, fc)
			}
		}
		n.Facts = facts
		return n
	}}
}

// holding is the first rule of the variant that holds, nil when none does.
func (v *variant) holding(x *scope) *rule {
	for i := range v.rules {
		if allHold(v.rules[i].when, x) {
			return &v.rules[i]
		}
	}
	return nil
}

// format writes the notification of a variant.
func (v *variant) format(x *scope) Notification {
	lang := x.l.Lang()
	n := Notification{
		Title:      maskText(first(v.title.of(lang), x)),
		Summary:    maskText(first(v.summary.of(lang), x)),
		Link:       firstPage(v.link, x), // isWebURL refuses a link with a credential in it
		Thread:     maskText(first(v.thread, x)),
		Importance: v.importance,
	}
	if n.Importance == "" {
		n.Importance = ImportanceNormal
	}
	if r := v.holding(x); r != nil {
		n.Importance = r.importance
		n.Action = maskText(first(r.action.of(lang), x))
	}
	for _, fs := range v.facts {
		if len(n.Facts) == maxFacts {
			break
		}
		if !allHold(fs.when, x) {
			continue
		}
		if val := maskText(fs.render(x)); val != "" {
			n.Facts = append(n.Facts, Fact{Label: fs.label.text(x), Value: val})
		}
	}
	return n
}

// firstPage is the first candidate that is a page a person opens.
func firstPage(ts []*tmpl, x *scope) string {
	for _, t := range ts {
		if s, ok := t.eval(x); ok && isPageURL(s) {
			return s
		}
	}
	return ""
}

// maxListItems is how many items a list fact shows.
const maxListItems = 3

// render is a fact's value, by its type; "" leaves the fact out.
func (fs *factSpec) render(x *scope) string {
	lang := x.l.Lang()
	switch fs.typ {
	case "list":
		return fs.list(x)
	case "count":
		switch {
		case fs.path.wild() || fs.where != nil:
			c := 0
			fs.eachItem(x, func(*node) bool { c++; return true })
			if c == 0 {
				return ""
			}
			return itoa(int64(c))
		case fs.path.keys != nil:
			n := x.root.get(fs.path.keys...)
			if n == nil || (n.kind != kindArray && n.kind != kindObject) {
				return ""
			}
			return itoa(int64(len(n.vals)))
		}
	}
	s := first(fs.value, x)
	if s == "" {
		return ""
	}
	switch fs.typ {
	case "money":
		cur, _ := fs.currency.eval(x)
		if m, ok := formatAmount(s, cur, fs.minor, lang); ok {
			return m
		}
		if neg, whole, frac, ok := parseDecimal(s); ok && fs.minor && strings.Trim(frac, "0") == "" {
			// Minor units of a currency the engine does not know (or none
			// given): cents, never the raw count shown as if it were major.
			c := currencyStub(cur)
			whole, frac = shiftPoint(whole, c.exp)
			return strings.TrimSpace(writeMoney(neg, whole, frac, c, lang))
		}
		return joinNonEmpty(" ", s, cur)
	case "time":
		if w, ok := parseTime(s); ok {
			if !w.zone && !w.noTime && fs.zone != nil {
				y, mo, d := w.t.Date()
				w.t = time.Date(y, mo, d, w.t.Hour(), w.t.Minute(), w.t.Second(), w.t.Nanosecond(), fs.zone)
				w.zone = true
			}
			return writeTime(w, lang)
		}
	case "duration":
		if fs.until != nil {
			end, _ := fs.until.eval(x)
			if d, ok := between(s, end); ok {
				return formatDuration(d, lang)
			}
			return "" // not two times, or the end before the start: nothing to say
		}
		if d, ok := parseDuration(s, fs.unit); ok {
			return formatDuration(d, lang)
		}
	case "number":
		if neg, whole, frac, ok := parseDecimal(s); ok {
			out := group(whole, thousandsSep[lang])
			if thousandsSep[lang] == "" {
				out = group(whole, ",")
			}
			if frac != "" {
				out += "." + frac
			}
			if neg {
				out = "-" + out
			}
			return out
		}
	case "bool":
		switch strings.ToLower(s) {
		case "true", "1", "yes", "y", "on":
			return x.f.yesNo(true)
		case "false", "0", "no", "n", "off":
			return x.f.yesNo(false)
		}
	}
	return s
}

// parseZone reads a time fact's zone: "UTC" or an offset "+03:00".
func parseZone(s string) (*time.Location, error) {
	if s == "UTC" || s == "Z" {
		return time.UTC, nil
	}
	if t, err := time.Parse("-07:00", s); err == nil {
		_, off := t.Zone()
		return time.FixedZone(s, off), nil
	}
	return nil, fmt.Errorf("zone %q (UTC or an offset such as +03:00)", s)
}

// between is the time from start to end, two timestamps parseTime reads
// that both give a zone or both do not; ok is false when the end comes
// first.
func between(start, end string) (time.Duration, bool) {
	a, ok1 := parseTime(start)
	b, ok2 := parseTime(end)
	if !ok1 || !ok2 || a.zone != b.zone || a.noTime != b.noTime {
		return 0, false
	}
	d := b.t.Sub(a.t)
	return d, d >= 0
}

// list is the items of a list fact: up to maxListItems, then "…and N
// more" for the items after them (not formatted: a hostile array of a
// million items costs no more than three, and its where conditions).
func (fs *factSpec) list(x *scope) string {
	var items []string
	more := 0
	fs.eachItem(x, func(it *node) bool {
		if len(items) == maxListItems {
			more++
			return true
		}
		if s, ok := fs.item.eval(x.at(it)); ok && s != "" {
			items = append(items, clamp(oneLine(s), maxFactValue/maxListItems))
		}
		return true
	})
	out := strings.Join(items, "; ")
	if more > 0 && len(items) > 0 {
		out += "; " + x.l.N("catalogue.more", more, nil)
	}
	return out
}

// eachItem calls fn with every item of a list's (or a count's) path until
// fn returns false: the elements of the array the path names, or, for a
// path with "*", every value it reaches (an array it reaches gives its
// elements); with where, only the items where all its conditions hold.
func (fs *factSpec) eachItem(x *scope, fn func(*node) bool) {
	if fs.where != nil {
		all, ix := fn, *x // one scope for every item: no allocation per item
		fn = func(it *node) bool {
			ix.root = it
			return !allHold(fs.where, &ix) || all(it)
		}
	}
	each := func(n *node) bool {
		if n.kind != kindArray {
			return fn(n)
		}
		for _, it := range n.vals {
			if !fn(it) {
				return false
			}
		}
		return true
	}
	if !fs.path.wild() {
		if n := x.root.get(fs.path.keys...); n != nil && n.kind == kindArray {
			each(n)
		}
		return
	}
	fs.path.reach(x.root, func(_ string, n *node) bool { return n.empty() || each(n) })
}
