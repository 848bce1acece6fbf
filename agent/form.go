package agent

import (
	"net/url"
	"strconv"
	"strings"
)

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

// maxFormNesting bounds the brackets of one form key, as PHP's
// max_input_nesting_level does; deeper brackets stay part of the last key.
const maxFormNesting = 64

// formKey splits a PHP-style form key into its path: "leads[add][0][name]"
// → leads, add, 0, name; "tags[]" → tags, "" (append). A key without
// brackets, or whose brackets do not close, is one step.
func formKey(key string) []string {
	i := strings.IndexByte(key, '[')
	if i <= 0 {
		return []string{key}
	}
	path := []string{key[:i]}
	rest := key[i:]
	for len(rest) > 0 && rest[0] == '[' && len(path) <= maxFormNesting {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			break
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	if rest != "" { // "a[b]c" or an unclosed bracket: the tail stays in the last step
		path[len(path)-1] += rest
	}
	return path
}

// formTree reads form fields as a JSON-like tree, the way PHP and Rails
// read them (what AmoCRM, Bitrix24 and many PHP senders mean by
// leads[add][0][name] and data[FIELDS][ID]): brackets nest objects, keys
// 0…n-1 in order make an array, "[]" appends, and a repeated key keeps its
// last value in its first place.
func formTree(fields []formField) *node {
	root := &node{kind: kindObject}
	type slot struct {
		parent *node
		key    string
	}
	index := map[slot]int{} // a key's place in its object, for big forms
	child := func(obj *node, key string) (*node, int) {
		if key == "" {
			key = strconv.Itoa(len(obj.keys))
		}
		if i, ok := index[slot{obj, key}]; ok {
			return obj.vals[i], i
		}
		obj.keys = append(obj.keys, key)
		obj.vals = append(obj.vals, nil)
		i := len(obj.keys) - 1
		index[slot{obj, key}] = i
		return nil, i
	}
	for _, fld := range fields {
		path := formKey(fld.key)
		obj := root
		for _, step := range path[:len(path)-1] {
			next, i := child(obj, step)
			if next == nil || next.kind != kindObject {
				next = &node{kind: kindObject}
				obj.vals[i] = next
			}
			obj = next
		}
		_, i := child(obj, path[len(path)-1])
		obj.vals[i] = &node{kind: kindString, s: fld.value}
	}
	arrays(root)
	return root
}

// arrays turns, below n, every object whose keys are 0, 1, … n-1 in order
// into an array.
func arrays(n *node) {
	for _, v := range n.vals {
		if v.kind == kindObject {
			arrays(v)
		}
	}
	if n.kind != kindObject || len(n.keys) == 0 {
		return
	}
	for i, k := range n.keys {
		if k != strconv.Itoa(i) {
			return
		}
	}
	n.kind, n.keys = kindArray, nil
}
