// Browser entry: Connect and gRPC-Web over fetch through
// @connectrpc/connect-web. It imports nothing from Node, so bundlers can
// ship it as is. The gateway must list the page's origin in
// server.cors_origins.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";

import { checkBaseOptions, interceptorsFor, SwitchyardClient } from "./client.js";
import type { BaseClientOptions } from "./client.js";

export * from "./exports.js";

/** Wire protocols a browser can speak (gRPC needs trailers fetch cannot read). */
export type WebTransportKind = "connect" | "grpc-web";

/** Options of the browser client. */
export interface WebSwitchyardClientOptions extends BaseClientOptions {
  /** Wire protocol; "connect" by default. */
  transport?: WebTransportKind;
  /** A fetch implementation; globalThis.fetch by default. */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client for a Switchyard gateway from a browser (or any runtime with
 * fetch and streaming response bodies).
 *
 * ```ts
 * const sy = createSwitchyardClient({ baseUrl: "http://127.0.0.1:8080" });
 * for await (const chunk of sy.chatStream({ model: "auto", messages: [{ role: "user", content: "Hi" }] })) {
 *   out.textContent += contentOf(chunk);
 * }
 * ```
 */
export function createSwitchyardClient(options: WebSwitchyardClientOptions): SwitchyardClient {
  checkBaseOptions(options);
  const kind = options.transport ?? "connect";
  if (kind !== "connect" && kind !== "grpc-web") {
    throw new TypeError(
      `createSwitchyardClient: transport must be "connect" or "grpc-web" in the web entry, got ${JSON.stringify(kind)}`,
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw new TypeError("createSwitchyardClient: fetch must be a function");
  }
  const common = {
    baseUrl: options.baseUrl,
    interceptors: interceptorsFor(options),
    defaultTimeoutMs: options.defaultTimeoutMs,
    fetch: options.fetch,
  };
  const transport =
    kind === "connect"
      ? createConnectTransport({ ...common, useBinaryFormat: options.useBinaryFormat })
      : createGrpcWebTransport(common);
  return new SwitchyardClient(transport);
}
