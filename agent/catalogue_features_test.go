package agent

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// evalIn fills the template src against a body read as the catalogue reads
// it, in lang.
func evalIn(t *testing.T, lang, ct, body, src string) (string, bool) {
	t.Helper()
	tm, err := parseTemplate(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	ev := Event{ContentType: ct, Body: []byte(body), Headers: map[string]string{"X-Event": "build.complete"}}
	l := defaultBundle().For(lang)
	f := &formatter{l: l, p: decode(ev)}
	return tm.eval(&scope{ev: ev, root: catalogueTree(f.p), l: l, f: f})
}

// TestCatalogue_BodyWithBOM: a .NET sender's JSON starts with a UTF-8 byte
// order mark (Microsoft's own Azure DevOps fixture does); the catalogue
// reads it as JSON whatever its label, +json media types included, and
// detects its entry.
func TestCatalogue_BodyWithBOM(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"ado": "event = \"{eventType}\"\n[[detect]]\nbody = { eventType = \"~^build\\\\.\", \"resource.id\" = \"*\" }\n",
	})
	body := "\xef\xbb\xbf{\r\n  \"eventType\": \"build.complete\",\r\n  \"resource\": {\"id\": 2}\r\n}"
	for _, ct := range []string{
		"application/json; charset=utf-8",
		"application/vnd.microsoft.vsts+json",
		"text/plain; charset=utf-8", // as ingest stores a labelled JSON body it could not parse
		"",
	} {
		t.Run(ct, func(t *testing.T) {
			got, ok := evalIn(t, "en", ct, body, "{eventType} {resource.id}")
			if got != "build.complete 2" || !ok {
				t.Errorf("eval = %q, %v; want the JSON read past its BOM", got, ok)
			}
			ev := Event{ContentType: ct, Body: []byte(body)}
			p := decode(ev)
			x := &scope{ev: ev, root: catalogueTree(p)}
			if e := c.match(x, true); e == nil || e.id != "ado" {
				t.Errorf("matched %v, want ado", e)
			}
		})
	}
	// A BOM in the middle of a body is text, not a mark.
	if p := decode(Event{ContentType: "text/plain", Body: []byte("hi \xef\xbb\xbf{}")}); p.root != nil {
		t.Errorf("a text body with a BOM inside is read as JSON")
	}
}

func TestParsePath(t *testing.T) {
	valid := []struct {
		src  string
		keys []string
		wild bool
	}{
		{"a.b.0.c", []string{"a", "b", "0", "c"}, false},
		{`a["x.y"].b`, []string{"a", "x.y", "b"}, false},
		{`scan_overview["application/vnd.security.vulnerability.report; version=1.1"].severity`,
			[]string{"scan_overview", "application/vnd.security.vulnerability.report; version=1.1", "severity"}, false},
		{`["System.Title"]`, []string{"System.Title"}, false},
		{`a["x"]["y"]`, []string{"a", "x", "y"}, false},
		{`a.["x{|}y"]`, []string{"a", "x{|}y"}, false},
		{`a["*"]`, []string{"a", "*"}, false}, // a key named *, not any
		{"events.*.action", []string{"events", "*", "action"}, true},
		{"a[b", []string{"a[b"}, false}, // a flat form key, as before
	}
	for _, tt := range valid {
		p, err := parsePath(tt.src)
		if err != nil {
			t.Errorf("parsePath(%q): %v", tt.src, err)
			continue
		}
		if strings.Join(p.keys, "|") != strings.Join(tt.keys, "|") || p.wild() != tt.wild {
			t.Errorf("parsePath(%q) = %q wild %v, want %q wild %v", tt.src, p.keys, p.wild(), tt.keys, tt.wild)
		}
	}
	for _, src := range []string{"", "a..b", "a.", ".a", `a["x`, `a[""]`, `a["x"]b`, `a["x"].`, "a b", "a{b", `a"b`, strings.Repeat("a.", 70) + "a"} {
		if _, err := parsePath(src); err == nil {
			t.Errorf("parsePath(%q) is accepted", src)
		}
	}
}

// harborScan is Harbor's documented SCANNING_COMPLETED, cut to what the
// tests read, with a second resource whose scan found critical ones.
const harborScan = `{"type":"SCANNING_COMPLETED","x}|y":"odd","event_data":{"resources":[
 {"digest":"sha256:954b","scan_overview":{"application/vnd.security.vulnerability.report; version=1.1":{"severity":"None","summary":{"total":0}}}},
 {"digest":"sha256:1a2b","scan_overview":{"application/vnd.security.vulnerability.report; version=1.1":{"severity":"Critical","summary":{"total":3}}}}],
 "credentials":{"access_token":"tok-123456"},
 "events":[{"action":"created","details":null},{"action":"failed","details":{"cause":"bank_account_disabled"}}]}}`

