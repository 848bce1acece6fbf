package agent

import (
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/BurntSushi/toml"
)

func TestCatalogue_EmbeddedLoads(t *testing.T) {
	c, err := loadCatalogue(catalogueFS)
	if err != nil {
		t.Fatalf("the embedded catalogue does not load:\n%v", err)
	}
	files, _ := fs.Glob(catalogueFS, "catalogue/*.toml")
	if got, want := len(c.entries), len(files); got != want {
		t.Errorf("%d entries loaded of %d files", got, want)
	}
}

// minimal is the smallest valid entry; tests add to it.
const minimal = "id = \"x\"\nname = \"X\"\n"

func TestParseEntry_Invalid(t *testing.T) {
	detect := "[[detect]]\nheader = { \"X-Event\" = \"*\" }\n"
	tests := []struct {
		name, id, src, want string
	}{
		{"UnknownKey", "x", minimal + "colour = \"red\"\n" + detect, "unknown keys: colour"},
		{"KeyAfterDetect", "x", minimal + detect + "event = \"{type}\"\n", "unknown keys: detect.event"},
		{"UnknownFactKey", "x", minimal + detect + "[[fact]]\nlabel = \"status\"\nvalue = \"{s}\"\ncolour = 1\n", "fact.colour"},
		{"IDIsNotFileName", "y", minimal + detect, "differs from the file name"},
		{"BadFileName", "X_1", "id = \"X_1\"\nname = \"X\"\n" + detect, "is not an id"},
		{"NoName", "x", "id = \"x\"\n" + detect, "name is empty"},
		{"NoDetect", "x", minimal, "no [[detect]]"},
		{"EmptyDetect", "x", minimal + "[[detect]]\n", "no conditions"},
		{"BadRegexp", "x", minimal + "[[detect]]\nbody = { \"a\" = \"~(\" }\n", "bad regexp"},
		{"EmptyCondition", "x", minimal + "[[detect]]\nbody = { \"a\" = \"\" }\n", "empty condition"},
		{"BadHeaderName", "x", minimal + "[[detect]]\nheader = { \"X Event\" = \"*\" }\n", "bad header name"},
		{"BadPath", "x", minimal + "[[detect]]\nbody = { \"a..b\" = \"*\" }\n", "empty step"},
		{"BadDocs", "x", minimal + "docs = \"ftp://x\"\n" + detect, "docs"},
		{"UnknownFactType", "x", minimal + detect + "[[fact]]\nlabel = \"amount\"\ntype = \"moneyy\"\nvalue = \"{a}\"\n", `type "moneyy"`},
		{"UnknownLabel", "x", minimal + detect + "[[fact]]\nlabel = \"colour\"\nvalue = \"{a}\"\n", "not a common label key"},
		{"LabelTableLacksRU", "x", minimal + detect + "[[fact]]\nlabel = { en = \"Colour\" }\nvalue = \"{a}\"\n", "both en and ru"},
		{"NoLabel", "x", minimal + detect + "[[fact]]\nvalue = \"{a}\"\n", "no label"},
		{"MoneyWithoutCurrency", "x", minimal + detect + "[[fact]]\nlabel = \"amount\"\ntype = \"money\"\nvalue = \"{a}\"\n", "money needs currency"},
		{"MinorOnText", "x", minimal + detect + "[[fact]]\nlabel = \"amount\"\nvalue = \"{a}\"\nminor = true\n", "minor is for money only"},
		{"ListWithoutPath", "x", minimal + detect + "[[fact]]\nlabel = \"commits\"\ntype = \"list\"\nitem = \"{id}\"\n", "a list needs path"},
		{"BadUnit", "x", minimal + detect + "[[fact]]\nlabel = \"duration\"\ntype = \"duration\"\nvalue = \"{d}\"\nunit = \"weeks\"\n", `unit "weeks"`},
		{"ValueNotString", "x", minimal + detect + "[[fact]]\nlabel = \"status\"\nvalue = 3\n", "want a string"},
		{"UnknownFilter", "x", minimal + "title = \"{a|shout}\"\n" + detect, `unknown filter "shout"`},
		{"CountNotFirst", "x", minimal + "title = \"{a|upper|count}\"\n" + detect, "must come first"},
		{"UnclosedBrace", "x", minimal + "title = \"{a\"\n" + detect, "unclosed {"},
		{"UnmatchedBrace", "x", minimal + "title = \"a}\"\n" + detect, "unmatched }"},
		{"EmptyPlaceholder", "x", minimal + "title = \"{}\"\n" + detect, "empty placeholder"},
		{"TitleTableLacksRU", "x", minimal + "title.en = \"A\"\n" + detect, "both en and ru"},
		{"TitleUnknownLanguage", "x", minimal + "title.de = \"A\"\ntitle.en = \"A\"\ntitle.ru = \"А\"\n" + detect, `unknown language "de"`},
		{"EmptyList", "x", minimal + "link = []\n" + detect, "empty list"},
		{"HeaderInThread", "x", minimal + "thread = \"{header:X-Event}\"\n" + detect, "from the body only"},
		{"BadImportance", "x", minimal + "importance = \"urgent\"\n" + detect, `importance "urgent"`},
		{"RuleWithoutWhen", "x", minimal + detect + "[[rule]]\nimportance = \"high\"\n", "no when"},
		{"RuleBadImportance", "x", minimal + detect + "[[rule]]\nwhen = { a = \"*\" }\nimportance = \"loud\"\n", `importance "loud"`},
		{"CaseWithoutWhen", "x", minimal + detect + "[[case]]\ntitle = \"A\"\n", "no when"},
		{"CaseBadFact", "x", minimal + detect + "[[case]]\nwhen = { a = \"*\" }\n[[case.fact]]\nlabel = \"nope\"\nvalue = \"{a}\"\n", "case 1: fact 1"},
		{"NotTOML", "x", "id = ", "expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseEntry(tt.id, []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseEntry error = %v, want one with %q", err, tt.want)
			}
		})
	}
	t.Run("Valid", func(t *testing.T) {
		if _, _, err := parseEntry("x", []byte(minimal+detect)); err != nil {
			t.Errorf("the minimal entry does not load: %v", err)
		}
	})
}

