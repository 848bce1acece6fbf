package agent

import "fmt"

// PayloadSecrets lists the credentials of an event's body: the values of
// every key that names one (a form's included), for tests that check none
// is ever shown.
func PayloadSecrets(ev Event) []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		for i, v := range n.vals {
			if n.kind == kindObject && sensitiveKey(n.keys[i]) && v.kind == kindString && len(v.s) >= 4 {
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