func TestTemplate_QuotedAndAnyStep(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{event_data.resources.0.scan_overview["application/vnd.security.vulnerability.report; version=1.1"].severity}`, "None"},
		{`{event_data.resources.1.scan_overview["application/vnd.security.vulnerability.report; version=1.1"].summary.total|len}`, "3"},
		{"{event_data.resources.0.scan_overview.*.severity}", "None"},
		{"{event_data.resources.*.digest}", "sha256:954b"},               // the first that says something
		{"{event_data.events.*.details.cause}", "bank_account_disabled"}, // null details skipped
		{"{event_data.credentials.*}", Masked},                           // * reaches a credential's key
		{"{event_data.missing.*.x}", ""},
		{"{type.*}", ""}, // * of a scalar reaches nothing
		{`{["x}|y"]|upper}`, "ODD"},
		{`{["x}|y"]} and {type|lower}`, "odd and scanning_completed"},
	}
	for _, tt := range tests {
		got, _ := evalIn(t, "en", "application/json", harborScan, tt.src)
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestCond_AnyElement(t *testing.T) {
	root, err := parseJSON([]byte(harborScan))
	if err != nil {
		t.Fatal(err)
	}
	x := &scope{root: root}
	tests := []struct {
		key, val string
		want     bool
	}{
		{"event_data.events.*.action", "failed", true},  // the second event
		{"event_data.events.0.action", "failed", false}, // what entries had to write before
		{"event_data.events.*.action", "~^(charged_back|refunded)$", false},
		{"event_data.events.*.action", "*", true},
		{"event_data.events.*.action", "!", false},
		{"event_data.events.*.missing", "!", true},
		{"event_data.events.*.details", "!", false}, // one is null, the other present
		{"event_data.resources.*.scan_overview.*.severity", "~^(Critical|High)$", true},
		{`event_data.resources.0.scan_overview["application/vnd.security.vulnerability.report; version=1.1"].severity`, "None", true},
		{"event_data.nothing.*", "!", true},
		{"event_data.nothing.*", "*", false},
	}
	for _, tt := range tests {
		conds, err := whenConds(map[string]string{tt.key: tt.val})
		if err != nil {
			t.Fatalf("%s: %v", tt.key, err)
		}
		if got := conds[0].holds(x); got != tt.want {
			t.Errorf("%s = %q holds: %v, want %v", tt.key, tt.val, got, tt.want)
		}
	}
}

func TestCatalogue_ListAnyStep(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"scan": `[[detect]]
body = { type = "SCANNING_COMPLETED" }
[[fact]]
label = "image"
type = "list"
path = "event_data.resources.*.scan_overview.*"
item = "{severity} ({summary.total})"
[[fact]]
label = "count"
type = "count"
path = "event_data.events.*.details"
[[rule]]
when = { "event_data.resources.*.scan_overview.*.severity" = "~^(Critical|High)$" }
importance = "high"
`,
	})
	n := formatWith(t, c, "en", "application/json", harborScan)
	want := []Fact{{"Image", "None (0); Critical (3)"}, {"Count", "1"}}
	if d := diffNotification(Notification{Source: "SCAN", Importance: ImportanceHigh, Facts: want}, n); d != "" {
		t.Error(d)
	}
}

// formatWith formats a body through the entries of c, as Format would.
func formatWith(t *testing.T, c *senderCatalogue, lang, ct, body string) Notification {
	t.Helper()
	ev := Event{ContentType: ct, Body: []byte(body)}
	l := defaultBundle().For(lang)
	f := &formatter{l: l, p: decode(ev)}
	x := &scope{ev: ev, root: catalogueTree(f.p), l: l, f: f}
	e := c.match(x, true)
	if e == nil {
		t.Fatal("no entry matched")
	}
	s := e.sender(x)
	n := s.format(f)
	n.Source, n.Event = s.source, s.event
	return n
}

// TestParseEntry_InvalidAdditions are the load errors of the format's
// later additions.
func TestParseEntry_InvalidAdditions(t *testing.T) {
	detect := "[[detect]]\nheader = { \"X-Event\" = \"*\" }\n"
	tests := []struct{ name, src, want string }{
		{"UntilOnText", detect + "[[fact]]\nlabel = \"status\"\nvalue = \"{a}\"\nuntil = \"{b}\"\n", "until is for durations only"},
		{"UntilWithUnit", detect + "[[fact]]\nlabel = \"duration\"\ntype = \"duration\"\nvalue = \"{a}\"\nuntil = \"{b}\"\nunit = \"ms\"\n", "has no unit"},
		{"UntilBadTemplate", detect + "[[fact]]\nlabel = \"duration\"\ntype = \"duration\"\nvalue = \"{a}\"\nuntil = \"{b\"\n", "until: template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseEntry("x", []byte(minimal+tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseEntry error = %v, want one with %q", err, tt.want)
			}
		})
	}
}

// TestCatalogue_DurationUntil: CI and monitoring senders give a job's or an
// incident's two ends, not its length (CircleCI started_at/stopped_at, New
// Relic's epoch milliseconds).
func TestCatalogue_DurationUntil(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"ci": `[[detect]]
body = { job = "*" }
[[fact]]
label = "duration"
type = "duration"
value = "{job.started_at}"
until = "{job.stopped_at}"
`,
	})
	tests := []struct{ name, lang, job, want string }{
		{"ISO", "en", `{"started_at":"2021-09-01T22:49:34.317Z","stopped_at":"2021-09-01T22:49:48.213Z"}`, "14 s"}, // 13.896 s
		{"ISOZones", "en", `{"started_at":"2024-03-05T14:00:00Z","stopped_at":"2024-03-05T17:05:00+03:00"}`, "5 min"},
		{"EpochMillis", "ru", `{"started_at":1709647620000,"stopped_at":1709651283000}`, "1 ч 1 мин"},
		{"EndFirst", "en", `{"started_at":"2024-03-05T14:07:00Z","stopped_at":"2024-03-05T14:00:00Z"}`, ""},
		{"NoEnd", "en", `{"started_at":"2024-03-05T14:07:00Z","stopped_at":null}`, ""},
		{"NotATime", "en", `{"started_at":"soon","stopped_at":"later"}`, ""},
		{"ZoneAndNone", "en", `{"started_at":"2024-03-05T14:00:00Z","stopped_at":"2024-03-05 14:05:00"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := formatWith(t, c, tt.lang, "application/json", `{"job":`+tt.job+`}`)
			got := ""
			if len(n.Facts) > 0 {
				got = n.Facts[0].Value
			}
			if got != tt.want {
				t.Errorf("duration %q, want %q", got, tt.want)
			}
		})
	}
}