func TestLoadCatalogue_DuplicateNameLeftOut(t *testing.T) {
	fsys := fstest.MapFS{
		"catalogue/a.toml": {Data: []byte("id = \"a\"\nname = \"Same\"\n[[detect]]\nheader = { \"X-A\" = \"*\" }\n")},
		"catalogue/b.toml": {Data: []byte("id = \"b\"\nname = \"same\"\n[[detect]]\nheader = { \"X-B\" = \"*\" }\n")},
		"catalogue/c.toml": {Data: []byte("id = \"c\"\nname = \"C\"\n[[detect]]\nbody = { \"a\" = \"~(\" }\n")},
	}
	c, err := loadCatalogue(fsys)
	if err == nil || !strings.Contains(err.Error(), `name "same" is a's already`) || !strings.Contains(err.Error(), "c.toml") {
		t.Errorf("error = %v, want the duplicate name and the bad regexp", err)
	}
	if len(c.entries) != 1 || c.entries[0].id != "a" {
		t.Errorf("entries %v, want a alone", c.entries)
	}
}

// testCatalogue loads entries written for a test.
func testCatalogue(t *testing.T, files map[string]string) *senderCatalogue {
	t.Helper()
	fsys := fstest.MapFS{}
	for id, src := range files {
		fsys["catalogue/"+id+".toml"] = &fstest.MapFile{Data: []byte("id = \"" + id + "\"\nname = \"" + strings.ToUpper(id) + "\"\n" + src)}
	}
	c, err := loadCatalogue(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogue_MostSpecificFirst(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"one":   "[[detect]]\nbody = { kind = \"*\" }\n",
		"two":   "[[detect]]\nbody = { kind = \"*\", sub = \"*\" }\n",
		"boost": "priority = 5\n[[detect]]\nheader = { \"X-Boost\" = \"*\" }\n",
		"late":  "priority = -1\n[[detect]]\nbody = { kind = \"*\", sub = \"*\", more = \"*\" }\n",
		// The order between blocks is by block: a big block of a plain
		// entry beats a small block of the same priority.
		"multi": "[[detect]]\nbody = { zzz = \"*\" }\n[[detect]]\nbody = { kind = \"*\", sub = \"*\", third = \"*\" }\n",
	})
	tests := []struct {
		name    string
		headers map[string]string
		body    string
		early   bool
		want    string
	}{
		{"Priority", map[string]string{"X-Boost": "1"}, `{"kind":"a","sub":"b","third":"c"}`, true, "boost"},
		{"MoreConditions", nil, `{"kind":"a","sub":"b"}`, true, "two"},
		{"BiggestBlock", nil, `{"kind":"a","sub":"b","third":"c"}`, true, "multi"},
		{"Fewer", nil, `{"kind":"a"}`, true, "one"},
		{"LateNotEarly", nil, `{"other":1}`, true, ""},
		{"Late", nil, `{"kind":"a","sub":"b","more":"c"}`, false, "late"},
		{"EarlyNotLate", map[string]string{"X-Boost": "1"}, `{}`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decode(Event{Headers: tt.headers, ContentType: "application/json", Body: []byte(tt.body)})
			got := ""
			if e := c.match(&scope{ev: p.ev, root: catalogueTree(p)}, tt.early); e != nil {
				got = e.id
			}
			if got != tt.want {
				t.Errorf("matched %q, want %q", got, tt.want)
			}
		})
	}
}

