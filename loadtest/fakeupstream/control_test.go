package fakeupstream

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestControlEndpointPatchesAndResetsKnobs(t *testing.T) {
	s, ts := serve(t, Options{Knobs: Knobs{Tokens: 2}})
	steps := []struct {
		name       string
		c          call
		status     int
		wantTokens int
		wantTTFT   time.Duration
	}{
		{"GET shows the starting knobs", call{method: "GET", path: "/_control"}, 200, 2, 0},
		{"POST patches the fields it names", call{path: "/_control", body: `{"tokens":5,"ttft":"3ms"}`}, 200, 5, 3 * time.Millisecond},
		{"bare numbers are milliseconds", call{path: "/_control", body: `{"ttft":7}`}, 200, 5, 7 * time.Millisecond},
		{"unknown field", call{path: "/_control", body: `{"tokenz":1}`}, 400, 5, 7 * time.Millisecond},
		{"out of range", call{path: "/_control", body: `{"status":200}`}, 400, 5, 7 * time.Millisecond},
		{"bad duration", call{path: "/_control", body: `{"latency":"soon"}`}, 400, 5, 7 * time.Millisecond},
		{"not JSON", call{path: "/_control", body: `tokens=1`}, 400, 5, 7 * time.Millisecond},
		{"reset restores Options.Knobs", call{path: "/_control/reset"}, 200, 2, 0},
		{"unknown control path", call{method: "GET", path: "/_control/nope"}, 404, 2, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, st.c)
			if resp.StatusCode != st.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, st.status, body)
			}
			if st.status != 200 {
				if _, ok := decode(t, body)["error"].(string); !ok {
					t.Errorf("no error message: %s", body)
				}
			}
			k := s.Knobs()
			if k.Tokens != st.wantTokens || k.TTFT != st.wantTTFT {
				t.Errorf("knobs %+v, want tokens %d ttft %v", k, st.wantTokens, st.wantTTFT)
			}
		})
	}
	t.Run("knobs set by POST shape answers", func(t *testing.T) {
		mustDo(t, ts.URL, call{path: "/_control", body: `{"tokens":3}`})
		_, body := mustDo(t, ts.URL, apiFormats[0].unary("Hi"))
		if got := apiFormats[0].text(t, body); got != answerText(3) {
			t.Errorf("text %q", got)
		}
	})
	t.Run("GET round-trips through POST", func(t *testing.T) {
		want := Knobs{Latency: time.Millisecond, TTFT: 2 * time.Millisecond, TokenDelay: 1500 * time.Microsecond, Tokens: 9, Status: 503, RetryAfter: time.Second, Hang: true, Reset: true, AbortAfter: 4}
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		mustDo(t, ts.URL, call{path: "/_control", body: string(b)})
		_, body := mustDo(t, ts.URL, call{method: "GET", path: "/_control"})
		var got Knobs
		if err := json.Unmarshal(body, &got); err != nil || got != want {
			t.Errorf("got %+v (%v), want %+v", got, err, want)
		}
		mustDo(t, ts.URL, call{path: "/_control/reset"})
	})
}

// recordsResponse is GET /_control/records.
type recordsResponse struct {
	Total   uint64            `json:"total"`
	Counts  map[string]uint64 `json:"counts"`
	Records []Record          `json:"records"`
}

func getRecords(t *testing.T, base string, q url.Values) recordsResponse {
	t.Helper()
	_, body := mustDo(t, base, call{method: "GET", path: "/_control/records?" + q.Encode()})
	var r recordsResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("records: %v: %s", err, body)
	}
	return r
}