// sonarGate is SonarQube's documented failed quality gate, cut to its
// conditions: one passes, two fail.
const sonarGate = `{"qualityGate":{"status":"ERROR","conditions":[
 {"metric":"maintainability_rating","operator":"GREATER_THAN","value":"1","status":"OK","errorThreshold":"1"},
 {"metric":"coverage","operator":"LESS_THAN","value":"0.0","status":"ERROR","errorThreshold":"80"},
 {"metric":"duplicated_lines_density","operator":"GREATER_THAN","value":"89.39","status":"ERROR","errorThreshold":"3"}]},
 "tags":["ok","fail-1","fail-2","ok","fail-3","fail-4"]}`

func TestCatalogue_ListWhere(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"gate": `[[detect]]
body = { qualityGate = "*" }
[[fact]]
label = { en = "Failed", ru = "Не пройдены" }
type = "list"
path = "qualityGate.conditions"
item = "{metric|human}: {value} (limit {errorThreshold})"
where = { status = "ERROR" }
[[fact]]
label = "count"
type = "count"
path = "qualityGate.conditions"
where = { status = "ERROR", metric = "~^dup" }
[[fact]]
label = "tags"
type = "list"
path = "tags"
where = { "." = "~^fail" }
[[fact]]
label = "check"
type = "count"
path = "qualityGate.conditions"
where = { status = "WARN" }
`,
	})
	n := formatWith(t, c, "en", "application/json", sonarGate)
	want := []Fact{
		{"Failed", "coverage: 0.0 (limit 80); duplicated lines density: 89.39 (limit 3)"},
		{"Count", "1"},
		{"Tags", "fail-1; fail-2; fail-3; …and 1 more"}, // the rest counts matching items only
	}
	if d := diffNotification(Notification{Source: "GATE", Importance: ImportanceNormal, Facts: want}, n); d != "" {
		t.Error(d)
	}
	if _, _, err := parseEntry("x", []byte(minimal+"[[detect]]\nbody = { a = \"*\" }\n[[fact]]\nlabel = \"status\"\nvalue = \"{a}\"\nwhere = { b = \"1\" }\n")); err == nil ||
		!strings.Contains(err.Error(), "where is for lists and counts") {
		t.Errorf("where on a text fact: %v", err)
	}
}

func TestTemplate_RegexpCapture(t *testing.T) {
	// Azure DevOps' old build payloads hold the branch and the commit in
	// sourceGetVersion (Microsoft's fixture).
	body := `{"sourceGetVersion":"LG:refs/heads/master:600c52d2d5b655caa111abfd863e5a9bd304bb0e","n":"build 2024-03-05 #17",
		"url":"https://ci.example.com/hook?token=abcdef123456&x=1","s":"a|b}c"}`
	tests := []struct {
		src, want string
		ok        bool
	}{
		{"{sourceGetVersion|re:^LG:refs/heads/([^:]+):}", "master", true},
		{"{sourceGetVersion|re:^LG:[^:]+:([0-9a-f]{7})}", "600c52d", true},                              // braces of a count
		{"{sourceGetVersion|re:[0-9a-f]{40}$|short}", "600c52d2d5b655caa111abfd863e5a9bd304bb0e", true}, // "|short" is the regexp's
		{"{sourceGetVersion|re:[0-9a-f]{40}}", "600c52d2d5b655caa111abfd863e5a9bd304bb0e", true},        // no group: the match
		{"{sourceGetVersion|upper|re:^LG:REFS/HEADS/(\\w+)}", "MASTER", true},
		{"{n|re:#(\\d+)$} of {n|re:(\\d{4}-\\d{2}-\\d{2})}", "17 of 2024-03-05", true},
		{"{n|re:^(nomatch)}", "", false},
		{"{n|re:(x)?build}", "", false},          // the group took no part
		{"{s|re:a\\|b(\\}c)}", "}c", true},       // an escaped brace
		{"{url|re:token=([^&]+)}", Masked, true}, // masked before the group cuts it out
	}
	for _, tt := range tests {
		got, ok := evalIn(t, "en", "application/json", body, tt.src)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tt.src, got, ok, tt.want, tt.ok)
		}
	}
	for _, src := range []string{"{a|re:}", "{a|re:(}", "{a|re:x{2}", "{a|bogus|re:x}"} {
		if _, err := parseTemplate(src); err == nil {
			t.Errorf("parseTemplate(%q) is accepted", src)
		}
	}
}

