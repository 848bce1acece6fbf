package tgemu

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The HTML dialect of https://core.telegram.org/bots/api#html-style. The parser
// follows tdlib's parse_html (td/telegram/MessageEntity.cpp), which is what
// the Bot API runs, error messages included. Tag names are case-insensitive,
// attribute names are not; attribute values may be quoted with ' or " or be
// bare name tokens; attributes without a value are ignored; "</>" closes the
// innermost tag.

var htmlTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

type htmlTag struct {
	name    string
	arg     string
	u16     int // UTF-16 offset of the tag in the visible text
	byteOff int // byte offset of the tag in the visible text
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseHTML returns the visible text and entities of an HTML-formatted text.
//
// With strict set (the default of the fake) it is stricter than Telegram in
// two ways, to catch text that was not escaped: a '&' must start one of the
// entities Telegram knows, complete with its ';' (Telegram keeps an unknown
// '&' as is, and decodes "&lt" without ';'), and <a> needs an href (Telegram
// would link the text itself). WithLenientHTML turns both off.
func parseHTML(src string, strict bool) (string, []Entity, error) {
	var (
		out   textBuilder
		stack []htmlTag
		ents  []Entity
	)
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if c == '&' {
			if r, next, ok := decodeHTMLEntity(src, i, strict); ok {
				if r >= 0xd800 && r <= 0xdfff {
					return "", nil, parseError("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units")
				}
				out.writeRune(r)
				i = next
				continue
			}
			if strict {
				return "", nil, parseError(fmt.Sprintf(`Character '&' at byte offset %d does not start a supported HTML entity; escape it as "&amp;" (the fake is stricter than Telegram here)`, i))
			}
		}
		if c != '<' {
			r, size := utf8.DecodeRuneInString(src[i:])
			out.writeRune(r)
			i += size
			continue
		}

		begin := i
		i++
		if i >= n {
			return "", nil, parseError(fmt.Sprintf("Unclosed start tag at byte offset %d", begin))
		}
		if src[i] != '/' {
			// A start tag.
			j := i
			for j < n && !isHTMLSpace(src[j]) && src[j] != '>' {
				j++
			}
			if j >= n {
				return "", nil, parseError(fmt.Sprintf("Unclosed start tag at byte offset %d", begin))
			}
			name := strings.ToLower(src[i:j])
			if !htmlTags[name] {
				return "", nil, parseError(fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", name, begin))
			}
			tag := htmlTag{name: name, u16: out.u16, byteOff: out.b.Len()}
			i = j
			for i >= n || src[i] != '>' {
				for i < n && isHTMLSpace(src[i]) {
					i++
				}
				if i < n && src[i] == '>' {
					break
				}
				attrBegin := i
				for i < n && !isHTMLSpace(src[i]) && strings.IndexByte("=>/\"'", src[i]) < 0 {
					i++
				}
				attr := src[attrBegin:i]
				if attr == "" {
					return "", nil, parseError(fmt.Sprintf("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin))
				}
				for i < n && isHTMLSpace(src[i]) {
					i++
				}
				if i >= n {
					return "", nil, parseError(fmt.Sprintf("Unclosed start tag \"%s\" at byte offset %d", name, begin))
				}
				if src[i] != '=' {
					// An attribute without a value.
					if name == "blockquote" && attr == "expandable" {
						tag.arg = "expandable"
					}
					continue
				}
				i++
				for i < n && isHTMLSpace(src[i]) {
					i++
				}
				if i >= n {
					return "", nil, parseError(fmt.Sprintf("Unclosed start tag \"%s\" at byte offset %d", name, begin))
				}
				var val string
				if q := src[i]; q == '"' || q == '\'' {
					// A string literal, in which character references are decoded.
					end := strings.IndexByte(src[i+1:], q)
					if end < 0 {
						return "", nil, parseError(fmt.Sprintf("Unclosed start tag at byte offset %d", begin))
					}
					val = decodeHTMLAttr(src[i+1 : i+1+end])
					i += end + 2
				} else {
					// A name token: letters, digits, periods and hyphens.
					tokenBegin := i
					for i < n && (isASCIIAlnum(src[i]) || src[i] == '.' || src[i] == '-') {
						i++
					}
					val = strings.ToLower(src[tokenBegin:i])
					if i >= n || !isHTMLSpace(src[i]) && src[i] != '>' {
						return "", nil, parseError(fmt.Sprintf("Unexpected end of name token at byte offset %d", tokenBegin))
					}
				}
				if i >= n {
					return "", nil, parseError(fmt.Sprintf("Unclosed start tag at byte offset %d", begin))
				}
				switch {
				case name == "a" && attr == "href":
					tag.arg = val
				case name == "code" && attr == "class" && strings.HasPrefix(val, "language-"):
					tag.arg = val[len("language-"):]
				case name == "span" && attr == "class" && strings.HasPrefix(val, "tg-"):
					tag.arg = val[len("tg-"):]
				case name == "tg-emoji" && attr == "emoji-id":
					tag.arg = val
				case name == "blockquote" && attr == "expandable":
					tag.arg = "expandable"
				}
			}
			i++ // '>'
			if name == "span" && tag.arg != "spoiler" {
				return "", nil, parseError(fmt.Sprintf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin))
			}
			if strict && name == "a" && tag.arg == "" {
				return "", nil, parseError(fmt.Sprintf("Tag \"a\" must have an href attribute at byte offset %d (the fake is stricter than Telegram here)", begin))
			}
			stack = append(stack, tag)
			continue
		}

		// An end tag.
		if len(stack) == 0 {
			return "", nil, parseError(fmt.Sprintf("Unexpected end tag at byte offset %d", begin))
		}
		i++ // '/'
		j := i
		for j < n && !isHTMLSpace(src[j]) && src[j] != '>' {
			j++
		}
		endName := strings.ToLower(src[i:j])
		for j < n && isHTMLSpace(src[j]) {
			j++
		}
		if j >= n || src[j] != '>' {
			return "", nil, parseError(fmt.Sprintf("Unclosed end tag at byte offset %d", begin))
		}
		i = j + 1
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if endName != "" && endName != top.name {
			return "", nil, parseError(fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, endName))
		}
		if out.u16 <= top.u16 {
			continue // empty entities are dropped
		}
		off, length := top.u16, out.u16-top.u16
		switch top.name {
		case "b", "strong":
			ents = append(ents, Entity{Type: "bold", Offset: off, Length: length})
		case "i", "em":
			ents = append(ents, Entity{Type: "italic", Offset: off, Length: length})
		case "u", "ins":
			ents = append(ents, Entity{Type: "underline", Offset: off, Length: length})
		case "s", "strike", "del":
			ents = append(ents, Entity{Type: "strikethrough", Offset: off, Length: length})
		case "span", "tg-spoiler":
			ents = append(ents, Entity{Type: "spoiler", Offset: off, Length: length})
		case "a":
			link := top.arg
			if link == "" {
				link = out.b.String()[top.byteOff:]
			}
			if e, ok := linkEntity(link, off, length); ok {
				ents = append(ents, e)
			}
		case "code":
			if k := len(ents) - 1; k >= 0 && top.arg != "" && ents[k].Type == "pre" && ents[k].Offset == off && ents[k].Length == length {
				ents[k].Language = top.arg
			} else {
				ents = append(ents, Entity{Type: "code", Offset: off, Length: length, Language: top.arg})
			}
		case "pre":
			// <pre><code class="language-x">...</code></pre> is one pre entity
			// with a language.
			if k := len(ents) - 1; k >= 0 && ents[k].Type == "code" && ents[k].Offset == off && ents[k].Length == length {
				ents[k].Type = "pre"
			} else {
				ents = append(ents, Entity{Type: "pre", Offset: off, Length: length})
			}
		case "tg-emoji":
			id, err := strconv.ParseInt(top.arg, 10, 64)
			if err != nil || id == 0 {
				return "", nil, parseError("Invalid custom emoji identifier specified")
			}
			ents = append(ents, Entity{Type: "custom_emoji", Offset: off, Length: length, CustomEmojiID: top.arg})
		case "blockquote":
			typ := "blockquote"
			if top.arg == "expandable" {
				typ = "expandable_blockquote"
			}
			ents = append(ents, Entity{Type: typ, Offset: off, Length: length})
		}
	}
	if len(stack) > 0 {
		return "", nil, parseError(fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name))
	}
	for k := range ents {
		if ents[k].Type != "pre" {
			ents[k].Language = ""
		}
	}
	sortEntities(ents)
	return out.b.String(), ents, nil
}

