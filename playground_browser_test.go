package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/herald-relay/herald/locales"
)

// This file drives the playground page in a real headless Chromium through
// the Chrome DevTools Protocol, with chromedp: no driver process. Without
// Chromium the test skips, unless HERALD_REQUIRE_BROWSER=1 (as in CI) makes
// it fail. HERALD_SCREENSHOT=path saves a screenshot of the page mid-story
// (how docs/playground.png is made).

// browserPath finds Chromium (or Chrome).
func browserPath() (string, bool) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// browserTimeout bounds one step in the browser and the browser's start: a
// bound, not a measure (a loaded machine may take a while).
const browserTimeout = 60 * time.Second

// wd is a tab of a headless Chromium.
type wd struct {
	t   *testing.T
	ctx context.Context // the tab's chromedp context
	log *syncBuffer     // the browser's output, for failures
}

// startBrowser starts a headless Chromium with one tab, closed with the test.
func startBrowser(t *testing.T) *wd {
	t.Helper()
	browser, ok := browserPath()
	if !ok {
		msg := "no Chromium on PATH (apt-get install chromium): the browser test is skipped"
		if os.Getenv("HERALD_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + ", but HERALD_REQUIRE_BROWSER=1")
		}
		t.Skip(msg)
	}
	log := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 960),
		chromedp.CombinedOutput(log),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser and binds it to its context: that
	// one has no deadline, so the bound is a timer.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v\n%s", browser, err, log.String())
		}
	case <-time.After(browserTimeout):
		cancelTab()
		t.Fatalf("%s did not start within %v\n%s", browser, browserTimeout, log.String())
	}
	return &wd{t: t, ctx: ctx, log: log}
}

// do runs browser steps, failing the test on an error.
func (w *wd) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		w.t.Fatalf("browser: %s: %v\n%s", what, err, w.log.String())
	}
}

// js runs a script in the page, as the body of a function called with args
// (arguments[0], …), and decodes its result into out (if not nil).
func (w *wd) js(script string, out any, args ...any) {
	w.t.Helper()
	if args == nil {
		args = []any{}
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		w.t.Fatalf("browser: script arguments: %v", err)
	}
	ctx, cancel := context.WithTimeout(w.ctx, browserTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte]("(function() {"+script+"\n}).apply(null, "+string(argsJSON)+")"))
	if err != nil {
		w.t.Fatalf("browser: script %s: %v", script, err)
	}
	if out == nil || len(res) == 0 { // undefined: out stays as it is, as for null
		return
	}
	if err := json.Unmarshal(res, out); err != nil {
		w.t.Fatalf("browser: script %s: decode %s: %v", script, res, err)
	}
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

// click clicks the element css with the mouse, at its centre (scrolled
// into view).
func (w *wd) click(css string) {
	w.t.Helper()
	w.do("click "+css, chromedp.Click(chromedp.CSS(css)))
}

// typeIn types text into an element as keystrokes; kb.Enter and
// kb.Escape are those keys.
func (w *wd) typeIn(css, text string) {
	w.t.Helper()
	w.do("type in "+css, chromedp.SendKeys(chromedp.CSS(css), text))
}

// pointer acts on the element css at its centre (scrolled into view):
// "move" hovers it with the mouse, "dblclick" double-clicks it, "tap" taps
// it with a finger (touch events).
func (w *wd) pointer(css, what string) {
	w.t.Helper()
	switch what {
	case "move":
		var r struct{ X, Y float64 }
		w.js(`const e = document.querySelector(arguments[0]); e.scrollIntoView({block: "center"});
			const r = e.getBoundingClientRect(); return {X: r.x + r.width/2, Y: r.y + r.height/2}`, &r, css)
		w.do("hover "+css, chromedp.MouseEvent(chromedp.MouseMoved, r.X, r.Y))
	case "dblclick":
		w.do("double-click "+css, chromedp.DoubleClick(chromedp.CSS(css)))
	case "tap":
		w.do("tap "+css, chromedp.Tap(chromedp.CSS(css)))
	default:
		w.t.Fatalf("pointer: unknown action %q", what)
	}
}

