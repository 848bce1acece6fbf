package agent

import "strings"

// todo is the action item the formatter gives a notification that needs
// someone to act and that its sender's formatting left without one (a
// review request, a Dependabot alert and a dispute have their own): a
// failure or an alert that is high importance and not resolved. The
// notification then carries a Done button and becomes a task (SPEC §10).
func (f *formatter) todo(n Notification) string {
	if n.Action != "" || n.Importance != ImportanceHigh {
		return n.Action
	}
	ev := strings.ToLower(n.Event)
	if strings.Contains(ev, "resolved") || ev == "ok" {
		return ""
	}
	switch src := n.Source; {
	case src == "Stripe":
		if strings.Contains(ev, "failed") {
			return f.l.T("agent.todo.payment", nil)
		}
	case src == "Alertmanager" || src == "Grafana" || src == "PagerDuty" || src == "Sentry" ||
		strings.Contains(ev, "alert") || strings.Contains(ev, "incident"):
		return f.l.T("agent.todo.alert", nil)
	}
	for _, w := range []string{"workflow", "check", "pipeline", "build", "job", "deploy"} {
		if strings.Contains(ev, w) {
			return f.l.T("agent.todo.ci", nil)
		}
	}
	return f.l.T("agent.todo.generic", nil)
}