// giteaPush is the body of Gitea's documented push, as a test's own.
func giteaPush(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/senders/gitea/push.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect_GiteaBeforeGitHub(t *testing.T) {
	body := giteaPush(t)
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"GiteaSendsGitHubHeadersToo", map[string]string{"X-Github-Event": "push", "X-Gogs-Event": "push", "X-Gitea-Event": "push"}, "Gitea"},
		{"GitHubHeaderAlone", map[string]string{"X-Github-Event": "push"}, "GitHub"},
		{"HeaderCaseDoesNotMatter", map[string]string{"x-gitea-event": "push"}, "Gitea"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := detect(decode(Event{Headers: tt.headers, ContentType: "application/json", Body: body}))
			if s.source != tt.want || s.event != "push" {
				t.Errorf("detected %q · %q, want %q · push", s.source, s.event, tt.want)
			}
		})
	}
}

func TestCond_Holds(t *testing.T) {
	ev := Event{
		ContentType: "application/x-www-form-urlencoded; charset=utf-8",
		Headers:     map[string]string{"X-Event": "order.paid", "User-Agent": "Shop/2.1"},
	}
	root, err := parseJSON([]byte(`{"a":"x","n":0,"t":true,"e":"","z":null,"o":{},"l":[1],"s":"*"}`))
	if err != nil {
		t.Fatal(err)
	}
	x := &scope{ev: ev, root: root}
	tests := []struct {
		key, val string
		want     bool
	}{
		{"a", "*", true},
		{"a", "x", true},
		{"a", "X", false},
		{"a", "~^x$", true},
		{"a", "~(?i)^X$", true},
		{"a", "!", false},
		{"n", "0", true},
		{"n", "*", true},
		{"t", "true", true},
		{"e", "*", false},
		{"e", "!", true},
		{"z", "!", true},
		{"o", "*", false},
		{"l", "*", true},
		{"missing", "!", true},
		{"missing", "~.*", false},
		{"s", "=*", true},
		{"a", "=*", false},
		{"header:X-Event", "~^order\\.", true},
		{"header:x-event", "order.paid", true},
		{"header:X-Other", "!", true},
	}
	for _, tt := range tests {
		conds, err := whenConds(map[string]string{tt.key: tt.val})
		if err != nil {
			t.Fatalf("%s = %s: %v", tt.key, tt.val, err)
		}
		if got := conds[0].holds(x); got != tt.want {
			t.Errorf("%s = %q holds: %v, want %v", tt.key, tt.val, got, tt.want)
		}
	}
	detects := []struct {
		d    rawDetect
		want bool
	}{
		{rawDetect{ContentType: "application/x-www-form-urlencoded"}, true},
		{rawDetect{ContentType: "Application/X-WWW-Form-Urlencoded"}, true},
		{rawDetect{ContentType: "application/json"}, false},
		{rawDetect{UserAgent: "~^Shop/"}, true},
		{rawDetect{UserAgent: "~^Other"}, false},
	}
	for _, tt := range detects {
		conds, err := detectConds(tt.d)
		if err != nil {
			t.Fatal(err)
		}
		if got := allHold(conds, x); got != tt.want {
			t.Errorf("%+v holds: %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestTemplate_Eval(t *testing.T) {
	root, err := parseJSON([]byte(`{
		"ref": "refs/heads/main", "tag": "refs/tags/v1.2", "sha": "bffeb74224043ba2",
		"msg": "Fix the build\n\nLong text", "commits": [{"id": "a"}, {"id": "b"}], "one": [1],
		"labels": ["bug", "ui"], "kind": "pull_request_review", "at": 1709647620, "took": 3723,
		"url": "https://ci.example.com/job/1", "api_token": "abc123", "note": "password=hunter22 here",
		"empty": "", "null": null, "n": 0, "state": "failure", "objs": [{"a": 1}]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, src, want string
		ok              bool
	}{
		{"en", "{ref|branch}", "main", true},
		{"en", "{tag|branch}", "v1.2", true},
		{"en", "{sha|short}", "bffeb74", true},
		{"en", "{msg|line}", "Fix the build", true},
		{"en", "{commits|count}", "2 commits", true},
		{"ru", "{commits|count}", "2 коммита", true},
		{"en", "{one|count}", "1 item", true},
		{"en", "{commits|len}", "2", true},
		{"en", "{labels}", "bug, ui", true},
		{"en", "{labels|upper}", "BUG, UI", true},
		{"en", "{kind|human}", "pull request review", true},
		{"en", "{at|time}", "2024-03-05 14:07 UTC", true},
		{"ru", "{at|time}", "05.03.2024 14:07 UTC", true},
		{"en", "{took|duration}", "1 h 2 min", true},
		{"en", "{url|host}", "ci.example.com", true},
		{"en", "{state|status}", "failed", true},
		{"ru", "{state|status}", "ошибка", true},
		{"en", "{header:X-Event}.{kind}", "push.pull_request_review", true},
		{"en", "{commits.1.id}", "b", true},
		{"en", "{n}", "0", true},
		{"en", "{{literal}} {n}", "{literal} 0", true},
		{"en", "{api_token}", Masked, true},
		{"en", "{note}", "password=hunter22 here", true}, // masked in the texts made: TestCatalogue_Format
		{"en", "to {empty}", "", false},
		{"en", "{null}", "", false},
		{"en", "{missing.path}", "", false},
		{"en", "{commits}", "", false},
		{"en", "{objs}", "", false},
		{"en", "{header:X-Missing}", "", false},
		{"en", "{header:X-Api-Key}", Masked, true},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.src, func(t *testing.T) {
			tm, err := parseTemplate(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			l := defaultBundle().For(tt.lang)
			x := &scope{ev: Event{Headers: map[string]string{"X-Event": "push", "X-Api-Key": "k-123"}}, root: root, l: l, f: &formatter{l: l}}
			got, ok := tm.eval(x)
			if got != tt.want || ok != tt.ok {
				t.Errorf("eval = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFormTree(t *testing.T) {
	tests := []struct {
		name, body string
		want       map[string]string // path → value
		arrays     map[string]int    // path → length
	}{
		{
			name:   "AmoCRMStyle",
			body:   "leads%5Badd%5D%5B0%5D%5Bid%5D=123&leads%5Badd%5D%5B0%5D%5Bname%5D=Deal&leads%5Badd%5D%5B1%5D%5Bid%5D=124&account%5Bsubdomain%5D=shop",
			want:   map[string]string{"leads.add.0.id": "123", "leads.add.0.name": "Deal", "leads.add.1.id": "124", "account.subdomain": "shop"},
			arrays: map[string]int{"leads.add": 2},
		},
		{
			name: "Bitrix24Style",
			body: "event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=42&auth%5Bdomain%5D=b24.example.com&ts=1709647620",
			want: map[string]string{"event": "ONCRMDEALADD", "data.FIELDS.ID": "42", "auth.domain": "b24.example.com", "ts": "1709647620"},
		},
		{
			name:   "AppendBrackets",
			body:   "tags%5B%5D=a&tags%5B%5D=b&tags%5B%5D=c",
			want:   map[string]string{"tags.0": "a", "tags.2": "c"},
			arrays: map[string]int{"tags": 3},
		},
		{
			name: "MalformedKeysStayFlat",
			body: "a%5Bb=1&c%5Bd%5De=2&%5Bx%5D=3",
			want: map[string]string{"a[b": "1", "c[d]e": "2", "[x]": "3"},
		},
		{
			name: "FirstValueStands",
			body: "a=1&a=2",
			want: map[string]string{"a": "1"},
		},
		{
			name: "TableWinsOverScalar",
			body: "a=1&a%5Bb%5D=2",
			want: map[string]string{"a.b": "2"},
		},
		{
			name: "NotSequentialStaysTable",
			body: "x%5B1%5D=a&x%5B2%5D=b",
			want: map[string]string{"x.1": "a", "x.2": "b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decode(Event{ContentType: "application/x-www-form-urlencoded", Body: []byte(tt.body)})
			tree := catalogueTree(p)
			if tree == nil {
				t.Fatal("no tree")
			}
			for path, want := range tt.want {
				if got := tree.str(strings.Split(path, ".")...); got != want {
					// flat keys may hold dots-free brackets: look them up whole
					if got = tree.str(path); got != want {
						t.Errorf("%s = %q, want %q", path, got, want)
					}
				}
			}
			for path, n := range tt.arrays {
				if got := tree.arr(strings.Split(path, ".")...); len(got) != n {
					t.Errorf("%s has %d items, want an array of %d", path, len(got), n)
				}
			}
			if x := tree.get("x"); x != nil && x.kind == kindArray {
				t.Errorf("x[1], x[2] became an array")
			}
		})
	}
}

// TestCatalogue_Format formats events through entries written for the
// test: facts of every type, a list's remainder, a case, a rule's to-do, a
// form body, and the cap on facts.
func TestCatalogue_Format(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"shop": `event = "{event}"
title.en = ["Order {order.id} paid", "Order paid"]
title.ru = ["Заказ {order.id} оплачен", "Заказ оплачен"]
link = ["{links.api}", "{links.ack}", "{links.page}"]
thread = "order-{order.id}"
summary = "{order.note}"
[[detect]]
body = { event = "~^order\\." }
[[fact]]
label = "amount"
type = "money"
value = "{order.sum}"
currency = "{order.cur}"
minor = true
[[fact]]
label = "fee"
type = "money"
value = "{order.fee}"
currency = "{order.fee_cur}"
minor = true
[[fact]]
label = "product"
type = "list"
path = "order.items"
item = "{name} × {qty}"
[[fact]]
label = "count"
type = "count"
path = "order.items"
[[fact]]
label = "duration"
type = "duration"
value = "{order.wait_ms}"
unit = "ms"
[[fact]]
label = "created"
type = "time"
value = "{order.at}"
[[fact]]
label = "test"
type = "bool"
value = "{order.test}"
[[fact]]
label = { en = "Coupon", ru = "Купон" }
value = "{order.coupon}"
when = { "order.coupon" = "~^SALE" }
[[rule]]
when = { "order.status" = "failed" }
importance = "high"
action.en = "Call the customer about order {order.id}"
action.ru = "Позвоните клиенту по заказу {order.id}"
[[case]]
when = { event = "order.refunded" }
title = "Refund"
importance = "low"
rule = []
[[case.fact]]
label = "reason"
value = "{order.reason}"
`,
		"form": `event = "{event}"
title = "{data.FIELDS.TITLE}"
[[detect]]
content_type = "application/x-www-form-urlencoded"
body = { "data.FIELDS.ID" = "*" }
[[fact]]
label = "id"
value = "{data.FIELDS.ID}"
[[fact]]
label = "domain"
value = "{auth.domain}"
[[fact]]
label = "status"
value = "{auth.application_token}"
`,
		"many": `title = "t"
[[detect]]
body = { many = "*" }
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
[[fact]]
label = "value"
value = "{many}"
`,
	})
	order := `{"event":"order.paid","order":{"id":"A-7","sum":123456,"cur":"643","fee":250,"status":"failed","test":"1","coupon":"SALE10",
		"wait_ms":1500,"note":"Leave at the door, password=hunter22","at":"2024-03-05T17:07:00+03:00","reason":"too late",
		"items":[{"name":"Tea","qty":2},{"name":"Cup","qty":1},{"name":"Pot","qty":1},{"name":"Spoon","qty":4},{"name":"Tray","qty":1}]},
		"links":{"api":"https://api.shop.example/v1/orders/A-7","ack":"https://shop.example/orders/A-7/ack","page":"https://shop.example/orders/A-7"}}`
	refund := strings.Replace(order, `"event":"order.paid"`, `"event":"order.refunded"`, 1)
	tests := []struct {
		name, lang, ct, body string
		want                 Notification
	}{
		{"Paid", "en", "application/json", order, Notification{
			Source: "SHOP", Event: "order.paid", Title: "Order A-7 paid", Importance: ImportanceHigh,
			Summary: "Leave at the door, password=" + Masked,
			Action:  "Call the customer about order A-7", Link: "https://shop.example/orders/A-7", Thread: "order-A-7",
			Facts: []Fact{
				{"Amount", "1,234.56 ₽"}, {"Fee", "2.50"}, {"Product", "Tea × 2; Cup × 1; Pot × 1; …and 2 more"}, {"Count", "5"},
				{"Duration", "1.5 s"}, {"Created", "2024-03-05 17:07 +03:00"}, {"Test mode", "yes"}, {"Coupon", "SALE10"},
			},
		}},
		{"PaidRU", "ru", "application/json", order, Notification{
			Source: "SHOP", Event: "order.paid", Title: "Заказ A-7 оплачен", Importance: ImportanceHigh,
			Summary: "Leave at the door, password=" + Masked,
			Action:  "Позвоните клиенту по заказу A-7", Link: "https://shop.example/orders/A-7", Thread: "order-A-7",
			Facts: []Fact{
				{"Сумма", "1\u00a0234.56 ₽"}, {"Комиссия", "2.50"}, {"Товар", "Tea × 2; Cup × 1; Pot × 1; …и ещё 2"}, {"Количество", "5"},
				{"Длительность", "1.5 с"}, {"Создано", "05.03.2024 17:07 +03:00"}, {"Тестовый режим", "да"}, {"Купон", "SALE10"},
			},
		}},
		{"CaseReplacesFactsAndRules", "en", "application/json", refund, Notification{
			Source: "SHOP", Event: "order.refunded", Title: "Refund", Importance: ImportanceLow,
			Summary: "Leave at the door, password=" + Masked,
			Link:    "https://shop.example/orders/A-7", Thread: "order-A-7", Facts: []Fact{{"Reason", "too late"}},
		}},
		{"FormBody", "en", "application/x-www-form-urlencoded",
			"event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=42&data%5BFIELDS%5D%5BTITLE%5D=New+deal&auth%5Bdomain%5D=b24.example.com&auth%5Bapplication_token%5D=s3cr3tvalue",
			Notification{
				Source: "FORM", Event: "ONCRMDEALADD", Title: "New deal", Importance: ImportanceNormal,
				Facts: []Fact{{"ID", "42"}, {"Domain", "b24.example.com"}, {"Status", Masked}},
			}},
		{"AtMostEightFacts", "en", "application/json", `{"many":"v"}`, Notification{
			Source: "MANY", Title: "t", Importance: ImportanceNormal,
			Facts: []Fact{{"Value", "v"}, {"Value", "v"}, {"Value", "v"}, {"Value", "v"}, {"Value", "v"}, {"Value", "v"}, {"Value", "v"}, {"Value", "v"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := Event{ContentType: tt.ct, Body: []byte(tt.body)}
			l := defaultBundle().For(tt.lang)
			f := &formatter{l: l, p: decode(ev)}
			x := &scope{ev: ev, root: catalogueTree(f.p), l: l, f: f}
			e := c.match(x, true)
			if e == nil {
				t.Fatal("no entry matched")
			}
			s := e.sender(x)
			n := s.format(f)
			n.Source, n.Event = s.source, s.event
			if d := diffNotification(tt.want, n); d != "" {
				t.Error(d)
			}
		})
	}
}

func diffNotification(want, got Notification) string {
	var b strings.Builder
	check := func(field string, w, g any) {
		if w != g {
			b.WriteString(field + ": want " + toString(w) + ", got " + toString(g) + "\n")
		}
	}
	check("Source", want.Source, got.Source)
	check("Event", want.Event, got.Event)
	check("Title", want.Title, got.Title)
	check("Summary", want.Summary, got.Summary)
	check("Importance", want.Importance, got.Importance)
	check("Action", want.Action, got.Action)
	check("Link", want.Link, got.Link)
	check("Thread", want.Thread, got.Thread)
	if len(want.Facts) != len(got.Facts) {
		b.WriteString("Facts: want " + toString(want.Facts) + "\n       got  " + toString(got.Facts) + "\n")
	} else {
		for i := range want.Facts {
			check("Fact "+itoa(int64(i)), want.Facts[i], got.Facts[i])
		}
	}
	return b.String()
}

func toString(v any) string {
	b, _ := toml.Marshal(map[string]any{"v": v})
	return strings.TrimSpace(strings.TrimPrefix(string(b), "v = "))
}

// TestCatalogue_LocaleKeys checks that the common label keys and counted
// nouns the engine accepts are exactly those locales/catalogue.*.toml
// translate.
func TestCatalogue_LocaleKeys(t *testing.T) {
	for _, lang := range []string{"en", "ru"} {
		var file struct {
			Catalogue struct {
				Label map[string]string         `toml:"label"`
				Count map[string]map[string]any `toml:"count"`
			} `toml:"catalogue"`
		}
		if _, err := toml.DecodeFile("../locales/catalogue."+lang+".toml", &file); err != nil {
			t.Fatal(err)
		}
		var labels, nouns []string
		for k := range file.Catalogue.Label {
			labels = append(labels, strings.TrimSuffix(k, "_"))
		}
		for k := range file.Catalogue.Count {
			nouns = append(nouns, k)
		}
		if got, want := sorted(labels), sorted(keys(labelKeys)); got != want {
			t.Errorf("%s labels:\n%s\nthe engine accepts:\n%s", lang, got, want)
		}
		if got, want := sorted(nouns), sorted(keys(countNouns)); got != want {
			t.Errorf("%s nouns:\n%s\nthe engine counts:\n%s", lang, got, want)
		}
		l := defaultBundle().For(lang)
		for k := range labelKeys {
			if id := labelID(k); l.T(id, nil) == id {
				t.Errorf("%s: label %q has no text", lang, k)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sorted(s []string) string {
	sort.Strings(s)
	return strings.Join(s, " ")
}
