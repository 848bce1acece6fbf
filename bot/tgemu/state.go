package tgemu

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// chatState is everything the fake knows about a chat. Guarded by Server.mu.
type chatState struct {
	Chat
	// known is whether the chat exists for the bot: Telegram answers "chat
	// not found" for chats the bot never interacted with.
	known bool
	// botStatus is the bot's membership: member, administrator, left or
	// kicked (for a private chat, kicked means the user blocked the bot).
	botStatus    string
	migratedTo   int64
	migratedFrom int64
	creator      int64
	admins       map[int64]bool
	members      map[int64]bool
	msgs         []*message
	nextMsgID    int
}

func (c *chatState) message(id int) *message {
	for _, m := range c.msgs {
		if m.id == id {
			return m
		}
	}
	return nil
}

func (c *chatState) isGroup() bool {
	return c.Type == ChatTypeGroup || c.Type == ChatTypeSupergroup
}

// memberStatus returns the status of user id in the chat.
func (c *chatState) memberStatus(id int64) string {
	switch {
	case c.creator == id:
		return StatusCreator
	case c.admins[id]:
		return StatusAdministrator
	case c.members[id]:
		return StatusMember
	}
	return StatusLeft
}

// message is a message of a chat, from the bot or from a user.
type message struct {
	id      int
	chatID  int64
	seq     int64
	from    User
	fromBot bool
	date    time.Time

	text      string
	raw       string
	parseMode string
	entities  []Entity
	markup    *replyMarkup

	replyTo             int
	threadID            int
	disableNotification bool
	protectContent      bool
	linkPreviewDisabled bool
	linkPreviewOptions  string

	edited   bool
	editDate time.Time
	deleted  bool

	newChatMembers []User
	migrateTo      int64
	migrateFrom    int64
}

type callbackState struct {
	id       string
	from     User
	chatID   int64
	msgID    int
	data     string
	answered bool
	answer   CallbackAnswer
}

// chatLocked returns the state of chat id, creating an unknown one if needed.
func (s *Server) chatLocked(id int64) *chatState {
	c := s.chats[id]
	if c == nil {
		typ := ChatTypePrivate
		switch {
		case id <= -1000000000000:
			typ = ChatTypeSupergroup
		case id < 0:
			typ = ChatTypeGroup
		}
		c = &chatState{Chat: Chat{ID: id, Type: typ}, admins: map[int64]bool{}, members: map[int64]bool{}, nextMsgID: 1}
		s.chats[id] = c
	}
	return c
}

// registerChatLocked records what the caller says about a chat and returns its
// state. It panics on chats that can't exist in Telegram.
func (s *Server) registerChatLocked(ch Chat) *chatState {
	switch ch.Type {
	case ChatTypePrivate:
		if ch.ID <= 0 {
			panic("tgemu: a private chat has the (positive) id of its user, got " + strconv.FormatInt(ch.ID, 10))
		}
	case ChatTypeGroup, ChatTypeSupergroup, ChatTypeChannel:
		if ch.ID >= 0 {
			panic("tgemu: group, supergroup and channel ids are negative, got " + strconv.FormatInt(ch.ID, 10))
		}
	default:
		panic("tgemu: unknown chat type " + strconv.Quote(ch.Type))
	}
	c := s.chatLocked(ch.ID)
	c.Type = ch.Type
	if ch.Title != "" {
		c.Title = ch.Title
	}
	if ch.Username != "" {
		c.Username = strings.TrimPrefix(ch.Username, "@")
	}
	return c
}

func (s *Server) registerUserLocked(u User) {
	if u.ID <= 0 {
		panic("tgemu: user ids are positive, got " + strconv.FormatInt(u.ID, 10))
	}
	s.users[u.ID] = u
	if c := s.chats[u.ID]; c != nil && u.Username != "" {
		c.Username = u.Username
	}
}

func (s *Server) wChatLocked(c *chatState) wChat {
	w := wChat{ID: c.ID, Type: c.Type, Username: c.Username}
	if c.Type == ChatTypePrivate {
		if u, ok := s.users[c.ID]; ok {
			w.FirstName, w.LastName, w.Username = u.FirstName, u.LastName, u.Username
		}
		if w.FirstName == "" {
			w.FirstName = "User"
		}
	} else {
		w.Title = c.Title
		if w.Title == "" {
			w.Title = "Chat " + strconv.FormatInt(c.ID, 10)
		}
	}
	return w
}

// wMessageLocked renders m as the Bot API does, with reply_to_message one
// level deep.
func (s *Server) wMessageLocked(m *message, withReply bool) *wMessage {
	c := s.chats[m.chatID]
	w := &wMessage{
		MessageID:       m.id,
		MessageThreadID: m.threadID,
		Chat:            s.wChatLocked(c),
		Date:            m.date.Unix(),
		Text:            m.text,
		Entities:        toWEntities(m.entities, s.users),
		HasProtected:    m.protectContent,
		MigrateToChatID: m.migrateTo,
	}
	w.MigrateFromChatID = m.migrateFrom
	if c.Type == ChatTypeChannel {
		sc := w.Chat
		w.SenderChat = &sc
	} else {
		from := toWUser(m.from)
		w.From = &from
	}
	if m.edited {
		w.EditDate = m.editDate.Unix()
	}
	for _, u := range m.newChatMembers {
		w.NewChatMembers = append(w.NewChatMembers, toWUser(u))
	}
	if m.linkPreviewDisabled {
		w.LinkPreviewOptions = json.RawMessage(`{"is_disabled":true}`)
	}
	if m.markup != nil && m.markup.inline != nil && len(m.markup.inline.Rows) > 0 {
		w.ReplyMarkup = m.markup.inlineJSON
	}
	if withReply && m.replyTo != 0 {
		if r := c.message(m.replyTo); r != nil && !r.deleted {
			w.ReplyToMessage = s.wMessageLocked(r, false)
		}
	}
	return w
}

