package agent

import (
	"strings"
)

// gitlabSender formats GitLab deliveries, known by X-Gitlab-Event or by
// object_kind.
// Specs: https://docs.gitlab.com/user/project/integrations/webhook_events/
func gitlabSender(header string, root *node) sender {
	kind := root.str("object_kind")
	if kind == "" {
		kind = strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(header, " Hook")), " ", "_")
	}
	s := sender{source: "GitLab", event: withAction(kind, root.str("object_attributes", "action"))}
	switch kind {
	case "push", "tag_push":
		s.format = func(f *formatter) Notification { return f.push(gitlabPush(root)) }
	case "merge_request":
		s.format = func(f *formatter) Notification { return f.gitlabMergeRequest(root) }
	case "pipeline":
		s.format = func(f *formatter) Notification { return f.gitlabPipeline(root) }
	case "build":
		s.format = func(f *formatter) Notification { return f.gitlabJob(root) }
	case "deployment":
		s.format = func(f *formatter) Notification { return f.gitlabDeployment(root) }
	default:
		s.format = func(f *formatter) Notification { return f.gitlabOther(root) }
	}
	return s
}

func gitlabPush(root *node) push {
	p := push{
		actor:   root.first("user_username", "user_name"),
		repo:    root.first("project.path_with_namespace", "project.name"),
		created: root.str("before") == zeroSHA,
		deleted: root.str("after") == zeroSHA,
		link:    firstURL(root.str("project", "web_url")),
	}
	p.ref, p.tag = splitRef(root.str("ref"))
	commits := root.arr("commits")
	if total, ok := root.num("total_commits_count"); ok {
		p.total = int(total)
	} else {
		p.total = len(commits)
	}
	// Commits come oldest first; the newest are the ones to see.
	for i := len(commits) - 1; i >= 0; i-- {
		c := commits[i]
		p.commits = append(p.commits, commit{sha: c.str("id"), message: c.first("title", "message"), author: c.str("author", "name")})
	}
	if len(commits) > 0 {
		p.link = firstURL(commits[len(commits)-1].str("url"), p.link)
	}
	return p
}

func (f *formatter) gitlabActor(root *node) string {
	if a := root.first("user.username", "user.name", "user_username"); a != "" {
		return a
	}
	return f.l.T("agent.someone", nil)
}

func (f *formatter) gitlabMergeRequest(root *node) Notification {
	oa := root.get("object_attributes")
	action := oa.str("action")
	data := map[string]any{"Actor": f.gitlabActor(root), "Action": humanize(action)}
	var n Notification
	n.Title = joinNonEmpty(" ", prefixed("!", oa.str("iid")), oa.str("title"))
	switch action {
	case "open":
		n.Summary = f.l.T("agent.mr.opened", data)
	case "merge":
		n.Summary = f.l.T("agent.mr.merged", data)
	case "close":
		n.Summary = f.l.T("agent.mr.closed", data)
	case "approved", "approval":
		n.Summary = f.l.T("agent.mr.approved", data)
	default:
		n.Summary = f.l.T("agent.mr.updated", data)
	}
	var fl factList
	fl.add(f.l.T("agent.fact.project", nil), root.str("project", "path_with_namespace"))
	if src, dst := oa.str("source_branch"), oa.str("target_branch"); src != "" && dst != "" {
		fl.add(f.l.T("agent.fact.branch", nil), src+" → "+dst)
	}
	fl.add(f.l.T("agent.fact.status", nil), f.status(oa.str("state")))
	fl.add(f.l.T("agent.fact.labels", nil), names(root.arr("labels"), "title"))
	n.Facts = fl
	n.Link = firstURL(oa.str("url"), root.str("project", "web_url"))
	n.Importance = ImportanceNormal
	return n
}

func (f *formatter) gitlabPipeline(root *node) Notification {
	oa := root.get("object_attributes")
	status := oa.first("status", "detailed_status")
	var n Notification
	n.Title = f.l.T("agent.ci.pipeline", map[string]any{"ID": oa.first("iid", "id"), "Status": f.status(status)})
	n.Summary = firstLine(root.first("commit.title", "commit.message"))
	var fl factList
	fl.add(f.l.T("agent.fact.project", nil), root.str("project", "path_with_namespace"))
	fl.add(f.l.T("agent.fact.branch", nil), oa.str("ref"))
	fl.add(f.l.T("agent.fact.author", nil), root.first("user.username", "user.name"))
	if d, ok := oa.num("duration"); ok {
		fl.add(f.l.T("agent.fact.duration", nil), itoa(d)+" s")
	}
	if mr := root.get("merge_request"); mr != nil && mr.kind == kindObject {
		fl.add(f.l.T("agent.fact.merge_request", nil), joinNonEmpty(" ", prefixed("!", mr.str("iid")), mr.str("title")))
	}
	var failed []string
	for _, b := range root.arr("builds") {
		if b.str("status") == "failed" && !b.flag("allow_failure") {
			failed = append(failed, b.str("name"))
		}
	}
	fl.add(f.l.T("agent.fact.failed_jobs", nil), strings.Join(failed, ", "))
	n.Facts = fl
	n.Link = firstURL(oa.str("url"), root.str("commit", "url"), root.str("project", "web_url"))
	n.Importance = importanceOf(status)
	return n
}

