package agent

import (
	"strconv"
	"strings"
)

// githubSender formats GitHub deliveries, known by X-GitHub-Event.
// Specs: https://docs.github.com/en/webhooks/webhook-events-and-payloads
func githubSender(event string, root *node) sender {
	s := sender{source: "GitHub", event: event}
	if root == nil || root.kind != kindObject {
		s.format = func(f *formatter) Notification { return genericFormat(f) }
		return s
	}
	s.event = withAction(event, root.str("action"))
	switch event {
	case "push":
		s.format = func(f *formatter) Notification { return f.push(githubPush(root)) }
	case "pull_request":
		s.format = func(f *formatter) Notification { return f.githubPullRequest(root) }
	case "issues":
		s.format = func(f *formatter) Notification { return f.githubIssue(root) }
	case "ping":
		s.format = func(f *formatter) Notification { return f.githubPing(root) }
	case "issue_comment":
		s.format = func(f *formatter) Notification { return f.githubIssueComment(root) }
	case "release":
		s.format = func(f *formatter) Notification { return f.githubRelease(root) }
	case "create", "delete":
		s.format = func(f *formatter) Notification { return f.githubRef(event, root) }
	case "star", "watch":
		s.format = func(f *formatter) Notification { return f.githubStar(event, root) }
	case "fork":
		s.format = func(f *formatter) Notification { return f.githubFork(root) }
	case "workflow_run":
		s.format = func(f *formatter) Notification { return f.githubWorkflowRun(root) }
	case "workflow_job":
		s.format = func(f *formatter) Notification { return f.githubWorkflowJob(root) }
	case "check_run", "check_suite":
		s.format = func(f *formatter) Notification { return f.githubCheck(event, root) }
	case "deployment_status":
		s.format = func(f *formatter) Notification { return f.githubDeploymentStatus(root) }
	case "dependabot_alert":
		s.format = func(f *formatter) Notification { return f.githubDependabot(root) }
	case "security_advisory":
		s.format = func(f *formatter) Notification { return f.githubAdvisory(root) }
	default:
		s.format = func(f *formatter) Notification { return f.githubOther(event, root) }
	}
	return s
}

// push is a push of commits, shared by GitHub and GitLab.
type push struct {
	actor, ref, repo, link string
	tag, created, deleted  bool
	forced                 bool
	total                  int
	commits                []commit
}

type commit struct{ sha, message, author string }

const zeroSHA = "0000000000000000000000000000000000000000"

// splitRef turns "refs/heads/main" into ("main", false) and "refs/tags/v1"
// into ("v1", true).
func splitRef(ref string) (string, bool) {
	if t, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return t, true
	}
	return strings.TrimPrefix(ref, "refs/heads/"), false
}

func githubPush(root *node) push {
	p := push{
		actor:   root.first("pusher.name", "sender.login"),
		repo:    root.first("repository.full_name", "repository.name"),
		created: root.flag("created"),
		deleted: root.flag("deleted"),
		forced:  root.flag("forced"),
		link:    firstURL(root.str("compare"), root.str("head_commit", "url"), root.str("repository", "html_url")),
	}
	p.ref, p.tag = splitRef(root.str("ref"))
	commits := root.arr("commits")
	p.total = len(commits)
	// Commits come oldest first; the newest are the ones to see.
	for i := len(commits) - 1; i >= 0; i-- {
		c := commits[i]
		p.commits = append(p.commits, commit{
			sha:     c.str("id"),
			message: c.str("message"),
			author:  c.first("author.username", "author.name"),
		})
	}
	return p
}

// maxCommits is how many commits a push notification lists.
const maxCommits = 5