// addMessageLocked assigns the next id of the chat to m and stores it.
func (s *Server) addMessageLocked(c *chatState, m *message) {
	m.id = c.nextMsgID
	c.nextMsgID++
	s.msgSeq++
	m.seq = s.msgSeq
	m.chatID = c.ID
	c.msgs = append(c.msgs, m)
	s.broadcastLocked()
}

func (m *message) public() Message {
	pm := Message{
		ID:                  m.id,
		ChatID:              m.chatID,
		From:                m.from,
		Text:                m.text,
		HTML:                m.raw,
		ParseMode:           m.parseMode,
		Entities:            slices.Clone(m.entities),
		DisableNotification: m.disableNotification,
		ProtectContent:      m.protectContent,
		LinkPreviewDisabled: m.linkPreviewDisabled,
		LinkPreviewOptions:  m.linkPreviewOptions,
		ReplyToMessageID:    m.replyTo,
		ThreadID:            m.threadID,
		Date:                m.date,
		Edited:              m.edited,
		EditDate:            m.editDate,
		Deleted:             m.deleted,
	}
	if m.markup != nil {
		pm.ReplyMarkupJSON = m.markup.raw
		if m.markup.inline != nil && len(m.markup.inline.Rows) > 0 {
			kb := &InlineKeyboard{}
			for _, row := range m.markup.inline.Rows {
				kb.Rows = append(kb.Rows, slices.Clone(row))
			}
			pm.ReplyMarkup = kb
		}
	}
	return pm
}

// Messages returns the messages the bot sent to chatID, in order, in their
// current state (edited text, Deleted set for deleted ones).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID, true)
}

// ChatHistory returns every message of chatID, the users' included, in order.
func (s *Server) ChatHistory(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID, false)
}

func (s *Server) messagesLocked(chatID int64, botOnly bool) []Message {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []Message
	for _, m := range c.msgs {
		if !botOnly || m.fromBot {
			out = append(out, m.public())
		}
	}
	return out
}

// AllMessages returns the messages the bot sent to any chat, in the order
// they were sent.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ms []*message
	for _, c := range s.chats {
		for _, m := range c.msgs {
			if m.fromBot {
				ms = append(ms, m)
			}
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].seq < ms[j].seq })
	out := make([]Message, len(ms))
	for k, m := range ms {
		out[k] = m.public()
	}
	return out
}

// Message returns message id of chatID, whoever sent it.
func (s *Server) Message(chatID int64, id int) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		if m := c.message(id); m != nil {
			return m.public(), true
		}
	}
	return Message{}, false
}

// AwaitMessage waits for a message of the bot in chatID that match accepts
// (nil accepts any) and returns the first such message, in chat order, even
// one sent before the call. It fails when ctx ends.
func (s *Server) AwaitMessage(ctx context.Context, chatID int64, match func(Message) bool) (Message, error) {
	for {
		s.mu.Lock()
		for _, m := range s.messagesLocked(chatID, true) {
			if match == nil || match(m) {
				s.mu.Unlock()
				return m, nil
			}
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// AwaitMessages waits until the bot sent at least n messages to chatID
// (deleted ones included) and returns them all.
func (s *Server) AwaitMessages(ctx context.Context, chatID int64, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		ms := s.messagesLocked(chatID, true)
		wake := s.wake
		s.mu.Unlock()
		if len(ms) >= n {
			return ms, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ms, ctx.Err()
		}
	}
}

// CallbackAnswered reports whether the bot answered callback query id and
// the text it answered.
func (s *Server) CallbackAnswered(id string) (text string, ok bool) {
	a, ok := s.CallbackAnswer(id)
	return a.Text, ok
}

// CallbackAnswer returns the bot's full answer to callback query id, if any.
func (s *Server) CallbackAnswer(id string) (CallbackAnswer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || !cb.answered {
		return CallbackAnswer{}, false
	}
	return cb.answer, true
}

// Commands returns the commands set with setMyCommands for a scope and a
// language code ("" for all languages). scope is the scope type ("" or
// "default", "all_private_chats", "all_group_chats",
// "all_chat_administrators") or, for scopes bound to a chat,
// "chat:<chat_id>", "chat_administrators:<chat_id>" and
// "chat_member:<chat_id>:<user_id>".
func (s *Server) Commands(scope, languageCode string) []models.BotCommand {
	if scope == "" {
		scope = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands[scope+"|"+languageCode])
}

// ChatActions returns the actions sent with sendChatAction to chatID.
func (s *Server) ChatActions(chatID int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.actions[chatID])
}

// BotStatus returns the bot's membership status in chatID: member,
// administrator, left or kicked ("kicked" in a private chat means the user
// blocked the bot), or "" for an unknown chat.
func (s *Server) BotStatus(chatID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil && c.known {
		return c.botStatus
	}
	return ""
}

// Dump describes chatID for failure messages: every message, users' and the
// bot's, and the failed calls concerning the chat.
func (s *Server) Dump(chatID int64) string {
	var b strings.Builder
	hist := s.ChatHistory(chatID)
	fmt.Fprintf(&b, "chat %d has %d message(s):\n", chatID, len(hist))
	for _, m := range hist {
		fmt.Fprintf(&b, "  %s\n", m)
	}
	id := strconv.FormatInt(chatID, 10)
	for _, c := range s.Calls("") {
		if c.Code != 200 && c.Params["chat_id"] == id {
			fmt.Fprintf(&b, "failed %s: %d %s (text %q)\n", c.Method, c.Code, c.Description, c.Params["text"])
		}
	}
	return b.String()
}
