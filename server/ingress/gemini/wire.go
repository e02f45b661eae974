package gemini

import "encoding/json"

// The request's wire types. Google's API reads every field by its JSON
// name (camelCase) or its proto name (snake_case), and its clients use
// both: google-genai 3.x sends the objects it passes through untouched
// (inlineData, fileData, functionDeclarations, thinkingConfig) with their
// Python names, as "mime_type", "parameters_json_schema",
// "thinking_budget". So each multi-word field has a snake_case twin that
// normalize folds into it; an explicit twin rather than a rewrite of the
// body's keys, which would also rename keys in function arguments and
// schemas.

// request is the body of generateContent, streamGenerateContent and
// countTokens. Unknown fields are tolerated: the SDKs send new ones first.
type request struct {
	Contents          []content   `json:"contents"`
	SystemInstruction *content    `json:"systemInstruction"`
	Tools             []toolDecl  `json:"tools"`
	ToolConfig        *toolConfig `json:"toolConfig"`
	GenerationConfig  *genConfig  `json:"generationConfig"`
	// countTokens may wrap the request: {"generateContentRequest": {...}}.
	GenerateContentRequest *request `json:"generateContentRequest"`

	SystemInstructionSnake      *content    `json:"system_instruction,omitempty"`
	ToolConfigSnake             *toolConfig `json:"tool_config,omitempty"`
	GenerationConfigSnake       *genConfig  `json:"generation_config,omitempty"`
	GenerateContentRequestSnake *request    `json:"generate_content_request,omitempty"`
}

type toolConfig struct {
	FunctionCallingConfig      *callingConfig `json:"functionCallingConfig"`
	FunctionCallingConfigSnake *callingConfig `json:"function_calling_config,omitempty"`
}

type callingConfig struct {
	Mode                      string   `json:"mode"`
	AllowedFunctionNames      []string `json:"allowedFunctionNames"`
	AllowedFunctionNamesSnake []string `json:"allowed_function_names,omitempty"`
}

type content struct {
	Role  string `json:"role,omitempty"`
	Parts []part `json:"parts"`
}

// part is also what answers are made of: the twins are empty there and
// omitted.
type part struct {
	Text             string        `json:"text,omitempty"`
	Thought          bool          `json:"thought,omitempty"`
	ThoughtSignature string        `json:"thoughtSignature,omitempty"`
	InlineData       *blob         `json:"inlineData,omitempty"`
	FileData         *fileData     `json:"fileData,omitempty"`
	FunctionCall     *functionCall `json:"functionCall,omitempty"`
	FunctionResponse *functionResp `json:"functionResponse,omitempty"`

	ThoughtSignatureSnake string        `json:"thought_signature,omitempty"`
	InlineDataSnake       *blob         `json:"inline_data,omitempty"`
	FileDataSnake         *fileData     `json:"file_data,omitempty"`
	FunctionCallSnake     *functionCall `json:"function_call,omitempty"`
	FunctionResponseSnake *functionResp `json:"function_response,omitempty"`
}

type blob struct {
	MimeType      string `json:"mimeType"`
	Data          string `json:"data"`
	MimeTypeSnake string `json:"mime_type,omitempty"`
}

type fileData struct {
	MimeType      string `json:"mimeType,omitempty"`
	FileURI       string `json:"fileUri"`
	MimeTypeSnake string `json:"mime_type,omitempty"`
	FileURISnake  string `json:"file_uri,omitempty"`
}

type functionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

type functionResp struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type toolDecl struct {
	FunctionDeclarations      []funcDecl `json:"functionDeclarations"`
	FunctionDeclarationsSnake []funcDecl `json:"function_declarations,omitempty"`
}

type funcDecl struct {
	Name                      string          `json:"name"`
	Description               string          `json:"description"`
	Parameters                json.RawMessage `json:"parameters"`
	ParametersJSONSchema      json.RawMessage `json:"parametersJsonSchema"`
	ParametersJSONSchemaSnake json.RawMessage `json:"parameters_json_schema,omitempty"`
}

type genConfig struct {
	Temperature *float64 `json:"temperature"`
	TopP        *float64 `json:"topP"`
	// TopK is a number, not an integer: google-genai types it as a float
	// and sends 40.0, which an *int would refuse as invalid JSON.
	TopK               *float64        `json:"topK"`
	MaxOutputTokens    *int            `json:"maxOutputTokens"`
	StopSequences      []string        `json:"stopSequences"`
	CandidateCount     *int            `json:"candidateCount"`
	Seed               *int64          `json:"seed"`
	PresencePenalty    *float64        `json:"presencePenalty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty"`
	ResponseMimeType   string          `json:"responseMimeType"`
	ResponseSchema     json.RawMessage `json:"responseSchema"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema"`
	ThinkingConfig     *thinkingConfig `json:"thinkingConfig"`
	ResponseLogprobs   *bool           `json:"responseLogprobs"`
	Logprobs           *int            `json:"logprobs"`

	TopPSnake               *float64        `json:"top_p,omitempty"`
	TopKSnake               *float64        `json:"top_k,omitempty"`
	MaxOutputTokensSnake    *int            `json:"max_output_tokens,omitempty"`
	StopSequencesSnake      []string        `json:"stop_sequences,omitempty"`
	CandidateCountSnake     *int            `json:"candidate_count,omitempty"`
	PresencePenaltySnake    *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenaltySnake   *float64        `json:"frequency_penalty,omitempty"`
	ResponseMimeTypeSnake   string          `json:"response_mime_type,omitempty"`
	ResponseSchemaSnake     json.RawMessage `json:"response_schema,omitempty"`
	ResponseJSONSchemaSnake json.RawMessage `json:"response_json_schema,omitempty"`
	ThinkingConfigSnake     *thinkingConfig `json:"thinking_config,omitempty"`
	ResponseLogprobsSnake   *bool           `json:"response_logprobs,omitempty"`
}

