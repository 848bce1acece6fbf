package tgemu

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// This file holds the methods that act as Telegram users: each changes the
// fake's state and queues the updates Telegram would send the bot
// (https://core.telegram.org/bots/api#update).

// UserSends delivers a text message from `from` in chat, as a "message"
// update (a "channel_post" in a channel), and returns its message id. A text
// starting with a command gets a bot_command entity, as Telegram adds. The
// private chat of from (or the group) starts to exist for the bot; writing
// to a bot one has blocked unblocks it first, as Telegram clients do.
func (s *Server) UserSends(from User, chat Chat, text string) (messageID int) {
	return s.userMessage(from, chat, text, 0)
}

// UserReplies is UserSends with the message replying to replyToMessageID,
// the bot's or a user's. The update carries reply_to_message, unless that
// message was deleted.
func (s *Server) UserReplies(from User, chat Chat, replyToMessageID int, text string) (messageID int) {
	return s.userMessage(from, chat, text, replyToMessageID)
}

func (s *Server) userMessage(from User, chat Chat, text string, replyTo int) int {
	if text == "" {
		panic("tgemu: a text message can't be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(from)
	c := s.registerChatLocked(chat)
	if c.migratedTo != 0 {
		panic(fmt.Sprintf("tgemu: chat %d was upgraded to supergroup %d", c.ID, c.migratedTo))
	}
	if c.Type == ChatTypePrivate {
		if c.ID != from.ID {
			panic(fmt.Sprintf("tgemu: user %d can't write in the private chat of user %d", from.ID, c.ID))
		}
		if c.botStatus == StatusKicked {
			s.setBotStatusLocked(c, from, StatusMember)
		}
	} else if c.Type != ChatTypeChannel && c.memberStatus(from.ID) == StatusLeft {
		c.members[from.ID] = true
	}
	if c.botStatus == "" {
		c.botStatus = StatusMember
	}
	c.known = true
	m := &message{from: from, date: s.now(), text: text, raw: text, entities: s.commandEntity(text), replyTo: replyTo}
	s.addMessageLocked(c, m)
	if s.botReceivesLocked(c, m) {
		s.enqueueLocked(messageKind(c, false), s.wMessageLocked(m, true))
	}
	return m.id
}

func messageKind(c *chatState, edited bool) string {
	kind := "message"
	if c.Type == ChatTypeChannel {
		kind = "channel_post"
	}
	if edited {
		kind = "edited_" + kind
	}
	return kind
}

// commandEntity returns the bot_command entity of a text starting with
// "/command" or "/command@botname".
func (s *Server) commandEntity(text string) []Entity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	isWord := func(c byte) bool { return isASCIIAlnum(c) || c == '_' }
	n := 1
	for n < len(text) && n <= 64 && isWord(text[n]) {
		n++
	}
	if n == 1 {
		return nil
	}
	if n < len(text) && text[n] == '@' {
		k := n + 1
		for k < len(text) && isWord(text[k]) {
			k++
		}
		if k-n-1 >= 3 {
			n = k
		}
	}
	return []Entity{{Type: "bot_command", Offset: 0, Length: n}}
}

// botReceivesLocked tells whether the bot gets an update for m.
func (s *Server) botReceivesLocked(c *chatState, m *message) bool {
	if c.botStatus != StatusMember && c.botStatus != StatusAdministrator {
		return false
	}
	if !s.groupPrivacy || !c.isGroup() || c.botStatus == StatusAdministrator {
		return true
	}
	if strings.HasPrefix(m.text, "/") || strings.Contains(strings.ToLower(m.text), "@"+strings.ToLower(s.botUsername)) {
		return true
	}
	if m.newChatMembers != nil || m.migrateFrom != 0 || m.migrateTo != 0 {
		return true
	}
	r := c.message(m.replyTo)
	return r != nil && r.fromBot
}

// UserEdits changes the text of a message `from` sent, as an
// "edited_message" update. It panics if there is no such message.
func (s *Server) UserEdits(from User, chat Chat, messageID int, newText string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chat.ID]
	var m *message
	if c != nil {
		m = c.message(messageID)
	}
	if m == nil || m.deleted || m.fromBot || m.from.ID != from.ID {
		panic(fmt.Sprintf("tgemu: UserEdits: user %d sent no message %d in chat %d", from.ID, messageID, chat.ID))
	}
	m.text, m.raw, m.entities = newText, newText, s.commandEntity(newText)
	m.edited, m.editDate = true, s.now()
	s.broadcastLocked()
	if s.botReceivesLocked(c, m) {
		s.enqueueLocked(messageKind(c, true), s.wMessageLocked(m, true))
	}
}

