package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/agent"
	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot/tgemu"
)

// golden is what the message of every payload in the shared corpus must
// say. facts are values of the payload a person needs: the formatter's
// message shows them (in English and in Russian) and the LLM is sent them.
// derived are what the formatter computes or translates (sentences,
// amounts with currency), checked in the English message only.
var golden = []struct {
	file       string
	header     string
	facts      []string
	derived    []string
	importance agent.Importance
}{
	{"dockerhub/push.json", "Docker Hub · push", []string{"svendowideit/testhook", "latest", "trustedbuilder"}, []string{"pushed svendowideit/testhook:latest"}, agent.ImportanceNormal},
	{"github/check_run.completed.json", "GitHub · check_run.completed", []string{"Octocoders-linter", "Codertocat/Hello-World", "changes", "ec26c3e"}, []string{"Check Octocoders-linter: succeeded"}, agent.ImportanceLow},
	{"github/create.json", "GitHub · create", []string{"Codertocat", "simple-tag", "Codertocat/Hello-World"}, []string{"Codertocat created tag simple-tag"}, agent.ImportanceNormal},
	{"github/delete.json", "GitHub · delete", []string{"Codertocat", "simple-tag", "Codertocat/Hello-World"}, []string{"Codertocat deleted tag simple-tag"}, agent.ImportanceNormal},
	{"github/dependabot_alert.created.json", "GitHub · dependabot_alert.created", []string{"semver", "medium", "< 7.5.2", "7.5.2", "package-lock.json", "GHSA-c2qf-rxjj-qqgw", "CVE-2022-25883", "wolfy1339/pika-pack"}, []string{"Dependabot alert #20", "Update semver to 7.5.2"}, agent.ImportanceNormal},
	{"github/deployment_status.json", "GitHub · deployment_status.created", []string{"production", "Codertocat/Hello-World", "master", "f95f852"}, []string{"Deployment to production: succeeded"}, agent.ImportanceNormal},
	{"github/discussion.created.json", "GitHub · discussion.created", []string{"TEST edit", "Codertocat", "Codertocat/Hello-World"}, nil, agent.ImportanceNormal},
	{"github/fork.json", "GitHub · fork", []string{"Octocoders", "Codertocat/Hello-World", "Octocoders/Hello-World"}, []string{"Octocoders forked Codertocat/Hello-World"}, agent.ImportanceLow},
	{"github/issue_comment.created.json", "GitHub · issue_comment.created", []string{"Spelling error in the README file", "You are totally right! I'll get this fixed right away.", "Codertocat", "Codertocat/Hello-World"}, []string{"commented on issue #1"}, agent.ImportanceNormal},
	{"github/issues.opened.json", "GitHub · issues.opened", []string{"Spelling error in the README file", "bug", "Codertocat", "Codertocat/Hello-World", "It looks like you accidently spelled 'commit' with two 't's."}, []string{"#1", "Codertocat opened an issue"}, agent.ImportanceNormal},
	{"github/ping.json", "GitHub · ping", []string{"Octocoders/Hello-World", "Anything added dilutes everything else."}, []string{"GitHub webhook is connected"}, agent.ImportanceLow},
	{"github/pull_request.closed.json", "GitHub · pull_request.closed", []string{"Update the README with new information.", "Codertocat", "changes", "master", "Codertocat/Hello-World"}, []string{"#2", "closed a pull request without merging", "+1 −1 in 1 file"}, agent.ImportanceNormal},
	{"github/pull_request.opened.json", "GitHub · pull_request.opened", []string{"Update the README with new information.", "This is a pretty simple change that we need to pull into master.", "Codertocat", "changes", "master", "Codertocat/Hello-World"}, []string{"#2", "opened a pull request", "+1 −1 in 1 file"}, agent.ImportanceNormal},
	{"github/push.json", "GitHub · push", []string{"Codertocat", "master", "6113728", "Initial commit", "Codertocat/Hello-World"}, []string{"pushed 1 commit to master"}, agent.ImportanceNormal},
	{"github/push.tag-deleted.json", "GitHub · push", []string{"Codertocat", "simple-tag", "Codertocat/Hello-World"}, []string{"Codertocat deleted tag simple-tag"}, agent.ImportanceNormal},
	{"github/release.published.json", "GitHub · release.published", []string{"Codertocat", "0.0.1", "Codertocat/Hello-World"}, []string{"published release 0.0.1"}, agent.ImportanceNormal},
	{"github/security_advisory.published.json", "GitHub · security_advisory.published", []string{"Moderate severity vulnerability that affects django", "django", "moderate", "GHSA-rf4j-j272-fj86", "CVE-2018-6188", "2.0.2", "1.11.10"}, nil, agent.ImportanceNormal},
	{"github/star.created.json", "GitHub · star.created", []string{"Codertocat", "Codertocat/Hello-World"}, []string{"Codertocat starred Codertocat/Hello-World"}, agent.ImportanceLow},
	{"github/workflow_job.completed.failure.json", "GitHub · workflow_job.completed", []string{"linters", "Run yarn run format-check", "CodeQL", "main", "3484a3f"}, []string{"Job linters: failed"}, agent.ImportanceHigh},
	{"github/workflow_run.completed.json", "GitHub · workflow_run.completed", []string{"test", "163", "octo-org/octo-repo", "master", "ci(action): update actions/setup-node digest to 8c91899"}, []string{"Workflow test #163: succeeded"}, agent.ImportanceNormal},
	{"gitlab/deployment.success.json", "GitLab · deployment", []string{"staging", "root/test-deployment-webhooks", "1.0.0", "279484c0", "Add new file", "user1"}, []string{"Deployment to staging: succeeded"}, agent.ImportanceNormal},
	{"gitlab/issue.open.json", "GitLab · issue.open", []string{"New API: create/update/delete file", "root", "gitlabhq/gitlab-test", "API", "high"}, []string{"root opened an issue"}, agent.ImportanceNormal},
	{"gitlab/job.success.json", "GitLab · build", []string{"auto_deploy:start", "coordinated:tag", "main", "Remove test jobs and add back other jobs", "release-tools-fake"}, []string{"Job auto_deploy:start: succeeded"}, agent.ImportanceNormal},
	{"gitlab/merge_request.open.json", "GitLab · merge_request.open", []string{"MS-Viewport", "user1", "ms-viewport", "master", "gitlabhq/gitlab-test"}, []string{"!1", "user1 opened a merge request"}, agent.ImportanceNormal},
	{"gitlab/note.merge_request.json", "GitLab · note.create", []string{"This MR needs work.", "root", "Tempora et eos debitis quae laborum et.", "gitlab-org/gitlab-test"}, []string{"root commented on merge request !1"}, agent.ImportanceNormal},
	{"gitlab/pipeline.success.json", "GitLab · pipeline", []string{"123", "master", "user1", "gitlab-org/gitlab-test", "Test"}, []string{"Pipeline #123: succeeded", "63 s", "!1 Test"}, agent.ImportanceNormal},
	{"gitlab/push.json", "GitLab · push", []string{"jsmith", "master", "da15608", "fixed readme", "b6568db", "mike/diaspora"}, []string{"jsmith pushed 4 commits to master", "…and 2 more commits"}, agent.ImportanceNormal},
	{"gitlab/tag_push.json", "GitLab · tag_push", []string{"jsmith", "v1.0.0", "82b3d5a", "jsmith/example"}, []string{"jsmith created tag v1.0.0"}, agent.ImportanceNormal},
	{"grafana/alerting.firing.json", "Grafana · firing", []string{"High memory usage", "High CPU usage", "us-1", "eu-1", "blue"}, []string{"2 alerts firing"}, agent.ImportanceHigh},
	{"pagerduty/incident.priority_updated.json", "PagerDuty · incident.priority_updated", []string{"A little bump in the road", "P1", "high", "triggered", "API Service", "User 123", "Tenex Engineer"}, []string{"#2"}, agent.ImportanceHigh},
	{"pagerduty/service.updated.json", "PagerDuty · service.updated", []string{"testing service updates", "Engineering"}, nil, agent.ImportanceNormal},
	{"sentry/event_alert.triggered.json", "Sentry · event_alert.triggered", []string{"ReferenceError: heck is not defined", "error", "Very Important Alert Rule!"}, nil, agent.ImportanceHigh},
	{"sentry/issue.created.json", "Sentry · issue.created", []string{"ReferenceError: blooopy is not defined", "front-end", "FRONT-END-9", "error"}, nil, agent.ImportanceHigh},
	{"sentry/metric_alert.resolved.json", "Sentry · metric_alert.resolved", []string{"Too many errors", "1000 events in the last 10 minutes"}, []string{"Resolved: Too many errors"}, agent.ImportanceLow},
	{"slack/url_verification.json", "Slack · url_verification", nil, []string{"Slack is verifying this webhook URL"}, agent.ImportanceLow},
	{"stripe/charge.refunded.json", "Stripe · charge.refunded", []string{"1.00", "(created by Stripe CLI)"}, []string{"Refunded $1.00"}, agent.ImportanceNormal},
	{"stripe/checkout.session.completed.json", "Stripe · checkout.session.completed", []string{"30.00", "stripe@example.com", "cus_00000000000000"}, []string{"Checkout completed: $30.00"}, agent.ImportanceNormal},
	{"stripe/customer.created.json", "Stripe · customer.created", []string{"test@stripe.com", "cus_123"}, []string{"New customer"}, agent.ImportanceNormal},
	{"stripe/customer.subscription.deleted.json", "Stripe · customer.subscription.deleted", []string{"cus_00000000000000", "15.00"}, []string{"Subscription cancelled", "$15.00 / month"}, agent.ImportanceNormal},
	{"stripe/invoice.paid.json", "Stripe · invoice.paid", []string{"20.00", "cus_00000000000000"}, []string{"Invoice paid: $20.00"}, agent.ImportanceNormal},
	{"stripe/payment_intent.payment_failed.json", "Stripe · payment_intent.payment_failed", []string{"20.00", "Your card was declined.", "generic_decline"}, []string{"Payment of $20.00 failed"}, agent.ImportanceHigh},
	{"stripe/payment_intent.succeeded.json", "Stripe · payment_intent.succeeded", []string{"20.00"}, []string{"Payment of $20.00 succeeded"}, agent.ImportanceNormal},
	{"stripe/setup_intent.created.json", "Stripe · setup_intent.created", []string{"requires_confirmation", "seti_1NG8Du2eZvKYlo2C9XMqbR0x"}, nil, agent.ImportanceNormal},
}

