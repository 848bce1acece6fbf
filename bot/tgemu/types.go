package tgemu

import (
	"fmt"
	"time"
	"unicode/utf16"
)

// Chat types, as in the "type" field of https://core.telegram.org/bots/api#chat.
const (
	ChatTypePrivate    = "private"
	ChatTypeGroup      = "group"
	ChatTypeSupergroup = "supergroup"
	ChatTypeChannel    = "channel"
)

// Chat member statuses, as in https://core.telegram.org/bots/api#chatmember.
const (
	StatusCreator       = "creator"
	StatusAdministrator = "administrator"
	StatusMember        = "member"
	StatusLeft          = "left"
	StatusKicked        = "kicked"
)

// User is a Telegram user driven by a test (or the bot itself, with IsBot).
// It mirrors https://core.telegram.org/bots/api#user.
type User struct {
	ID           int64
	FirstName    string
	LastName     string
	Username     string
	LanguageCode string
	IsBot        bool
}

// Chat identifies a chat. Type is one of the ChatType constants. Like in
// Telegram, a private chat has the id of the user on the other side, and group,
// supergroup and channel ids are negative (supergroups and channels are usually
// -100xxxxxxxxxx).
type Chat struct {
	ID       int64
	Type     string
	Title    string
	Username string
}

// PrivateChat returns the private chat between the bot and u. Its id is the
// user's id, as in Telegram.
func PrivateChat(u User) Chat {
	return Chat{ID: u.ID, Type: ChatTypePrivate, Username: u.Username}
}

// Group returns a basic group chat. The id must be negative.
func Group(id int64, title string) Chat {
	return Chat{ID: id, Type: ChatTypeGroup, Title: title}
}

// Supergroup returns a supergroup chat. The id must be negative.
func Supergroup(id int64, title string) Chat {
	return Chat{ID: id, Type: ChatTypeSupergroup, Title: title}
}

// Entity is a formatting or special entity of a message text, as in
// https://core.telegram.org/bots/api#messageentity. Offset and Length count
// UTF-16 code units, like in Telegram.
type Entity struct {
	// Type is the Bot API entity type: "bold", "italic", "underline",
	// "strikethrough", "spoiler", "code", "pre", "text_link", "text_mention",
	// "custom_emoji", "blockquote", "expandable_blockquote", "bot_command", ...
	Type          string
	Offset        int
	Length        int
	URL           string // text_link
	Language      string // pre
	CustomEmojiID string // custom_emoji
	UserID        int64  // text_mention
}

// Button is one button of an inline keyboard
// (https://core.telegram.org/bots/api#inlinekeyboardbutton).
type Button struct {
	Text string
	// Kind is the name of the optional field the button uses, e.g.
	// "callback_data", "url", "web_app", "switch_inline_query", "copy_text".
	Kind         string
	CallbackData string
	URL          string
}

// InlineKeyboard is a parsed inline keyboard attached to a message.
type InlineKeyboard struct {
	Rows [][]Button
}

// Buttons returns all the buttons of the keyboard, row by row.
func (k *InlineKeyboard) Buttons() []Button {
	if k == nil {
		return nil
	}
	var bs []Button
	for _, row := range k.Rows {
		bs = append(bs, row...)
	}
	return bs
}

// Button returns the first button whose text is text.
func (k *InlineKeyboard) Button(text string) (Button, bool) {
	for _, b := range k.Buttons() {
		if b.Text == text {
			return b, true
		}
	}
	return Button{}, false
}

// Message is the fake's view of a message, for inspection by tests.
type Message struct {
	ID     int
	ChatID int64
	// From is the sender: the bot (IsBot) for the bot's messages.
	From User
	// Text is the visible plain text, after entity parsing and the trimming
	// Telegram applies, as a Telegram client would show it.
	Text string
	// HTML is the text parameter exactly as sent (the HTML source when
	// ParseMode is set).
	HTML      string
	ParseMode string
	Entities  []Entity
	// ReplyMarkup is the inline keyboard attached to the message, if any.
	ReplyMarkup *InlineKeyboard
	// ReplyMarkupJSON is the reply_markup parameter as last sent, whatever its
	// kind (inline keyboard, reply keyboard, remove_keyboard, force_reply).
	ReplyMarkupJSON     string
	DisableNotification bool
	ProtectContent      bool
	// LinkPreviewDisabled records link_preview_options.is_disabled or the
	// legacy disable_web_page_preview.
	LinkPreviewDisabled bool
	// LinkPreviewOptions is the link_preview_options parameter as sent.
	LinkPreviewOptions string
	// ReplyToMessageID is the id of the message this one replies to, from
	// reply_parameters or the legacy reply_to_message_id.
	ReplyToMessageID int
	ThreadID         int
	Date             time.Time
	Edited           bool
	EditDate         time.Time
	Deleted          bool
}

