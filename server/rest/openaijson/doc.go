// Package openaijson is the OpenAI wire codec of the REST facade: it decodes
// OpenAI-shaped JSON request bodies into the generated protobuf requests and
// encodes protobuf responses as OpenAI-shaped JSON, so the official OpenAI
// SDKs work against Switchyard with only the base URL changed.
//
// protojson cannot do this job: OpenAI's content is string | array | null,
// stop is string | array, tool_choice is string | object, and int64 fields
// must stay numbers. Decoding is a small hand-written scanner that names the
// offending parameter on a type error ("messages[0].content") and never
// aliases the body; encoding appends to a caller's buffer so a reused buffer
// encodes a completion or a stream chunk without allocating.
package openaijson
