package tgemu_test

import (
	"strings"
	"testing"

	"github.com/herald-relay/herald/bot/tgemu"
)

func TestCheckHTML(t *testing.T) {
	tests := []struct {
		name, html, want, err string
	}{
		{"OK", "<b>GitHub · push</b>\n5 &lt; 6 &amp; ok ", "GitHub · push\n5 < 6 & ok", ""},
		{"UnknownTag", "<x>hi</x>", "", "can't parse entities"},
		{"Unclosed", "<b>hi", "", "can't parse entities"},
		{"BareAmpersand", "a & b", "", "can't parse entities"},
		{"Empty", "<b> </b>", "", "text must be non-empty"},
		{"TooLong", strings.Repeat("я", 4097), "", "message is too long"},
		{"LimitInUTF16", strings.Repeat("😀", 2048), strings.Repeat("😀", 2048), ""},
		{"OverInUTF16", strings.Repeat("😀", 2049), "", "message is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tgemu.CheckHTML(tt.html)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
