// What both entries export besides createSwitchyardClient: the client class,
// helpers, Connect's error type and codes, and every generated message,
// enum and service descriptor of switchyard.v1.
export {
  SwitchyardClient,
  bearerAuth,
  contentOf,
  errorCode,
  isInvalidArgument,
  isNotFound,
  isRetryable,
  isUnauthenticated,
  retryAfterSeconds,
} from "./client.js";
export type { BaseClientOptions, ChatRequest, EmbeddingsRequest, SwitchyardServices } from "./client.js";
export { Code, ConnectError } from "@connectrpc/connect";
export type { CallOptions, Client, Interceptor, Transport } from "@connectrpc/connect";

export * from "./gen/switchyard/v1/billing_pb.js";
export * from "./gen/switchyard/v1/chat_pb.js";
export * from "./gen/switchyard/v1/embeddings_pb.js";
export * from "./gen/switchyard/v1/keys_pb.js";
export * from "./gen/switchyard/v1/models_pb.js";
export * from "./gen/switchyard/v1/providers_pb.js";
export * from "./gen/switchyard/v1/routing_pb.js";
export * from "./gen/switchyard/v1/usage_pb.js";
