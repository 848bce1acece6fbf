package agent

import (
	"strings"
)

// alertSender formats Prometheus Alertmanager and Grafana alerting
// notifications, both shaped {"status": "firing", "alerts": [...]}; Grafana
// adds fields of its own.
// Specs: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
// and https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
func alertSender(ev Event, root *node) sender {
	source := "Alertmanager"
	first := root.get("alerts", "0")
	if root.has("orgId") || root.has("state") || first.has("dashboardURL") || first.has("panelURL") ||
		first.has("silenceURL") || strings.Contains(ev.header("User-Agent"), "Grafana") {
		source = "Grafana"
	}
	return sender{
		source: source,
		event:  root.str("status"),
		format: func(f *formatter) Notification { return f.alerts(root) },
	}
}

// maxAlerts is how many alerts of a group a notification lists.
const maxAlerts = 5

func (f *formatter) alerts(root *node) Notification {
	status := root.str("status")
	all := root.arr("alerts")
	var relevant []*node
	for _, a := range all {
		if (a.str("status") == "resolved") == (status == "resolved") {
			relevant = append(relevant, a)
		}
	}
	if len(relevant) == 0 {
		relevant = all
	}
	name := func(a *node) string {
		return a.first("labels.alertname", "annotations.summary", "labels.rulename")
	}
	var distinct []string
	seen := map[string]bool{}
	for _, a := range relevant {
		if nm := name(a); nm != "" && !seen[nm] {
			seen[nm] = true
			distinct = append(distinct, nm)
		}
	}
	names := strings.Join(distinct, ", ")
	if len(distinct) > 3 {
		names = strings.Join(distinct[:3], ", ") + ", …"
	}
	if names == "" {
		names = root.first("title", "groupLabels.alertname", "receiver")
	}
	data := map[string]any{"Name": names}
	count := len(relevant)
	var n Notification
	switch {
	case status == "resolved" && count == 1:
		n.Title = f.l.T("agent.alert.resolved_one", data)
	case status == "resolved":
		n.Title = f.l.N("agent.alert.resolved", count, data)
	case count == 1:
		n.Title = f.l.T("agent.alert.firing_one", data)
	default:
		n.Title = f.l.N("agent.alert.firing", count, data)
	}
	text := func(a *node) string {
		return a.first("annotations.summary", "annotations.description", "annotations.message", "valueString")
	}
	if count == 1 {
		n.Summary = text(relevant[0])
		if d := relevant[0].str("annotations", "description"); d != "" && d != n.Summary {
			n.Summary = joinNonEmpty("\n", n.Summary, d)
		}
	} else {
		var lines []string
		for i, a := range relevant {
			if i == maxAlerts {
				lines = append(lines, f.l.N("agent.alert.more", count-maxAlerts, nil))
				break
			}
			line := "• " + joinNonEmpty(" — ", name(a), text(a))
			if inst := a.str("labels", "instance"); inst != "" {
				line += " (" + inst + ")"
			}
			lines = append(lines, line)
		}
		n.Summary = strings.Join(lines, "\n")
	}
	labels := root.get("commonLabels")
	if count == 1 {
		labels = relevant[0].get("labels")
	}
	severity := labels.first("severity", "priority")
	var fl factList
	fl.add(f.l.T("agent.fact.severity", nil), severity)
	if labels != nil {
		shown := 0
		for i, k := range labels.keys {
			if k == "alertname" || k == "severity" || k == "priority" || shown == 5 {
				continue
			}
			if v := labels.vals[i]; v.scalar() && !sensitiveKey(k) {
				fl.add(k, v.s)
				shown++
			}
		}
	}
	n.Facts = fl
	first := relevant[0]
	n.Link = firstURL(first.str("panelURL"), first.str("dashboardURL"), first.str("generatorURL"), root.str("externalURL"))
	switch {
	case status == "resolved":
		n.Importance = ImportanceLow
	case severity != "" && importanceOf(severity) != ImportanceHigh && severity != "page":
		n.Importance = ImportanceNormal
	default:
		n.Importance = ImportanceHigh
	}
	return n
}

// grafanaLegacySender formats Grafana's legacy (pre-8) alert webhooks.
func grafanaLegacySender(root *node) sender {
	return sender{
		source: "Grafana",
		event:  root.str("state"),
		format: func(f *formatter) Notification {
			var n Notification
			n.Title = root.first("title", "ruleName")
			n.Summary = root.str("message")
			var fl factList
			for i, m := range root.arr("evalMatches") {
				if i == maxAlerts {
					break
				}
				fl.add(m.str("metric"), m.str("value"))
			}
			n.Facts = fl
			n.Link = firstURL(root.str("ruleUrl"))
			switch root.str("state") {
			case "alerting":
				n.Importance = ImportanceHigh
			case "ok":
				n.Importance = ImportanceLow
			}
			return n
		},
	}
}
