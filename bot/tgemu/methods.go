package tgemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// The Bot API methods the fake implements
// (https://core.telegram.org/bots/api#available-methods). Any other method
// answers 404 Not Found, as an unknown method does in Telegram.
func init() {
	register("getMe", getMe)
	register("getUpdates", getUpdates)
	register("setWebhook", setWebhook)
	register("deleteWebhook", deleteWebhook)
	register("getWebhookInfo", getWebhookInfo)
	register("sendMessage", sendMessage)
	register("editMessageText", editMessageText)
	register("editMessageReplyMarkup", editMessageReplyMarkup)
	register("deleteMessage", deleteMessage)
	register("deleteMessages", deleteMessages)
	register("answerCallbackQuery", answerCallbackQuery)
	register("setMyCommands", setMyCommands)
	register("getMyCommands", getMyCommands)
	register("deleteMyCommands", deleteMyCommands)
	register("getChat", getChat)
	register("getChatMember", getChatMember)
	register("getChatAdministrators", getChatAdministrators)
	register("getChatMemberCount", getChatMemberCount)
	register("sendChatAction", sendChatAction)
	register("leaveChat", leaveChat)
}

const errNotModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// getMe implements https://core.telegram.org/bots/api#getme.
func getMe(s *Server, _ *request) (any, *apiError) {
	return map[string]any{
		"id":                          s.botID,
		"is_bot":                      true,
		"first_name":                  s.botName,
		"username":                    s.botUsername,
		"can_join_groups":             true,
		"can_read_all_group_messages": !s.groupPrivacy,
		"supports_inline_queries":     false,
		"can_connect_to_business":     false,
		"has_main_web_app":            false,
	}, nil
}

// resolveChatLocked finds the chat a chat_id parameter designates: a numeric
// id or the @username of a public group or channel (never of a user, as in
// Telegram). Chats the bot never interacted with are "not found".
func (s *Server) resolveChatLocked(ref string) (*chatState, *apiError) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, badRequest("chat_id is empty")
	}
	var c *chatState
	if name, ok := strings.CutPrefix(ref, "@"); ok {
		for _, cc := range s.chats {
			if cc.Type != ChatTypePrivate && cc.known && cc.Username != "" && strings.EqualFold(cc.Username, name) {
				c = cc
			}
		}
	} else if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		c = s.chats[id]
	}
	if c == nil || !c.known {
		return nil, errChatNotFound
	}
	if c.migratedTo != 0 {
		return nil, &apiError{code: 400, desc: "Bad Request: group chat was upgraded to a supergroup chat", migrateTo: c.migratedTo}
	}
	return c, nil
}

// canWriteLocked returns the 403 (or 400) Telegram answers when the bot may
// not act in c.
func (s *Server) canWriteLocked(c *chatState) *apiError {
	switch c.Type {
	case ChatTypePrivate:
		if c.botStatus == StatusKicked {
			return forbidden("bot was blocked by the user")
		}
	case ChatTypeGroup, ChatTypeSupergroup:
		switch c.botStatus {
		case StatusKicked:
			return forbidden("bot was kicked from the " + c.Type + " chat")
		case StatusLeft:
			return forbidden("bot is not a member of the " + c.Type + " chat")
		}
	case ChatTypeChannel:
		switch c.botStatus {
		case StatusKicked, StatusLeft:
			return forbidden("bot is not a member of the channel chat")
		case StatusMember:
			return badRequest("need administrator rights in the channel chat")
		}
	}
	return nil
}

// textParams reads and checks text, parse_mode/entities, reply_markup and
// link_preview_options, which sendMessage and editMessageText share.
type textParams struct {
	raw, plain, parseMode string
	entities              []Entity
	markup                *replyMarkup
	previewDisabled       bool
	previewOptions        string
}

func (s *Server) readTextParams(p params) (*textParams, *apiError) {
	t := &textParams{raw: p.str("text"), parseMode: p.str("parse_mode")}
	if t.raw == "" {
		return nil, badRequest("message text is empty")
	}
	if !utf8.ValidString(t.raw) {
		return nil, badRequest("strings must be encoded in UTF-8")
	}
	var err *apiError
	if t.plain, t.entities, err = s.formatText(t.raw, t.parseMode, p.str("entities")); err != nil {
		return nil, err
	}
	if t.markup, err = parseReplyMarkup(p.str("reply_markup")); err != nil {
		return nil, err
	}
	t.previewDisabled = p.bool("disable_web_page_preview")
	if raw := p.str("link_preview_options"); raw != "" {
		t.previewOptions = raw
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &obj) != nil {
			return nil, badRequest("can't parse link preview options JSON object")
		}
		for _, k := range []string{"is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"} {
			if v, ok := obj[k]; ok {
				var b bool
				if json.Unmarshal(v, &b) != nil {
					return nil, badRequest(fmt.Sprintf(`field "%s" must be of type Boolean`, k))
				}
				if k == "is_disabled" && b {
					t.previewDisabled = true
				}
			}
		}
		if v, ok := obj["url"]; ok {
			var u string
			if json.Unmarshal(v, &u) != nil {
				return nil, badRequest(`field "url" must be of type String`)
			}
			if _, ok := checkLink(u); !ok {
				return nil, badRequest("WEBPAGE_URL_INVALID")
			}
		}
	}
	return t, nil
}

