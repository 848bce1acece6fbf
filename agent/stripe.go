package agent

// stripeSender formats Stripe events, known by {"object": "event", "type": …}.
// Specs: https://docs.stripe.com/api/events/object
func stripeSender(root *node) sender {
	return sender{
		source: "Stripe",
		event:  root.str("type"),
		format: func(f *formatter) Notification { return f.stripe(root) },
	}
}

func (f *formatter) stripe(root *node) Notification {
	typ := root.str("type")
	obj := root.get("data", "object")
	cur := obj.str("currency")
	money := func(fields ...string) string {
		for _, field := range fields {
			if v, ok := obj.num(field); ok && cur != "" {
				return stripeAmount(v, cur, f.l.Lang())
			}
		}
		return ""
	}
	amount := money("amount", "amount_total", "amount_paid", "amount_due")
	data := map[string]any{"Amount": amount}
	var n Notification
	n.Importance = ImportanceNormal
	switch typ {
	case "payment_intent.succeeded", "charge.succeeded":
		n.Title = f.l.T("agent.stripe.payment_succeeded", data)
	case "payment_intent.payment_failed", "charge.failed":
		n.Title = f.l.T("agent.stripe.payment_failed", data)
		n.Importance = ImportanceHigh
	case "charge.refunded", "refund.created":
		data["Amount"] = money("amount_refunded", "amount")
		n.Title = f.l.T("agent.stripe.refunded", data)
	case "checkout.session.completed":
		n.Title = f.l.T("agent.stripe.checkout_completed", data)
	case "invoice.paid", "invoice.payment_succeeded":
		data["Amount"] = money("amount_paid", "amount_due", "total")
		n.Title = f.l.T("agent.stripe.invoice_paid", data)
	case "invoice.payment_failed":
		data["Amount"] = money("amount_due", "total")
		n.Title = f.l.T("agent.stripe.invoice_failed", data)
		n.Importance = ImportanceHigh
	case "charge.dispute.created":
		n.Title = f.l.T("agent.stripe.dispute_created", data)
		n.Action = f.l.T("agent.stripe.dispute_action", nil)
		n.Importance = ImportanceHigh
	case "customer.subscription.created":
		n.Title = f.l.T("agent.stripe.subscription_created", nil)
	case "customer.subscription.deleted":
		n.Title = f.l.T("agent.stripe.subscription_deleted", nil)
	case "customer.created":
		n.Title = f.l.T("agent.stripe.customer_created", nil)
	}
	if n.Title == "" || (data["Amount"] == "" && usesAmount(typ)) {
		n.Title = humanize(typ) // nothing better to say, or no amount to show
	}
	n.Summary = obj.first("last_payment_error.message", "failure_message", "cancellation_details.comment")
	var fl factList
	switch {
	case typ == "charge.refunded":
		if charged := money("amount"); charged != "" && charged != data["Amount"] {
			fl.add(f.l.T("agent.fact.charged", nil), charged)
		}
	case amount != "":
		fl.add(f.l.T("agent.fact.amount", nil), amount)
	}
	fl.add(f.l.T("agent.fact.plan", nil), f.stripePlan(obj))
	fl.add(f.l.T("agent.fact.customer", nil), obj.first("customer_details.name", "billing_details.name", "customer_name", "name"))
	fl.add(f.l.T("agent.fact.email", nil), obj.first("customer_details.email", "receipt_email", "customer_email", "billing_details.email", "email"))
	if d := obj.str("description"); d != "" && d != n.Summary {
		fl.add(f.l.T("agent.fact.details", nil), d)
	}
	fl.add(f.l.T("agent.fact.status", nil), f.status(obj.str("status")))
	fl.add(f.l.T("agent.fact.reason", nil), obj.first("last_payment_error.decline_code", "last_payment_error.code", "failure_code", "reason", "cancellation_details.reason"))
	if obj.str("object") != "customer" {
		fl.add(f.l.T("agent.fact.customer_id", nil), obj.str("customer"))
	}
	fl.add(f.l.T("agent.fact.object_id", nil), obj.str("id"))
	if root.has("livemode") && !root.flag("livemode") {
		fl.add(f.l.T("agent.fact.mode", nil), f.l.T("agent.stripe.test_mode", nil))
	}
	n.Facts = fl
	n.Link = firstURL(obj.str("receipt_url"), obj.str("hosted_invoice_url"), obj.str("url"), obj.str("invoice_pdf"))
	return n
}

// usesAmount reports the event types whose title shows an amount.
func usesAmount(typ string) bool {
	switch typ {
	case "customer.subscription.created", "customer.subscription.deleted", "customer.created":
		return false
	}
	return true
}

// stripeAmount is formatMoney in Stripe's minor units, which differ from
// ISO 4217's for two currencies: Stripe counts MGA without decimals and ISK
// with two. Specs: https://docs.stripe.com/currencies#zero-decimal
func stripeAmount(minor int64, cur, lang string) string {
	c, ok := currencyOf(cur)
	if !ok {
		return formatMoney(minor, cur, lang)
	}
	switch c.code {
	case "MGA":
		c.exp = 0
	case "ISK":
		c.exp = 2
	}
	return formatMinor(minor, c, lang)
}

// stripePlan is a subscription's price per period, "$15.00 / month", from
// its plan or its first item's price; "" for other objects.
func (f *formatter) stripePlan(obj *node) string {
	if obj.str("object") != "subscription" {
		return ""
	}
	if pl := obj.get("plan"); pl != nil {
		if v, ok := pl.num("amount"); ok && pl.str("currency") != "" {
			return f.perInterval(stripeAmount(v, pl.str("currency"), f.l.Lang()), pl.str("interval"))
		}
	}
	if pr := obj.get("items", "data", "0", "price"); pr != nil {
		if v, ok := pr.num("unit_amount"); ok && pr.str("currency") != "" {
			return f.perInterval(stripeAmount(v, pr.str("currency"), f.l.Lang()), pr.str("recurring", "interval"))
		}
	}
	return ""
}

// stripeIntervals are the billing periods with a translation.
var stripeIntervals = map[string]bool{"day": true, "week": true, "month": true, "year": true}

// perInterval is a price per billing period: "$15.00 / month".
func (f *formatter) perInterval(amount, interval string) string {
	if !stripeIntervals[interval] {
		return joinNonEmpty(" / ", amount, interval)
	}
	return f.l.T("agent.stripe.per_interval", map[string]any{"Amount": amount, "Interval": f.l.T("agent.stripe.interval."+interval, nil)})
}
