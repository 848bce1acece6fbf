package playground

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/locales"
	"github.com/herald-relay/herald/storage"
)

// The page's JSON API. The page says who it acts as ("as": alice or bob),
// in which chat ("chat": private, the person's private chat with the bot,
// or group) and in which language (the user's language_code in Telegram).

// longPoll is how long GET api/state?wait=1 holds an unchanged state; it
// stays under the HTTP server's write timeout.
const longPoll = 20 * time.Second

// pressWait is how long a button press waits for the bot's answer to the
// callback query.
const pressWait = 10 * time.Second

// maxText is Telegram's limit on a message, in UTF-16 code units.
const maxText = 4096

type stateResponse struct {
	Version  string       `json:"version"` // changes whenever anything below does
	Bot      botInfo      `json:"bot"`
	As       string       `json:"as"`
	People   []personInfo `json:"people"`
	Chats    []chatView   `json:"chats"`    // the person's private chat, then the group
	Hook     *hook        `json:"hook"`     // the newest working webhook URL in the private chat
	Commands []command    `json:"commands"` // the bot's menu in the person's language
	// Instance is this process's id: the page remembers it, and a new one
	// means the playground restarted and its chats are gone.
	Instance string `json:"instance"`
	// TemporaryDB is set when the database goes with the process: after a
	// restart the webhooks are gone too.
	TemporaryDB bool `json:"temporary_db"`
}

type botInfo struct {
	Name     string `json:"name"`
	Username string `json:"username"`
}

type personInfo struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Role string `json:"role"`
}

type chatView struct {
	Key       string       `json:"key"` // "private" or "group"
	ID        int64        `json:"id"`
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	BotMember bool         `json:"bot_member"` // the bot is in the chat (and not blocked)
	Members   []personInfo `json:"members,omitempty"`
	Messages  []message    `json:"messages"`
	// Lang is the language the bot speaks in this chat: the chat's
	// /language choice, else the person's Telegram language. The page
	// shows its own texts in it.
	Lang string `json:"lang"`
}

type message struct {
	ID       int        `json:"id"`
	From     string     `json:"from"`     // display name
	FromKey  string     `json:"from_key"` // "bot" or a person's key
	Text     string     `json:"text"`
	Entities []entity   `json:"entities,omitempty"`
	Buttons  [][]button `json:"buttons,omitempty"`
	Date     int64      `json:"date"`
	Edited   bool       `json:"edited,omitempty"`
	Silent   bool       `json:"silent,omitempty"`
	// ReplyTo is the id of the message this one replies to, in the same
	// chat; the page shows it quoted (it may be deleted: then it is not
	// among the messages).
	ReplyTo int `json:"reply_to,omitempty"`
	// Service is set for service messages: "bot_added" when From added the
	// bot to the group (the only service message the playground causes).
	Service string `json:"service,omitempty"`
}

// entity is a Telegram message entity; offsets count UTF-16 code units,
// which is what JavaScript strings index.
type entity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
}

type button struct {
	Text string `json:"text"`
	Kind string `json:"kind"` // "callback_data", "url", ...
	URL  string `json:"url,omitempty"`
}

type command struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// langRE is a Telegram language_code as the page may send it.
var langRE = regexp.MustCompile(`^[a-z]{2}$`)

func withLang(u tgemu.User, lang string) tgemu.User {
	if langRE.MatchString(lang) {
		u.LanguageCode = lang
	}
	return u
}

// chatFor returns the chat the page means by key for person who.
// actor is the person a request acts as; it answers 400 when there is none.
func actor(w http.ResponseWriter, key string) (person, bool) {
	who, ok := personByKey(key)
	if !ok {
		writeError(w, http.StatusBadRequest, `"as" must be one of the playground's people`)
	}
	return who, ok
}

// actorIn is actor and the chat the request acts in; it answers 400 when
// either is unknown.
func actorIn(w http.ResponseWriter, key, chatKey string) (person, tgemu.Chat, bool) {
	who, ok := actor(w, key)
	if !ok {
		return person{}, tgemu.Chat{}, false
	}
	chat, ok := chatFor(who, chatKey)
	if !ok {
		writeError(w, http.StatusBadRequest, `"chat" must be private or group`)
	}
	return who, chat, ok
}

func chatFor(who person, key string) (tgemu.Chat, bool) {
	switch key {
	case "private":
		return tgemu.PrivateChat(who.user), true
	case "group":
		return group, true
	}
	return tgemu.Chat{}, false
}

