package agent

import (
	"strings"
)

// The GitHub events beyond push, pull requests and issues, each saying what
// happened, who did it, to what, and the figure that matters.
// Specs: https://docs.github.com/en/webhooks/webhook-events-and-payloads

// actor is the payload's sender, or "Someone".
func (f *formatter) actor(root *node, paths ...string) string {
	if a := root.first(append(paths, "sender.login")...); a != "" {
		return a
	}
	return f.l.T("agent.someone", nil)
}

func (f *formatter) githubIssueComment(root *node) Notification {
	is, c := root.get("issue"), root.get("comment")
	number := is.str("number")
	data := map[string]any{"Actor": f.actor(root, "comment.user.login"), "Number": number}
	var n Notification
	n.Title = joinNonEmpty(" ", prefixed("#", number), is.str("title"))
	switch {
	case root.str("action") != "created":
		n.Summary = f.l.T("agent.github.activity", map[string]any{"Actor": data["Actor"], "What": humanize("issue_comment " + root.str("action"))})
	case is.has("pull_request"):
		n.Summary = f.l.T("agent.github.commented_pr", data)
	default:
		n.Summary = f.l.T("agent.github.commented_issue", data)
	}
	if body := clamp(clean(c.str("body")), 500); body != "" {
		n.Summary += "\n" + body
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.status", nil), f.status(is.str("state")))
	n.Facts = fl
	n.Link = firstURL(c.str("html_url"), is.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ImportanceNormal
	return n
}

func (f *formatter) githubRelease(root *node) Notification {
	r := root.get("release")
	tag := r.str("tag_name")
	action := root.str("action")
	data := map[string]any{"Actor": f.actor(root, "release.author.login"), "Tag": tag, "Action": humanize(action)}
	var n Notification
	switch action {
	case "published", "released", "created":
		n.Title = f.l.T("agent.github.release_published", data)
	default:
		n.Title = f.l.T("agent.github.release_other", data)
	}
	if name := r.str("name"); name != "" && name != tag {
		n.Summary = name
	}
	if body := clamp(clean(r.str("body")), 500); body != "" {
		n.Summary = joinNonEmpty("\n", n.Summary, body)
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.tag", nil), tag)
	if b := r.str("target_commitish"); b != "" && b != tag {
		fl.add(f.l.T("agent.fact.branch", nil), b)
	}
	if r.flag("prerelease") {
		fl.add(f.l.T("agent.fact.prerelease", nil), f.yesNo(true))
	}
	if r.flag("draft") {
		fl.add(f.l.T("agent.fact.draft", nil), f.yesNo(true))
	}
	if assets := r.arr("assets"); len(assets) > 0 {
		fl.add(f.l.T("agent.fact.assets", nil), names(assets, "name"))
	}
	n.Facts = fl
	n.Link = firstURL(r.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ImportanceNormal
	return n
}

// githubRef is a branch or tag created or deleted ("create", "delete").
func (f *formatter) githubRef(event string, root *node) Notification {
	data := map[string]any{"Actor": f.actor(root), "Ref": root.str("ref")}
	tag := root.str("ref_type") == "tag"
	var n Notification
	switch {
	case event == "create" && tag:
		n.Title = f.l.T("agent.push.tag_created", data)
	case event == "create":
		n.Title = f.l.T("agent.push.branch_created", data)
	case tag:
		n.Title = f.l.T("agent.push.tag_deleted", data)
	default:
		n.Title = f.l.T("agent.push.branch_deleted", data)
	}
	n.Summary = root.str("description")
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	if tag {
		fl.add(f.l.T("agent.fact.tag", nil), root.str("ref"))
	} else {
		fl.add(f.l.T("agent.fact.branch", nil), root.str("ref"))
	}
	n.Facts = fl
	n.Link = firstURL(root.str("repository", "html_url"))
	n.Importance = ImportanceNormal
	return n
}

// githubStar is a star given or taken back; stars are routine, so silent.
func (f *formatter) githubStar(event string, root *node) Notification {
	data := map[string]any{"Actor": f.actor(root), "Repo": root.str("repository", "full_name")}
	var n Notification
	if root.str("action") == "deleted" {
		n.Title = f.l.T("agent.github.unstarred", data)
	} else {
		n.Title = f.l.T("agent.github.starred", data)
	}
	var fl factList
	if stars, ok := root.num("repository", "stargazers_count"); ok {
		fl.add(f.l.T("agent.fact.stars", nil), itoa(stars))
	}
	n.Facts = fl
	n.Link = firstURL(root.str("repository", "html_url"))
	n.Importance = ImportanceLow
	return n
}

func (f *formatter) githubFork(root *node) Notification {
	fork := root.get("forkee")
	data := map[string]any{"Actor": f.actor(root, "forkee.owner.login"), "Repo": root.str("repository", "full_name")}
	var n Notification
	n.Title = f.l.T("agent.github.forked", data)
	var fl factList
	fl.add(f.l.T("agent.fact.fork", nil), fork.str("full_name"))
	if forks, ok := root.num("repository", "forks_count"); ok {
		fl.add(f.l.T("agent.fact.forks", nil), itoa(forks))
	}
	n.Facts = fl
	n.Link = firstURL(fork.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ImportanceLow
	return n
}

// ciImportance: a failure needs attention, a success of a single job or
// check is routine.
func ciImportance(conclusion string, routineWhenOK bool) Importance {
	switch imp := importanceOf(conclusion); {
	case imp == ImportanceHigh:
		return ImportanceHigh
	case routineWhenOK && (conclusion == "success" || conclusion == "neutral" || conclusion == "skipped"):
		return ImportanceLow
	}
	return ImportanceNormal
}

func (f *formatter) githubWorkflowRun(root *node) Notification {
	run := root.get("workflow_run")
	status := run.first("conclusion", "status")
	name := run.first("name", "workflow.name")
	if name == "" {
		name = root.str("workflow", "name")
	}
	var n Notification
	n.Title = f.l.T("agent.ci.workflow", map[string]any{"Name": name, "Number": run.str("run_number"), "Status": f.status(status)})
	n.Summary = run.first("display_title")
	if msg := firstLine(run.str("head_commit", "message")); msg != "" && msg != n.Summary {
		n.Summary = joinNonEmpty("\n", n.Summary, joinNonEmpty(" ", shortSHA(run.str("head_sha")), msg))
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.first("repository.full_name", "workflow_run.repository.full_name"))
	fl.add(f.l.T("agent.fact.branch", nil), run.str("head_branch"))
	fl.add(f.l.T("agent.fact.trigger", nil), run.str("event"))
	fl.add(f.l.T("agent.fact.author", nil), run.first("triggering_actor.login", "actor.login"))
	if a, ok := run.num("run_attempt"); ok && a > 1 {
		fl.add(f.l.T("agent.fact.attempt", nil), itoa(a))
	}
	n.Facts = fl
	n.Link = firstURL(run.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ciImportance(status, false)
	return n
}

func (f *formatter) githubWorkflowJob(root *node) Notification {
	job := root.get("workflow_job")
	status := job.first("conclusion", "status")
	var n Notification
	n.Title = f.l.T("agent.ci.job", map[string]any{"Name": job.str("name"), "Status": f.status(status)})
	var failed []string
	for _, st := range job.arr("steps") {
		if c := st.str("conclusion"); c == "failure" || c == "timed_out" || c == "cancelled" {
			failed = append(failed, st.str("name"))
		}
	}
	if len(failed) > 0 {
		n.Summary = f.l.T("agent.ci.failed_step", map[string]any{"Step": strings.Join(failed, ", ")})
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.workflow", nil), job.str("workflow_name"))
	fl.add(f.l.T("agent.fact.branch", nil), job.str("head_branch"))
	fl.add(f.l.T("agent.fact.commit", nil), shortSHA(job.str("head_sha")))
	if a, ok := job.num("run_attempt"); ok && a > 1 {
		fl.add(f.l.T("agent.fact.attempt", nil), itoa(a))
	}
	n.Facts = fl
	n.Link = firstURL(job.str("html_url"), root.str("repository", "html_url"))
	n.Importance = ciImportance(status, true)
	return n
}

// githubCheck is a check run or check suite.
func (f *formatter) githubCheck(event string, root *node) Notification {
	c := root.get(event)
	status := c.first("conclusion", "status")
	name := c.first("name", "app.name")
	var n Notification
	n.Title = f.l.T("agent.ci.check", map[string]any{"Name": name, "Status": f.status(status)})
	n.Summary = joinNonEmpty("\n", c.str("output", "title"), clamp(clean(c.str("output", "summary")), 300))
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.branch", nil), c.first("check_suite.head_branch", "head_branch"))
	fl.add(f.l.T("agent.fact.commit", nil), shortSHA(c.str("head_sha")))
	n.Facts = fl
	n.Link = firstURL(c.str("html_url"), c.str("details_url"), root.str("repository", "html_url"))
	n.Importance = ciImportance(status, true)
	return n
}

func (f *formatter) githubDeploymentStatus(root *node) Notification {
	st, dep := root.get("deployment_status"), root.get("deployment")
	state := st.str("state")
	env := st.first("environment")
	if env == "" {
		env = dep.str("environment")
	}
	var n Notification
	n.Title = f.l.T("agent.ci.deployment", map[string]any{"Env": env, "Status": f.status(state)})
	n.Summary = joinNonEmpty("\n", st.str("description"), dep.str("description"))
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.ref", nil), dep.str("ref"))
	fl.add(f.l.T("agent.fact.commit", nil), shortSHA(dep.str("sha")))
	fl.add(f.l.T("agent.fact.author", nil), root.first("deployment_status.creator.login", "deployment.creator.login", "sender.login"))
	n.Facts = fl
	n.Link = firstURL(st.str("environment_url"), st.str("target_url"), st.str("log_url"), root.str("repository", "html_url"))
	n.Importance = importanceOf(state)
	return n
}

func (f *formatter) githubDependabot(root *node) Notification {
	a := root.get("alert")
	adv, vuln := a.get("security_advisory"), a.get("security_vulnerability")
	pkg := a.first("dependency.package.name", "security_vulnerability.package.name")
	eco := a.first("dependency.package.ecosystem", "security_vulnerability.package.ecosystem")
	patched := vuln.str("first_patched_version", "identifier")
	severity := vuln.first("severity")
	if severity == "" {
		severity = adv.str("severity")
	}
	action := root.str("action")
	var n Notification
	n.Title = adv.first("summary")
	data := map[string]any{"Number": a.str("number"), "Package": pkg, "Action": humanize(action)}
	if action == "created" || action == "reintroduced" {
		n.Summary = f.l.T("agent.github.dependabot_new", data)
	} else {
		n.Summary = f.l.T("agent.github.dependabot_other", data)
	}
	var fl factList
	fl.add(f.l.T("agent.fact.repository", nil), root.str("repository", "full_name"))
	fl.add(f.l.T("agent.fact.package", nil), joinNonEmpty(" ", pkg, parenthesized(eco)))
	fl.add(f.l.T("agent.fact.severity", nil), severity)
	fl.add(f.l.T("agent.fact.affected", nil), vuln.str("vulnerable_version_range"))
	fl.add(f.l.T("agent.fact.patched", nil), patched)
	fl.add(f.l.T("agent.fact.manifest", nil), a.str("dependency", "manifest_path"))
	fl.add(f.l.T("agent.fact.advisory", nil), joinNonEmpty(", ", adv.str("ghsa_id"), adv.str("cve_id")))
	n.Facts = fl
	n.Link = firstURL(a.str("html_url"), root.str("repository", "html_url"))
	if patched != "" && pkg != "" && (action == "created" || action == "reintroduced" || action == "reopened") {
		n.Action = f.l.T("agent.github.upgrade_action", map[string]any{"Package": pkg, "Version": patched})
	}
	n.Importance = severityImportance(severity)
	return n
}

func (f *formatter) githubAdvisory(root *node) Notification {
	adv := root.get("security_advisory")
	var n Notification
	n.Title = adv.first("summary", "ghsa_id")
	n.Summary = clamp(clean(adv.str("description")), 400)
	ids := []string{adv.str("ghsa_id")}
	for _, id := range adv.arr("identifiers") {
		if v := id.str("value"); v != "" && v != ids[0] {
			ids = append(ids, v)
		}
	}
	var pkgs, affected, patched []string
	seen := map[string]bool{}
	for _, v := range adv.arr("vulnerabilities") {
		if p := joinNonEmpty(" ", v.str("package", "name"), parenthesized(v.str("package", "ecosystem"))); p != "" && !seen[p] {
			seen[p] = true
			pkgs = append(pkgs, p)
		}
		if r := v.str("vulnerable_version_range"); r != "" {
			affected = append(affected, r)
		}
		if p := v.str("first_patched_version", "identifier"); p != "" {
			patched = append(patched, p)
		}
	}
	var fl factList
	fl.add(f.l.T("agent.fact.severity", nil), adv.str("severity"))
	fl.add(f.l.T("agent.fact.package", nil), strings.Join(pkgs, ", "))
	fl.add(f.l.T("agent.fact.affected", nil), strings.Join(affected, "; "))
	fl.add(f.l.T("agent.fact.patched", nil), strings.Join(patched, ", "))
	fl.add(f.l.T("agent.fact.advisory", nil), joinNonEmpty(", ", ids...))
	if score := adv.str("cvss", "score"); score != "" && score != "0" {
		fl.add("CVSS", score)
	}
	n.Facts = fl
	var refs []string
	for _, r := range adv.arr("references") {
		refs = append(refs, r.str("url"))
	}
	n.Link = firstURL(append([]string{adv.str("html_url"), adv.str("permalink")}, refs...)...)
	n.Importance = severityImportance(adv.str("severity"))
	return n
}

// severityImportance reads an advisory's severity: high and critical need
// attention now.
func severityImportance(s string) Importance {
	switch strings.ToLower(s) {
	case "critical", "high":
		return ImportanceHigh
	}
	return ImportanceNormal
}

func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// statusWords are the CI and deployment statuses the formatter translates;
// others are shown as the sender wrote them.
var statusWords = map[string]string{
	"success": "success", "succeeded": "success", "passed": "passed", "failure": "failure",
	"failed": "failure", "error": "error", "canceled": "canceled", "cancelled": "canceled",
	"skipped": "skipped", "running": "running", "pending": "pending", "created": "created",
	"queued": "queued", "in_progress": "in_progress", "completed": "completed",
	"timed_out": "timed_out", "action_required": "action_required", "neutral": "neutral",
	"manual": "manual", "stale": "stale", "inactive": "inactive", "waiting": "waiting",
	"open": "open", "opened": "open", "closed": "closed", "merged": "merged",
}

// status translates a status word: "failure" is "failed" in English and
// "ошибка" in Russian.
func (f *formatter) status(s string) string {
	if k, ok := statusWords[strings.ToLower(strings.TrimSpace(s))]; ok {
		return f.l.T("agent.status."+k, nil)
	}
	return s
}