func (f *formatter) push(p push) Notification {
	actor := p.actor
	if actor == "" {
		actor = f.l.T("agent.someone", nil)
	}
	data := map[string]any{"Actor": actor, "Ref": p.ref}
	var n Notification
	switch {
	case p.deleted && p.tag:
		n.Title = f.l.T("agent.push.tag_deleted", data)
	case p.deleted:
		n.Title = f.l.T("agent.push.branch_deleted", data)
	case p.created && p.tag:
		n.Title = f.l.T("agent.push.tag_created", data)
	case p.created && p.total == 0:
		n.Title = f.l.T("agent.push.branch_created", data)
	default:
		n.Title = f.l.N("agent.push.commits", p.total, data)
	}
	var lines []string
	for i, c := range p.commits {
		if i == maxCommits {
			break
		}
		line := "• " + joinNonEmpty(" ", shortSHA(c.sha), firstLine(c.message))
		if c.author != "" && c.author != p.actor {
			line += " — " + c.author
		}
		lines = append(lines, line)
	}
	if more := p.total - len(lines); more > 0 && len(lines) > 0 {
		lines = append(lines, f.l.N("agent.push.more_commits", more, nil))
	}
	n.Summary = strings.Join(lines, "\n")
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), p.repo)
	if p.tag {
		fl.add(f.l.T("agent.fact.tag", nil), p.ref)
	} else {
		fl.add(f.l.T("agent.fact.branch", nil), p.ref)
	}
	if p.forced {
		fl.add(f.l.T("agent.fact.forced", nil), f.yesNo(true))
	}
	n.Facts = fl
	n.Link = p.link
	n.Importance = ImportanceNormal
	return n
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func (f *formatter) githubPullRequest(root *node) Notification {
	pr := root.get("pull_request")
	action := root.str("action")
	number := root.first("number", "pull_request.number")
	actor := root.first("sender.login")
	if actor == "" {
		actor = f.l.T("agent.someone", nil)
	}
	data := map[string]any{"Actor": actor, "Action": humanize(action)}
	var n Notification
	n.Title = joinNonEmpty(" ", prefixed("#", number), pr.str("title"))
	var sentence string
	switch {
	case action == "opened":
		sentence = f.l.T("agent.pr.opened", data)
	case action == "closed" && pr.flag("merged"):
		sentence = f.l.T("agent.pr.merged", data)
	case action == "closed":
		sentence = f.l.T("agent.pr.closed", data)
	case action == "reopened":
		sentence = f.l.T("agent.pr.reopened", data)
	case action == "ready_for_review":
		sentence = f.l.T("agent.pr.ready", data)
	case action == "review_requested":
		sentence = f.l.T("agent.pr.review_requested", data)
		n.Action = f.l.T("agent.pr.review_action", map[string]any{"Number": number})
	default:
		sentence = f.l.T("agent.pr.updated", data)
	}
	n.Summary = sentence
	if action == "opened" || action == "reopened" {
		if body := clamp(clean(pr.str("body")), 300); body != "" {
			n.Summary += "\n" + body
		}
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	if head, base := pr.str("head", "ref"), pr.str("base", "ref"); head != "" && base != "" {
		fl.add(f.l.T("agent.fact.branch", nil), head+" → "+base)
	}
	if author := pr.str("user", "login"); author != "" && author != root.str("sender", "login") {
		fl.add(f.l.T("agent.fact.author", nil), author)
	}
	if reviewer := root.first("requested_reviewer.login", "requested_team.name"); reviewer != "" {
		fl.add(f.l.T("agent.fact.reviewer", nil), reviewer)
	}
	if files, ok := pr.num("changed_files"); ok {
		add, _ := pr.num("additions")
		del, _ := pr.num("deletions")
		fl.add(f.l.T("agent.fact.changes", nil), f.l.N("agent.pr.changes", int(files),
			map[string]any{"Add": add, "Del": del}))
	}
	if pr.flag("draft") {
		fl.add(f.l.T("agent.fact.draft", nil), f.yesNo(true))
	}
	n.Facts = fl
	n.Link = firstURL(pr.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ImportanceNormal
	return n
}

func (f *formatter) githubIssue(root *node) Notification {
	is := root.get("issue")
	action := root.str("action")
	actor := root.first("sender.login")
	if actor == "" {
		actor = f.l.T("agent.someone", nil)
	}
	data := map[string]any{"Actor": actor, "Action": humanize(action)}
	var n Notification
	n.Title = joinNonEmpty(" ", prefixed("#", is.str("number")), is.str("title"))
	switch action {
	case "opened":
		n.Summary = f.l.T("agent.issue.opened", data)
		if body := clamp(clean(is.str("body")), 300); body != "" {
			n.Summary += "\n" + body
		}
	case "closed":
		n.Summary = f.l.T("agent.issue.closed", data)
	case "reopened":
		n.Summary = f.l.T("agent.issue.reopened", data)
	default:
		n.Summary = f.l.T("agent.issue.updated", data)
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.labels", nil), names(is.arr("labels"), "name"))
	fl.add(f.l.T("agent.fact.assignees", nil), names(is.arr("assignees"), "login"))
	if author := is.str("user", "login"); author != "" && author != root.str("sender", "login") {
		fl.add(f.l.T("agent.fact.author", nil), author)
	}
	n.Facts = fl
	n.Link = firstURL(is.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ImportanceNormal
	return n
}

func (f *formatter) githubPing(root *node) Notification {
	var n Notification
	n.Title = f.l.T("agent.github.ping", nil)
	n.Summary = root.str("zen")
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.organization", nil), root.str("organization", "login"))
	var events []string
	for _, e := range root.arr("hook", "events") {
		events = append(events, e.s)
	}
	fl.add(f.l.T("agent.fact.events", nil), strings.Join(events, ", "))
	n.Facts = fl
	n.Link = firstURL(root.str("repository", "html_url"))
	n.Importance = ImportanceLow
	return n
}

// githubObjects names the payload key that holds an event's main object
// where it is not the event's own name.
var githubObjects = map[string]string{
	"issue_comment":               "comment",
	"commit_comment":              "comment",
	"discussion_comment":          "comment",
	"pull_request_review":         "review",
	"pull_request_review_comment": "comment",
	"dependabot_alert":            "alert",
	"code_scanning_alert":         "alert",
	"secret_scanning_alert":       "alert",
	"create":                      "",
	"delete":                      "",
	"fork":                        "forkee",
	"star":                        "",
	"watch":                       "",
}

// githubOther covers the remaining GitHub events: the main object's name or
// title, its state, the repository and who did it.
func (f *formatter) githubOther(event string, root *node) Notification {
	key, ok := githubObjects[event]
	if !ok {
		key = event
	}
	var main *node
	if key != "" {
		main = root.get(key)
	}
	actor := root.first("sender.login")
	if actor == "" {
		actor = f.l.T("agent.someone", nil)
	}
	what := humanize(joinNonEmpty(" ", event, root.str("action")))
	var n Notification
	n.Title = main.first("title", "name", "tag_name", "workflow_name", "security_advisory.summary",
		"summary", "rule.description", "full_name", "login")
	if n.Title == "" && root.get("issue") != nil {
		n.Title = joinNonEmpty(" ", prefixed("#", root.str("issue", "number")), root.str("issue", "title"))
	}
	if n.Title == "" {
		n.Title = joinNonEmpty(" ", root.str("ref_type"), root.str("ref"))
	}
	n.Summary = f.l.T("agent.github.activity", map[string]any{"Actor": actor, "What": what})
	if body := clamp(clean(main.str("body")), 300); body != "" && body != n.Title {
		n.Summary += "\n" + body
	}
	status := main.first("conclusion", "state", "status")
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.status", nil), f.status(status))
	fl.add(f.l.T("agent.fact.branch", nil), main.str("head_branch"))
	fl.add(f.l.T("agent.fact.environment", nil), main.first("environment"))
	fl.add(f.l.T("agent.fact.severity", nil), main.first("severity", "security_advisory.severity", "security_vulnerability.severity"))
	n.Facts = fl
	n.Link = firstURL(main.str("html_url"), main.str("target_url"), root.str("comment", "html_url"),
		root.str("issue", "html_url"), root.str("repository", "html_url"))
	n.Importance = importanceOf(status, main.first("severity", "security_advisory.severity"))
	return n
}

// prefixed is p+s, or "" when s is empty.
func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// names joins one field of each object of a list (label names, logins), or
// the items themselves when field is "".
func names(list []*node, field string) string {
	var out []string
	for _, item := range list {
		s := item.s
		if field != "" {
			s = item.str(field)
		} else if !item.scalar() {
			s = ""
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

// importanceOf reads statuses, levels and severities the way people do:
// failures and critical things are high, debug chatter is low.
func importanceOf(words ...string) Importance {
	imp := ImportanceNormal
	for _, w := range words {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "failure", "failed", "fail", "error", "errored", "timed_out", "action_required",
			"critical", "crit", "fatal", "emergency", "emerg", "alert", "high", "urgent",
			"p1", "p0", "sev1", "sev0", "down", "firing", "triggered", "startup_failure":
			return ImportanceHigh
		case "debug", "trace", "low", "p5", "verbose":
			imp = ImportanceLow
		}
	}
	return imp
}

// itoa is strconv.Itoa for int64.
func itoa(i int64) string { return strconv.FormatInt(i, 10) }
