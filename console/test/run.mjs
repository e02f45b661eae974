// The console in headless Chromium against a live gateway (the real
// binary) with simulator providers and real traffic:
//
//   - signs in with the admin key (kept in sessionStorage), checks every
//     page renders data, and measures the overview's time to first render
//     (performance marks: navigation start -> console:overview-rendered);
//   - creates a key, edits a route (validate, diff, apply) and rolls it
//     back, adds a provider key and an alert, each verified through the API
//     afterwards; exports usage as CSV; watches a request appear live;
//   - signs in with a client key (read-only own usage) and opens a second,
//     keyless gateway where the console opens without a key;
//   - screenshots every page at 1280 px and 390 px into $CONSOLE_SHOTS
//     (scripts/test-console.sh: its temp dir, or docs/console with --shots).
//
// Env: SWITCHYARD_BIN (required), CHROMIUM (default /usr/bin/chromium),
// CONSOLE_SHOTS (a directory), CONSOLE_TEST_TIMEOUT_MS (default 180000).
// Loopback only. Prints "console: N passed, N failed" last.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { chromium } from "playwright-core";
import { createSwitchyardClient } from "@switchyard/sdk";

const BIN = process.env.SWITCHYARD_BIN ? resolve(process.env.SWITCHYARD_BIN) : undefined;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = process.env.CONSOLE_SHOTS ? resolve(process.env.CONSOLE_SHOTS) : undefined;
const TIMEOUT_MS = Number(process.env.CONSOLE_TEST_TIMEOUT_MS ?? 180_000);
const ADMIN_KEY = "sk-admin-console-test-0123456789";
const WIDTHS = [
  { name: "1280", width: 1280, height: 900 },
  { name: "390", width: 390, height: 844 },
];
const PAGES = ["overview", "providers", "routes", "keys", "usage", "alerts", "live"];

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
const work = mkdtempSync(join(tmpdir(), "switchyard-console-"));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