// TestFormTree_JSONField: CloudPayments posts a form whose Data field holds
// the JSON the shop passed with the payment; the catalogue reads it as a
// subtree.
func TestFormTree_JSONField(t *testing.T) {
	form := "TransactionId=666&Amount=123.00&Data=" + url.QueryEscape(`{"orderId":"A-7","items":[{"name":"Tea"}],"byIndex":{"0":"a","1":"b"},"inner":"{\"x\":1}","api_token":"s3cr3t-value"}`) +
		"&Note=" + url.QueryEscape("[WARN] not JSON") + "&List=" + url.QueryEscape(`[1,2]`)
	tests := []struct{ src, want string }{
		{"{Data.orderId}", "A-7"},
		{"{Data.items.0.name}", "Tea"},
		{"{Data.byIndex.0}", "a"},     // a JSON object keyed 0, 1 stays one
		{"{Data.byIndex|len}", "2"},   // (an array would count the same: see below)
		{`{Data.inner}`, `{"x":1}`},   // the JSON's own strings stay strings
		{"{Data.api_token}", Masked},  // a credential inside is still one
		{"{Note}", "[WARN] not JSON"}, // not JSON: text
		{"{List}", "1, 2"},            // an array of scalars
		{"{Data}", ""},                // an object is not text
		{"{TransactionId}", "666"},
	}
	for _, tt := range tests {
		got, _ := evalIn(t, "en", "application/x-www-form-urlencoded", form, tt.src)
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.src, got, tt.want)
		}
	}
	tree := catalogueTree(decode(Event{ContentType: "application/x-www-form-urlencoded", Body: []byte(form)}))
	if n := tree.get("Data", "byIndex"); n == nil || n.kind != kindObject {
		t.Errorf("Data.byIndex = %+v, want the JSON object", n)
	}
	if got := PayloadSecrets(Event{ContentType: "application/x-www-form-urlencoded", Body: []byte(form)}); len(got) != 1 || got[0] != "s3cr3t-value" {
		t.Errorf("PayloadSecrets = %q, want the token inside Data", got)
	}
}

