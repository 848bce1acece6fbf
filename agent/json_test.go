package agent

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/herald-relay/herald/body"
)

// FuzzParseJSON checks the parser against encoding/json and against
// body.Valid, ingest's check: the same bodies are valid, and they decode to
// the same values.
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
		if got := body.Valid(b); got != valid {
			t.Fatalf("body.Valid(%q) = %v, json.Valid %v", b, got, valid)
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
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{body.MaxDepth, true}, {body.MaxDepth + 1, false}, {100000, false}} {
		b := []byte(strings.Repeat("[", tt.depth) + strings.Repeat("]", tt.depth))
		if _, err := parseJSON(b); (err == nil) != tt.ok {
			t.Errorf("%d nested arrays: error %v, want ok %v (ingest accepts %d levels)", tt.depth, err, tt.ok, body.MaxDepth)
		}
	}
}

func TestParseJSON_Errors(t *testing.T) {
	for _, b := range []string{``, ` `, `{"a":1} {}`, `1 2`, `{"a":}`, `[1,]`, `{"a":1`, `tru`} {
		if n, err := parseJSON([]byte(b)); err == nil {
			t.Errorf("parseJSON(%q) = %v, want an error", b, n)
		}
	}
}

// BenchmarkParseJSON is the JSON reading alone over the shared corpus,
// beside BenchmarkReferenceUnmarshal's map[string]any decoding.
func BenchmarkParseJSON(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "payloads", "*", "*.json"))
	if len(files) == 0 {
		b.Skip("../shared/payloads is absent")
	}
	var bodies [][]byte
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, d)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := parseJSON(bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
