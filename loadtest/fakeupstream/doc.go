// Package fakeupstream fakes the OpenAI, Anthropic and Gemini HTTP APIs
// with their real wire formats, deterministic answers and faults on demand.
// The gateway's acceptance tests and load tests point providers at it.
//
// # Endpoints
//
//	OpenAI     POST /v1/chat/completions  unary JSON, or SSE chat.completion.chunk events,
//	                                      a usage chunk with stream_options.include_usage,
//	                                      then data: [DONE]
//	           POST /v1/responses         the Responses API: unary, or its event sequence
//	                                      (response.created … response.completed); stores nothing
//	           POST /v1/embeddings        float or base64, deterministic unit vectors
//	           GET  /v1/models
//	           POST /openai/deployments/{d}/chat/completions and /embeddings (Azure)
//	Anthropic  POST /v1/messages          unary, or message_start, content_block_start,
//	                                      content_block_delta (text_delta, input_json_delta),
//	                                      content_block_stop, message_delta, message_stop
//	           GET  /v1/models            when the request carries anthropic-version
//	Gemini     POST /v1beta/models/{m}:generateContent
//	           POST /v1beta/models/{m}:streamGenerateContent  ?alt=sse for SSE, else a JSON array
//	           POST /v1beta/models/{m}:countTokens, :embedContent, :batchEmbedContents
//	           GET  /v1beta/models
//
// Each API checks what the real one checks first: OpenAI wants a Bearer
// key (401); Anthropic wants x-api-key (401), anthropic-version (400),
// max_tokens, and roles "user"/"assistant" in messages (400), plus
// "system", which Claude Code 2.1 sends there and the real API accepts;
// Gemini wants x-goog-api-key or ?key= (403) and roles "user"/"model",
// never "assistant" (400). Errors come in each API's own error JSON.
//
// # Answers
//
// Text is a fixed word list, one word per content chunk. Usage counts
// whitespace-separated words: prompt tokens are the words of every message
// (and the system prompt), completion tokens the words streamed. A
// max_tokens (max_completion_tokens, maxOutputTokens) below the word count
// truncates the answer with finish reason length / max_tokens / MAX_TOKENS.
//
// When tools are given and the tool choice forces a call (OpenAI
// "required" or a named function, Anthropic "any" or "tool", Gemini mode
// ANY), the answer calls the named tool, or every declared tool once (up to
// 4) unless parallel calls are disabled. Arguments are JSON built from the
// schema's properties (first enum value, else a value of the type),
// streamed as OpenAI tool-call deltas with index, Anthropic input_json_delta
// fragments, or whole Gemini functionCall parts.
//
// Structured outputs answer JSON from the same schema-driven generator as
// forced calls' arguments, streamed in fragments of a few bytes (one token
// each, in usage): OpenAI response_format json_schema (json_object: a small
// object) on chat completions and text.format on the Responses API,
// Anthropic output_config.format / output_format, Gemini
// generationConfig.responseJsonSchema or responseSchema with
// responseMimeType application/json (camelCase or the proto names
// response_json_schema, response_schema, response_mime_type). Forced calls
// win over a format; a smaller max tokens cuts the JSON.
//
// Chat completions with logprobs: true answer choices[].logprobs.content,
// one entry per content chunk (token, a fixed logprob at most 0, its UTF-8
// bytes, top_logprobs alternatives: the token, then words of the list),
// unary and on each streamed content chunk; Gemini's responseLogprobs
// answer logprobsResult likewise. OpenAI n and Gemini candidateCount
// answer that many identical choices or candidates (index 0 to n-1);
// streamed, each step is one chunk per choice (OpenAI) or one chunk with
// every candidate (Gemini); usage counts each.
//
// Agent CLIs never force a call, so the auto_tool knob plays a model that
// decides to call one: with auto_tool set to a tool's name, a request that
// declares that tool, whose tool choice does not forbid calls (OpenAI
// "none", Anthropic {"type":"none"}, Gemini mode NONE) and whose
// conversation does not end in a tool result (an OpenAI "tool" message, a
// Responses function_call_output or custom_tool_call_output item, a
// tool_result block in the last Anthropic user message, a functionResponse
// part in the last Gemini content) is answered with one call of it, in
// every endpoint, unary and streamed. Its arguments fill only the
// properties the schema requires, since agents run the call and an
// invented optional field (a shell, a working directory) would get it
// refused instead of run. The answer to the tool result is text, so an
// agent's loop ends after one round trip.
//
// An Anthropic request with thinking enabled (budget_tokens at least 1024,
// as the real API wants) or adaptive is answered
// with a thinking block first — FakeThinking signed FakeThinkingSignature;
// streamed as block 0 with a thinking_delta and a signature_delta — and
// the text or tool calls after it.
//
// # Knobs
//
// Knobs shape latency and faults. They are set server-wide (Options.Knobs,
// POST /_control with JSON such as {"ttft":"50ms","token_delay":5,
// "status":0}, where bare numbers are milliseconds), and per request,
// overriding the server-wide value, in two ways:
//
// Headers, for clients that can set them (or a provider's static headers
// in the gateway config):
//
//	X-Fake-Latency: 200ms        before the response starts (bare numbers are ms)
//	X-Fake-TTFT: 50ms            before the first content chunk
//	X-Fake-Token-Delay: 5ms      between content chunks
//	X-Fake-Tokens: 100           words in the answer
//	X-Fake-Status: 503           answer with this error status instead
//	X-Fake-Retry-After: 2        with Status: seconds (Retry-After, retry-after-ms, RetryInfo)
//	X-Fake-Retry-After-Ms: 1500  the same in milliseconds
//	X-Fake-Hang: 1               never answer; wait until the client goes away
//	X-Fake-Reset: 1              close the connection at once with a TCP RST
//	X-Fake-Abort-After: 3        send 3 content chunks, then cut the connection
//	                             without the terminal event (unary: half the body)
//	X-Fake-Auto-Tool: Read       call the declared tool Read unasked (see Answers)
//
// A directive in the text of the last user message, for requests that pass
// through a gateway, which forwards no X-Fake-* headers:
//
//	[[fake:status=503,retry_after=2]] Hello
//	[[fake:abort_after=3]] Count to ten
//	[[fake:ttft=200ms,token_delay=10,tokens=50]]
//	[[fake:hang]]
//
// The keys are the header names in lower case with underscores: latency,
// ttft, token_delay, tokens, status, retry_after, retry_after_ms, hang,
// reset, abort_after, auto_tool. A bare key means true. Headers win over a directive,
// a directive over the server-wide knobs. An unknown key or a value out of
// range is a 400 in the API's format, so typos do not pass silently. For
// embeddings the directive is read from the last input.
//
// # Records
//
// Every request to an API path is recorded (method, path, masked headers
// and ?key=, raw body, and the body again as JSON) in a ring of the last
// Options.RecordLimit (10,000), with counters per path. Records() and
// GET /_control/records return them oldest first; the endpoint filters by
// ?path=, ?format= (openai|anthropic|gemini), ?contains= (a body
// substring), ?since= (a sequence number) and ?limit= (the newest n).
// POST /_control/reset forgets them and restores the starting knobs.
//
// # Concurrency
//
// A Server is safe for concurrent use and starts no goroutines: every wait
// happens on the serving goroutine and ends when the client goes away or
// Close is called. Zero-latency streams write each chunk from constant
// pieces into a pooled buffer, so they are cheap enough for benchmarks.
package fakeupstream
