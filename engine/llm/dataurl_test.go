package llm

import "testing"

func TestParseDataURL(t *testing.T) {
	cases := []struct {
		in         string
		mime, data string
		ok         bool
	}{
		{"data:application/pdf;base64,JVBERi0=", "application/pdf", "JVBERi0=", true},
		{"data:image/png;base64,iVBO", "image/png", "iVBO", true},
		{"data:text/plain,hello", "", "", false}, // not base64
		{"data:;base64,AAAA", "", "", false},     // no type
		{"data:image/png;base64,", "", "", false},
		{"https://example.com/a.png", "", "", false},
		{"JVBERi0=", "", "", false},
	}
	for _, c := range cases {
		mime, data, ok := ParseDataURL(c.in)
		if mime != c.mime || data != c.data || ok != c.ok {
			t.Errorf("ParseDataURL(%q) = %q, %q, %v; want %q, %q, %v", c.in, mime, data, ok, c.mime, c.data, c.ok)
		}
	}
}
