// The SDK against live gateways (see global-setup.ts), over every transport
// both entries offer. The REST facade of the same gateway is the oracle for
// what the simulator answers, so nothing here hard-codes generated text.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import {
  Code,
  ConnectError,
  contentOf,
  createSwitchyardClient,
  errorCode,
  isInvalidArgument,
  isNotFound,
  isRetryable,
  isUnauthenticated,
  retryAfterSeconds,
} from "../src/index.js";
import type { ChatCompletionChunk, ChatRequest, SwitchyardClient, SwitchyardClientOptions } from "../src/index.js";
import { createSwitchyardClient as createWebClient } from "../src/web.js";
import { faultModel, maxTransports } from "./gateway.js";
import type { WebSwitchyardClientOptions } from "../src/web.js";

type Factory = (o: { baseUrl: string; apiKey?: string }) => SwitchyardClient;

const node =
  (extra: Partial<SwitchyardClientOptions>): Factory =>
  (o) =>
    createSwitchyardClient({ ...o, ...extra });
const web =
  (extra: Partial<WebSwitchyardClientOptions>): Factory =>
  (o) =>
    createWebClient({ ...o, ...extra });

const transports: [string, Factory][] = [
  ["connect (node, HTTP/2)", node({ transport: "connect" })],
  ["connect (node, HTTP/1.1, binary)", node({ transport: "connect", httpVersion: "1.1", useBinaryFormat: true })],
  ["grpc (node, HTTP/2)", node({ transport: "grpc" })],
  ["grpc-web (node, HTTP/2)", node({ transport: "grpc-web" })],
  ["connect (web entry, fetch)", web({ transport: "connect" })],
  ["grpc-web (web entry, fetch)", web({ transport: "grpc-web" })],
];

const baseUrl = inject("baseUrl");
const authBaseUrl = inject("authBaseUrl");
const apiKey = inject("apiKey");

interface AskExtra {
  metadata?: Record<string, string>;
  streamOptions?: { includeUsage: boolean };
}

function ask(content: string, extra: AskExtra = {}, model = "auto"): ChatRequest {
  return { model, messages: [{ role: "user", content }], ...extra };
}

async function restContent(url: string, model: string, content: string): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  return body.choices[0]!.message.content;
}

async function collect(it: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    return e as ConnectError;
  }
  throw new Error("expected the call to fail");
}

if (transports.length > maxTransports) throw new Error("raise maxTransports in gateway.ts");