// PressButton delivers a "callback_query" update as if from pressed a button
// with callback data `data` under message messageID, and returns the query
// id. The update carries the message as it is now (an inaccessible message,
// date 0, if it is unknown or deleted). Use CallbackAnswered to check that
// the bot answered; ClickButton of bot/telegramtest also checks that the
// button exists.
func (s *Server) PressButton(from User, chat Chat, messageID int, data string) (callbackQueryID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(from)
	c := s.registerChatLocked(chat)
	if c.Type == ChatTypePrivate {
		if c.ID != from.ID {
			panic(fmt.Sprintf("tgemu: user %d can't press buttons in the private chat of user %d", from.ID, c.ID))
		}
		if c.botStatus == "" {
			c.botStatus = StatusMember
		}
		c.known = true
	}
	s.cbSeq++
	id := strconv.FormatInt(2214587301287650000+s.cbSeq*7919, 10)
	var msg any
	if m := c.message(messageID); m != nil && !m.deleted {
		msg = s.wMessageLocked(m, true)
	} else {
		msg = wInaccessibleMessage{Chat: s.wChatLocked(c), MessageID: messageID, Date: 0}
	}
	s.callbacks[id] = &callbackState{id: id, from: from, chatID: c.ID, msgID: messageID, data: data}
	s.enqueueLocked("callback_query", wCallbackQuery{
		ID:           id,
		From:         toWUser(from),
		Message:      msg,
		ChatInstance: strconv.FormatInt(c.ID*-7919+4611686018427387, 10),
		Data:         data,
	})
	return id
}

// setBotStatusLocked changes the bot's membership in c and queues the
// "my_chat_member" update Telegram sends about it.
func (s *Server) setBotStatusLocked(c *chatState, by User, status string) {
	old := c.botStatus
	if old == "" {
		old = StatusLeft
		if c.Type == ChatTypePrivate {
			old = StatusMember
		}
	}
	c.botStatus, c.known = status, true
	s.broadcastLocked()
	s.enqueueLocked("my_chat_member", wChatMemberUpdated{
		Chat:          s.wChatLocked(c),
		From:          toWUser(by),
		Date:          s.now().Unix(),
		OldChatMember: memberJSON(old, s.BotUser()),
		NewChatMember: memberJSON(status, s.BotUser()),
	})
}

// AddBotToChat adds the bot to a group, supergroup or channel (to a channel as
// an administrator, the only way bots join channels). The bot gets a
// "my_chat_member" update (left → member) and, in groups, the
// new_chat_members service message. The chat then exists for the bot.
func (s *Server) AddBotToChat(by User, chat Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if chat.Type == ChatTypePrivate {
		panic("tgemu: AddBotToChat needs a group, supergroup or channel")
	}
	s.registerUserLocked(by)
	c := s.registerChatLocked(chat)
	if c.botStatus == StatusMember || c.botStatus == StatusAdministrator {
		return
	}
	if c.memberStatus(by.ID) == StatusLeft {
		c.members[by.ID] = true
	}
	status := StatusMember
	if c.Type == ChatTypeChannel {
		status = StatusAdministrator
	}
	s.setBotStatusLocked(c, by, status)
	if c.isGroup() {
		m := &message{from: by, date: s.now(), newChatMembers: []User{s.BotUser()}}
		s.addMessageLocked(c, m)
		s.enqueueLocked("message", s.wMessageLocked(m, false))
	}
}

// MakeBotAdmin promotes the bot to administrator of a chat it is in, with a
// "my_chat_member" update.
func (s *Server) MakeBotAdmin(by User, chat Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(by)
	c := s.registerChatLocked(chat)
	if c.botStatus != StatusAdministrator {
		s.setBotStatusLocked(c, by, StatusAdministrator)
	}
}

// RemoveBotFromChat has `by` remove the bot from a group, supergroup or
// channel: a "my_chat_member" update (→ kicked), after which sending there
// fails with 403 "Forbidden: bot was kicked from the group chat".
func (s *Server) RemoveBotFromChat(by User, chat Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(by)
	c := s.registerChatLocked(chat)
	if c.botStatus != StatusKicked {
		s.setBotStatusLocked(c, by, StatusKicked)
	}
}

// UserBlocksBot has u block the bot: a "my_chat_member" update (member →
// kicked), after which sending to u fails with 403 "Forbidden: bot was
// blocked by the user".
func (s *Server) UserBlocksBot(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(u)
	c := s.registerChatLocked(PrivateChat(u))
	if c.botStatus != StatusKicked {
		s.setBotStatusLocked(c, u, StatusKicked)
	}
}

