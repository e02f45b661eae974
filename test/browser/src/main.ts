// The page under test: streams a chat answer from the gateway with the SDK's
// web entry (Connect or gRPC-Web over fetch) and appends every delta to the
// DOM as it arrives. #out's data-done is "true" when the stream ended well,
// "error" (with data-error = the Connect code's name) when it failed.
//
// Query parameters: gateway (origin of the gateway), key (API key), model,
// and the simulator knobs delay and tokens (sent as request metadata).
import { Code, contentOf, createSwitchyardClient, errorCode } from "@switchyard/sdk/web";
import type { WebTransportKind } from "@switchyard/sdk/web";

const params = new URLSearchParams(location.search);
const gateway = params.get("gateway") ?? "http://127.0.0.1:8080";
const apiKey = params.get("key") ?? undefined;
const model = params.get("model") ?? "auto";
const metadata: Record<string, string> = {};
const delay = params.get("delay");
const tokens = params.get("tokens");
if (delay !== null) metadata["simulator.delay"] = delay;
if (tokens !== null) metadata["simulator.tokens"] = tokens;

const form = must<HTMLFormElement>("#ask");
const prompt = must<HTMLInputElement>("#prompt");
const transport = must<HTMLSelectElement>("#transport");
const send = must<HTMLButtonElement>("#send");
const out = must<HTMLElement>("#out");
const status = must<HTMLElement>("#status");

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void run(transport.value as WebTransportKind, prompt.value);
});

async function run(kind: WebTransportKind, text: string): Promise<void> {
  send.disabled = true;
  out.textContent = "";
  out.dataset.done = "false";
  delete out.dataset.error;
  status.textContent = `streaming over ${kind}…`;
  let chunks = 0;
  try {
    const sy = createSwitchyardClient({ baseUrl: gateway, apiKey, transport: kind });
    const req = { model, messages: [{ role: "user", content: text }], metadata };
    for await (const chunk of sy.chatStream(req)) {
      const delta = contentOf(chunk);
      if (delta === "") continue;
      out.append(delta);
      chunks++;
      status.textContent = `streaming over ${kind}: ${chunks} chunks`;
    }
    out.dataset.done = "true";
    status.textContent = `done: ${chunks} chunks over ${kind} from ${gateway}`;
  } catch (err) {
    const code = errorCode(err);
    out.dataset.done = "error";
    out.dataset.error = code === undefined ? "not-a-connect-error" : Code[code];
    status.textContent = `error: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    send.disabled = false;
  }
}

function must<T extends Element>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (el === null) throw new Error(`page is missing ${selector}`);
  return el;
}
