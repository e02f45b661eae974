// Node entry: Connect and gRPC-Web over HTTP/2 (h2c for http:// URLs) or
// HTTP/1.1, and gRPC over HTTP/2, through @connectrpc/connect-node. With a
// custom `fetch` it uses the fetch-based transports of the web entry instead.
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import * as fetchTransports from "@connectrpc/connect-web";
import type { Transport } from "@connectrpc/connect";

import { checkBaseOptions, interceptorsFor, SwitchyardClient } from "./client.js";
import type { BaseClientOptions } from "./client.js";

export * from "./exports.js";

/** Wire protocols the Node client speaks. */
export type TransportKind = "connect" | "grpc" | "grpc-web";

/** Options of the Node client. */
export interface SwitchyardClientOptions extends BaseClientOptions {
  /** Wire protocol; "connect" by default. */
  transport?: TransportKind;
  /**
   * HTTP version of connect-node's transports: "2" (the default; cleartext
   * HTTP/2 with prior knowledge for http:// URLs) or "1.1". gRPC needs "2".
   */
  httpVersion?: "1.1" | "2";
  /**
   * A fetch implementation: the client then uses the fetch-based Connect or
   * gRPC-Web transport (gRPC needs HTTP/2 trailers, which fetch cannot read).
   */
  fetch?: typeof globalThis.fetch;
}

/**
 * A client for a Switchyard gateway from Node.
 *
 * ```ts
 * const sy = createSwitchyardClient({ baseUrl: "http://127.0.0.1:8080", transport: "grpc" });
 * const res = await sy.chat({ model: "auto", messages: [{ role: "user", content: "Hi" }] });
 * ```
 */
export function createSwitchyardClient(options: SwitchyardClientOptions): SwitchyardClient {
  checkBaseOptions(options);
  const kind = options.transport ?? "connect";
  if (kind !== "connect" && kind !== "grpc" && kind !== "grpc-web") {
    throw new TypeError(`createSwitchyardClient: transport must be "connect", "grpc" or "grpc-web", got ${JSON.stringify(kind)}`);
  }
  const common = {
    baseUrl: options.baseUrl,
    interceptors: interceptorsFor(options),
    defaultTimeoutMs: options.defaultTimeoutMs,
  };

  if (options.fetch !== undefined) {
    if (typeof options.fetch !== "function") {
      throw new TypeError("createSwitchyardClient: fetch must be a function");
    }
    if (kind === "grpc") {
      throw new TypeError('createSwitchyardClient: transport "grpc" cannot run over fetch; use "connect" or "grpc-web", or drop fetch');
    }
    if (options.httpVersion !== undefined) {
      throw new TypeError("createSwitchyardClient: httpVersion does not apply with fetch (fetch picks the HTTP version)");
    }
    const transport =
      kind === "connect"
        ? fetchTransports.createConnectTransport({ ...common, fetch: options.fetch, useBinaryFormat: options.useBinaryFormat })
        : fetchTransports.createGrpcWebTransport({ ...common, fetch: options.fetch });
    return new SwitchyardClient(transport);
  }

  const httpVersion = options.httpVersion ?? "2";
  if (httpVersion !== "2" && httpVersion !== "1.1") {
    throw new TypeError(`createSwitchyardClient: httpVersion must be "1.1" or "2", got ${JSON.stringify(httpVersion)}`);
  }
  if (kind === "grpc" && httpVersion !== "2") {
    throw new TypeError('createSwitchyardClient: transport "grpc" needs httpVersion "2"');
  }

  let transport: Transport;
  let close = (): void => {};
  if (httpVersion === "2") {
    // One session per client, owned here so close() can end it.
    const sessionManager = new Http2SessionManager(options.baseUrl);
    close = () => sessionManager.abort();
    const h2 = { ...common, httpVersion, sessionManager } as const;
    transport =
      kind === "connect"
        ? createConnectTransport({ ...h2, useBinaryFormat: options.useBinaryFormat })
        : kind === "grpc"
          ? createGrpcTransport(h2)
          : createGrpcWebTransport(h2);
  } else {
    const h1 = { ...common, httpVersion } as const;
    transport =
      kind === "connect"
        ? createConnectTransport({ ...h1, useBinaryFormat: options.useBinaryFormat })
        : createGrpcWebTransport(h1);
  }
  return new SwitchyardClient(transport, close);
}
