package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-relay/herald/locales"
)

// This file drives the playground page in a real headless Chromium through
// chromedriver, with plain W3C WebDriver calls
// (https://www.w3.org/TR/webdriver2/). Without Chromium or chromedriver the
// test skips, unless HERALD_REQUIRE_BROWSER=1 (as in CI) makes it fail.
// HERALD_SCREENSHOT=path saves a screenshot of the page mid-story (how
// docs/playground.png is made).

// browserPaths finds Chromium and chromedriver.
func browserPaths() (browser, driver string, ok bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	driver, _ = exec.LookPath("chromedriver")
	return browser, driver, browser != "" && driver != ""
}

// wd is a WebDriver session.
type wd struct {
	t    *testing.T
	base string // http://127.0.0.1:port/session/<id>
}

// startBrowser starts chromedriver and a headless Chromium session.
func startBrowser(t *testing.T) *wd {
	t.Helper()
	browser, driver, ok := browserPaths()
	if !ok {
		msg := "no Chromium and chromedriver on PATH (apt-get install chromium chromium-driver): the browser test is skipped"
		if os.Getenv("HERALD_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + ", but HERALD_REQUIRE_BROWSER=1")
		}
		t.Skip(msg)
	}
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithCancel(context.Background())
	var driverLog syncBuffer
	cmd := exec.CommandContext(ctx, driver, "--port="+port, "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = &driverLog, &driverLog
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	root := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(root + "/status")
		if err == nil {
			var st struct {
				Value struct {
					Ready bool `json:"ready"`
				} `json:"value"`
			}
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Value.Ready {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver not ready after 20s: %v\n%s", err, driverLog.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": browser,
			"args": []string{
				"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--window-size=1280,960",
			},
		},
	}}}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	w := &wd{t: t, base: root}
	w.call("POST", "/session", caps, &session)
	if session.SessionID == "" {
		t.Fatalf("chromedriver gave no session\n%s", driverLog.String())
	}
	w.base = root + "/session/" + session.SessionID
	t.Cleanup(func() {
		req, _ := http.NewRequest("DELETE", w.base, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return w
}

// call makes one WebDriver request and decodes its "value" into out.
func (w *wd) call(method, path string, body, out any) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Value     json.RawMessage `json:"value"`
		SessionID string          `json:"sessionId"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || resp.StatusCode != 200 {
		w.t.Fatalf("webdriver %s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out == nil {
		return
	}
	if path == "/session" {
		// The new-session answer carries sessionId inside value.
		json.Unmarshal(env.Value, out)
		return
	}
	if err := json.Unmarshal(env.Value, out); err != nil {
		w.t.Fatalf("webdriver %s %s: decode %s: %v", method, path, raw, err)
	}
}

// js runs a script in the page and decodes its result into out (if not nil).
func (w *wd) js(script string, out any, args ...any) {
	w.t.Helper()
	if args == nil {
		args = []any{}
	}
	w.call("POST", "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// waitJS polls a script until it returns a non-empty string or true, and
// returns what it returned; on timeout it fails with what describe says.
func (w *wd) waitJS(what, script string, args ...any) string {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var v any
		w.js(script, &v, args...)
		switch x := v.(type) {
		case string:
			if x != "" {
				return x
			}
		case bool:
			if x {
				return "true"
			}
		}
		if time.Now().After(deadline) {
			var page string
			w.js(`return document.getElementById("messages").innerText`, &page)
			w.t.Fatalf("browser: %s did not happen within 20s; the chat shows:\n%s", what, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// element finds one element by CSS selector and returns its WebDriver id.
func (w *wd) element(css string) string {
	w.t.Helper()
	var v map[string]string
	w.call("POST", "/element", map[string]string{"using": "css selector", "value": css}, &v)
	for _, id := range v {
		return id
	}
	w.t.Fatalf("no element %s", css)
	return ""
}

func (w *wd) click(css string) {
	w.t.Helper()
	w.call("POST", "/element/"+w.element(css)+"/click", map[string]any{}, nil)
}

// typeIn types text into an element as keystrokes; "\uE007" is Enter.
func (w *wd) typeIn(css, text string) {
	w.t.Helper()
	w.call("POST", "/element/"+w.element(css)+"/value", map[string]string{"text": text}, nil)
}

// pointer performs pointer actions (W3C WebDriver "Perform Actions") on
// the element css, at its centre (in the viewport: scroll it into view
// first): "move" hovers it, "dblclick" double-clicks.
func (w *wd) pointer(css, what string) {
	w.t.Helper()
	w.js(`document.querySelector(arguments[0]).scrollIntoView({block: "center"})`, nil, css)
	var r struct{ X, Y, Width, Height float64 }
	w.call("GET", "/element/"+w.element(css)+"/rect", nil, &r)
	acts := []map[string]any{{"type": "pointerMove", "duration": 0, "origin": "viewport",
		"x": int(r.X + r.Width/2), "y": int(r.Y + r.Height/2)}}
	if what == "dblclick" {
		for range 2 {
			acts = append(acts, map[string]any{"type": "pointerDown", "button": 0}, map[string]any{"type": "pointerUp", "button": 0})
		}
	}
	w.call("POST", "/actions", map[string]any{"actions": []map[string]any{
		{"type": "pointer", "id": "mouse", "parameters": map[string]string{"pointerType": "mouse"}, "actions": acts},
	}}, nil)
	w.call("DELETE", "/actions", nil, nil)
}

func (w *wd) screenshot(path string) {
	w.t.Helper()
	var b64 string
	w.call("GET", "/screenshot", nil, &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// Scripts the test runs in the page. lastBot returns the text of the
// newest bot message (after the message id in arguments[0]) containing
// arguments[1], as "id\ttext".
const jsLastBot = `
const after = arguments[0], want = arguments[1];
const ms = [...document.querySelectorAll("#messages .msg.bot")];
for (let i = ms.length - 1; i >= 0; i--) {
  const id = Number(ms[i].dataset.id), text = ms[i].querySelector(".text").textContent;
  if (id > after && text.includes(want)) return id + "\t" + text;
}
return "";`

// jsButton returns a CSS selector for the button whose text contains
// arguments[1] under bot message arguments[0], after marking it.
const jsButton = `
const m = document.querySelector('#messages .msg.bot[data-id="' + arguments[0] + '"]');
if (!m) return "";
for (const b of m.querySelectorAll(".kb-button")) {
  if (b.textContent.includes(arguments[1])) { b.id = "press-me"; return "#press-me"; }
}
return "";`

// TestPlaygroundBrowser drives the page as a person would: /start,
// /newtoken demo, a POST to the URL the page shows, the notification in the
// chat, a sample from the menu, buttons, the group as Bob, a phone screen.
func TestPlaygroundBrowser(t *testing.T) {
	w := startBrowser(t)
	var env map[string]string
	if os.Getenv("HERALD_SCREENSHOT") != "" {
		// The README's picture shows the URLs a user sees.
		env = map[string]string{"LISTEN_ADDR": "localhost:8080"}
	}
	p := startPlayground(t, env)
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	en := loc.For("en")

	botSays := func(after int, want string) (int, string) {
		t.Helper()
		got := w.waitJS(fmt.Sprintf("a bot message containing %q", want), jsLastBot, after, want)
		id, text, _ := strings.Cut(got, "\t")
		var n int
		fmt.Sscan(id, &n)
		return n, text
	}
	press := func(msgID int, label string) {
		t.Helper()
		w.js(`const b = document.getElementById("press-me"); if (b) b.removeAttribute("id");`, nil)
		sel := w.waitJS(fmt.Sprintf("button %q under message %d", label, msgID), jsButton, msgID, label)
		w.click(sel)
	}
	say := func(text string) {
		t.Helper()
		w.typeIn("#input", text+"\uE007")
	}

	w.call("POST", "/url", map[string]string{"url": p.page}, nil)
	w.waitJS("the page loading its state", `return document.body.dataset.ready === "1"`)
	w.js(`localStorage.setItem("herald-playground-lang", "en")`, nil)
	w.js(`document.getElementById("lang").value = "en"; document.getElementById("lang").dispatchEvent(new Event("change"))`, nil)

	// An empty chat offers Start, as Telegram does.
	w.waitJS("the Start button", `const b = document.getElementById("chat-action-button"); return !b.closest("[hidden]") && b.textContent === "Start"`)
	w.click("#chat-action-button")
	last, _ := botSays(0, "Herald")
	// The greeting's <b>Herald</b> is rendered from its entity, as bold.
	w.waitJS("Herald in bold in the greeting", `return [...document.querySelectorAll("#messages .msg.bot b")].some(b => b.textContent === "Herald")`)

	// A command in the bot's text can be tapped, as in Telegram.
	w.waitJS("a tappable /help in the greeting", `const a = [...document.querySelectorAll("#messages .msg.bot a.cmd")].find(a => a.textContent === "/help"); if (a) a.id = "tap-help"; return !!a`)
	w.click("#tap-help")
	last, _ = botSays(last, "/regenerate")
	// The menu lists the commands the bot registered.
	w.click("#menu-button")
	w.waitJS("the command menu", `const m = document.getElementById("menu"); return !m.hidden && [...m.querySelectorAll(".menu-cmd")].some(c => c.textContent === "/newtoken")`)
	w.click("#menu-button")

	say("/newtoken demo")
	last, text := botSays(last, "/hook/")
	hookURL := w.waitJS("the webhook URL in the panel", `const u = document.getElementById("hook-url"); return u.closest("[hidden]") ? "" : u.textContent`)
	if !strings.HasPrefix(hookURL, p.base+"/hook/") || !strings.Contains(text, hookURL) {
		t.Fatalf("the panel shows %q; want the URL of the bot's reply %q", hookURL, text)
	}
	var curl string
	w.js(`return document.getElementById("curl").textContent`, &curl)
	if !strings.Contains(curl, "curl -X POST '"+hookURL+"'") {
		t.Errorf("the panel's curl %q does not post to %s", curl, hookURL)
	}
	// The reply's URL is in <code>, a monospace element, not raw text.
	w.waitJS("the URL in <code>", `return [...document.querySelectorAll("#messages .msg.bot code")].some(c => c.textContent === arguments[0])`, hookURL)

	// A POST from outside the page, as curl would.
	if code, m := post(t, hookURL, story); code != http.StatusAccepted {
		t.Fatalf("POST to the shown URL: %d %v", code, m)
	}
	last, _ = botSays(last, "12345")

	// The sample menu: a GitHub push, sent by the page.
	w.js(`const s = document.getElementById("sample-select"); s.value = "github-push"; s.dispatchEvent(new Event("change"))`, nil)
	w.click("#sample-send")
	w.waitJS("the sample delivered", `return document.getElementById("sample-result").textContent.includes("delivered")`)
	last, _ = botSays(last, "acme/shop")
	if path := os.Getenv("HERALD_SCREENSHOT"); path != "" {
		time.Sleep(300 * time.Millisecond) // let the last bubble settle
		w.screenshot(path)
		t.Logf("screenshot saved to %s", path)
	}
	// The notification's link is a URL button opening in a new tab.
	w.waitJS("a URL button under the notification", `const m = document.querySelector('#messages .msg.bot[data-id="'+arguments[0]+'"]'); const a = m && m.querySelector("a.kb-button"); return !!a && a.target === "_blank" && a.href.startsWith("https://github.com/")`, last)

	// Reply to the notification (SPEC §10): its ↩ shows on hover; the bar
	// above the input quotes its first line; Escape cancels.
	notification := fmt.Sprintf(`#messages .msg.bot[data-id="%d"]`, last)
	w.pointer(notification+" .bubble", "move")
	w.waitJS("the reply button on hover", `return getComputedStyle(document.querySelector(arguments[0] + " .reply-button")).opacity === "1"`, notification)
	w.click(notification + " .reply-button")
	replyBar := `const bar = document.getElementById("reply-bar"), t = document.getElementById("reply-text").textContent;
		const m = document.querySelector(arguments[0] + " .text").textContent.trim();
		return !bar.hidden && document.activeElement.id === "input" && t !== "" && !t.includes("\n") && m.startsWith(t) ? t : ""`
	quote := w.waitJS("the reply bar quoting the notification, the input focused", replyBar, notification)
	w.typeIn("#input", "\uE00C") // Escape
	w.waitJS("Escape cancelling the reply", `return document.getElementById("reply-bar").hidden`)
	// A double click on the bubble replies too, as in Telegram Desktop.
	w.pointer(notification+" .meta", "dblclick")
	w.waitJS("the reply bar after a double click", replyBar, notification)
	say("what changed?")
	answerID, _ := botSays(last, plainText(en.T("ask.no_llm", nil)))
	w.waitJS("the question quoting the notification, the answer quoting the question", `
		const q = [...document.querySelectorAll("#messages .msg.out")].pop();
		const qq = q && q.querySelector(".quote"), a = document.querySelector('#messages .msg.bot[data-id="' + arguments[1] + '"] .quote');
		return !!qq && q.querySelector(".text").textContent === "what changed?" &&
			qq.dataset.replyTo === String(arguments[0]) && qq.querySelector(".quote-text").textContent === arguments[2] &&
			!!a && a.dataset.replyTo === q.dataset.id && a.querySelector(".quote-text").textContent === "what changed?" &&
			document.getElementById("reply-bar").hidden`, last, answerID, quote)
	last = answerID

	// Buttons: /tokens → Delete → Cancel (its answer shows as a toast) → Delete → Yes, delete.
	say("/tokens")
	tokensID, _ := botSays(last, "demo")
	press(tokensID, en.T("button.revoke", nil))
	confirmID, _ := botSays(tokensID, "demo")
	press(confirmID, en.T("button.cancel", nil))
	w.waitJS("the callback answer as a toast", `const t = document.getElementById("toast"); return !t.hidden && t.textContent === arguments[0]`, en.T("revoke.cancelled", nil))
	press(tokensID, en.T("button.revoke", nil))
	confirmID, _ = botSays(confirmID, "demo")
	press(confirmID, en.T("button.confirm_revoke", nil))
	w.waitJS("the panel without a webhook", `return document.getElementById("hook-box").hidden && !document.getElementById("hook-empty").hidden`)
	if code, _ := post(t, hookURL, story); code != http.StatusNotFound {
		t.Errorf("POST after the delete button: %d, want 404", code)
	}

	// The group tab: Alice adds the bot, then Bob writes there.
	w.click("#tab-group")
	w.waitJS("the add button", `return document.getElementById("chat-action-button").textContent.includes("Add")`)
	w.click("#chat-action-button")
	w.waitJS("the service message", `return [...document.querySelectorAll("#messages .service")].some(s => s.textContent.includes("Alice added"))`)
	w.click("#as-bob")
	w.waitJS("Bob's view", `return document.getElementById("as-bob").classList.contains("on") && document.getElementById("chat-sub").textContent.includes("Bob")`)
	say("/help")
	w.waitJS("Bob's message on the right", `return [...document.querySelectorAll("#messages .msg.out")].some(m => m.dataset.from === "bob" && m.textContent.includes("/help"))`)
	botSays(0, "/newtoken")
	// Bob's own private chat is his, and empty.
	w.click("#tab-private")
	w.waitJS("Bob's empty private chat", `return document.querySelectorAll("#messages .msg").length === 0 && document.getElementById("chat-action-button").textContent === "Start"`)

	// A link can open the page as Bob in the group.
	w.call("POST", "/url", map[string]string{"url": p.page + "?as=bob&chat=group"}, nil)
	w.waitJS("the page opened as Bob in the group", `return document.body.dataset.ready === "1" &&
		document.getElementById("as-bob").classList.contains("on") && document.getElementById("chat-title").textContent === "Team" &&
		document.querySelectorAll("#messages .msg.out").length > 0`)

	// A phone-sized screen: nothing wider than the screen, the composer on it.
	w.call("POST", "/window/rect", map[string]int{"width": 390, "height": 844}, nil)
	w.waitJS("the page fitting a phone", `
		const c = document.getElementById("composer").getBoundingClientRect();
		return innerWidth <= 420 && document.documentElement.scrollWidth <= innerWidth && c.bottom <= innerHeight && c.width > 300`)
	w.click("#toggle-side")
	w.waitJS("the webhook panel on a phone", `const s = document.getElementById("side").getBoundingClientRect(); return s.width > 300 && s.height > 200`)
}
