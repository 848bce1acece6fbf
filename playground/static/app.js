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
    lang: pickLang(), // the person's Telegram language (language_code)
    pageLang: "", // the language the page's texts are in: the chat's
    texts: null, // language -> id -> text, from api/texts
    instance: null, // {id, temporary} of the server; a new id means it restarted
    offline: false, // the server did not answer the last request
    banner: null, // {kind, id} of the banner under the top bar
    hookURL: null, // the webhook URL the panel shows
    sampleRun: 0, // bumped when the panel's webhook changes: old statuses stop
    curlFull: false, // the panel shows the whole curl command
    curl: "", // the whole curl command, which Copy copies
    version: "",
    state: null,
    samples: null,
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

  // ---- texts -------------------------------------------------------------

  // template is the text id in the page's language, else in English, else
  // the id itself.
  function template(id) {
    const texts = ui.texts || {};
    const own = texts[ui.pageLang] || {};
    const en = texts.en || {};
    return own[id] || en[id] || id;
  }

  const varRE = /\{([A-Za-z]+)\}/g;

  // t is the text id as a string, with {Var} filled in from vars.
  function t(id, vars) {
    return template(id).replace(varRE, (m, k) => (vars && vars[k] !== undefined ? String(vars[k]) : m));
  }

  // tn is the text id as nodes: `code` in backticks becomes <code>, and
  // {Var} is filled in from vars (a string or a node). Never HTML.
  function tn(id, vars) {
    const frag = document.createDocumentFragment();
    template(id).split("`").forEach((part, i) => {
      if (i % 2 === 1) {
        frag.append(el("code", {}, part));
        return;
      }
      let last = 0;
      for (const m of part.matchAll(varRE)) {
        if (m.index > last) frag.append(part.slice(last, m.index));
        const v = vars ? vars[m[1]] : undefined;
        frag.append(v === undefined ? m[0] : v instanceof Node ? v : String(v));
        last = m.index + m[0].length;
      }
      if (last < part.length) frag.append(part.slice(last));
    });
    return frag;
  }

  // applyTexts puts the page's fixed texts in its language.
  function applyTexts() {
    document.documentElement.lang = ui.pageLang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.replaceChildren(tn(e.dataset.i18n));
    for (const e of document.querySelectorAll("[data-i18n-attrs]")) {
      for (const pair of e.dataset.i18nAttrs.split(/\s+/)) {
        const [attr, id] = pair.split("=");
        if (attr && id) e.setAttribute(attr, t(id));
      }
    }
    renderSamples();
    renderBanner();
  }

  // setPageLang shows the page in lang, the language of the chat on screen.
  function setPageLang(lang) {
    if (!ui.texts) return;
    if (!ui.texts[lang]) lang = "en";
    if (lang === ui.pageLang) return;
    ui.pageLang = lang;
    applyTexts();
  }

  // ---- the server --------------------------------------------------------

  // Unreachable is a request that got no answer at all: the server is
  // stopped (or the network is down). fetch calls it "Failed to fetch".
  class Unreachable extends Error {}

  // request is fetch, with a missing server reported as Unreachable in
  // plain words (and the banner saying so).
  async function request(url, opts) {
    try {
      return await fetch(url, opts);
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      setOffline();
      throw new Unreachable(t("playground.server.not_done"));
    }
  }

  function setOffline() {
    if (ui.offline) return;
    ui.offline = true;
    console.warn("playground: the server is not reachable; retrying");
    showBanner("offline", "playground.server.unreachable");
  }

  // setOnline is called with every state the server answers: it says when
  // the server is back, and whether it restarted meanwhile (a new
  // instance: its chats are gone, and its data unless it has a -db file).
  function setOnline(st) {
    const wasOffline = ui.offline;
    ui.offline = false;
    const known = ui.instance || lastInstance();
    ui.instance = { id: st.instance, temporary: st.temporary_db };
    localStorage.setItem("herald-playground-instance", JSON.stringify(ui.instance));
    if (known && known.id !== st.instance) {
      // What is gone is the old server's: its data too if it had no -db file.
      forgetChats();
      showBanner("restarted", known.temporary ? "playground.server.restarted_temporary" : "playground.server.restarted_kept");
    } else if (wasOffline) {
      showBanner("back", "playground.server.back", 5000);
    } else if (ui.banner && (ui.banner.kind === "offline" || ui.banner.kind === "error")) {
      hideBanner();
    }
  }

  // lastInstance is the server this browser saw last, if any: {id, temporary}.
  function lastInstance() {
    try {
      const v = JSON.parse(localStorage.getItem("herald-playground-instance") || "null");
      return v && typeof v.id === "string" ? v : null;
    } catch (_) {
      return null;
    }
  }

  // forgetChats drops what the page kept of the chats of a server that is
  // gone: message ids start again from 1.
  function forgetChats() {
    ui.seen = {};
    ui.replyTo = null;
    ui.renderedChat = "";
    ui.hookURL = null;
    ui.sampleRun++;
    const out = $("sample-result");
    out.className = "result";
    out.textContent = "";
  }

  let bannerTimer = 0;
  function showBanner(kind, id, hideAfter) {
    ui.banner = { kind: kind, id: id };
    clearTimeout(bannerTimer);
    if (hideAfter) bannerTimer = setTimeout(hideBanner, hideAfter);
    renderBanner();
  }

  function hideBanner() {
    clearTimeout(bannerTimer);
    ui.banner = null;
    renderBanner();
  }

  function renderBanner() {
    const b = $("banner");
    b.hidden = !ui.banner;
    if (!ui.banner) return;
    b.className = "banner banner-" + ui.banner.kind;
    b.dataset.kind = ui.banner.kind;
    $("banner-text").replaceChildren(tn(ui.banner.id, ui.banner.vars));
  }

  async function post(path, body) {
    const r = await request(api + path, {
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
        const s = el("span", { class: "spoiler", title: t("playground.chat.show_spoiler"), onclick: () => s.classList.add("shown") });
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
      title: q ? t("playground.chat.show_message") : null,
      onclick: () => { if (q) showMessage(q.id); },
    }, el("div", { class: "quote-from" }, q ? q.from : t("playground.chat.deleted")), q ? el("div", { class: "quote-text" }, firstLine(q.text)) : null);
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
        el("span", {}, t("playground.chat.bot_added", { Name: m.from, Bot: ui.state.bot.name })));
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
    bubble.append(el("span", { class: "meta" }, (m.edited ? t("playground.chat.edited") + " " : "") + timeOf(m.date)));
    const line = el("div", { class: "msg-line" }, bubble);
    const wrap = el("div", { class: cls.join(" "), dataset: { id: m.id, from: m.from_key } }, line);
    // ↩ beside the messages of others, shown on hover, or on a tap on a
    // touch screen; one's own messages have none (a double click still
    // replies to them, as in Telegram).
    if (!mine) {
      line.append(el("button", {
        type: "button", class: "reply-button", title: t("playground.reply.button"),
        "aria-label": t("playground.reply.button_label", { Name: m.from, Text: firstLine(m.text).slice(0, 60) }),
        onclick: () => startReply(m),
      }, "↩"));
      wrap.addEventListener("pointerup", (ev) => {
        if (ev.pointerType === "mouse" || ev.target.closest("a, .kb-button, .reply-button, .spoiler")) return;
        const on = !wrap.classList.contains("tapped");
        for (const x of document.querySelectorAll("#messages .msg.tapped")) x.classList.remove("tapped");
        wrap.classList.toggle("tapped", on);
      });
    }
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
      return el("button", { type: "button", class: "kb-button", disabled: true, title: t("playground.chat.unavailable_button") }, b.text);
    }
    const btn = el("button", { type: "button", class: "kb-button", dataset: { row: row, col: col } }, b.text);
    btn.addEventListener("click", async () => {
      if (btn.classList.contains("busy")) return;
      btn.classList.add("busy");
      try {
        const a = await post("press", { as: ui.as, chat: chat.key, message_id: m.id, row: row, col: col, lang: ui.lang });
        if (!a.answered) toast(t("playground.chat.no_answer"));
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
      const sig = JSON.stringify([m, ui.as, ui.pageLang, ui.state.bot.username, q && [q.from, q.from_key, q.text]]);
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
      const text = chat.type === "private"
        ? t("playground.chat.empty_private", { Name: who().name })
        : t("playground.chat.empty_group", { Chat: chat.title });
      let e = box.querySelector(".empty");
      if (!e) {
        e = el("div", { class: "empty" }, el("p"));
        box.append(e);
      }
      e.firstChild.textContent = text;
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
      $("chat-sub").textContent = t("playground.chat.private_sub", { Username: st.bot.username, Name: who().name });
    } else {
      $("chat-avatar").textContent = chat.title.slice(0, 1);
      $("chat-avatar").className = "avatar group";
      $("chat-title").textContent = chat.title;
      const names = chat.members.map((p) => (p.role === "administrator" ? t("playground.chat.admin", { Name: p.name }) : p.name));
      if (chat.bot_member) names.push(t("playground.chat.bot", { Name: st.bot.name }));
      $("chat-sub").textContent = t("playground.chat.members", { Names: names.join(", ") });
    }
    // What stands above the composer: Start in an empty private chat, Add
    // to group while the bot is not in the group.
    const action = $("chat-action");
    if (chat.type !== "private" && !chat.bot_member) {
      action.hidden = false;
      $("chat-action-text").textContent = t("playground.chat.not_member", { Bot: st.bot.name });
      $("chat-action-button").textContent = t("playground.chat.add_bot", { Bot: st.bot.name, Chat: chat.title, Name: who().name });
      $("chat-action-button").onclick = addBot;
    } else if (chat.type === "private" && chat.messages.length === 0) {
      action.hidden = false;
      $("chat-action-text").textContent = "";
      $("chat-action-button").textContent = t("playground.chat.start");
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
    $("reply-label").replaceChildren(tn("playground.reply.replying_to", { Name: el("b", { id: "reply-from" }, m.from) }));
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

  // curlShownBody is how much of a sample's body the short curl shows.
  const curlShownBody = 34;

  // curlFor is the curl command that posts sample to url; short cuts the
  // body with an ellipsis, for reading (it does not post the sample).
  function curlFor(url, sample, short) {
    const lines = ["curl -X POST " + shellQuote(url)];
    for (const [k, v] of Object.entries(sample.headers)) lines.push("  -H " + shellQuote(k + ": " + v));
    let body = compactJSON(sample.body);
    if (short && body.length > curlShownBody + 10) body = body.slice(0, curlShownBody) + "…";
    lines.push("  -d " + shellQuote(body));
    return lines.join(" \\\n");
  }

  function selectedSample() {
    return ui.samples.find((s) => s.id === $("sample-select").value) || ui.samples[0];
  }

  function sampleTitle(s) {
    const id = "playground.sample." + s.id.replace(/-/g, "_");
    const title = t(id);
    return title === id ? s.title : title;
  }

  // renderSamples fills the sample menu, in the page's language.
  function renderSamples() {
    const sel = $("sample-select");
    const was = sel.value;
    sel.replaceChildren(...(ui.samples || []).map((s) => el("option", { value: s.id }, sampleTitle(s))));
    if (was) sel.value = was;
  }

  function renderHook() {
    const hook = ui.state.hook;
    $("hook-empty").hidden = !!hook;
    $("hook-box").hidden = !hook;
    // Another webhook (a new URL, or none: deleted): what the panel said of
    // the last one's event is stale.
    const url = hook ? hook.url : null;
    if (url !== ui.hookURL) {
      ui.hookURL = url;
      ui.sampleRun++;
      const out = $("sample-result");
      out.className = "result";
      out.textContent = "";
    }
    if (!hook) return;
    $("hook-name").replaceChildren(tn("playground.side.hook_name", { Name: el("b", {}, hook.name) }));
    $("hook-url").textContent = hook.url;
    const s = selectedSample();
    const full = s ? curlFor(hook.url, s, false) : "";
    const short = s ? curlFor(hook.url, s, true) : "";
    ui.curl = full;
    const cut = short !== full;
    $("curl").textContent = cut && !ui.curlFull ? short : full;
    $("curl").classList.toggle("full", ui.curlFull);
    $("curl-note").hidden = !cut || ui.curlFull;
    const toggle = $("curl-toggle");
    toggle.hidden = !cut;
    toggle.textContent = t(ui.curlFull ? "playground.side.curl_short" : "playground.side.curl_full");
    toggle.setAttribute("aria-expanded", String(ui.curlFull));
  }

  async function sendSample() {
    const hook = ui.state && ui.state.hook;
    const s = selectedSample();
    if (!hook || !s) return;
    const out = $("sample-result");
    const run = ++ui.sampleRun;
    out.className = "result";
    out.textContent = t("playground.side.sending", { Title: sampleTitle(s) });
    // The page posts to the same path on its own origin, exactly as curl
    // posts to the URL (PUBLIC_URL may name another host).
    const path = new URL(hook.url).pathname;
    try {
      const r = await request(path, { method: "POST", headers: s.headers, body: s.body });
      const data = await r.json().catch(() => ({}));
      if (run !== ui.sampleRun) return;
      if (r.status !== 202) {
        out.className = "result bad";
        out.textContent = r.status + " " + (data.error || r.statusText);
        return;
      }
      out.textContent = accepted(data.id, data.status);
      followEvent(path, data.id, out, run);
    } catch (err) {
      if (run !== ui.sampleRun) return;
      out.className = "result bad";
      out.textContent = err.message;
    }
  }

  function accepted(id, status) {
    const sid = "playground.status." + status;
    const word = t(sid);
    return t("playground.side.accepted", { ID: id, Status: word === sid ? status : word });
  }

  // followEvent shows the event's status until it is delivered or failed,
  // or the panel shows another webhook (run is then stale).
  async function followEvent(path, id, out, run) {
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      if (run !== ui.sampleRun) return;
      try {
        const r = await request(path + "/events/" + encodeURIComponent(id), { cache: "no-store" });
        if (!r.ok || run !== ui.sampleRun) return;
        const e = await r.json();
        if (run !== ui.sampleRun) return;
        out.textContent = accepted(id, e.status);
        if (e.status === "delivered") { out.className = "result good"; return; }
        if (e.status === "failed") { out.className = "result bad"; out.textContent += ": " + e.error; return; }
      } catch (_) { return; }
    }
  }

  // copy puts text on the clipboard; where the Clipboard API is missing
  // (a page on http:// at another host than localhost) or refused, through
  // a selected text area.
  async function copy(text, doneID) {
    try {
      await navigator.clipboard.writeText(text);
      toast(t(doneID));
      return;
    } catch (_) { /* try the old way */ }
    const ta = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    ta.remove();
    toast(t(ok ? doneID : "playground.side.copy_failed"));
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
      // Nothing was sent: give the text back to type again.
      const input = $("input");
      if (err instanceof Unreachable && input.value === "") input.value = text;
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
    const chat = currentChat();
    setPageLang((chat && chat.lang) || ui.lang);
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
  // ServerError is an answer other than 200 from the page's API.
  class ServerError extends Error {}

  async function getJSON(path, signal) {
    const r = await request(api + path, { signal: signal, cache: "no-store" });
    if (!r.ok) throw new ServerError(String(r.status));
    return r.json();
  }

  // pollLoop long-polls the state; a change of person aborts the pending
  // poll and starts another at once. While the server does not answer it
  // retries quietly, the banner saying why.
  async function pollLoop() {
    let failures = 0;
    for (;;) {
      const ctl = new AbortController();
      ui.poll = ctl;
      const as = ui.as;
      try {
        if (!ui.texts) {
          ui.texts = (await getJSON("texts", ctl.signal)).texts;
          setPageLang(ui.lang);
        }
        if (!ui.samples) {
          ui.samples = await getJSON("samples", ctl.signal);
          renderSamples();
        }
        // After a failure, ask at once (no long poll): the page learns
        // that the server is back as soon as it is.
        const wait = ui.version && !ui.offline && !(ui.banner && ui.banner.kind === "error");
        const q = new URLSearchParams({ as: as, lang: ui.lang, since: ui.version, wait: wait ? "1" : "0" });
        const st = await getJSON("state?" + q, ctl.signal);
        failures = 0;
        setOnline(st);
        if (as !== ui.as) continue;
        ui.version = st.version;
        ui.state = st;
        render();
        document.body.dataset.ready = "1";
      } catch (err) {
        if (ctl.signal.aborted) continue;
        if (err instanceof ServerError) {
          console.error("playground: state:", err.message);
          ui.banner = { kind: "error", id: "playground.server.error", vars: { Status: err.message } };
          renderBanner();
        } else if (!(err instanceof Unreachable)) {
          console.error("playground:", err);
        }
        failures++;
        await sleep(Math.min(3000, 250 * failures));
      }
    }
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
    $("sample-select").addEventListener("change", () => { if (ui.state) renderHook(); });
    $("curl-toggle").addEventListener("click", () => { ui.curlFull = !ui.curlFull; renderHook(); });
    $("banner-close").addEventListener("click", hideBanner);
    $("sample-send").addEventListener("click", sendSample);
    $("copy-url").addEventListener("click", () => copy($("hook-url").textContent, "playground.side.copied_url"));
    $("copy-curl").addEventListener("click", () => copy(ui.curl, "playground.side.copied_curl"));
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
    pollLoop();
  }

  init();
})();
