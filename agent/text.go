package agent

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// clean makes s safe to show: valid UTF-8 (invalid bytes become U+FFFD),
// no control characters except newline and tab, CR and CRLF folded to LF, no
// trailing spaces on a line, at most one empty line in a row, no surrounding
// whitespace.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "\r") {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n', r == '\t':
			return r
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\uFEFF':
			return -1
		}
		return r
	}, s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, line := range lines {
		line = strings.TrimRight(line, " \t")
		if line == "" {
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// oneLine is clean with every run of whitespace, newlines included, folded
// into one space: for titles, fact labels and values.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}

// clamp shortens s to at most n runes, cutting at a word boundary when one is
// near and ending with "…".
func clamp(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)
	cut := cleanCut(runes, n-1)
	return strings.TrimRight(string(runes[:cut]), " \t\n.,;:-—") + "…"
}

// cleanCut returns how many of runes to keep, at most max: the end of the last
// word when it is near, else max moved back so that it does not split an
// emoji sequence or a letter from its combining marks.
func cleanCut(runes []rune, max int) int {
	if max >= len(runes) {
		return len(runes)
	}
	if max <= 0 {
		return 0
	}
	// A word boundary within the last fifth (at most 40 runes) reads better.
	window := max / 5
	if window > 40 {
		window = 40
	}
	for i := max; i > max-window && i > 0; i-- {
		if unicode.IsSpace(runes[i]) {
			return i
		}
	}
	i := max
	for i > 0 && (joinsPrevious(runes[i]) || runes[i-1] == '\u200D') {
		i--
	}
	// Regional indicators pair up into flags: keep an even run of them.
	ri := 0
	for j := i - 1; j >= 0 && isRegionalIndicator(runes[j]); j-- {
		ri++
	}
	if ri%2 == 1 && i < len(runes) && isRegionalIndicator(runes[i]) {
		i--
	}
	return i
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// joinsPrevious reports whether r belongs to the grapheme before it: combining
// marks, variation selectors, emoji modifiers and tags, zero-width joiners.
func joinsPrevious(r rune) bool {
	switch {
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r), unicode.Is(unicode.Mc, r):
		return true
	case r == '\u200D', r >= '\uFE00' && r <= '\uFE0F':
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // skin tones
		return true
	case r >= 0xE0020 && r <= 0xE007F: // tag sequences (flags of regions)
		return true
	}
	return false
}

// utf16Len is the length of s in UTF-16 code units, which is how Telegram
// counts a message's length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cutUTF16 shortens s so that it, plus the "…" it then ends with, fits in
// budget UTF-16 code units. It returns s unchanged when it fits.
func cutUTF16(s string, budget int) string {
	if utf16Len(s) <= budget {
		return s
	}
	if budget <= 0 {
		return ""
	}
	runes := []rune(s)
	keep, used := 0, 0
	for keep < len(runes) {
		w := utf16.RuneLen(runes[keep])
		if used+w > budget-1 { // one unit for "…"
			break
		}
		used += w
		keep++
	}
	keep = cleanCut(runes, keep)
	return strings.TrimRight(string(runes[:keep]), " \t\n") + "…"
}

// htmlEscaper escapes exactly what Telegram's HTML parse mode needs and
// nothing else, so the entities it produces are the four Telegram knows.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// escape makes plain text safe inside Telegram HTML.
func escape(s string) string { return htmlEscaper.Replace(s) }

// humanize turns an identifier-like string into words: "new_order" → "new order".
func humanize(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' || r == '.' }), " ")
}

// firstLine is the first non-empty line of s.
func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
