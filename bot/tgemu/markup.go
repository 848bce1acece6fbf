package tgemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// replyMarkup is a validated reply_markup parameter.
type replyMarkup struct {
	raw string
	// inline is the parsed inline keyboard; nil for the other kinds of markup.
	inline *InlineKeyboard
	// inlineJSON is the inline keyboard as returned in Message.reply_markup.
	inlineJSON json.RawMessage
	// webApp is set when a button opens a Web App, which only private chats
	// allow.
	webApp bool
}

// inlineButtonKinds are the optional fields of InlineKeyboardButton, exactly
// one of which a button must use.
var inlineButtonKinds = []string{
	"url", "callback_data", "web_app", "login_url", "switch_inline_query",
	"switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
	"copy_text", "callback_game", "pay",
}

// parseReplyMarkup validates reply_markup
// (https://core.telegram.org/bots/api#inlinekeyboardmarkup and friends) the
// way the Bot API does, with its error messages. An empty parameter is no
// markup.
func parseReplyMarkup(raw string) (*replyMarkup, *apiError) {
	if raw == "" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return nil, badRequest("can't parse reply keyboard markup JSON object")
	}
	if obj == nil {
		return nil, nil
	}
	for _, k := range []string{"force_reply", "remove_keyboard", "selective", "resize_keyboard", "one_time_keyboard", "is_persistent"} {
		if v, ok := obj[k]; ok {
			var b bool
			if json.Unmarshal(v, &b) != nil {
				return nil, badRequest(fmt.Sprintf(`field "%s" must be of type Boolean`, k))
			}
		}
	}
	m := &replyMarkup{raw: raw}
	if v, ok := obj["inline_keyboard"]; ok {
		var rows []json.RawMessage
		if err := json.Unmarshal(v, &rows); err != nil {
			return nil, badRequest(`field "inline_keyboard" must be of type Array`)
		}
		kb := &InlineKeyboard{}
		out := [][]json.RawMessage{}
		for _, rowRaw := range rows {
			var row []json.RawMessage
			if err := json.Unmarshal(rowRaw, &row); err != nil {
				return nil, badRequest(`field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays`)
			}
			if len(row) == 0 {
				continue // Telegram drops empty rows
			}
			var buttons []Button
			var outRow []json.RawMessage
			for _, braw := range row {
				b, norm, err := parseInlineButton(braw)
				if err != nil {
					return nil, err
				}
				if b.Kind == "web_app" {
					m.webApp = true
				}
				buttons = append(buttons, b)
				outRow = append(outRow, norm)
			}
			kb.Rows = append(kb.Rows, buttons)
			out = append(out, outRow)
		}
		m.inline = kb
		m.inlineJSON, _ = json.Marshal(map[string]any{"inline_keyboard": out})
		return m, nil
	}
	if v, ok := obj["keyboard"]; ok {
		var rows []json.RawMessage
		if err := json.Unmarshal(v, &rows); err != nil {
			return nil, badRequest(`field "keyboard" must be of type Array`)
		}
		for _, rowRaw := range rows {
			var row []json.RawMessage
			if err := json.Unmarshal(rowRaw, &row); err != nil {
				return nil, badRequest(`field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays`)
			}
			for _, b := range row {
				if err := checkKeyboardButton(b); err != nil {
					return nil, err
				}
			}
		}
		return m, nil
	}
	if isTrue(obj["remove_keyboard"]) || isTrue(obj["force_reply"]) {
		return m, nil
	}
	return nil, badRequest("can't parse reply keyboard markup JSON object")
}

// checkKeyboardButton validates a KeyboardButton of a reply keyboard: a
// string or an object with a text.
func checkKeyboardButton(raw json.RawMessage) *apiError {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return badRequest("can't parse keyboard button: expected an Object")
	}
	v, ok := obj["text"]
	if !ok {
		return badRequest(`can't parse keyboard button: Can't find field "text"`)
	}
	if json.Unmarshal(v, &s) != nil {
		return badRequest(`can't parse keyboard button: Field "text" must be of type String`)
	}
	if v, ok := obj["web_app"]; ok {
		var w struct {
			URL string `json:"url"`
		}
		json.Unmarshal(v, &w)
		if u, err := url.Parse(w.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			return badRequest(fmt.Sprintf("keyboard button Web App URL '%s' is invalid: Only HTTPS links are allowed", w.URL))
		}
	}
	return nil
}

func isTrue(v json.RawMessage) bool {
	var b bool
	return v != nil && json.Unmarshal(v, &b) == nil && b
}

