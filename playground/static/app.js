// Herald playground: a Telegram-like chat with the bot, over the JSON API
// of the playground package. Everything shown is built with DOM calls and
// text nodes from the message entities the emulator parsed; nothing from a
// message or a payload is ever parsed as HTML.
"use strict";

(function () {
  const api = "/playground/api/";
  const $ = (id) => document.getElementById(id);

  const ui = {
    as: "alice",
    chat: "private",
    lang: pickLang(),
    version: "",
    state: null,
    samples: [],
    rendered: new Map(), // message id -> {sig, el}, for the chat on screen
    renderedChat: "",
    seen: {}, // "as/chat" -> newest message id looked at
    poll: null, // AbortController of the pending long poll
    replyTo: null, // {key: "as/chat", id} of the message being replied to
  };

  function pickLang() {
    const saved = localStorage.getItem("herald-playground-lang");
    if (saved === "en" || saved === "ru") return saved;
    return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
  }

  // el makes an element with attributes and children (strings become text
  // nodes, never markup).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "dataset") Object.assign(e.dataset, v);
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  async function post(path, body) {
    const r = await fetch(api + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error || r.status + " " + r.statusText);
    return data;
  }

  // ---- links ----------------------------------------------------------

  // safeURL returns href if it is an http(s) URL, else null.
  function safeURL(href) {
    try {
      const u = new URL(href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (_) {
      return null;
    }
  }

  // deepLinkStart returns the start parameter of a t.me link to the bot
  // (https://t.me/<bot>?start=<code>), which the page follows itself: it
  // opens the private chat and sends /start <code>, as Telegram does.
  function deepLinkStart(href) {
    if (!ui.state) return null;
    try {
      const u = new URL(href);
      const bot = ui.state.bot.username.toLowerCase();
      if ((u.protocol === "https:" || u.protocol === "http:") && u.hostname === "t.me" &&
          u.pathname.replace(/^\//, "").toLowerCase() === bot) {
        const code = u.searchParams.get("start");
        if (code !== null && /^[A-Za-z0-9_-]{0,64}$/.test(code)) return code;
      }
    } catch (_) { /* not a URL */ }
    return null;
  }

  function link(href, ...children) {
    const start = deepLinkStart(href);
    if (start !== null) {
      return el("a", {
        href: href, class: "deeplink",
        onclick: (ev) => { ev.preventDefault(); openChat("private"); send(start ? "/start " + start : "/start"); },
      }, ...children);
    }
    const url = safeURL(href);
    if (!url) return el("span", {}, ...children);
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, ...children);
  }

  // ---- message text from entities ---------------------------------------

  // renderText builds the text of a message from its entities. Offsets and
  // lengths are in UTF-16 code units, as JavaScript strings index.
  function renderText(text, entities) {
    const ents = (entities || [])
      .filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length)
      .slice()
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const frag = document.createDocumentFragment();
    build(frag, text, 0, text.length, ents, false);
    return frag;
  }

  // noAutoIn are the entities inside which a client detects no links or
  // commands.
  const noAutoIn = new Set(["code", "pre", "text_link", "url", "bot_command", "email", "mention", "text_mention"]);

  function build(parent, text, start, end, ents, noAuto) {
    let pos = start;
    let i = 0;
    let afterBlock = false;
    // A block (pre, blockquote) ends its line itself: the line break that
    // follows it in the text would show as an empty line.
    const plain = (s) => {
      if (afterBlock && s.startsWith("\n")) s = s.slice(1);
      if (s && noAuto) parent.append(s);
      else if (s) autoLink(parent, s);
      afterBlock = false;
    };
    while (i < ents.length) {
      const e = ents[i];
      const eStart = Math.max(e.offset, pos);
      const eEnd = Math.min(e.offset + e.length, end);
      let j = i + 1;
      const inner = [];
      while (j < ents.length && ents[j].offset < e.offset + e.length) inner.push(ents[j++]);
      i = j;
      if (eEnd <= eStart) continue;
      if (eStart > pos) plain(text.slice(pos, eStart));
      const { outer, holder } = entityElement(e, text.slice(eStart, eEnd));
      build(holder, text, eStart, eEnd, inner, noAuto || noAutoIn.has(e.type));
      parent.append(outer);
      afterBlock = outer.tagName === "PRE" || outer.tagName === "BLOCKQUOTE";
      pos = eEnd;
    }
    if (pos < end) plain(text.slice(pos, end));
  }

  // autoRE finds what Telegram clients make tappable in plain text: links
  // and /commands.
  const autoRE = /(https?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]])|(^|[\s(])(\/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z0-9_]{3,32})?)(?=$|[\s.,;:!?)])/g;

  function autoLink(parent, s) {
    let last = 0;
    for (const m of s.matchAll(autoRE)) {
      let at = m.index;
      let token, node;
      if (m[1]) {
        token = m[1];
        node = link(token, token);
      } else {
        at += m[2].length;
        token = m[3];
        node = commandLink(token);
        node.append(token);
      }
      if (at > last) parent.append(s.slice(last, at));
      parent.append(node);
      last = at + token.length;
    }
    if (last < s.length) parent.append(s.slice(last));
  }

  // commandLink sends the command when tapped, as in Telegram.
  function commandLink(command) {
    return el("a", {
      href: "#", class: "cmd",
      onclick: (ev) => { ev.preventDefault(); send(command.replace(/@.*$/, "")); },
    });
  }

  function entityElement(e, content) {
    const simple = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code" };
    if (simple[e.type]) {
      const x = el(simple[e.type]);
      return { outer: x, holder: x };
    }
    switch (e.type) {
      case "pre": {
        const code = el("code", e.language ? { "data-language": e.language } : {});
        return { outer: el("pre", {}, code), holder: code };
      }
      case "blockquote":
      case "expandable_blockquote": {
        const q = el("blockquote", { class: e.type === "expandable_blockquote" ? "expandable" : "" });
        return { outer: q, holder: q };
      }
      case "spoiler": {
        const s = el("span", { class: "spoiler", title: "Show", onclick: () => s.classList.add("shown") });
        return { outer: s, holder: s };
      }
      case "text_link": {
        const a = link(e.url);
        return { outer: a, holder: a };
      }
      case "url": {
        const a = link(/^[a-z][a-z0-9+.-]*:/i.test(content) ? content : "http://" + content);
        return { outer: a, holder: a };
      }
      case "bot_command": {
        const a = commandLink(content);
        return { outer: a, holder: a };
      }
      default: {
        const s = el("span", { class: "ent-" + e.type.replace(/[^a-z_]/g, "") });
        return { outer: s, holder: s };
      }
    }
  }

  // ---- messages ----------------------------------------------------------

  function timeOf(unix) {
    const d = new Date(unix * 1000);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  // firstLine is what a reply shows of a message: its first non-empty line.
  function firstLine(text) {
    const line = text.split("\n").find((l) => l.trim() !== "") || "";
    return line.trim();
  }

  // quoted is the message m replies to, if the chat still has it.
  function quoted(m, chat) {
    return m.reply_to ? chat.messages.find((q) => q.id === m.reply_to) || null : null;
  }

  // quoteElement is the quoted snippet at the top of a reply, as Telegram
  // shows it; a click shows the message it replies to.
  function quoteElement(m, chat) {
    const q = quoted(m, chat);
    return el("div", {
      class: "quote" + (q ? " quote-" + q.from_key : ""), dataset: { replyTo: m.reply_to },
      title: q ? "Show the message" : null,
      onclick: () => { if (q) showMessage(q.id); },
    }, el("div", { class: "quote-from" }, q ? q.from : "Deleted message"), q ? el("div", { class: "quote-text" }, firstLine(q.text)) : null);
  }

  // showMessage scrolls message id into view and flashes it.
  function showMessage(id) {
    const r = ui.rendered.get(id);
    if (!r) return;
    r.el.scrollIntoView({ block: "center", behavior: "smooth" });
    r.el.classList.remove("flash");
    void r.el.offsetWidth; // restart the animation
    r.el.classList.add("flash");
  }

  function messageElement(m, chat) {
    if (m.service === "bot_added") {
      return el("div", { class: "service", dataset: { id: m.id } },
        el("span", {}, m.from + " added " + ui.state.bot.name + " to the group"));
    }
    const mine = m.from_key === ui.as;
    const cls = ["msg", mine ? "out" : "in", m.from_key === "bot" ? "bot" : "person"];
    // A double click replies, as in Telegram Desktop.
    const bubble = el("div", { class: "bubble", ondblclick: (ev) => {
      if (ev.target.closest("a, button, .spoiler")) return;
      const sel = window.getSelection();
      if (sel) sel.removeAllRanges();
      startReply(m);
    } });
    if (chat.type !== "private" && !mine) {
      bubble.append(el("div", { class: "sender sender-" + m.from_key }, m.from));
    }
    if (m.reply_to) bubble.append(quoteElement(m, chat));
    const body = el("div", { class: "text" });
    body.append(renderText(m.text, m.entities));
    bubble.append(body);
    bubble.append(el("span", { class: "meta" }, (m.edited ? "edited " : "") + timeOf(m.date)));
    const wrap = el("div", { class: cls.join(" "), dataset: { id: m.id, from: m.from_key } },
      el("div", { class: "msg-line" }, bubble,
        el("button", {
          type: "button", class: "reply-button", title: "Reply", "aria-label": "Reply to " + m.from + ": " + firstLine(m.text).slice(0, 60),
          onclick: () => startReply(m),
        }, "↩")));
    if (m.buttons && m.buttons.length) {
      const kb = el("div", { class: "keyboard" });
      m.buttons.forEach((row, r) => {
        const rowEl = el("div", { class: "kb-row" });
        row.forEach((b, c) => rowEl.append(buttonElement(m, chat, b, r, c)));
        kb.append(rowEl);
      });
      wrap.append(kb);
    }
    return wrap;
  }

  function buttonElement(m, chat, b, row, col) {
    if (b.kind === "url") {
      const a = link(b.url, b.text);
      a.classList.add("kb-button", "kb-url");
      return a;
    }
    if (b.kind !== "callback_data") {
      return el("button", { type: "button", class: "kb-button", disabled: true, title: "Not available in the playground" }, b.text);
    }
    const btn = el("button", { type: "button", class: "kb-button", dataset: { row: row, col: col } }, b.text);
    btn.addEventListener("click", async () => {
      if (btn.classList.contains("busy")) return;
      btn.classList.add("busy");
      try {
        const a = await post("press", { as: ui.as, chat: chat.key, message_id: m.id, row: row, col: col, lang: ui.lang });
        if (!a.answered) toast("The bot did not answer this button.");
        else if (a.show_alert && a.text) modal(a.text);
        else if (a.text) toast(a.text);
        if (a.url && deepLinkStart(a.url) !== null) link(a.url).click();
      } catch (err) {
        toast(err.message);
      } finally {
        btn.classList.remove("busy");
      }
    });
    return btn;
  }

  function currentChat() {
    return ui.state && ui.state.chats.find((c) => c.key === ui.chat);
  }

  function renderMessages() {
    const chat = currentChat();
    const box = $("messages");
    const key = ui.as + "/" + ui.chat;
    if (ui.renderedChat !== key) {
      box.replaceChildren();
      ui.rendered = new Map();
      ui.renderedChat = key;
    }
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const keep = new Set();
    let prev = null;
    for (const m of chat.messages) {
      const q = quoted(m, chat);
      const sig = JSON.stringify([m, ui.as, ui.state.bot.username, q && [q.from, q.from_key, q.text]]);
      keep.add(m.id);
      let r = ui.rendered.get(m.id);
      if (!r || r.sig !== sig) {
        const fresh = messageElement(m, chat);
        if (r) r.el.replaceWith(fresh);
        r = { sig: sig, el: fresh };
        ui.rendered.set(m.id, r);
      }
      // Keep chat order.
      const want = prev ? prev.nextSibling : box.firstChild;
      if (want !== r.el) box.insertBefore(r.el, want);
      prev = r.el;
    }
    for (const [id, r] of ui.rendered) {
      if (!keep.has(id)) {
        r.el.remove();
        ui.rendered.delete(id);
      }
    }
    if (chat.messages.length === 0) {
      if (!box.querySelector(".empty")) {
        box.append(el("div", { class: "empty" },
          chat.type === "private"
            ? el("p", {}, "This is " + who().name + "'s private chat with the bot. Press Start, or type /start. " +
                "Later, reply to a notification (↩ beside it) to ask about it.")
            : el("p", {}, "The Team group. Add the bot, then try /newtoken team as Alice and as Bob. " +
                "Here a reply to a notification is a question for the bot when it has a “?”.")));
      }
    } else {
      const e = box.querySelector(".empty");
      if (e) e.remove();
    }
    if (nearBottom || ui.justOpened) box.scrollTop = box.scrollHeight;
    ui.justOpened = false;
    const last = chat.messages.length ? chat.messages[chat.messages.length - 1].id : 0;
    ui.seen[key] = last;
  }

  function who() {
    return ui.state.people.find((p) => p.key === ui.as);
  }

  function renderChrome() {
    const st = ui.state;
    const chat = currentChat();
    for (const c of st.chats) {
      const tab = $("tab-" + c.key);
      const last = c.messages.length ? c.messages[c.messages.length - 1].id : 0;
      const seenKey = ui.as + "/" + c.key;
      const badge = tab.querySelector(".badge");
      if (ui.seen[seenKey] === undefined) ui.seen[seenKey] = last;
      const unread = c.key !== ui.chat ? c.messages.filter((m) => m.id > ui.seen[seenKey] && m.from_key !== ui.as).length : 0;
      badge.hidden = unread === 0;
      badge.textContent = unread ? String(unread) : "";
    }
    $("tab-private").querySelector(".tab-name").textContent = st.bot.name;
    if (chat.type === "private") {
      $("chat-avatar").textContent = st.bot.name.slice(0, 1);
      $("chat-avatar").className = "avatar";
      $("chat-title").textContent = st.bot.name;
      $("chat-sub").textContent = "bot · @" + st.bot.username + " · chatting as " + who().name;
    } else {
      $("chat-avatar").textContent = chat.title.slice(0, 1);
      $("chat-avatar").className = "avatar group";
      $("chat-title").textContent = chat.title;
      const names = chat.members.map((p) => p.name + (p.role === "administrator" ? " (admin)" : ""));
      if (chat.bot_member) names.push(st.bot.name + " (bot)");
      $("chat-sub").textContent = names.length + " members: " + names.join(", ");
    }
    // What stands above the composer: Start in an empty private chat, Add
    // to group while the bot is not in the group.
    const action = $("chat-action");
    if (chat.type !== "private" && !chat.bot_member) {
      action.hidden = false;
      $("chat-action-text").textContent = st.bot.name + " is not in this group yet.";
      $("chat-action-button").textContent = "Add " + st.bot.name + " to " + chat.title + " as " + who().name;
      $("chat-action-button").onclick = addBot;
    } else if (chat.type === "private" && chat.messages.length === 0) {
      action.hidden = false;
      $("chat-action-text").textContent = "";
      $("chat-action-button").textContent = "Start";
      $("chat-action-button").onclick = () => send("/start");
    } else {
      action.hidden = true;
    }
    renderMenu();
    renderHook();
    renderReply();
  }

  // ---- replying ----------------------------------------------------------

  // startReply makes the next message from the composer a reply to m.
  function startReply(m) {
    ui.replyTo = { key: ui.as + "/" + ui.chat, id: m.id };
    renderReply();
    $("input").focus();
  }

  function cancelReply() {
    if (!ui.replyTo) return;
    ui.replyTo = null;
    renderReply();
  }

  // replyTarget is the message being replied to in the chat on screen, if
  // it is still there.
  function replyTarget() {
    const chat = currentChat();
    const r = ui.replyTo;
    if (!chat || !r || r.key !== ui.as + "/" + ui.chat) return null;
    return chat.messages.find((m) => m.id === r.id && !m.service) || null;
  }

  // renderReply shows the "Replying to" bar above the composer.
  function renderReply() {
    const m = replyTarget();
    if (!m) ui.replyTo = null;
    $("reply-bar").hidden = !m;
    $("messages").querySelectorAll(".msg.replying").forEach((e) => e.classList.remove("replying"));
    if (!m) return;
    $("reply-from").textContent = m.from;
    $("reply-text").textContent = firstLine(m.text);
    const r = ui.rendered.get(m.id);
    if (r) r.el.classList.add("replying");
  }

  function renderMenu() {
    const menu = $("menu");
    const items = (ui.state.commands || []).map((c) =>
      el("button", {
        type: "button", class: "menu-item",
        onclick: () => { toggleMenu(false); send("/" + c.command); },
      }, el("span", { class: "menu-cmd" }, "/" + c.command), el("span", { class: "menu-desc" }, c.description)));
    menu.replaceChildren(...items);
    $("menu-button").hidden = items.length === 0;
  }

  function toggleMenu(show) {
    const menu = $("menu");
    const open = show === undefined ? menu.hidden : show;
    menu.hidden = !open;
    $("menu-button").setAttribute("aria-expanded", String(open));
  }

  // ---- the webhook panel -------------------------------------------------

  function shellQuote(s) {
    return "'" + s.replace(/'/g, "'\\''") + "'";
  }

  function compactJSON(s) {
    try { return JSON.stringify(JSON.parse(s)); } catch (_) { return s.trim(); }
  }

  function curlFor(url, sample) {
    const lines = ["curl -X POST " + shellQuote(url)];
    for (const [k, v] of Object.entries(sample.headers)) lines.push("  -H " + shellQuote(k + ": " + v));
    lines.push("  -d " + shellQuote(compactJSON(sample.body)));
    return lines.join(" \\\n");
  }

  function selectedSample() {
    return ui.samples.find((s) => s.id === $("sample-select").value) || ui.samples[0];
  }

  function renderHook() {
    const hook = ui.state.hook;
    $("hook-empty").hidden = !!hook;
    $("hook-box").hidden = !hook;
    if (!hook) return;
    $("hook-name").textContent = hook.name;
    $("hook-url").textContent = hook.url;
    const s = selectedSample();
    $("curl").textContent = s ? curlFor(hook.url, s) : "";
  }

  async function sendSample() {
    const hook = ui.state && ui.state.hook;
    const s = selectedSample();
    if (!hook || !s) return;
    const out = $("sample-result");
    out.className = "result";
    out.textContent = "Sending " + s.title + "…";
    // The page posts to the same path on its own origin, exactly as curl
    // posts to the URL (PUBLIC_URL may name another host).
    const path = new URL(hook.url).pathname;
    try {
      const r = await fetch(path, { method: "POST", headers: s.headers, body: s.body });
      const data = await r.json().catch(() => ({}));
      if (r.status !== 202) {
        out.className = "result bad";
        out.textContent = r.status + " " + (data.error || r.statusText);
        return;
      }
      out.textContent = "202 Accepted · event " + data.id + " · " + data.status;
      followEvent(path, data.id, out);
    } catch (err) {
      out.className = "result bad";
      out.textContent = err.message;
    }
  }

  // followEvent shows the event's status until it is delivered or failed.
  async function followEvent(path, id, out) {
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      try {
        const r = await fetch(path + "/events/" + encodeURIComponent(id), { cache: "no-store" });
        if (!r.ok) return;
        const e = await r.json();
        out.textContent = "202 Accepted · event " + id + " · " + e.status;
        if (e.status === "delivered") { out.className = "result good"; return; }
        if (e.status === "failed") { out.className = "result bad"; out.textContent += ": " + e.error; return; }
      } catch (_) { return; }
    }
  }

  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      toast(what + " copied");
    } catch (_) {
      toast("Select the text and copy it");
    }
  }

  // ---- actions -----------------------------------------------------------

  // send sends text in the chat on screen; with replyTo (a message id) as
  // a reply to that message.
  async function send(text, replyTo) {
    text = text.trim();
    if (!text) return;
    toggleMenu(false);
    const body = { as: ui.as, chat: ui.chat, text: text, lang: ui.lang };
    if (replyTo) body.reply_to = replyTo;
    try {
      await post("send", body);
      ui.justOpened = true; // scroll down to the reply
      if (replyTo && ui.replyTo && ui.replyTo.id === replyTo) cancelReply();
    } catch (err) {
      toast(err.message);
    }
  }

  async function addBot() {
    try {
      await post("group", { as: ui.as, action: "add", lang: ui.lang });
    } catch (err) {
      toast(err.message);
    }
  }

  function openChat(key) {
    ui.chat = key;
    for (const t of document.querySelectorAll(".tabs [data-chat]")) {
      const on = t.dataset.chat === key;
      t.classList.toggle("on", on);
      t.setAttribute("aria-selected", String(on));
    }
    ui.justOpened = true;
    closeSide();
    if (ui.state) render();
  }

  function setAs(key) {
    if (key === ui.as) return;
    ui.as = key;
    for (const b of document.querySelectorAll("[data-as]")) {
      const on = b.dataset.as === key;
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", String(on));
    }
    ui.state = null;
    ui.version = "";
    ui.justOpened = true;
    restartPoll();
  }

  let toastTimer = 0;
  function toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
  }

  function modal(text) {
    $("modal-text").textContent = text;
    $("modal").hidden = false;
    $("modal-ok").focus();
  }

  function closeSide() {
    document.body.classList.remove("show-side");
    $("toggle-side").setAttribute("aria-expanded", "false");
  }

  // ---- state -------------------------------------------------------------

  function render() {
    renderMessages();
    renderChrome();
  }

  function sleep(ms) {
    return new Promise((res) => setTimeout(res, ms));
  }

  function restartPoll() {
    if (ui.poll) ui.poll.abort();
  }

  // pollLoop long-polls the state; a change of person aborts the pending
  // poll and starts another at once.
  async function pollLoop() {
    let failures = 0;
    for (;;) {
      const ctl = new AbortController();
      ui.poll = ctl;
      const as = ui.as;
      const q = new URLSearchParams({ as: as, lang: ui.lang, since: ui.version, wait: ui.version ? "1" : "0" });
      try {
        const r = await fetch(api + "state?" + q, { signal: ctl.signal, cache: "no-store" });
        if (!r.ok) throw new Error("state: " + r.status);
        const st = await r.json();
        failures = 0;
        $("notice").classList.remove("offline");
        if (as !== ui.as) continue;
        ui.version = st.version;
        ui.state = st;
        render();
        document.body.dataset.ready = "1";
      } catch (err) {
        if (ctl.signal.aborted) continue;
        console.error("playground:", err);
        failures++;
        $("notice").classList.add("offline");
        $("notice").textContent = "Herald is not answering; retrying…";
        await sleep(Math.min(5000, 300 * failures));
        continue;
      }
      $("notice").textContent = "Telegram is emulated here: nothing is sent to Telegram.";
    }
  }

  async function loadSamples() {
    try {
      const r = await fetch(api + "samples", { cache: "no-store" });
      ui.samples = await r.json();
    } catch (_) {
      ui.samples = [];
    }
    const sel = $("sample-select");
    sel.replaceChildren(...ui.samples.map((s) => el("option", { value: s.id }, s.title)));
    if (ui.state) renderHook();
  }

  function init() {
    // ?as=bob&chat=group opens the page as Bob in the group.
    const params = new URLSearchParams(location.search);
    if (params.get("as") === "bob") setAs("bob");
    if (params.get("chat") === "group") openChat("group");
    $("lang").value = ui.lang;
    $("lang").addEventListener("change", () => {
      ui.lang = $("lang").value;
      localStorage.setItem("herald-playground-lang", ui.lang);
      ui.version = "";
      restartPoll();
    });
    for (const b of document.querySelectorAll("[data-as]")) b.addEventListener("click", () => setAs(b.dataset.as));
    for (const t of document.querySelectorAll(".tabs [data-chat]")) t.addEventListener("click", () => openChat(t.dataset.chat));
    $("composer").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = $("input");
      const text = input.value;
      const target = replyTarget();
      input.value = "";
      send(text, target ? target.id : 0);
    });
    $("menu-button").addEventListener("click", () => toggleMenu());
    $("sample-select").addEventListener("change", renderHook);
    $("sample-send").addEventListener("click", sendSample);
    $("copy-url").addEventListener("click", () => copy($("hook-url").textContent, "URL"));
    $("copy-curl").addEventListener("click", () => copy($("curl").textContent, "curl"));
    $("type-newtoken").addEventListener("click", () => {
      openChat("private");
      $("input").value = "/newtoken demo";
      $("input").focus();
    });
    $("toggle-side").addEventListener("click", () => {
      const on = document.body.classList.toggle("show-side");
      $("toggle-side").setAttribute("aria-expanded", String(on));
    });
    $("close-side").addEventListener("click", closeSide);
    $("modal-ok").addEventListener("click", () => { $("modal").hidden = true; });
    $("reply-cancel").addEventListener("click", () => { cancelReply(); $("input").focus(); });
    $("reply-bar-quote").addEventListener("click", () => { if (ui.replyTo) showMessage(ui.replyTo.id); });
    document.addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      // Escape closes what is on top; with nothing open it cancels a reply.
      if (!$("modal").hidden) $("modal").hidden = true;
      else if (!$("menu").hidden) toggleMenu(false);
      else if (document.body.classList.contains("show-side")) closeSide();
      else cancelReply();
    });
    loadSamples();
    pollLoop();
  }

  init();
})();