const watchdog = setTimeout(() => {
  console.error(`FAIL: console test exceeded ${TIMEOUT_MS} ms`);
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
  console.log(`console: ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
}


const CONFIG = `
log: {level: warn, format: text}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    prices:
      sim-small: {input: 0.10, output: 0.40}
      sim-large: {input: 1.00, output: 4.00}
    simulator: {token_delay: 1ms, ttft: 5ms, response_tokens: 12}
  - name: flaky
    type: simulator
    models: [flaky-1]
    prices:
      flaky-1: {input: 2.00, output: 8.00}
    simulator: {token_delay: 1ms, response_tokens: 8, fail_rate: 0.4, fail_status: 503}
routing: {strategy: priority, fallback_strategy: failover}
alerts: {interval: 1s, min_samples: 5}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
    cache: {mode: deterministic, ttl: 5m}
  - model: flaky
    strategy: priority
    targets:
      - {provider: flaky, model: flaky-1, priority: 1}
`;

async function main() {
  if (!BIN) throw new Error("SWITCHYARD_BIN must name the gateway binary (scripts/test-console.sh builds it)");
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  const gw = await startGateway("main", CONFIG, { SWITCHYARD_ADMIN_KEY: ADMIN_KEY });
  const admin = createSwitchyardClient({ baseUrl: gw.baseUrl, apiKey: ADMIN_KEY, transport: "connect" });

  // A client key for the traffic, so the usage and live views have a key to show.
  const made = await admin.services.keys.createKey({ key: { name: "traffic", budget: { amountUsd: 2, period: 2 } } });
  const client = createSwitchyardClient({ baseUrl: gw.baseUrl, apiKey: made.secret, transport: "connect" });
  await traffic(client, 40);
  await waitForLedger(admin, 40);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  cleanups.push(() => browser.close());

  // --- admin, 1280 px
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "light", acceptDownloads: true });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));

  await page.goto(`${gw.baseUrl}/console`);
  await page.waitForSelector("form[aria-label='Sign in']");
  check("with an admin key set, the console asks for a key", true);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector("[data-testid=kpis]");
  consoleErrors.length = 0; // the 401 of the first, keyless look is expected
  const stored = await page.evaluate(() => sessionStorage.getItem("switchyard.console.key"));
  const cookies = await ctx.cookies();
  check("the admin key is kept in sessionStorage, no cookies", stored === ADMIN_KEY && cookies.length === 0, `stored=${stored} cookies=${cookies.length}`);

  // Time to first render of the overview, in a fresh load with the key already stored.
  await page.reload();
  await page.waitForFunction(() => performance.getEntriesByName("console:overview-rendered").length > 0, null, { timeout: 20_000 });
  const ttfr = await page.evaluate(() => performance.getEntriesByName("console:overview-rendered")[0].startTime);
  console.log(`console: time to first render of the overview ${ttfr.toFixed(0)} ms (navigation start to KPIs and series loaded)`);
  check("the overview renders within 5 s", ttfr < 5000, `${ttfr} ms`);

  const requestsToday = await page.textContent(".kpi:has(dt:text('Requests today')) dd");
  check("the overview counts today's requests", Number(requestsToday?.replace(/,/g, "")) >= 40, `Requests today: ${requestsToday}`);
  await page.waitForSelector(".chart canvas");
  const charts = await page.locator(".chart").count();
  check("the overview draws its seven time-series charts", charts === 7, `${charts} charts`);
  const provRows = await page.locator("[data-testid=provider-table] tr[data-provider=sim]").count();
  check("the overview shows provider health", provRows >= 1);
  await page.waitForFunction(() => /\$/.test(document.querySelector(".kpi:nth-child(6) dd")?.textContent ?? ""));
  const p50 = await page.textContent(".kpi:has(dt:text('p50 latency (1 h)')) dd");
  const costToday = await page.textContent(".kpi:has(dt:text('Cost today (UTC)')) dd");
  check("latency and cost are formatted (ms, $)", /^\d+(\.\d)? ms$/.test(p50) && p50 !== "0 ms" && /^\$\d/.test(costToday), `${p50} ${costToday}`);

  // --- Providers: state, add a key, verify through the API.
  await nav(page, "providers");
  await page.waitForSelector("[data-testid=provider-table] tr[data-provider=flaky]");
  const states = await page.locator("[data-testid=provider-table] .badge").allTextContents();
  check("providers show a breaker state per key", states.length >= 2 && states.every((s) => /healthy|open|half-open|cooling|unknown|unavailable/.test(s)), states.join(","));
  await page.selectOption("form[aria-label='Add a provider key'] select[name=provider]", "sim");
  await page.fill("form[aria-label='Add a provider key'] input[name=api_key]", "sk-sim-added-from-console-1234");
  await page.fill("form[aria-label='Add a provider key'] input[name=label]", "from-console");
  await page.click("form[aria-label='Add a provider key'] button[type=submit]");
  await page.waitForSelector("text=Added");
  const provs = await admin.services.providers.listProviders({});
  const added = provs.providers.find((p) => p.name === "sim")?.keys.find((k) => k.label === "from-console");
  check("a provider key added in the console is in the API, masked", !!added && !added.maskedKey.includes("added-from-console"), JSON.stringify(added?.maskedKey));
  const shown = await page.textContent("[data-testid=provider-table]");
  check("the console never shows the provider key in full", !shown.includes("sk-sim-added-from-console-1234"));
  await shots(page, "providers");

  // --- Routes: edit, diff, apply, verify; roll back, verify.
  await nav(page, "routes");
  await page.waitForSelector("[data-testid=routes-table]");
  const before = await admin.services.routing.getRoutingConfig({});
  await page.click("text=Edit routing");
  const text = await page.inputValue("#routing-json");
  const cfg = JSON.parse(text);
  const auto = cfg.routes.find((r) => r.model === "auto");
  auto.targets.find((t) => t.model === "sim-large").priority = 0; // sim-large first
  auto.targets.find((t) => t.model === "sim-large").priority = 1;
  auto.targets.find((t) => t.model === "sim-small").priority = 3;
  // First an invalid edit: the gateway's validation is shown and nothing is applied.
  await page.fill("#routing-json", JSON.stringify({ ...cfg, routes: [{ model: "broken", targets: [{ provider: "nope", model: "x" }] }] }, null, 2));
  await page.click("text=Validate and review");
  await page.waitForSelector(".notice.error");
  check("an invalid routing edit shows the gateway's violations", /nope|provider/i.test(await page.textContent(".notice.error")), await page.textContent(".notice.error"));
  await page.fill("#routing-json", JSON.stringify(cfg, null, 2));
  await page.click("text=Validate and review");
  await page.waitForSelector("[data-testid=diff]");
  const diff = await page.textContent("[data-testid=diff]");
  check("the review shows a diff of the change", /\+\s+"priority": 3/.test(diff) && /-\s+"priority": 1/.test(diff), diff.slice(0, 400));
  await shots(page, "routes-diff");
  await page.click("button:text('Apply')");
  await page.waitForFunction((v) => document.querySelector("[data-testid=history-table] tr[data-version]")?.getAttribute("data-version") !== String(v), before.version.toString());
  const afterEdit = await admin.services.routing.getRoutingConfig({});
  const autoAfter = afterEdit.config.routes.find((r) => r.model === "auto");
  check(
    "the applied route is in the API",
    afterEdit.version > before.version && autoAfter.targets.find((t) => t.model === "sim-small").priority === 3,
    `version ${before.version} -> ${afterEdit.version}`,
  );
  const history = await admin.services.routing.listRoutingConfigHistory({ limit: 10 });
  const previous = history.versions.find((v) => v.version < afterEdit.version);
  if (!previous) throw new Error(`no earlier routing version to roll back to: ${history.versions.map((v) => v.version)}`);
  page.once("dialog", (d) => d.accept());
  await page.click(`[data-testid=history-table] tr[data-version='${previous.version}'] button`);
  let afterRollback = afterEdit;
  for (let i = 0; i < 50 && afterRollback.version === afterEdit.version; i++) {
    await page.waitForTimeout(100);
    afterRollback = await admin.services.routing.getRoutingConfig({});
  }
  await page.waitForSelector(`[data-testid=history-table] tr[data-version='${afterRollback.version}']`);
  await shots(page, "routes");
  const autoBack = afterRollback.config.routes.find((r) => r.model === "auto");
  check(
    "the rollback is in the API",
    afterRollback.version > afterEdit.version && autoBack.targets.find((t) => t.model === "sim-small").priority === 1,
    JSON.stringify(autoBack.targets),
  );

  // --- Keys: create (secret once), verify through the API and by using it; budget bar.
  await nav(page, "keys");
  await page.waitForSelector("[data-testid=keys-table]");
  await page.fill("[data-testid=create-key] input[name=name]", "console-made");
  await page.fill("[data-testid=create-key] input[name=rpm]", "120");
  await page.fill("[data-testid=create-key] input[name=budget]", "5");
  await page.fill("[data-testid=create-key] input[name=models]", "auto, sim-small");
  await page.click("[data-testid=create-key] button[type=submit]");
  await page.waitForSelector("[data-testid=secret]");
  const secret = (await page.textContent(".secret-value"))?.trim();
  const keys = await admin.services.keys.listKeys({});
  const k = keys.keys.find((x) => x.name === "console-made");
  check(
    "a key created in the console is in the API with its limits",
    !!k && k.rpmLimit === 120 && k.budget?.amountUsd === 5 && k.allowedModels.join(",") === "auto,sim-small",
    JSON.stringify(k ? { rpm: k.rpmLimit, budget: k.budget?.amountUsd, models: k.allowedModels } : null),
  );
  const viaSecret = createSwitchyardClient({ baseUrl: gw.baseUrl, apiKey: secret, transport: "connect" });
  const answer = await viaSecret.chat({ model: "auto", messages: [{ role: "user", content: "made in the console" }] });
  check("the secret shown once works", answer.choices.length > 0);
  await page.click("text=Done");
  check("the secret is gone after Done", (await page.locator("[data-testid=secret]").count()) === 0);
  // Edit an existing key's limits, budget and allowlist; verify through the API.
  await page.click(`[data-testid=keys-table] tr[data-key='${k.id}'] button:text('Edit')`);
  await page.fill("[data-testid=edit-key] input[name=rpm]", "60");
  await page.fill("[data-testid=edit-key] input[name=ips]", "127.0.0.0/8");
  await page.selectOption("[data-testid=edit-key] select[name=period]", "day");
  await page.click("[data-testid=edit-key] button[type=submit]");
  await page.waitForSelector("text=Saved");
  const edited = (await admin.services.keys.getKey({ id: k.id })).key;
  check(
    "a key edited in the console has its new limits in the API",
    edited.rpmLimit === 60 && edited.ipAllowlist.join(",") === "127.0.0.0/8" && edited.budget?.period === 1 && edited.budget?.amountUsd === 5 && edited.allowedModels.length === 2,
    JSON.stringify({ rpm: edited.rpmLimit, ips: edited.ipAllowlist, budget: edited.budget }),
  );
  await page.waitForSelector(`[data-testid=keys-table] tr[data-key='${made.key.id}'] .budget`);
  const bar = await page.getAttribute(`[data-testid=keys-table] tr[data-key='${made.key.id}'] [role=progressbar]`, "aria-valuenow");
  check("spend against budget is drawn as a bar", Number(bar) > 0, `aria-valuenow=${bar}`);
  await shots(page, "keys");

  // --- Usage: grouped table, chart, CSV export.
  await nav(page, "usage");
  await page.waitForSelector("[data-testid=usage-table] tbody tr");
  await page.selectOption("select[name=group]", "model");
  await page.waitForSelector("[data-testid=usage-table] tbody th:text('sim-small')");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Export CSV")]);
  const csvPath = join(work, "usage.csv");
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, "utf8");
  check("CSV export has a header and a row per model", csv.startsWith("model,requests,errors") && csv.includes("sim-small,"), csv.slice(0, 200));
  await page.selectOption("select[name=group]", "key");
  await page.waitForSelector(`[data-testid=usage-table] tbody th:text('${made.key.id}')`);
  await shots(page, "usage");

  // --- Alerts: create, verify through the API, list.
  // First with the API failing: the panel's error state and its Retry.
  const injected = (r) => r.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ code: "unavailable", message: "injected by the test" }) });
  await page.route("**/switchyard.v1.BillingService/ListAlerts", injected);
  await page.route("**/switchyard.v1.BillingService/ListAlertFirings", injected);
  await nav(page, "alerts");
  await page.waitForSelector("[data-panel=Alerts] .state.error");
  check("a failing API shows the panel's error state", (await page.textContent("[data-panel=Alerts] .state.error")).includes("injected by the test"));
  await page.waitForSelector("[data-panel='Firing history'] .state.error");
  check("a failing firing history shows its own error state", (await page.textContent("[data-panel='Firing history'] .state.error")).includes("injected by the test"));
  await page.unroute("**/switchyard.v1.BillingService/ListAlerts");
  await page.unroute("**/switchyard.v1.BillingService/ListAlertFirings");
  // The browser logs the injected 503 itself; it is not a console error of ours.
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => !e.includes("503 (Service Unavailable)")));
  await page.click("[data-panel=Alerts] button:text('Retry')");
  await page.waitForSelector("[data-panel=Alerts] .state.empty");
  check("Retry recovers, and no alerts shows the empty state", (await page.textContent("[data-panel=Alerts] .state.empty")) === "No alerts yet.");
  await page.click("[data-panel='Firing history'] button:text('Retry')");
  await page.waitForSelector("[data-panel='Firing history'] .state.empty");
  check("no firing yet shows the history's empty state", (await page.textContent("[data-panel='Firing history'] .state.empty")) === "No alert has fired.");
  // Every type is on offer, and provider_share brings its measure and provider.
  const offered = await page.$$eval("form[aria-label='Create an alert'] select[name=type] option", (os) => os.map((o) => o.value));
  check("the create form offers every alert type", ["budget_threshold", "error_rate", "p95_latency", "provider_share"].every((t) => offered.includes(t)), offered.join(","));
  await page.selectOption("form[aria-label='Create an alert'] select[name=type]", "provider_share");
  await page.fill("form[aria-label='Create an alert'] input[name=threshold]", "0.99");
  await page.selectOption("form[aria-label='Create an alert'] select[name=measure]", "cost");
  await page.fill("form[aria-label='Create an alert'] input[name=provider]", "flaky");
  await page.click("form[aria-label='Create an alert'] button[type=submit]");
  await page.waitForSelector("[data-testid=alerts-table] tbody tr");
  const share = (await admin.services.billing.listAlerts({})).alerts.find((a) => a.type === "provider_share");
  check("a provider_share alert made in the console keeps its measure and provider", share?.measure === "cost" && share?.provider === "flaky" && share?.threshold === 0.99, JSON.stringify(share, (_, v) => (typeof v === "bigint" ? String(v) : v)));
  if (share) await admin.services.billing.deleteAlert({ id: share.id });
  await page.reload();
  await page.waitForSelector("[data-panel=Alerts] .state.empty");
  await page.selectOption("form[aria-label='Create an alert'] select[name=type]", "budget_threshold");
  await page.waitForSelector("form[aria-label='Create an alert']");
  await page.fill("form[aria-label='Create an alert'] input[name=threshold]", "25");
  await page.click("form[aria-label='Create an alert'] button[type=submit]");
  await page.waitForSelector("[data-testid=alerts-table] tbody tr");
  const alerts = await admin.services.billing.listAlerts({});
  check("an alert created in the console is in the API", alerts.alerts.some((a) => a.type === "budget_threshold" && a.threshold === 25));
  // One the traffic above has already crossed: it fires, and the page shows when.
  const low = await admin.services.billing.createAlert({ alert: { type: "budget_threshold", threshold: 0.0001, period: "monthly", currency: "USD" } });
  let firedAt;
  for (let i = 0; i < 100 && !firedAt; i++) {
    await page.waitForTimeout(100);
    firedAt = (await admin.services.billing.listAlerts({})).alerts.find((a) => a.id === low.alert.id)?.lastFiredAt;
  }
  check("an alert over its threshold fires", !!firedAt);
  const firings = (await admin.services.billing.listAlertFirings({ alertId: low.alert.id })).firings;
  check(
    "the firing is in the API's history once, with its value over the threshold",
    firings.length === 1 && firings[0].type === "budget_threshold" && firings[0].value >= firings[0].threshold && firings[0].threshold === 0.0001 && firings[0].message !== "" && firings[0].firedAt?.seconds === firedAt.seconds && firings[0].delivery === "none",
    JSON.stringify(firings, (_, v) => (typeof v === "bigint" ? String(v) : v)),
  );
  await page.reload();
  const row = `[data-testid=firings-table] tr[data-firing='${low.alert.id}']`;
  await page.waitForSelector(row);
  check("the firing shows in the alert list and its history", (await page.locator(`[data-testid=alerts-table] tr[data-alert='${low.alert.id}'] .badge`).count()) === 1);
  const rowText = await page.textContent(row);
  check("the history row shows type, value vs threshold, message and webhook outcome", (await page.locator(row).count()) === 1 && rowText.includes("budget_threshold") && rowText.includes("/ $0.0001") && rowText.includes(firings[0]?.message ?? "\0") && rowText.endsWith("none"), rowText);
  await shots(page, "alerts");

  // --- Live requests: the backlog, then a new request as it finishes.
  await nav(page, "live");
  await page.waitForSelector("[data-testid=live-table] tbody tr");
  check("live requests show the recent backlog", (await page.locator("[data-testid=live-table] tbody tr").count()) >= 10);
  await page.fill("input[name=route]", "flaky");
  await page.press("input[name=route]", "Enter");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=live-table] tbody tr td:nth-child(4)")].every((td) => td.textContent === "flaky"));
  const before2 = await page.locator("[data-testid=live-table] tbody tr").count();
  await traffic(client, 3, "flaky");
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=live-table] tbody tr").length >= n + 3, before2, { timeout: 10_000 });
  check("a request appears in the live view as it finishes, filtered by route", true);
  const cells = await page.textContent("[data-testid=live-table] tbody tr");
  check("the live row names the key, not the prompt", cells.includes("traffic") && !cells.includes("console sample"), cells);
  await page.fill("input[name=route]", "");
  await page.press("input[name=route]", "Enter");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=live-table] tbody tr").length >= 20);
  await shots(page, "live");

  // --- The overview last, with every request above in it; dark theme too.
  await nav(page, "overview");
  await page.waitForSelector(".chart canvas");
  await shots(page, "overview");
  await page.click("button[aria-label^='Switch to dark']");
  await page.waitForFunction(() => document.documentElement.dataset.theme === "dark", null, { timeout: 5000 }).catch(() => undefined);
  check("the theme toggles to dark", (await page.evaluate(() => document.documentElement.dataset.theme)) === "dark");
  if (SHOTS) await page.screenshot({ path: join(SHOTS, "overview-dark-1280.png"), fullPage: true });
  await page.click("button[aria-label^='Switch to light']");

  // Keyboard: Tab from the top reaches the page links in order.
  await page.reload();
  await page.waitForSelector("[data-testid=kpis]");
  await page.keyboard.press("Tab"); // skip link
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.textContent);
  check("the pages are reachable by keyboard", focused === "Overview", `focused ${focused}`);

  check("no errors in the page's console", consoleErrors.length === 0, consoleErrors.join("\n"));
  await ctx.close();

  // --- A client key: read-only, its own usage.
  const cctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const cpage = await cctx.newPage();
  await cpage.goto(`${gw.baseUrl}/console/`);
  await cpage.fill("input[name=key]", made.secret);
  await cpage.click("button[type=submit]");
  await cpage.waitForSelector("[data-page=usage] [data-testid=usage-table] tbody tr");
  const navLinks = await cpage.locator("nav a").count();
  const heading = await cpage.textContent("[data-page=usage] h2");
  check("a client key sees its own usage, read-only (no admin pages)", navLinks === 0 && heading === "Your usage", `${navLinks} links, ${heading}`);
  await cpage.waitForSelector("[data-page=usage] .chart canvas");
  const own = await client.services.usage.getUsageSeries({ groupBy: "key" });
  check("a client key's series hold its own key only", own.buckets.length > 0 && own.buckets.every((b) => b.group === made.key.id), JSON.stringify(own.buckets.map((b) => b.group)));
  if (SHOTS) await cpage.screenshot({ path: join(SHOTS, "client-usage-1280.png"), fullPage: true });
  await cctx.close();

  // --- Keyless loopback: no admin key and no client keys open the console as the API is open.
  const open = await startGateway("keyless", CONFIG, {});
  const octx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const opage = await octx.newPage();
  await opage.goto(`${open.baseUrl}/console/`);
  await opage.waitForSelector("[data-testid=kpis]");
  check("keyless loopback mode opens the console without a key", (await opage.locator("text=keyless loopback").count()) === 1);
  // An empty ledger: the charts' empty state offers sample traffic, which then shows.
  await opage.waitForSelector("text=No requests in this window");
  await opage.click("text=Send 5 sample requests");
  await opage.waitForSelector(".chart canvas", { timeout: 15_000 });
  check("an empty overview fills after the sample requests", true);
  await octx.close();

  // --- The embedded default (`make run`): live figures with no step, from the sim route's probes.
  const def = await startGateway("default", null, {});
  const dctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const dpage = await dctx.newPage();
  await dpage.goto(`${def.baseUrl}/console/`);
  await dpage.waitForSelector("[data-testid=kpis]");
  let filled = true;
  try {
    await dpage.waitForSelector(".chart canvas", { timeout: 30_000 });
  } catch {
    filled = false;
  }
  check("on the embedded default the overview shows live simulator data with no step", filled);
  await dctx.close();
}

async function nav(page, id) {
  await page.click(`nav a[href='#/${id}']`);
  await page.waitForSelector(`[data-page=${id}]`);
}

/** shots saves the current page at both widths (full page). */
async function shots(page, name) {
  if (!SHOTS) return;
  const original = page.viewportSize();
  for (const w of WIDTHS) {
    await page.setViewportSize({ width: w.width, height: w.height });
    await page.waitForTimeout(250); // charts follow their container's width
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    check(`${name} fits ${w.width} px without sideways scrolling`, wide <= w.width, `document is ${wide} px wide`);
    await page.screenshot({ path: join(SHOTS, `${name}-${w.name}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
  await page.waitForTimeout(100);
}

async function traffic(client, n, route) {
  // Eight at a time, as a few busy clients would; every fifth prompt
  // repeats at temperature 0, so the deterministic cache answers some.
  for (let start = 0; start < n; start += 8) {
    const jobs = [];
    for (let i = start; i < Math.min(start + 8, n); i++) {
      const model = route ?? (i % 4 === 3 ? "flaky" : "auto");
      const content = i % 5 === 0 ? "console sample repeat" : `console sample ${i}`;
      jobs.push(client.chat({ model, temperature: 0, messages: [{ role: "user", content }] }).catch(() => undefined));
    }
    await Promise.all(jobs);
  }
}

async function waitForLedger(admin, n) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const u = await admin.services.usage.getUsage({});
    if (Number(u.total?.requests ?? 0n) >= n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the ledger did not reach ${n} requests`);
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function startGateway(name, yaml, env) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  // yaml null runs the embedded default, as `make run` does.
  const args = [];
  if (yaml !== null) {
    const config = join(dir, "gateway.yaml");
    writeFileSync(config, yaml);
    args.push("--config", config);
  }
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const childEnv = { ...process.env, SWITCHYARD_DATA_DIR: join(dir, "data"), ...env };
  if (!("SWITCHYARD_ADMIN_KEY" in env)) delete childEnv.SWITCHYARD_ADMIN_KEY;
  if (yaml === null) {
    for (const k of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY"]) delete childEnv[k];
  }
  const child = spawn(BIN, [...args, "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  const log = [];
  child.stdout.on("data", (b) => log.push(b));
  child.stderr.on("data", (b) => log.push(b));
  const exited = new Promise((ok) => child.once("exit", (code) => ok(code)));
  const showLog = () => Buffer.concat(log).toString();
  cleanups.push(async () => {
    if (child.exitCode !== null) throw new Error(`gateway ${name} exited early (${child.exitCode}):\n${showLog()}`);
    const t0 = Date.now();
    child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((ok) => setTimeout(() => ok("timeout"), 20_000))]);
    if (code === "timeout") {
      child.kill("SIGKILL");
      throw new Error(`gateway ${name} ignored SIGTERM for 20 s`);
    }
    check(`gateway ${name} drained and exited 0 after SIGTERM (${Date.now() - t0} ms)`, code === 0, showLog());
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
  throw new Error(`gateway ${name} did not become ready on ${baseUrl}:\n${showLog()}`);
}

try {
  await main();
  await finish(0);
} catch (e) {
  failed++;
  console.error(`FAIL: ${e instanceof Error ? e.stack : e}`);
  await finish(1);
}
