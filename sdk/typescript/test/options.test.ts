// Option checks and the API-key interceptor, without a gateway: a fetch stub
// records what the web entry would send.
import { describe, expect, it } from "vitest";

import { bearerAuth, contentOf, createSwitchyardClient, errorCode, isNotFound, isUnauthenticated } from "../src/index.js";
import { ChatCompletionChunkSchema, ChatCompletionSchema, Code, ConnectError } from "../src/index.js";
import { createSwitchyardClient as createWebClient } from "../src/web.js";
import { create } from "@bufbuild/protobuf";

describe("createSwitchyardClient (node) rejects bad options", () => {
  const cases: [string, Parameters<typeof createSwitchyardClient>[0], RegExp][] = [
    ["relative baseUrl", { baseUrl: "/v1" }, /absolute URL/],
    ["non-http baseUrl", { baseUrl: "ftp://127.0.0.1" }, /http: or https:/],
    ["unknown transport", { baseUrl: "http://127.0.0.1:1", transport: "ws" as never }, /transport must be/],
    ["grpc over HTTP/1.1", { baseUrl: "http://127.0.0.1:1", transport: "grpc", httpVersion: "1.1" }, /needs httpVersion "2"/],
    ["grpc over fetch", { baseUrl: "http://127.0.0.1:1", transport: "grpc", fetch: globalThis.fetch }, /cannot run over fetch/],
    ["httpVersion with fetch", { baseUrl: "http://127.0.0.1:1", httpVersion: "2", fetch: globalThis.fetch }, /does not apply/],
    ["empty apiKey", { baseUrl: "http://127.0.0.1:1", apiKey: "" }, /apiKey/],
    ["apiKey with a newline", { baseUrl: "http://127.0.0.1:1", apiKey: "sk-abc\nX-Evil: 1" }, /apiKey/],
    ["zero timeout", { baseUrl: "http://127.0.0.1:1", defaultTimeoutMs: 0 }, /defaultTimeoutMs/],
  ];
  for (const [name, opts, want] of cases) {
    it(name, () => {
      expect(() => createSwitchyardClient(opts)).toThrow(want);
    });
  }
});

describe("createSwitchyardClient (web)", () => {
  it("refuses gRPC, which fetch cannot carry", () => {
    expect(() => createWebClient({ baseUrl: "http://127.0.0.1:1", transport: "grpc" as never })).toThrow(
      /"connect" or "grpc-web"/,
    );
  });

  it("sends the API key as a bearer token on every call", async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const stub: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), auth: new Headers(init?.headers).get("authorization") });
      return new Response(JSON.stringify({ object: "list", data: [{ id: "m1" }] }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      });
    };
    const sy = createWebClient({ baseUrl: "http://gateway.invalid/", apiKey: "sk-0123456789abcdef", fetch: stub });
    const models = await sy.listModels();
    expect(models.map((m) => m.id)).toEqual(["m1"]);
    expect(seen).toEqual([
      { url: "http://gateway.invalid/switchyard.v1.ModelService/ListModels", auth: "Bearer sk-0123456789abcdef" },
    ]);
  });

  it("passes the gateway's Connect error code through", async () => {
    const stub: typeof fetch = async () =>
      new Response(JSON.stringify({ code: "unauthenticated", message: "missing API key" }), {
        status: 401,
        headers: { "Content-Type": "application/json" },
      });
    const sy = createWebClient({ baseUrl: "http://gateway.invalid", fetch: stub });
    const err = await sy.getModel("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(isUnauthenticated(err)).toBe(true);
    expect(isNotFound(err)).toBe(false);
    expect((err as ConnectError).rawMessage).toBe("missing API key");
  });
});

describe("helpers", () => {
  it("bearerAuth rejects keys that cannot be a header value", () => {
    expect(() => bearerAuth("a b")).toThrow(TypeError);
  });

  it("contentOf reads completions and chunks", () => {
    const done = create(ChatCompletionSchema, { choices: [{ message: { role: "assistant", content: "hi" } }] });
    const chunk = create(ChatCompletionChunkSchema, { choices: [{ delta: { content: "h" } }] });
    expect(contentOf(done)).toBe("hi");
    expect(contentOf(chunk)).toBe("h");
    expect(contentOf(create(ChatCompletionChunkSchema, {}))).toBe("");
  });

  it("errorCode is undefined for anything but a ConnectError", () => {
    expect(errorCode(new Error("x"))).toBeUndefined();
    expect(errorCode("x")).toBeUndefined();
    expect(errorCode(new ConnectError("x", Code.NotFound))).toBe(Code.NotFound);
  });
});