// corpusFiles lists the payloads of the shared corpus, or skips the test.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(payloadsDir, "*", "*.json"))
	if len(files) == 0 {
		t.Skipf("the shared payload corpus is absent (%s): skipping real payloads", payloadsDir)
	}
	var rels []string
	for _, f := range files {
		rel, _ := filepath.Rel(payloadsDir, f)
		rels = append(rels, filepath.ToSlash(rel))
	}
	return rels
}

// TestGolden renders every payload of the corpus with the formatter, in
// both languages, and checks the message a person gets.
func TestGolden(t *testing.T) {
	files := corpusFiles(t)
	byFile := map[string]int{}
	for i, g := range golden {
		byFile[g.file] = i
	}
	for _, rel := range files {
		if _, ok := byFile[rel]; !ok {
			t.Errorf("%s is in the corpus but not in the golden table", rel)
		}
	}
	for _, g := range golden {
		t.Run(g.file, func(t *testing.T) {
			ev := realPayload(t, g.file)
			for _, lang := range []string{"en", "ru"} {
				n := agent.Format(ev, lang, bundle)
				m := agent.Render(n, bundle)
				text, err := tgemu.CheckHTML(m.HTML)
				if err != nil {
					t.Fatalf("%s: Telegram would refuse the message: %v\n%s", lang, err, m.HTML)
				}
				if utf16Len(text) > agent.MaxMessageLen {
					t.Errorf("%s: %d UTF-16 units", lang, utf16Len(text))
				}
				if !strings.HasPrefix(text, g.header+"\n") {
					t.Errorf("%s: the message does not start with %q:\n%s", lang, g.header, text)
				}
				want := g.facts
				if lang == "en" {
					want = append(append([]string(nil), g.facts...), g.derived...)
				}
				for _, fact := range want {
					if !strings.Contains(text, fact) {
						t.Errorf("%s: the message lacks %q:\n%s", lang, fact, text)
					}
				}
				if n.Importance != g.importance {
					t.Errorf("%s: importance %q, want %q", lang, n.Importance, g.importance)
				}
				if m.DisableNotification != (g.importance == agent.ImportanceLow) {
					t.Errorf("%s: DisableNotification = %v for importance %q", lang, m.DisableNotification, n.Importance)
				}
				if n.Link != "" && !strings.Contains(string(ev.Body), n.Link) {
					t.Errorf("%s: link %q is not in the payload", lang, n.Link)
				}
				if os.Getenv("AGENT_SHOW") != "" {
					t.Logf("[%s]\n%s\n[%s] %s", lang, m.HTML, m.LinkText, m.LinkURL)
				}
			}
		})
	}
}