describe.each(transports.map(([name, make], i) => [name, make, i] as const))("%s", (_name, make, index) => {
  let sy: SwitchyardClient;
  beforeAll(() => {
    sy = make({ baseUrl });
  });
  afterAll(() => sy.close());

  it("answers a unary chat with the same text as the REST facade", async () => {
    const prompt = `unary ${_name}`;
    const want = await restContent(baseUrl, "auto", prompt);
    const res = await sy.chat(ask(prompt));
    expect(contentOf(res)).toBe(want);
    expect(res.id).not.toBe("");
    expect(res.choices[0]?.finishReason).toBe("stop");
    expect(res.choices[0]?.message?.role).toBe("assistant");
    expect(res.usage?.completionTokens).toBeGreaterThan(0);
    expect(res.usage?.totalTokens).toBe((res.usage?.promptTokens ?? 0) + (res.usage?.completionTokens ?? 0));
    expect(res.switchyard?.route).toBe("auto");
    expect(res.switchyard?.provider).toBe("sim");
    expect(res.switchyard?.upstreamModel).toBe("sim-small");
  });

  it("streams the unary answer chunk by chunk, with usage last", async () => {
    const prompt = `stream ${_name}`;
    const unary = contentOf(await sy.chat(ask(prompt)));
    const chunks = await collect(sy.chatStream(ask(prompt, { streamOptions: { includeUsage: true } })));
    const deltas = chunks.map(contentOf).filter((s) => s !== "");
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join("")).toBe(unary);
    expect(chunks.filter((c) => c.choices[0]?.finishReason === "stop")).toHaveLength(1);
    const last = chunks[chunks.length - 1]!;
    expect(last.usage?.completionTokens).toBeGreaterThan(0);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("lists the route alias and the provider's models like the REST facade", async () => {
    const models = await sy.listModels();
    const rest = (await (await fetch(`${baseUrl}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.map((m) => m.id).sort()).toEqual(rest.data.map((m) => m.id).sort());
    const byId = new Map(models.map((m) => [m.id, m]));
    expect(byId.get("auto")?.alias).toBe(true);
    expect(byId.get("sim-small")?.alias).toBe(false);
    expect(byId.get("sim-large")?.providers).toContain("sim");
  });

  it("gets one model, and maps an unknown id to NotFound", async () => {
    const m = await sy.getModel("sim-large");
    expect(m.id).toBe("sim-large");
    expect(m.object).toBe("model");
    const err = await rejection(sy.getModel("no-such-model"));
    expect(err.code).toBe(Code.NotFound);
    expect(isNotFound(err)).toBe(true);
    expect(isUnauthenticated(err)).toBe(false);
    expect(err.rawMessage).toContain("no-such-model");
  });

  it("embeds inputs deterministically", async () => {
    const a = await sy.embeddings({ model: "sim-small", input: ["alpha", "beta"] });
    const b = await sy.embeddings({ model: "sim-small", input: ["alpha"] });
    expect(a.data.map((d) => d.index)).toEqual([0, 1]);
    const [alpha, beta] = a.data.map((d) => d.embedding);
    expect(alpha!.length).toBeGreaterThan(0);
    expect(beta).toHaveLength(alpha!.length);
    expect(b.data[0]!.embedding).toEqual(alpha);
    expect(beta).not.toEqual(alpha);
    expect(a.usage?.promptTokens).toBeGreaterThan(0);
  });

  it("maps a chat for an unknown model to NotFound and a bad request to InvalidArgument", async () => {
    const nf = await rejection(sy.chat({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }));
    expect(isNotFound(nf)).toBe(true);
    const bad = await rejection(sy.chat({ model: "auto", messages: [] }));
    expect(isInvalidArgument(bad)).toBe(true);
    expect(errorCode(bad)).toBe(Code.InvalidArgument);
  });

  it("maps upstream failures to retryable codes with the retry-after hint", async () => {
    const unavailable = await rejection(
      sy.chat(ask("fail", { metadata: { "simulator.fail_status": "503" } }, faultModel(index, "unavailable"))),
    );
    expect(unavailable.code).toBe(Code.Unavailable);
    expect(isRetryable(unavailable)).toBe(true);
    const limited = await rejection(
      sy.chat(
        ask(
          "limit",
          { metadata: { "simulator.fail_status": "429", "simulator.retry_after": "1" } },
          faultModel(index, "limited"),
        ),
      ),
    );
    expect(limited.code).toBe(Code.ResourceExhausted);
    expect(isRetryable(limited)).toBe(true);
    expect(retryAfterSeconds(limited)).toBe(1);
  });

  it("throws a failure in the middle of a stream after the chunks before it", async () => {
    const got: string[] = [];
    const meta = { "simulator.fail_after_tokens": "3" };
    let err: unknown;
    try {
      for await (const c of sy.chatStream(ask("break", { metadata: meta }, faultModel(index, "broken")))) {
        const s = contentOf(c);
        if (s !== "") got.push(s);
      }
    } catch (e) {
      err = e;
    }
    expect(got).toHaveLength(3);
    expect(err).toBeInstanceOf(ConnectError);
    expect(isRetryable(err)).toBe(true);
  });

  it("cancels a stream through an AbortSignal", async () => {
    const ac = new AbortController();
    const slow = { "simulator.delay": "200ms", "simulator.tokens": "50" };
    const started = Date.now();
    let chunks = 0;
    let err: unknown;
    try {
      for await (const c of sy.chatStream(ask("slow", { metadata: slow }), { signal: ac.signal })) {
        if (contentOf(c) !== "" && ++chunks === 1) ac.abort();
      }
    } catch (e) {
      err = e;
    }
    expect(errorCode(err)).toBe(Code.Canceled);
    expect(chunks).toBeLessThan(50);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The client stays usable after a cancelled stream.
    expect(contentOf(await sy.chat(ask("after cancel")))).not.toBe("");
  });

  it("ends a stream early when the loop breaks, and keeps working", async () => {
    const slow = { "simulator.delay": "100ms", "simulator.tokens": "50" };
    const started = Date.now();
    for await (const c of sy.chatStream(ask("break early", { metadata: slow }))) {
      if (contentOf(c) !== "") break;
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await sy.listModels()).length).toBeGreaterThan(0);
  });

  describe("with auth.api_keys", () => {
    it("rejects calls without a key as Unauthenticated", async () => {
      const anon = make({ baseUrl: authBaseUrl });
      try {
        const unary = await rejection(anon.chat(ask("no key")));
        expect(isUnauthenticated(unary)).toBe(true);
        const models = await rejection(anon.listModels());
        expect(isUnauthenticated(models)).toBe(true);
        const stream = await rejection(collect(anon.chatStream(ask("no key"))));
        expect(isUnauthenticated(stream)).toBe(true);
      } finally {
        anon.close();
      }
    });

    it("rejects a wrong key as Unauthenticated", async () => {
      const wrong = make({ baseUrl: authBaseUrl, apiKey: `${apiKey}-wrong` });
      try {
        const err = await rejection(wrong.chat(ask("wrong key")));
        expect(err.code).toBe(Code.Unauthenticated);
        expect(isNotFound(err)).toBe(false);
      } finally {
        wrong.close();
      }
    });

    it("serves every call with the right key", async () => {
      const authed = make({ baseUrl: authBaseUrl, apiKey });
      try {
        const res = await authed.chat(ask("with key"));
        expect(contentOf(res)).toBe(await restContentWithKey(authBaseUrl, "with key"));
        const chunks = await collect(authed.chatStream(ask("with key")));
        expect(chunks.map(contentOf).join("")).toBe(contentOf(res));
        expect((await authed.listModels()).map((m) => m.id)).toContain("auto");
        expect(isNotFound(await rejection(authed.getModel("no-such-model")))).toBe(true);
        expect((await authed.embeddings({ model: "sim-small", input: ["k"] })).data).toHaveLength(1);
      } finally {
        authed.close();
      }
    });
  });
});

async function restContentWithKey(url: string, content: string): Promise<string> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content }] }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
}

describe("raw service clients", () => {
  it("reach RPCs the convenience methods do not wrap", async () => {
    const sy = createSwitchyardClient({ baseUrl, transport: "grpc" });
    try {
      const cfg = await sy.services.routing.getRoutingConfig({});
      expect(cfg.config?.routes.map((r) => r.model)).toContain("auto");
      const { providers } = await sy.services.providers.listProviders({});
      expect(providers.map((p) => p.name).sort()).toEqual(["faults", "sim"]);
      expect(providers.find((p) => p.name === "sim")?.models).toEqual(["sim-small", "sim-large"]);
    } finally {
      sy.close();
    }
  });
});