func (f *formatter) gitlabJob(root *node) Notification {
	status := root.str("build_status")
	var n Notification
	n.Title = f.l.T("agent.ci.job", map[string]any{"Name": root.str("build_name"), "Status": f.status(status)})
	n.Summary = firstLine(root.first("commit.message"))
	var fl factList
	fl.add(f.l.T("agent.fact.project", nil), root.first("project.path_with_namespace", "project_name"))
	fl.add(f.l.T("agent.fact.stage", nil), root.str("build_stage"))
	fl.add(f.l.T("agent.fact.branch", nil), root.str("ref"))
	if status == "failed" {
		fl.add(f.l.T("agent.fact.reason", nil), root.str("build_failure_reason"))
	}
	n.Facts = fl
	n.Link = firstURL(root.str("repository", "homepage"))
	n.Importance = importanceOf(status)
	if status == "failed" && root.flag("build_allow_failure") {
		n.Importance = ImportanceNormal
	}
	return n
}

func (f *formatter) gitlabDeployment(root *node) Notification {
	status := root.str("status")
	var n Notification
	n.Title = f.l.T("agent.ci.deployment", map[string]any{"Env": root.str("environment"), "Status": f.status(status)})
	n.Summary = joinNonEmpty(" ", root.str("short_sha"), root.str("commit_title"))
	var fl factList
	fl.add(f.l.T("agent.fact.project", nil), root.str("project", "path_with_namespace"))
	fl.add(f.l.T("agent.fact.ref", nil), root.str("ref"))
	fl.add(f.l.T("agent.fact.author", nil), root.first("user.username", "user.name"))
	n.Facts = fl
	n.Link = firstURL(root.str("environment_external_url"), root.str("deployable_url"), root.str("commit_url"))
	n.Importance = importanceOf(status)
	return n
}

// gitlabOther covers issues, notes, releases and the rest: the object's
// title, the text of a note, who did it.
func (f *formatter) gitlabOther(root *node) Notification {
	oa := root.get("object_attributes")
	kind := root.str("object_kind")
	var n Notification
	n.Title = oa.first("title", "name")
	if n.Title == "" {
		for _, k := range []string{"merge_request", "issue", "commit", "snippet"} {
			if t := root.first(k+".title", k+".message"); t != "" {
				mark := "#"
				if k == "merge_request" {
					mark = "!"
				}
				n.Title = joinNonEmpty(" ", prefixed(mark, root.str(k, "iid")), firstLine(t))
				break
			}
		}
	}
	if n.Title == "" {
		n.Title = root.first("name", "tag")
	}
	what := humanize(joinNonEmpty(" ", kind, oa.str("action")))
	data := map[string]any{"Actor": f.gitlabActor(root), "What": what}
	switch {
	case (kind == "issue" || kind == "work_item") && oa.str("action") == "open":
		n.Summary = f.l.T("agent.issue.opened", data)
	case (kind == "issue" || kind == "work_item") && oa.str("action") == "close":
		n.Summary = f.l.T("agent.issue.closed", data)
	case (kind == "issue" || kind == "work_item") && oa.str("action") == "reopen":
		n.Summary = f.l.T("agent.issue.reopened", data)
	case kind == "note" && oa.str("noteable_type") == "MergeRequest":
		data["Number"] = root.str("merge_request", "iid")
		n.Summary = f.l.T("agent.gitlab.commented_mr", data)
	case kind == "note" && oa.str("noteable_type") == "Issue":
		data["Number"] = root.str("issue", "iid")
		n.Summary = f.l.T("agent.gitlab.commented_issue", data)
	case kind == "note" && oa.str("noteable_type") == "Commit":
		data["SHA"] = shortSHA(root.str("commit", "id"))
		n.Summary = f.l.T("agent.gitlab.commented_commit", data)
	default:
		n.Summary = f.l.T("agent.gitlab.activity", data)
	}
	if note := clamp(clean(oa.first("note", "description")), 300); note != "" {
		n.Summary += "\n" + note
	}
	var fl factList
	fl.add(f.l.T("agent.fact.project", nil), root.first("project.path_with_namespace", "project.name"))
	fl.add(f.l.T("agent.fact.status", nil), f.status(oa.first("state", "status")))
	fl.add(f.l.T("agent.fact.severity", nil), oa.str("severity"))
	fl.add(f.l.T("agent.fact.labels", nil), names(root.arr("labels"), "title"))
	fl.add(f.l.T("agent.fact.assignees", nil), names(root.arr("assignees"), "username"))
	n.Facts = fl
	n.Link = firstURL(oa.str("url"), root.str("url"), root.str("project", "web_url"))
	n.Importance = importanceOf(oa.first("state", "status"))
	return n
}
