package agent

import (
	"strings"
)

// pagerDutySender formats PagerDuty V3 webhooks: {"event": {"event_type",
// "resource_type", "agent", "data"}}.
// Specs: https://developer.pagerduty.com/docs/webhooks/v3-overview/
func pagerDutySender(root *node) sender {
	ev := root.get("event")
	return sender{source: "PagerDuty", event: ev.str("event_type"), format: func(f *formatter) Notification {
		data := ev.get("data")
		typ := ev.str("event_type")
		var n Notification
		n.Title = data.first("title", "summary", "name")
		if num := data.str("number"); num != "" && ev.str("resource_type") == "incident" {
			n.Title = joinNonEmpty(" ", "#"+num, n.Title)
		}
		who := ev.first("agent.summary")
		if who == "" {
			who = f.l.T("agent.someone", nil)
		}
		n.Summary = f.l.T("agent.github.activity", map[string]any{"Actor": who, "What": humanize(typ)})
		var fl factList
		fl.add(f.l.T("agent.fact.status", nil), data.str("status"))
		fl.add(f.l.T("agent.fact.priority", nil), data.str("priority", "summary"))
		fl.add(f.l.T("agent.fact.urgency", nil), data.str("urgency"))
		fl.add(f.l.T("agent.fact.service", nil), data.str("service", "summary"))
		fl.add(f.l.T("agent.fact.assignees", nil), names(data.arr("assignees"), "summary"))
		fl.add(f.l.T("agent.fact.teams", nil), names(data.arr("teams"), "summary"))
		fl.add(f.l.T("agent.fact.details", nil), data.first("description"))
		n.Facts = fl
		n.Link = firstURL(data.str("html_url"), data.str("service", "html_url"))
		switch {
		case strings.HasSuffix(typ, ".resolved"):
			n.Importance = ImportanceLow
		case ev.str("resource_type") == "incident" && (data.str("urgency") == "high" || typ == "incident.triggered" || typ == "incident.escalated"):
			n.Importance = ImportanceHigh
		default:
			n.Importance = ImportanceNormal
		}
		return n
	}}
}

// slackSender formats Slack Events API requests: the URL check Slack makes
// when a request URL is set, and event callbacks.
// Specs: https://docs.slack.dev/apis/events-api/
func slackSender(root *node) sender {
	typ := root.str("type")
	event := typ
	if typ == "event_callback" {
		event = root.str("event", "type")
	}
	return sender{source: "Slack", event: event, format: func(f *formatter) Notification {
		var n Notification
		if typ == "url_verification" {
			n.Title = f.l.T("agent.slack.url_verification", nil)
			n.Importance = ImportanceLow
			return n
		}
		e := root.get("event")
		n.Summary = e.first("text")
		var fl factList
		fl.add(f.l.T("agent.fact.user", nil), e.first("user"))
		fl.add(f.l.T("agent.fact.channel", nil), e.first("channel"))
		fl.add(f.l.T("agent.fact.team", nil), root.str("team_id"))
		n.Facts = fl
		n.Importance = ImportanceNormal
		return n
	}}
}
