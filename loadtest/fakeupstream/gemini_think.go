package fakeupstream

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// gmFeatures are what a generateContent request asks of the answer beyond
// its text or calls.
type gmFeatures struct {
	// signed is a Gemini 3 model (a name starting "gemini-3"): its calls
	// carry thoughtSignatures and a follow-up's are checked, as Gemini 3
	// does. Other names keep the older, unsigned behaviour, so suites
	// written before signatures see the bodies they always did.
	signed   bool
	thoughts bool // thinkingConfig.includeThoughts: a thought part first
	logprobs bool // responseLogprobs: logprobsResult on each candidate
	top      int  // logprobs: alternatives per step
}

// gmThought is the thought summary an includeThoughts answer opens with.
const gmThought = "Weighing the request first."

// gmSkipSignature is the dummy thoughtSignature Gemini documents for a
// call whose real one is unknown; Gemini 3 accepts it in place of one.
const gmSkipSignature = "skip_thought_signature_validator"

func geminiFeatures(model string, req *gmRequest) gmFeatures {
	f := gmFeatures{signed: strings.HasPrefix(model, "gemini-3")}
	if gc := req.GenerationConfig; gc != nil {
		f.thoughts = gc.ThinkingConfig != nil && gc.ThinkingConfig.IncludeThoughts
		f.logprobs, f.top = gc.ResponseLogprobs, min(max(gc.Logprobs, 0), 20)
	}
	return f
}

func (f *gmFeatures) thoughtTokens() int {
	if f.thoughts {
		return countWords(gmThought)
	}
	return 0
}

// geminiCallSignature is the signature the fake gives a call: derived from
// its name and arguments (canonical JSON, so a client that re-spaces them
// still matches), so a follow-up is checked without remembering anything.
func geminiCallSignature(name string, args json.RawMessage) string {
	var v any
	if json.Unmarshal(args, &v) == nil {
		args, _ = json.Marshal(v)
	}
	h := sha256.New()
	h.Write([]byte("fakeupstream-thought:" + name + ":"))
	h.Write(args)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)[:18])
}

// geminiCheckSignatures validates as Gemini 3 does: in the current turn
// (the contents after the last user content with text of its own), the
// first functionCall of each model step must carry its signature or the
// skip value. It returns Gemini's error message, or "".
func geminiCheckSignatures(contents []gmContent) string {
	start := 0
	for i := len(contents) - 1; i >= 0; i-- {
		if c := &contents[i]; (c.Role == "" || c.Role == "user") && c.text() != "" {
			start = i
			break
		}
	}
	for i := start; i < len(contents); i++ {
		if contents[i].Role != "model" {
			continue
		}
		for _, p := range contents[i].Parts {
			fc := p.FunctionCall
			if fc == nil {
				continue
			}
			switch p.ThoughtSignature {
			case gmSkipSignature, geminiCallSignature(fc.Name, fc.Args):
			case "":
				return "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:" +
					fc.Name + "` , position " + strconv.Itoa(i+1) + ". Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
			default:
				return "Corrupted thought signature."
			}
			break
		}
	}
	return ""
}

// appendThoughtPart writes the thought summary part and a comma.
func appendThoughtPart(b []byte) []byte {
	b = append(b, `{"text":`...)
	b = appendJSONString(b, gmThought)
	return append(b, `,"thought":true},`...)
}

// appendLogprobs writes ,"logprobsResult":{…} for the answer's content
// chunks [from, to): each chunk's token as streamed (a word with a leading
// space after the first, or a JSON fragment), a made-up but fixed log
// probability, and top alternatives: the token, then words of the list.
func appendLogprobs(b []byte, f *gmFeatures, a *answer, from, to int) []byte {
	if !f.logprobs || from >= to {
		return b
	}
	lp := fakeLogprob
	b = append(b, `,"logprobsResult":{"topCandidates":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = append(b, `{"candidates":[`...)
		for r := 0; r < f.top; r++ {
			if r > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"token":`...)
			if r == 0 {
				b = a.appendPiece(b, i)
			} else {
				b = append(b, wordJSON(i+r)...)
			}
			b = appendLogprobValue(b, lp(i, r))
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"chosenCandidates":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		b = append(b, `{"token":`...)
		b = a.appendPiece(b, i)
		b = appendLogprobValue(b, lp(i, 0))
	}
	return append(b, "]}"...)
}

// appendLogprobValue ends a candidate after its token.
func appendLogprobValue(b []byte, v float64) []byte {
	b = append(b, `,"logProbability":`...)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	return append(b, '}')
}

// gmTailHead ends a stream chunk's parts, then the role and the index,
// where a chunk's logprobsResult goes.
const gmTailHead = `],"role":"model"},"index":0`