// EntityText returns the part of m.Text that e covers.
func (m Message) EntityText(e Entity) string {
	u := utf16.Encode([]rune(m.Text))
	if e.Offset < 0 || e.Length < 0 || e.Offset+e.Length > len(u) {
		return ""
	}
	return string(utf16.Decode(u[e.Offset : e.Offset+e.Length]))
}

// String summarizes the message for failure dumps.
func (m Message) String() string {
	s := fmt.Sprintf("#%d from %s: %q", m.ID, m.From.display(), m.Text)
	if m.ReplyMarkup != nil {
		var names []string
		for _, b := range m.ReplyMarkup.Buttons() {
			names = append(names, fmt.Sprintf("[%s|%s]", b.Text, b.CallbackData+b.URL))
		}
		s += fmt.Sprintf(" buttons %v", names)
	}
	if m.Edited {
		s += " (edited)"
	}
	if m.Deleted {
		s += " (deleted)"
	}
	return s
}

func (u User) display() string {
	switch {
	case u.Username != "":
		return "@" + u.Username
	case u.FirstName != "":
		return u.FirstName
	}
	return fmt.Sprint(u.ID)
}

// Call records one Bot API request the fake served.
type Call struct {
	Method string
	// Params holds every parameter as a string; JSON-valued parameters
	// (reply_markup, commands, scope, ...) hold their JSON text.
	Params map[string]string
	Time   time.Time
	// Code is the HTTP status answered: 200, the error_code of an error, or 0
	// when a Fault dropped the connection.
	Code int
	// Description is the error description for failed calls.
	Description string
}

// OK reports whether the call succeeded.
func (c Call) OK() bool { return c.Code == 200 }

// Fault is an injected failure for one call of a method, see Server.FailNext.
type Fault struct {
	// Code is the error_code and HTTP status to answer. Zero means "answer
	// normally" (useful with Delay alone).
	Code int
	// Description is the error description. Empty means the standard text
	// for Code.
	Description string
	// RetryAfter sets parameters.retry_after.
	RetryAfter int
	// MigrateToChatID sets parameters.migrate_to_chat_id.
	MigrateToChatID int64
	// Delay holds the response back, as a slow network or overloaded API
	// would. It ends early when the request is cancelled.
	Delay time.Duration
	// Arrived, when set, is closed as the call arrives, before Delay: a
	// test learns that the request is in flight (to crash something then).
	Arrived chan struct{}
	// DropConnection closes the connection without an answer.
	DropConnection bool
	// Body, when set, is sent verbatim (e.g. an HTML error page) instead of a
	// JSON answer, with Code as HTTP status.
	Body string
}

// TooManyRequests is the flood-control answer Telegram gives: 429 with
// parameters.retry_after.
func TooManyRequests(retryAfter int) Fault {
	return Fault{
		Code:        429,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		RetryAfter:  retryAfter,
	}
}

// ServerError is a 500 answered with a JSON body, as Telegram does when the
// Bot API server itself fails.
func ServerError() Fault {
	return Fault{Code: 500, Description: "Internal Server Error"}
}

// BadGateway is the 502 HTML page that the nginx in front of the Bot API
// returns while the API is down or restarting; it is not JSON.
func BadGateway() Fault {
	return Fault{
		Code: 502,
		Body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n",
	}
}

// Blocked is the 403 Telegram answers when the user blocked the bot.
func Blocked() Fault {
	return Fault{Code: 403, Description: "Forbidden: bot was blocked by the user"}
}

// Migrated is the 400 Telegram answers for a group upgraded to a supergroup.
func Migrated(newChatID int64) Fault {
	return Fault{
		Code:            400,
		Description:     "Bad Request: group chat was upgraded to a supergroup chat",
		MigrateToChatID: newChatID,
	}
}

// CallbackAnswer is what the bot answered to a callback query.
type CallbackAnswer struct {
	Text      string
	ShowAlert bool
	URL       string
	CacheTime int
}
