package agent

import (
	"fmt"
	"strconv"
	"strings"
)

// A body path of the catalogue: steps joined by dots, each an object key or
// an array index ("commits.0.id"). A key that holds dots or spaces is
// quoted in brackets, `scan_overview["application/vnd.security.vulnerability.report; version=1.1"].severity`
// (any text but a double quote). A step "*" is every element of an array
// or value of an object: a condition holds when it holds for any value the
// path reaches, a template uses the first value that says something. The
// syntax is the contract in /work/coord/CATALOGUE_FORMAT.md.

// bodyPath is a parsed body path.
type bodyPath struct {
	keys []string // the steps: keys and array indexes ("*" for any)
	any  []bool   // which steps are "*"; nil when none is
}

// maxPathSteps bounds a path, as templates are bounded.
const maxPathSteps = 64

// parsePath reads a body path, refusing empty steps, unclosed quotes and
// whitespace outside quotes.
func parsePath(s string) (bodyPath, error) {
	var p bodyPath
	if s == "" {
		return p, fmt.Errorf("bad path %q", s)
	}
	var anys []bool
	wild := false
	add := func(key string, star bool) {
		p.keys = append(p.keys, key)
		anys = append(anys, star)
		wild = wild || star
	}
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], `["`) {
			end := strings.Index(s[i+2:], `"]`)
			if end < 0 {
				return p, fmt.Errorf("unclosed [\" in path %q", s)
			}
			key := s[i+2 : i+2+end]
			if key == "" || strings.ContainsAny(key, "\"\n\r\t") {
				return p, fmt.Errorf("bad quoted step in path %q", s)
			}
			add(key, false)
			i += end + 4
			switch {
			case i == len(s), strings.HasPrefix(s[i:], `["`):
			case s[i] == '.' && i+1 < len(s):
				i++
			default:
				return p, fmt.Errorf("text after a quoted step in path %q", s)
			}
		} else {
			end := len(s)
			if j := strings.IndexByte(s[i:], '.'); j >= 0 {
				end = i + j
			}
			if j := strings.Index(s[i:end], `["`); j >= 0 {
				end = i + j
			}
			key := s[i:end]
			switch {
			case key == "":
				return p, fmt.Errorf("empty step in path %q", s)
			case strings.ContainsAny(key, " \t\n{}\""):
				return p, fmt.Errorf("bad path %q", s)
			}
			add(key, key == "*")
			i = end
			if i < len(s) && s[i] == '.' {
				if i++; i == len(s) {
					return p, fmt.Errorf("empty step in path %q", s)
				}
			}
		}
		if len(p.keys) > maxPathSteps {
			return p, fmt.Errorf("path %q has more than %d steps", s, maxPathSteps)
		}
	}
	if wild {
		p.any = anys
	}
	return p, nil
}

// last is the path's last key ("" for "*" or no step).
func (p bodyPath) last() string {
	if len(p.keys) == 0 || p.any != nil && p.any[len(p.any)-1] {
		return ""
	}
	return p.keys[len(p.keys)-1]
}

// wild reports a path with a "*" step.
func (p bodyPath) wild() bool { return p.any != nil }

// reach calls fn with every value the path reaches from n, in the body's
// order, with the key (or index) it was reached by, until fn returns
// false; it reports whether fn asked to stop. A path visits each value of
// the tree at most once, so it costs no more than the body it walks.
func (p bodyPath) reach(n *node, fn func(key string, v *node) bool) bool {
	return p.walk(0, n, "", fn)
}

func (p bodyPath) walk(i int, n *node, key string, fn func(string, *node) bool) bool {
	if n == nil {
		return false
	}
	if i == len(p.keys) {
		return !fn(key, n)
	}
	if p.any == nil || !p.any[i] {
		return p.walk(i+1, n.get(p.keys[i]), p.keys[i], fn)
	}
	if n.kind != kindObject && n.kind != kindArray {
		return false
	}
	for j, v := range n.vals {
		k := ""
		if n.kind == kindObject {
			k = n.keys[j]
		} else {
			k = strconv.Itoa(j)
		}
		if p.walk(i+1, v, k, fn) {
			return true
		}
	}
	return false
}

// at is the value the path names: for a path without "*" the one value
// (maybe null or empty, as node.get gives it), else the first value it
// reaches that says something (not null, "", [] or {}); key is the key it
// was reached by.
func (p bodyPath) at(n *node) (key string, v *node) {
	if p.any == nil {
		return p.last(), n.get(p.keys...)
	}
	p.reach(n, func(k string, c *node) bool {
		if c.empty() {
			return true
		}
		key, v = k, c
		return false
	})
	return key, v
}