// sendMessage implements https://core.telegram.org/bots/api#sendmessage.
func sendMessage(s *Server, r *request) (any, *apiError) {
	p := r.p
	if strings.TrimSpace(p.str("chat_id")) == "" {
		return nil, badRequest("chat_id is empty")
	}
	t, aerr := s.readTextParams(p)
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowWithoutReply := p.int("reply_to_message_id"), p.bool("allow_sending_without_reply")
	if raw := p.str("reply_parameters"); raw != "" {
		var obj map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &obj) != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
		v, ok := obj["message_id"]
		if !ok {
			return nil, badRequest(`can't find field "message_id"`)
		}
		if json.Unmarshal(v, &replyTo) != nil {
			return nil, badRequest(`field "message_id" must be of type Number`)
		}
		allowWithoutReply = isTrue(obj["allow_sending_without_reply"])
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.canWriteLocked(c); aerr != nil {
		return nil, aerr
	}
	if t.markup != nil && t.markup.webApp && c.Type != ChatTypePrivate {
		return nil, badRequest("BUTTON_TYPE_INVALID")
	}
	if aerr := checkTextLength(t.plain, "message is too long"); aerr != nil {
		return nil, aerr
	}
	thread := p.int("message_thread_id")
	if thread != 0 && c.message(thread) == nil {
		return nil, badRequest("message thread not found")
	}
	if replyTo != 0 {
		if m := c.message(replyTo); m == nil || m.deleted {
			if !allowWithoutReply {
				return nil, badRequest("message to be replied not found")
			}
			replyTo = 0
		}
	}
	if s.limits != nil {
		if wait := s.limits.take(c.ID, c.isGroup(), s.now()); wait > 0 {
			return nil, &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", wait), retryAfter: wait}
		}
	}
	m := &message{
		from:                s.BotUser(),
		fromBot:             true,
		date:                s.now(),
		text:                t.plain,
		raw:                 t.raw,
		parseMode:           t.parseMode,
		entities:            t.entities,
		markup:              t.markup,
		replyTo:             replyTo,
		threadID:            thread,
		disableNotification: p.bool("disable_notification"),
		protectContent:      p.bool("protect_content"),
		linkPreviewDisabled: t.previewDisabled,
		linkPreviewOptions:  t.previewOptions,
	}
	s.addMessageLocked(c, m)
	return s.wMessageLocked(m, true), nil
}

// inlineJSON returns the inline keyboard a message shows, nil for none.
func inlineJSON(m *replyMarkup) []byte {
	if m == nil || m.inline == nil || len(m.inline.Rows) == 0 {
		return nil
	}
	return m.inlineJSON
}

// editTargetLocked finds the bot message an edit designates.
func (s *Server) editTargetLocked(p params) (*chatState, *message, *apiError) {
	c, aerr := s.resolveChatLocked(p.str("chat_id"))
	if aerr != nil {
		return nil, nil, aerr
	}
	if aerr := s.canWriteLocked(c); aerr != nil {
		return nil, nil, aerr
	}
	m := c.message(p.int("message_id"))
	if m == nil || m.deleted {
		return nil, nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, nil, badRequest("message can't be edited")
	}
	return c, m, nil
}

func checkEditIDs(p params) *apiError {
	if p.str("inline_message_id") != "" {
		// Inline messages are not modelled.
		return badRequest("MESSAGE_ID_INVALID")
	}
	if strings.TrimSpace(p.str("chat_id")) == "" {
		return badRequest("chat_id is empty")
	}
	if p.int("message_id") <= 0 {
		return badRequest("message identifier is not specified")
	}
	return nil
}