type thinkingConfig struct {
	ThinkingBudget      *int   `json:"thinkingBudget"`
	ThinkingLevel       string `json:"thinkingLevel"`
	ThinkingBudgetSnake *int   `json:"thinking_budget,omitempty"`
	ThinkingLevelSnake  string `json:"thinking_level,omitempty"`
}

// or is a, or b when a is unset: the camelCase name wins when a body has
// both.
func or[T comparable](a, b T) T {
	var zero T
	if a == zero {
		return b
	}
	return a
}

func orSlice[S ~[]E, E any](a, b S) S {
	if len(a) == 0 {
		return b
	}
	return a
}

// normalize folds the snake_case twins into their camelCase fields.
func (r *request) normalize() {
	r.SystemInstruction = or(r.SystemInstruction, r.SystemInstructionSnake)
	r.ToolConfig = or(r.ToolConfig, r.ToolConfigSnake)
	r.GenerationConfig = or(r.GenerationConfig, r.GenerationConfigSnake)
	r.GenerateContentRequest = or(r.GenerateContentRequest, r.GenerateContentRequestSnake)
	if r.GenerateContentRequest != nil {
		r.GenerateContentRequest.normalize()
	}
	if tc := r.ToolConfig; tc != nil {
		tc.FunctionCallingConfig = or(tc.FunctionCallingConfig, tc.FunctionCallingConfigSnake)
		if fc := tc.FunctionCallingConfig; fc != nil {
			fc.AllowedFunctionNames = orSlice(fc.AllowedFunctionNames, fc.AllowedFunctionNamesSnake)
		}
	}
	for i := range r.Tools {
		t := &r.Tools[i]
		t.FunctionDeclarations = orSlice(t.FunctionDeclarations, t.FunctionDeclarationsSnake)
		for j := range t.FunctionDeclarations {
			f := &t.FunctionDeclarations[j]
			f.ParametersJSONSchema = orSlice(f.ParametersJSONSchema, f.ParametersJSONSchemaSnake)
		}
	}
	if r.SystemInstruction != nil {
		r.SystemInstruction.normalize()
	}
	for i := range r.Contents {
		r.Contents[i].normalize()
	}
	if g := r.GenerationConfig; g != nil {
		g.normalize()
	}
}

func (c *content) normalize() {
	for i := range c.Parts {
		p := &c.Parts[i]
		p.ThoughtSignature = or(p.ThoughtSignature, p.ThoughtSignatureSnake)
		p.InlineData = or(p.InlineData, p.InlineDataSnake)
		p.FileData = or(p.FileData, p.FileDataSnake)
		p.FunctionCall = or(p.FunctionCall, p.FunctionCallSnake)
		p.FunctionResponse = or(p.FunctionResponse, p.FunctionResponseSnake)
		if b := p.InlineData; b != nil {
			b.MimeType = or(b.MimeType, b.MimeTypeSnake)
		}
		if f := p.FileData; f != nil {
			f.MimeType, f.FileURI = or(f.MimeType, f.MimeTypeSnake), or(f.FileURI, f.FileURISnake)
		}
	}
}

func (g *genConfig) normalize() {
	g.TopP, g.TopK = or(g.TopP, g.TopPSnake), or(g.TopK, g.TopKSnake)
	g.MaxOutputTokens = or(g.MaxOutputTokens, g.MaxOutputTokensSnake)
	g.StopSequences = orSlice(g.StopSequences, g.StopSequencesSnake)
	g.CandidateCount = or(g.CandidateCount, g.CandidateCountSnake)
	g.PresencePenalty = or(g.PresencePenalty, g.PresencePenaltySnake)
	g.FrequencyPenalty = or(g.FrequencyPenalty, g.FrequencyPenaltySnake)
	g.ResponseMimeType = or(g.ResponseMimeType, g.ResponseMimeTypeSnake)
	g.ResponseSchema = orSlice(g.ResponseSchema, g.ResponseSchemaSnake)
	g.ResponseJSONSchema = orSlice(g.ResponseJSONSchema, g.ResponseJSONSchemaSnake)
	g.ThinkingConfig = or(g.ThinkingConfig, g.ThinkingConfigSnake)
	g.ResponseLogprobs = or(g.ResponseLogprobs, g.ResponseLogprobsSnake)
	if t := g.ThinkingConfig; t != nil {
		t.ThinkingBudget = or(t.ThinkingBudget, t.ThinkingBudgetSnake)
		t.ThinkingLevel = or(t.ThinkingLevel, t.ThinkingLevelSnake)
	}
}