func (p *Playground) state(ctx context.Context, who person, lang string) (stateResponse, error) {
	st := stateResponse{
		Bot:         botInfo{Name: p.tg.BotUser().FirstName, Username: p.tg.BotUsername()},
		As:          who.key,
		Instance:    p.instance,
		TemporaryDB: p.cfg.TemporaryDB,
	}
	for _, q := range people {
		st.People = append(st.People, personInfo{Key: q.key, Name: q.user.FirstName, Role: q.role})
	}
	private := p.tg.ChatHistory(who.user.ID)
	hk, err := p.latestHook(ctx, private)
	if err != nil {
		return st, err
	}
	st.Hook = hk
	privateLang, err := p.chatLang(ctx, who.user.ID, lang)
	if err != nil {
		return st, err
	}
	groupLang, err := p.chatLang(ctx, group.ID, lang)
	if err != nil {
		return st, err
	}
	st.Chats = []chatView{
		{Key: "private", ID: who.user.ID, Type: tgemu.ChatTypePrivate, Title: st.Bot.Name,
			BotMember: p.tg.BotStatus(who.user.ID) != tgemu.StatusKicked, Messages: p.messages(private), Lang: privateLang},
		{Key: "group", ID: group.ID, Type: group.Type, Title: group.Title, Members: st.People,
			BotMember: isMember(p.tg.BotStatus(group.ID)), Messages: p.messages(p.tg.ChatHistory(group.ID)), Lang: groupLang},
	}
	cmds := p.tg.Commands("default", lang)
	if len(cmds) == 0 {
		cmds = p.tg.Commands("default", "")
	}
	for _, c := range cmds {
		st.Commands = append(st.Commands, command{Command: c.Command, Description: c.Description})
	}
	b, _ := json.Marshal(st)
	sum := sha256.Sum256(b)
	st.Version = hex.EncodeToString(sum[:8])
	return st, nil
}

// chatLang is the language the bot answers in, in chat chatID, to a person
// whose Telegram language is userLang: the chat's /language choice, else
// the person's language (as the bot picks it).
func (p *Playground) chatLang(ctx context.Context, chatID int64, userLang string) (string, error) {
	c, err := p.db.ChatByID(ctx, chatID)
	switch {
	case err == nil && c.LanguageSet:
		return locales.Normalize(c.Language), nil
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return "", fmt.Errorf("playground: language of chat %d: %w", chatID, err)
	}
	return locales.Normalize(userLang), nil
}

func isMember(status string) bool {
	return status == tgemu.StatusMember || status == tgemu.StatusAdministrator
}

func (p *Playground) messages(ms []tgemu.Message) []message {
	out := make([]message, 0, len(ms))
	for _, m := range ms {
		if m.Deleted {
			continue
		}
		v := message{ID: m.ID, Text: m.Text, Date: m.Date.Unix(), Edited: m.Edited, Silent: m.DisableNotification, ReplyTo: m.ReplyToMessageID}
		switch {
		case m.From.IsBot:
			v.From, v.FromKey = m.From.FirstName, "bot"
		default:
			v.From = m.From.FirstName
			for _, q := range people {
				if q.user.ID == m.From.ID {
					v.FromKey = q.key
				}
			}
			if m.Text == "" {
				v.Service = "bot_added"
			}
		}
		for _, e := range m.Entities {
			v.Entities = append(v.Entities, entity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL, Language: e.Language})
		}
		if m.ReplyMarkup != nil {
			for _, row := range m.ReplyMarkup.Rows {
				var r []button
				for _, b := range row {
					r = append(r, button{Text: b.Text, Kind: b.Kind, URL: b.URL})
				}
				v.Buttons = append(v.Buttons, r)
			}
		}
		out = append(out, v)
	}
	return out
}

