package agent

import "strings"

// sentrySender formats Sentry integration-platform webhooks, known by the
// Sentry-Hook-Resource header or by their {"action", "data", "installation"}
// shape.
// Specs: https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
func sentrySender(resource string, root *node) sender {
	data := root.get("data")
	if resource == "" {
		for _, k := range []string{"issue", "metric_alert", "error", "comment"} {
			if data.has(k) {
				resource = k
				break
			}
		}
		if resource == "" && data.has("event") {
			resource = "event_alert"
		}
	}
	return sender{
		source: "Sentry",
		event:  withAction(resource, root.str("action")),
		format: func(f *formatter) Notification { return f.sentry(resource, root) },
	}
}

func (f *formatter) sentry(resource string, root *node) Notification {
	action := root.str("action")
	data := root.get("data")
	var obj *node // the issue, event or error the webhook is about
	for _, k := range []string{"issue", "event", "error"} {
		if o := data.get(k); o != nil && o.kind == kindObject {
			obj = o
			break
		}
	}
	var n Notification
	var fl factList
	switch resource {
	case "metric_alert":
		n.Title = data.first("description_title", "metric_alert.alert_rule.name", "metric_alert.title")
		// Sentry's documented example carries a literal "\\n"; read it as a line break.
		n.Summary = strings.ReplaceAll(data.str("description_text"), `\n`, "\n")
		fl.add(f.l.T("agent.fact.rule", nil), data.str("metric_alert", "alert_rule", "name"))
		fl.add(f.l.T("agent.fact.project", nil), names(data.arr("metric_alert", "projects"), ""))
		n.Link = firstURL(data.str("web_url"))
		switch action {
		case "critical":
			n.Importance = ImportanceHigh
		case "resolved":
			n.Importance = ImportanceLow
		default:
			n.Importance = ImportanceNormal
		}
	default:
		n.Title = obj.first("title", "metadata.title", "message")
		n.Summary = obj.first("metadata.value", "culprit")
		if n.Summary == n.Title {
			n.Summary = ""
		}
		fl.add(f.l.T("agent.fact.project", nil), obj.first("project.name", "project.slug", "project_name"))
		fl.add(f.l.T("agent.fact.level", nil), obj.str("level"))
		fl.add(f.l.T("agent.fact.culprit", nil), obj.str("culprit"))
		fl.add(f.l.T("agent.fact.issue", nil), obj.str("shortId"))
		fl.add(f.l.T("agent.fact.status", nil), obj.str("status"))
		fl.add(f.l.T("agent.fact.environment", nil), obj.first("environment"))
		fl.add(f.l.T("agent.fact.rule", nil), data.str("triggered_rule"))
		n.Link = firstURL(obj.str("web_url"), obj.str("permalink"), data.str("web_url"))
		n.Importance = importanceOf(obj.str("level"))
		if action == "resolved" || action == "ignored" || action == "archived" {
			n.Importance = ImportanceLow
		}
	}
	n.Facts = fl
	return n
}
