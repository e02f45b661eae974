package sim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Result is what the client saw of one request.
type Result struct {
	ID   int  `json:"id"`
	Kind Kind `json:"kind"`
	// Sim is the simulated time of day the request was sent at.
	Sim      time.Duration `json:"sim"`
	Status   int           `json:"status"`
	OK       bool          `json:"ok"`
	Latency  time.Duration `json:"latency"`
	TTFT     time.Duration `json:"ttft,omitempty"`
	Provider string        `json:"provider,omitempty"`
	Prompt   int           `json:"prompt_tokens"`
	Output   int           `json:"completion_tokens"`
	Attempts int           `json:"attempts,omitempty"`
	// GatewayCost is what the gateway said the answer cost (its prices).
	GatewayCost float64 `json:"gateway_cost"`
	// Cost is what it cost at the true price; Account fills it.
	Cost float64 `json:"cost"`
	Err  string  `json:"error,omitempty"`
}

var filler = strings.Fields("the quarterly report shows revenue growth across regions while costs remained stable and " +
	"customers asked about delivery times pricing tiers support hours refunds and the new mobile app features")

// Prompt is the text of request id of the given shape: unique (so no
// cache or coalescing joins two requests), with the directive that makes
// the fake answer shape.AnswerTokens words — the gateway forwards message
// text, so the directive reaches whichever provider it picks.
func Prompt(id int, sh Shape) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[[fake:tokens=%d]] request %d:", sh.AnswerTokens, id)
	for i := 0; i < sh.PromptWords; i++ {
		b.WriteByte(' ')
		b.WriteString(filler[(id+i)%len(filler)])
	}
	return b.String()
}

// Client sends the scenario's requests to the gateway's Chat Completions
// endpoint.
type Client struct {
	HTTP *http.Client
	URL  string // the gateway's base URL
	// Timeout bounds each request, as an impatient user would.
	Timeout time.Duration
	Now     func() time.Time
}

type usage struct {
	Prompt     int `json:"prompt_tokens"`
	Completion int `json:"completion_tokens"`
}

type routing struct {
	Provider string      `json:"provider"`
	Attempts int         `json:"attempts"`
	Cost     json.Number `json:"cost_usd"`
}

// Do sends one request of kind k and shape sh and measures it.
func (c *Client) Do(ctx context.Context, id int, k Kind, sh Shape) Result {
	r := Result{ID: id, Kind: k}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	body := map[string]any{
		"model":    "chat",
		"messages": []map[string]string{{"role": "user", "content": Prompt(id, sh)}},
	}
	if k == Stream {
		body["stream"] = true
		body["stream_options"] = map[string]bool{"include_usage": true}
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/v1/chat/completions", bytes.NewReader(b))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	req.Header.Set("Content-Type", "application/json")
	start := c.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		r.Latency, r.Err = c.Now().Sub(start), err.Error()
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	r.Provider = resp.Header.Get("X-Switchyard-Provider")
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		r.Latency, r.Err = c.Now().Sub(start), strings.TrimSpace(string(msg))
		return r
	}
	if k == Stream {
		c.readStream(resp.Body, start, &r)
	} else {
		c.readUnary(resp.Body, &r)
	}
	r.Latency = c.Now().Sub(start)
	r.OK = r.Err == ""
	return r
}

func (c *Client) readUnary(body io.Reader, r *Result) {
	var out struct {
		Usage      *usage   `json:"usage"`
		Switchyard *routing `json:"switchyard"`
	}
	if err := json.NewDecoder(body).Decode(&out); err != nil {
		r.Err = "decoding the answer: " + err.Error()
		return
	}
	if out.Usage == nil {
		r.Err = "answer without usage"
		return
	}
	r.Prompt, r.Output = out.Usage.Prompt, out.Usage.Completion
	r.routing(out.Switchyard)
}

func (r *Result) routing(s *routing) {
	if s == nil {
		return
	}
	if s.Provider != "" {
		r.Provider = s.Provider
	}
	r.Attempts = s.Attempts
	r.GatewayCost, _ = strconv.ParseFloat(string(s.Cost), 64)
}

// readStream reads Chat Completions SSE to [DONE]: the first content
// delta is the time to first token, the usage chunk gives the tokens, an
// error event or a missing [DONE] is a failure.
func (c *Client) readStream(body io.Reader, start time.Time, r *Result) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	done := false
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			done = true
			break
		}
		var ch struct {
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage      *usage          `json:"usage"`
			Switchyard *routing        `json:"switchyard"`
			Error      json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(data, &ch); err != nil {
			r.Err = "decoding a chunk: " + err.Error()
			return
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			r.Err = "in-band error: " + string(ch.Error)
			return
		}
		if r.TTFT == 0 && len(ch.Choices) > 0 && ch.Choices[0].Delta.Content != "" {
			r.TTFT = c.Now().Sub(start)
		}
		if ch.Usage != nil {
			r.Prompt, r.Output = ch.Usage.Prompt, ch.Usage.Completion
		}
		r.routing(ch.Switchyard)
	}
	if err := sc.Err(); err != nil {
		r.Err = "reading the stream: " + err.Error()
		return
	}
	if !done {
		r.Err = "stream ended without [DONE]"
	}
}