// present tells whether an optional button field is used: Telegram ignores
// null, false and "" values.
func present(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "", "null", "false", `""`:
		return false
	}
	return true
}

// parseInlineButton validates one InlineKeyboardButton
// (https://core.telegram.org/bots/api#inlinekeyboardbutton) and returns it
// parsed and as normalized JSON.
func parseInlineButton(raw json.RawMessage) (Button, json.RawMessage, *apiError) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return Button{}, nil, badRequest("can't parse inline keyboard button: expected an Object")
	}
	var b Button
	v, ok := obj["text"]
	if !ok {
		return Button{}, nil, badRequest(`can't parse inline keyboard button: Can't find field "text"`)
	}
	if err := json.Unmarshal(v, &b.Text); err != nil {
		return Button{}, nil, badRequest(`can't parse inline keyboard button: Field "text" must be of type String`)
	}
	if strings.TrimSpace(b.Text) == "" {
		return Button{}, nil, badRequest("BUTTON_TEXT_INVALID")
	}
	norm := map[string]json.RawMessage{"text": v}
	for _, k := range []string{"style", "icon_custom_emoji_id"} {
		if v, ok := obj[k]; ok {
			norm[k] = v
		}
	}
	var kinds []string
	for _, k := range inlineButtonKinds {
		if present(obj[k]) {
			kinds = append(kinds, k)
			norm[k] = obj[k]
		}
	}
	switch len(kinds) {
	case 0:
		return Button{}, nil, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	case 1:
	default:
		// Telegram silently uses one of them; the fake insists, as the docs
		// say "exactly one of the optional fields must be used".
		return Button{}, nil, badRequest(fmt.Sprintf("can't parse inline keyboard button: exactly one of the optional fields must be used, got %s (the fake is stricter than Telegram here)", strings.Join(kinds, ", ")))
	}
	b.Kind = kinds[0]
	val := obj[b.Kind]
	switch b.Kind {
	case "callback_data":
		if err := json.Unmarshal(val, &b.CallbackData); err != nil {
			return Button{}, nil, badRequest(`can't parse inline keyboard button: Field "callback_data" must be of type String`)
		}
		// 1-64 bytes.
		if len(b.CallbackData) > 64 {
			return Button{}, nil, badRequest("BUTTON_DATA_INVALID")
		}
	case "url":
		if err := json.Unmarshal(val, &b.URL); err != nil {
			return Button{}, nil, badRequest(`can't parse inline keyboard button: Field "url" must be of type String`)
		}
		if reason := checkButtonURL(b.URL); reason != "" {
			return Button{}, nil, badRequest(fmt.Sprintf("inline keyboard button URL '%s' is invalid: %s", b.URL, reason))
		}
		// Telegram refuses hosts without a dot, such as localhost.
		if u, err := url.Parse(strings.TrimSpace(b.URL)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && !strings.Contains(u.Hostname(), ".") {
			return Button{}, nil, badRequest("BUTTON_URL_INVALID")
		}
	case "web_app", "login_url":
		var w struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(val, &w); err != nil {
			return Button{}, nil, badRequest(fmt.Sprintf(`can't parse inline keyboard button: Field "%s" must be of type Object`, b.Kind))
		}
		if u, err := url.Parse(w.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			if b.Kind == "web_app" {
				return Button{}, nil, badRequest(fmt.Sprintf("inline keyboard button Web App URL '%s' is invalid: Only HTTPS links are allowed", w.URL))
			}
			return Button{}, nil, badRequest("BUTTON_URL_INVALID")
		}
		b.URL = w.URL
	case "copy_text":
		var c struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(val, &c) != nil || c.Text == "" || utf8.RuneCountInString(c.Text) > 256 {
			return Button{}, nil, badRequest("BUTTON_COPY_TEXT_INVALID")
		}
	case "callback_game", "pay":
		// Games and invoices are not modelled; Telegram refuses these
		// buttons on plain text messages.
		return Button{}, nil, badRequest("BUTTON_TYPE_INVALID")
	}
	out, _ := json.Marshal(norm)
	return b, out, nil
}

// checkButtonURL returns why a url button's URL is invalid, or "".
func checkButtonURL(raw string) string {
	s := strings.TrimSpace(raw)
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return "Wrong HTTP URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" || strings.ContainsAny(u.Host, " _") {
			return "Wrong HTTP URL"
		}
		return ""
	case "tg":
		if u.Host == "" && u.Opaque == "" {
			return "Wrong URL"
		}
		return ""
	case "":
		if _, ok := checkLink(s); !ok {
			return "Wrong HTTP URL"
		}
		return ""
	}
	return "Unsupported URL protocol"
}