// TestCatalogue_Generic: an entry that names its sender and leaves the
// message to the generic formatter (n8n posts whatever the workflow's
// author wrote; the body is the one n8n's own HTTP Request test posts).
func TestCatalogue_Generic(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"n8n": `generic = true
event = ["{event}"]
[[detect]]
user_agent = "~^n8n$"
`,
		"hook": `generic = true
title = ["Deploy {service}"]
thread = "{service}"
[[detect]]
header = { "X-Hook" = "*" }
[[fact]]
label = "service"
value = "{service}"
[[rule]]
when = { status = "failed" }
importance = "high"
action.en = "Look at {service}"
action.ru = "Посмотрите {service}"
[[case]]
when = { status = "skipped" }
generic = false
title = "Skipped"
`,
	})
	match := func(headers map[string]string, body string) (Notification, Notification) {
		ev := Event{ContentType: "application/json", Headers: headers, Body: []byte(body)}
		l := defaultBundle().For("en")
		f := &formatter{l: l, p: decode(ev)}
		x := &scope{ev: ev, root: catalogueTree(f.p), l: l, f: f}
		e := c.match(x, true)
		if e == nil {
			t.Fatal("no entry matched")
		}
		s := e.sender(x)
		n := s.format(f)
		n.Source, n.Event = s.source, s.event
		g := genericSender(f.p)
		gn := g.format(f)
		gn.Event = g.event
		return n, gn
	}
	t.Run("NamesTheSenderOnly", func(t *testing.T) {
		body := `{"todo":"Use DummyJSON in the project","completed":false,"userId":15}`
		n, g := match(map[string]string{"User-Agent": "n8n"}, body)
		if n.Source != "N8N" || n.Event != g.Event || n.Title != g.Title || n.Importance != g.Importance || len(g.Facts) == 0 {
			t.Errorf("got %+v, want the generic formatter's %+v named N8N", n, g)
		}
		if d := diffNotification(Notification{Source: "N8N", Event: g.Event, Title: g.Title, Summary: g.Summary, Link: g.Link, Importance: g.Importance, Facts: g.Facts}, n); d != "" {
			t.Error(d)
		}
	})
	t.Run("OwnEventWins", func(t *testing.T) {
		n, g := match(map[string]string{"User-Agent": "n8n"}, `{"event":"order.paid","type":"x","total":5}`)
		if n.Event != "order.paid" || g.Event == "" {
			t.Errorf("event %q (generic %q), want the entry's order.paid", n.Event, g.Event)
		}
		n, g = match(map[string]string{"User-Agent": "n8n"}, `{"kind":"ping","total":5}`)
		if n.Event != g.Event || n.Event != "ping" {
			t.Errorf("event %q, want the generic formatter's %q", n.Event, g.Event)
		}
	})
	t.Run("OwnFactsFirstRulesHold", func(t *testing.T) {
		n, g := match(map[string]string{"X-Hook": "1"}, `{"service":"api","status":"failed","region":"eu","build":42}`)
		if n.Title != "Deploy api" || n.Thread != "api" || n.Importance != ImportanceHigh || n.Action != "Look at api" {
			t.Errorf("got %+v", n)
		}
		if len(n.Facts) < 2 || n.Facts[0] != (Fact{"Service", "api"}) {
			t.Fatalf("facts %v, want Service first, then the generic ones", n.Facts)
		}
		for _, fc := range n.Facts[1:] {
			if fc.Value == "api" {
				t.Errorf("the generic formatter's %v repeats the entry's fact", fc)
			}
		}
		if len(n.Facts) != len(g.Facts) {
			t.Errorf("facts %v, want the entry's and the generic %v less its service", n.Facts, g.Facts)
		}
		n, g = match(map[string]string{"X-Hook": "1"}, `{"service":"api","status":"ok"}`)
		if n.Importance != g.Importance || n.Action != "" {
			t.Errorf("no rule holds: importance %q action %q, want the generic formatter's %q", n.Importance, n.Action, g.Importance)
		}
	})
	t.Run("CaseTurnsItOff", func(t *testing.T) {
		n, _ := match(map[string]string{"X-Hook": "1"}, `{"service":"api","status":"skipped","region":"eu"}`)
		if d := diffNotification(Notification{Source: "HOOK", Title: "Skipped", Thread: "api", Importance: ImportanceNormal, Facts: []Fact{{"Service", "api"}}}, n); d != "" {
			t.Error(d)
		}
	})
}

func TestCond_JSONLiterals(t *testing.T) {
	root, err := parseJSON([]byte(`{"t":true,"f":false,"z":null,"s":"null","n":1.50,"l":[null,false]}`))
	if err != nil {
		t.Fatal(err)
	}
	x := &scope{root: root}
	tests := []struct {
		key, val string
		want     bool
	}{
		{"t", "true", true},
		{"f", "false", true},
		{"f", "*", true}, // false is a value
		{"z", "null", true},
		{"z", "~^(null|none)$", true},
		{"z", "*", false}, // null is still absent
		{"z", "!", true},
		{"s", "null", true}, // the text "null" too
		{"missing", "null", false},
		{"n", "1.50", true}, // numbers as written
		{"n", "1.5", false},
		{"l.*", "null", true},
		{"l.*", "false", true},
	}
	for _, tt := range tests {
		conds, err := whenConds(map[string]string{tt.key: tt.val})
		if err != nil {
			t.Fatal(err)
		}
		if got := conds[0].holds(x); got != tt.want {
			t.Errorf("%s = %q holds: %v, want %v", tt.key, tt.val, got, tt.want)
		}
	}
}

// TestCatalogue_CaseEvent: a case names its own event; the entry's stands
// for the others.
func TestCatalogue_CaseEvent(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"shop": `event = ["{topic}"]
[[detect]]
body = { topic = "*" }
[[case]]
when = { topic = "orders/updated", "order.cancelled_at" = "*" }
event = ["orders/cancelled"]
[[case]]
when = { topic = "orders/updated", "order.status" = "*" }
event = ["{topic}.{order.status}"]
`,
	})
	tests := []struct{ body, want string }{
		{`{"topic":"orders/updated","order":{"cancelled_at":"2024-03-05T14:07:00Z"}}`, "orders/cancelled"},
		{`{"topic":"orders/updated","order":{"status":"paid"}}`, "orders/updated.paid"},
		{`{"topic":"orders/create","order":{"status":"paid"}}`, "orders/create"},
	}
	for _, tt := range tests {
		if n := formatWith(t, c, "en", "application/json", tt.body); n.Event != tt.want {
			t.Errorf("%s: event %q, want %q", tt.body, n.Event, tt.want)
		}
	}
}

