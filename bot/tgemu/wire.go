package tgemu

import (
	"encoding/json"
)

// The JSON shapes the Bot API answers and delivers, as documented in
// https://core.telegram.org/bots/api#available-types. They decode into the
// go-telegram/bot/models types.

type wUser struct {
	ID           int64  `json:"id"`
	IsBot        bool   `json:"is_bot"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name,omitempty"`
	Username     string `json:"username,omitempty"`
	LanguageCode string `json:"language_code,omitempty"`
}

func toWUser(u User) wUser {
	return wUser{ID: u.ID, IsBot: u.IsBot, FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, LanguageCode: u.LanguageCode}
}

type wChat struct {
	ID        int64  `json:"id"`
	Title     string `json:"title,omitempty"`
	Username  string `json:"username,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	Type      string `json:"type"`
}

type wEntity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	User          *wUser `json:"user,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

type wMessage struct {
	MessageID          int             `json:"message_id"`
	MessageThreadID    int             `json:"message_thread_id,omitempty"`
	From               *wUser          `json:"from,omitempty"`
	SenderChat         *wChat          `json:"sender_chat,omitempty"`
	Chat               wChat           `json:"chat"`
	Date               int64           `json:"date"`
	EditDate           int64           `json:"edit_date,omitempty"`
	ReplyToMessage     *wMessage       `json:"reply_to_message,omitempty"`
	HasProtected       bool            `json:"has_protected_content,omitempty"`
	Text               string          `json:"text,omitempty"`
	Entities           []wEntity       `json:"entities,omitempty"`
	LinkPreviewOptions json.RawMessage `json:"link_preview_options,omitempty"`
	NewChatMembers     []wUser         `json:"new_chat_members,omitempty"`
	LeftChatMember     *wUser          `json:"left_chat_member,omitempty"`
	MigrateToChatID    int64           `json:"migrate_to_chat_id,omitempty"`
	MigrateFromChatID  int64           `json:"migrate_from_chat_id,omitempty"`
	ReplyMarkup        json.RawMessage `json:"reply_markup,omitempty"`
}

// wInaccessibleMessage is https://core.telegram.org/bots/api#inaccessiblemessage:
// a deleted or unknown message, told apart by its date 0.
type wInaccessibleMessage struct {
	Chat      wChat `json:"chat"`
	MessageID int   `json:"message_id"`
	Date      int64 `json:"date"`
}

type wCallbackQuery struct {
	ID           string `json:"id"`
	From         wUser  `json:"from"`
	Message      any    `json:"message,omitempty"`
	ChatInstance string `json:"chat_instance"`
	Data         string `json:"data,omitempty"`
}

type wChatMemberUpdated struct {
	Chat          wChat          `json:"chat"`
	From          wUser          `json:"from"`
	Date          int64          `json:"date"`
	OldChatMember map[string]any `json:"old_chat_member"`
	NewChatMember map[string]any `json:"new_chat_member"`
}

// memberJSON is a ChatMember (https://core.telegram.org/bots/api#chatmember)
// of the given status.
func memberJSON(status string, u User) map[string]any {
	m := map[string]any{"status": status, "user": toWUser(u)}
	switch status {
	case StatusCreator:
		m["is_anonymous"] = false
	case StatusAdministrator:
		for k, v := range map[string]bool{
			"can_be_edited": false, "is_anonymous": false, "can_manage_chat": true,
			"can_delete_messages": true, "can_manage_video_chats": true,
			"can_restrict_members": true, "can_promote_members": false,
			"can_change_info": true, "can_invite_users": true, "can_pin_messages": true,
			"can_post_stories": true, "can_edit_stories": true, "can_delete_stories": true,
			"can_manage_topics": false,
		} {
			m[k] = v
		}
	case StatusKicked:
		m["until_date"] = 0
	}
	return m
}

func toWEntities(ents []Entity, users map[int64]User) []wEntity {
	if len(ents) == 0 {
		return nil
	}
	out := make([]wEntity, len(ents))
	for k, e := range ents {
		out[k] = wEntity{Type: e.Type, Offset: e.Offset, Length: e.Length, URL: e.URL, Language: e.Language, CustomEmojiID: e.CustomEmojiID}
		if e.Type == "text_mention" {
			u, ok := users[e.UserID]
			if !ok {
				u = User{ID: e.UserID, FirstName: "User"}
			}
			wu := toWUser(u)
			out[k].User = &wu
		}
	}
	return out
}
