package openai

import (
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// maxInputs is the most texts one embeddings request may ask for.
const maxInputs = 2048

// embeddingsRequest is a decoded embeddings body.
type embeddingsRequest struct {
	llm.EmbeddingRequest
	dimensions *int32
	options    *requestOptions
}

// decodeEmbeddings parses an OpenAI embeddings request body. input is a
// string, an array of strings, an array of token ids or an array of such
// arrays (LangChain's OpenAIEmbeddings sends token ids by default); token
// ids reach only targets that take them (OpenAI-family), the others
// answer a 400 naming input.
func decodeEmbeddings(body []byte) (*embeddingsRequest, error) {
	d := decoder{jsonscan.New(body)}
	req := &embeddingsRequest{}
	err := d.Begin()
	if err == nil {
		err = d.embeddingsRequest(req)
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, domainError(body, err)
	}
	return req, nil
}

func (d *decoder) embeddingsRequest(req *embeddingsRequest) error {
	return d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "model":
			req.Model, err = d.Str()
		case "input":
			req.Input, req.InputTokens, err = d.embeddingsInput()
		case "encoding_format":
			req.EncodingFormat, err = d.Str()
		case "dimensions":
			req.dimensions, err = d.Int32()
		case "user":
			req.User, err = d.Str()
		case "switchyard":
			req.options, err = d.requestOptions()
		default:
			err = d.Skip()
		}
		return err
	})
}

// embeddingsInput reads a string, an array of strings, an array of token
// ids (one input) or an array of arrays of token ids.
func (d *decoder) embeddingsInput() (texts []string, tokens [][]int, err error) {
	switch d.Peek() {
	case '"':
		v, err := d.Str()
		return []string{v}, nil, err
	case '[':
		var single []int // input: [1, 2, 3] is one input of token ids
		err := d.Array(func(int) error {
			switch c := d.Peek(); {
			case c == '"' && single == nil && tokens == nil:
				v, err := d.Str()
				texts = append(texts, v)
				return err
			case c == '[' && texts == nil && single == nil:
				ids, err := d.tokenIDs()
				tokens = append(tokens, ids)
				return err
			case jsonscan.IsNumberStart(c) && texts == nil && tokens == nil:
				id, _, err := d.Integer(0, math.MaxInt32)
				single = append(single, int(id))
				return err
			}
			if c := d.Peek(); c == '"' || c == '[' || jsonscan.IsNumberStart(c) {
				return &jsonscan.ParamError{Msg: "input must be a string, an array of strings, an array of token ids or an array of arrays of token ids, not a mix."}
			}
			return d.TypeErr("a string")
		})
		if pe, ok := err.(*jsonscan.ParamError); ok && pe.Msg != "" {
			pe.Param = "" // the whole input is the problem, not one element
		}
		if single != nil {
			tokens = [][]int{single}
		}
		return texts, tokens, err
	}
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, nil, err
	}
	return nil, nil, d.TypeErr("a string or an array of strings")
}

func (d *decoder) tokenIDs() ([]int, error) {
	var ids []int
	err := d.Array(func(int) error {
		id, _, err := d.Integer(0, math.MaxInt32)
		ids = append(ids, int(id))
		return err
	})
	return ids, err
}

// validate is server/rpc's embeddings validation, in its order and words.
func (r *embeddingsRequest) validate() error {
	if r.Model == "" {
		return llm.InvalidParam("model", "you must provide a model parameter")
	}
	n := len(r.Input) + len(r.InputTokens)
	if n == 0 {
		return llm.InvalidParam("input", "input must be a non-empty string or array of strings")
	}
	for i, ids := range r.InputTokens {
		if len(ids) == 0 {
			return llm.InvalidParam("input", "input[%d] is an empty token array", i)
		}
	}
	if n > maxInputs {
		return llm.InvalidParam("input", "at most 2048 inputs per request")
	}
	// base64 is an encoding of the same floats, done here.
	if f := r.EncodingFormat; f != "" && f != "float" && f != "base64" {
		return llm.InvalidParam("encoding_format", "encoding_format %q is not supported (want float or base64)", f)
	}
	if r.dimensions != nil {
		if *r.dimensions < 1 {
			return llm.InvalidParam("dimensions", "dimensions must be at least 1")
		}
		r.Dimensions = intp(*r.dimensions)
	}
	if o := r.options; o != nil {
		r.Hints.Route = o.route
	}
	return nil
}

// appendEmbeddings appends resp as OpenAI's embeddings list: float vectors
// (encoding_format "float", the default), or with b64 each vector as base64
// of its little-endian float32 bytes (which the official Python SDK asks
// for by default).
func appendEmbeddings(dst []byte, resp *llm.EmbeddingResponse, info *route.Info, requestID string, b64 bool) []byte {
	dst = append(dst, `{"object":"list","data":[`...)
	for i, v := range resp.Vectors {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"object":"embedding","index":`...)
		dst = appendInt(dst, int64(i))
		dst = append(dst, `,"embedding":`...)
		if b64 {
			dst = appendFloat32Base64(dst, v)
		} else {
			dst = append(dst, '[')
			for j, f := range v {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendFloat(dst, float64(f), 32)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	model := resp.Model
	if model == "" {
		model = info.UpstreamModel
	}
	dst = append(dst, `],"model":`...)
	dst = appendString(dst, model)
	dst = append(dst, `,"usage":{"prompt_tokens":`...)
	dst = appendInt(dst, int64(resp.Usage.PromptTokens))
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, int64(resp.Usage.PromptTokens))
	dst = append(dst, `},"switchyard":`...)
	dst = appendRouting(dst, info, requestID)
	return append(dst, '}')
}

// appendFloat32Base64 encodes the vector three floats (12 bytes, 16 base64
// characters) at a time through a stack buffer, so no byte copy of the
// whole vector is made.
func appendFloat32Base64(dst []byte, v []float32) []byte {
	dst = append(dst, '"')
	var raw [12]byte
	var enc [16]byte
	for len(v) >= 3 {
		for k := range 3 {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v[k]))
		}
		base64.StdEncoding.Encode(enc[:], raw[:])
		dst = append(dst, enc[:]...)
		v = v[3:]
	}
	if len(v) > 0 {
		for k, f := range v {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(f))
		}
		n := 4 * len(v)
		base64.StdEncoding.Encode(enc[:], raw[:n])
		dst = append(dst, enc[:base64.StdEncoding.EncodedLen(n)]...)
	}
	return append(dst, '"')
}
