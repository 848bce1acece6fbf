package body

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	deepest := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	tests := []struct {
		name, contentType, body string
		want                    Class
	}{
		{"JSON", "application/json", `{"a":1}`, Class{JSON, "application/json", NoProblem}},
		{"JSONScalar", "application/json", `"x"`, Class{JSON, "application/json", NoProblem}},
		{"VendorJSON", "application/vnd.github+json", `{}`, Class{JSON, "application/vnd.github+json", NoProblem}},
		{"TextJSONLabel", "text/json", `[1]`, Class{JSON, "text/json", NoProblem}},
		{"JSONAsText", "text/plain", ` {"a":1}`, Class{JSON, "text/plain", NoProblem}},
		{"JSONAsForm", TypeForm, `{"a":1}`, Class{JSON, TypeForm, NoProblem}},
		{"JSONAsBinary", "application/octet-stream", `[1,2]`, Class{JSON, "application/octet-stream", NoProblem}},
		{"StringAsText", "text/plain", `"quoted"`, Class{JSON, "text/plain", NoProblem}},
		{"QuoteInText", "text/plain", `"quoted" text`, Class{Text, "text/plain", NoProblem}},
		{"NumberAsText", "text/plain", `42`, Class{Text, "text/plain", NoProblem}},
		{"MaxDepth", "application/json", deepest, Class{JSON, "application/json", NoProblem}},
		{"TooDeep", "application/json", deep, Class{Text, TypeText, TooDeep}},
		{"TooDeepUnlabelled", "", deep, Class{Text, TypeText, NoProblem}},
		{"NotJSON", "application/json", `{"a":`, Class{Text, TypeText, NotJSON}},
		{"NotJSONBinary", "application/json", "{\x00", Class{Binary, TypeText, NotJSON}},
		{"JSONInvalidUTF8", "application/json", "{\"a\":\"\xff\"}", Class{JSON, "application/json", InvalidUTF8}},
		{"DuplicateNames", "application/json", `{"a":1,"a":2}`, Class{JSON, "application/json", NoProblem}},
		{"LoneSurrogate", "application/json", `"\ud800"`, Class{JSON, "application/json", NoProblem}},
		{"Form", TypeForm, "a=1&b=two+words", Class{Form, TypeForm, NoProblem}},
		{"FormCharset", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "a=1", Class{Form, "Application/X-WWW-Form-Urlencoded; charset=UTF-8", NoProblem}},
		{"GitHubForm", TypeForm, "payload=%7B%22a%22%3A1%7D", Class{Form, TypeForm, NoProblem}},
		{"BrokenForm", TypeForm, "a=%zz", Class{Text, TypeText, NotForm}},
		{"Text", "text/plain", "disk full on db-1", Class{Text, "text/plain", NoProblem}},
		{"TextInvalidUTF8", "text/plain", "caf\xe9", Class{Text, "text/plain", InvalidUTF8}},
		{"TextWithNUL", "text/plain", "a\x00b", Class{Binary, "text/plain", NoProblem}},
		{"XML", "application/xml", "<a>1</a>", Class{Text, "application/xml", NoProblem}},
		{"Binary", "application/octet-stream", "\x00\x01\xff", Class{Binary, "application/octet-stream", NoProblem}},
		{"BinaryLabelText", "image/png", "hello", Class{Text, "image/png", NoProblem}},
		{"UnlabelledJSON", "", ` {"a":1}`, Class{JSON, TypeJSON, NoProblem}},
		{"UnlabelledText", "", "hello", Class{Text, TypeText, NoProblem}},
		{"UnlabelledLatin1", "", "caf\xe9 cr\xe8me", Class{Text, TypeText, InvalidUTF8}},
		{"UnlabelledBinary", "", "\x00\xff", Class{Binary, TypeBinary, NoProblem}},
		{"UnlabelledForm", "", "a=1&b=2", Class{Text, TypeText, NoProblem}},
		{"Empty", "application/json", " \n", Class{Empty, "application/json", NoProblem}},
		{"EmptyUnlabelled", "", "", Class{Empty, TypeText, NoProblem}},
		{"BOMJSON", "application/json; charset=utf-8", "\xef\xbb\xbf{\r\n\"a\": 1}", Class{JSON, "application/json; charset=utf-8", NoProblem}},
		{"BOMJSONAsText", "text/plain", "\xef\xbb\xbf[1]", Class{JSON, "text/plain", NoProblem}},
		{"BOMUnlabelled", "", "\xef\xbb\xbf{}", Class{JSON, TypeJSON, NoProblem}},
		{"BOMText", "", "\xef\xbb\xbfhello", Class{Text, TypeText, NoProblem}},
		{"ControlCharsInLabel", "text/plain\x00\n; x=\xff", "hi", Class{Text, "text/plain; x=", NoProblem}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.contentType, []byte(tt.body)); got != tt.want {
				t.Fatalf("Classify(%q, …) = %+v, want %+v", tt.contentType, got, tt.want)
			}
		})
	}
}

func TestValid_Depth(t *testing.T) {
	for _, depth := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			close := map[string]string{"[": "]", `{"a":`: "}"}[open]
			b := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth))
			if got, want := Valid(b), json.Valid(b); got != want {
				t.Errorf("%d × %s: Valid %v, encoding/json %v", depth, open, got, want)
			}
			if got, want := Valid(b), depth <= MaxDepth; got != want {
				t.Errorf("%d × %s: Valid %v, want %v", depth, open, got, want)
			}
		}
	}
}

// FuzzClassify checks that Classify agrees with encoding/json on what is
// JSON, and that the stored label reads back as the same kind: ingest, the
// formatter and herald render see one body one way.
func FuzzClassify(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"a":1}`}, {"application/json", `{"a":`}, {"", ` [1]`}, {"", "x"},
		{"text/plain", `{"a":1}`}, {TypeForm, "a=%zz"}, {TypeForm, `{"a":1}`}, {TypeForm, `{"a"`},
		{"application/json", "{\x00"}, {"", "\x00\xff"}, {"application/json", `1 2`},
		{"application/json", `{"a":1,"a":2}`}, {"application/json", "\"\xff\""}, {"", `"\udc00"`}, {"", "\xef\xbb\xbf{}"}, {TypeForm, "\xef\xbb\xbfa=1"},
		{"TEXT/PLAIN\x00\xff", "x"}, {"application/cloudevents+json", `{"specversion":"1.0"}`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json %v", b, got, want)
		}
		c := Classify(contentType, b)
		if c.Kind == JSON && !json.Valid(TrimBOM(b)) {
			t.Fatalf("%q classified JSON but does not parse", b)
		}
		if IsJSONType(MediaType(c.Label)) && c.Kind != JSON && c.Kind != Empty {
			t.Fatalf("%q stored as %q but read as %v", b, c.Label, c.Kind)
		}
		if again := Classify(c.Label, b); again.Kind != c.Kind || again.Label != c.Label {
			t.Fatalf("stored as %+v, read back as %+v", c, again)
		}
		if len(c.Label) > MaxContentType {
			t.Fatalf("label %q is over %d bytes", c.Label, MaxContentType)
		}
	})
}
