package tgemu

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxMessageLength is Telegram's limit on the visible text of a message, in
// UTF-16 code units (https://core.telegram.org/bots/api#sendmessage).
const maxMessageLength = 4096

// parseError is a failure to parse formatted text. Its text follows Telegram's
// wording; the API prefixes it with "can't parse entities: ".
type parseError string

func (e parseError) Error() string { return string(e) }

// textBuilder accumulates visible text, counting its length in UTF-16 code
// units as Telegram does for entity offsets.
type textBuilder struct {
	b   strings.Builder
	u16 int
}

func (t *textBuilder) writeRune(r rune) {
	t.b.WriteRune(r)
	t.u16 += utf16Len(r)
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// utf16Count returns the length of s in UTF-16 code units: an emoji outside
// the BMP counts 2.
func utf16Count(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Len(r)
	}
	return n
}

// formatText turns the text and parse_mode/entities parameters into the
// visible text and its entities, like the Bot API does before sending
// (https://core.telegram.org/bots/api#formatting-options). The error is the
// API error to answer.
func (s *Server) formatText(text, parseMode, entitiesJSON string) (string, []Entity, *apiError) {
	var (
		plain string
		ents  []Entity
		err   error
	)
	switch strings.ToLower(parseMode) {
	case "", "none":
		plain = text
		if entitiesJSON != "" {
			var aerr *apiError
			if ents, aerr = parseEntitiesJSON(entitiesJSON, utf16Count(text)); aerr != nil {
				return "", nil, aerr
			}
		}
	case "html":
		plain, ents, err = parseHTML(text, !s.lenientHTML)
	case "markdownv2", "markdown":
		// Herald sends only HTML: the Markdown dialects are not emulated.
		return "", nil, badRequest("unsupported parse_mode: the fake parses only HTML, not " + parseMode + " (the fake is stricter than Telegram here)")
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	if err != nil {
		return "", nil, badRequest("can't parse entities: " + err.Error())
	}
	plain, ents = trimText(plain, ents)
	return plain, ents, nil
}

// checkTextLength applies Telegram's checks on the final visible text: a
// text that is only whitespace (or only tags) is rejected like an empty one,
// and the limit counts UTF-16 code units.
func checkTextLength(plain string, tooLong string) *apiError {
	if plain == "" {
		return badRequest("text must be non-empty")
	}
	if utf16Count(plain) > maxMessageLength {
		return badRequest(tooLong)
	}
	return nil
}

var entityTypes = map[string]bool{
	"mention": true, "hashtag": true, "cashtag": true, "bot_command": true, "url": true,
	"email": true, "phone_number": true, "bold": true, "italic": true, "underline": true,
	"strikethrough": true, "spoiler": true, "blockquote": true, "expandable_blockquote": true,
	"code": true, "pre": true, "text_link": true, "text_mention": true, "custom_emoji": true,
	"date_time": true,
}

// parseEntitiesJSON decodes and checks an explicit entities parameter
// (https://core.telegram.org/bots/api#messageentity) the way the Bot API does.
func parseEntitiesJSON(raw string, textLen int) ([]Entity, *apiError) {
	var in []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return nil, badRequest("can't parse entities JSON object")
	}
	var ents []Entity
	for _, obj := range in {
		field := func(name string, dst any) *apiError {
			v, ok := obj[name]
			if !ok {
				return badRequest(fmt.Sprintf(`can't parse MessageEntity: Can't find field "%s"`, name))
			}
			if err := json.Unmarshal(v, dst); err != nil {
				typ := "Object"
				switch dst.(type) {
				case *string:
					typ = "String"
				case *int:
					typ = "Integer"
				}
				return badRequest(fmt.Sprintf(`can't parse MessageEntity: Field "%s" must be of type %s`, name, typ))
			}
			return nil
		}
		var e Entity
		if err := field("type", &e.Type); err != nil {
			return nil, err
		}
		if err := field("offset", &e.Offset); err != nil {
			return nil, err
		}
		if err := field("length", &e.Length); err != nil {
			return nil, err
		}
		if !entityTypes[e.Type] {
			return nil, badRequest("can't parse MessageEntity: Unsupported type specified")
		}
		switch e.Type {
		case "text_link":
			if err := field("url", &e.URL); err != nil {
				return nil, err
			}
			u, ok := checkLink(e.URL)
			switch {
			case strings.TrimSpace(e.URL) == "":
				return nil, badRequest(fmt.Sprintf("entity URL '%s' is invalid: URL host is empty", e.URL))
			case !ok:
				return nil, badRequest(fmt.Sprintf("entity URL '%s' is invalid: Wrong HTTP URL", e.URL))
			}
			e.URL = u
		case "text_mention":
			var u struct {
				ID int64 `json:"id"`
			}
			if err := field("user", &u); err != nil {
				return nil, err
			}
			if u.ID <= 0 {
				return nil, badRequest("user not found")
			}
			e.UserID = u.ID
		case "custom_emoji":
			if err := field("custom_emoji_id", &e.CustomEmojiID); err != nil {
				return nil, err
			}
			if v, err := strconv.ParseInt(e.CustomEmojiID, 10, 64); err != nil || v == 0 {
				return nil, badRequest(`can't parse MessageEntity: Field "custom_emoji_id" must be a valid Number`)
			}
		case "pre":
			if v, ok := obj["language"]; ok {
				json.Unmarshal(v, &e.Language)
			}
		}
		switch {
		case e.Offset < 0:
			return nil, badRequest(fmt.Sprintf("receive an entity with incorrect offset %d", e.Offset))
		case e.Length <= 0:
			return nil, badRequest(fmt.Sprintf("receive an entity with incorrect length %d", e.Length))
		case e.Offset > textLen:
			return nil, badRequest(fmt.Sprintf("entity begins after the end of the text at UTF-16 offset %d", e.Offset))
		case e.Offset+e.Length > textLen:
			return nil, badRequest(fmt.Sprintf("entity beginning at UTF-16 offset %d ends after the end of the text at UTF-16 offset %d", e.Offset, e.Offset+e.Length))
		}
		ents = append(ents, e)
	}
	sortEntities(ents)
	return ents, nil
}