// UserUnblocksBot undoes UserBlocksBot (kicked → member).
func (s *Server) UserUnblocksBot(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(u)
	c := s.registerChatLocked(PrivateChat(u))
	if c.botStatus == StatusKicked {
		s.setBotStatusLocked(c, u, StatusMember)
	}
}

// KnownChat makes chat exist for the bot without any update, as if it had
// interacted with the bot long ago; the bot is a member of it (an
// administrator of a channel).
func (s *Server) KnownChat(chat Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knownChatLocked(chat)
}

func (s *Server) knownChatLocked(chat Chat) {
	c := s.registerChatLocked(chat)
	c.known = true
	if c.botStatus == "" {
		c.botStatus = StatusMember
		if c.Type == ChatTypeChannel {
			c.botStatus = StatusAdministrator
		}
	}
}

// KnownUser registers u and makes its private chat with the bot exist, as if
// u had started the bot long ago.
func (s *Server) KnownUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(u)
	s.knownChatLocked(PrivateChat(u))
}

// SetChatAdmins makes users the administrators of chatID (replacing the
// previous ones; the creator stays apart, see SetChatOwner). It does not
// make the chat exist for the bot.
func (s *Server) SetChatAdmins(chatID int64, users ...User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	c.admins = map[int64]bool{}
	for _, u := range users {
		s.registerUserLocked(u)
		c.admins[u.ID] = true
		c.members[u.ID] = true
	}
}

// SetChatOwner makes u the creator of chatID.
func (s *Server) SetChatOwner(chatID int64, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(u)
	c := s.chatLocked(chatID)
	c.creator = u.ID
	c.members[u.ID] = true
}

// AddMember makes u a member of chatID.
func (s *Server) AddMember(chatID int64, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registerUserLocked(u)
	s.chatLocked(chatID).members[u.ID] = true
}

// RemoveMember makes u leave chatID (status "left").
func (s *Server) RemoveMember(chatID int64, u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	delete(c.members, u.ID)
	delete(c.admins, u.ID)
	if c.creator == u.ID {
		c.creator = 0
	}
}

// anonymousAdmin is the user Telegram shows for anonymous group admins.
var anonymousAdmin = User{ID: 1087968824, FirstName: "Group", Username: "GroupAnonymousBot", IsBot: true}

// MigrateToSupergroup upgrades group oldChatID to supergroup newChatID, as
// Telegram does when a group gets a supergroup feature
// (https://core.telegram.org/bots/api#message migrate_to_chat_id): the bot
// gets a service message with migrate_to_chat_id in the old chat and one with
// migrate_from_chat_id in the new one, which keeps the title, members and the
// bot's status. Afterwards every call on the old chat fails with 400 "Bad
// Request: group chat was upgraded to a supergroup chat" and
// parameters.migrate_to_chat_id.
func (s *Server) MigrateToSupergroup(oldChatID, newChatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[oldChatID]
	if c == nil || c.Type != ChatTypeGroup || c.migratedTo != 0 {
		panic(fmt.Sprintf("tgemu: MigrateToSupergroup: %d is not a basic group", oldChatID))
	}
	if newChatID >= 0 {
		panic(fmt.Sprintf("tgemu: MigrateToSupergroup: supergroup ids are negative, got %d", newChatID))
	}
	if nc := s.chats[newChatID]; nc != nil && nc.known {
		panic(fmt.Sprintf("tgemu: MigrateToSupergroup: chat %d already exists", newChatID))
	}
	nc := s.chatLocked(newChatID)
	nc.Chat = Chat{ID: newChatID, Type: ChatTypeSupergroup, Title: c.Title}
	nc.known, nc.botStatus = c.known, c.botStatus
	nc.creator = c.creator
	nc.admins, nc.members = maps.Clone(c.admins), maps.Clone(c.members)
	nc.migratedFrom = oldChatID
	c.migratedTo = newChatID

	by := anonymousAdmin
	if u, ok := s.users[c.creator]; ok {
		by = u
	}
	to := &message{from: by, date: s.now(), migrateTo: newChatID}
	s.addMessageLocked(c, to)
	from := &message{from: by, date: s.now(), migrateFrom: oldChatID}
	s.addMessageLocked(nc, from)
	if c.botStatus == StatusMember || c.botStatus == StatusAdministrator {
		s.enqueueLocked("message", s.wMessageLocked(to, false))
		s.enqueueLocked("message", s.wMessageLocked(from, false))
	}
}
