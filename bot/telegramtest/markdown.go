package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The Markdown dialects of https://core.telegram.org/bots/api#formatting-options,
// following tdlib's parse_markdown_v2 and parse_markdown
// (td/telegram/MessageEntity.cpp), which the Bot API runs: same entities,
// same error messages, same byte offsets.

// mdTypeNames are tdlib's names of entity types, used in error messages.
var mdTypeNames = map[string]string{
	"bold": "Bold", "italic": "Italic", "underline": "Underline",
	"strikethrough": "Strikethrough", "spoiler": "Spoiler", "text_link": "TextUrl",
	"custom_emoji": "CustomEmoji", "code": "Code", "pre": "Pre",
	"blockquote": "BlockQuote",
}

type mdOpen struct {
	typ     string
	arg     string
	u16     int // UTF-16 offset in the visible text
	outByte int // byte offset in the visible text
	srcPos  int // byte offset of the entity's start in the source
}

func (o mdOpen) name() string {
	if o.typ == "pre" && o.arg != "" {
		return "PreCode"
	}
	return mdTypeNames[o.typ]
}

func isTDSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v'
}

func reservedError(c byte) error {
	return parseError(fmt.Sprintf("Character '%c' is reserved and must be escaped with the preceding '\\'", c))
}

// parseMarkdownV2 implements https://core.telegram.org/bots/api#markdownv2-style:
// every character of _*[]()~`>#+-=|{}.! outside entities must be escaped
// with '\'; inside `code` and ```pre``` only '`' is special.
func parseMarkdownV2(src string) (string, []Entity, error) {
	var (
		out        textBuilder
		stack      []mdOpen
		ents       []Entity
		haveQuote  bool
		quoteStart = true // a '>' here would start a block quotation
	)
	n := len(src)
	at := func(k int) byte {
		if k < n {
			return src[k]
		}
		return 0
	}
	for i := 0; i < n; i++ {
		c := src[i]
		if c == '\\' && at(i+1) > 0 && at(i+1) <= 126 {
			i++
			out.writeRune(rune(src[i]))
			if src[i] != '\r' {
				quoteStart = src[i] == '\n'
			}
			continue
		}

		reserved := "_*[]()~`>#+-=|{}.!\n"
		if k := len(stack); k > 0 && (stack[k-1].typ == "code" || stack[k-1].typ == "pre") {
			reserved = "`"
		}
		if strings.IndexByte(reserved, c) < 0 {
			r, size := utf8.DecodeRuneInString(src[i:])
			out.writeRune(r)
			if c != '\r' {
				quoteStart = false
			}
			i += size - 1
			continue
		}

		isEnd := false
		if k := len(stack); k > 0 {
			if haveQuote && c == '\n' && at(i+1) != '>' {
				isEnd = true
			} else {
				switch stack[k-1].typ {
				case "bold":
					isEnd = c == '*'
				case "italic":
					isEnd = c == '_' && at(i+1) != '_'
				case "code":
					isEnd = c == '`'
				case "pre":
					isEnd = c == '`' && at(i+1) == '`' && at(i+2) == '`'
				case "text_link", "custom_emoji":
					isEnd = c == ']'
				case "underline":
					isEnd = c == '_' && at(i+1) == '_'
				case "strikethrough":
					isEnd = c == '~'
				case "spoiler":
					isEnd = c == '|' && at(i+1) == '|'
				}
			}
		}

		if !isEnd {
			// The start of an entity.
			o := mdOpen{srcPos: i}
			switch c {
			case '_':
				o.typ = "italic"
				if at(i+1) == '_' {
					o.typ = "underline"
					i++
				}
			case '*':
				o.typ = "bold"
			case '~':
				o.typ = "strikethrough"
			case '|':
				if at(i+1) != '|' {
					return "", nil, reservedError(c)
				}
				o.typ = "spoiler"
				i++
			case '[':
				o.typ = "text_link"
			case '`':
				if at(i+1) != '`' || at(i+2) != '`' {
					o.typ = "code"
					break
				}
				o.typ = "pre"
				i += 3
				langEnd := i
				for langEnd < n && !isTDSpace(src[langEnd]) && src[langEnd] != '`' {
					langEnd++
				}
				if i != langEnd && langEnd < n && src[langEnd] != '`' {
					o.arg = src[i:langEnd]
					i = langEnd
				}
				// One line break right after the opening ``` is skipped.
				if at(i) == '\n' || at(i) == '\r' {
					if (at(i+1) == '\n' || at(i+1) == '\r') && at(i) != at(i+1) {
						i += 2
					} else {
						i++
					}
				}
				i--
			case '!':
				if at(i+1) != '[' {
					return "", nil, reservedError(c)
				}
				o.typ = "custom_emoji"
				i++
			case '\n':
				out.writeRune('\n')
				quoteStart = true
				continue
			case '>':
				if !quoteStart {
					return "", nil, reservedError(c)
				}
				if haveQuote {
					continue // the '>' continuing a block quotation
				}
				o.typ = "blockquote"
				haveQuote = true
			default:
				return "", nil, reservedError(c)
			}
			o.u16, o.outByte = out.u16, out.b.Len()
			stack = append(stack, o)
			continue
		}

		// The end of the innermost entity.
		o := stack[len(stack)-1]
		typ := o.typ
		if c == '\n' && typ != "blockquote" {
			// "||" right before the end of a quotation makes it expandable.
			if typ != "spoiler" || o.srcPos != i-2 {
				return "", nil, parseError(fmt.Sprintf("Can't find end of %s entity at byte offset %d", o.name(), o.srcPos))
			}
			stack = stack[:len(stack)-1]
			o = stack[len(stack)-1]
			if o.typ != "blockquote" {
				return "", nil, parseError(fmt.Sprintf("Can't find end of %s entity at byte offset %d", o.name(), o.srcPos))
			}
			typ = "expandable_blockquote"
		}
		stack = stack[:len(stack)-1]
		skip := out.u16 == o.u16
		var ent Entity
		switch typ {
		case "underline", "spoiler":
			i++
		case "pre":
			i += 2
		case "text_link":
			var link string
			if at(i+1) != '(' {
				link = out.b.String()[o.outByte:]
			} else {
				i += 2
				var err error
				if link, i, err = mdURL(src, i, "Can't find end of a URL at byte offset %d"); err != nil {
					return "", nil, err
				}
			}
			e, ok := linkEntity(link, o.u16, out.u16-o.u16)
			skip = skip || !ok
			ent = e
		case "custom_emoji":
			if at(i+1) != '(' {
				return "", nil, parseError("Custom emoji entity must contain a tg://emoji URL")
			}
			i += 2
			link, next, err := mdURL(src, i, "Can't find end of a custom emoji URL at byte offset %d")
			if err != nil {
				return "", nil, err
			}
			i = next
			id, ok := strings.CutPrefix(link, "tg://emoji?id=")
			if v, err := strconv.ParseInt(id, 10, 64); !ok || err != nil || v == 0 {
				return "", nil, parseError("Invalid custom emoji identifier specified")
			}
			ent = Entity{Type: "custom_emoji", CustomEmojiID: id}
		case "blockquote", "expandable_blockquote":
			haveQuote = false
			out.writeRune('\n')
			quoteStart = true
			skip = false
		}
		if skip {
			continue
		}
		if ent.Type == "" {
			ent = Entity{Type: typ}
			if typ == "pre" {
				ent.Language = o.arg
			}
		}
		ent.Offset, ent.Length = o.u16, out.u16-o.u16
		ents = append(ents, ent)
	}
	if haveQuote {
		typ := "blockquote"
		if k := len(stack); stack[k-1].typ == "spoiler" && stack[k-1].srcPos == n-2 {
			stack = stack[:k-1]
			typ = "expandable_blockquote"
		}
		if k := len(stack); stack[k-1].typ == "blockquote" {
			if o := stack[k-1]; out.u16 > o.u16 {
				ents = append(ents, Entity{Type: typ, Offset: o.u16, Length: out.u16 - o.u16})
			}
			stack = stack[:k-1]
		}
	}
	if k := len(stack); k > 0 {
		return "", nil, parseError(fmt.Sprintf("Can't find end of %s entity at byte offset %d", stack[k-1].name(), stack[k-1].srcPos))
	}
	sortEntities(ents)
	return out.b.String(), ents, nil
}

