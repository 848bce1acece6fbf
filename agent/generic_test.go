package agent_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/bot/tgemu"
)

// formatGeneric formats a body of a sender Herald does not know in lang and
// returns the notification and the text a reader sees.
func formatGeneric(t *testing.T, contentType, body, lang string, headers map[string]string) (agent.Notification, string) {
	t.Helper()
	ev := agent.Event{Webhook: "hook", ContentType: contentType, Headers: headers, Body: []byte(body)}
	n := agent.Format(ev, lang, bundle)
	if n.Source != "hook" {
		t.Fatalf("taken for %q", n.Source)
	}
	return n, visible(t, agent.Render(n, bundle).HTML)
}

func TestGeneric_Event(t *testing.T) {
	tests := []struct {
		name, body string
		headers    map[string]string
		want       string
	}{
		{"HeaderEvent", `{"a":1}`, map[string]string{"X-Acme-Event": "order.paid"}, "order.paid"},
		{"HeaderEventName", `{"a":1}`, map[string]string{"X-Event-Name": "deploy"}, "deploy"},
		{"HeaderTopic", `{"a":1}`, map[string]string{"X-Shop-Topic": "orders/create"}, "orders/create"},
		{"HeaderEventType", `{"a":1}`, map[string]string{"X-Forum-Event-Type": "post"}, "post"},
		{"EventBeatsEventType", `{"a":1}`, map[string]string{"X-Forum-Event-Type": "post", "X-Forum-Event": "post_created"}, "post_created"},
		{"EventIDIsNotAnEvent", `{"type":"ping"}`, map[string]string{"X-Acme-Event-Id": "42"}, "ping"},
		{"HeaderBeforeBody", `{"event":"x"}`, map[string]string{"X-Acme-Event": "y"}, "y"},
		{"EventType", `{"eventType":"INVOICE_PAID","id":1}`, nil, "INVOICE_PAID"},
		{"NotificationType", `{"notification_type":"upload","public_id":"a"}`, nil, "upload"},
		{"EventKey", `{"eventKey":"repo:push"}`, nil, "repo:push"},
		{"Kind", `{"kind":"build","id":3}`, nil, "build"},
		{"TopicBeforeType", `{"type":"notification_event","topic":"conversation.user.created"}`, nil, "conversation.user.created"},
		{"TypeAndAction", `{"action":"create","type":"Issue","data":{"title":"x"}}`, nil, "Issue.create"},
		{"Nested", `{"event":{"event_type":"incident.triggered","data":{"title":"DB down"}}}`, nil, "incident.triggered"},
		{"NestedActionType", `{"user":{"id":1},"email_data":{"email_action_type":"recovery"}}`, nil, "recovery"},
		{"BatchOfEvents", `{"events":[{"action":"changed","type":"task","resource":{"name":"Ship it"}}]}`, nil, "task.changed"},
		{"NotAnID", `{"type":"8d6f2a1c-1111-4222-8333-944445555666","event":"x"}`, nil, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, text := formatGeneric(t, "application/json", tt.body, "en", tt.headers)
			if n.Event != tt.want {
				t.Errorf("event %q, want %q:\n%s", n.Event, tt.want, text)
			}
		})
	}
}

