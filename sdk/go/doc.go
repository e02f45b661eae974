// Package switchyard is the Go client for the Switchyard AI gateway.
//
// It is a thin layer over the generated connect-go clients in
// gen/go/switchyard/v1/switchyardv1connect: one Client speaks the Connect,
// gRPC or gRPC-Web protocol to the gateway's single port, adds the API key
// to every call, and offers Chat, a range-over-func ChatStream, model
// lookups and embeddings. Requests and responses are the generated
// switchyardv1 messages, so every field of the API is reachable, and the
// raw service clients are there for the RPCs this package does not wrap.
//
// Errors are *connect.Error values as connect-go returns them:
// connect.CodeOf(err) gives the code, and IsNotFound, IsUnauthenticated and
// friends name the common cases.
package switchyard
