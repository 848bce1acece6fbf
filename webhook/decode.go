package webhook

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// How a body is stored. Ingest keeps the body exactly as it was sent — the
// bytes a signature covers — and decides only its label and whether the
// sender should hear a warning. Reading it (JSON, a form, GitHub's payload=
// form holding JSON, text) is the agent's, in one place: agent.decode.

// maxJSONDepth is encoding/json's nesting limit; deeper bodies do not parse.
const maxJSONDepth = 10000

// maxContentType bounds the stored label.
const maxContentType = 200

// Warnings an accepted body can get (SPEC §3: accepted, and told).
const (
	warnNotJSON   = "body is labelled JSON but does not parse; delivered as text"
	warnTooDeep   = "body is labelled JSON but is nested deeper than 10000 levels; delivered as text"
	warnNotForm   = "body is labelled as a form but does not decode; delivered as text"
	warnNotUTF8   = "body is not valid UTF-8; the invalid bytes are shown as �"
	textPlainUTF8 = "text/plain; charset=utf-8"
)

// classifyBody returns the content type to store a body under and a
// warning for the sender, if any. A body labelled JSON (or a form) that does
// not parse as one is stored as text rather than lost; an unlabelled body is
// labelled by a look at it.
func classifyBody(contentType string, body []byte) (storedType, warning string) {
	storedType = cleanContentType(contentType)
	mt := mediaType(storedType)
	switch {
	case mt == "":
		return sniff(body), ""
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if !json.Valid(body) {
			if jsonDepth(body) > maxJSONDepth {
				return textPlainUTF8, warnTooDeep
			}
			return textPlainUTF8, warnNotJSON
		}
	case mt == "application/x-www-form-urlencoded":
		if !validForm(body) {
			return textPlainUTF8, warnNotForm
		}
		return storedType, ""
	case !strings.HasPrefix(mt, "text/") && !strings.HasSuffix(mt, "+xml") && mt != "application/xml":
		return storedType, "" // binary or unknown: kept as it is
	}
	if !utf8.Valid(body) {
		return storedType, warnNotUTF8
	}
	return storedType, ""
}

// sniff labels a body sent without a Content-Type.
func sniff(body []byte) string {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(body) {
		return "application/json"
	}
	if utf8.Valid(body) && bytes.IndexByte(body, 0) < 0 {
		return textPlainUTF8
	}
	return "application/octet-stream"
}

// cleanContentType makes a Content-Type header safe to store as text: valid
// UTF-8, no control characters, bounded.
func cleanContentType(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean && len(v) <= maxContentType {
		return strings.TrimSpace(v)
	}
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(v, ""))
	for len(v) > maxContentType {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return strings.TrimSpace(v)
}

// mediaType is the lower-cased type/subtype of a Content-Type, without
// parameters (mime.ParseMediaType allocates a map for those).
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	for i := 0; i < len(ct); i++ {
		if c := ct[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(ct)
		}
	}
	return ct
}

// jsonDepth is the deepest nesting of brackets in b outside strings.
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// validForm reports whether every %-escape of a urlencoded body is complete,
// as the agent's form reader needs (url.ParseQuery would also refuse ';').
func validForm(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			continue
		}
		if i+2 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
