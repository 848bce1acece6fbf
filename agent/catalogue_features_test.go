package agent

import (
	"testing"
)

// evalIn fills the template src against a body read as the catalogue reads
// it, in lang.
func evalIn(t *testing.T, lang, ct, body, src string) (string, bool) {
	t.Helper()
	tm, err := parseTemplate(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	ev := Event{ContentType: ct, Body: []byte(body), Headers: map[string]string{"X-Event": "build.complete"}}
	l := defaultBundle().For(lang)
	f := &formatter{l: l, p: decode(ev)}
	return tm.eval(&scope{ev: ev, root: catalogueTree(f.p), l: l, f: f})
}

// TestCatalogue_BodyWithBOM: a .NET sender's JSON starts with a UTF-8 byte
// order mark (Microsoft's own Azure DevOps fixture does); the catalogue
// reads it as JSON whatever its label, +json media types included, and
// detects its entry.
func TestCatalogue_BodyWithBOM(t *testing.T) {
	c := testCatalogue(t, map[string]string{
		"ado": "event = \"{eventType}\"\n[[detect]]\nbody = { eventType = \"~^build\\\\.\", \"resource.id\" = \"*\" }\n",
	})
	body := "\xef\xbb\xbf{\r\n  \"eventType\": \"build.complete\",\r\n  \"resource\": {\"id\": 2}\r\n}"
	for _, ct := range []string{
		"application/json; charset=utf-8",
		"application/vnd.microsoft.vsts+json",
		"text/plain; charset=utf-8", // as ingest stores a labelled JSON body it could not parse
		"",
	} {
		t.Run(ct, func(t *testing.T) {
			got, ok := evalIn(t, "en", ct, body, "{eventType} {resource.id}")
			if got != "build.complete 2" || !ok {
				t.Errorf("eval = %q, %v; want the JSON read past its BOM", got, ok)
			}
			ev := Event{ContentType: ct, Body: []byte(body)}
			p := decode(ev)
			x := &scope{ev: ev, root: catalogueTree(p)}
			if e := c.match(x, true); e == nil || e.id != "ado" {
				t.Errorf("matched %v, want ado", e)
			}
		})
	}
	// A BOM in the middle of a body is text, not a mark.
	if p := decode(Event{ContentType: "text/plain", Body: []byte("hi \xef\xbb\xbf{}")}); p.root != nil {
		t.Errorf("a text body with a BOM inside is read as JSON")
	}
}
