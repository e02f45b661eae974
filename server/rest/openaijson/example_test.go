package openaijson_test

import (
	"fmt"

	"github.com/switchyard/switchyard/server/rest/openaijson"
)

func ExampleAppendError() {
	fmt.Printf("%s\n", openaijson.AppendError(nil, "The model `gpt-5` does not exist.", "invalid_request_error", "model", "model_not_found"))
	// Output:
	// {"error":{"message":"The model `gpt-5` does not exist.","type":"invalid_request_error","param":"model","code":"model_not_found"}}
}
