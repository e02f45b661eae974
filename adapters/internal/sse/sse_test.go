package sse

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReaderDecodesEvents(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string // "event|data"
	}{
		{"lf framing", "event: a\ndata: 1\n\ndata: 2\n\n", []string{"a|1", "|2"}},
		{"crlf framing", "data: x\r\n\r\ndata: y\r\n\r\n", []string{"|x", "|y"}},
		{"comments and blank keep-alives skipped", ": ping\n\n\n\ndata: z\n\n", []string{"|z"}},
		{"multi-line data joined by newline", "data: a\ndata: b\n\n", []string{"|a\nb"}},
		{"no space after colon", "data:v\n\n", []string{"|v"}},
		{"last event without blank line still dispatched", "data: end\n", []string{"|end"}},
		{"truncated last line dropped", "data: ok\n\ndata: {\"half", []string{"|ok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in))
			var got []string
			for {
				ev, data, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(ev)+"|"+string(data))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReaderBoundsEventSize(t *testing.T) {
	r := NewReader(strings.NewReader("data: " + strings.Repeat("x", 9<<20) + "\n\n"))
	if _, _, err := r.Next(); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("got %v", err)
	}
}
