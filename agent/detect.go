package agent

import (
	"strings"
)

// sender is what detection learned about who sent an event: the names shown
// on the first line and the formatter that knows its payload.
type sender struct {
	source string // "GitHub"; "" for an unknown sender (the webhook name is used)
	event  string // "push", "payment_intent.succeeded"
	format func(f *formatter) Notification
}

// detect recognizes the sender: the catalogue's entries first (the most
// specific first: Gitea sends GitHub's headers too), then the built-in
// senders by their headers and then by the payload's shape, then the
// catalogue's late entries (priority below 0), and falls back to the
// generic formatter.
func detect(p payload) sender {
	tree := catalogueTree(p)
	if s, ok := catalogueSender(p, tree, true); ok {
		return s
	}
	if s, ok := builtinSender(p); ok {
		return s
	}
	if s, ok := catalogueSender(p, tree, false); ok {
		return s
	}
	return genericSender(p)
}

// builtinSender recognizes the senders written in Go.
func builtinSender(p payload) (sender, bool) {
	ev, root := p.ev, p.root
	obj := root != nil && root.kind == kindObject
	if e := strings.TrimSpace(ev.header("X-GitHub-Event")); e != "" {
		return githubSender(e, root), true
	}
	if e := strings.TrimSpace(ev.header("X-Gitlab-Event")); e != "" && obj {
		return gitlabSender(e, root), true
	}
	if r := strings.TrimSpace(ev.header("Sentry-Hook-Resource")); r != "" && obj {
		return sentrySender(r, root), true
	}
	if !obj {
		return sender{}, false
	}
	switch {
	case root.str("object") == "event" && root.str("type") != "" && isObject(root.get("data", "object")):
		return stripeSender(root), true
	case len(root.arr("alerts")) > 0 && root.str("status") != "":
		return alertSender(ev, root), true
	case root.str("ruleName") != "" && root.str("state") != "" && (root.has("ruleUrl") || root.has("evalMatches")):
		return grafanaLegacySender(root), true
	case root.str("object_kind") != "" && (root.has("project") || root.has("project_id")):
		return gitlabSender("", root), true
	case root.str("action") != "" && root.get("data") != nil && root.get("data").kind == kindObject &&
		(root.has("installation") || root.has("actor")):
		return sentrySender("", root), true
	case root.str("event", "event_type") != "" && root.str("event", "resource_type") != "" && root.get("event", "data") != nil:
		return pagerDutySender(root), true
	case root.str("type") == "url_verification" && root.has("challenge"),
		root.str("type") == "event_callback" && root.str("event", "type") != "",
		ev.header("X-Slack-Request-Timestamp") != "" && root.str("type") != "":
		return slackSender(root), true
	}
	return sender{}, false
}

// withAction appends the payload's action to an event name: "pull_request.opened".
func withAction(event, action string) string {
	if action = strings.TrimSpace(action); action != "" && len(action) <= 40 && !strings.ContainsAny(action, " \n") {
		return event + "." + action
	}
	return event
}