func TestGeneric_Values(t *testing.T) {
	tests := []struct {
		name, body string
		en, ru     []string // lines the message shows
		absent     []string
	}{
		{"MoneyMajor", `{"event":"order","total":"1234.5","currency":"rub"}`,
			[]string{"Total: 1,234.50 ₽"}, []string{"Итого: 1", "234.50 ₽"}, []string{"Currency"}},
		{"MoneyMinorByKey", `{"event":"payment","amount_cents":1000,"currency":"643"}`,
			[]string{"Amount: 10.00 ₽"}, []string{"Сумма: 10.00 ₽"}, []string{"1000", "643"}},
		{"MoneyKopecks", `{"event":"payment","sum_kopecks":"99900","currency":"RUB"}`,
			[]string{"Sum: 999.00 ₽"}, nil, nil},
		{"MoneyMinorBySender", `{"event":"payment","amount":1000,"currency":"RUB","amount_unit":"kopecks"}`,
			[]string{"Amount: 10.00 ₽"}, []string{"Сумма: 10.00 ₽"}, []string{"1,000", "kopecks"}},
		{"MoneyObject", `{"event":"charge","price":{"value":"652.15","currency":"usd"}}`,
			[]string{"Price: $652.15"}, []string{"Цена: 652.15 USD"}, nil},
		{"MoneyNumericCode", `{"event":"refund","refund":{"amount":5,"currency":840}}`,
			[]string{"Refund amount: $5.00"}, nil, []string{"840"}},
		{"EpochSeconds", `{"event":"x","created":1709647620}`,
			[]string{"Created: 2024-03-05 14:07 UTC"}, []string{"Создано: 05.03.2024 14:07 UTC"}, []string{"1709647620"}},
		{"EpochMillis", `{"event":"x","updatedAt":1709647620123}`,
			[]string{"Updated: 2024-03-05 14:07 UTC"}, nil, nil},
		{"ISOMicro", `{"event":"x","occurred_at":"2024-03-05T14:07:00.123456+03:00"}`,
			[]string{"Occurred: 2024-03-05 14:07 +03:00"}, nil, []string{".123456"}},
		{"OneTimestamp", `{"event":"x","created_at":"2024-03-05T14:07:00Z","updated_at":"2024-03-06T10:00:00Z","status":"open"}`,
			[]string{"Created: 2024-03-05 14:07 UTC", "Status: open"}, nil, []string{"Updated"}},
		{"IDIsNotATime", `{"event":"x","order_id":1709647620}`,
			[]string{"Order ID: 1709647620"}, nil, nil},
		{"Records", `{"event":"x","members":[{"id":1,"name":"Ann"},{"id":2,"name":"Bob"},{"id":3,"name":"Cid"},{"id":4,"name":"Dan"},{"id":5,"name":"Eve"}]}`,
			[]string{"Members: Ann, Bob, Cid and 2 more"}, []string{"Ann, Bob, Cid и ещё 2"}, []string{"5 items"}},
		{"FewRecords", `{"event":"x","line_items":[{"sku":"A-1","quantity":2},{"sku":"B-2","quantity":1}]}`,
			[]string{"Line items: A-1, B-2"}, nil, nil},
		{"Change", `{"event":"x","status":{"from":"open","to":"closed"}}`,
			[]string{"Status: open → closed"}, []string{"Статус: open → closed"}, nil},
		{"FullName", `{"event":"x","customer":{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}}`,
			[]string{"Customer name: Ann Lee", "Customer email: ann@example.com"}, []string{"Email клиента: ann@example.com"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for lang, want := range map[string][]string{"en": tt.en, "ru": tt.ru} {
				_, text := formatGeneric(t, "application/json", tt.body, lang, nil)
				for _, s := range want {
					if !strings.Contains(text, s) {
						t.Errorf("%s: lacks %q:\n%s", lang, s, text)
					}
				}
				for _, s := range tt.absent {
					if strings.Contains(text, s) {
						t.Errorf("%s: shows %q:\n%s", lang, s, text)
					}
				}
			}
		})
	}
}

