package agent

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
)

// Form bodies are read as the same tree as JSON, so that one path syntax
// serves both: PHP-style keys nest ("leads[add][0][name]" is leads → add →
// 0 → name, "tags[]" appends), Bitrix24's "data[FIELDS][ID]" is data →
// FIELDS → ID, and a table whose keys are 0, 1, … n-1 becomes an array.
// Values are strings, as a form has no types, except that a field holding a
// JSON object or array is that JSON.

// maxFormDepth bounds how deep one key may nest.
const maxFormDepth = 32

// formTree builds the tree of a decoded form.
func formTree(fields []formField) *node {
	root := &node{kind: kindObject}
	for _, fld := range fields {
		path := formPath(fld.key)
		cur := root
		for i, step := range path {
			last := i == len(path)-1
			if step == "" { // "tags[]": the next index
				step = strconv.Itoa(len(cur.vals))
			}
			next := cur.child(step)
			switch {
			case last && next == nil:
				cur.set(step, &node{kind: kindString, s: fld.value})
			case last:
				// A repeated key: the first value stands, as url.Values.Get reads it.
			case next == nil || next.kind != kindObject:
				// A scalar where a table is needed: the table wins, the
				// structure being what the sender meant.
				next = &node{kind: kindObject}
				cur.set(step, next)
			}
			cur = next
		}
	}
	arrays(root)
	jsonFields(root)
	return root
}

// jsonFields reads every field of a form tree whose value is a JSON object
// or array as that JSON (CloudPayments' Data, Mailgun's message-headers),
// after the form's own tables became arrays, so that a JSON object keyed
// "0", "1" stays an object. The JSON's own strings are left as they are.
func jsonFields(n *node) {
	for _, v := range n.vals {
		switch v.kind {
		case kindObject, kindArray:
			jsonFields(v)
		case kindString:
			if s := strings.TrimSpace(v.s); len(s) >= 2 && (s[0] == '{' || s[0] == '[') {
				if j, err := parseJSON([]byte(s)); err == nil {
					*v = *j
				}
			}
		}
	}
}

// formPath splits "a[b][0][c]" into a, b, 0, c. A key that is not
// well-formed PHP style (an unclosed bracket, text after a bracket) is one
// step, as written.
func formPath(key string) []string {
	open := strings.IndexByte(key, '[')
	if open <= 0 || !strings.HasSuffix(key, "]") {
		return []string{key}
	}
	path := []string{key[:open]}
	rest := key[open:]
	for rest != "" {
		if rest[0] != '[' {
			return []string{key}
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 || strings.IndexByte(rest[1:end], '[') >= 0 {
			return []string{key}
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
		if len(path) > maxFormDepth {
			return []string{key}
		}
	}
	return path
}

// child is the value under key of an object node, nil when absent.
func (n *node) child(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// set puts v under key of an object node, replacing a value already there.
func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if k == key {
			n.vals[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.vals = append(n.vals, v)
}

// arrays turns every object of the tree whose keys are exactly 0 … n-1, in
// order, into an array.
func arrays(n *node) {
	if n.kind != kindObject {
		return
	}
	for _, v := range n.vals {
		arrays(v)
	}
	if len(n.keys) == 0 {
		return
	}
	for i, k := range n.keys {
		if k != strconv.Itoa(i) {
			return
		}
	}
	n.kind, n.keys = kindArray, nil
}

// parseForm decodes a urlencoded body keeping the order of its fields. A
// part whose escapes do not decode (body.Classify lets none through) is
// kept as it was sent.
func parseForm(s string) []formField {
	var out []formField
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			key = k
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			val = v
		}
		out = append(out, formField{key: key, value: val})
	}
	return out
}

// maxMultipartFields bounds the parts of a multipart body read as fields.
const maxMultipartFields = 1000

// parseMultipart reads a multipart/form-data body's text parts as form
// fields, in order: Plex sends its JSON in a "payload" part beside a JPEG
// "thumb", Jotform a "rawRequest" part. File parts (a file name, or a type
// that is not text or JSON) are left out, as the reader cannot see them. ok
// is false when the body is not multipart with that boundary.
func parseMultipart(body []byte, boundary string) ([]formField, bool) {
	if boundary == "" {
		return nil, false
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	var out []formField
	for len(out) < maxMultipartFields {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, false
		}
		name := part.FormName()
		if name == "" || part.FileName() != "" || !textPart(part.Header.Get("Content-Type")) {
			continue
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return nil, false
		}
		out = append(out, formField{key: name, value: string(b)})
	}
	return out, len(out) > 0
}

// textPart reports a part's Content-Type that a person can read: none
// (text/plain by RFC 7578), text/*, or JSON.
func textPart(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json"))
}
