// Package body decides how a webhook's body is read — JSON, a form, text or
// binary — once, for every part of Herald that looks at one: ingest labels
// the stored body and warns the sender by it, the formatter and the LLM
// prompt read it by it, and `herald render` shows what ingest would store.
// It imports nothing of Herald's.
//
// JSON is read with jsontext (github.com/go-json-experiment/json), the
// syntactic layer of encoding/json/v2, which the standard library carries as
// an experiment in Go 1.25 and 1.26 and this module aliases once it is on:
// it streams tokens in the sender's key order, reports where it stands as a
// JSON Pointer, and bounds nesting at encoding/json's 10000.
package body

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// Kind is how a body is read.
type Kind uint8

// The kinds of body.
const (
	Empty  Kind = iota // nothing but whitespace
	JSON               // one JSON value
	Form               // application/x-www-form-urlencoded fields
	Text               // anything else a person can read
	Binary             // NUL bytes or mostly invalid UTF-8
)

func (k Kind) String() string {
	switch k {
	case Empty:
		return "empty"
	case JSON:
		return "json"
	case Form:
		return "form"
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return "unknown"
}

// Problem is why a sender's label was not kept, or what it should hear
// about its body.
type Problem uint8

// The problems a body can have. None of them refuses the body.
const (
	NoProblem   Problem = iota
	NotJSON             // labelled JSON, does not parse
	TooDeep             // labelled JSON, nested deeper than MaxDepth
	NotForm             // labelled a form, an escape does not decode
	InvalidUTF8         // read as text or JSON, has bytes that are not UTF-8
)

// String is the problem as a sender is told it (SPEC §3: accepted, and told).
func (p Problem) String() string {
	switch p {
	case NotJSON:
		return "body is labelled JSON but does not parse; delivered as text"
	case TooDeep:
		return "body is labelled JSON but is nested deeper than 10000 levels; delivered as text"
	case NotForm:
		return "body is labelled as a form but does not decode; delivered as text"
	case InvalidUTF8:
		return "body is not valid UTF-8; the invalid bytes are shown as �"
	}
	return ""
}

// MaxDepth is the deepest nesting of JSON arrays and objects read, as in
// encoding/json (v1 and v2): a body nested deeper is text.
const MaxDepth = 10000

// MaxContentType bounds a stored Content-Type, in bytes.
const MaxContentType = 200

// Labels a body is stored under when the sender's label is missing or wrong.
const (
	TypeJSON   = "application/json"
	TypeForm   = "application/x-www-form-urlencoded"
	TypeText   = "text/plain; charset=utf-8"
	TypeBinary = "application/octet-stream"
)

// Class is what Classify learned about a body.
type Class struct {
	Kind Kind
	// Label is the content type to store the body under: the sender's
	// (cleaned), unless it is missing or contradicts the body (JSON that
	// does not parse, a form that does not decode), then one that fits.
	Label   string
	Problem Problem
}

// Classify decides how a body sent with contentType is read:
//   - JSON when it is one JSON value and is labelled JSON or, whatever its
//     label, starts with '{', '[' or '"' (senders label JSON text/plain,
//     or not at all);
//   - a form when labelled one and every %-escape decodes;
//   - binary when it has NUL bytes or a third of it is not UTF-8;
//   - text otherwise, empty when it is only whitespace.
//
// A UTF-8 byte order mark before the body is not part of it. Reading the
// stored body under the returned Label gives the same Kind.
func Classify(contentType string, b []byte) Class {
	return ClassifyWith(contentType, b, Valid)
}

// ClassifyWith is Classify whose JSON check is parse, which must report
// whether b is one JSON value exactly as Valid does: the formatter passes
// the parser that builds its tree, so that a body is read once.
func ClassifyWith(contentType string, b []byte, parse func([]byte) bool) Class {
	b = TrimBOM(b)
	c := Class{Label: CleanContentType(contentType)}
	mt := MediaType(c.Label)
	lead := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(lead) == 0:
		c.Kind = Empty
		if mt == "" {
			c.Label = TypeText
		}
		return c
	case IsJSONType(mt) || looksJSON(lead) && mt != TypeForm:
		if parse(b) {
			c.Kind = JSON
			if mt == "" {
				c.Label = TypeJSON
			}
			break
		}
		if IsJSONType(mt) {
			c.Problem = NotJSON
			if Depth(b) > MaxDepth {
				c.Problem = TooDeep
			}
			c.Label = TypeText
		}
		c.Kind = textOrBinary(b)
	case mt == TypeForm:
		if looksJSON(lead) && parse(b) {
			c.Kind = JSON // a JSON body under a form's label
			break
		}
		if ValidForm(b) {
			c.Kind = Form
			return c
		}
		c.Problem, c.Label, c.Kind = NotForm, TypeText, textOrBinary(b)
	default:
		c.Kind = textOrBinary(b)
	}
	if mt == "" {
		c.Label = TypeText
		switch c.Kind {
		case JSON:
			c.Label = TypeJSON
		case Binary:
			c.Label = TypeBinary
		}
	}
	if c.Problem == NoProblem && (c.Kind == Text || c.Kind == JSON) && !utf8.Valid(b) {
		c.Problem = InvalidUTF8
	}
	return c
}

