package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
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
// becomes U+FFFD; numbers keep their literal text.
func parseJSON(b []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	n, err := parseValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("agent: trailing data after JSON value")
	}
	return n, nil
}

func parseValue(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool, s: strconv.FormatBool(t)}, nil
	case json.Number:
		return &node{kind: kindNumber, s: t.String()}, nil
	case string:
		return &node{kind: kindString, s: t}, nil
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kindObject}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return n, nil
		}
	}
	return nil, errors.New("agent: unexpected JSON token")
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