// TestGolden_Sent checks that what the LLM is sent of every corpus payload
// still holds every fact the golden table asserts, and no credential.
func TestGolden_Sent(t *testing.T) {
	corpusFiles(t)
	s := openaitest.Start(t)
	a := agent.New(agent.Config{APIKey: s.Key(), BaseURL: s.URL(), Timeout: 5 * time.Second}, bundle, nil)
	for _, g := range golden {
		t.Run(g.file, func(t *testing.T) {
			s.Reset()
			ev := realPayload(t, g.file)
			if n, _ := a.Summarize(context.Background(), ev, "en"); !n.ByLLM {
				t.Fatalf("the fake's reply was not used")
			}
			reqs := s.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			user := reqs[0].Messages[len(reqs[0].Messages)-1].Content
			for _, fact := range g.facts {
				if !strings.Contains(user, fact) {
					t.Errorf("the prompt lacks %q:\n%s", fact, user)
				}
			}
		})
	}
	t.Run("SlackTokenMasked", func(t *testing.T) {
		s.Reset()
		a.Summarize(context.Background(), realPayload(t, "slack/url_verification.json"), "ru")
		for _, r := range s.Requests() {
			if user := r.Messages[len(r.Messages)-1].Content; strings.Contains(user, "Jhj5dZrVaK7ZwHHjRyZWjbDl") || !strings.Contains(user, "token: ••••") {
				t.Errorf("the verification token is not masked:\n%s", user)
			}
		}
	})
	t.Run("StripeClientSecretMasked", func(t *testing.T) {
		s.Reset()
		a.Summarize(context.Background(), realPayload(t, "stripe/setup_intent.created.json"), "ru")
		for _, r := range s.Requests() {
			if user := r.Messages[len(r.Messages)-1].Content; strings.Contains(user, "secret_O2CdhLwGFh2Aej7bCY7qp8jlIuyR8DJ") {
				t.Errorf("the client secret is sent:\n%s", user)
			}
		}
	})
}
