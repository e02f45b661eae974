package openaijson_test

import (
	"fmt"

	"github.com/switchyard/switchyard/engine/llm"
	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/rest/openaijson"
)

func ExampleDecodeChatRequest() {
	req, err := openaijson.DecodeChatRequest([]byte(`{
		"model": "gpt-4o-mini",
		"messages": [{"role": "user", "content": "Hi"}],
		"stop": "END",
		"switchyard": {"cache_control": "no-cache"}
	}`))
	fmt.Println(req.GetModel(), req.GetMessages()[0].GetContent(), req.GetStop(), req.GetSwitchyard().GetCacheControl(), err)

	_, err = openaijson.DecodeChatRequest([]byte(`{"temperature":"hot"}`))
	fmt.Println(err.(*llm.Error).Param, "|", err)
	// Output:
	// gpt-4o-mini Hi [END] CACHE_CONTROL_NO_CACHE <nil>
	// temperature | Invalid type for 'temperature': expected a number, but got a string instead.
}

func ExampleAppendChunk() {
	content := ""
	buf := []byte("data: ")
	buf = openaijson.AppendChunk(buf, &switchyardv1.ChatCompletionChunk{
		Id: "chatcmpl-1", Created: 1700000000, Model: "gpt-4o-mini",
		Choices: []*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Role: "assistant", Content: &content}}},
	})
	fmt.Printf("%s\n", buf)
	// Output:
	// data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}
}

func ExampleAppendError() {
	fmt.Printf("%s\n", openaijson.AppendError(nil, "The model `gpt-5` does not exist.", "invalid_request_error", "model", "model_not_found"))
	// Output:
	// {"error":{"message":"The model `gpt-5` does not exist.","type":"invalid_request_error","param":"model","code":"model_not_found"}}
}
