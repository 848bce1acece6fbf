package agent_test

import (
	"strings"
	"testing"

	"github.com/herald-relay/herald/agent"
)

func TestFormat_Story(t *testing.T) {
	tests := []struct {
		lang string
	}{{"en"}, {"ru"}}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			n := agent.Format(story(), tt.lang, bundle)
			if got, want := n.Source, "orders"; got != want {
				t.Errorf("Source = %q, want %q", got, want)
			}
			if got, want := n.Event, "new_order"; got != want {
				t.Errorf("Event = %q, want %q", got, want)
			}
			if got, want := n.Lang, tt.lang; got != want {
				t.Errorf("Lang = %q, want %q", got, want)
			}
			if n.ByLLM {
				t.Error("ByLLM set by the formatter")
			}
			text := visible(t, agent.Render(n, bundle).HTML)
			if !strings.HasPrefix(text, "orders · new_order") {
				t.Errorf("message does not start with %q:\n%s", "orders · new_order", text)
			}
			for _, want := range map[string][]string{"en": {"Order ID: 12345", "Amount: 9900", "Customer: Иван Петров"}, "ru": {"ID заказа: 12345", "Сумма: 9900", "Клиент: Иван Петров"}}[tt.lang] {
				if !strings.Contains(text, want) {
					t.Errorf("message lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "Event: new_order") {
				t.Errorf("the event name is repeated as a fact:\n%s", text)
			}
		})
	}
}

func TestFormat_MoreFields(t *testing.T) {
	body := `{"event":"bulk","f1":"a","f2":"b","f3":"c","f4":"d","f5":"e","f6":"f","f7":"g","f8":"h","f9":"i","f10":"j","f11":"k"}`
	ev := agent.Event{Webhook: "w", ContentType: "application/json", Body: []byte(body)}
	tests := []struct {
		lang, want string
	}{
		{"en", "…and 3 more fields"},
		{"ru", "…и ещё 3 поля"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			n := agent.Format(ev, tt.lang, bundle)
			last := n.Facts[len(n.Facts)-1]
			if got := last; got.Label != "" || got.Value != tt.want {
				t.Errorf("last fact = %+v, want the line %q", got, tt.want)
			}
			if got, want := len(n.Facts), 9; got != want {
				t.Errorf("%d facts, want 8 and the more line", got)
			}
		})
	}
	t.Run("RussianPlurals", func(t *testing.T) {
		for count, want := range map[int]string{1: "…и ещё 1 поле", 5: "…и ещё 5 полей", 21: "…и ещё 21 поле", 22: "…и ещё 22 поля"} {
			var b strings.Builder
			b.WriteString(`{"event":"bulk"`)
			for i := 0; i < 8+count; i++ {
				b.WriteString(`,"field` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":"v"`)
			}
			b.WriteString("}")
			n := agent.Format(agent.Event{Webhook: "w", Body: []byte(b.String())}, "ru", bundle)
			if got := n.Facts[len(n.Facts)-1].Value; got != want {
				t.Errorf("%d more: got %q, want %q", count, got, want)
			}
		}
	})
}

