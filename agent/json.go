package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/herald-relay/herald/body"
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

// parseJSON parses b as exactly one JSON value, with body's reading of
// JSON (the one ingest validated it with): nesting up to body.MaxDepth,
// duplicate keys kept in order, invalid UTF-8 in strings as U+FFFD, numbers
// as their literal text. Tokens come from jsontext's streaming decoder; the
// tree is built without recursion, so depth costs heap, not stack.
// Specs: https://www.rfc-editor.org/rfc/rfc8259
func parseJSON(b []byte) (*node, error) {
	d := body.NewDecoder(b)
	root, err := readTree(d)
	if err != nil {
		return nil, fmt.Errorf("agent: parse JSON: %w", err)
	}
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, errors.New("agent: parse JSON: data after the value")
	}
	return root, nil
}

// validJSON reports whether b is one JSON value; it is the parse
// body.ClassifyWith checks, keeping the tree for decode.
func (p *payload) validJSON(b []byte) bool {
	root, err := parseJSON(b)
	p.root = root
	return err == nil
}

// readTree reads one JSON value from d into a tree. Delimiters come as
// tokens, scalars as raw values, so that a string without escapes is
// scanned and copied once (a Token's String scans it again). Interning
// repeated keys was tried: the map cost more than the copies it saved.
func readTree(d *jsontext.Decoder) (*node, error) {
	var (
		root  *node
		stack []*node // open objects and arrays, innermost last
		slab  []node  // nodes are carved from slabs: one allocation for many
	)
	alloc := func(k kind, s string) *node {
		if len(slab) == 0 {
			slab = make([]node, 16)
		}
		n := &slab[0]
		slab = slab[1:]
		n.kind, n.s = k, s
		return n
	}
	for {
		var top *node
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		var n *node
		switch k := d.PeekKind(); k {
		case '{', '[', '}', ']':
			if _, err := d.ReadToken(); err != nil {
				return nil, err
			}
			switch k {
			case '{':
				n = alloc(kindObject, "")
			case '[':
				n = alloc(kindArray, "")
			default:
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return root, nil
				}
				continue
			}
		default:
			v, err := d.ReadValue()
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			switch v[0] {
			case '"':
				if top != nil && top.kind == kindObject && len(top.keys) == len(top.vals) {
					top.keys = append(top.keys, unquote(v)) // a name; its value follows
					continue
				}
				n = alloc(kindString, unquote(v))
			case 't':
				n = alloc(kindBool, "true")
			case 'f':
				n = alloc(kindBool, "false")
			case 'n':
				n = alloc(kindNull, "")
			default:
				n = alloc(kindNumber, string(v))
			}
		}
		if top != nil {
			top.vals = append(top.vals, n)
		} else {
			root = n
		}
		if n.kind == kindObject || n.kind == kindArray {
			stack = append(stack, n)
		} else if top == nil {
			return root, nil
		}
	}
}

// unquote is the text of a raw JSON string, invalid UTF-8 as U+FFFD.
func unquote(v jsontext.Value) string {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	// Invalid UTF-8 becomes U+FFFD, and the error saying so is not one here.
	b, _ := jsontext.AppendUnquote(nil, v)
	return string(b)
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

// isObject reports a JSON object (Stripe's data.object is the resource; a
// Clerk event's data.object is only the resource's kind, "user").
func isObject(n *node) bool { return n != nil && n.kind == kindObject }

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
	// Invalid UTF-8 becomes U+FFFD, and the error saying so is not one here.
	q, _ := jsontext.AppendQuote(b.AvailableBuffer(), s)
	b.Write(q)
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
