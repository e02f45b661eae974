// The runtime-neutral part of the SDK: the client built on any Connect
// Transport, the API-key interceptor, option checks and error helpers. The
// Node entry (index.ts) and the browser entry (web.ts) differ only in how
// they make the Transport, so neither pulls the other's runtime in.
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { CallOptions, Client, Interceptor, Transport } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";

import { BillingService } from "./gen/switchyard/v1/billing_pb.js";
import { ChatService } from "./gen/switchyard/v1/chat_pb.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  CreateChatCompletionRequestSchema,
} from "./gen/switchyard/v1/chat_pb.js";
import { EmbeddingService } from "./gen/switchyard/v1/embeddings_pb.js";
import type { CreateEmbeddingsRequestSchema, CreateEmbeddingsResponse } from "./gen/switchyard/v1/embeddings_pb.js";
import { KeyService } from "./gen/switchyard/v1/keys_pb.js";
import { ModelService } from "./gen/switchyard/v1/models_pb.js";
import type { Model } from "./gen/switchyard/v1/models_pb.js";
import { ProviderService } from "./gen/switchyard/v1/providers_pb.js";
import { RoutingConfigService } from "./gen/switchyard/v1/routing_pb.js";
import { UsageService } from "./gen/switchyard/v1/usage_pb.js";

/** A chat request as a plain object: `{ model, messages: [{ role, content }] }`. */
export type ChatRequest = MessageInitShape<typeof CreateChatCompletionRequestSchema>;

/** An embeddings request as a plain object: `{ model, input: ["text"] }`. */
export type EmbeddingsRequest = MessageInitShape<typeof CreateEmbeddingsRequestSchema>;