// mdURL reads the URL of a MarkdownV2 link from src[i:] up to ')', with '\'
// escapes, and returns it with the index of the ')'.
func mdURL(src string, i int, missing string) (string, int, error) {
	begin := i
	var b strings.Builder
	for i < len(src) && src[i] != ')' {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] > 0 && src[i+1] <= 126 {
			b.WriteByte(src[i+1])
			i += 2
			continue
		}
		b.WriteByte(src[i])
		i++
	}
	if i >= len(src) {
		return "", i, parseError(fmt.Sprintf(missing, begin))
	}
	return b.String(), i, nil
}

// parseMarkdown implements the legacy Markdown mode
// (https://core.telegram.org/bots/api#markdown-style): *bold*, _italic_,
// `code`, ```pre```, [text](url); no nesting; '\' escapes _ * ` [.
func parseMarkdown(src string) (string, []Entity, error) {
	var (
		out  textBuilder
		ents []Entity
	)
	n := len(src)
	at := func(k int) byte {
		if k < n {
			return src[k]
		}
		return 0
	}
	for i := 0; i < n; i++ {
		c := src[i]
		if c == '\\' && strings.IndexByte("_*`[", at(i+1)) >= 0 && at(i+1) != 0 {
			i++
			out.writeRune(rune(src[i]))
			continue
		}
		if strings.IndexByte("_*`[", c) < 0 {
			r, size := utf8.DecodeRuneInString(src[i:])
			out.writeRune(r)
			i += size - 1
			continue
		}

		begin := i
		end := c
		if c == '[' {
			end = ']'
		}
		i++
		pre, lang := false, ""
		if c == '`' && at(i) == '`' && at(i+1) == '`' {
			i += 2
			pre = true
			langEnd := i
			for langEnd < n && !isTDSpace(src[langEnd]) && src[langEnd] != '`' {
				langEnd++
			}
			if i != langEnd && langEnd < n && src[langEnd] != '`' {
				lang = src[i:langEnd]
				i = langEnd
			}
			if at(i) == '\n' || at(i) == '\r' {
				if (at(i+1) == '\n' || at(i+1) == '\r') && at(i) != at(i+1) {
					i += 2
				} else {
					i++
				}
			}
		}
		start, startByte := out.u16, out.b.Len()
		for i < n && (src[i] != end || pre && !(at(i+1) == '`' && at(i+2) == '`')) {
			r, size := utf8.DecodeRuneInString(src[i:])
			out.writeRune(r)
			i += size
		}
		if i >= n {
			return "", nil, parseError(fmt.Sprintf("Can't find end of the entity starting at byte offset %d", begin))
		}
		if out.u16 > start {
			off, length := start, out.u16-start
			switch c {
			case '_':
				ents = append(ents, Entity{Type: "italic", Offset: off, Length: length})
			case '*':
				ents = append(ents, Entity{Type: "bold", Offset: off, Length: length})
			case '[':
				link := out.b.String()[startByte:]
				if at(i+1) == '(' {
					i += 2
					k := strings.IndexByte(src[i:], ')')
					if k < 0 {
						k = n - i
					}
					link = src[i : i+k]
					i += k
				}
				if e, ok := linkEntity(link, off, length); ok {
					ents = append(ents, e)
				}
			case '`':
				typ := "code"
				if pre {
					typ = "pre"
				}
				ents = append(ents, Entity{Type: typ, Offset: off, Length: length, Language: lang})
			}
		}
		if pre {
			i += 2
		}
	}
	sortEntities(ents)
	return out.b.String(), ents, nil
}
