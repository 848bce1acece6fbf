package agent_test

import (
	"testing"

	"github.com/herald-relay/herald/agent"
)

// TestCataloguePay is the payments, shops and automation family:
// every payload under testdata/senders/<id>/ of these entries, in en and ru.
// Money is the point: minor units become major ones (Adyen 10100 EUR is
// €101.00, T-Bank 100000 kopecks is 1,000.00 ₽), amount and currency on one
// line; failures, declines and disputes are high with a to-do; refunds and
// successful payments normal.
//
// Card last-four digits are not asserted yet: the engine masks keys with
// the word "card" (cardSummary, card_last_four, CardLastFour) as credentials
// — /work/coord/requests-colpay.md, request 1.
func TestCataloguePay(t *testing.T) {
	checkCatalogueGolden(t, []catalogueCase{
		{
			Sender: "adyen", File: "authorisation.success.json", Header: "Adyen · authorisation",
			Facts:      []string{"8313842560770001", "VISA", "MagentoMerchantTest2"},
			Derived:    []string{"€101.00", "Payment authorised"},
			DerivedRU:  []string{"101.00 EUR", "Платёж авторизован"},
			Importance: agent.ImportanceNormal, Thread: "adyen:123456789",
		},
		{
			Sender: "adyen", File: "capture.failed.json", Header: "Adyen · capture failed",
			Facts:      []string{"00000001", "Insufficient balance on payment", "ORIGINAL_PSP"},
			Derived:    []string{"$236.23", "Check why the capture of 00000001 failed"},
			DerivedRU:  []string{"236.23 USD", "не прошла операция capture по 00000001"},
			Importance: agent.ImportanceHigh, Thread: "adyen:ORIGINAL_PSP", Action: true,
		},
		{
			Sender: "adyen", File: "refund.success.json", Header: "Adyen · refund",
			Facts:      []string{"payment-2017-1-17-11-refund", "ORIGINAL_PSP"},
			Derived:    []string{"€15.00", "Payment refunded"},
			DerivedRU:  []string{"15.00 EUR", "Платёж возвращён"},
			Importance: agent.ImportanceNormal, Thread: "adyen:ORIGINAL_PSP",
		},
		{
			Sender: "paddle", File: "transaction.completed.json", Header: "Paddle · transaction.completed",
			Facts:      []string{"296-173553", "4242", "Luxurious Plastic Tuna", "sub_01hszn787vc5vkkdah3rtd4nft"},
			Derived:    []string{"£9.50", "VISA •••• 4242"},
			DerivedRU:  []string{"9.50 GBP", "VISA •••• 4242"},
			Importance: agent.ImportanceNormal, Thread: "paddle:sub_01hszn787vc5vkkdah3rtd4nft",
		},
		{
			Sender: "paddle", File: "transaction.payment_failed.json", Header: "Paddle · transaction.payment_failed",
			Facts:      []string{"txn_01hg0trpqvp70evgmzj1648z5q", "3184", "ChatApp Pro", "ctm_01gyssmfx5rnmk4dt8qx88v0ee"},
			Derived:    []string{"£660.00", "authentication failed", "Follow up the failed payment"},
			DerivedRU:  []string{"660.00 GBP", "Разберитесь с неудачным платежом"},
			Importance: agent.ImportanceHigh, Thread: "paddle:sub_01gyssnczp81czs49zcprm6hfv", Action: true,
		},
		{
			Sender: "paddle", File: "adjustment.created.refund.json", Header: "Paddle · adjustment.created",
			Facts:      []string{"adj_01hvgf2s84dr6reszzg29zbvcm", "txn_01hvcc93znj3mpqt1tenkjb04y", "refund"},
			Derived:    []string{"$1.00", "pending approval"},
			DerivedRU:  []string{"1.00 USD"},
			Importance: agent.ImportanceNormal, Thread: "paddle:sub_01hvccbx32q2gb40sqx7n42430",
		},
		{
			Sender: "coinbase-commerce", File: "charge.created.json", Header: "Coinbase Commerce · charge:created",
			Facts:      []string{"The Sovereign Individual", "Mastering the Transition to the Information Age", "66BEOV2A"},
			Derived:    []string{"2017-01-31 21:04 UTC"},
			DerivedRU:  []string{"31.01.2017 21:04 UTC"},
			Importance: agent.ImportanceNormal, Link: "https://commerce.coinbase.com/charges/66BEOV2A",
			Thread: "coinbase-commerce:66BEOV2A",
		},
		{
			// The official example's Status is the placeholder "string": the
			// event falls back to "payment"; Token is masked (checked).
			Sender: "tbank", File: "notification.payment.json", Header: "T-Bank · payment",
			Facts:      []string{"21050", "13660", "TinkoffBankTest"},
			Derived:    []string{"1,000.00 ₽"},
			DerivedRU:  []string{"1 000.00 ₽"},
			Importance: agent.ImportanceNormal, Thread: "tbank:13660",
		},
		{
			Sender: "paypal", File: "payment.sale.completed.json", Header: "PayPal · PAYMENT.SALE.COMPLETED",
			Facts:      []string{"Payment completed for $ 21.0 USD", "57e3028db8d1b", "80F85758S3080410K"},
			Derived:    []string{"$21.00", "$0.91"},
			DerivedRU:  []string{"21.00 USD", "0.91 USD"},
			Importance: agent.ImportanceNormal, Thread: "paypal:PAY-7F371669SL612941HK7RQFDQ",
		},
		{
			Sender: "paypal", File: "payments.payment.created.json", Header: "PayPal · PAYMENTS.PAYMENT.CREATED",
			Facts:      []string{"Checkout payment is created and approved by buyer", "48787589673111", "John Doe", "sb-ahlmo117121@personal.example.com"},
			Derived:    []string{"$30.11", "approved"},
			DerivedRU:  []string{"30.11 USD"},
			Importance: agent.ImportanceNormal, Thread: "paypal:PAYID-LVT22VY7N839502VJ678725M",
		},
		{
			Sender: "square", File: "payment.updated.json", Header: "Square · payment.updated",
			Facts:      []string{"hYy9", "9029", "03O3USaPaAaFnI6kkwB1JxGgBsUZY"},
			Derived:    []string{"$1.00", "Receipt hYy9"},
			DerivedRU:  []string{"1.00 USD", "Чек hYy9"},
			Importance: agent.ImportanceNormal, Link: "https://squareup.com/receipt/preview/hYy9pRFVxpDsO1FB05SunFWUe9JZY",
			Thread: "square:hYy9pRFVxpDsO1FB05SunFWUe9JZY",
		},
		{
			Sender: "square", File: "refund.updated.json", Header: "Square · refund.updated",
			Facts:      []string{"KkAkhdMsgzn59SM8A89WgKwekxLZY", "haOyDuHiqtAXMk0d8pDKXpL7Jg4F"},
			Derived:    []string{"$10.00", "Refund of payment KkAkhdMsgzn59SM8A89WgKwekxLZY"},
			DerivedRU:  []string{"10.00 USD", "Возврат по платежу"},
			Importance: agent.ImportanceNormal, Thread: "square:KkAkhdMsgzn59SM8A89WgKwekxLZY",
		},
		{
			Sender: "square", File: "dispute.created.json", Header: "Square · dispute.created",
			Facts:      []string{"fbmsaEOpoARDKxiSGH1fqPuqoqFZY"},
			Derived:    []string{"$88.01", "amount differs", "evidence required", "before 2020-03-04 00:00 UTC"},
			DerivedRU:  []string{"88.01 USD", "до 04.03.2020 00:00 UTC"},
			Importance: agent.ImportanceHigh, Thread: "square:fbmsaEOpoARDKxiSGH1fqPuqoqFZY", Action: true,
		},
		{
			Sender: "woocommerce", File: "order.created.json", Header: "WooCommerce · order.created",
			Facts:      []string{"#727", "John Doe", "john.doe@example.com", "Direct Bank Transfer", "Woo Single #1 × 2"},
			Derived:    []string{"$29.35", "2 items"},
			DerivedRU:  []string{"29.35 USD"},
			Importance: agent.ImportanceNormal, Thread: "woocommerce:order:727",
		},
		{
			Sender: "woocommerce", File: "order.updated.json", Header: "WooCommerce · order.updated",
			Facts:      []string{"#727", "John Doe"},
			Derived:    []string{"$29.35", "Status: completed"},
			DerivedRU:  []string{"29.35 USD"},
			Importance: agent.ImportanceNormal, Thread: "woocommerce:order:727",
		},
		{
			// Token (the saved card's token) is masked (checked).
			Sender: "cloudpayments", File: "pay.completed.form", Header: "CloudPayments · completed",
			Facts:      []string{"Оплата в example.com", "VLADIMIR KOCHNEV", "user@example.com", "1234567", "666"},
			Derived:    []string{"123.00 ₽"},
			DerivedRU:  []string{"123.00 ₽"},
			Importance: agent.ImportanceNormal, Thread: "cloudpayments:1234567",
		},
		{
			Sender: "lemonsqueezy", File: "order_created.json", Header: "Lemon Squeezy · order_created",
			Facts:      []string{"Product One", "Dan R", "dan@lemonsqueezy.com", "Paid"},
			Derived:    []string{"$58.99"},
			DerivedRU:  []string{"58.99 USD"},
			Importance: agent.ImportanceNormal, Thread: "lemonsqueezy:orders:1",
		},
		{
			Sender: "lemonsqueezy", File: "subscription_payment_refunded.json", Header: "Lemon Squeezy · subscription_payment_refunded",
			Facts:      []string{"Darlene Daugherty", "gernser@yahoo.com", "Refunded"},
			Derived:    []string{"Refunded: $9.99", "Subscription invoice #1"},
			DerivedRU:  []string{"Возвращено: 9.99 USD", "Счёт по подписке #1"},
			Importance: agent.ImportanceNormal, Thread: "lemonsqueezy:subscription:1",
		},
		{
			Sender: "mollie", File: "payment.form", Header: "Mollie · payment",
			Facts:      []string{"tr_5B8cwPMGnU6qLbRvo7qEZo"},
			Derived:    []string{"its new status is in the Mollie API"},
			DerivedRU:  []string{"Статус платежа изменился"},
			Importance: agent.ImportanceNormal, Thread: "mollie:tr_5B8cwPMGnU6qLbRvo7qEZo",
		},
		{
			Sender: "gocardless", File: "subscriptions_mandates.created.json", Header: "GoCardless · subscriptions.created",
			Facts:      []string{"Subscription created via the API.", "Mandate created via the API."},
			Derived:    []string{"2 events", "2018-07-05 09:13 UTC"},
			DerivedRU:  []string{"05.07.2018 09:13 UTC"},
			Importance: agent.ImportanceNormal, Thread: "gocardless:SB0003JJQ2MR06",
		},
		{
			// Only the source is the entry's; the body is the workflow
			// author's (requests-colpay.md, request 3).
			Sender: "n8n", File: "http_request.json", Header: "n8n · request",
			Importance: agent.ImportanceNormal,
		},
	})
}