func TestFormat_Generic(t *testing.T) {
	t.Run("PrefersTellingFields", func(t *testing.T) {
		body := `{"type":"invoice.created","id":"9f1c2b3a-1111-4222-8333-944445555666","node_id":"MDQ6VXNlcjIxMDMxMDY3",
			"sha":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","status":"open","total":"150.00","customer":{"name":"ACME","email":"billing@acme.example"},
			"html_url":"https://billing.example/invoices/42","avatar_url":"https://billing.example/a.png",
			"created_at":"2024-01-01T10:00:00Z","archived":false,"meta":{"deep":{"deeper":{"deepest":1}}}}`
		n := agent.Format(agent.Event{Webhook: "billing", ContentType: "application/json", Body: []byte(body)}, "en", bundle)
		if got, want := n.Event, "invoice.created"; got != want {
			t.Errorf("Event = %q, want %q", got, want)
		}
		if got, want := n.Link, "https://billing.example/invoices/42"; got != want {
			t.Errorf("Link = %q, want %q", got, want)
		}
		facts := map[string]string{}
		for _, f := range n.Facts {
			facts[f.Label] = f.Value
		}
		for label, want := range map[string]string{"Status": "open", "Total": "150.00", "Customer name": "ACME", "Customer email": "billing@acme.example"} {
			if got := facts[label]; got != want {
				t.Errorf("fact %q = %q, want %q (facts %v)", label, got, want, n.Facts)
			}
		}
		for _, noise := range []string{"ID", "Node ID", "SHA", "HTML URL", "Avatar URL", "Sha"} {
			if _, ok := facts[noise]; ok {
				t.Errorf("noise field %q shown as a fact", noise)
			}
		}
	})
	t.Run("TitleAndMessage", func(t *testing.T) {
		body := `{"event":"deploy","title":"Deploy v1.2","message":"Rolled out to 3 regions","severity":"critical"}`
		n := agent.Format(agent.Event{Webhook: "ops", Body: []byte(body)}, "en", bundle)
		if n.Title != "Deploy v1.2" || n.Summary != "Rolled out to 3 regions" {
			t.Errorf("Title, Summary = %q, %q", n.Title, n.Summary)
		}
		if got, want := n.Importance, agent.ImportanceHigh; got != want {
			t.Errorf("Importance = %q, want %q", got, want)
		}
	})
	t.Run("NestedEvent", func(t *testing.T) {
		n := agent.Format(agent.Event{Webhook: "pd", Body: []byte(`{"event":{"event_type":"incident.triggered","data":{"title":"DB down"}}}`)}, "en", bundle)
		if got, want := n.Event, "incident.triggered"; got != want {
			t.Errorf("Event = %q, want %q", got, want)
		}
	})
	t.Run("Array", func(t *testing.T) {
		n := agent.Format(agent.Event{Webhook: "w", Body: []byte(`[{"event":"a","x":1},{"event":"b"}]`)}, "en", bundle)
		if n.Event != "a" || !strings.Contains(n.Summary, "2 items") {
			t.Errorf("Event %q, Summary %q", n.Event, n.Summary)
		}
	})
	t.Run("Scalar", func(t *testing.T) {
		n := agent.Format(agent.Event{Webhook: "w", Body: []byte(`"just a string"`)}, "en", bundle)
		if got, want := n.Summary, "just a string"; got != want {
			t.Errorf("Summary = %q, want %q", got, want)
		}
	})
}

