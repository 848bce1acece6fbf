package agent_test

import (
	"testing"

	"github.com/herald-relay/herald/agent"
)

// TestCatalogueSeed covers the senders issue 20 names as seeds, or that
// Herald's users run most, which the family helpers left out for want of a
// byte-exact published payload: every payload under testdata/senders/<id>/
// of these entries, in en and ru. A monitor going down or a payment failing
// is high with a to-do; money is shown in the sender's units converted to
// major ones.
func TestCatalogueSeed(t *testing.T) {
	checkCatalogueGolden(t, []catalogueCase{
		// Uptime Kuma: one monitor down (timeout), up again, down on DNS.
		{
			Sender: "uptime-kuma", File: "down.json", Header: "Uptime Kuma · down",
			Facts:      []string{"https://exampleXYZ.com", "timeout of 16000ms exceeded", "HTTP"},
			Derived:    []string{"test is down", "Checked: 2023-07-31 18:56 UTC", "Look at https://exampleXYZ.com: timeout of 16000ms exceeded"},
			DerivedRU:  []string{"test недоступен", "Проверено: 31.07.2023 18:56 UTC", "Проверьте https://exampleXYZ.com"},
			Importance: agent.ImportanceHigh, Thread: "uptime-kuma:89", Action: true,
		},
		{
			Sender: "uptime-kuma", File: "up.json", Header: "Uptime Kuma · up",
			Facts:      []string{"https://example.com", "200 - OK"},
			Derived:    []string{"test is up", "Response time: 55 ms"},
			DerivedRU:  []string{"test снова доступен", "Время ответа: 55 мс"},
			Importance: agent.ImportanceNormal, Thread: "uptime-kuma:89",
		},
		{
			Sender: "uptime-kuma", File: "down.enotfound.json", Header: "Uptime Kuma · down",
			Facts:      []string{"https://exampleasdsda.com", "getaddrinfo ENOTFOUND exampleasdsda.com"},
			Derived:    []string{"test is down", "Look at https://exampleasdsda.com: getaddrinfo ENOTFOUND"},
			DerivedRU:  []string{"test недоступен", "Проверьте https://exampleasdsda.com"},
			Importance: agent.ImportanceHigh, Thread: "uptime-kuma:89", Action: true,
		},
	})
}