// sortEntities orders entities like Telegram: by offset, the longer first.
func sortEntities(ents []Entity) {
	sort.SliceStable(ents, func(i, j int) bool {
		if ents[i].Offset != ents[j].Offset {
			return ents[i].Offset < ents[j].Offset
		}
		return ents[i].Length > ents[j].Length
	})
}

func isTrimSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', 0:
		return true
	}
	return false
}

// trimText strips leading and trailing whitespace from the visible text, as
// Telegram does before sending, and moves the entities accordingly.
func trimText(text string, ents []Entity) (string, []Entity) {
	start, lead := 0, 0
	for start < len(text) {
		r, size := utf8.DecodeRuneInString(text[start:])
		if !isTrimSpace(r) {
			break
		}
		start += size
		lead += utf16Len(r)
	}
	end := len(text)
	for end > start {
		r, size := utf8.DecodeLastRuneInString(text[start:end])
		if !isTrimSpace(r) {
			break
		}
		end -= size
	}
	text = text[start:end]
	total := utf16Count(text)
	out := make([]Entity, 0, len(ents))
	for _, e := range ents {
		b, f := e.Offset-lead, e.Offset-lead+e.Length
		b, f = max(b, 0), min(f, total)
		if f > b {
			e.Offset, e.Length = b, f-b
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return text, out
}

// linkEntity turns the URL of an <a href> or [text](url) into an entity the
// way Telegram does: tg://user?id=N is a mention of the user, a valid link a
// text_link, anything else is silently dropped.
func linkEntity(raw string, offset, length int) (Entity, bool) {
	if id, ok := tgUserID(raw); ok {
		return Entity{Type: "text_mention", Offset: offset, Length: length, UserID: id}, true
	}
	u, ok := checkLink(raw)
	if !ok {
		return Entity{}, false
	}
	return Entity{Type: "text_link", Offset: offset, Length: length, URL: u}, true
}

func tgUserID(raw string) (int64, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !strings.EqualFold(u.Scheme, "tg") || !strings.EqualFold(u.Host, "user") {
		return 0, false
	}
	id, err := strconv.ParseInt(u.Query().Get("id"), 10, 64)
	return id, err == nil && id > 0
}

// checkLink approximates tdlib's LinkManager::check_link: http, https, tg and
// ton links are accepted, a schemeless link gets "http://".
func checkLink(raw string) (string, bool) {
	s := strings.TrimSpace(raw)
	if s == "" || strings.ContainsAny(s, " \n\t") {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return "", false
		}
		return s, true
	case "tg", "ton", "tonsite":
		return s, true
	case "":
		u, err := url.Parse("http://" + s)
		if err != nil || !strings.Contains(u.Hostname(), ".") {
			return "", false
		}
		return "http://" + s, true
	}
	return "", false
}