// navigate loads url in the tab.
func (w *wd) navigate(url string) {
	w.t.Helper()
	w.do("open "+url, chromedp.Navigate(url))
}

// resize sets the size of the browser's window, as a person would.
func (w *wd) resize(width, height int64) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, browserTimeout)
	defer cancel()
	win, err := chromedp.Call(ctx, cdpbrowser.GetWindowForTarget, cdpbrowser.GetWindowForTargetParams{})
	if err == nil {
		_, err = chromedp.Call(ctx, cdpbrowser.SetWindowBounds, cdpbrowser.SetWindowBoundsParams{
			WindowID: win.WindowID, Bounds: &cdpbrowser.Bounds{Width: width, Height: height}})
	}
	if err != nil {
		w.t.Fatalf("browser: resize the window to %dx%d: %v", width, height, err)
	}
}

func (w *wd) screenshot(path string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		w.t.Fatalf("browser: screenshot: %v", err)
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

// botSays waits for the newest bot message after message id after that
// contains want, and returns its id and text.
func (w *wd) botSays(after int, want string) (int, string) {
	w.t.Helper()
	got := w.waitJS(fmt.Sprintf("a bot message containing %q", want), jsLastBot, after, want)
	id, text, _ := strings.Cut(got, "\t")
	var n int
	fmt.Sscan(id, &n)
	return n, text
}

// press clicks the button labelled label under bot message msgID.
func (w *wd) press(msgID int, label string) {
	w.t.Helper()
	w.js(`const b = document.getElementById("press-me"); if (b) b.removeAttribute("id");`, nil)
	sel := w.waitJS(fmt.Sprintf("button %q under message %d", label, msgID), jsButton, msgID, label)
	w.click(sel)
}

// say types text in the composer and sends it.
func (w *wd) say(text string) {
	w.t.Helper()
	w.typeIn("#input", text+kb.Enter)
}

// open loads the page at url and waits for its first state.
func (w *wd) open(url string) {
	w.t.Helper()
	w.navigate(url)
	w.waitJS("the page loading its state", `return document.body.dataset.ready === "1"`)
}

// setLang picks the person's Telegram language in the page's menu.
func (w *wd) setLang(lang string) {
	w.t.Helper()
	w.js(`localStorage.setItem("herald-playground-lang", arguments[0]);
		const s = document.getElementById("lang"); s.value = arguments[0]; s.dispatchEvent(new Event("change"))`, nil, lang)
}

// texts returns the page's texts as api/texts serves them: language → id →
// text, variables as {Name}.
func (p *pg) texts(t *testing.T) map[string]map[string]string {
	t.Helper()
	resp, err := http.Get(p.base + "/playground/api/texts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Texts map[string]map[string]string `json:"texts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Texts["en"]) == 0 || len(out.Texts["ru"]) == 0 {
		t.Fatalf("api/texts: %v", out.Texts)
	}
	return out.Texts
}

// shown is a page text as the page shows it: `code` marks dropped, vars
// ("Name", "Alice", …) filled in.
func shown(text string, vars ...string) string {
	text = strings.ReplaceAll(text, "`", "")
	for i := 0; i+1 < len(vars); i += 2 {
		text = strings.ReplaceAll(text, "{"+vars[i]+"}", vars[i+1])
	}
	return text
}

// jsUntranslated lists the page's fixed texts (data-i18n, data-i18n-attrs)
// that differ from arguments[0] (id → text as shown), and the document's
// language if it is not arguments[1]; "" when all is in that language.
const jsUntranslated = `
const want = arguments[0], lang = arguments[1], bad = [];
if (document.documentElement.lang !== lang) bad.push("<html lang=" + document.documentElement.lang + ">");
for (const e of document.querySelectorAll("[data-i18n]")) {
  const w = want[e.dataset.i18n];
  if (e.textContent !== w) bad.push(e.dataset.i18n + ": " + JSON.stringify(e.textContent) + ", want " + JSON.stringify(w));
}
for (const e of document.querySelectorAll("[data-i18n-attrs]")) {
  for (const pair of e.dataset.i18nAttrs.split(/\s+/)) {
    const [attr, id] = pair.split("=");
    if (e.getAttribute(attr) !== want[id]) bad.push(attr + " " + id + ": " + JSON.stringify(e.getAttribute(attr)));
  }
}
return bad.join("\n");`

// waitPageIn waits for every fixed text of the page to be in lang.
func (w *wd) waitPageIn(texts map[string]map[string]string, lang string) {
	w.t.Helper()
	want := map[string]string{}
	for id, s := range texts[lang] {
		want[id] = shown(s)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var bad string
		w.js(jsUntranslated, &bad, want, lang)
		if bad == "" {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("browser: the page is not in %s after 20s:\n%s", lang, bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// jsStubClipboard makes the Clipboard API keep what is copied in
// window.copied (headless Chromium may refuse the real one).
const jsStubClipboard = `Object.defineProperty(navigator, "clipboard", {configurable: true, value: {
	writeText: (s) => { window.copied = s; return Promise.resolve(); }}}); window.copied = "";`

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
	botSays, press, say := w.botSays, w.press, w.say

	w.open(p.page)
	w.setLang("en")
	texts := p.texts(t)
	// A plain wallpaper: no circles that pass for rendering artifacts.
	var wallpaper string
	w.js(`return getComputedStyle(document.getElementById("messages")).backgroundImage`, &wallpaper)
	if strings.Contains(wallpaper, "radial-gradient") || strings.Contains(wallpaper, "circle") {
		t.Errorf("the chat's wallpaper is %s: want no circles", wallpaper)
	}

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
	// The panel's curl: the body cut short to read, the whole command behind
	// a toggle, and Copy copies a command that works.
	var short string
	w.js(`return document.getElementById("curl").textContent`, &short)
	if !strings.Contains(short, "…") || strings.Count(short, "\n") > 6 || len(short) > 600 {
		t.Errorf("the short curl is %d bytes, %d lines:\n%s\nwant the body cut with an ellipsis", len(short), strings.Count(short, "\n")+1, short)
	}
	w.waitJS("the note that the body is shortened", `return !document.getElementById("curl-note").hidden`)
	w.js(jsStubClipboard, nil)
	w.click("#copy-curl")
	copied := w.waitJS("Copy curl copying", `return window.copied`)
	w.waitJS("the toast saying it is copied", `const t = document.getElementById("toast"); return !t.hidden && t.textContent === arguments[0]`, texts["en"]["playground.side.copied_curl"])
	if strings.Contains(copied, "…") || !strings.HasPrefix(copied, "curl -X POST '"+hookURL+"'") || !strings.Contains(copied, `"acme/shop"`) {
		t.Errorf("Copy curl copied\n%s\nwant the whole command", copied)
	}
	w.click("#curl-toggle")
	w.waitJS("the full command shown", `return document.getElementById("curl").textContent === arguments[0] &&
		document.getElementById("curl-toggle").textContent === arguments[1] && document.getElementById("curl-note").hidden`,
		copied, texts["en"]["playground.side.curl_short"])
	if _, err := exec.LookPath("curl"); err != nil {
		t.Log("no curl on PATH: the copied command is not run")
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, "sh", "-c", copied)
		cmd.Stderr = &stderr // curl's progress meter
		out, err := cmd.Output()
		cancel()
		var accepted struct {
			ID string `json:"id"`
		}
		if err != nil || json.Unmarshal(out, &accepted) != nil || accepted.ID == "" {
			t.Fatalf("the copied command\n%s\n: %v\n%s%s", copied, err, out, stderr.Bytes())
		}
		// The same X-GitHub-Delivery as the page's sample: Herald answers
		// with that event, delivered.
		waitDelivered(t, hookURL, accepted.ID)
	}
	w.click("#curl-toggle")
	w.waitJS("the short command again", `return document.getElementById("curl").textContent.includes("…")`)

	// The notification's link is a URL button opening in a new tab.
	w.waitJS("a URL button under the notification", `const m = document.querySelector('#messages .msg.bot[data-id="'+arguments[0]+'"]'); const a = m && m.querySelector("a.kb-button"); return !!a && a.target === "_blank" && a.href.startsWith("https://github.com/")`, last)

	// Reply to the notification (SPEC §10): its ↩ shows on hover; the bar
	// above the input quotes its first line; Escape cancels.
	notification := fmt.Sprintf(`#messages .msg.bot[data-id="%d"]`, last)
	w.pointer("#input", "move")
	const jsReplyShown = `const b = document.querySelector(arguments[0] + " .reply-button"), s = b && getComputedStyle(b);
		return !!s && s.opacity === "1" && s.pointerEvents !== "none"`
	const jsReplyHidden = `const b = document.querySelector(arguments[0] + " .reply-button"), s = b && getComputedStyle(b);
		return !!s && s.opacity === "0" && s.pointerEvents === "none"`
	w.waitJS("the reply button hidden while the pointer is elsewhere", jsReplyHidden, notification)
	w.waitJS("no reply button on one's own messages", `const out = document.querySelectorAll("#messages .msg.out");
		return out.length > 0 && document.querySelectorAll("#messages .msg.out .reply-button").length === 0 &&
			document.querySelectorAll("#messages .msg.in").length === document.querySelectorAll("#messages .msg.in .reply-button").length`)
	w.pointer(notification+" .bubble", "move")
	w.waitJS("the reply button on hover", `return getComputedStyle(document.querySelector(arguments[0] + " .reply-button")).opacity === "1"`, notification)
	w.click(notification + " .reply-button")
	replyBar := `const bar = document.getElementById("reply-bar"), t = document.getElementById("reply-text").textContent;
		const m = document.querySelector(arguments[0] + " .text").textContent.trim();
		return !bar.hidden && document.activeElement.id === "input" && t !== "" && !t.includes("\n") && m.startsWith(t) ? t : ""`
	quote := w.waitJS("the reply bar quoting the notification, the input focused", replyBar, notification)
	w.typeIn("#input", kb.Escape)
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
	// On a touch screen, a tap on a message shows its ↩ (there is no hover).
	w.pointer("#input", "move")
	w.waitJS("the reply button hidden again", jsReplyHidden, notification)
	w.pointer(notification+" .text", "tap")
	w.waitJS("the reply button after a tap", `return document.querySelector(arguments[0]).classList.contains("tapped")`, notification)
	w.waitJS("the tapped message's reply button shown", jsReplyShown, notification)

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
	// The next webhook's panel says nothing of the deleted one's events.
	say("/newtoken demo2")
	last, _ = botSays(last, "demo2")
	w.waitJS("the new webhook in the panel", `return !document.getElementById("hook-box").hidden &&
		document.getElementById("hook-name").textContent.includes("demo2")`)
	var status string
	w.js(`return document.getElementById("sample-result").textContent`, &status)
	if status != "" {
		t.Errorf("the new webhook's panel shows %q, the status of the deleted one's event", status)
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
	w.navigate(p.page + "?as=bob&chat=group")
	w.waitJS("the page opened as Bob in the group", `return document.body.dataset.ready === "1" &&
		document.getElementById("as-bob").classList.contains("on") && document.getElementById("chat-title").textContent === "Team" &&
		document.querySelectorAll("#messages .msg.out").length > 0`)

	// A phone-sized screen: nothing wider than the screen, the composer on it.
	w.resize(390, 844)
	w.waitJS("the page fitting a phone", `
		const c = document.getElementById("composer").getBoundingClientRect();
		return innerWidth <= 420 && document.documentElement.scrollWidth <= innerWidth && c.bottom <= innerHeight && c.width > 300`)
	// The command menu shows descriptions whole, wrapped on a narrow screen.
	w.click("#menu-button")
	w.waitJS("the command menu with whole descriptions", `
		const ds = [...document.querySelectorAll("#menu .menu-desc")];
		const line = (d) => parseFloat(getComputedStyle(d).lineHeight) || 20;
		const fwd = ds.find((d) => d.previousSibling.textContent === "/forward");
		return !document.getElementById("menu").hidden && ds.length > 5 &&
			ds.every((d) => d.scrollWidth <= d.clientWidth + 1) &&
			ds.some((d) => d.getBoundingClientRect().height > 1.5 * line(d)) &&
			!!fwd && fwd.textContent === arguments[0]`, en.T("menu.forward", nil))
	w.click("#menu-button")
	w.click("#toggle-side")
	w.waitJS("the webhook panel on a phone", `const s = document.getElementById("side").getBoundingClientRect(); return s.width > 300 && s.height > 200`)
}

// TestPlaygroundBrowser_Language: the page speaks the chat's language, the
// one the bot speaks there (SPEC §7): the person's Telegram language, or
// the chat's /language choice, and it switches when that changes.
func TestPlaygroundBrowser_Language(t *testing.T) {
	w := startBrowser(t)
	p := startPlayground(t, nil)
	loc, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	en, ru := loc.For("en"), loc.For("ru")
	w.open(p.page)
	texts := p.texts(t)
	if got, want := texts["ru"]["playground.side.title"], ru.T("playground.side.title", nil); got != want {
		t.Fatalf("api/texts has %q, the locale %q", got, want)
	}

	// A Russian Telegram: the whole page in Russian, the texts the page
	// builds too.
	w.setLang("ru")
	w.waitPageIn(texts, "ru")
	w.waitJS("the Start button in Russian", `return document.getElementById("chat-action-button").textContent === arguments[0]`,
		ru.T("playground.chat.start", nil))
	w.waitJS("the sample menu in Russian", `const o = document.querySelector('#sample-select option[value="stripe-payment"]'); return !!o && o.textContent === arguments[0]`,
		ru.T("playground.sample.stripe_payment", nil))
	w.click("#chat-action-button")
	last, _ := w.botSays(0, "Herald")
	w.waitJS("the chat's header in Russian", `return document.getElementById("chat-sub").textContent === arguments[0]`,
		shown(texts["ru"]["playground.chat.private_sub"], "Username", "herald_bot", "Name", "Alice"))
	var body string
	w.js(`return document.body.innerText`, &body)
	for _, english := range []string{"Your webhook", "Type it for me", "private chat", "chatting as", "You are"} {
		if strings.Contains(body, english) {
			t.Errorf("the Russian page still says %q", english)
		}
	}

	// English again, then /language ru in the private chat: the page turns
	// Russian though Alice's Telegram stays English.
	w.setLang("en")
	w.waitPageIn(texts, "en")
	w.say("/language")
	pick, _ := w.botSays(last, plainText(en.T("language.pick", nil)))
	w.press(pick, ru.T("language.name", nil))
	last, _ = w.botSays(pick, plainText(ru.T("language.done", nil)))
	w.waitPageIn(texts, "ru")
	var menuLang string
	w.js(`return document.getElementById("lang").value`, &menuLang)
	if menuLang != "en" {
		t.Errorf("the language menu says %q, want en: /language is the chat's, not the person's", menuLang)
	}
	// The group made no choice: it follows Alice's English.
	w.click("#tab-group")
	w.waitPageIn(texts, "en")
	w.click("#tab-private")
	w.waitPageIn(texts, "ru")
	w.say("/language en")
	w.botSays(last, plainText(en.T("language.done", nil)))
	w.waitPageIn(texts, "en")
}

// TestPlaygroundBrowser_ServerDown: when the server is stopped the page
// says so in plain words (not "Failed to fetch") and retries quietly; when
// it answers again the page says so, and that the data is gone if the
// process is a new one.
func TestPlaygroundBrowser_ServerDown(t *testing.T) {
	w := startBrowser(t)
	p := startPlayground(t, nil)
	w.open(p.page)
	w.setLang("en")
	texts := p.texts(t)["en"]
	banner := func(what, kind, text string) {
		t.Helper()
		w.waitJS(what, `const b = document.getElementById("banner");
			return !b.hidden && b.dataset.kind === arguments[0] && document.getElementById("banner-text").textContent === arguments[1]`, kind, text)
	}
	noFailedToFetch := func() {
		t.Helper()
		var body string
		w.js(`return document.body.innerText + document.getElementById("toast").textContent`, &body)
		if strings.Contains(body, "Failed to fetch") || strings.Contains(body, "NetworkError") {
			t.Errorf("the page shows the browser's error:\n%s", body)
		}
	}
	w.click("#chat-action-button")
	last, _ := w.botSays(0, "Herald")
	w.say("/newtoken demo")
	w.botSays(last, "/hook/")
	w.waitJS("the webhook in the panel", `return !document.getElementById("hook-box").hidden`)

	// A blip: the network fails for a while (the browser's fetch refuses),
	// the same process answers again.
	w.js(`window.realFetch = window.fetch; window.fetch = () => Promise.reject(new TypeError("Failed to fetch"));`, nil)
	p.call(t, "send", map[string]string{"as": "bob", "chat": "group", "text": "hello"}) // ends the pending long poll
	banner("the unreachable banner", "offline", shown(texts["playground.server.unreachable"]))
	noFailedToFetch()
	w.js(`window.fetch = window.realFetch`, nil)
	banner("the back banner", "back", shown(texts["playground.server.back"]))

	// The server stops: the page says it is unreachable, and a message
	// that cannot be sent says why (and stays in the composer).
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	banner("the unreachable banner after the stop", "offline", shown(texts["playground.server.unreachable"]))
	w.say("hello?")
	w.waitJS("the toast saying it is unreachable", `const t = document.getElementById("toast"); return !t.hidden && t.textContent === arguments[0]`,
		texts["playground.server.not_done"])
	w.waitJS("the text back in the composer", `return document.getElementById("input").value === "hello?"`)
	w.click("#sample-send")
	w.waitJS("the sample's status saying it is unreachable", `return document.getElementById("sample-result").textContent === arguments[0]`,
		texts["playground.server.not_done"])
	noFailedToFetch()
	w.js(`document.getElementById("input").value = ""`, nil)

	// Started again (a new process, a temporary database): the page picks
	// up by itself and says the data is gone, and how to keep it.
	file := filepath.Join(t.TempDir(), "kept.db")
	p2 := startPlayground(t, map[string]string{"LISTEN_ADDR": p.addr}, "-db", file)
	banner("the restart banner", "restarted", shown(texts["playground.server.restarted_temporary"]))
	w.waitJS("the command to keep the data, as code", `return [...document.querySelectorAll("#banner-text code")].some((c) => c.textContent === "herald playground -db FILE")`)
	w.waitJS("an empty chat and panel", `return document.getElementById("chat-action-button").textContent === "Start" &&
		document.querySelectorAll("#messages .msg").length === 0 && !document.getElementById("hook-empty").hidden &&
		document.getElementById("sample-result").textContent === ""`)
	noFailedToFetch()

	// With -db FILE, a restart keeps the webhooks: the page says the chats
	// start empty, and the URL still works.
	w.click("#chat-action-button")
	last, _ = w.botSays(0, "Herald")
	w.say("/newtoken kept")
	w.botSays(last, "/hook/")
	hookURL := w.waitJS("the webhook in the panel", `const u = document.getElementById("hook-url"); return u.closest("[hidden]") ? "" : u.textContent`)
	if code := p2.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	banner("the unreachable banner after the second stop", "offline", shown(texts["playground.server.unreachable"]))
	startPlayground(t, map[string]string{"LISTEN_ADDR": p.addr}, "-db", file)
	banner("the restart banner, data kept", "restarted", shown(texts["playground.server.restarted_kept"]))
	if code, m := post(t, hookURL, story); code != http.StatusAccepted {
		t.Errorf("POST to the kept webhook after the restart: %d %v", code, m)
	}
}