// handleState answers the state the page shows. With since (a version the
// page has) and wait=1 it is a long poll: the answer comes when the state
// differs from since, or after longPoll.
func (p *Playground) handleState(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	who, ok := personByKey(q.Get("as"))
	if !ok {
		writeError(w, http.StatusBadRequest, `"as" must be one of the playground's people`)
		return
	}
	since, wait := q.Get("since"), q.Get("wait") == "1"
	timeout := time.NewTimer(longPoll)
	defer timeout.Stop()
	for {
		changed := p.tg.Changed()
		st, err := p.state(r.Context(), who, q.Get("lang"))
		if err != nil {
			if r.Context().Err() == nil {
				p.log.Error("playground state", "error", err)
				writeError(w, http.StatusInternalServerError, "could not read the state")
			}
			return
		}
		if !wait || st.Version != since {
			writeJSON(w, http.StatusOK, st)
			return
		}
		select {
		case <-changed:
		case <-timeout.C:
			writeJSON(w, http.StatusOK, st)
			return
		case <-p.done:
			writeJSON(w, http.StatusOK, st)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// readJSON decodes a small JSON request body. Requiring the JSON content
// type also keeps other sites' forms out: a cross-site request with it needs
// a CORS preflight, which is never granted.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "request too large")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON")
		return false
	}
	return true
}

type sendRequest struct {
	As   string `json:"as"`
	Chat string `json:"chat"`
	Text string `json:"text"`
	Lang string `json:"lang"`
	// ReplyTo, when set, is the id of a message in the chat this one
	// replies to, as choosing Reply on it in Telegram does.
	ReplyTo *int `json:"reply_to"`
}

// handleSend has a person write a message, as if typed in Telegram,
// optionally as a reply to a message of the chat.
func (p *Playground) handleSend(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if !readJSON(w, r, &req) {
		return
	}
	who, chat, ok := actorIn(w, req.As, req.Chat)
	if !ok {
		return
	}
	text := strings.TrimSpace(req.Text)
	switch n := len(utf16.Encode([]rune(text))); {
	case n == 0:
		writeError(w, http.StatusBadRequest, "the message is empty")
		return
	case n > maxText:
		writeError(w, http.StatusBadRequest, "the message is longer than Telegram's 4096 characters")
		return
	}
	from := withLang(who.user, req.Lang)
	if req.ReplyTo == nil {
		writeJSON(w, http.StatusOK, map[string]int{"message_id": p.tg.UserSends(from, chat, text)})
		return
	}
	// Telegram clients offer Reply on the chat's messages, not on service
	// messages (the bot added to the group) or deleted ones.
	if m, ok := p.tg.Message(chat.ID, *req.ReplyTo); !ok || m.Deleted || m.Text == "" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"reply_to": there is no message %d in this chat to reply to`, *req.ReplyTo))
		return
	}
	id := p.tg.UserReplies(from, chat, *req.ReplyTo, text)
	writeJSON(w, http.StatusOK, map[string]int{"message_id": id})
}

type pressRequest struct {
	As        string `json:"as"`
	Chat      string `json:"chat"`
	MessageID int    `json:"message_id"`
	Row       int    `json:"row"`
	Col       int    `json:"col"`
	Lang      string `json:"lang"`
}

type pressResponse struct {
	Answered  bool   `json:"answered"` // the bot answered the callback query in time
	Text      string `json:"text,omitempty"`
	ShowAlert bool   `json:"show_alert,omitempty"`
	URL       string `json:"url,omitempty"`
}

// handlePress presses an inline button of one of the bot's messages and
// waits for the bot to answer the callback query, as a Telegram client shows
// a spinner until it does.
func (p *Playground) handlePress(w http.ResponseWriter, r *http.Request) {
	var req pressRequest
	if !readJSON(w, r, &req) {
		return
	}
	who, chat, ok := actorIn(w, req.As, req.Chat)
	if !ok {
		return
	}
	m, ok := p.tg.Message(chat.ID, req.MessageID)
	if !ok || m.Deleted || !m.From.IsBot || m.ReplyMarkup == nil ||
		req.Row < 0 || req.Row >= len(m.ReplyMarkup.Rows) || req.Col < 0 || req.Col >= len(m.ReplyMarkup.Rows[req.Row]) {
		writeError(w, http.StatusNotFound, "no such button")
		return
	}
	b := m.ReplyMarkup.Rows[req.Row][req.Col]
	if b.Kind != "callback_data" {
		writeError(w, http.StatusBadRequest, "this button does not call the bot")
		return
	}
	id := p.tg.PressButton(withLang(who.user, req.Lang), chat, m.ID, b.CallbackData)
	ctx, cancel := context.WithTimeout(r.Context(), pressWait)
	defer cancel()
	for {
		changed := p.tg.Changed()
		if a, ok := p.tg.CallbackAnswer(id); ok {
			writeJSON(w, http.StatusOK, pressResponse{Answered: true, Text: a.Text, ShowAlert: a.ShowAlert, URL: a.URL})
			return
		}
		select {
		case <-changed:
		case <-p.done:
			writeJSON(w, http.StatusOK, pressResponse{})
			return
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				writeJSON(w, http.StatusOK, pressResponse{})
			}
			return
		}
	}
}

type groupRequest struct {
	As     string `json:"as"`
	Action string `json:"action"` // "add"
	Lang   string `json:"lang"`
}

// handleGroup has a person add the bot to the group.
func (p *Playground) handleGroup(w http.ResponseWriter, r *http.Request) {
	var req groupRequest
	if !readJSON(w, r, &req) {
		return
	}
	who, ok := actor(w, req.As)
	if !ok {
		return
	}
	if req.Action != "add" {
		writeError(w, http.StatusBadRequest, `"action" must be add`)
		return
	}
	p.tg.AddBotToChat(withLang(who.user, req.Lang), group)
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}
