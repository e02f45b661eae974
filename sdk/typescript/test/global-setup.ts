// vitest globalSetup: one open gateway and one that requires an API key,
// shared by every test file through inject().
import type { TestProject } from "vitest/node";

import { buildGateway, simulatorConfig, startGateway, tempDir } from "./gateway.js";
import type { Gateway } from "./gateway.js";

export const API_KEY = "sk-switchyard-sdk-test-0123456789";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    authBaseUrl: string;
    apiKey: string;
  }
}

export default async function setup(project: TestProject) {
  const tmp = tempDir();
  const started: Gateway[] = [];
  const teardown = async () => {
    const errors: unknown[] = [];
    for (const g of started) await g.stop().catch((e: unknown) => errors.push(e));
    tmp.remove();
    if (errors.length > 0) throw errors[0];
  };
  try {
    const bin = buildGateway(tmp.dir);
    const open = await startGateway(bin, tmp.dir, "open", simulatorConfig);
    started.push(open);
    const authed = await startGateway(bin, tmp.dir, "auth", `${simulatorConfig}\nauth: {api_keys: ["${API_KEY}"]}\n`);
    started.push(authed);
    project.provide("baseUrl", open.baseUrl);
    project.provide("authBaseUrl", authed.baseUrl);
    project.provide("apiKey", API_KEY);
  } catch (e) {
    await teardown().catch(() => {});
    throw e;
  }
  return teardown;
}