func TestRecordsEndpointFiltersAndMasks(t *testing.T) {
	_, ts := serve(t, Options{})
	for _, f := range apiFormats {
		mustDo(t, ts.URL, f.unary("marker-"+f.name))
		mustDo(t, ts.URL, f.stream("other"))
	}
	mustDo(t, ts.URL, call{path: "/v1/chat/completions", body: openaiBody("no key", false, "")}) // 401, still recorded

	all := getRecords(t, ts.URL, nil)
	if all.Total != 7 || len(all.Records) != 7 {
		t.Fatalf("total %d, %d records, want 7", all.Total, len(all.Records))
	}
	if all.Counts["/v1/chat/completions"] != 3 || all.Counts["/v1/messages"] != 2 || all.Counts["/v1beta/models/fake-gemini:generateContent"] != 1 {
		t.Errorf("counts %v", all.Counts)
	}
	for i, r := range all.Records {
		if r.Seq != uint64(i+1) || r.Method != "POST" || r.Time.IsZero() {
			t.Errorf("record %d: seq %d method %s", i, r.Seq, r.Method)
		}
	}
	tests := []struct {
		name string
		q    url.Values
		want []uint64
	}{
		{"path", url.Values{"path": {"/v1/messages"}}, []uint64{3, 4}},
		{"format", url.Values{"format": {"gemini"}}, []uint64{5, 6}},
		{"contains", url.Values{"contains": {"marker-anthropic"}}, []uint64{3}},
		{"since", url.Values{"since": {"5"}}, []uint64{6, 7}},
		{"limit keeps the newest", url.Values{"limit": {"2"}, "path": {"/v1/chat/completions"}}, []uint64{2, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := getRecords(t, ts.URL, tt.q)
			var got []uint64
			for _, rec := range r.Records {
				got = append(got, rec.Seq)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("seqs %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("seqs %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("headers masked, body kept raw and as JSON", func(t *testing.T) {
		r := getRecords(t, ts.URL, url.Values{"contains": {"marker-openai"}}).Records[0]
		if got := r.Header.Get("Authorization"); got != "Bearer ****cdef" {
			t.Errorf("Authorization %q", got)
		}
		a := getRecords(t, ts.URL, url.Values{"contains": {"marker-anthropic"}}).Records[0]
		if got := a.Header.Get("X-Api-Key"); strings.Contains(got, "test") || got == "" {
			t.Errorf("x-api-key %q", got)
		}
		if a.Header.Get("Anthropic-Version") != "2023-06-01" || a.Format != fmtAnthropic {
			t.Errorf("record: %+v", a)
		}
		var body map[string]any
		if err := json.Unmarshal(a.JSON, &body); err != nil || body["system"] != "Be brief." || !strings.Contains(a.Body, "marker-anthropic") {
			t.Errorf("json %s (%v), body %q", a.JSON, err, a.Body)
		}
	})
	t.Run("bad filters", func(t *testing.T) {
		for _, q := range []string{"since=x", "limit=-1"} {
			resp, _ := mustDo(t, ts.URL, call{method: "GET", path: "/_control/records?" + q})
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d", q, resp.StatusCode)
			}
		}
	})
	t.Run("reset forgets", func(t *testing.T) {
		mustDo(t, ts.URL, call{path: "/_control/reset"})
		if r := getRecords(t, ts.URL, nil); r.Total != 0 || len(r.Records) != 0 || len(r.Counts) != 0 {
			t.Errorf("after reset: %+v", r)
		}
	})
}

func TestUnknownPathsAreRecordedToo(t *testing.T) {
	s, ts := serve(t, Options{})
	resp, body := mustDo(t, ts.URL, call{path: "/v1/v1/chat/completions", headers: openaiHeaders, body: `{"model":"x"}`})
	if resp.StatusCode != http.StatusNotFound || path(decode(t, body), "error", "type") != "invalid_request_error" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	recs := s.Records()
	if len(recs) != 1 || recs[0].Path != "/v1/v1/chat/completions" || recs[0].Body != `{"model":"x"}` {
		t.Errorf("records %+v", recs)
	}
	if s.Counts()["/v1/v1/chat/completions"] != 1 {
		t.Errorf("counts %v", s.Counts())
	}
}
