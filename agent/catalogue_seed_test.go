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
		// Razorpay: amounts in paise (minor units) become rupees; a failure
		// with the docs' blank currency shows the sub-unit count, labelled.
		{
			Sender: "razorpay", File: "payment.captured.card.doc.json", Header: "Razorpay · payment.captured",
			Facts:      []string{"gaurav.kumar@example.com", "order_DESoU0U4ikYA19", "pay_DESp9bgForNoUd", "0153"},
			Derived:    []string{"Payment captured", "Amount: ₹1.00", "Visa debit •••• 0153"},
			DerivedRU:  []string{"Платёж получен", "Сумма: 1.00 INR"},
			Importance: agent.ImportanceNormal, Thread: "razorpay:order_DESoU0U4ikYA19",
		},
		{
			Sender: "razorpay", File: "payment.failed.netbanking.doc.json", Header: "Razorpay · payment.failed",
			Facts:      []string{"50000", "HDFC", "Payment failed", "pay_DEAU825sJlCbGa", "order_DEATVTRRctwEGb"},
			Derived:    []string{"Amount, in currency sub-units: 50000", "Payment failed (bank, payment authorization)", "Follow up the failed payment pay_DEAU825sJlCbGa"},
			DerivedRU:  []string{"Платёж не прошёл", "Сумма в минимальных единицах валюты: 50000", "Разберитесь с неудачным платежом pay_DEAU825sJlCbGa"},
			Importance: agent.ImportanceHigh, Thread: "razorpay:order_DEATVTRRctwEGb", Action: true,
		},
		{
			Sender: "razorpay", File: "order.paid.netbanking.doc.json", Header: "Razorpay · order.paid",
			Facts:      []string{"rcptid #1", "order_DESlLckIVRkHWj", "pay_DESlfW9H8K9uqM", "HDFC"},
			Derived:    []string{"Order rcptid #1 paid", "Amount: ₹1.00", "Fee: ₹0.02"},
			DerivedRU:  []string{"Заказ rcptid #1 оплачен", "Сумма: 1.00 INR", "Комиссия: 0.02 INR"},
			Importance: agent.ImportanceNormal, Thread: "razorpay:order_DESlLckIVRkHWj",
		},
	})
}
