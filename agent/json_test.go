package agent

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseJSON checks the hand-written parser against encoding/json: the
// same bodies are valid, and they decode to the same values.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `[]`, `{}`, `"x"`, `-0.5e+10`, `0`, `01`, `1.`,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `"\u00e9\ud83d\ude00\n\t\"\\\/"`, `"\ud800"`, `"\udc00\ud800x"`,
		`"\ud83dx"`, "\"caf\xe9\"", "\"a\x01\"", `{"a":"b"} x`, ` [ 1 , 2 ] `, `tru`, `nul`, `"\u12"`,
		`{"k":"v","k":"w"}`, `[[[[[]]]]]`, `1e5`, `-`, `2E-3`, `{"é":"\u0000"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseJSON(b)
		valid := json.Valid(b)
		if (err == nil) != valid {
			t.Fatalf("parseJSON(%q) error %v, json.Valid %v", b, err, valid)
		}
		if err != nil {
			return
		}
		var buf bytes.Buffer
		n.encode(&buf)
		decode := func(b []byte) (any, error) {
			var v any
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			return v, dec.Decode(&v)
		}
		got, err := decode(buf.Bytes())
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", buf.String(), err)
		}
		want, err := decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseJSON(%q) = %#v, encoding/json %#v", b, got, want)
		}
	})
}

func TestParseJSON_Order(t *testing.T) {
	n, err := parseJSON([]byte(`{"z":1,"a":{"y":2,"b":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(n.keys, ","), "z,a"; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if got, want := n.str("a", "b"), "3"; got != want {
		t.Errorf("a.b = %q, want %q", got, want)
	}
}

func TestParseJSON_Depth(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	if _, err := parseJSON([]byte(deep)); err == nil {
		t.Error("100000 nested arrays parsed; want an error, not a deep recursion")
	}
	ok := strings.Repeat("[", 500) + strings.Repeat("]", 500)
	if _, err := parseJSON([]byte(ok)); err != nil {
		t.Errorf("500 nested arrays: %v", err)
	}
}
