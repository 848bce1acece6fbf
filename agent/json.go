package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is a parsed JSON value that keeps the order of object keys, which
// encoding/json's maps lose: facts read best in the sender's order.
type node struct {
	kind kind
	s    string   // string value, number literal, "true" or "false"
	keys []string // object keys, in order
	vals []*node  // object values (parallel to keys) or array elements
}

// parseJSON parses b as exactly one JSON value. Invalid UTF-8 in strings
// becomes U+FFFD; numbers keep their literal text. It is a small
// recursive-descent parser: encoding/json's Token API, which keeps key
// order too, made parsing most of the formatter's time.
// Specs: https://www.rfc-editor.org/rfc/rfc8259
func parseJSON(b []byte) (*node, error) {
	p := jsonParser{b: b}
	p.space()
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, errors.New("agent: trailing data after JSON value")
	}
	return n, nil
}

// maxJSONDepth bounds nesting, so that a hostile body cannot exhaust the
// stack; encoding/json allows 10000.
const maxJSONDepth = 1000

var errJSON = errors.New("agent: invalid JSON")

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (*node, error) {
	if p.i >= len(p.b) {
		return nil, io.ErrUnexpectedEOF
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, errJSON
		}
		p.i++
		n := &node{kind: kindObject}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return n, nil
		}
		for {
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, errJSON
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, errJSON
			}
			p.i++
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, key)
			n.vals = append(n.vals, v)
			if done, err := p.after('}'); err != nil {
				return nil, err
			} else if done {
				return n, nil
			}
		}
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, errJSON
		}
		p.i++
		n := &node{kind: kindArray}
		p.space()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return n, nil
		}
		for {
			p.space()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
			if done, err := p.after(']'); err != nil {
				return nil, err
			} else if done {
				return n, nil
			}
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kindString, s: s}, nil
	case c == 't':
		return p.literal("true", &node{kind: kindBool, s: "true"})
	case c == 'f':
		return p.literal("false", &node{kind: kindBool, s: "false"})
	case c == 'n':
		return p.literal("null", &node{kind: kindNull})
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, errJSON
}

// after reads what follows a member of an object or array: a comma (more
// members follow) or its closing byte (done).
func (p *jsonParser) after(closing byte) (done bool, err error) {
	p.space()
	if p.i >= len(p.b) {
		return false, io.ErrUnexpectedEOF
	}
	switch p.b[p.i] {
	case ',':
		p.i++
		return false, nil
	case closing:
		p.i++
		return true, nil
	}
	return false, errJSON
}

func (p *jsonParser) literal(word string, n *node) (*node, error) {
	if !bytes.HasPrefix(p.b[p.i:], []byte(word)) {
		return nil, errJSON
	}
	p.i += len(word)
	return n, nil
}

// number checks the grammar -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? and keeps
// the literal.
func (p *jsonParser) number() (*node, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, errJSON
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errJSON
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errJSON
		}
	}
	return &node{kind: kindNumber, s: string(p.b[start:p.i])}, nil
}

// str reads a string at p.i (on its opening quote), decoding escapes;
// invalid UTF-8 and lone surrogates become U+FFFD, as in encoding/json.
func (p *jsonParser) str() (string, error) {
	p.i++ // the opening quote
	start := p.i
	// The common case: no escapes, valid UTF-8.
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := p.b[start:p.i]
			p.i++
			return validString(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.i++
	}
	var out []byte
	out = append(out, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return validString(out), nil
		case c < 0x20:
			return "", errJSON
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", io.ErrUnexpectedEOF
		}
		esc := p.b[p.i+1]
		p.i += 2
		switch esc {
		case '"', '\\', '/':
			out = append(out, esc)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", errJSON
			}
			if utf16.IsSurrogate(r) {
				r2 := unicode.ReplacementChar
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if lo, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != unicode.ReplacementChar {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						return "", errJSON
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", errJSON
		}
	}
	return "", io.ErrUnexpectedEOF
}

// validString replaces every invalid byte with U+FFFD, as encoding/json does.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, unicode.ReplacementChar)
		} else {
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	return string(out)
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// get walks object keys and array indexes ("commits", "0", "id"); nil when
// any step is missing.
func (n *node) get(path ...string) *node {
	cur := n
	for _, p := range path {
		if cur == nil {
			return nil
		}
		switch cur.kind {
		case kindObject:
			var next *node
			for i, k := range cur.keys {
				if k == p {
					next = cur.vals[i]
					break
				}
			}
			cur = next
		case kindArray:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(cur.vals) {
				return nil
			}
			cur = cur.vals[i]
		default:
			return nil
		}
	}
	return cur
}

// str is the scalar at path as text: strings as they are, numbers as their
// literal, booleans as "true"/"false"; "" for null, missing or composite.
func (n *node) str(path ...string) string {
	v := n.get(path...)
	if v == nil || !v.scalar() {
		return ""
	}
	return v.s
}

// first is the first non-empty str among paths written as "a.b.c".
func (n *node) first(paths ...string) string {
	for _, p := range paths {
		if s := strings.TrimSpace(n.str(strings.Split(p, ".")...)); s != "" {
			return s
		}
	}
	return ""
}

// num is the integer at path, if it is one (a JSON number or a numeric string).
func (n *node) num(path ...string) (int64, bool) {
	v := n.get(path...)
	if v == nil || (v.kind != kindNumber && v.kind != kindString) {
		return 0, false
	}
	i, err := strconv.ParseInt(strings.TrimSpace(v.s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
		if ferr != nil || f != float64(int64(f)) {
			return 0, false
		}
		return int64(f), true
	}
	return i, true
}

// flag is the boolean at path; false when it is not one.
func (n *node) flag(path ...string) bool {
	v := n.get(path...)
	return v != nil && v.kind == kindBool && v.s == "true"
}

// arr is the elements of the array at path, nil when it is not an array.
func (n *node) arr(path ...string) []*node {
	v := n.get(path...)
	if v == nil || v.kind != kindArray {
		return nil
	}
	return v.vals
}

// has reports whether path exists (any value, null included).
func (n *node) has(path ...string) bool { return n.get(path...) != nil }

func (n *node) scalar() bool {
	return n.kind == kindBool || n.kind == kindNumber || n.kind == kindString
}

// empty reports a value that says nothing: null, "", [] or {}.
func (n *node) empty() bool {
	switch n.kind {
	case kindNull:
		return true
	case kindString:
		return strings.TrimSpace(n.s) == ""
	case kindArray, kindObject:
		return len(n.vals) == 0
	}
	return false
}

// encode writes n as compact JSON in key order, without HTML escaping.
func (n *node) encode(b *bytes.Buffer) {
	switch n.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool, kindNumber:
		b.WriteString(n.s)
	case kindString:
		writeJSONString(b, n.s)
	case kindArray:
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.encode(b)
		}
		b.WriteByte(']')
	case kindObject:
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			n.vals[i].encode(b)
		}
		b.WriteByte('}')
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.Write(bytes.TrimSuffix(tmp.Bytes(), []byte("\n")))
}

// allStrings collects every string value in n (keys excluded).
func (n *node) allStrings(out []string) []string {
	switch n.kind {
	case kindString:
		out = append(out, n.s)
	case kindArray, kindObject:
		for _, v := range n.vals {
			out = v.allStrings(out)
		}
	}
	return out
}