// decodeHTMLEntity decodes the character reference starting at src[pos]
// ('&'): &lt; &gt; &amp; &quot; &#NNN; and &#xHH; are the only ones Telegram
// knows. When not strict, the ';' is optional, as in tdlib.
func decodeHTMLEntity(src string, pos int, strict bool) (rune, int, bool) {
	n := len(src)
	end := pos + 1
	var r rune
	if end < n && src[end] == '#' {
		end++
		base := int64(10)
		if end < n && src[end] == 'x' {
			base = 16
			end++
		}
		digitsBegin := end
		var v int64
		for end < n {
			d, ok := digitValue(src[end], base)
			if !ok {
				break
			}
			v = v*base + d
			if v >= 0x10ffff {
				return 0, 0, false
			}
			end++
		}
		if end == digitsBegin || v == 0 || end-pos >= 10 {
			return 0, 0, false
		}
		r = rune(v)
	} else {
		nameBegin := end
		for end < n && (src[end] >= 'a' && src[end] <= 'z' || src[end] >= 'A' && src[end] <= 'Z') {
			end++
		}
		switch src[nameBegin:end] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		default:
			return 0, 0, false
		}
	}
	if end < n && src[end] == ';' {
		return r, end + 1, true
	}
	if strict {
		return 0, 0, false
	}
	return r, end, true
}

func digitValue(c byte, base int64) (int64, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int64(c - '0'), true
	case base == 16 && c >= 'a' && c <= 'f':
		return int64(c-'a') + 10, true
	case base == 16 && c >= 'A' && c <= 'F':
		return int64(c-'A') + 10, true
	}
	return 0, false
}

// decodeHTMLAttr decodes the character references of a quoted attribute
// value, leniently, as tdlib does.
func decodeHTMLAttr(v string) string {
	if !strings.Contains(v, "&") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		if v[i] == '&' {
			if r, next, ok := decodeHTMLEntity(v, i, false); ok {
				b.WriteRune(r)
				i = next
				continue
			}
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String()
}
