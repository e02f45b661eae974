// Starts real Switchyard gateways for the tests: builds the binary with
// `go build` (or uses $SWITCHYARD_BIN), runs it on free loopback ports with
// the simulator provider, waits for /healthz, and stops it with SIGTERM.
import { spawn, execFileSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * The model a fault-injection test uses. Injected failures open breakers and
 * cool targets for their retry-after, so each test and transport gets a
 * target of its own on the "faults" provider, and the others stay clean.
 */
export function faultModel(transport: number, scenario: FaultScenario): string {
  return `fault-${transport}-${scenario}`;
}
export const faultScenarios = ["unavailable", "limited", "broken"] as const;
export type FaultScenario = (typeof faultScenarios)[number];
export const maxTransports = 10;

const faultModels = Array.from({ length: maxTransports }, (_, i) => faultScenarios.map((s) => faultModel(i, s))).flat();
// One attempt only: the router would otherwise wait out each retry-after.
const faultRoutes = faultModels
  .map((m) => `  - {model: ${m}, targets: [{provider: faults, model: up-${m}}], retry: {max_attempts: 1}}`)
  .join("\n");

/** The simulator-only providers and routes every test gateway serves. */
export const simulatorConfig = `
log: {level: warn, format: text}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    prices:
      sim-small: {input: 0.5, output: 1.5}
      sim-large: {input: 3, output: 15}
    simulator: {token_delay: 1ms, response_tokens: 12}
  - name: faults
    type: simulator
    models: [${faultModels.map((m) => `up-${m}`).join(", ")}]
    simulator: {token_delay: 1ms, response_tokens: 12}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
${faultRoutes}
`;

/** Builds bin/switchyard into dir unless SWITCHYARD_BIN names one. */
export function buildGateway(dir: string): string {
  const given = process.env.SWITCHYARD_BIN;
  if (given) return resolve(given);
  const bin = join(dir, "switchyard");
  execFileSync("go", ["build", "-o", bin, "./server/cmd/switchyard"], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
    timeout: 300_000,
  });
  return bin;
}

/** A port the kernel just handed out on 127.0.0.1 (closed again). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? ok(addr.port) : fail(new Error("no port"))));
    });
  });
}

export interface Gateway {
  baseUrl: string;
  /** SIGTERM, then wait up to 20 s; rejects unless it exits with status 0. */
  stop(): Promise<void>;
  log(): string;
}

/** Starts bin with the YAML config text; resolves once /healthz answers 200. */
export async function startGateway(bin: string, dir: string, name: string, yaml: string): Promise<Gateway> {
  const config = join(dir, `${name}.yaml`);
  const logFile = join(dir, `${name}.log`);
  writeFileSync(config, yaml);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    writeFileSync(logFile, "");
    const { child, exited } = launch(bin, ["--config", config, "--listen", `127.0.0.1:${port}`], logFile);
    const ready = await waitHealthy(baseUrl, exited, 20_000);
    const log = () => readFileSync(logFile, "utf8");
    if (ready === "ok") {
      return { baseUrl, log, stop: () => stop(child, exited, name, log) };
    }
    child.kill("SIGKILL");
    await exited;
    // Another process may have taken the port between probe and bind.
    if (ready === "exited" && attempt < 3 && /address already in use/.test(log())) continue;
    throw new Error(`gateway ${name} did not become ready (${ready}); log:\n${log()}`);
  }
}

function launch(bin: string, args: string[], logFile: string) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const append = (b: Buffer) => writeFileSync(logFile, b, { flag: "a" });
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));
  return { child, exited };
}

async function waitHealthy(baseUrl: string, exited: Promise<number | null>, ms: number) {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (gone) return "exited" as const;
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return "ok" as const;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return "timeout" as const;
}

async function stop(child: ChildProcess, exited: Promise<number | null>, name: string, log: () => string) {
  if (child.exitCode !== null) {
    throw new Error(`gateway ${name} had already exited with ${child.exitCode}; log:\n${log()}`);
  }
  child.kill("SIGTERM");
  const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000).unref());
  const code = await Promise.race([exited, timer]);
  if (code === "timeout") {
    child.kill("SIGKILL");
    throw new Error(`gateway ${name} ignored SIGTERM for 20 s; log:\n${log()}`);
  }
  if (code !== 0) throw new Error(`gateway ${name} exited with ${code} after SIGTERM; log:\n${log()}`);
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-sdk-ts-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
