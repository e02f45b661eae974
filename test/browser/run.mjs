// Drives the built page (dist/) in headless Chromium against a live gateway:
//
//   - serves dist/ on a loopback port (the allowed origin) and on a second
//     one (an origin the gateway does not list),
//   - starts the gateway with auth and server.cors_origins = [page origin],
//   - asks the same question through the SDK's Node entry (gRPC) for the
//     expected text: the simulator is deterministic,
//   - in the page, streams the answer over Connect and over gRPC-Web,
//     asserting the rendered text equals the expected text and that the DOM
//     grew in steps while streaming (a MutationObserver installed before the
//     page's own scripts records the text length on every change),
//   - checks that a missing key shows Unauthenticated in the page and that
//     an origin not in cors_origins is refused by the browser,
//   - saves screenshot.png (Connect) and screenshot-grpc-web.png.
//
// Env: SWITCHYARD_BIN (gateway binary, required), CHROMIUM (default
// /usr/bin/chromium), BROWSER_TEST_TIMEOUT_MS (default 120000).
// Loopback only. Prints "browser: N passed, N failed" last.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { contentOf, createSwitchyardClient } from "@switchyard/sdk";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const BIN = process.env.SWITCHYARD_BIN ? resolve(process.env.SWITCHYARD_BIN) : undefined;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS ?? 120_000);
const API_KEY = "sk-switchyard-browser-0123456789";
// Slow enough that every delta is its own render, fast enough to stay short.
const DELAY_MS = 40;
const TOKENS = 16;

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let passed = 0;
let failed = 0;
const check = (name, cond, detail = "") => {
  if (cond) {
    passed++;
    console.log(`ok: ${name}`);
  } else {
    failed++;
    console.error(`FAIL: ${name}${detail ? `\n      ${detail}` : ""}`);
  }
  return cond;
};

const cleanups = [];
const work = mkdtempSync(join(tmpdir(), "switchyard-browser-"));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

const watchdog = setTimeout(() => {
  console.error(`FAIL: browser test exceeded ${TIMEOUT_MS} ms`);
  failed++;
  void finish(1);
}, TIMEOUT_MS);

let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(watchdog);
  for (const f of cleanups.reverse()) {
    try {
      await f();
    } catch (e) {
      failed++;
      console.error(`FAIL: cleanup: ${e instanceof Error ? e.message : e}`);
    }
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
}

try {
  await main();
  await finish(0);
} catch (e) {
  failed++;
  console.error(`FAIL: ${e instanceof Error ? e.stack : e}`);
  await finish(1);
}

