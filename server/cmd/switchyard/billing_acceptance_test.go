package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// The budget bypass: streams that end early on a cacheable route
// (temperature 0) were billed $0. Each stream must now be paid for what it
// relayed, so a $0.50/day key runs out after as many streams, and as much
// spend, at temperature 0 as at 0.7, whether the client leaves after 40 of
// 50 chunks or the upstream cuts the stream there; every row is marked
// estimated. (Engine tests cover identical streams in flight together:
// they share one upstream stream and pay for it once.)
func TestAcceptanceAbortedStreamsExhaustTheBudget(t *testing.T) {
	for _, mode := range []string{"client leaves", "upstream cuts"} {
		t.Run(mode, func(t *testing.T) {
			knobs := fakeupstream.Knobs{Tokens: 50, TokenDelay: 10 * time.Millisecond}
			if mode == "upstream cuts" {
				knobs.AbortAfter = 40
			}
			up := fakeUpstream(t, knobs)
			// $2,500 per million output tokens: 40 relayed words are ~$0.1 to $0.2.
			cfg := strings.Replace(acceptConfig(up, t.TempDir(), ""), "{input: 1, output: 10}", "{input: 1000, output: 2500}", 1)
			p := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY="+adminKey)
			type run struct {
				admitted, chunks int
				estimated        int64
				cost             string
			}
			runs := map[string]run{}
			for _, temp := range []string{"0.7", "0"} {
				id, secret := createKey(t, p.base, adminKey, `{"name":"t`+temp+`","budget":{"amount_usd":0.5,"period":"BUDGET_PERIOD_DAY"}}`)
				var r run
				for ; r.admitted < 40; r.admitted++ {
					got, refused := abortedStream(t, p.base, secret, temp, 40)
					if refused {
						break
					}
					r.chunks += got
					// One after the other, as a client would: the next starts
					// once this one is settled and recorded.
					usageRequests(t, p.base, adminKey, id, int64(r.admitted+1))
				}
				if r.admitted == 40 {
					t.Fatalf("temperature %s: all 40 streams admitted (%d chunks) on a $0.50 budget", temp, r.chunks)
				}
				// One more row: the refusal that ended the run.
				usageRequests(t, p.base, adminKey, id, int64(r.admitted+1))
				sums := usageTotal(t, p.base, adminKey, id)
				requests := sums.requests
				r.estimated, r.cost = sums.estimated, sums.cost
				t.Logf("%s, temperature %s: %d streams admitted (%d chunks), then budget_exceeded; ledger: %d rows, %d estimated, $%s",
					mode, temp, r.admitted, r.chunks, requests, r.estimated, r.cost)
				if spent, _ := strconv.ParseFloat(r.cost, 64); requests != int64(r.admitted+1) || r.estimated != int64(r.admitted) || spent < 0.5 {
					t.Fatalf("ledger: %d rows, %d estimated, $%s; want %d estimated streams and a refusal, spend past the $0.50 budget",
						requests, r.estimated, r.cost, r.admitted)
				}
				runs[temp] = r
			}
			cold, hot := runs["0"], runs["0.7"]
			if cold != hot {
				t.Fatalf("temperature 0: %+v; 0.7: %+v; want the same", cold, hot)
			}
		})
	}
}

// abortedStream opens a stream and reads at most max content events, then
// hangs up; refused reports a 429 budget_exceeded instead.
func abortedStream(t *testing.T, base, key, temp string, max int) (events int, refused bool) {
	t.Helper()
	body := fmt.Sprintf(`{"model":"fake-gpt","stream":true,"max_tokens":60,"temperature":%s,"messages":[{"role":"user","content":"Say hello"}]}`, temp)
	req, err := http.NewRequest("POST", base+"/v1/chat/completions", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 429 {
		return 0, true
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for events < max && sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: {") && strings.Contains(line, `"content":"`) {
			events++
		}
	}
	return events, false
}