func TestFormat_NonJSON(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		check       func(t *testing.T, n agent.Notification, text string)
	}{
		{"Text", "text/plain", "Deploy finished\nversion 1.2.3 is live\n", func(t *testing.T, n agent.Notification, text string) {
			if n.Title != "Deploy finished" || n.Summary != "version 1.2.3 is live" {
				t.Errorf("Title, Summary = %q, %q", n.Title, n.Summary)
			}
		}},
		{"OneLine", "text/plain", "  backup done  ", func(t *testing.T, n agent.Notification, text string) {
			if got, want := text, "w\nbackup done"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		}},
		{"LongText", "text/plain", strings.Repeat("lorem ipsum ", 2000), func(t *testing.T, n agent.Notification, text string) {
			if r := len([]rune(n.Summary)); r > 1500 || !strings.HasSuffix(n.Summary, "…") {
				t.Errorf("summary of %d runes, ending %q", r, tail(n.Summary))
			}
		}},
		{"BrokenJSON", "application/json", `{"event": "x", oops`, func(t *testing.T, n agent.Notification, text string) {
			if !strings.Contains(text, `{"event": "x", oops`) {
				t.Errorf("broken JSON not shown as text: %q", text)
			}
		}},
		{"Form", "application/x-www-form-urlencoded", "command=%2Fdeploy&text=prod+now&user_name=steve&token=gIkuvaNzQIHg97ATvDxqgjtO", func(t *testing.T, n agent.Notification, text string) {
			if got, want := n.Event, "/deploy"; got != want {
				t.Errorf("Event = %q, want %q", got, want)
			}
			for _, want := range []string{"prod now", "User name: steve", "Token: ••••"} {
				if !strings.Contains(text, want) {
					t.Errorf("lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "gIkuvaNzQIHg97ATvDxqgjtO") {
				t.Errorf("token shown:\n%s", text)
			}
		}},
		{"FormWithJSONPayload", "application/x-www-form-urlencoded", "payload=%7B%22event%22%3A%22new_order%22%2C%22order_id%22%3A7%7D", func(t *testing.T, n agent.Notification, text string) {
			if n.Event != "new_order" || !strings.Contains(text, "Order ID: 7") {
				t.Errorf("payload= not unwrapped:\n%s", text)
			}
		}},
		{"InvalidUTF8", "text/plain", "caf\xe9 \xff\xfe <b>bold</b>", func(t *testing.T, n agent.Notification, text string) {
			if !strings.Contains(text, "caf\uFFFD") || !strings.Contains(text, "<b>bold</b>") {
				t.Errorf("got %q", text)
			}
		}},
		{"InvalidUTF8InJSON", "application/json", "{\"event\":\"x\",\"name\":\"Ив\xffан\"}", func(t *testing.T, n agent.Notification, text string) {
			if n.Title != "Ив\uFFFDан" {
				t.Errorf("got %q", text)
			}
		}},
		{"Binary", "application/octet-stream", "\x00\x01\x02\xff\xfe\xfd", func(t *testing.T, n agent.Notification, text string) {
			if got, want := n.Summary, "Binary data, 6 bytes."; got != want {
				t.Errorf("Summary = %q, want %q", got, want)
			}
		}},
		{"Empty", "application/json", "", func(t *testing.T, n agent.Notification, text string) {
			if got, want := n.Summary, "The request had no body."; got != want {
				t.Errorf("Summary = %q, want %q", got, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := agent.Event{Webhook: "w", ContentType: tt.contentType, Body: []byte(tt.body)}
			n := agent.Format(ev, "en", bundle)
			if n.Source != "w" {
				t.Errorf("Source = %q, want the webhook name", n.Source)
			}
			tt.check(t, n, visible(t, agent.Render(n, bundle).HTML))
		})
	}
}

func TestFormat_Masking(t *testing.T) {
	secrets := []string{
		"hunter2-very-secret", "sk-proj-abcdefghijklmnop1234", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"4242424242424242", "123", "s3cr3t-client", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"abcDEF123456ghiJKL", "whsec_abcdefghijklmnop", "p4ss",
	}
	body := `{"event":"signup","email":"a@example.com",
		"password":"hunter2-very-secret","apiKey":"sk-proj-abcdefghijklmnop1234","github_token":"ghp_abcdefghijklmnopqrstuvwxyz0123456789",
		"card":{"number":"4242424242424242","cvv":"123"},"client_secret":"s3cr3t-client",
		"note":"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
		"X-Api-Key":"abcDEF123456ghiJKL","signing":"whsec_abcdefghijklmnop",
		"callback":"https://bob:p4ss@example.com/hook","company":"Acme","panel_url_text":"visible"}`
	n := agent.Format(agent.Event{Webhook: "signup", ContentType: "application/json", Body: []byte(body)}, "en", bundle)
	m := agent.Render(n, bundle)
	all := m.HTML + m.LinkURL
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q shown:\n%s", s, m.HTML)
		}
	}
	text := visible(t, m.HTML)
	for _, want := range []string{"Password: ••••", "API key: ••••", "Email: a@example.com", "Company: Acme"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
}

func TestFormat_Stripe(t *testing.T) {
	body := func(typ, object string) []byte {
		return []byte(`{"id":"evt_1","object":"event","type":"` + typ + `","livemode":true,"data":{"object":` + object + `}}`)
	}
	tests := []struct {
		name, lang, typ, object string
		wantTitle               string
		wantImportance          agent.Importance
	}{
		{"SucceededEN", "en", "payment_intent.succeeded", `{"object":"payment_intent","amount":9900,"currency":"usd","status":"succeeded"}`, "Payment of $99.00 succeeded", agent.ImportanceNormal},
		{"SucceededRU", "ru", "payment_intent.succeeded", `{"object":"payment_intent","amount":9900,"currency":"usd","status":"succeeded"}`, "Платёж на 99.00 USD прошёл", agent.ImportanceNormal},
		{"FailedEN", "en", "payment_intent.payment_failed", `{"object":"payment_intent","amount":123456,"currency":"eur","last_payment_error":{"message":"Your card was declined."}}`, "Payment of €1,234.56 failed", agent.ImportanceHigh},
		{"ZeroDecimal", "en", "charge.succeeded", `{"object":"charge","amount":500,"currency":"jpy"}`, "Payment of ¥500 succeeded", agent.ImportanceNormal},
		{"OtherCurrency", "en", "charge.succeeded", `{"object":"charge","amount":9900,"currency":"chf"}`, "Payment of 99.00 CHF succeeded", agent.ImportanceNormal},
		{"ThreeDecimal", "ru", "charge.succeeded", `{"object":"charge","amount":1500,"currency":"kwd"}`, "Платёж на 1.500 KWD прошёл", agent.ImportanceNormal},
		{"Unknown", "en", "payout.paid", `{"object":"payout","amount":100,"currency":"usd"}`, "payout paid", agent.ImportanceNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := agent.Event{Webhook: "pay", ContentType: "application/json", Body: body(tt.typ, tt.object)}
			n := agent.Format(ev, tt.lang, bundle)
			if n.Source != "Stripe" || n.Event != tt.typ {
				t.Errorf("Source · Event = %q · %q", n.Source, n.Event)
			}
			if n.Title != tt.wantTitle {
				t.Errorf("Title = %q, want %q", n.Title, tt.wantTitle)
			}
			if n.Importance != tt.wantImportance {
				t.Errorf("Importance = %q, want %q", n.Importance, tt.wantImportance)
			}
		})
	}
}

func TestFormat_Alertmanager(t *testing.T) {
	alert := func(status, name string) string {
		return `{"status":"` + status + `","labels":{"alertname":"` + name + `","severity":"critical","instance":"db1"},"annotations":{"summary":"` + name + ` on db1"},"generatorURL":"http://prometheus:9090/graph?g0.expr=up"}`
	}
	group := func(status string, alerts ...string) []byte {
		return []byte(`{"version":"4","groupKey":"{}","status":"` + status + `","receiver":"herald","groupLabels":{},"commonLabels":{"severity":"critical"},"externalURL":"http://alertmanager:9093","alerts":[` + strings.Join(alerts, ",") + `]}`)
	}
	tests := []struct {
		name, lang     string
		body           []byte
		wantEvent      string
		wantTitle      string
		wantImportance agent.Importance
	}{
		{"FiringOne", "en", group("firing", alert("firing", "DiskFull")), "firing", "Firing: DiskFull", agent.ImportanceHigh},
		{"FiringMany", "ru", group("firing", alert("firing", "DiskFull"), alert("firing", "HighLoad"), alert("firing", "HighLoad")), "firing", "Сработало 3 алерта: DiskFull, HighLoad", agent.ImportanceHigh},
		{"Resolved", "en", group("resolved", alert("resolved", "DiskFull")), "resolved", "Resolved: DiskFull", agent.ImportanceLow},
		{"ResolvedManyRU", "ru", group("resolved", alert("resolved", "A"), alert("resolved", "B"), alert("resolved", "C"), alert("resolved", "D"), alert("resolved", "E")), "resolved", "Снято 5 алертов: A, B, C, …", agent.ImportanceLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := agent.Format(agent.Event{Webhook: "alerts", ContentType: "application/json", Body: tt.body}, tt.lang, bundle)
			if n.Source != "Alertmanager" || n.Event != tt.wantEvent {
				t.Errorf("Source · Event = %q · %q", n.Source, n.Event)
			}
			if n.Title != tt.wantTitle {
				t.Errorf("Title = %q, want %q", n.Title, tt.wantTitle)
			}
			if n.Importance != tt.wantImportance {
				t.Errorf("Importance = %q, want %q", n.Importance, tt.wantImportance)
			}
			if got, want := n.Link, "http://prometheus:9090/graph?g0.expr=up"; got != want {
				t.Errorf("Link = %q, want %q", got, want)
			}
		})
	}
}

