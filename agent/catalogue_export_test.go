package agent

import (
	"fmt"
	"strings"
)

// placeholderWords are the values documentation writes where a real value
// goes: JSON's type names.
var placeholderWords = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true, "object": true, "array": true,
	"null": true, "true": true, "false": true,
}

// PayloadSecrets lists the credentials of an event's body: the values of
// every key that names one (a form's included), for tests that check none
// is ever shown. Values that cannot be one are left out: a documentation
// placeholder naming a type ("string", T-Bank's example Pan) and a value
// its sender masked already ("430000******0777").
func PayloadSecrets(ev Event) []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		for i, v := range n.vals {
			if n.kind == kindObject && sensitiveKey(n.keys[i]) && v.kind == kindString && len(v.s) >= 4 &&
				!placeholderWords[strings.ToLower(v.s)] && !strings.Contains(v.s, "****") && !strings.Contains(v.s, Masked) {
				out = append(out, v.s)
			}
			walk(v)
		}
	}
	if tree := catalogueTree(decode(ev)); tree != nil {
		walk(tree)
	}
	return out
}

// PayloadStrings lists every string value of an event's body as the
// catalogue reads it (JSON escapes decoded, a form's fields included).
func PayloadStrings(ev Event) []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		if n.kind == kindString {
			out = append(out, n.s)
		}
		for _, v := range n.vals {
			walk(v)
		}
	}
	if tree := catalogueTree(decode(ev)); tree != nil {
		walk(tree)
	}
	return out
}

// CatalogueName is the name of the embedded catalogue's entry id.
func CatalogueName(id string) (string, error) {
	for _, e := range catalogue().entries {
		if e.id == id {
			return e.name, nil
		}
	}
	_, err := loadCatalogue(catalogueFS)
	return "", fmt.Errorf("no catalogue entry %q loaded (%v)", id, err)
}

// CatalogueDocs is the documentation link of the embedded catalogue's entry id.
func CatalogueDocs(id string) (string, error) {
	for _, e := range catalogue().entries {
		if e.id == id {
			return e.docs, nil
		}
	}
	return "", fmt.Errorf("no catalogue entry %q", id)
}
