package openai

// FieldRule says what becomes of one Chat Completions request field on
// each kind of target: the JSON path it takes in the upstream body, "-"
// when it is dropped, or "400" when the gateway refuses it naming the
// field. This is the one place the rules are written down: the end-to-end
// test TestChatFieldsReachEachTargetAsTheTableSays sends each field to a
// target of each kind and checks the recorded upstream body, and the
// README's field table is checked against it (TestREADMEFieldTable).
type FieldRule struct {
	Field string // top-level field of the client's body
	// Value is the JSON the tests send (merged into a minimal request).
	Value string
	// OpenAI, Anthropic, Gemini are the upstream paths (dot-separated; a
	// "|" separates alternatives, any of which may hold), "-" or "400".
	OpenAI, Anthropic, Gemini string
	// Note says why, for the README.
	Note string
}

// FieldRules lists the rules in the README's order. A field not listed
// is kept as written for OpenAI-family targets (llm.ChatRequest.OpenAIFields)
// and dropped for the others.
func FieldRules() []FieldRule {
	return []FieldRule{
		{"temperature", `0.5`, "temperature", "temperature", "generationConfig.temperature", ""},
		{"top_p", `0.9`, "top_p", "top_p", "generationConfig.topP", ""},
		{"top_k", `40`, "-", "top_k", "generationConfig.topK", "not an OpenAI parameter; LiteLLM accepts it"},
		{"max_completion_tokens", `50`, "max_completion_tokens", "max_tokens", "generationConfig.maxOutputTokens", "compatible servers get max_tokens"},
		{"max_tokens", `50`, "max_completion_tokens", "max_tokens", "generationConfig.maxOutputTokens", "deprecated by OpenAI; the same limit"},
		{"n", `2`, "n", "400", "generationConfig.candidateCount", "Anthropic: served by fan-out when the route sets fan_out_n"},
		{"stop", `["END"]`, "stop", "stop_sequences", "generationConfig.stopSequences", ""},
		{"seed", `7`, "seed", "-", "generationConfig.seed", ""},
		{"presence_penalty", `0.5`, "presence_penalty", "-", "generationConfig.presencePenalty", ""},
		{"frequency_penalty", `0.5`, "frequency_penalty", "-", "generationConfig.frequencyPenalty", ""},
		{"logit_bias", `{"50256":-100}`, "logit_bias", "-", "-", ""},
		{"logprobs", `true`, "logprobs", "400", "generationConfig.responseLogprobs", "Anthropic has no logprobs"},
		{"response_format", `{"type":"json_schema","json_schema":{"name":"city","schema":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}}`,
			"response_format", "output_config.format|output_format|tool_choice.name", "generationConfig.responseJsonSchema",
			"Anthropic: native structured output where the model has it, else a forced tool whose input is the answer"},
		{"reasoning_effort", `"low"`, "reasoning_effort", "thinking.budget_tokens", "generationConfig.thinkingConfig", "a thinking budget derived from the effort and max_tokens"},
		{"thinking", `{"type":"enabled","budget_tokens":2048}`, "-", "thinking.budget_tokens", "generationConfig.thinkingConfig.thinkingBudget", "Anthropic's shape, as LiteLLM takes it"},
		{"user", `"user-1"`, "user", "metadata.user_id", "-", ""},
		{"metadata", `{"team":"search"}`, "metadata", "-", "-", ""},
		{"service_tier", `"flex"`, "service_tier", "-", "-", "unknown and newer OpenAI fields go to OpenAI-family targets as written"},
		{"store", `true`, "store", "-", "-", ""},
		{"prompt_cache_key", `"k1"`, "prompt_cache_key", "-", "-", ""},
		{"safety_identifier", `"s1"`, "safety_identifier", "-", "-", ""},
		{"verbosity", `"low"`, "verbosity", "-", "-", ""},
		{"prediction", `{"type":"content","content":"x"}`, "prediction", "-", "-", ""},
		{"modalities", `["text"]`, "modalities", "-", "-", ""},
		{"web_search_options", `{}`, "web_search_options", "-", "-", ""},
		{"extra", `{"x_custom":1}`, "x_custom", "x_custom", "x_custom", "Switchyard's passthrough: merged into any target's body as written"},
		{"switchyard", `{"cache_control":"no-store"}`, "-", "-", "-", "Switchyard's own options, never sent"},
	}
}