func TestGeneric_Link(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"PageOverAPI", `{"event":"x","api_url":"https://api.example.com/v1/issues/1","html_url":"https://example.com/org/repo/issues/1"}`, "https://example.com/org/repo/issues/1"},
		{"NotAnActionURL", `{"event":"x","ack_url":"https://alerts.example.com/alerts/1/acknowledge","url":"https://alerts.example.com/alerts/1"}`, "https://alerts.example.com/alerts/1"},
		{"NotAGitRemote", `{"event":"x","clone_url":"https://example.com/org/repo.git"}`, ""},
		{"NotAnAPIEndpoint", `{"event":"x","self":"https://example.atlassian.net/rest/api/2/issue/10001"}`, ""},
		{"NotAPicture", `{"event":"x","user":{"avatar":"https://cdn.example.com/u/1"},"image_url":"https://cdn.example.com/i.png"}`, ""},
		{"NotLocalhost", `{"event":"x","site_url":"http://localhost:9999"}`, ""},
		{"NotACallback", `{"event":"x","response_url":"https://chat.example.com/hooks/commands/abc"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, text := formatGeneric(t, "application/json", tt.body, "en", nil)
			if n.Link != tt.want {
				t.Errorf("link %q, want %q:\n%s", n.Link, tt.want, text)
			}
		})
	}
}

func TestGeneric_Importance(t *testing.T) {
	tests := []struct {
		name, body string
		want       agent.Importance
	}{
		{"DeepFailure", `{"event":"check","data":{"result":{"checks":[{"name":"db","status":"ok"},{"name":"disk","status":"FAILED"}]}}}`, agent.ImportanceHigh},
		{"EventName", `{"event":"build.failed","build":{"number":12}}`, agent.ImportanceHigh},
		{"SuccessFalse", `{"event":"sync","result":{"success":false}}`, agent.ImportanceHigh},
		{"ErrorSet", `{"event":"job","job":{"error":{"message":"disk full"}}}`, agent.ImportanceHigh},
		{"ErrorEmpty", `{"event":"job","error_code":"","errors":[],"error":null}`, agent.ImportanceNormal},
		{"Delivered", `{"event":"sms","message_status":"DELIVERED"}`, agent.ImportanceNormal},
		{"Undelivered", `{"event":"sms","data":{"message_status":"UNDELIVERED"}}`, agent.ImportanceHigh},
		{"LaterRecordOfABatch", `[{"event":"check","status":"ok"},{"event":"check","status":"failed"}]`, agent.ImportanceHigh},
		{"FreeTextIsNotAStatus", `{"event":"comment","text":"the build failed yesterday, fixed now"}`, agent.ImportanceNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, text := formatGeneric(t, "application/json", tt.body, "en", nil)
			if n.Importance != tt.want {
				t.Errorf("importance %q, want %q:\n%s", n.Importance, tt.want, text)
			}
			if got, want := n.Action != "", tt.want == agent.ImportanceHigh; got != want {
				t.Errorf("to-do %q, want one: %v", n.Action, want)
			}
		})
	}
}

func TestGeneric_Nesting(t *testing.T) {
	alert := `{"alert":"Disk full on db-1","severity":"critical","host":"db-1"}`
	t.Run("Envelope60Deep", func(t *testing.T) {
		body := alert
		for i := 0; i < 60; i++ {
			body = `{"wrap` + string(rune('a'+i%26)) + `":` + body + `}`
		}
		n, text := formatGeneric(t, "application/json", body, "en", nil)
		for _, want := range []string{"Disk full on db-1", "Host: db-1"} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		if n.Importance != agent.ImportanceHigh {
			t.Errorf("importance %q", n.Importance)
		}
	})
	t.Run("JSONInAString", func(t *testing.T) {
		body := `{"Type":"Notification","MessageId":"1","Message":` + strings.ReplaceAll(strings.ReplaceAll(`"`+alert+`"`, `"`, `\"`)[2:], `\"}\"`, `\"}"`)
		body = `{"Type":"Notification","MessageId":"1","Message":"` + strings.ReplaceAll(alert, `"`, `\"`) + `"}`
		_, text := formatGeneric(t, "application/json", body, "en", nil)
		if !strings.Contains(text, "Host: db-1") || strings.Contains(text, `\"`) {
			t.Errorf("the message's JSON is not read:\n%s", text)
		}
	})
	t.Run("DeepestStops", func(t *testing.T) {
		// A hostile body nests 10000 wrappers: read, within bounds.
		body := strings.Repeat(`{"a":`, 9999) + `{"event":"x","b":1}` + strings.Repeat("}", 9999)
		n, _ := formatGeneric(t, "application/json", body, "en", nil)
		if n.Event != "x" {
			t.Errorf("event %q", n.Event)
		}
	})
}