/** Options every entry point accepts. */
export interface BaseClientOptions {
  /**
   * The gateway's origin, e.g. "http://127.0.0.1:8080". RPCs live at the
   * root ("/switchyard.v1.ChatService/..."), not under the REST prefix /v1.
   */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` on every call when set. */
  apiKey?: string;
  /** Extra Connect interceptors, run after the API-key interceptor. */
  interceptors?: Interceptor[];
  /** Deadline for every call without its own `timeoutMs`. */
  defaultTimeoutMs?: number;
  /**
   * Connect protocol only: protobuf binary instead of JSON bodies. gRPC and
   * gRPC-Web are always binary.
   */
  useBinaryFormat?: boolean;
}

/** The generated service clients, for RPCs the convenience methods do not cover. */
export interface SwitchyardServices {
  readonly chat: Client<typeof ChatService>;
  readonly models: Client<typeof ModelService>;
  readonly embeddings: Client<typeof EmbeddingService>;
  readonly routing: Client<typeof RoutingConfigService>;
  readonly providers: Client<typeof ProviderService>;
  readonly usage: Client<typeof UsageService>;
  readonly keys: Client<typeof KeyService>;
  readonly billing: Client<typeof BillingService>;
}

/**
 * A Switchyard client over one Transport. Make it with
 * `createSwitchyardClient` from "@switchyard/sdk" (Node) or
 * "@switchyard/sdk/web" (browsers). Errors are ConnectErrors carrying the
 * gateway's code: see isNotFound, isUnauthenticated and errorCode.
 */
export class SwitchyardClient {
  /** The Transport every call goes through. */
  readonly transport: Transport;
  /** The generated service clients, sharing the transport. */
  readonly services: SwitchyardServices;
  readonly #close: () => void;

  constructor(transport: Transport, close: () => void = () => {}) {
    this.transport = transport;
    this.#close = close;
    this.services = Object.freeze({
      chat: createClient(ChatService, transport),
      models: createClient(ModelService, transport),
      embeddings: createClient(EmbeddingService, transport),
      routing: createClient(RoutingConfigService, transport),
      providers: createClient(ProviderService, transport),
      usage: createClient(UsageService, transport),
      keys: createClient(KeyService, transport),
      billing: createClient(BillingService, transport),
    });
  }

  /** One whole chat completion. */
  chat(req: ChatRequest, options?: CallOptions): Promise<ChatCompletion> {
    return this.services.chat.createChatCompletion(req, options);
  }

  /**
   * The completion chunk by chunk, as the provider produces it. A failure
   * after the first chunk is thrown from the iteration; cancel with
   * `options.signal`.
   */
  chatStream(req: ChatRequest, options?: CallOptions): AsyncIterable<ChatCompletionChunk> {
    return this.services.chat.streamChatCompletion(req, options);
  }

  /** Route aliases and every model the configured providers serve. */
  async listModels(options?: CallOptions): Promise<Model[]> {
    const res = await this.services.models.listModels({}, options);
    return res.data;
  }

  /** One model or alias by id; an unknown id rejects with Code.NotFound. */
  async getModel(id: string, options?: CallOptions): Promise<Model> {
    const res = await this.services.models.getModel({ id }, options);
    if (res.model === undefined) {
      throw new ConnectError(`gateway answered GetModel(${JSON.stringify(id)}) without a model`, Code.Internal);
    }
    return res.model;
  }

  /** Embeddings for one or more inputs, routed like chat. */
  embeddings(req: EmbeddingsRequest, options?: CallOptions): Promise<CreateEmbeddingsResponse> {
    return this.services.embeddings.createEmbeddings(req, options);
  }

  /**
   * Releases connections the transport keeps (Node's HTTP/2 sessions; a
   * no-op for fetch-based transports). Calls in flight are aborted. Idle
   * sessions never keep a Node process alive, so this is optional.
   */
  close(): void {
    this.#close();
  }
}

/** The interceptor that sends `Authorization: Bearer <apiKey>`. */
export function bearerAuth(apiKey: string): Interceptor {
  checkApiKey(apiKey);
  const value = `Bearer ${apiKey}`;
  return (next) => (req) => {
    req.header.set("Authorization", value);
    return next(req);
  };
}

/** The text of a completion's first choice, or of a chunk's first delta. */
export function contentOf(x: ChatCompletion | ChatCompletionChunk): string {
  const choice = x.choices[0];
  if (choice === undefined) return "";
  const msg = choice.$typeName === "switchyard.v1.Choice" ? choice.message : choice.delta;
  return msg?.content ?? "";
}

/** The Connect code of a ConnectError, or undefined for any other value. */
export function errorCode(err: unknown): Code | undefined {
  return err instanceof ConnectError ? err.code : undefined;
}

/** True for a ConnectError with Code.NotFound (unknown model, route or id). */
export function isNotFound(err: unknown): boolean {
  return errorCode(err) === Code.NotFound;
}

/** True for a ConnectError with Code.Unauthenticated (missing or wrong API key). */
export function isUnauthenticated(err: unknown): boolean {
  return errorCode(err) === Code.Unauthenticated;
}

/** True for a ConnectError with Code.InvalidArgument (a bad request field). */
export function isInvalidArgument(err: unknown): boolean {
  return errorCode(err) === Code.InvalidArgument;
}

/**
 * True for the codes a caller may retry after a pause: Unavailable and
 * ResourceExhausted (rate limited; see retryAfterSeconds).
 */
export function isRetryable(err: unknown): boolean {
  const code = errorCode(err);
  return code === Code.Unavailable || code === Code.ResourceExhausted;
}

/** The gateway's retry-after hint in seconds, when the error carries one. */
export function retryAfterSeconds(err: unknown): number | undefined {
  if (!(err instanceof ConnectError)) return undefined;
  const v = err.metadata.get("retry-after");
  if (v === null) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Validates the options shared by both entries; throws TypeError. */
export function checkBaseOptions(o: BaseClientOptions): void {
  if (o === null || typeof o !== "object") {
    throw new TypeError("createSwitchyardClient: options object required");
  }
  let url: URL;
  try {
    url = new URL(o.baseUrl);
  } catch {
    throw new TypeError(`createSwitchyardClient: baseUrl ${JSON.stringify(o.baseUrl)} is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`createSwitchyardClient: baseUrl must be http: or https:, got ${url.protocol}`);
  }
  if (o.apiKey !== undefined) checkApiKey(o.apiKey);
  if (o.defaultTimeoutMs !== undefined && !(Number.isFinite(o.defaultTimeoutMs) && o.defaultTimeoutMs > 0)) {
    throw new TypeError("createSwitchyardClient: defaultTimeoutMs must be a positive number");
  }
}

/** Interceptors for the options: API key first, then the caller's. */
export function interceptorsFor(o: BaseClientOptions): Interceptor[] {
  const out: Interceptor[] = [];
  if (o.apiKey !== undefined) out.push(bearerAuth(o.apiKey));
  if (o.interceptors !== undefined) out.push(...o.interceptors);
  return out;
}

function checkApiKey(apiKey: string): void {
  // A header value cannot carry control characters; catching it here gives
  // a clear message instead of a transport-level failure on the first call.
  // eslint-disable-next-line no-control-regex
  if (typeof apiKey !== "string" || apiKey === "" || /[\s\x00-\x1f\x7f]/.test(apiKey)) {
    throw new TypeError("createSwitchyardClient: apiKey must be a non-empty string without spaces or control characters");
  }
}