async function main() {
  if (!BIN) throw new Error("SWITCHYARD_BIN must name the gateway binary (scripts/test-browser.sh builds it)");

  const page1 = await serveStatic(dist);
  const page2 = await serveStatic(dist);
  const gateway = await startGateway(`
log: {level: warn, format: text}
auth: {api_keys: ["${API_KEY}"]}
server: {cors_origins: ["${page1.origin}"]}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    simulator: {token_delay: 1ms, response_tokens: 12}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
`);
  console.log(`page ${page1.origin}, other origin ${page2.origin}, gateway ${gateway.baseUrl}`);

  const prompt = "How does Switchyard route a streamed chat?";
  const metadata = { "simulator.delay": `${DELAY_MS}ms`, "simulator.tokens": String(TOKENS) };
  const node = createSwitchyardClient({ baseUrl: gateway.baseUrl, apiKey: API_KEY, transport: "grpc" });
  const expected = contentOf(
    await node.chat({ model: "auto", messages: [{ role: "user", content: prompt }], metadata }, { timeoutMs: 20_000 }),
  );
  node.close();
  check("expected text from a unary call through the Node SDK", expected.split(" ").length >= TOKENS, expected);

  const userDataDir = mkdtempSync(join(tmpdir(), "switchyard-chromium-"));
  cleanups.push(() => rmSync(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 900, height: 420 },
    timeout: 30_000,
  });
  cleanups.push(() => context.close());
  // Runs before the page's scripts in every document: records #out's text
  // length on every DOM change, so the test sees the page grow.
  await context.addInitScript(() => {
    window.__growth = [];
    new MutationObserver(() => {
      const el = document.getElementById("out");
      if (el) window.__growth.push({ t: performance.now(), len: el.textContent.length });
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });

  const query = (extra) =>
    new URLSearchParams({ gateway: gateway.baseUrl, delay: `${DELAY_MS}ms`, tokens: String(TOKENS), ...extra });

  for (const [transport, shot] of [
    ["connect", "screenshot.png"],
    ["grpc-web", "screenshot-grpc-web.png"],
  ]) {
    const page = await context.newPage();
    const logs = collectLogs(page);
    await open(page, `${page1.origin}/?${query({ key: API_KEY })}`);
    await page.fill("#prompt", prompt);
    await page.selectOption("#transport", transport);
    await page.evaluate(() => (window.__growth = []));
    const t0 = Date.now();
    await page.click("#send");
    await page.waitForSelector('#out[data-done="true"], #out[data-done="error"]', { timeout: 20_000 });
    const took = Date.now() - t0;
    const done = await page.getAttribute("#out", "data-done");
    const text = await page.textContent("#out");
    const statusLine = await page.textContent("#status");
    const growth = await page.evaluate(() => window.__growth);
    await page.screenshot({ path: join(here, shot), fullPage: true });

    check(`${transport}: stream completed (data-done="true")`, done === "true", `${statusLine}\n${logs.join("\n")}`);
    check(`${transport}: rendered text equals the unary answer`, text === expected, `got ${JSON.stringify(text)}`);
    const lengths = growth.map((g) => g.len);
    const steps = [...new Set(lengths)].filter((n) => n > 0 && n < expected.length);
    const monotonic = lengths.every((n, i) => i === 0 || n >= lengths[i - 1]);
    check(
      `${transport}: DOM grew incrementally (${steps.length} partial renders, ${growth.length} mutations)`,
      steps.length >= 3 && monotonic && lengths.at(-1) === expected.length,
      `lengths ${JSON.stringify(lengths)}`,
    );
    const firstPartial = growth.find((g) => g.len > 0);
    const spread = growth.at(-1).t - (firstPartial?.t ?? growth.at(-1).t);
    check(
      `${transport}: first text shown ${Math.round(spread)} ms before the last (stream took ${took} ms)`,
      spread >= (TOKENS / 2) * DELAY_MS,
    );
    await page.close();
  }

  {
    const page = await context.newPage();
    await open(page, `${page1.origin}/?${query({})}`);
    await page.click("#send");
    await page.waitForSelector('#out[data-done="true"], #out[data-done="error"]', { timeout: 20_000 });
    const error = await page.getAttribute("#out", "data-error");
    check("without the API key the page shows Unauthenticated", error === "Unauthenticated", `data-error=${error}`);
    await page.selectOption("#transport", "grpc-web");
    await page.click("#send");
    await page.waitForSelector('#out[data-done="error"]', { timeout: 20_000 });
    const error2 = await page.getAttribute("#out", "data-error");
    check("without the API key gRPC-Web shows Unauthenticated too", error2 === "Unauthenticated", `data-error=${error2}`);
    await page.close();
  }

  {
    const page = await context.newPage();
    const logs = collectLogs(page);
    await open(page, `${page2.origin}/?${query({ key: API_KEY })}`);
    await page.click("#send");
    await page.waitForSelector('#out[data-done="true"], #out[data-done="error"]', { timeout: 20_000 });
    const done = await page.getAttribute("#out", "data-done");
    const text = await page.textContent("#out");
    check(
      "an origin not in cors_origins is refused by the browser",
      done === "error" && text === "" && logs.some((l) => /CORS|Access-Control/i.test(l)),
      `data-done=${done} logs:\n${logs.join("\n")}`,
    );
    await page.close();
  }
}

async function open(page, url) {
  const res = await page.goto(url, { timeout: 15_000 });
  if (!res?.ok()) throw new Error(`GET ${url}: ${res?.status()}`);
}

function collectLogs(page) {
  const logs = [];
  page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  return logs;
}

async function serveStatic(root) {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const rel = normalize(path === "/" ? "/index.html" : path).replace(/^(\.\.[/\\])+/, "");
    const file = join(root, rel);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
      res.end(body);
    } catch (e) {
      if (e?.code !== "ENOENT") throw e;
      res.writeHead(404).end("not found");
    }
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  cleanups.push(() => new Promise((ok) => server.close(() => ok()).closeAllConnections()));
  return { origin: `http://127.0.0.1:${server.address().port}` };
}

async function freePort() {
  const s = createServer();
  await new Promise((ok, fail) => s.once("error", fail).listen(0, "127.0.0.1", ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

async function startGateway(yaml) {
  const config = join(work, "gateway.yaml");
  const logFile = join(work, "gateway.log");
  writeFileSync(config, yaml);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ["--config", config, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  const log = [];
  child.stdout.on("data", (b) => log.push(b));
  child.stderr.on("data", (b) => log.push(b));
  const exited = new Promise((ok) => child.once("exit", (code) => ok(code)));
  const showLog = () => Buffer.concat(log).toString();
  cleanups.push(async () => {
    if (child.exitCode !== null) throw new Error(`gateway exited early (${child.exitCode}):\n${showLog()}`);
    child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok("timeout"), 20_000))]);
    if (code === "timeout") {
      child.kill("SIGKILL");
      throw new Error("gateway ignored SIGTERM for 20 s");
    }
    check("gateway exited 0 after SIGTERM", code === 0, showLog());
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).status === 200) return { baseUrl };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway did not become ready on ${baseUrl}:\n${showLog()}`);
}