// editMessageText implements https://core.telegram.org/bots/api#editmessagetext.
// Like Telegram, an edit without reply_markup removes the inline keyboard,
// and an edit changing nothing fails with "message is not modified".
func editMessageText(s *Server, r *request) (any, *apiError) {
	if aerr := checkEditIDs(r.p); aerr != nil {
		return nil, aerr
	}
	t, aerr := s.readTextParams(r.p)
	if aerr != nil {
		return nil, aerr
	}
	if t.markup != nil && t.markup.inline == nil {
		return nil, badRequest("inline keyboard expected")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, aerr := s.editTargetLocked(r.p)
	if aerr != nil {
		return nil, aerr
	}
	if m.text == "" {
		return nil, badRequest("there is no text in the message to edit")
	}
	if aerr := checkTextLength(t.plain, "MESSAGE_TOO_LONG"); aerr != nil {
		return nil, aerr
	}
	if t.plain == m.text && slices.Equal(t.entities, m.entities) && bytes.Equal(inlineJSON(t.markup), inlineJSON(m.markup)) {
		return nil, badRequest(errNotModified)
	}
	m.text, m.raw, m.parseMode, m.entities = t.plain, t.raw, t.parseMode, t.entities
	if t.markup != nil || m.markup == nil || m.markup.inline != nil {
		m.markup = t.markup
	}
	m.linkPreviewDisabled, m.linkPreviewOptions = t.previewDisabled, t.previewOptions
	m.edited, m.editDate = true, s.now()
	s.broadcastLocked()
	return s.wMessageLocked(m, true), nil
}

// editMessageReplyMarkup implements
// https://core.telegram.org/bots/api#editmessagereplymarkup. Without
// reply_markup the inline keyboard is removed.
func editMessageReplyMarkup(s *Server, r *request) (any, *apiError) {
	if aerr := checkEditIDs(r.p); aerr != nil {
		return nil, aerr
	}
	markup, aerr := parseReplyMarkup(r.p.str("reply_markup"))
	if aerr != nil {
		return nil, aerr
	}
	if markup != nil && markup.inline == nil {
		return nil, badRequest("inline keyboard expected")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, aerr := s.editTargetLocked(r.p)
	if aerr != nil {
		return nil, aerr
	}
	if bytes.Equal(inlineJSON(markup), inlineJSON(m.markup)) {
		return nil, badRequest(errNotModified)
	}
	m.markup = markup
	m.edited, m.editDate = true, s.now()
	s.broadcastLocked()
	return s.wMessageLocked(m, true), nil
}

// canDeleteLocked tells whether the bot may delete m: any message in a
// private chat, its own messages anywhere, others' messages where it is an
// administrator (https://core.telegram.org/bots/api#deletemessage).
func (s *Server) canDeleteLocked(c *chatState, m *message) bool {
	return c.Type == ChatTypePrivate || m.fromBot || c.botStatus == StatusAdministrator
}

// deleteMessage implements https://core.telegram.org/bots/api#deletemessage.
func deleteMessage(s *Server, r *request) (any, *apiError) {
	if strings.TrimSpace(r.p.str("chat_id")) == "" {
		return nil, badRequest("chat_id is empty")
	}
	id := r.p.int("message_id")
	if id <= 0 {
		return nil, badRequest("message identifier is not specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type != ChatTypePrivate {
		if aerr := s.canWriteLocked(c); aerr != nil {
			return nil, aerr
		}
	}
	m := c.message(id)
	if m == nil || m.deleted {
		return nil, badRequest("message to delete not found")
	}
	if !s.canDeleteLocked(c, m) {
		return nil, badRequest("message can't be deleted")
	}
	m.deleted = true
	s.broadcastLocked()
	return true, nil
}

// deleteMessages implements https://core.telegram.org/bots/api#deletemessages:
// messages that can't be found or deleted are skipped.
func deleteMessages(s *Server, r *request) (any, *apiError) {
	if strings.TrimSpace(r.p.str("chat_id")) == "" {
		return nil, badRequest("chat_id is empty")
	}
	var ids []int
	if json.Unmarshal([]byte(r.p.str("message_ids")), &ids) != nil {
		return nil, badRequest("can't parse message identifiers JSON object")
	}
	if len(ids) == 0 || len(ids) > 100 {
		return nil, badRequest("too many or too few message identifiers specified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type != ChatTypePrivate {
		if aerr := s.canWriteLocked(c); aerr != nil {
			return nil, aerr
		}
	}
	for _, id := range ids {
		if m := c.message(id); m != nil && !m.deleted && s.canDeleteLocked(c, m) {
			m.deleted = true
		}
	}
	s.broadcastLocked()
	return true, nil
}

// answerCallbackQuery implements
// https://core.telegram.org/bots/api#answercallbackquery. Each query can be
// answered once.
func answerCallbackQuery(s *Server, r *request) (any, *apiError) {
	p := r.p
	text := p.str("text")
	if utf16Count(text) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[p.str("callback_query_id")]
	if cb == nil || cb.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	// url may only open the bot with a start parameter (games aside).
	if u := strings.ToLower(p.str("url")); u != "" {
		prefix := "t.me/" + strings.ToLower(s.botUsername) + "?start="
		if !strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), prefix) {
			return nil, badRequest("URL_INVALID")
		}
	}
	cb.answered = true
	cb.answer = CallbackAnswer{Text: text, ShowAlert: p.bool("show_alert"), URL: p.str("url"), CacheTime: p.int("cache_time")}
	s.broadcastLocked()
	return true, nil
}

// commandScopeLocked returns the storage key of a scope parameter
// (https://core.telegram.org/bots/api#botcommandscope) and language_code.
func (s *Server) commandScopeLocked(p params) (string, *apiError) {
	lang := p.str("language_code")
	if lang != "" && (len(lang) != 2 || strings.Trim(lang, "abcdefghijklmnopqrstuvwxyz") != "") {
		return "", badRequest("invalid language code specified")
	}
	raw := p.str("scope")
	if raw == "" {
		return "default|" + lang, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &obj) != nil {
		return "", badRequest("can't parse BotCommandScope JSON object")
	}
	var typ string
	if json.Unmarshal(obj["type"], &typ) != nil {
		return "", badRequest(`can't parse BotCommandScope: Can't find field "type"`)
	}
	switch typ {
	case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
		return typ + "|" + lang, nil
	case "chat", "chat_administrators", "chat_member":
		ref := strings.Trim(string(obj["chat_id"]), `"`)
		if ref == "" {
			return "", badRequest(`can't parse BotCommandScope: Can't find field "chat_id"`)
		}
		c, aerr := s.resolveChatLocked(ref)
		if aerr != nil {
			return "", aerr
		}
		key := typ + ":" + strconv.FormatInt(c.ID, 10)
		if typ == "chat_member" {
			var uid int64
			if json.Unmarshal(obj["user_id"], &uid) != nil || uid <= 0 {
				return "", badRequest("invalid user_id specified")
			}
			key += ":" + strconv.FormatInt(uid, 10)
		}
		return key + "|" + lang, nil
	}
	return "", badRequest("can't parse BotCommandScope: Unsupported type specified")
}

// setMyCommands implements https://core.telegram.org/bots/api#setmycommands,
// with Telegram's validation: commands of 1-32 characters among a-z, 0-9
// and _, descriptions of 1-256 characters, at most 100 commands.
func setMyCommands(s *Server, r *request) (any, *apiError) {
	var in []map[string]json.RawMessage
	if raw := r.p.str("commands"); raw != "" && json.Unmarshal([]byte(raw), &in) != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(in) > 100 {
		return nil, badRequest("too many commands specified")
	}
	var cmds []models.BotCommand
	for _, obj := range in {
		var c models.BotCommand
		for name, dst := range map[string]*string{"command": &c.Command, "description": &c.Description} {
			v, ok := obj[name]
			if !ok {
				return nil, badRequest(fmt.Sprintf(`can't parse BotCommand: Can't find field "%s"`, name))
			}
			if json.Unmarshal(v, dst) != nil {
				return nil, badRequest(fmt.Sprintf(`can't parse BotCommand: Field "%s" must be of type String`, name))
			}
		}
		c.Command, c.Description = strings.TrimSpace(c.Command), strings.TrimSpace(c.Description)
		switch {
		case c.Command == "":
			return nil, badRequest("command must be non-empty")
		case utf8.RuneCountInString(c.Command) > 32:
			return nil, badRequest("command length must not exceed 32")
		case strings.Trim(c.Command, "abcdefghijklmnopqrstuvwxyz0123456789_") != "":
			return nil, badRequest("BOT_COMMAND_INVALID")
		case c.Description == "":
			return nil, badRequest("command description must be non-empty")
		case utf8.RuneCountInString(c.Description) > 256:
			return nil, badRequest("command description length must not exceed 256")
		}
		cmds = append(cmds, c)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, aerr := s.commandScopeLocked(r.p)
	if aerr != nil {
		return nil, aerr
	}
	if len(cmds) == 0 {
		delete(s.commands, key)
	} else {
		s.commands[key] = cmds
	}
	s.broadcastLocked()
	return true, nil
}

// getMyCommands implements https://core.telegram.org/bots/api#getmycommands:
// the commands of exactly that scope and language, without fallback.
func getMyCommands(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, aerr := s.commandScopeLocked(r.p)
	if aerr != nil {
		return nil, aerr
	}
	cmds := s.commands[key]
	if cmds == nil {
		cmds = []models.BotCommand{}
	}
	return cmds, nil
}

// deleteMyCommands implements https://core.telegram.org/bots/api#deletemycommands.
func deleteMyCommands(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, aerr := s.commandScopeLocked(r.p)
	if aerr != nil {
		return nil, aerr
	}
	delete(s.commands, key)
	s.broadcastLocked()
	return true, nil
}

// getChat implements https://core.telegram.org/bots/api#getchat.
func getChat(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type != ChatTypePrivate {
		if aerr := s.canWriteLocked(c); aerr != nil && aerr.code == 403 {
			return nil, aerr
		}
	}
	w := s.wChatLocked(c)
	info := map[string]any{
		"id":                 w.ID,
		"type":               w.Type,
		"accent_color_id":    0,
		"max_reaction_count": 11,
	}
	for k, v := range map[string]string{"title": w.Title, "username": w.Username, "first_name": w.FirstName, "last_name": w.LastName} {
		if v != "" {
			info[k] = v
		}
	}
	return info, nil
}

// memberLocked returns the ChatMember of user id in c.
func (s *Server) memberLocked(c *chatState, id int64) (map[string]any, *apiError) {
	if id == s.botID {
		status := c.botStatus
		if status == "" {
			status = StatusLeft
		}
		return memberJSON(status, s.BotUser()), nil
	}
	u, ok := s.users[id]
	if !ok {
		return nil, badRequest("user not found")
	}
	if c.Type == ChatTypePrivate {
		if id != c.ID {
			return nil, badRequest("user not found")
		}
		return memberJSON(StatusMember, u), nil
	}
	return memberJSON(c.memberStatus(id), u), nil
}

// getChatMember implements https://core.telegram.org/bots/api#getchatmember.
func getChatMember(s *Server, r *request) (any, *apiError) {
	uid, ok := r.p.int64("user_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if !ok || uid <= 0 {
		return nil, badRequest("invalid user_id specified")
	}
	if c.Type != ChatTypePrivate {
		if aerr := s.canWriteLocked(c); aerr != nil && aerr.code == 403 {
			return nil, aerr
		}
	}
	return s.memberLocked(c, uid)
}

// getChatAdministrators implements
// https://core.telegram.org/bots/api#getchatadministrators: the creator,
// then the administrators by id, then the bot if it is one.
func getChatAdministrators(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type == ChatTypePrivate {
		return nil, badRequest("there are no administrators in the private chat")
	}
	if aerr := s.canWriteLocked(c); aerr != nil && aerr.code == 403 {
		return nil, aerr
	}
	out := []map[string]any{}
	if u, ok := s.users[c.creator]; ok {
		out = append(out, memberJSON(StatusCreator, u))
	}
	var ids []int64
	for id := range c.admins {
		if id != c.creator {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		out = append(out, memberJSON(StatusAdministrator, s.users[id]))
	}
	if c.botStatus == StatusAdministrator {
		out = append(out, memberJSON(StatusAdministrator, s.BotUser()))
	}
	return out, nil
}

// getChatMemberCount implements https://core.telegram.org/bots/api#getchatmembercount.
func getChatMemberCount(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type == ChatTypePrivate {
		return 2, nil
	}
	n := len(c.members)
	if c.botStatus == StatusMember || c.botStatus == StatusAdministrator {
		n++
	}
	return n, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

// sendChatAction implements https://core.telegram.org/bots/api#sendchataction.
func sendChatAction(s *Server, r *request) (any, *apiError) {
	if strings.TrimSpace(r.p.str("chat_id")) == "" {
		return nil, badRequest("chat_id is empty")
	}
	action := r.p.str("action")
	if !chatActions[action] {
		return nil, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.canWriteLocked(c); aerr != nil {
		return nil, aerr
	}
	s.actions[c.ID] = append(s.actions[c.ID], action)
	s.broadcastLocked()
	return true, nil
}

// leaveChat implements https://core.telegram.org/bots/api#leavechat; the bot
// gets the my_chat_member update of its leaving.
func leaveChat(s *Server, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.resolveChatLocked(r.p.str("chat_id"))
	if aerr != nil {
		return nil, aerr
	}
	if c.Type == ChatTypePrivate {
		return nil, badRequest("chat member status can't be changed in private chats")
	}
	if aerr := s.canWriteLocked(c); aerr != nil && aerr.code == 403 {
		return nil, aerr
	}
	s.setBotStatusLocked(c, s.BotUser(), StatusLeft)
	return true, nil
}
