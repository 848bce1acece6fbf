package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/bot/tgemu"
)

const renderPush = `{"ref":"refs/heads/main","created":false,"deleted":false,"forced":false,
	"compare":"https://github.com/octo/hello/compare/aaa...bbb",
	"commits":[{"id":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","message":"Fix the <login> & signup","author":{"username":"octocat"}}],
	"pusher":{"name":"octocat"},"repository":{"full_name":"octo/hello","html_url":"https://github.com/octo/hello"},
	"sender":{"login":"octocat"}}`

// renderCmd runs `herald render args…` with env and stdin.
func renderCmd(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"render"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// htmlPart is the Telegram HTML block of render's output.
func htmlPart(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "──\n")
	html, _, ok2 := strings.Cut(rest, "\n── What the reader sees ──")
	if !ok || !ok2 {
		t.Fatalf("no HTML block in:\n%s", out)
	}
	html, _, _ = strings.Cut(html, "\nbutton: ")
	return strings.TrimSuffix(html, "\n")
}

func TestRender(t *testing.T) {
	file := filepath.Join(t.TempDir(), "push.json")
	if err := os.WriteFile(file, []byte(renderPush), 0o644); err != nil {
		t.Fatal(err)
	}
	noEnv := map[string]string{} // no TELEGRAM_BOT_TOKEN: render does not need one

	t.Run("Formatter", func(t *testing.T) {
		code, out, errOut := renderCmd(t, noEnv, "", "-H", "X-GitHub-Event: push", file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		html := htmlPart(t, out)
		text, err := tgemu.CheckHTML(html)
		if err != nil {
			t.Fatalf("Telegram would refuse %q: %v", html, err)
		}
		if !strings.HasPrefix(html, "<b>GitHub · push</b>\n") || !strings.Contains(html, "Fix the &lt;login&gt; &amp; signup") {
			t.Errorf("HTML:\n%s", html)
		}
		_, seen, _ := strings.Cut(out, "── What the reader sees ──\n")
		if !strings.HasPrefix(seen, text) || !strings.Contains(seen, "[ Open ]") {
			t.Errorf("the reader's text is not what Telegram shows:\n%s\nwant it to start with:\n%s", seen, text)
		}
		if !strings.Contains(out, "button: \"Open\" → https://github.com/octo/hello/compare/aaa...bbb") || !strings.Contains(out, "built-in formatter") {
			t.Errorf("output:\n%s", out)
		}
	})
	t.Run("ReadAsIngestStoresIt", func(t *testing.T) {
		// A body labelled JSON that does not parse is text, with ingest's
		// warning; an unlabelled JSON body is JSON.
		code, out, errOut := renderCmd(t, noEnv, `{"event":"deploy",`, "-H", "Content-Type: application/json", "-")
		if code != 0 || !strings.Contains(errOut, "labelled JSON but does not parse") || !strings.Contains(out, `{&quot;event&quot;:&quot;deploy&quot;,`) {
			t.Errorf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
		code, out, errOut = renderCmd(t, noEnv, `{"event":"deploy"}`, "-")
		if code != 0 || errOut != "" || !strings.Contains(out, "<b>webhook · deploy</b>") {
			t.Errorf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
	})
	t.Run("StdinRussian", func(t *testing.T) {
		code, out, _ := renderCmd(t, noEnv, `{"event":"new_order","order_id":12345}`, "-lang", "ru", "-webhook", "orders", "-")
		if code != 0 || !strings.Contains(out, "<b>orders · new_order</b>") || !strings.Contains(out, "ID заказа: 12345") {
			t.Errorf("exit %d:\n%s", code, out)
		}
	})
	t.Run("LLM", func(t *testing.T) {
		ai := openaitest.Start(t)
		ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			return openaitest.Content(`{"source":"","event":"","title":"octocat fixed the login","summary":"One commit to main.","facts":[],"importance":"low","link":"","action":""}`)
		})
		env := map[string]string{"OPENAI_API_KEY": ai.Key(), "OPENAI_BASE_URL": ai.URL(), "LLM_TIMEOUT": "5s"}
		code, out, errOut := renderCmd(t, env, renderPush, "-H", "X-GitHub-Event: push", "-")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if !strings.Contains(out, "by the LLM (gpt-4o-mini") || !strings.Contains(out, "octocat fixed the login") ||
			!strings.Contains(out, "(sent silently: low importance)") {
			t.Errorf("output:\n%s", out)
		}
		if n := len(ai.Requests()); n != 1 {
			t.Errorf("%d LLM requests, want 1", n)
		}
	})
	t.Run("LLMFails", func(t *testing.T) {
		ai := openaitest.Start(t)
		ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply { return openaitest.Status(401, "no") })
		env := map[string]string{"OPENAI_API_KEY": ai.Key(), "OPENAI_BASE_URL": ai.URL()}
		code, out, errOut := renderCmd(t, env, renderPush, "-H", "X-GitHub-Event: push", "-")
		if code != 0 || !strings.Contains(out, "the LLM failed") || !strings.Contains(errOut, "reason=http_401") {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
	})

	errs := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"NoFile", noEnv, nil, 2, "usage: herald render"},
		{"Missing", noEnv, []string{filepath.Join(t.TempDir(), "nope.json")}, 1, "no such file"},
		{"BadHeader", noEnv, []string{"-H", "no colon", file}, 2, "Header: value"},
		{"BadLang", noEnv, []string{"-lang", "de", file}, 2, "-lang"},
		{"BadConfig", map[string]string{"LLM_TIMEOUT": "soon"}, []string{file}, 2, "LLM_TIMEOUT"},
		{"TooBig", map[string]string{"MAX_BODY_BYTES": "1024"}, []string{"-"}, 1, "MAX_BODY_BYTES"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := renderCmd(t, tt.env, strings.Repeat("x", 2000), tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}
