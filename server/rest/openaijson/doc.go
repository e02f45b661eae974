// Package openaijson encodes what the REST facade (server/rest) answers in
// OpenAI's JSON shape: the model list, one model, and the error object.
// Encoding appends to a caller's buffer. Chat Completions and Embeddings
// have their own codec in server/ingress/openai.
package openaijson