// looksJSON reports a body that starts as JSON senders send does: an
// object, an array or a string.
func looksJSON(lead []byte) bool { return lead[0] == '{' || lead[0] == '[' || lead[0] == '"' }

// bom is the UTF-8 encoding of U+FEFF, the byte order mark.
var bom = []byte("\xef\xbb\xbf")

// TrimBOM drops a UTF-8 byte order mark before a body: .NET senders write
// one (Microsoft's Azure DevOps fixtures start with it), and RFC 8259 §8.1
// lets a reader ignore it. Classify reads a body past it.
func TrimBOM(b []byte) []byte { return bytes.TrimPrefix(b, bom) }

func textOrBinary(b []byte) Kind {
	if LooksBinary(b) {
		return Binary
	}
	return Text
}

// options are those of every JSON reading: duplicate names and invalid
// UTF-8 (shown as U+FFFD) are accepted, as encoding/json v1 accepts them
// and senders send them.
var options = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// Valid reports whether b is exactly one JSON value (surrounding whitespace
// aside) nested at most MaxDepth deep.
// Specs: https://www.rfc-editor.org/rfc/rfc8259
func Valid(b []byte) bool { return jsontext.Value(b).IsValid(options...) }

// NewDecoder is a jsontext decoder of b with the options of every JSON
// reading. It reads b in place: b must not change while it is in use.
func NewDecoder(b []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewBuffer(b), options...)
}

// Depth is the deepest nesting of brackets in b outside strings, for
// telling a body too deep from a broken one.
func Depth(b []byte) int {
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

// IsJSONType reports a media type (lower-case, no parameters) that labels
// JSON: application/json, text/json, application/*+json.
func IsJSONType(mt string) bool {
	return strings.HasSuffix(mt, "/json") || strings.HasSuffix(mt, "+json")
}

// MediaType is the lower-cased type/subtype of a Content-Type, without
// parameters (mime.ParseMediaType allocates a map for those).
func MediaType(ct string) string {
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

// CleanContentType makes a Content-Type header safe to store as text:
// valid UTF-8, no control characters, at most MaxContentType bytes.
func CleanContentType(v string) string {
	clean := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean && len(v) <= MaxContentType {
		return strings.TrimSpace(v)
	}
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(v, ""))
	for len(v) > MaxContentType {
		_, size := utf8.DecodeLastRuneInString(v)
		v = v[:len(v)-size]
	}
	return strings.TrimSpace(v)
}

// ValidForm reports whether every %-escape of a urlencoded body is
// complete, which is all ParseForm needs (url.ParseQuery would also refuse
// ';', which senders do not escape).
func ValidForm(b []byte) bool {
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

// LooksBinary reports a body that is not meant to be read as text: NUL
// bytes, or a third of it invalid UTF-8 (Latin-1 text has a few invalid
// bytes, random bytes about half).
func LooksBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	if utf8.Valid(b) {
		return false
	}
	bad, total := 0, len(b)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			bad++
		}
		b = b[size:]
	}
	return bad*3 > total
}