func TestCond_Negated(t *testing.T) {
	ev := Event{ContentType: "application/json", Headers: map[string]string{"X-Event": "push"}}
	root, err := parseJSON([]byte(`{"tag":"v1.2","digest_tag":"sha256:954b","empty":"","events":[{"a":"ok"},{"a":"failed"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	x := &scope{ev: ev, root: root}
	tests := []struct {
		key, val string
		want     bool
	}{
		{"tag", "!~^sha256:", true}, // Harbor: a tag, not a digest
		{"digest_tag", "!~^sha256:", false},
		{"missing", "!~^sha256:", false}, // present is asked for
		{"empty", "!~x", false},
		{"tag", "!=v1.2", false},
		{"tag", "!=v1.3", true},
		{"missing", "!=v1.3", false},
		{"events.*.a", "!=ok", true}, // any element: the second
		{"header:X-Event", "!~^(ping|test)$", true},
		{"header:X-Event", "!=push", false},
		{"tag", "=!=v1.2", false}, // a literal "!=v1.2"
	}
	for _, tt := range tests {
		conds, err := whenConds(map[string]string{tt.key: tt.val})
		if err != nil {
			t.Fatal(err)
		}
		if got := conds[0].holds(x); got != tt.want {
			t.Errorf("%s = %q holds: %v, want %v", tt.key, tt.val, got, tt.want)
		}
	}
	conds, err := detectConds(rawDetect{ContentType: "!=application/x-www-form-urlencoded"})
	if err != nil || !allHold(conds, x) {
		t.Errorf("content_type != form: %v, %v", err, err == nil && allHold(conds, x))
	}
	if _, err := whenConds(map[string]string{"a": "!~("}); err == nil {
		t.Error("a bad negated regexp is accepted")
	}
}

// TestCatalogue_StatusWords: |status translates the payment, CI,
// monitoring and booking words the family helpers met, in any spelling.
func TestCatalogue_StatusWords(t *testing.T) {
	tests := []struct{ in, lang, want string }{
		{"PAID", "en", "paid"},
		{"paid", "ru", "оплачено"},
		{"Not Responding", "ru", "не отвечает"},          // Freshping
		{"partiallySucceeded", "ru", "частично успешно"}, // Azure DevOps
		{"partially-refunded", "en", "partially refunded"},
		{"authorised", "ru", "авторизовано"},
		{"degraded_performance", "en", "degraded performance"}, // Statuspage
		{"ACCEPTED", "ru", "принято"},                          // Cal.com
		{"failed", "ru", "ошибка"},                             // the built-in senders' words stay
		{"whatever", "ru", "whatever"},
	}
	for _, tt := range tests {
		body := `{"s":"` + tt.in + `"}`
		if got, _ := evalIn(t, tt.lang, "application/json", body, "{s|status}"); got != tt.want {
			t.Errorf("%s: {%q|status} = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
	known := map[string]bool{}
	for spelling, k := range catalogueStatus {
		known[k] = true
		if _, dup := statusWords[spelling]; dup {
			t.Errorf("%q is the built-in senders' word already", spelling)
		}
		if statusKey(spelling) != spelling {
			t.Errorf("%q is not folded as statusKey folds", spelling)
		}
	}
	for _, lang := range []string{"en", "ru"} {
		var file struct {
			Catalogue struct {
				Status map[string]string `toml:"status"`
			} `toml:"catalogue"`
		}
		if _, err := toml.DecodeFile("../locales/catalogue."+lang+".toml", &file); err != nil {
			t.Fatal(err)
		}
		if got, want := sorted(keys2(file.Catalogue.Status)), sorted(keys(known)); got != want {
			t.Errorf("%s catalogue.status:\n%s\nthe engine translates:\n%s", lang, got, want)
		}
	}
}

func keys2(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCatalogue_CardLastFour: a card's brand and last four digits are what
// a receipt prints. The engine masks by the key a placeholder names (its
// last step, mask.go's sensitiveKey) and by the shape of the text it makes;
// neither hides "VISA •••• 4242" or a last4 under a "card" object.
func TestCatalogue_CardLastFour(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"pay": `[[detect]]
body = { payment_method = "*" }
[[fact]]
label = "card"
type = "code"
value = "{payment_method.card.brand|upper} •••• {payment_method.card.last4}"
[[fact]]
label = "card"
value = "{payment_method.card.last4}"
[[fact]]
label = "card"
value = "{payment_method.card.number}"
`,
	})
	body := `{"payment_method":{"card":{"brand":"visa","last4":"4242","exp_month":12,"number":"4242424242424242"}}}`
	n := formatWith(t, c, "en", "application/json", body)
	want := []Fact{{"Card", "VISA •••• 4242"}, {"Card", "4242"}, {"Card", Masked}}
	if d := diffNotification(Notification{Source: "PAY", Importance: ImportanceNormal, Facts: want}, n); d != "" {
		t.Error(d)
	}
}

func TestPayloadSecrets_NotSecrets(t *testing.T) {
	// T-Bank's documented example: Pan "string" and a masked card number.
	ev := Event{ContentType: "application/json", Body: []byte(`{"Pan":"430000******0777","CardNumber":"string","Token":"••••","password":"hunter22","api_key":"abc"}`)}
	if got := PayloadSecrets(ev); len(got) != 1 || got[0] != "hunter22" {
		t.Errorf("PayloadSecrets = %q, want only hunter22", got)
	}
}

func TestTemplate_HumanCamelCase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NewErrorOccurred", "new error occurred"}, // Raygun
		{"LessThanOrEqual", "less than or equal"},  // Azure Monitor
		{"UnAcknowledge", "un acknowledge"},        // Opsgenie
		{"pull_request_review", "pull request review"},
		{"SCANNING_COMPLETED", "SCANNING COMPLETED"}, // no hump: as written
		{"statusChanged_event", "status changed event"},
		{"HTTPError", "HTTPError"}, // no lower-to-upper hump
		{"v1.2-beta", "v1 2 beta"},
	}
	for _, tt := range tests {
		if got, _ := evalIn(t, "en", "application/json", `{"s":"`+tt.in+`"}`, "{s|human}"); got != tt.want {
			t.Errorf("{%q|human} = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTemplate_Unhtml(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ship Your Idea &ndash; Color: Black", "Ship Your Idea – Color: Black"}, // WooCommerce's REST API
		{"Tom &amp; Jerry&#39;s <b>best</b>&nbsp;tea", "Tom & Jerry's best tea"},
		{"<p>Line one</p><p>Line two</p>", "Line one Line two"},
		{"a &lt;b&gt; tag, written", "a <b> tag, written"}, // text the sender escaped stays text
		{"2 < 3 > 1", "2 < 3 > 1"},
	}
	for _, tt := range tests {
		body := `{"s":` + strconv.Quote(tt.in) + `}`
		if got, _ := evalIn(t, "en", "application/json", body, "{s|unhtml}"); got != tt.want {
			t.Errorf("{%q|unhtml} = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTemplate_PadAndBytes(t *testing.T) {
	// Sonarr's season and episode numbers, Radarr's release size.
	body := `{"episodes":[{"seasonNumber":2,"episodeNumber":14}],"release":{"size":2172672000},"small":512,"kb":1048500,"big":16106127360,"name":"x"}`
	tests := []struct{ lang, src, want string }{
		{"en", "S{episodes.0.seasonNumber|pad:2}E{episodes.0.episodeNumber|pad:2}", "S02E14"},
		{"en", "{episodes.0.episodeNumber|pad:1}", "14"},
		{"en", "{episodes.0.seasonNumber|pad:3}", "002"},
		{"en", "{name|pad:3}", "x"}, // not a number: as written
		{"en", "{release.size|bytes}", "2.0 GB"},
		{"ru", "{release.size|bytes}", "2.0 ГБ"},
		{"en", "{small|bytes}", "512 B"},
		{"en", "{kb|bytes}", "1.0 MB"}, // 1023.9 KB
		{"en", "{big|bytes}", "15 GB"},
		{"en", "{name|bytes}", "x"},
	}
	for _, tt := range tests {
		if got, _ := evalIn(t, tt.lang, "application/json", body, tt.src); got != tt.want {
			t.Errorf("%s: %s = %q, want %q", tt.lang, tt.src, got, tt.want)
		}
	}
	for _, src := range []string{"{a|pad:0}", "{a|pad:10}", "{a|pad}", "{a|pad:x}"} {
		if _, err := parseTemplate(src); err == nil {
			t.Errorf("parseTemplate(%q) is accepted", src)
		}
	}
}

func TestCatalogue_Number(t *testing.T) {
	// amoCRM's price is the lead's budget in a currency the webhook does
	// not name.
	c := testCatalogue(t, map[string]string{
		"crm": `[[detect]]
body = { id = "*" }
[[fact]]
label = "value"
type = "number"
value = "{price}"
`,
	})
	tests := []struct{ lang, price, want string }{
		{"en", `24234`, "24,234"},
		{"ru", `24234`, "24\u00a0234"},
		{"ru", `"1234567.5"`, "1\u00a0234\u00a0567.5"},
		{"en", `"-1200"`, "-1,200"},
		{"en", `"1000,50"`, "1,000.50"},
		{"en", `"about 5"`, "about 5"},
	}
	for _, tt := range tests {
		n := formatWith(t, c, tt.lang, "application/json", `{"id":7,"price":`+tt.price+`}`)
		if len(n.Facts) != 1 || n.Facts[0].Value != tt.want {
			t.Errorf("%s %s: facts %v, want %q", tt.lang, tt.price, n.Facts, tt.want)
		}
	}
}

// TestCatalogue_EmptyCaseLists: a case clears the entry's candidates with
// an empty list (SendGrid's batch of many messages has no one thread).
func TestCatalogue_EmptyCaseLists(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"crm": `title = "Lead {id}"
link = "{url}"
thread = "lead-{id}"
summary = "{note}"
event = "lead"
[[detect]]
body = { id = "*" }
[[case]]
when = { batch = "*" }
thread = []
link = []
title = []
summary.en = []
summary.ru = []
event = []
`,
	})
	body := `{"id":7,"url":"https://crm.example/leads/7","note":"n"}`
	if d := diffNotification(Notification{Source: "CRM", Event: "lead", Title: "Lead 7", Summary: "n", Link: "https://crm.example/leads/7",
		Thread: "lead-7", Importance: ImportanceNormal}, formatWith(t, c, "en", "application/json", body)); d != "" {
		t.Error(d)
	}
	batch := `{"id":7,"batch":1,"url":"https://crm.example/leads/7","note":"n"}`
	if d := diffNotification(Notification{Source: "CRM", Importance: ImportanceNormal}, formatWith(t, c, "en", "application/json", batch)); d != "" {
		t.Error(d)
	}
	// Outside a case an empty list says nothing and stays an error.
	if _, _, err := parseEntry("x", []byte(minimal+"thread = []\n[[detect]]\nbody = { a = \"*\" }\n")); err == nil {
		t.Error("an entry's empty thread list is accepted")
	}
}

// multipartBody writes a multipart/form-data body of text parts and one
// file part, as Plex and Jotform post theirs.
func multipartBody(t *testing.T, fields [][2]string, file string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile(file, file+".jpg")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00binary"))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

func TestDecode_Multipart(t *testing.T) {
	t.Run("PayloadPartIsTheJSON", func(t *testing.T) { // Plex: payload + thumb
		ct, body := multipartBody(t, [][2]string{{"payload", `{"event":"media.play","Account":{"title":"elan"},"Metadata":{"title":"Picture Me Rollin'"}}`}}, "thumb")
		got, ok := evalIn(t, "en", ct, string(body), "{event}: {Metadata.title} by {Account.title}")
		if got != "media.play: Picture Me Rollin' by elan" || !ok {
			t.Errorf("eval = %q, %v", got, ok)
		}
	})
	t.Run("TextPartsAreFields", func(t *testing.T) { // Jotform: fields + rawRequest
		ct, body := multipartBody(t, [][2]string{{"formID", "31751954731962"}, {"formTitle", "Contact"}, {"rawRequest", `{"q3_name":{"first":"Ann","last":"Lee"}}`}, {"tags[]", "a"}, {"tags[]", "b"}}, "upload")
		got, ok := evalIn(t, "en", ct, string(body), "{formTitle} {formID}: {rawRequest.q3_name.first} {rawRequest.q3_name.last} [{tags}]")
		if got != "Contact 31751954731962: Ann Lee [a, b]" || !ok {
			t.Errorf("eval = %q, %v", got, ok)
		}
		p := decode(Event{ContentType: ct, Body: body})
		for _, f := range p.form {
			if f.key == "upload" {
				t.Errorf("the file part is a field: %q", f.value)
			}
		}
	})
	t.Run("NotMultipart", func(t *testing.T) {
		for _, tt := range []struct{ ct, body string }{
			{"multipart/form-data; boundary=xyz", "no parts here"},
			{"multipart/form-data", "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xyz--"}, // no boundary given
		} {
			if p := decode(Event{ContentType: tt.ct, Body: []byte(tt.body)}); p.form != nil || p.root != nil || p.text == "" {
				t.Errorf("%q: form %v root %v text %q, want text", tt.body, p.form, p.root, p.text)
			}
		}
		ct, body := multipartBody(t, nil, "thumb") // a file alone: nothing to read
		if p := decode(Event{ContentType: ct, Body: body}); p.form != nil || p.root != nil {
			t.Errorf("a file-only body: form %v root %v", p.form, p.root)
		}
	})
}

// TestCatalogue_TimeZone: a sender that writes UTC without a zone (Uptime
// Kuma's heartbeat.time) names it in the entry.
func TestCatalogue_TimeZone(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"kuma": `[[detect]]
body = { heartbeat = "*" }
[[fact]]
label = "created"
type = "time"
value = "{heartbeat.time}"
zone = "UTC"
[[fact]]
label = "updated"
type = "time"
value = "{heartbeat.local}"
zone = "+03:00"
`,
	})
	tests := []struct{ lang, body, created, updated string }{
		{"en", `{"heartbeat":{"time":"2023-07-31 18:56:15.374","local":"31.07.2023 21:56:15"}}`, "2023-07-31 18:56 UTC", "2023-07-31 21:56 +03:00"},
		{"ru", `{"heartbeat":{"time":"2023-07-31T18:56:15+02:00","local":"2023-07-31"}}`, "31.07.2023 18:56 +02:00", "31.07.2023"}, // a zone or a date alone: as written
	}
	for _, tt := range tests {
		n := formatWith(t, c, tt.lang, "application/json", tt.body)
		if len(n.Facts) != 2 || n.Facts[0].Value != tt.created || n.Facts[1].Value != tt.updated {
			t.Errorf("%s: facts %v, want %q and %q", tt.body, n.Facts, tt.created, tt.updated)
		}
	}
	for src, want := range map[string]string{
		"[[fact]]\nlabel = \"created\"\ntype = \"time\"\nvalue = \"{a}\"\nzone = \"Moscow\"\n": `zone "Moscow"`,
		"[[fact]]\nlabel = \"created\"\nvalue = \"{a}\"\nzone = \"UTC\"\n":                     "zone is for times only",
	} {
		if _, _, err := parseEntry("x", []byte(minimal+"[[detect]]\nbody = { a = \"*\" }\n"+src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}