func TestGeneric_Forms(t *testing.T) {
	form := func(pairs ...string) string {
		v := url.Values{}
		var parts []string
		for i := 0; i+1 < len(pairs); i += 2 {
			v = url.Values{pairs[i]: {pairs[i+1]}}
			parts = append(parts, v.Encode())
		}
		return strings.Join(parts, "&")
	}
	t.Run("PHPKeys", func(t *testing.T) {
		// amoCRM's own shape (leads[add]…, account[subdomain]) is the
		// catalogue's: these keys are a shop's that no entry knows.
		body := form("orders[add][0][id]", "7", "orders[add][0][name]", "Big deal", "orders[add][0][price]", "5000",
			"orders[add][1][id]", "8", "orders[add][1][name]", "Small deal", "shop[subdomain]", "acme")
		n, text := formatGeneric(t, "application/x-www-form-urlencoded", body, "en", nil)
		if n.Event != "orders.add" {
			t.Errorf("event %q", n.Event)
		}
		for _, want := range []string{"Orders add: Big deal, Small deal", "Subdomain: acme"} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "orders[add]") {
			t.Errorf("raw keys:\n%s", text)
		}
	})
	t.Run("Bitrix", func(t *testing.T) {
		body := form("event", "ONCRMDEALUPDATE", "data[FIELDS][ID]", "42", "auth[domain]", "acme.bitrix24.ru",
			"auth[application_token]", "q8ovaxg5tpfw2vbnq6x1cnnhnbihnhp4", "auth[member_id]", "1a2b")
		n, text := formatGeneric(t, "application/x-www-form-urlencoded", body, "ru", nil)
		if n.Event != "ONCRMDEALUPDATE" {
			t.Errorf("event %q", n.Event)
		}
		for _, want := range []string{"acme.bitrix24.ru", "42"} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q (over-masked?):\n%s", want, text)
			}
		}
		if strings.Contains(text, "q8ovaxg5tpfw2vbnq6x1cnnhnbihnhp4") {
			t.Errorf("application token shown:\n%s", text)
		}
	})
	t.Run("Card", func(t *testing.T) {
		body := `{"event":"payment","card":{"number":"4242424242424242","last4":"4242","brand":"visa","cvc":"123"}}`
		_, text := formatGeneric(t, "application/json", body, "en", nil)
		for _, want := range []string{"visa", "4242"} {
			if !strings.Contains(text, want) {
				t.Errorf("lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "4242424242424242") || strings.Contains(text, "123") {
			t.Errorf("card number or code shown:\n%s", text)
		}
	})
}

// FuzzGenericFormat checks that any body reads without a panic, the same
// way twice, into a message Telegram accepts.
func FuzzGenericFormat(f *testing.F) {
	for _, c := range genericGolden {
		if b, err := os.ReadFile(filepath.Join(genericDir, c.File)); err == nil {
			f.Add("application/json", b)
		}
	}
	for _, s := range []string{`{"a":{"b":{"c":[{"name":"x"},{"name":"y"}]}}}`, `[{"event":"x"},{}]`, `{"Message":"{\"a\":1}"}`,
		`{"amount":"1,5","currency":"643"}`, `{"from":{"name":1},"to":null}`, "leads[add][0][name]=x&leads[add][]=y"} {
		f.Add("application/json", []byte(s))
		f.Add("application/x-www-form-urlencoded", []byte(s))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		ev := agent.Event{Webhook: "hook", ContentType: contentType, Body: body,
			Headers: map[string]string{"X-Fuzz-Event": "a", "X-Fuzz-Topic": "b"}}
		n1 := agent.Format(ev, "ru", bundle)
		n2 := agent.Format(ev, "ru", bundle)
		if d := diff(n1, n2); d != "" {
			t.Fatalf("two readings differ:\n%s", d)
		}
		m := agent.Render(n1, bundle)
		if _, err := tgemu.CheckHTML(m.HTML); err != nil {
			t.Fatalf("Telegram would refuse %q: %v", m.HTML, err)
		}
	})
}