func TestFormat_GitHubByHeader(t *testing.T) {
	// The same body is a generic event without the header.
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"events":["push","issues"]},"repository":{"full_name":"octo/hello","html_url":"https://github.com/octo/hello"}}`)
	ev := agent.Event{Webhook: "gh", ContentType: "application/json", Headers: map[string]string{"X-Github-Event": "ping"}, Body: body}
	n := agent.Format(ev, "en", bundle)
	if n.Source != "GitHub" || n.Event != "ping" || n.Title != "GitHub webhook is connected" || n.Importance != agent.ImportanceLow {
		t.Errorf("got %q · %q, %q, %q", n.Source, n.Event, n.Title, n.Importance)
	}
	ev.Headers = nil
	if n := agent.Format(ev, "en", bundle); n.Source != "gh" {
		t.Errorf("without the header Source = %q, want the webhook name", n.Source)
	}
}

// TestFormat_RealPayloads runs the formatter over the vendors' published
// payloads: the sender must be recognized, the message valid and within
// Telegram's limit in both languages.
func TestFormat_RealPayloads(t *testing.T) {
	tests := []struct {
		file, source, event, title string
		link                       string
		importance                 agent.Importance
	}{
		{"github/push.json", "GitHub", "push", "Codertocat pushed 1 commit to master", "https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246", agent.ImportanceNormal},
		{"github/push.tag-deleted.json", "GitHub", "push", "Codertocat deleted tag simple-tag", "", agent.ImportanceNormal},
		{"github/pull_request.opened.json", "GitHub", "pull_request.opened", "#2 Update the README with new information.", "https://github.com/Codertocat/Hello-World/pull/2", agent.ImportanceNormal},
		{"github/issues.opened.json", "GitHub", "issues.opened", "#1 Spelling error in the README file", "https://github.com/Codertocat/Hello-World/issues/1", agent.ImportanceNormal},
		{"github/ping.json", "GitHub", "ping", "GitHub webhook is connected", "", agent.ImportanceLow},
		{"github/workflow_job.completed.failure.json", "GitHub", "workflow_job.completed", "Job linters: failed", "https://github.com/octo-org/octo-repo/runs/1291536064", agent.ImportanceHigh},
		{"gitlab/push.json", "GitLab", "push", "jsmith pushed 4 commits to master", "", agent.ImportanceNormal},
		{"gitlab/merge_request.open.json", "GitLab", "merge_request.open", "!1 MS-Viewport", "http://example.com/diaspora/merge_requests/1", agent.ImportanceNormal},
		{"stripe/payment_intent.succeeded.json", "Stripe", "payment_intent.succeeded", "Payment of $20.00 succeeded", "", agent.ImportanceNormal},
		{"stripe/payment_intent.payment_failed.json", "Stripe", "payment_intent.payment_failed", "Payment of $20.00 failed", "", agent.ImportanceHigh},
		{"grafana/alerting.firing.json", "Grafana", "firing", "2 alerts firing: High memory usage, High CPU usage", "https://play.grafana.org/alerting/1afz29v7z/edit", agent.ImportanceHigh},
		{"sentry/issue.created.json", "Sentry", "issue.created", "ReferenceError: blooopy is not defined", "", agent.ImportanceHigh},
		{"sentry/metric_alert.resolved.json", "Sentry", "metric_alert.resolved", "Resolved: Too many errors", "https://sentry.io/organizations/baz/alerts/1/", agent.ImportanceLow},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ev := realPayload(t, tt.file)
			n := agent.Format(ev, "en", bundle)
			if n.Source != tt.source || n.Event != tt.event {
				t.Errorf("Source · Event = %q · %q, want %q · %q", n.Source, n.Event, tt.source, tt.event)
			}
			if n.Title != tt.title {
				t.Errorf("Title = %q, want %q", n.Title, tt.title)
			}
			if tt.link != "" && n.Link != tt.link {
				t.Errorf("Link = %q, want %q", n.Link, tt.link)
			}
			if n.Importance != tt.importance {
				t.Errorf("Importance = %q, want %q", n.Importance, tt.importance)
			}
		})
	}

}
