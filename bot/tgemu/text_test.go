package tgemu

import (
	"strings"
	"testing"

	"reflect"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		lenient  bool
		wantText string
		wantEnts []Entity
		wantErr  string
	}{
		{name: "plain", in: "hello", wantText: "hello"},
		{
			name: "bold and nested italic", in: "<b>a<i>b</i></b>c", wantText: "abc",
			wantEnts: []Entity{{Type: "bold", Offset: 0, Length: 2}, {Type: "italic", Offset: 1, Length: 1}},
		},
		{
			name: "every simple tag", in: "<strong>1</strong><em>2</em><u>3</u><ins>4</ins><s>5</s><strike>6</strike><del>7</del><tg-spoiler>8</tg-spoiler><span class=\"tg-spoiler\">9</span><code>0</code>",
			wantText: "1234567890",
			wantEnts: []Entity{
				{Type: "bold", Offset: 0, Length: 1}, {Type: "italic", Offset: 1, Length: 1},
				{Type: "underline", Offset: 2, Length: 1}, {Type: "underline", Offset: 3, Length: 1},
				{Type: "strikethrough", Offset: 4, Length: 1}, {Type: "strikethrough", Offset: 5, Length: 1},
				{Type: "strikethrough", Offset: 6, Length: 1}, {Type: "spoiler", Offset: 7, Length: 1},
				{Type: "spoiler", Offset: 8, Length: 1}, {Type: "code", Offset: 9, Length: 1},
			},
		},
		{name: "case-insensitive tags", in: "<B>x</B>", wantText: "x", wantEnts: []Entity{{Type: "bold", Length: 1}}},
		{name: "empty end tag closes the innermost", in: "<b>x</>", wantText: "x", wantEnts: []Entity{{Type: "bold", Length: 1}}},
		{name: "entities", in: "a &lt; b &amp; c &gt; d &quot;e&quot; &#65;&#x42;", wantText: `a < b & c > d "e" AB`},
		{
			name: "link with entity in href", in: `<a href="https://example.com/?a=1&amp;b=2">x</a>`, wantText: "x",
			wantEnts: []Entity{{Type: "text_link", Length: 1, URL: "https://example.com/?a=1&b=2"}},
		},
		{
			name: "user mention", in: `<a href="tg://user?id=42">Bob</a>`, wantText: "Bob",
			wantEnts: []Entity{{Type: "text_mention", Length: 3, UserID: 42}},
		},
		{name: "invalid link is dropped", in: `<a href="javascript:alert(1)">x</a>`, wantText: "x"},
		{
			name: "pre with language", in: `<pre><code class="language-go">x := 1</code></pre>`, wantText: "x := 1",
			wantEnts: []Entity{{Type: "pre", Length: 6, Language: "go"}},
		},
		{name: "blockquote", in: "<blockquote>q</blockquote>", wantText: "q", wantEnts: []Entity{{Type: "blockquote", Length: 1}}},
		{
			name: "expandable blockquote", in: "<blockquote expandable>q</blockquote>", wantText: "q",
			wantEnts: []Entity{{Type: "expandable_blockquote", Length: 1}},
		},
		{
			name: "custom emoji counts UTF-16", in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, wantText: "👍",
			wantEnts: []Entity{{Type: "custom_emoji", Length: 2, CustomEmojiID: "5368324170671202286"}},
		},
		{
			name: "offsets in UTF-16 after an emoji", in: "😀<b>x</b>", wantText: "😀x",
			wantEnts: []Entity{{Type: "bold", Offset: 2, Length: 1}},
		},
		{name: "empty tags make no entity", in: "<b></b>x", wantText: "x"},

		{name: "unknown tag", in: "<foo>x</foo>", wantErr: `Unsupported start tag "foo" at byte offset 0`},
		{name: "br is not supported", in: "a<br>b", wantErr: `Unsupported start tag "br" at byte offset 1`},
		{name: "stray less-than", in: "a < b", wantErr: `Unsupported start tag "" at byte offset 2`},
		{name: "less-than at the end", in: "x <", wantErr: "Unclosed start tag at byte offset 2"},
		{name: "unclosed tag", in: "<b>x", wantErr: `Can't find end tag corresponding to start tag "b"`},
		{name: "end tag without start", in: "x</b>", wantErr: "Unexpected end tag at byte offset 1"},
		{name: "misnested", in: "<b><i>test</b></i>", wantErr: `Unmatched end tag at byte offset 10, expected "</i>", found "</b>"`},
		{name: "unclosed end tag", in: "<b>x</b", wantErr: "Unclosed end tag at byte offset 4"},
		{name: "span needs the spoiler class", in: "<span>x</span>", wantErr: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{name: "unclosed attribute", in: `<a href="x>y`, wantErr: "Unclosed start tag at byte offset 0"},
		{name: "bad name token", in: `<a href=https://x.com>y</a>`, wantErr: "Unexpected end of name token at byte offset 8"},
		{name: "empty attribute name", in: `<a ="x">y</a>`, wantErr: `Empty attribute name in the tag "a" at byte offset 0`},
		{name: "bad custom emoji", in: `<tg-emoji emoji-id="abc">x</tg-emoji>`, wantErr: "Invalid custom emoji identifier specified"},
		{name: "surrogate reference", in: "&#xD800;", wantErr: "unmatched surrogate code units"},

		// The fake's stricter rules, and Telegram's own behaviour with WithLenientHTML.
		{name: "bare ampersand", in: "AT&T", wantErr: "Character '&' at byte offset 2 does not start a supported HTML entity"},
		{name: "bare ampersand, lenient", in: "AT&T", lenient: true, wantText: "AT&T"},
		{name: "entity without semicolon", in: "a &lt b", wantErr: "Character '&' at byte offset 2"},
		{name: "entity without semicolon, lenient", in: "a &lt b", lenient: true, wantText: "a < b"},
		{name: "unknown named entity", in: "&nbsp;", wantErr: "Character '&' at byte offset 0"},
		{name: "unknown named entity, lenient", in: "&nbsp;", lenient: true, wantText: "&nbsp;"},
		{name: "link without href", in: "<a>x</a>", wantErr: `Tag "a" must have an href attribute`},
		{
			name: "link without href, lenient", in: "<a>example.com</a>", lenient: true, wantText: "example.com",
			wantEnts: []Entity{{Type: "text_link", Length: 11, URL: "http://example.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotText, gotEnts, err := parseHTML(tt.in, !tt.lenient)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseHTML(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseHTML(%q) error = %v", tt.in, err)
			}
			if gotText != tt.wantText {
				t.Errorf("parseHTML(%q) text = %q, want %q", tt.in, gotText, tt.wantText)
			}
			if !reflect.DeepEqual(gotEnts, tt.wantEnts) {
				t.Errorf("parseHTML(%q) entities = %+v, want %+v", tt.in, gotEnts, tt.wantEnts)
			}
		})
	}
}

func TestTrimText(t *testing.T) {
	gotText, gotEnts := trimText("  \n<x>\n ", []Entity{{Type: "bold", Offset: 0, Length: 6}})
	if want := "<x>"; gotText != want {
		t.Errorf("text = %q, want %q", gotText, want)
	}
	wantEnts := []Entity{{Type: "bold", Offset: 0, Length: 3}}
	if !reflect.DeepEqual(gotEnts, wantEnts) {
		t.Errorf("entities = %+v, want %+v", gotEnts, wantEnts)
	}
}
