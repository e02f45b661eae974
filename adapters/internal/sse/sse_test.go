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
		{"leading BOM skipped", "\xEF\xBB\xBFdata: b\n\n", []string{"|b"}},
		{"event type reset by a data-less event", "event: x\n\ndata: y\n\n", []string{"|y"}},
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

func TestNextEventReportsHowEventsEnded(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []string // "event|data|end"
	}{
		{"blank line", "event: error\ndata: e\n\n", []string{"error|e|0"}},
		{"body after a whole line", "data: a\n\ndata: b\n", []string{"|a|0", "|b|1"}},
		{"body inside the last line", "data: a\n\ndata: [DONE]", []string{"|a|0", "|[DONE]|2"}},
		{"cut line keeps the event's earlier lines", "data: x\ndata: {\"y", []string{"|x\n{\"y|2"}},
		{"cut CRLF at the end", "data: a\r", []string{"|a|2"}},
		{"cut comment after data", "data: a\n: ke", []string{"|a|2"}},
		{"only a cut comment", ": ke", nil},
		{"empty body", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReaderSize(strings.NewReader(tc.in), 16)
			var got []string
			for {
				ev, data, end, err := r.NextEvent()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(ev)+"|"+string(data)+"|"+string(rune('0'+end)))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReaderSpillsLongLines(t *testing.T) {
	long := strings.Repeat("p", 100)
	r := NewReaderSize(strings.NewReader("data: "+long+"\n\ndata: next\n\n"), 16)
	for _, want := range []string{long, "next"} {
		if _, data, err := r.Next(); err != nil || string(data) != want {
			t.Fatalf("got %q, %v; want %q", data, err, want)
		}
	}
}

func TestDrainReadsWhatFollows(t *testing.T) {
	src := strings.NewReader("data: [DONE]\n\n" + strings.Repeat("x", 100))
	r := NewReaderSize(src, 16)
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.Drain(1 << 10)
	if src.Len() != 0 {
		t.Fatalf("%d bytes left unread", src.Len())
	}
}

func BenchmarkNextEvent(b *testing.B) {
	ev := "data: " + `{"id":"chatcmpl-B1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" word"}}]}` + "\n\n"
	body := strings.Repeat(ev, 100)
	rd := strings.NewReader(body)
	var r Reader
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Init(rd, 1<<10)
		for {
			if _, _, _, err := r.NextEvent(); err != nil {
				break
			}
		}
	}
}
